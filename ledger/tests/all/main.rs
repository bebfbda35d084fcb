//! Ledger tests on a real RocksDB store in a temporary directory.
mod common;
mod execution;
mod governance;
mod keys;
mod proofs;
mod sealed;

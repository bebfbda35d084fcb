//! Ledger tests on a real RocksDB store in a temporary directory.
mod common;
mod execution;
mod governance;
mod governance_edges;
mod keys;
mod proofs;
mod record_reward;
mod sealed;

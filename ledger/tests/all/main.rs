//! Ledger tests on a real RocksDB store in a temporary directory.
mod admission;
mod block_caches;
mod block_rules;
mod committee;
mod common;
mod execution;
mod genesis;
mod governance;
mod governance_edges;
mod keys;
mod poison;
mod private_calls;
mod proofs;
mod pruning;
mod record_reward;
mod savepoint;
mod sealed;

//! End-to-end: `civitas node --dev` as a real process on a temporary directory, driven over
//! JSON-RPC on a real socket. Deploys the token contract, transfers, queries, reads receipts,
//! verifies state proofs, restarts, crashes, and sends every kind of bad transaction.
mod common;
mod net;
mod proxy;

mod access_control;
mod audit;
mod batch;
mod bft;
mod block_times;
mod city;
mod commit_record;
mod committee;
mod config;
mod consent_pages;
mod cors;
mod crash_points;
mod data;
mod data_dir_faults;
mod devnet;
mod devnet_setup;
mod events;
mod faulty_proposer;
mod flood;
mod keystore;
mod membership;
mod observer;
mod pool_limits;
mod private_metadata;
mod pruning;
mod rejections;
mod restart;
mod rpc_caps;
mod rpc_codes;
mod rpc_limits;
mod sealed_recipients;
mod signed_requests;
mod stall;
mod subscriptions;
mod token;
mod trace_logs;
mod upload;

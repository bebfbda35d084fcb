//! The Civitas node as a library: the chain service ([`service::Chain`]: executors, pool, head,
//! the application side of the consensus boundary), the transaction pool, the engine-neutral
//! consensus boundary ([`consensus::Application`]) and its engines, the JSON-RPC server (one
//! module per namespace), Prometheus metrics, the configuration and the dev genesis.
//!
//! The `civitas` binary runs [`run`] for `civitas node …` and hands every other command to the
//! client library, `civitas-cli`; this library never uses the client.
pub mod committee;
pub mod config;
pub mod consensus;
mod daemon;
pub mod dev;
pub mod devnet;
pub mod disk;
pub mod fdlimit;
pub mod mempool;
pub mod metrics;
pub mod observer;
pub mod relay;
pub mod rpc_server;
pub mod service;

pub use config::NodeArgs;
pub use daemon::run;

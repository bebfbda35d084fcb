//! The Civitas JSON-RPC API, in one place: method definitions (jsonrpsee traits that give the
//! server stubs and the typed client), the wire types, stable error codes, and the OpenRPC
//! document served by `rpc.discover`.
//!
//! Binary values travel as `0x`-prefixed hex; transactions as hex of their SCALE encoding.
//! The node implements the traits; the CLI and tests use the generated clients.
pub mod api;
pub mod convert;
pub mod errors;
pub mod openrpc;
pub mod types;

pub use api::*;
pub use convert::{audit_info, consent_info};
pub use types::*;

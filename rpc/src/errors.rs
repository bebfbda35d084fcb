//! Stable JSON-RPC error codes. Messages say what to fix; `data.code` carries the ledger's
//! stable reason (e.g. `stale_nonce`) where there is one.
use jsonrpsee::types::ErrorObjectOwned;

/// A parameter is missing or malformed (JSON-RPC standard).
pub const INVALID_PARAMS: i32 = -32602;
/// The node failed internally (JSON-RPC standard).
pub const INTERNAL: i32 = -32603;
/// The transaction was refused before execution (signature, nonce, chain id, role, format).
pub const TX_REJECTED: i32 = 1001;
/// The requested block, transaction, receipt, contract or code does not exist.
pub const NOT_FOUND: i32 = 1002;
/// A query or dry-run failed in the contract (revert, trap, out of fuel).
pub const EXECUTION_FAILED: i32 = 1003;
/// The transaction pool is full; retry later.
pub const POOL_FULL: i32 = 1004;
/// The transaction is already in the pool.
pub const DUPLICATE: i32 = 1005;
/// A signed request that is malformed, stale, replayed, or signed by a key not allowed to see
/// the data.
pub const UNAUTHORIZED: i32 = 1006;

/// An error object with a stable `data.code` reason.
pub fn error(code: i32, message: impl Into<String>, reason: Option<&str>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        code,
        message.into(),
        reason.map(|r| serde_json::json!({ "code": r })),
    )
}

/// An invalid-parameter error naming the parameter.
pub fn invalid_param(name: &str, why: impl std::fmt::Display) -> ErrorObjectOwned {
    error(
        INVALID_PARAMS,
        format!("invalid parameter `{name}`: {why}"),
        None,
    )
}

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
/// The client is over one of the node's request rates (`data.code` `rate_limited`;
/// `data.limit` says which: `connection` or `ip`; `data.retry_after_ms` when to retry).
pub const RATE_LIMITED: i32 = 1007;
/// The request took longer than the node's time limit (`data.code` `request_timeout`,
/// `data.timeout_ms` the limit).
pub const REQUEST_TIMEOUT: i32 = 1008;
/// A batch longer than the node's cap (jsonrpsee's code; the whole batch is refused, answered
/// with one error object whose `id` is null).
pub const BATCH_TOO_LARGE: i32 = -32010;
/// A subscription beyond the node's cap on one connection (jsonrpsee's code).
pub const TOO_MANY_SUBSCRIPTIONS: i32 = -32006;

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

/// A message for a person from a failed receipt's stable code and the contract's revert data.
/// Receipts carry only codes (text would be part of consensus); this is made off-consensus.
pub fn describe_failure(code: &str, revert_data: &[u8]) -> String {
    let what = match code {
        "reverted" => {
            return match std::str::from_utf8(revert_data) {
                Ok(t) if !t.is_empty() && t.chars().all(|c| !c.is_control()) => {
                    format!("contract reverted: {t}")
                }
                Ok(_) if revert_data.is_empty() => "contract reverted".to_string(),
                _ => format!("contract reverted with 0x{}", hex::encode(revert_data)),
            }
        }
        "out_of_fuel" => "out of fuel: raise the transaction's fuel limit",
        "memory_limit" => "the contract exceeded its memory limit",
        "stack_overflow" => "the contract overflowed its stack",
        "trap" => "the contract trapped (unreachable, out-of-bounds access, division by zero, …)",
        "host_error" => "the contract misused a host function",
        "code_not_found" => "no code is stored under that hash",
        "invalid_code" => "the code does not pass the chain's validator",
        "contract_exists" => "a contract already exists at that address (use another salt)",
        "contract_not_found" => "no contract at that address",
        "not_admin" => "only the contract's admin may upgrade it",
        "insufficient_balance" => "the signer's credits do not cover the amount",
        "overflow" => "the amount would overflow the receiver's balance",
        "account_bound" => "the account or subject is already bound",
        "dataset_exists" => "a dataset with that id already exists",
        "bad_schema" => "the dataset's field schema is invalid",
        "unknown_dataset" => "no such dataset",
        "not_custodian" => "only the dataset's custodian may commit its records",
        "bad_version" => "the record's version is not the next one",
        "bad_record_signature" => "the record's department signature does not verify",
        "bad_request" => "the request's fields are invalid",
        "consent_not_found" => "no such consent",
        "not_subject" => "only the citizen's bound key may answer her consents",
        "bad_transition" => "the consent cannot make that change from its current state",
        "proposal_not_found" => "no such proposal",
        "proposal_executed" => "the proposal has already taken effect",
        "already_approved" => "this department already approved the proposal",
        "invalid_threshold" => {
            "the governance threshold must be between 1 and the number of validators"
        }
        "no_consent"
        | "code_not_approved"
        | "dataset_not_consented"
        | "wrong_code_hash"
        | "wrong_mode"
        | "consent_pending"
        | "consent_rejected"
        | "consent_paused"
        | "consent_revoked"
        | "consent_expired"
        | "consent_exhausted"
        | "no_record"
        | "insufficient_credits" => "data access refused",
        _ => "the call failed",
    };
    format!("{what} ({code})")
}

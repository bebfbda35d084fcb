//! Typed outcomes of a failed contract call. [`VmError`] is what a receipt records; host-side
//! misuse by a contract is a [`HostError`]. Failures of the node itself (state I/O, an exhausted
//! instance pool) are [`VmError::Internal`]/[`VmError::State`]: the ledger must not turn those
//! into receipts, since another node would not see them.
use civitas_primitives::{AccountId, Hash};
use thiserror::Error;

use crate::state::StateError;
use crate::validate::ValidationError;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VmError {
    /// The call used all its fuel.
    #[error("out of fuel")]
    OutOfFuel,
    /// Linear memory would grow past the per-instance limit.
    #[error("memory limit exceeded: the contract asked for {requested} bytes; the limit is {limit} bytes")]
    MemoryLimit {
        /// Bytes requested.
        requested: usize,
        /// Limit.
        limit: usize,
    },
    /// Wasm call stack exhausted (unbounded recursion).
    #[error("stack overflow")]
    StackOverflow,
    /// The contract reverted with a message.
    #[error("contract reverted: {}", revert_text(.message))]
    Reverted {
        /// The revert message bytes (UTF-8 text from the SDK).
        message: Vec<u8>,
    },
    /// The contract trapped (unreachable, out-of-bounds memory access, division by zero, …).
    #[error("contract trapped: {0}")]
    Trap(String),
    /// The contract misused a host function.
    #[error(transparent)]
    Host(#[from] HostError),
    /// No module is stored under the code hash.
    #[error("no code stored under hash {0}")]
    CodeNotFound(Hash),
    /// The stored module no longer passes validation.
    #[error("stored code is invalid: {0}")]
    Invalid(#[from] ValidationError),
    /// State I/O failed underneath the VM.
    #[error(transparent)]
    State(#[from] StateError),
    /// The node itself failed (compiler error, instance pool exhausted).
    #[error("internal VM error: {0}")]
    Internal(String),
}

impl VmError {
    /// Whether this failure is the node's, not the contract's (the ledger must not record it
    /// in a receipt).
    pub fn is_node_failure(&self) -> bool {
        matches!(self, VmError::State(_) | VmError::Internal(_))
    }

    /// The stable code a receipt records for this failure: made of our own names only (never
    /// a dependency's text), so every node records the same bytes.
    pub fn code(&self) -> String {
        match self {
            VmError::OutOfFuel => "out_of_fuel".into(),
            VmError::MemoryLimit { .. } => "memory_limit".into(),
            VmError::StackOverflow => "stack_overflow".into(),
            VmError::Reverted { .. } => "reverted".into(),
            VmError::Trap(_) => "trap".into(),
            VmError::Host(h) => h.code(),
            VmError::CodeNotFound(_) => "code_not_found".into(),
            VmError::Invalid(_) => "invalid_code".into(),
            VmError::State(_) | VmError::Internal(_) => "node_failure".into(),
        }
    }
}

fn revert_text(message: &[u8]) -> String {
    match std::str::from_utf8(message) {
        Ok(s) => s.to_string(),
        Err(_) => format!("0x{}", hex_string(message)),
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A contract used a host function wrongly.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HostError {
    /// A pointer/length pair outside linear memory.
    #[error("{function}: buffer at {ptr} of {len} bytes is outside the contract's memory")]
    MemoryAccess {
        /// Host function.
        function: &'static str,
        /// Pointer.
        ptr: u32,
        /// Length.
        len: u32,
    },
    /// A size over a host limit.
    #[error("{what} is {size} bytes; the limit is {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Size.
        size: usize,
        /// Limit.
        max: usize,
    },
    /// Too many events in one call.
    #[error("more than {max} events in one call")]
    TooManyEvents {
        /// Limit.
        max: usize,
    },
    /// A state-changing host call in a read-only call (query or view).
    #[error("{function} is not allowed in a read-only call")]
    ReadOnly {
        /// Host function.
        function: &'static str,
    },
    /// Nested calls deeper than the limit.
    #[error("call depth limit of {max} exceeded")]
    CallDepth {
        /// Limit.
        max: usize,
    },
    /// A call into a contract already on the call stack that does not accept re-entry.
    #[error("re-entrant call into {contract} refused: the contract does not accept re-entry")]
    Reentrancy {
        /// The contract.
        contract: AccountId,
    },
    /// `call_contract` to an address with no contract.
    #[error("no contract at {0}")]
    ContractNotFound(AccountId),
    /// Debug log text that is not UTF-8.
    #[error("debug_log text is not UTF-8")]
    NotUtf8,
    /// `sealed_read` outside a sealed call (a plain call, a query or a dry run).
    #[error("sealed_read is only available in a sealed call transaction")]
    SealedReadUnavailable,
    /// `sealed_read` from a contract called by another contract.
    #[error("sealed_read is only available to the contract the sealed call names, not to contracts it calls")]
    SealedReadNested,
    /// A side effect after sealed data was read: it could carry the data out.
    #[error("{function} is not allowed after a sealed read: sealed data may only leave through the return value")]
    SealedSideEffect {
        /// Host function.
        function: &'static str,
    },
    /// A sealed call's return value over the cap.
    #[error("a sealed call may return at most {max} bytes; this one returned {size}")]
    SealedOutputTooLarge {
        /// Size.
        size: usize,
        /// Limit.
        max: usize,
    },
}

impl HostError {
    /// The stable code of this misuse; where the misuse names a host function, the code
    /// carries the function's ABI name (`sealed_side_effect.storage_write`).
    pub fn code(&self) -> String {
        match self {
            HostError::MemoryAccess { function, .. } => with_function("memory_access", function),
            HostError::TooLarge { what, .. } => with_function("too_large", what),
            HostError::TooManyEvents { .. } => "too_many_events".into(),
            HostError::ReadOnly { function } => with_function("read_only", function),
            HostError::CallDepth { .. } => "call_depth".into(),
            HostError::Reentrancy { .. } => "reentrancy".into(),
            HostError::ContractNotFound(_) => "callee_not_found".into(),
            HostError::NotUtf8 => "not_utf8".into(),
            HostError::SealedReadUnavailable => "sealed_read_unavailable".into(),
            HostError::SealedReadNested => "sealed_read_nested".into(),
            HostError::SealedSideEffect { function } => {
                with_function("sealed_side_effect", function)
            }
            HostError::SealedOutputTooLarge { .. } => "sealed_output_too_large".into(),
        }
    }
}

/// `kind.name`, with the name kept to code characters.
fn with_function(kind: &str, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{kind}.{name}")
}

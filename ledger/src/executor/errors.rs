//! Why a transaction or a block is refused: [`TxError`] (the transaction's fault, with a stable
//! code) and [`ExecError`] (a block or node failure, with whether it is this node's alone).
use civitas_primitives::tx::PrivateCallError;
use civitas_primitives::{AccountId, Hash};
use civitas_runtime::{StateError, VmError};
use thiserror::Error;

use crate::store::StoreError;

/// Why a transaction was refused before execution: it changes nothing and consumes no nonce.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TxError {
    /// Oversized or undecodable bytes.
    #[error("{0}")]
    Format(String),
    /// The signature does not verify for the signer.
    #[error("invalid signature for signer {0}")]
    BadSignature(AccountId),
    /// Another chain's transaction.
    #[error("wrong chain id `{got}`; this chain is `{expected}`")]
    WrongChainId {
        /// This chain.
        expected: String,
        /// The transaction's.
        got: String,
    },
    /// A nonce already used (a replay).
    #[error("nonce {got} already used; the next nonce of this account is {expected}")]
    StaleNonce {
        /// Next nonce.
        expected: u64,
        /// Given.
        got: u64,
    },
    /// A nonce past the next one.
    #[error("nonce {got} skips ahead; the next nonce of this account is {expected}")]
    NonceGap {
        /// Next nonce.
        expected: u64,
        /// Given.
        got: u64,
    },
    /// A fuel limit over the cap of its kind of transaction (no transaction may reserve a
    /// whole block).
    #[error("fuel limit {limit} exceeds the cap of {max} for this kind of transaction")]
    FuelLimitTooHigh {
        /// Given.
        limit: u64,
        /// The cap for the transaction's kind.
        max: u64,
    },
    /// A signer the chain does not know: no role, no bound identity, no credits.
    #[error("account {0} is not a member of this chain: it holds no role, no bound identity and no credits")]
    UnknownAccount(AccountId),
    /// A sealed call whose fuel limit is over the sealed cap: sealed work is bounded so that a
    /// block's execution fits in one block interval and block times reveal nothing of it.
    #[error("a sealed call's fuel limit {limit} exceeds the sealed call cap of {max} (sealed work is bounded to fit one block interval)")]
    SealedFuelTooHigh {
        /// Given.
        limit: u64,
        /// The sealed cap.
        max: u64,
    },
    /// A call to an address with no contract.
    #[error("no contract at {0}")]
    UnknownContract(AccountId),
    /// Calls that concern a person's data run only in committed blocks (they count consent
    /// uses and write the audit trail, and their outcome is private).
    #[error(
        "{0} cannot be dry-run: it concerns a person's data and runs only in a committed block"
    )]
    NotDryRunnable(&'static str),
    /// A record commitment whose payload this node has not received (`vault_putRecords`).
    #[error(
        "this node holds no payload for record {0}: send the record with vault_putRecords first"
    )]
    PayloadMissing(Hash),
    /// A call of a private kind sent in clear: it must travel as `Call::Private`.
    #[error("{0} calls concern a person's data: send them encrypted to the chain access key (Call::Private)")]
    MustBePrivate(&'static str),
    /// A private call whose body does not open as this transaction's call.
    #[error("{0}")]
    PrivateBody(PrivateCallError),
    /// An attestation of a sealed output from an account outside the sealed-compute committee.
    #[error("account {0} is not a member of the sealed-compute committee")]
    NotCommitteeMember(AccountId),
    /// An attestation of a transaction that is no committed sealed call.
    #[error("transaction {0} is not a committed sealed call")]
    UnknownSealedCall(Hash),
    /// An attestation before the call's block is far enough behind.
    #[error("the output of sealed call {call} may be attested from block {due} on")]
    AttestationTooEarly {
        /// The sealed call.
        call: Hash,
        /// First block that may hold its attestations.
        due: u64,
    },
    /// A second attestation of one call by one member.
    #[error("this member already attested the output of sealed call {0}")]
    AlreadyAttested(Hash),
    /// The signer's roles do not allow this call.
    #[error("{action} needs one of the roles {needs}; account {signer} has none of them")]
    NotPermitted {
        /// The call kind.
        action: &'static str,
        /// Roles that would allow it.
        needs: String,
        /// Signer.
        signer: AccountId,
    },
    /// The signer cannot pay the fee of the transaction's whole fuel limit.
    #[error("the fee of fuel limit {fuel_limit} at the chain's price is {fee} credits; the signer holds {balance}")]
    CannotPayFees {
        /// The fuel limit.
        fuel_limit: u64,
        /// Its fee.
        fee: u128,
        /// The signer's credits.
        balance: u128,
    },
}

impl TxError {
    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::Format(_) => "malformed",
            TxError::BadSignature(_) => "bad_signature",
            TxError::WrongChainId { .. } => "wrong_chain_id",
            TxError::StaleNonce { .. } => "stale_nonce",
            TxError::NonceGap { .. } => "nonce_gap",
            TxError::FuelLimitTooHigh { .. } | TxError::SealedFuelTooHigh { .. } => {
                "fuel_limit_too_high"
            }
            TxError::UnknownAccount(_) => "unknown_account",
            TxError::NotPermitted { .. } => "not_permitted",
            TxError::UnknownContract(_) => "unknown_contract",
            TxError::NotDryRunnable(_) => "not_dry_runnable",
            TxError::PayloadMissing(_) => "payload_missing",
            TxError::MustBePrivate(_) => "must_be_private",
            TxError::PrivateBody(_) => "bad_private_body",
            TxError::NotCommitteeMember(_) => "not_committee_member",
            TxError::UnknownSealedCall(_) => "unknown_sealed_call",
            TxError::AttestationTooEarly { .. } => "attestation_too_early",
            TxError::AlreadyAttested(_) => "already_attested",
            TxError::CannotPayFees { .. } => "cannot_pay_fees",
        }
    }
}

/// A block header or body that breaks a block rule (every node finds it alike).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BlockRuleError {
    /// The block time is not after the parent's.
    #[error("block time {time_ms} is not after the parent's {parent_ms}")]
    TimeNotAfterParent {
        /// The parent's time.
        parent_ms: u64,
        /// The block's.
        time_ms: u64,
    },
    /// The block time is not the parent's plus a whole number of cadence intervals.
    #[error("block time {time_ms} is not the parent's {parent_ms} plus a whole number of {cadence_ms} ms intervals")]
    TimeOffCadence {
        /// The parent's time.
        parent_ms: u64,
        /// The block's.
        time_ms: u64,
        /// The chain's cadence.
        cadence_ms: u64,
    },
    /// The block's sealed calls reserve more fuel than a block may hold.
    #[error("the block's sealed calls reserve {fuel} fuel; a block holds at most {limit}")]
    SealedFuelOverBlockLimit {
        /// Sum of the sealed calls' fuel limits.
        fuel: u128,
        /// The chain's limit.
        limit: u64,
    },
}

/// Why a block could not be executed or accepted.
#[derive(Debug, Error)]
pub enum ExecError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// State I/O failed during execution.
    #[error(transparent)]
    State(#[from] StateError),
    /// The VM failed for reasons of this node (not the contract's).
    #[error("VM failure: {0}")]
    Vm(String),
    /// A proposed block carries a transaction that fails its checks.
    #[error("transaction {index} of the proposed block is invalid: {error}")]
    InvalidTx {
        /// Position.
        index: usize,
        /// Why.
        error: TxError,
    },
    /// A proposed block that breaks a block rule (time, sealed fuel).
    #[error("proposed block breaks a block rule: {0}")]
    BlockRule(#[from] BlockRuleError),
    /// A proposed block whose header does not match its execution.
    #[error("proposed block does not match its execution: {0}")]
    Mismatch(String),
    /// The genesis document is invalid or the store already has one.
    #[error("genesis: {0}")]
    Genesis(String),
    /// The authenticated tree failed.
    #[error("state tree: {0}")]
    Tree(String),
}

impl ExecError {
    /// A node failure the VM reported: state errors keep their kind.
    pub(super) fn from_vm(e: VmError) -> Self {
        match e {
            VmError::State(s) => ExecError::State(s),
            other => ExecError::Vm(other.to_string()),
        }
    }

    /// Whether the store could not read or write its files (a full disk, a read-only or
    /// failing data directory): RocksDB refuses further writes after such an error, so the node
    /// cannot go on until its operator fixes the data directory.
    pub fn is_storage_io(&self) -> bool {
        matches!(self, ExecError::Store(StoreError::Db(e)) if e.kind() == rocksdb::ErrorKind::IOError)
    }

    /// Whether this node alone may see the failure: it says nothing about the block or the
    /// transaction, so the node must retry (or refuse to vote), never drop or vote against.
    pub fn is_node_local(&self) -> bool {
        match self {
            ExecError::State(s) => s.is_node_local(),
            ExecError::InvalidTx { .. } | ExecError::Mismatch(_) | ExecError::BlockRule(_) => false,
            ExecError::Store(_) | ExecError::Vm(_) | ExecError::Genesis(_) | ExecError::Tree(_) => {
                true
            }
        }
    }
}

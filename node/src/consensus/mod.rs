//! The consensus boundary the ledger owns, shaped after Malachite's channel API: an engine asks
//! the application to propose, validate, commit decided blocks, serve and ingest synced blocks,
//! and tell it the validator set per height. [`Application`] names no engine and nothing
//! engine-specific, so an engine can be swapped without touching execution, storage or RPC.
//!
//! Rounds: an engine may need several rounds to decide a height (a proposer times out, the next
//! one proposes). The application keeps every block proposed or validated at the heights not
//! yet decided, whatever the round, so a later round never costs an earlier round's block: if
//! the engine decides it after all, it commits without executing it again.
//!
//! [`solo::SoloEngine`] drives the boundary from one process (dev mode and single-validator
//! chains).
pub mod malachite;
pub mod solo;

use civitas_primitives::block::{Block, CommitCertificate};
use civitas_primitives::AccountId;
use thiserror::Error;

/// A failure the engine reports or acts on. The two kinds must be told apart: an invalid
/// block is invalid on every honest node (an engine votes against it, e.g. nil), while a node
/// failure says nothing about the block (the node must not vote at all, logs why, and retries).
#[derive(Debug, Error)]
pub enum AppError {
    /// The block, proposal or certificate is invalid.
    #[error("{0}")]
    Invalid(String),
    /// This node could not do its part (state I/O, missing data, its own state behind).
    #[error("{0}")]
    Node(String),
}

impl AppError {
    /// The explanation.
    pub fn message(&self) -> &str {
        match self {
            AppError::Invalid(m) | AppError::Node(m) => m,
        }
    }

    /// Whether this node failed (rather than the block being invalid).
    pub fn is_node_failure(&self) -> bool {
        matches!(self, AppError::Node(_))
    }
}

/// What an engine asks of the application (the ledger).
pub trait Application: Send + Sync {
    /// The next height to decide: the stored head + 1.
    fn start_height(&self) -> Result<u64, AppError>;
    /// The validators for `height`: a pure function of committed state.
    fn validator_set(&self, height: u64) -> Result<Vec<AccountId>, AppError>;
    /// The time this node's block for `height` carries if proposed at `now_ms`: the parent's
    /// time plus the whole intervals of the chain's block cadence that have passed by
    /// `now_ms` (at least one). The proposer waits for its clock to reach it and stamps it
    /// before executing, so block times do not show how long execution took.
    fn block_time_slot(&self, height: u64, now_ms: u64) -> Result<u64, AppError>;
    /// The earliest wall-clock time (ms) at which `block` may be committed and announced: for
    /// a block holding sealed calls, the end of its slot (its time plus one cadence interval,
    /// which bounds their execution), so when its head appears does not show how long they
    /// ran; `0` for any other block.
    fn announce_not_before(&self, block: &Block) -> u64;
    /// Builds (and executes) this node's block for `height` in `round` at `time_ms` (a slot
    /// of [`Application::block_time_slot`]); the block is kept,
    /// next to the other rounds' blocks of the height, until the height is decided.
    fn propose(
        &self,
        height: u64,
        round: u32,
        time_ms: u64,
        proposer: AccountId,
    ) -> Result<Block, AppError>;
    /// Executes a block proposed in `round`; `Ok` means this node votes for it. The executed
    /// result is kept until the height is decided.
    fn validate(&self, block: &Block, round: u32) -> Result<(), AppError>;
    /// The engine decided `block`: commit it (with its certificate) atomically.
    fn decided(&self, block: Block, certificate: CommitCertificate) -> Result<(), AppError>;
    /// A decided block for a syncing peer.
    fn sync_serve(&self, height: u64) -> Result<Option<(Block, CommitCertificate)>, AppError>;
    /// A decided block from a peer: check its certificate, execute, commit.
    fn sync_ingest(&self, block: Block, certificate: CommitCertificate) -> Result<(), AppError>;
}

/// What the engine reports of this node's place in its network, for `system_health` and
/// `system_peers`: its role, the peers it is connected to and whether it is at the network's
/// head. Engines update it; readers take a copy.
#[derive(Debug)]
pub struct NetworkStatus {
    inner: std::sync::RwLock<NetworkView>,
}

/// A copy of [`NetworkStatus`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkView {
    /// `dev`, `validator` or `observer`.
    pub role: &'static str,
    /// Connected peers: (engine peer id, address if known).
    pub peers: Vec<(String, Option<String>)>,
    /// Whether this node is at the network's head.
    pub in_sync: bool,
}

impl Default for NetworkStatus {
    fn default() -> Self {
        NetworkStatus {
            inner: std::sync::RwLock::new(NetworkView {
                role: "dev",
                peers: Vec::new(),
                in_sync: true,
            }),
        }
    }
}

impl NetworkStatus {
    /// A copy of the current status.
    pub fn view(&self) -> NetworkView {
        match self.inner.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Changes the status.
    pub fn update(&self, f: impl FnOnce(&mut NetworkView)) {
        match self.inner.write() {
            Ok(mut v) => f(&mut v),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

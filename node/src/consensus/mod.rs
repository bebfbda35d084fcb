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

/// What the engine reports of this node's place in its network, for `system_health`,
/// `system_peers` and the metrics: its role, the peers it is connected to, the round it is in
/// and the highest height its peers are known to work on. Engines update it; readers take a
/// copy.
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
    /// The height this node's engine is deciding (0 before it started one).
    pub height: u64,
    /// The round of [`NetworkView::height`] the engine is in.
    pub round: u32,
    /// The highest height a validator of the network was seen deciding (its signed vote or
    /// proposal for that height); 0 when none was seen (a single-validator engine has no
    /// peers). Such a validator has committed every height below it.
    pub peer_height: u64,
    /// Whether this node has peers to follow: a network validator with other validators
    /// configured. Until it hears one of them it cannot know it is at the head.
    pub expects_peers: bool,
}

/// How far behind its network a node may be and still count as in sync: it may not yet have
/// committed the height its peers just decided.
pub const SYNC_SLACK: u64 = 1;

impl NetworkView {
    /// How many committed heights this node, with head `head`, is behind the highest height
    /// its peers have committed (as far as it knows): 0 when it is at their head or ahead.
    pub fn sync_lag(&self, head: u64) -> u64 {
        self.peer_height.saturating_sub(1).saturating_sub(head)
    }

    /// Whether this node, with head `head`, is at its network's head: at most
    /// [`SYNC_SLACK`] heights behind its peers, and, if it has peers to follow, after it
    /// heard from one (a validator restarted behind does not claim to be in sync before it
    /// knows where the others are). A node without peers is always in sync.
    pub fn in_sync(&self, head: u64) -> bool {
        !(self.expects_peers && self.peer_height == 0) && self.sync_lag(head) <= SYNC_SLACK
    }
}

impl Default for NetworkStatus {
    fn default() -> Self {
        NetworkStatus {
            inner: std::sync::RwLock::new(NetworkView {
                role: "dev",
                peers: Vec::new(),
                height: 0,
                round: 0,
                peer_height: 0,
                expects_peers: false,
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

    /// Takes in what an engine reports (the parts of [`ConsensusEvent`] that are state, not
    /// counts).
    pub fn observe(&self, event: &ConsensusEvent) {
        match *event {
            ConsensusEvent::StartedRound { height, round } => self.update(|v| {
                v.height = height;
                v.round = round;
            }),
            ConsensusEvent::PeerAt { height } => self.update(|v| {
                v.peer_height = v.peer_height.max(height);
            }),
            _ => {}
        }
    }
}

/// A vote's kind, as engines report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteKind {
    /// A first-phase vote.
    Prevote,
    /// A vote to commit; a quorum of them for one block is its commit certificate.
    Precommit,
}

impl VoteKind {
    /// `prevote` or `precommit`.
    pub fn name(self) -> &'static str {
        match self {
            VoteKind::Prevote => "prevote",
            VoteKind::Precommit => "precommit",
        }
    }
}

/// What a consensus engine reports as it runs, in engine-neutral terms: the node's status
/// ([`NetworkStatus::observe`]) and its metrics are made from these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsensusEvent {
    /// The engine entered `round` of `height`.
    StartedRound {
        /// The height being decided.
        height: u64,
        /// The round (0 first).
        round: u32,
    },
    /// This node signed and sent a vote.
    SignedVote(VoteKind),
    /// A vote of another validator arrived.
    ReceivedVote(VoteKind),
    /// A validator of the network was seen deciding `height` (a vote or proposal of it,
    /// signed by a validator): it has committed every height below.
    PeerAt {
        /// The height it works on.
        height: u64,
    },
    /// `height` was decided in `round` with a certificate of `precommits` signatures;
    /// `vote_wait` is how long the decision took after this node held the block (proposed or
    /// checked it), if it did.
    Decided {
        /// The decided height.
        height: u64,
        /// The round it was decided in.
        round: u32,
        /// The precommits in its certificate.
        precommits: usize,
        /// From holding the block to the decision.
        vote_wait: Option<std::time::Duration>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_seeing(peer_height: u64) -> NetworkStatus {
        let s = NetworkStatus::default();
        s.observe(&ConsensusEvent::PeerAt {
            height: peer_height,
        });
        s
    }

    #[test]
    fn a_node_without_peers_is_in_sync_at_any_height() {
        let v = NetworkStatus::default().view();
        for head in [0, 1, 1_000] {
            assert_eq!(v.sync_lag(head), 0);
            assert!(v.in_sync(head));
        }
    }

    #[test]
    fn a_node_far_below_the_height_its_peers_decide_is_not_in_sync() {
        // Peers vote at 30: they committed 29. A restarted node at 5 is 24 behind.
        let v = status_seeing(30).view();
        assert_eq!(v.sync_lag(5), 24);
        assert!(!v.in_sync(5));
        assert!(!v.in_sync(27));
        // One height behind (the decision not yet committed here) still counts as in sync.
        assert!(v.in_sync(28));
        assert!(v.in_sync(29));
        assert_eq!(v.sync_lag(40), 0);
    }

    #[test]
    fn a_network_validator_is_not_in_sync_before_it_hears_a_peer() {
        let s = NetworkStatus::default();
        s.update(|v| v.expects_peers = true);
        assert!(!s.view().in_sync(0));
        assert!(!s.view().in_sync(17));
        s.observe(&ConsensusEvent::PeerAt { height: 18 });
        assert!(s.view().in_sync(17));
    }

    #[test]
    fn the_highest_peer_height_seen_is_kept() {
        let s = status_seeing(30);
        s.observe(&ConsensusEvent::PeerAt { height: 12 });
        assert_eq!(s.view().peer_height, 30);
        s.observe(&ConsensusEvent::StartedRound {
            height: 7,
            round: 2,
        });
        let v = s.view();
        assert_eq!((v.height, v.round, v.peer_height), (7, 2, 30));
    }
}

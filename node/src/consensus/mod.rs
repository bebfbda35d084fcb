//! The consensus boundary the ledger owns, shaped after Malachite's channel API: the engine asks
//! the application to propose, validate, commit decided blocks, serve and ingest synced blocks,
//! and tell it the validator set per height. Nothing outside this module names an engine type,
//! so an engine can be swapped without touching execution, storage or RPC.
//!
//! [`SoloEngine`] drives the same boundary from one process (dev mode): it proposes when
//! transactions wait (or the pool fills), collects a vote from every validator key it holds
//! (the dev node holds all the dev departments' keys, so its certificates carry a real quorum)
//! and reports the decision.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use civitas_primitives::block::{quorum, vote_message, Block, CommitCertificate};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::AccountId;
use thiserror::Error;

/// A failure the engine reports or acts on.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct AppError(pub String);

/// What the engine asks of the application (the ledger).
pub trait Application: Send + Sync {
    /// The next height to decide: the stored head + 1.
    fn start_height(&self) -> Result<u64, AppError>;
    /// The validators for `height`: a pure function of committed state.
    fn validator_set(&self, height: u64) -> Result<Vec<AccountId>, AppError>;
    /// Builds (and executes) a block for `height`; the result is kept until decided.
    fn propose(&self, height: u64, time_ms: u64, proposer: AccountId) -> Result<Block, AppError>;
    /// Executes a proposed block; `Ok` means this node votes for it.
    fn validate(&self, block: &Block) -> Result<(), AppError>;
    /// The engine decided `block`: commit it (with its certificate) atomically.
    fn decided(&self, block: Block, certificate: CommitCertificate) -> Result<(), AppError>;
    /// A decided block for a syncing peer. (No peer transport yet: the multi-validator engine
    /// calls it; tests exercise it.)
    #[allow(dead_code)]
    fn sync_serve(&self, height: u64) -> Result<Option<(Block, CommitCertificate)>, AppError>;
    /// A decided block from a peer: check its certificate, execute, commit.
    #[allow(dead_code)]
    fn sync_ingest(&self, block: Block, certificate: CommitCertificate) -> Result<(), AppError>;
    /// Whether transactions wait to be proposed, and whether the pool is full enough to
    /// propose at once.
    fn pending_work(&self) -> (bool, bool);
    /// Blocks until transactions arrive or `timeout` passes.
    fn wait_for_work(&self, timeout: Duration);
}

/// A one-process engine for dev mode and single-validator chains.
pub struct SoloEngine {
    keys: Vec<Keypair>,
    interval: Duration,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl SoloEngine {
    /// An engine that votes with every key of `keys` that is a validator of the height,
    /// proposes with the first of them, and proposes at most every `interval`.
    pub fn new(keys: Vec<Keypair>, interval: Duration) -> Self {
        SoloEngine { keys, interval }
    }

    /// Runs until `stop` is set.
    pub fn run(&self, app: Arc<dyn Application>, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Relaxed) {
            let (waiting, full) = app.pending_work();
            if !waiting {
                app.wait_for_work(Duration::from_millis(200));
                continue;
            }
            if !full {
                std::thread::sleep(self.interval);
            }
            if let Err(e) = self.decide_one(app.as_ref()) {
                tracing::error!(error = %e, "block production failed; retrying");
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }

    fn decide_one(&self, app: &dyn Application) -> Result<(), AppError> {
        let height = app.start_height()?;
        let validators = app.validator_set(height)?;
        let voters: Vec<&Keypair> = self
            .keys
            .iter()
            .filter(|k| validators.contains(&k.account()))
            .collect();
        let needed = quorum(validators.len());
        let Some(proposer) = voters.first() else {
            return Err(AppError(format!(
                "none of this node's keys is a validator at height {height}"
            )));
        };
        if voters.len() < needed {
            return Err(AppError(format!(
                "this node holds {} of the {} validator keys of height {height}; a quorum needs {needed}",
                voters.len(),
                validators.len()
            )));
        }
        let block = app.propose(height, now_ms(), proposer.account())?;
        // The same path a validator takes on another's proposal (cached: not re-executed).
        app.validate(&block)?;
        let hash = block.header.hash();
        let round = 0;
        let vote = vote_message(&block.header.chain_id, height, round, &hash);
        let certificate = CommitCertificate {
            height,
            round,
            block_hash: hash,
            signatures: voters
                .iter()
                .map(|k| (k.account(), k.sign_hash(&vote)))
                .collect(),
        };
        app.decided(block, certificate)
    }
}

//! A one-process engine for dev mode and single-validator chains: it proposes when transactions
//! wait (or the pool fills), collects a vote from every validator key it holds (the dev node
//! holds all the dev departments' keys, so its certificates carry a real quorum) and reports the
//! decision. It decides every height in round 0.
//!
//! Its wake-up hooks ([`SoloWork`]) are this engine's own: a multi-validator engine is driven by
//! its peers' messages and timeouts instead.
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use civitas_primitives::block::{quorum, vote_message, CommitCertificate};
use civitas_primitives::clock::now_ms;
use civitas_primitives::crypto::Keypair;

use super::{AppError, Application};

/// When there is something to propose.
pub trait SoloWork {
    /// Whether transactions wait to be proposed, and whether the pool is full enough to
    /// propose at once.
    fn pending_work(&self) -> (bool, bool);
    /// Blocks until transactions arrive or `timeout` passes.
    fn wait_for_work(&self, timeout: Duration);
}

/// A one-process engine.
pub struct SoloEngine {
    keys: Vec<Keypair>,
    interval: Duration,
}

impl SoloEngine {
    /// An engine that votes with every key of `keys` that is a validator of the height,
    /// proposes with the first of them, and proposes at most every `interval`.
    pub fn new(keys: Vec<Keypair>, interval: Duration) -> Self {
        SoloEngine { keys, interval }
    }

    /// Runs until `stop` is set.
    pub fn run<A: Application + SoloWork + ?Sized>(&self, app: &A, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            let (waiting, full) = app.pending_work();
            if !waiting {
                app.wait_for_work(Duration::from_millis(200));
                continue;
            }
            if !full {
                std::thread::sleep(self.interval);
            }
            if let Err(e) = self.decide_one(app) {
                if e.is_node_failure() {
                    tracing::error!(error = %e, "this node failed while producing a block; not voting, retrying");
                } else {
                    tracing::error!(error = %e, "the proposed block is invalid; retrying");
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }

    fn decide_one<A: Application + ?Sized>(&self, app: &A) -> Result<(), AppError> {
        let height = app.start_height()?;
        let validators = app.validator_set(height)?;
        let voters: Vec<&Keypair> = self
            .keys
            .iter()
            .filter(|k| validators.contains(&k.account()))
            .collect();
        let needed = quorum(validators.len());
        let Some(proposer) = voters.first() else {
            return Err(AppError::Node(format!(
                "none of this node's keys is a validator at height {height}"
            )));
        };
        if voters.len() < needed {
            return Err(AppError::Node(format!(
                "this node holds {} of the {} validator keys of height {height}; a quorum needs {needed}",
                voters.len(),
                validators.len()
            )));
        }
        let round = 0;
        let block = app.propose(height, round, now_ms(), proposer.account())?;
        // The same path a validator takes on another's proposal (cached: not re-executed).
        app.validate(&block, round)?;
        let hash = block.header.hash();
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

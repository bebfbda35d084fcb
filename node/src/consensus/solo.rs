//! A one-process engine for dev mode and single-validator chains: it proposes when transactions
//! wait (or the pool fills), collects a vote from every validator key it holds (the dev node
//! holds all the dev departments' keys, so its certificates carry a real quorum) and reports the
//! decision. It decides every height in round 0.
//!
//! Block times follow the chain's cadence: the engine asks for the height's slot (the parent's
//! time plus whole intervals, not before now), sleeps until its clock reaches it and proposes
//! with that time, before anything of the block is executed.
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
    gather: Duration,
}

/// The longest the engine sleeps at once while it waits for a slot (so it notices `stop`).
const SLOT_WAIT_STEP: Duration = Duration::from_millis(50);

impl SoloEngine {
    /// An engine that votes with every key of `keys` that is a validator of the height and
    /// proposes with the first of them. When transactions arrive at an idle chain it gathers
    /// more for `gather` (unless the pool is full) before it waits for the next slot.
    pub fn new(keys: Vec<Keypair>, gather: Duration) -> Self {
        SoloEngine { keys, gather }
    }

    /// Runs until `stop` is set.
    pub fn run<A: Application + SoloWork + ?Sized>(&self, app: &A, stop: &AtomicBool) {
        let mut idle = true;
        while !stop.load(Ordering::Relaxed) {
            let (waiting, full) = app.pending_work();
            if !waiting {
                app.wait_for_work(Duration::from_millis(200));
                idle = true;
                continue;
            }
            if idle && !full {
                std::thread::sleep(self.gather);
            }
            idle = false;
            if let Err(e) = self.decide_one(app, stop) {
                if e.is_node_failure() {
                    tracing::error!(error = %e, "this node failed while producing a block; not voting, retrying");
                } else {
                    tracing::error!(error = %e, "the proposed block is invalid; retrying");
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }

    fn decide_one<A: Application + ?Sized>(
        &self,
        app: &A,
        stop: &AtomicBool,
    ) -> Result<(), AppError> {
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
        let slot = app.block_time_slot(height, now_ms())?;
        if !wait_until(slot, stop) {
            return Ok(());
        }
        let block = app.propose(height, round, slot, proposer.account())?;
        // The same path a validator takes on another's proposal (cached: not re-executed).
        app.validate(&block, round)?;
        if !wait_until(app.announce_not_before(&block), stop) {
            return Ok(());
        }
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

/// Sleeps until the wall clock reaches `time_ms`; `false` if told to stop first.
fn wait_until(time_ms: u64, stop: &AtomicBool) -> bool {
    loop {
        let now = now_ms();
        if now >= time_ms {
            return true;
        }
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(time_ms - now).min(SLOT_WAIT_STEP));
    }
}

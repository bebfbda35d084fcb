//! Opened private-call bodies, kept by signed-transaction hash: a node decrypts each body once
//! (at admission, or at its first check in a block), not again for the block's checks, its
//! application and a re-proposal. The opened call is a function of the transaction's bytes
//! and the chain access key alone, and the hash covers every byte, so a kept body is exactly
//! what opening the same transaction again would give, whatever the state or the block.
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use civitas_primitives::tx::Call;
use civitas_primitives::Hash;

/// How many opened bodies a node keeps (the oldest go first): a full block's worth.
pub(super) const OPENED_BODIES_KEPT: usize = 16_384;

/// Opened bodies, shared by an executor's clones.
#[derive(Clone, Default)]
pub(super) struct OpenedBodies {
    inner: Arc<Mutex<Kept>>,
}

#[derive(Default)]
struct Kept {
    calls: HashMap<Hash, Call>,
    order: VecDeque<Hash>,
}

impl OpenedBodies {
    /// The opened call of transaction `tx_hash`, if kept.
    pub(super) fn get(&self, tx_hash: &Hash) -> Option<Call> {
        self.inner.lock().ok()?.calls.get(tx_hash).cloned()
    }

    /// Keeps the opened call of transaction `tx_hash`.
    pub(super) fn keep(&self, tx_hash: Hash, call: &Call) {
        let Ok(mut kept) = self.inner.lock() else {
            return;
        };
        if kept.calls.insert(tx_hash, call.clone()).is_none() {
            kept.order.push_back(tx_hash);
        }
        while kept.order.len() > OPENED_BODIES_KEPT {
            if let Some(old) = kept.order.pop_front() {
                kept.calls.remove(&old);
            }
        }
    }
}

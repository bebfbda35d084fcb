//! `tx_submit` requests verified together. Each request hands its transaction to one verifier
//! thread and waits for its outcome; the thread takes every request that arrived while it was
//! busy (up to [`MAX_GROUP`]) and admits them with [`Chain::submit_batch`], whose signatures
//! are checked as one batch (as `tx_submitBatch` checks its own). A lone request is admitted at
//! once by [`Chain::submit`], as before; under load, many clients submitting one transaction
//! each get the batch's speed. Each request gets its own transaction's outcome.
use std::sync::mpsc;
use std::sync::Arc;

use civitas_primitives::tx::SignedTransaction;
use civitas_primitives::Hash;
use tokio::sync::oneshot;

use crate::mempool::PoolError;
use crate::service::Chain;

/// The most transactions admitted as one group.
pub const MAX_GROUP: usize = 1_000;

type Request = (SignedTransaction, oneshot::Sender<Result<Hash, PoolError>>);

/// The queue in front of the verifier thread.
pub(crate) struct SubmitQueue {
    requests: mpsc::Sender<Request>,
}

impl SubmitQueue {
    /// Starts the verifier thread for `chain`; it ends when the queue is dropped.
    pub(crate) fn start(chain: Arc<Chain>) -> std::io::Result<SubmitQueue> {
        let (requests, incoming) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("tx-submit".into())
            .spawn(move || {
                while let Ok(first) = incoming.recv() {
                    let mut group = vec![first];
                    while group.len() < MAX_GROUP {
                        match incoming.try_recv() {
                            Ok(r) => group.push(r),
                            Err(_) => break,
                        }
                    }
                    let (txs, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
                    // A lone transaction takes the single path (its signature checked strictly,
                    // as `tx_submit` always did). A panic fails this group's requests (their
                    // replies are dropped), not the thread.
                    let outcomes = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        if txs.len() == 1 {
                            txs.into_iter().map(|tx| chain.submit(tx)).collect()
                        } else {
                            chain.submit_batch(txs)
                        }
                    }));
                    let Ok(outcomes) = outcomes else {
                        tracing::error!("admitting a group of submitted transactions panicked");
                        continue;
                    };
                    for (outcome, reply) in outcomes.into_iter().zip(replies) {
                        // The request may have gone (its client disconnected): nothing to tell.
                        let _ = reply.send(outcome);
                    }
                }
            })?;
        Ok(SubmitQueue { requests })
    }

    /// Admits `tx` with the others waiting; its own outcome.
    pub(crate) async fn submit(&self, tx: SignedTransaction) -> Result<Hash, PoolError> {
        let (reply, outcome) = oneshot::channel();
        self.requests
            .send((tx, reply))
            .map_err(|_| PoolError::Node("the transaction verifier has stopped".into()))?;
        outcome
            .await
            .map_err(|_| PoolError::Node("the transaction verifier has stopped".into()))?
    }
}

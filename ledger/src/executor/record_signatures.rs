//! Departments' record signatures verified as one batch per block. Every `CommitRecord` of a
//! block carries the custodian's ed25519 signature over the record hash, which execution must
//! check; before the block runs its transactions the executor verifies all of them together (as
//! the block's transaction signatures are), and keeps the triples that passed, so
//! `commit_record` checks a kept one without verifying it again. If the batch fails nothing is
//! kept and each record is verified singly, so a bad signature fails exactly the transaction
//! that carries it, as before. Whether a triple is kept never changes a result: only the cost.
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use civitas_primitives::crypto::verify_hash_batch;
use civitas_primitives::tx::{Call, SignedTransaction};
use civitas_primitives::{sha3_256, AccountId, Hash};

/// How many verified triples are kept (the oldest go first): a few blocks' worth.
const KEPT: usize = 65_536;

/// Verified record signatures, shared by an executor's clones.
#[derive(Clone, Default)]
pub(super) struct VerifiedRecordSignatures {
    inner: Arc<Mutex<Kept>>,
}

#[derive(Default)]
struct Kept {
    set: HashSet<Hash>,
    order: VecDeque<Hash>,
}

fn triple(signer: &AccountId, record_hash: &Hash, signature: &[u8; 64]) -> Hash {
    let mut bytes = Vec::with_capacity(128);
    bytes.extend_from_slice(&signer.0);
    bytes.extend_from_slice(&record_hash.0);
    bytes.extend_from_slice(signature);
    sha3_256(&bytes)
}

impl VerifiedRecordSignatures {
    /// Verifies the record signatures of `calls` (each transaction with the call it makes) as
    /// one batch and keeps them if all are valid.
    pub(super) fn verify_batch<'a>(
        &self,
        calls: impl Iterator<Item = (&'a SignedTransaction, Call)>,
    ) {
        let items: Vec<(AccountId, Hash, [u8; 64])> = calls
            .filter_map(|(stx, call)| match call {
                Call::CommitRecord {
                    record_hash,
                    signature,
                    ..
                } => Some((stx.tx.signer, record_hash, signature)),
                _ => None,
            })
            .collect();
        if items.len() < 2 || !verify_hash_batch(&items) {
            return;
        }
        let Ok(mut kept) = self.inner.lock() else {
            return;
        };
        for (signer, hash, sig) in &items {
            let t = triple(signer, hash, sig);
            if kept.set.insert(t) {
                kept.order.push_back(t);
            }
        }
        while kept.order.len() > KEPT {
            if let Some(old) = kept.order.pop_front() {
                kept.set.remove(&old);
            }
        }
    }

    /// Whether `signature` by `signer` over `record_hash` is valid: kept from a batch, or
    /// verified now.
    pub(super) fn check(
        &self,
        signer: &AccountId,
        record_hash: &Hash,
        signature: &[u8; 64],
    ) -> bool {
        let kept = self
            .inner
            .lock()
            .map(|k| k.set.contains(&triple(signer, record_hash, signature)))
            .unwrap_or(false);
        kept || civitas_primitives::crypto::verify_hash(signer, record_hash, signature)
    }
}

#[cfg(test)]
mod tests {
    //! A batch keeps only what verifies; a bad signature in a batch keeps nothing, and each
    //! record is then judged by its own signature.
    use super::*;
    use civitas_primitives::crypto::Keypair;
    use civitas_primitives::tx::Transaction;

    fn commit(
        k: &Keypair,
        nonce: u64,
        record_hash: Hash,
        signature: [u8; 64],
    ) -> (SignedTransaction, Call) {
        let call = Call::CommitRecord {
            subject: Hash([1; 32]),
            dataset: "d".into(),
            version: 1,
            record_hash,
            signature,
        };
        let stx = k.sign_tx(Transaction {
            chain_id: "t".into(),
            signer: k.account(),
            nonce,
            fuel_limit: 1,
            call: call.clone(),
        });
        (stx, call)
    }

    #[test]
    fn a_valid_batch_is_kept_and_a_bad_signature_fails_alone() {
        let tax = Keypair::dev("tax");
        let good: Vec<(SignedTransaction, Call)> = (0..3u8)
            .map(|i| {
                let h = Hash([i; 32]);
                commit(&tax, u64::from(i), h, tax.sign_hash(&h))
            })
            .collect();
        let kept = VerifiedRecordSignatures::default();
        kept.verify_batch(good.iter().map(|(s, c)| (s, c.clone())));
        assert_eq!(kept.inner.lock().expect("lock").set.len(), 3);
        let bad_sig = tax.sign_hash(&Hash([9; 32]));
        assert!(kept.check(
            &tax.account(),
            &Hash([1; 32]),
            &tax.sign_hash(&Hash([1; 32]))
        ));
        assert!(
            !kept.check(&tax.account(), &Hash([1; 32]), &bad_sig),
            "not the kept triple"
        );

        let fresh = VerifiedRecordSignatures::default();
        let mut mixed = good.clone();
        mixed.push(commit(&tax, 9, Hash([7; 32]), bad_sig));
        fresh.verify_batch(mixed.iter().map(|(s, c)| (s, c.clone())));
        assert!(
            fresh.inner.lock().expect("lock").set.is_empty(),
            "a failed batch keeps nothing"
        );
        assert!(fresh.check(
            &tax.account(),
            &Hash([2; 32]),
            &tax.sign_hash(&Hash([2; 32]))
        ));
        assert!(!fresh.check(&tax.account(), &Hash([7; 32]), &bad_sig));
    }
}

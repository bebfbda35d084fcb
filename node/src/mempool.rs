//! The transaction pool: admits signed transactions after their signature and state checks,
//! keeps each account's transactions in nonce order, refuses duplicates, and bounds its size
//! (transactions, bytes, pending transactions per account). A transaction pending longer than
//! the pool's `max_age` is evicted with every later one of its signer (which could only follow
//! it), so what no block ever includes does not hold its room forever.
//! The block producer takes from it round-robin across signers; commits prune it. The pool knows the
//! ledger only through [`LedgerChecks`].
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use civitas_ledger::TxError;
use civitas_primitives::tx::SignedTransaction;
use civitas_primitives::{AccountId, Hash};
use parity_scale_codec::Encode;
use thiserror::Error;

/// Pool limits.
#[derive(Clone, Debug)]
pub struct PoolLimits {
    /// Transactions held.
    pub max_count: usize,
    /// Encoded bytes held.
    pub max_bytes: usize,
    /// Transactions one account may have pending, so one member cannot fill the pool.
    pub max_per_account: u64,
    /// How long a transaction may stay pending before it is evicted.
    pub max_age: Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max_count: 50_000,
            max_bytes: 256 * 1024 * 1024,
            max_per_account: 10_000,
            max_age: Duration::from_secs(3600),
        }
    }
}

/// Why the pool refused a transaction.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PoolError {
    /// The ledger's checks failed.
    #[error(transparent)]
    Invalid(#[from] TxError),
    /// Already in the pool.
    #[error("transaction {0} is already pending")]
    Duplicate(Hash),
    /// No room.
    #[error("the transaction pool is full ({0}); retry later")]
    Full(&'static str),
    /// The signer already has as many pending transactions as one account may.
    #[error("the signer already has {0} pending transactions, the most one account may; retry once some commit")]
    AccountFull(u64),
    /// This node could not check the transaction (its state failed to read); the transaction
    /// itself may be fine.
    #[error("this node could not check the transaction: {0}")]
    Node(String),
}

/// What the pool asks of the ledger, on the committed state it admits against.
pub trait LedgerChecks {
    /// The committed next nonce of `account`; `Err` says this node could not read it.
    fn committed_nonce(&self, account: &AccountId) -> Result<u64, String>;
    /// Every check of `tx` but its signature and nonce (the pool orders nonces), as the
    /// signer's next transaction on the committed state: `Ok(Err(_))` the transaction is
    /// invalid, `Err(_)` this node could not check it.
    fn check(&self, tx: &SignedTransaction) -> Result<Result<(), TxError>, String>;
}

struct Entry {
    tx: SignedTransaction,
    bytes: usize,
    /// When the pool admitted it.
    admitted: Instant,
}

/// Pending transactions.
#[derive(Default)]
pub struct Mempool {
    limits: PoolLimits,
    order: VecDeque<Hash>,
    entries: HashMap<Hash, Entry>,
    /// Next nonce expected from each account with pending transactions.
    next_nonce: BTreeMap<AccountId, u64>,
    bytes: usize,
}

impl Mempool {
    /// An empty pool.
    pub fn new(limits: PoolLimits) -> Self {
        Mempool {
            limits,
            ..Default::default()
        }
    }

    /// Pending transactions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The nonce that follows `account`'s pending transactions, if it has any.
    pub fn next_nonce(&self, account: &AccountId) -> Option<u64> {
        self.next_nonce.get(account).copied()
    }

    /// Whether `hash` is pending.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.entries.contains_key(hash)
    }

    /// Checks and admits `tx` against the committed state `ledger` checks plus what is pending.
    /// `signature_checked` says the caller already verified the signature (e.g. in a batch).
    pub fn admit(
        &mut self,
        ledger: &impl LedgerChecks,
        tx: SignedTransaction,
        signature_checked: bool,
    ) -> Result<Hash, PoolError> {
        let hash = tx.hash();
        if self.entries.contains_key(&hash) {
            return Err(PoolError::Duplicate(hash));
        }
        if self.entries.len() >= self.limits.max_count {
            return Err(PoolError::Full("transaction count"));
        }
        let bytes = tx.encoded_size();
        if self.bytes + bytes > self.limits.max_bytes {
            return Err(PoolError::Full("bytes"));
        }
        // Pending transactions of the signer move its expected nonce forward.
        let committed = ledger
            .committed_nonce(&tx.tx.signer)
            .map_err(PoolError::Node)?;
        let expected = self
            .next_nonce
            .get(&tx.tx.signer)
            .copied()
            .unwrap_or(committed)
            .max(committed);
        if tx.tx.nonce < expected {
            return Err(PoolError::Invalid(TxError::StaleNonce {
                expected,
                got: tx.tx.nonce,
            }));
        }
        if tx.tx.nonce > expected {
            return Err(PoolError::Invalid(TxError::NonceGap {
                expected,
                got: tx.tx.nonce,
            }));
        }
        if expected.saturating_sub(committed) >= self.limits.max_per_account {
            return Err(PoolError::AccountFull(self.limits.max_per_account));
        }
        // Every other check, as if it were the account's next transaction on committed state.
        ledger.check(&tx).map_err(PoolError::Node)??;
        if !signature_checked && !civitas_primitives::crypto::verify_tx(&tx) {
            return Err(PoolError::Invalid(TxError::BadSignature(tx.tx.signer)));
        }
        self.next_nonce.insert(tx.tx.signer, tx.tx.nonce + 1);
        self.bytes += bytes;
        self.order.push_back(hash);
        self.entries.insert(
            hash,
            Entry {
                tx,
                bytes,
                admitted: Instant::now(),
            },
        );
        Ok(hash)
    }

    /// How long a transaction may stay pending.
    pub fn max_age(&self) -> Duration {
        self.limits.max_age
    }

    /// Evicts every transaction admitted more than `max_age` before `now`, with every later
    /// one of its signer (each could only follow it); returns the evicted hashes.
    pub fn evict_expired(&mut self, now: Instant) -> Vec<Hash> {
        let max_age = self.limits.max_age;
        // Each signer's lowest expired nonce: it and everything after it go.
        let mut from: BTreeMap<AccountId, u64> = BTreeMap::new();
        for e in self.entries.values() {
            if now.saturating_duration_since(e.admitted) > max_age {
                let n = from.entry(e.tx.tx.signer).or_insert(u64::MAX);
                *n = (*n).min(e.tx.tx.nonce);
            }
        }
        if from.is_empty() {
            return Vec::new();
        }
        let evicted: Vec<Hash> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                from.get(&e.tx.tx.signer)
                    .is_some_and(|first| e.tx.tx.nonce >= *first)
            })
            .map(|(h, _)| *h)
            .collect();
        for h in &evicted {
            if let Some(e) = self.entries.remove(h) {
                self.bytes -= e.bytes;
            }
        }
        self.order.retain(|h| self.entries.contains_key(h));
        self.recount_next_nonces();
        evicted
    }

    /// The next nonce of each signer from what is pending.
    fn recount_next_nonces(&mut self) {
        let mut next: BTreeMap<AccountId, u64> = BTreeMap::new();
        for e in self.entries.values() {
            let n = next.entry(e.tx.tx.signer).or_insert(0);
            *n = (*n).max(e.tx.tx.nonce + 1);
        }
        self.next_nonce = next;
    }

    /// Up to `max` transactions for the next block, taken round-robin across signers: every
    /// signer's first pending transaction, then every signer's second, and so on (signers in
    /// the arrival order of their first pending one, each signer's in nonce order). So one
    /// member's backlog, however long, never keeps another member's transaction out of the
    /// candidates.
    pub fn candidates(&self, max: usize) -> Vec<SignedTransaction> {
        let mut signers: HashMap<AccountId, usize> = HashMap::new();
        let mut queues: Vec<VecDeque<&SignedTransaction>> = Vec::new();
        for e in self.order.iter().filter_map(|h| self.entries.get(h)) {
            let i = *signers.entry(e.tx.tx.signer).or_insert_with(|| {
                queues.push(VecDeque::new());
                queues.len() - 1
            });
            queues[i].push_back(&e.tx);
        }
        let mut out = Vec::with_capacity(max.min(self.entries.len()));
        // Each round takes one from every signer still holding some; exhausted signers drop
        // out, so the whole walk is linear in the pool's size.
        while !queues.is_empty() {
            for q in queues.iter_mut() {
                if out.len() >= max {
                    return out;
                }
                if let Some(tx) = q.pop_front() {
                    out.push(tx.clone());
                }
            }
            queues.retain(|q| !q.is_empty());
        }
        out
    }

    /// Drops committed and rejected transactions, and any whose nonce the committed state has
    /// passed; `nonce_of` gives the committed next nonce of an account.
    pub fn prune(&mut self, done: &[Hash], nonce_of: impl Fn(&AccountId) -> u64) {
        for h in done {
            if let Some(e) = self.entries.remove(h) {
                self.bytes -= e.bytes;
            }
        }
        // One committed-nonce read per account, not one per pending transaction.
        let mut nonces: HashMap<AccountId, u64> = HashMap::new();
        let stale: Vec<Hash> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                let signer = &e.tx.tx.signer;
                let committed = *nonces.entry(*signer).or_insert_with(|| nonce_of(signer));
                e.tx.tx.nonce < committed
            })
            .map(|(h, _)| *h)
            .collect();
        for h in stale {
            if let Some(e) = self.entries.remove(&h) {
                self.bytes -= e.bytes;
            }
        }
        self.order.retain(|h| self.entries.contains_key(h));
        self.recount_next_nonces();
    }
}

#[cfg(test)]
mod tests {
    use civitas_primitives::crypto::Keypair;
    use civitas_primitives::tx::{Call, Transaction};

    use super::*;

    /// Committed state where every account is at nonce 0 and every transaction is valid.
    struct Fresh;

    impl LedgerChecks for Fresh {
        fn committed_nonce(&self, _: &AccountId) -> Result<u64, String> {
            Ok(0)
        }
        fn check(&self, _: &SignedTransaction) -> Result<Result<(), TxError>, String> {
            Ok(Ok(()))
        }
    }

    fn tx(k: &Keypair, nonce: u64) -> SignedTransaction {
        k.sign_tx(Transaction {
            chain_id: "c".into(),
            signer: k.account(),
            nonce,
            fuel_limit: 1,
            call: Call::Transfer {
                to: AccountId::default(),
                amount: 1,
            },
        })
    }

    #[test]
    fn a_transaction_pending_past_the_age_is_evicted_with_its_signers_later_ones_only() {
        let (stuck, other) = (Keypair::dev("a"), Keypair::dev("b"));
        let mut pool = Mempool::new(PoolLimits {
            max_age: Duration::from_secs(60),
            ..PoolLimits::default()
        });
        let first = pool.admit(&Fresh, tx(&stuck, 0), false).expect("admit");
        let second = pool.admit(&Fresh, tx(&stuck, 1), false).expect("admit");
        let kept = pool.admit(&Fresh, tx(&other, 0), false).expect("admit");
        let now = Instant::now();
        assert!(pool.evict_expired(now).is_empty(), "nothing is old yet");
        // Only `stuck`'s first is past the age: its second goes with it, `other`'s stays.
        pool.entries.get_mut(&first).expect("pending").admitted = now - Duration::from_secs(61);
        let mut evicted = pool.evict_expired(now);
        evicted.sort();
        let mut expected = vec![first, second];
        expected.sort();
        assert_eq!(evicted, expected);
        assert!(pool.contains(&kept) && pool.len() == 1);
        assert_eq!(pool.next_nonce(&stuck.account()), None);
        // The signer starts again from its committed nonce.
        pool.admit(&Fresh, tx(&stuck, 0), false)
            .expect("the evicted nonce is free again");
    }

    #[test]
    fn an_account_at_its_pending_cap_is_refused_and_another_account_is_not() {
        let (full, other) = (Keypair::dev("a"), Keypair::dev("b"));
        let mut pool = Mempool::new(PoolLimits {
            max_per_account: 2,
            ..PoolLimits::default()
        });
        pool.admit(&Fresh, tx(&full, 0), false).expect("admit");
        pool.admit(&Fresh, tx(&full, 1), false).expect("admit");
        assert_eq!(
            pool.admit(&Fresh, tx(&full, 2), false),
            Err(PoolError::AccountFull(2))
        );
        pool.admit(&Fresh, tx(&other, 0), false)
            .expect("another account");
    }

    #[test]
    fn candidates_take_every_signers_next_transaction_before_anyones_second() {
        let (flood, other, late) = (Keypair::dev("a"), Keypair::dev("b"), Keypair::dev("c"));
        let mut pool = Mempool::new(PoolLimits::default());
        for n in 0..5 {
            pool.admit(&Fresh, tx(&flood, n), false).expect("admit");
        }
        pool.admit(&Fresh, tx(&other, 0), false).expect("admit");
        pool.admit(&Fresh, tx(&other, 1), false).expect("admit");
        pool.admit(&Fresh, tx(&late, 0), false).expect("admit");
        let picked: Vec<(AccountId, u64)> = pool
            .candidates(4)
            .iter()
            .map(|t| (t.tx.signer, t.tx.nonce))
            .collect();
        assert_eq!(
            picked,
            vec![
                (flood.account(), 0),
                (other.account(), 0),
                (late.account(), 0),
                (flood.account(), 1),
            ]
        );
        let all = pool.candidates(100);
        assert_eq!(all.len(), 8);
        let flood_nonces: Vec<u64> = all
            .iter()
            .filter(|t| t.tx.signer == flood.account())
            .map(|t| t.tx.nonce)
            .collect();
        assert_eq!(flood_nonces, vec![0, 1, 2, 3, 4], "nonce order per signer");
    }
}

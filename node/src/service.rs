//! The running chain: the ledger executor, the transaction pool, the head, and the
//! [`Application`] side of the consensus boundary. RPC handlers and the engine both go through
//! [`Chain`].
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use civitas_ledger::state::StateView;
use civitas_ledger::{ExecError, ExecutedBlock, Executor, Head, TxError};
use civitas_primitives::block::{Block, CommitCertificate};
use civitas_primitives::clock::now_ms;
use civitas_primitives::crypto::verify_certificate;
use civitas_primitives::tx::SignedTransaction;
use civitas_primitives::{AccountId, Hash};
use civitas_rpc::HeadInfo;
use tokio::sync::broadcast;

use crate::consensus::solo::SoloWork;
use crate::consensus::{AppError, Application};
use crate::mempool::{LedgerChecks, Mempool, PoolError, PoolLimits};
use crate::metrics::Metrics;

/// How far a proposed block's time may run ahead of a validator's clock.
pub const MAX_CLOCK_DRIFT_MS: u64 = 5_000;

/// Most executed blocks a node keeps for undecided heights (the oldest rounds go first).
pub const MAX_CACHED_PROPOSALS: usize = 64;

/// A block this node proposed or validated, executed, waiting for its height's decision.
struct Proposal {
    height: u64,
    round: u32,
    executed: ExecutedBlock,
}

/// The ledger's admission checks on one committed state, for the pool.
struct CommittedState<'a> {
    exec: &'a Executor,
    view: &'a StateView,
}

impl LedgerChecks for CommittedState<'_> {
    fn committed_nonce(&self, account: &AccountId) -> Result<u64, String> {
        self.view
            .account(account)
            .map(|a| a.nonce)
            .map_err(|e| e.to_string())
    }

    fn check(&self, tx: &SignedTransaction) -> Result<Result<(), TxError>, String> {
        self.exec
            .check_tx_except_nonce(self.view, tx, false)
            .map_err(|e| e.to_string())
    }
}

/// The chain as this node runs it.
pub struct Chain {
    /// Executes blocks (one lane: only the engine thread uses it).
    pub block_exec: Executor,
    /// Executes queries and dry-runs (a separate VM so queries never compete with blocks).
    pub query_exec: Executor,
    pool: Mutex<Mempool>,
    work: Condvar,
    head: RwLock<Head>,
    proposed: Mutex<HashMap<Hash, Proposal>>,
    heads: broadcast::Sender<HeadInfo>,
    diagnostics: Mutex<Diagnostics>,
    /// Forwarding to the other nodes of the network, if it has any.
    relay: std::sync::OnceLock<crate::relay::Relay>,
    /// This node's place in its network, as its engine reports it.
    pub network: crate::consensus::NetworkStatus,
    /// Metrics.
    pub metrics: Metrics,
    /// Whether this node's committee work waits for the next block (a single-validator
    /// chain then produces one even with an empty pool).
    wants_block: std::sync::atomic::AtomicBool,
    /// The first store I/O failure (a full disk, a read-only data directory): the node must
    /// stop, see [`Chain::storage_failed`].
    storage_failure: std::sync::OnceLock<String>,
    storage_notify: tokio::sync::Notify,
    /// The data directory and the free space below which the node stops before writing a
    /// block (set once, at start; unset: no floor).
    disk_floor: std::sync::OnceLock<(std::path::PathBuf, u64)>,
}

/// This node's explanations of recently failed transactions, by hash (bounded; never part of
/// consensus: receipts carry only codes).
#[derive(Default)]
struct Diagnostics {
    order: std::collections::VecDeque<Hash>,
    text: HashMap<Hash, String>,
}

/// How many failure explanations a node keeps.
const MAX_DIAGNOSTICS: usize = 10_000;

impl Diagnostics {
    fn insert(&mut self, hash: Hash, text: String) {
        if self.text.insert(hash, text).is_none() {
            self.order.push_back(hash);
        }
        while self.order.len() > MAX_DIAGNOSTICS {
            if let Some(old) = self.order.pop_front() {
                self.text.remove(&old);
            }
        }
    }
}

/// A failure of this node's store or state: never a verdict on a block.
fn app_err(e: impl std::fmt::Display) -> AppError {
    AppError::Node(e.to_string())
}

/// An executor error as the engine must see it: invalid block, or this node's failure.
fn exec_err(e: ExecError) -> AppError {
    if e.is_node_local() {
        AppError::Node(e.to_string())
    } else {
        AppError::Invalid(e.to_string())
    }
}

/// The JSON form of a head.
pub fn head_info(h: &Head) -> HeadInfo {
    HeadInfo {
        height: h.height,
        block_hash: civitas_rpc::to_hex(&h.block_hash.0),
        state_root: civitas_rpc::to_hex(&h.state_root.0),
    }
}

impl Chain {
    /// A chain over executors that share one store (genesis already written).
    pub fn new(
        block_exec: Executor,
        query_exec: Executor,
        limits: PoolLimits,
    ) -> Result<Chain, ExecError> {
        let head = block_exec
            .store()
            .head()?
            .ok_or_else(|| ExecError::Genesis("the store has no genesis".into()))?;
        let (heads, _) = broadcast::channel(256);
        let metrics = Metrics::new();
        metrics.height.set(head.height as i64);
        Ok(Chain {
            block_exec,
            query_exec,
            pool: Mutex::new(Mempool::new(limits)),
            work: Condvar::new(),
            head: RwLock::new(head),
            diagnostics: Mutex::new(Diagnostics::default()),
            proposed: Mutex::new(HashMap::new()),
            heads,
            relay: std::sync::OnceLock::new(),
            network: crate::consensus::NetworkStatus::default(),
            metrics,
            wants_block: std::sync::atomic::AtomicBool::new(false),
            storage_failure: std::sync::OnceLock::new(),
            storage_notify: tokio::sync::Notify::new(),
            disk_floor: std::sync::OnceLock::new(),
        })
    }

    /// Forwards what this node admits to the other nodes of its network (set once, at start).
    pub fn set_relay(&self, relay: crate::relay::Relay) {
        if self.relay.set(relay).is_err() {
            tracing::warn!("the relay to peers was already set");
        }
    }

    /// The forwarding to peers, if this node has any.
    pub fn relay(&self) -> Option<&crate::relay::Relay> {
        self.relay.get()
    }

    /// The committed head.
    pub fn head(&self) -> Head {
        self.head
            .read()
            .map(|h| h.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// New heads, as they commit.
    pub fn subscribe_heads(&self) -> broadcast::Receiver<HeadInfo> {
        self.heads.subscribe()
    }

    /// The committee transport secret, on a node that holds the chain sealing key.
    pub fn committee_transport_secret(&self) -> Option<[u8; 32]> {
        self.block_exec
            .sealing_key()
            .map(|k| civitas_primitives::crypto::committee_transport_secret(&k))
    }

    /// Asks for (or stops asking for) a block even with nothing pending: committee work waits
    /// for the next height.
    pub fn want_block(&self, wanted: bool) {
        self.wants_block
            .store(wanted, std::sync::atomic::Ordering::Relaxed);
        if wanted {
            self.work.notify_all();
        }
    }

    /// The next nonce for `account`: after its pending transactions, or its committed one.
    pub fn next_nonce(&self, account: &AccountId) -> u64 {
        let pending = self.pool.lock().ok().and_then(|p| p.next_nonce(account));
        pending.unwrap_or_else(|| {
            self.block_exec
                .head_view()
                .and_then(|(_, v)| v.account(account).map_err(ExecError::State))
                .map(|a| a.nonce)
                .unwrap_or(0)
        })
    }

    /// Pending transactions.
    pub fn pending(&self) -> usize {
        self.pool.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Whether `hash` waits in the pool.
    pub fn is_pending(&self, hash: &Hash) -> bool {
        self.pool.lock().map(|p| p.contains(hash)).unwrap_or(false)
    }

    /// Resolves once the store failed to read or write its files while the engine proposed,
    /// validated or committed a block, with the store's message. Nothing of that block was
    /// written (RocksDB writes a block as one batch), and nothing more can be: the node must
    /// stop, and restarts at the same head once its data directory is writable again.
    pub async fn storage_failed(&self) -> String {
        loop {
            if let Some(m) = self.storage_failure.get() {
                return m.clone();
            }
            self.storage_notify.notified().await;
        }
    }

    /// Stops the node before it writes a block once the filesystem of `data_dir` has fewer
    /// than `min_free` bytes free: RocksDB must never meet a full disk mid-write (after a
    /// failed write it refuses further ones, and some builds abort).
    pub fn set_disk_floor(&self, data_dir: std::path::PathBuf, min_free: u64) {
        let _ = self.disk_floor.set((data_dir, min_free));
    }

    /// Refuses to go on (and records why, for [`Chain::storage_failed`]) when the data
    /// directory's filesystem is below its floor of free space.
    fn check_disk_floor(&self) -> Result<(), AppError> {
        let Some((dir, min_free)) = self.disk_floor.get() else {
            return Ok(());
        };
        let free = match crate::disk::free_bytes(dir) {
            Ok(free) => free,
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "could not read the free space of the data directory");
                return Ok(());
            }
        };
        if free >= *min_free {
            return Ok(());
        }
        let message = format!(
            "No space left on device: {free} bytes free, below the floor of {min_free} bytes (min_free_disk_mb)"
        );
        if self.storage_failure.set(message.clone()).is_ok() {
            tracing::error!(free, min_free, dir = %dir.display(), "the data directory's disk is full; the node stops");
        }
        self.storage_notify.notify_one();
        Err(AppError::Node(message))
    }

    /// The engine's view of an executor failure; a store I/O failure is also recorded for
    /// [`Chain::storage_failed`].
    fn engine_err(&self, e: ExecError) -> AppError {
        if e.is_storage_io() {
            if self.storage_failure.set(e.to_string()).is_ok() {
                tracing::error!(error = %e, "the store cannot write its files; the node stops");
            }
            self.storage_notify.notify_one();
        }
        exec_err(e)
    }

    /// How long a transaction may stay pending before [`Chain::evict_expired_txs`] drops it.
    pub fn pool_max_age(&self) -> Duration {
        self.pool
            .lock()
            .map(|p| p.max_age())
            .unwrap_or(Duration::MAX)
    }

    /// Evicts the transactions pending longer than the pool's age limit, each with its
    /// signer's later ones; returns how many went.
    pub fn evict_expired_txs(&self) -> usize {
        let Ok(mut pool) = self.pool.lock() else {
            return 0;
        };
        let evicted = pool.evict_expired(Instant::now());
        if !evicted.is_empty() {
            for h in &evicted {
                tracing::debug!(tx = %h, "evicted from the pool: pending too long");
            }
            tracing::warn!(
                evicted = evicted.len(),
                max_age_ms = pool.max_age().as_millis() as u64,
                "transactions pending longer than the pool's age limit evicted"
            );
            self.metrics.mempool_size.set(pool.len() as i64);
        }
        evicted.len()
    }

    /// On a node of the sealed-compute committee (it holds the sealing key), a record
    /// commitment is admitted only once the node holds its payload, so a committed record can
    /// always be served to sealed reads and disclosures. Other nodes never hold payloads.
    fn custody_check(&self, tx: &SignedTransaction) -> Result<(), PoolError> {
        if !self.block_exec.has_sealing_key() {
            return Ok(());
        }
        let call = match self.block_exec.effective_call(tx) {
            Ok(Ok(call)) => call,
            // The admission checks report these with their cause.
            Ok(Err(_)) | Err(_) => return Ok(()),
        };
        if let civitas_primitives::tx::Call::CommitRecord { record_hash, .. } = &*call {
            let held = match self.block_exec.vault() {
                Some(v) => v.has_record(record_hash).map_err(|e| {
                    PoolError::Invalid(civitas_ledger::TxError::Format(e.to_string()))
                })?,
                None => false,
            };
            if !held {
                return Err(PoolError::Invalid(civitas_ledger::TxError::PayloadMissing(
                    *record_hash,
                )));
            }
        }
        Ok(())
    }

    /// Admits a transaction to the pool.
    pub fn submit(&self, tx: SignedTransaction) -> Result<Hash, PoolError> {
        // Verify outside the pool lock, so submissions on different threads verify in parallel.
        if !civitas_primitives::crypto::verify_tx(&tx) {
            self.metrics.txs_refused.inc();
            return Err(PoolError::Invalid(civitas_ledger::TxError::BadSignature(
                tx.tx.signer,
            )));
        }
        if let Err(e) = self.custody_check(&tx) {
            self.metrics.txs_refused.inc();
            return Err(e);
        }
        let mut pool = self
            .pool
            .lock()
            .map_err(|_| PoolError::Full("pool lock poisoned"))?;
        // The committed state is read under the pool lock: a block's commit prunes the pool
        // under it, so the pool and the state agree on which transactions are done. (A view
        // taken before the lock could predate a block the pool has since dropped, and refuse
        // the signer's next nonce as a gap.)
        let (_, view) = self
            .block_exec
            .head_view()
            .map_err(|e| PoolError::Invalid(civitas_ledger::TxError::Format(e.to_string())))?;
        let state = CommittedState {
            exec: &self.block_exec,
            view: &view,
        };
        let result = pool.admit(&state, tx, true);
        match &result {
            Ok(hash) => {
                tracing::trace!(tx = %hash, "admitted to the pool");
                self.metrics.txs_admitted.inc();
                self.metrics.mempool_size.set(pool.len() as i64);
                self.work.notify_all();
            }
            Err(_) => {
                self.metrics.txs_refused.inc();
            }
        }
        result
    }

    /// Admits many transactions: signatures are verified as one batch (singly only when the
    /// batch fails, to find the bad ones), then each is admitted in order under one pool lock.
    pub fn submit_batch(&self, txs: Vec<SignedTransaction>) -> Vec<Result<Hash, PoolError>> {
        let refs: Vec<&SignedTransaction> = txs.iter().collect();
        let all_valid = civitas_primitives::crypto::verify_tx_batch(&refs);
        let Ok(mut pool) = self.pool.lock() else {
            return txs
                .iter()
                .map(|_| Err(PoolError::Full("pool lock poisoned")))
                .collect();
        };
        // Under the pool lock, as in `submit`.
        let (_, view) = match self.block_exec.head_view() {
            Ok(v) => v,
            Err(e) => {
                let err = PoolError::Invalid(civitas_ledger::TxError::Format(e.to_string()));
                return txs.iter().map(|_| Err(err.clone())).collect();
            }
        };
        let state = CommittedState {
            exec: &self.block_exec,
            view: &view,
        };
        let mut results = Vec::with_capacity(txs.len());
        for tx in txs {
            // The signature first, then custody: the order `submit` checks them in.
            let result = if !(all_valid || civitas_primitives::crypto::verify_tx(&tx)) {
                Err(PoolError::Invalid(civitas_ledger::TxError::BadSignature(
                    tx.tx.signer,
                )))
            } else if let Err(e) = self.custody_check(&tx) {
                Err(e)
            } else {
                pool.admit(&state, tx, true)
            };
            match &result {
                Ok(_) => self.metrics.txs_admitted.inc(),
                Err(_) => self.metrics.txs_refused.inc(),
            };
            results.push(result);
        }
        self.metrics.mempool_size.set(pool.len() as i64);
        self.work.notify_all();
        results
    }

    fn commit(
        &self,
        executed: ExecutedBlock,
        certificate: CommitCertificate,
    ) -> Result<(), AppError> {
        let started = Instant::now();
        // Receipt `i` carries transaction `i`'s hash.
        let block_txs: Vec<Hash> = executed.receipts.iter().map(|r| r.tx_hash).collect();
        let ntx = block_txs.len();
        let failures: Vec<(Hash, String, String)> = executed
            .receipts
            .iter()
            .zip(&executed.diagnostics)
            .filter_map(|(r, d)| {
                r.error.as_ref().map(|e| {
                    let text = d.clone().unwrap_or_else(|| {
                        civitas_rpc::errors::describe_failure(&e.code, &e.revert_data)
                    });
                    (r.tx_hash, e.code.clone(), text)
                })
            })
            .collect();
        let head = self
            .block_exec
            .commit(executed, certificate)
            .map_err(|e| self.engine_err(e))?;
        if !failures.is_empty() {
            if let Ok(mut d) = self.diagnostics.lock() {
                for (hash, code, text) in failures {
                    tracing::info!(tx = %hash, code = %code, reason = %text, "transaction failed");
                    d.insert(hash, text);
                }
            }
        }
        // Metrics first, then the head: `tx_status` reports a transaction committed only once
        // the head holds its block, so whoever sees it committed also sees the head and the
        // metrics that count it.
        self.metrics.height.set(head.height as i64);
        self.metrics.blocks.inc();
        self.metrics.txs_committed.inc_by(ntx as u64);
        self.metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        if let Ok(mut h) = self.head.write() {
            *h = head.clone();
        }
        let (_, view) = self.block_exec.head_view().map_err(app_err)?;
        if let Ok(mut pool) = self.pool.lock() {
            pool.prune(&block_txs, |a| {
                view.account(a).map(|i| i.nonce).unwrap_or(0)
            });
            self.metrics.mempool_size.set(pool.len() as i64);
        }
        let _ = self.heads.send(head_info(&head));
        tracing::info!(height = head.height, txs = ntx, hash = %head.block_hash, "committed block");
        Ok(())
    }
}

impl Chain {
    /// Whether this node holds the executed block `hash` (proposed or validated in any round
    /// of a height not yet decided).
    pub fn holds_proposal(&self, hash: &Hash) -> bool {
        self.proposed
            .lock()
            .map(|p| p.contains_key(hash))
            .unwrap_or(false)
    }

    /// Keeps `executed` for its height's decision, next to other rounds' blocks; forgets the
    /// blocks of heights below it (decided) and, past [`MAX_CACHED_PROPOSALS`], the oldest
    /// rounds.
    fn keep_proposal(&self, round: u32, executed: ExecutedBlock) {
        let height = executed.block.header.height;
        let hash = executed.block.header.hash();
        if let Ok(mut p) = self.proposed.lock() {
            p.retain(|_, q| q.height >= height);
            p.insert(
                hash,
                Proposal {
                    height,
                    round,
                    executed,
                },
            );
            while p.len() > MAX_CACHED_PROPOSALS {
                let oldest = p
                    .iter()
                    .min_by_key(|(_, q)| (q.height, q.round))
                    .map(|(h, _)| *h);
                match oldest {
                    Some(h) => p.remove(&h),
                    None => break,
                };
            }
        }
    }

    /// This node's explanation of a committed transaction's failure, if it still has one.
    pub fn diagnostic(&self, tx: &Hash) -> Option<String> {
        self.diagnostics
            .lock()
            .ok()
            .and_then(|d| d.text.get(tx).cloned())
    }
}

impl Application for Chain {
    fn start_height(&self) -> Result<u64, AppError> {
        Ok(self.head().height + 1)
    }

    fn validator_set(&self, height: u64) -> Result<Vec<AccountId>, AppError> {
        let (_, view) = self.block_exec.head_view().map_err(app_err)?;
        Executor::validator_set_at(&view, height).map_err(app_err)
    }

    fn block_time_slot(&self, height: u64, now_ms: u64) -> Result<u64, AppError> {
        let parent = self.head();
        if height != parent.height + 1 {
            return Err(AppError::Node(format!(
                "asked for the time slot of {height} on head {}",
                parent.height
            )));
        }
        let parent_ms = self.block_exec.parent_time(&parent).map_err(exec_err)?;
        Ok(self.block_exec.params().block_time_slot(parent_ms, now_ms))
    }

    fn announce_not_before(&self, block: &Block) -> u64 {
        let sealed = block
            .txs
            .iter()
            .any(|t| civitas_ledger::is_sealed_call(&t.tx.call));
        if sealed {
            block
                .header
                .time_ms
                .saturating_add(self.block_exec.params().block_time_ms)
        } else {
            0
        }
    }

    fn propose(
        &self,
        height: u64,
        round: u32,
        time_ms: u64,
        proposer: AccountId,
    ) -> Result<Block, AppError> {
        self.check_disk_floor()?;
        let parent = self.head();
        if height != parent.height + 1 {
            return Err(AppError::Node(format!(
                "asked to propose {height} on head {}",
                parent.height
            )));
        }
        let max = self.block_exec.params().max_block_txs;
        let candidates = self
            .pool
            .lock()
            .map(|p| p.candidates(max))
            .unwrap_or_default();
        let started = Instant::now();
        let civitas_ledger::BlockProposal {
            executed,
            rejected,
            excluded,
        } = self
            .block_exec
            .propose(&parent, time_ms, proposer, candidates)
            .map_err(|e| self.engine_err(e))?;
        self.metrics
            .execute_seconds
            .observe(started.elapsed().as_secs_f64());
        if !rejected.is_empty() || !excluded.is_empty() {
            let mut hashes: Vec<Hash> = rejected.iter().map(|(h, _)| *h).collect();
            for (h, e) in &rejected {
                tracing::debug!(tx = %h, error = %e, "dropped from the pool at proposal");
            }
            for (h, e) in &excluded {
                tracing::warn!(tx = %h, error = %e, "left out of the block and dropped from the pool: its execution fails on every node");
                self.metrics.txs_excluded.inc();
                hashes.push(*h);
            }
            if let Ok(mut pool) = self.pool.lock() {
                pool.prune(&hashes, |_| 0);
            }
        }
        let block = executed.block.clone();
        self.keep_proposal(round, executed);
        Ok(block)
    }

    fn validate(&self, block: &Block, round: u32) -> Result<(), AppError> {
        // A vote, not a state transition: the proposer's time may not run ahead of this
        // validator's clock by more than the allowed drift.
        if block.header.time_ms > now_ms().saturating_add(MAX_CLOCK_DRIFT_MS) {
            return Err(AppError::Invalid(format!(
                "block time {} is more than {MAX_CLOCK_DRIFT_MS} ms ahead of this node's clock",
                block.header.time_ms
            )));
        }
        let hash = block.header.hash();
        if self
            .proposed
            .lock()
            .map(|p| p.contains_key(&hash))
            .unwrap_or(false)
        {
            return Ok(());
        }
        let started = Instant::now();
        // The transactions this node admitted to its pool: their signatures (the very bytes,
        // the hash covers them) were checked at admission and are not checked again.
        let admitted: std::collections::HashSet<Hash> = self
            .pool
            .lock()
            .map(|p| {
                block
                    .txs
                    .iter()
                    .map(|t| t.hash())
                    .filter(|h| p.contains(h))
                    .collect()
            })
            .unwrap_or_default();
        let executed = self
            .block_exec
            .validate_with_verified(&self.head(), block, &admitted)
            .map_err(|e| self.engine_err(e))?;
        self.metrics
            .execute_seconds
            .observe(started.elapsed().as_secs_f64());
        self.keep_proposal(round, executed);
        Ok(())
    }

    fn decided(&self, block: Block, certificate: CommitCertificate) -> Result<(), AppError> {
        self.check_disk_floor()?;
        let validators = self.validator_set(block.header.height)?;
        verify_certificate(&block.header, &certificate, &validators).map_err(|e| {
            AppError::Invalid(format!("refusing block {}: {e}", block.header.height))
        })?;
        let hash = block.header.hash();
        let cached = self.proposed.lock().ok().and_then(|mut p| p.remove(&hash));
        let executed = match cached {
            Some(p) => p.executed,
            None => self
                .block_exec
                .validate(&self.head(), &block)
                .map_err(|e| self.engine_err(e))?,
        };
        let height = executed.block.header.height;
        civitas_crash::crash_point!("decided.before_commit");
        self.commit(executed, certificate)?;
        civitas_crash::crash_point!("decided.after_commit");
        // Other rounds' blocks of the decided height can no longer be decided.
        if let Ok(mut p) = self.proposed.lock() {
            p.retain(|_, q| q.height > height);
        }
        Ok(())
    }

    fn sync_serve(&self, height: u64) -> Result<Option<(Block, CommitCertificate)>, AppError> {
        let store = self.block_exec.store();
        match (
            store.block(height).map_err(app_err)?,
            store.certificate(height).map_err(app_err)?,
        ) {
            (Some(b), Some(c)) => Ok(Some((b, c))),
            _ => Ok(None),
        }
    }

    fn sync_ingest(&self, block: Block, certificate: CommitCertificate) -> Result<(), AppError> {
        // `decided` checks the certificate against the height's validator set.
        self.decided(block, certificate)
    }
}

impl SoloWork for Chain {
    fn pending_work(&self) -> (bool, bool) {
        let n = self.pending();
        let wanted = self.wants_block.load(std::sync::atomic::Ordering::Relaxed);
        (n > 0 || wanted, n >= self.block_exec.params().max_block_txs)
    }

    fn wait_for_work(&self, timeout: Duration) {
        if let Ok(pool) = self.pool.lock() {
            if pool.is_empty() && !self.wants_block.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = self.work.wait_timeout(pool, timeout);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::{dev_genesis, dev_key};
    use civitas_ledger::{ChainParams, Store};
    use civitas_primitives::block::vote_message;
    use civitas_primitives::tx::{Call, Transaction};
    use civitas_runtime::{Vm, VmConfig};

    fn chain(dir: &std::path::Path, limits: PoolLimits) -> Chain {
        let store = Store::open(dir).expect("store");
        let params = ChainParams::new(crate::dev::DEV_CHAIN_ID);
        let a = Executor::new(
            store.clone(),
            Vm::new(VmConfig::default()).expect("vm"),
            params.clone(),
        );
        let b = Executor::new(store, Vm::new(VmConfig::default()).expect("vm"), params);
        a.init_genesis(&dev_genesis()).expect("genesis");
        Chain::new(a, b, limits).expect("chain")
    }

    fn transfer(from: &str, nonce: u64) -> SignedTransaction {
        let k = dev_key(from);
        k.sign_tx(Transaction {
            chain_id: crate::dev::DEV_CHAIN_ID.into(),
            signer: k.account(),
            nonce,
            fuel_limit: 10_000,
            call: Call::Transfer {
                to: dev_key("bob").account(),
                amount: 1,
            },
        })
    }

    /// The dev validators that sign certificates in these tests: three of four, a quorum.
    const SIGNERS: [&str; 3] = ["tax", "social-security", "civil-affairs"];

    fn certify(block: &Block, signers: &[&str]) -> CommitCertificate {
        let hash = block.header.hash();
        let height = block.header.height;
        let vote = vote_message(&block.header.chain_id, height, 0, &hash);
        CommitCertificate {
            height,
            round: 0,
            block_hash: hash,
            signatures: signers
                .iter()
                .map(|name| (dev_key(name).account(), dev_key(name).sign_hash(&vote)))
                .collect(),
        }
    }

    fn produce(c: &Chain) {
        let height = c.start_height().expect("height");
        let time = c.block_time_slot(height, 1_700_000_000_000).expect("slot");
        let block = c
            .propose(height, 0, time, dev_key("tax").account())
            .expect("propose");
        c.validate(&block, 0).expect("validate");
        let cert = certify(&block, &SIGNERS);
        c.decided(block, cert).expect("decided");
    }

    #[test]
    fn a_transaction_whose_execution_fails_everywhere_is_left_out_and_the_chain_goes_on() {
        let dir = tempfile::tempdir().expect("tmp");
        let c = chain(dir.path(), PoolLimits::default());
        let poison = transfer("bank-a", 0);
        c.block_exec.poison_for_tests(poison.hash());
        for tx in [transfer("alice", 0), poison.clone(), transfer("insurer", 0)] {
            c.submit(tx).expect("admitted");
        }
        produce(&c);
        let store = c.block_exec.store();
        let block = store.block(1).expect("read").expect("block 1");
        let hashes: Vec<Hash> = block.txs.iter().map(|t| t.hash()).collect();
        assert_eq!(
            hashes,
            vec![transfer("alice", 0).hash(), transfer("insurer", 0).hash()],
            "the others commit"
        );
        assert!(store.tx_location(&poison.hash()).expect("read").is_none());
        assert_eq!(c.pending(), 0, "the poisoned transaction left the pool");
        assert_eq!(c.metrics.txs_excluded.get(), 1);
        // Later blocks keep committing.
        c.submit(transfer("alice", 1)).expect("admitted");
        produce(&c);
        assert_eq!(c.head().height, 2);
    }

    #[test]
    fn a_validator_tells_an_invalid_block_from_its_own_failure() {
        let (a_dir, b_dir) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let a = chain(a_dir.path(), PoolLimits::default());
        let b = chain(b_dir.path(), PoolLimits::default());
        a.submit(transfer("alice", 0)).expect("admitted");
        let block = a
            .propose(1, 0, 1_700_000_000_000, dev_key("tax").account())
            .expect("propose");
        // A wrong state root is invalid on every node: vote against it.
        let mut tampered = block.clone();
        tampered.header.state_root = Hash([9; 32]);
        let err = b.validate(&tampered, 0).expect_err("wrong state root");
        assert!(!err.is_node_failure(), "{err}");
        // This node failing to read its state says nothing about the block: do not vote.
        b.block_exec.store().fail_reads_for_tests(true);
        let err = b.validate(&block, 0).expect_err("reads fail");
        assert!(err.is_node_failure(), "{err}");
        b.block_exec.store().fail_reads_for_tests(false);
        b.validate(&block, 0)
            .expect("the same block is valid once the node recovers");
    }

    #[test]
    fn a_validator_checks_the_signatures_of_the_transactions_not_in_its_pool() {
        let (a_dir, b_dir) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let a = chain(a_dir.path(), PoolLimits::default());
        let b = chain(b_dir.path(), PoolLimits::default());
        let (admitted, other) = (transfer("alice", 0), transfer("insurer", 0));
        for tx in [admitted.clone(), other.clone()] {
            a.submit(tx).expect("admitted");
        }
        // The validator admitted only the first itself.
        b.submit(admitted).expect("admitted");
        let block = a
            .propose(1, 0, 1_700_000_000_000, dev_key("tax").account())
            .expect("propose");
        assert_eq!(block.txs.len(), 2);
        b.validate(&block, 0).expect("a valid block");
        // The transaction it never saw, its signature replaced by another's: refused as
        // invalid.
        let mut forged = block.clone();
        let at = forged
            .txs
            .iter()
            .position(|t| t.hash() == other.hash())
            .expect("in the block");
        forged.txs[at].signature = transfer("insurer", 1).signature;
        forged.header.tx_root = civitas_primitives::block::tx_root(&forged.txs);
        let err = b.validate(&forged, 0).expect_err("a forged signature");
        assert!(!err.is_node_failure(), "{err}");
        assert!(err.message().contains("signature"), "{err}");
    }

    #[test]
    fn a_node_failure_writes_no_receipt_and_keeps_the_transaction_pending() {
        let dir = tempfile::tempdir().expect("tmp");
        let c = chain(dir.path(), PoolLimits::default());
        let tx = transfer("alice", 0);
        c.submit(tx.clone()).expect("admitted");
        let store = c.block_exec.store().clone();
        store.fail_reads_for_tests(true);
        let height = c.start_height().expect("height");
        let err = c
            .propose(height, 0, 1_700_000_000_000, dev_key("tax").account())
            .expect_err("the node cannot read its state");
        assert!(err.message().contains("injected"), "{err}");
        store.fail_reads_for_tests(false);
        assert!(
            store.tx_location(&tx.hash()).expect("read").is_none(),
            "no receipt"
        );
        assert_eq!(c.head().height, 0, "no block");
        assert_eq!(c.pending(), 1, "the transaction stays pending");
        assert_eq!(
            c.metrics.txs_excluded.get(),
            0,
            "a node failure excludes nothing"
        );
        produce(&c);
        assert_eq!(
            store
                .tx_location(&tx.hash())
                .expect("read")
                .map(|l| l.height),
            Some(1),
            "it commits once the node recovers"
        );
    }

    #[test]
    fn pool_orders_by_nonce_refuses_duplicates_and_gaps_and_prunes_on_commit() {
        let dir = tempfile::tempdir().expect("tmp");
        let c = chain(
            dir.path(),
            PoolLimits {
                max_count: 3,
                max_bytes: 1 << 20,
                max_per_account: 2,
                ..PoolLimits::default()
            },
        );
        c.submit(transfer("alice", 0)).expect("first");
        c.submit(transfer("alice", 1)).expect("next pending nonce");
        assert_eq!(
            c.submit(transfer("alice", 2)),
            Err(PoolError::AccountFull(2)),
            "alice holds her two pending slots"
        );
        assert_eq!(
            c.submit(transfer("alice", 1)),
            Err(PoolError::Duplicate(transfer("alice", 1).hash()))
        );
        assert!(matches!(
            c.submit(transfer("alice", 3)),
            Err(PoolError::Invalid(civitas_ledger::TxError::NonceGap {
                expected: 2,
                got: 3
            }))
        ));
        c.submit(transfer("bank-a", 0)).expect("third");
        assert_eq!(
            c.submit(transfer("bank-b", 0)),
            Err(PoolError::Full("transaction count"))
        );
        assert_eq!(c.pending(), 3);
        produce(&c);
        assert_eq!(c.pending(), 0, "committed transactions leave the pool");
        assert_eq!(c.head().height, 1);
        assert!(matches!(
            c.submit(transfer("alice", 1)),
            Err(PoolError::Invalid(
                civitas_ledger::TxError::StaleNonce { .. }
            ))
        ));
        c.submit(transfer("alice", 2))
            .expect("after commit the next nonce is 2");
    }

    #[test]
    fn a_second_round_at_one_height_keeps_the_first_rounds_block_until_the_height_is_decided() {
        let dir = tempfile::tempdir().expect("tmp");
        let c = chain(dir.path(), PoolLimits::default());
        c.submit(transfer("alice", 0)).expect("submit");
        let height = c.start_height().expect("height");
        let proposer = dev_key("tax").account();
        let genesis_time = dev_genesis().genesis_time_ms;
        let first = c
            .propose(height, 0, genesis_time + 1_000, proposer)
            .expect("round 0");
        // Round 1 proposes again (a later time, so another block) at the same height.
        let second = c
            .propose(height, 1, genesis_time + 2_000, proposer)
            .expect("round 1");
        assert_ne!(first.header.hash(), second.header.hash());
        assert!(
            c.holds_proposal(&first.header.hash()),
            "round 1 dropped round 0's block"
        );
        assert!(c.holds_proposal(&second.header.hash()));
        // The engine decides round 0's block after all: it commits from the cache.
        c.decided(first.clone(), certify(&first, &SIGNERS))
            .expect("decided");
        assert_eq!(c.head().block_hash, first.header.hash());
        assert!(
            !c.holds_proposal(&second.header.hash()),
            "a decided height's other blocks are forgotten"
        );
        assert!(!c.holds_proposal(&first.header.hash()));
    }

    #[test]
    fn a_lagging_node_catches_up_through_sync_and_reaches_the_same_head() {
        let (a_dir, b_dir) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let a = chain(a_dir.path(), PoolLimits::default());
        let b = chain(b_dir.path(), PoolLimits::default());
        for n in 0..3 {
            a.submit(transfer("alice", n)).expect("submit");
            produce(&a);
        }
        for h in b.start_height().expect("h")..=a.head().height {
            let (block, cert) = a.sync_serve(h).expect("serve").expect("stored");
            b.sync_ingest(block, cert).expect("ingest");
        }
        assert_eq!(a.head(), b.head());
        // A block with a forged certificate is refused.
        a.submit(transfer("alice", 3)).expect("submit");
        produce(&a);
        let (block, mut cert) = a.sync_serve(4).expect("serve").expect("stored");
        cert.signatures[0].1[0] ^= 1;
        let err = b
            .sync_ingest(block.clone(), cert)
            .expect_err("forged signature");
        assert!(err.message().contains("does not verify"), "{err}");
        // Two of four validators are not a quorum.
        let short = certify(&block, &SIGNERS[..2]);
        let err = b.sync_ingest(block.clone(), short).expect_err("no quorum");
        assert!(err.message().contains("2 of 4 validators signed"), "{err}");
        // A quorum that includes a key outside the validator set.
        let stranger = certify(&block, &["tax", "social-security", "bob"]);
        let err = b
            .sync_ingest(block.clone(), stranger)
            .expect_err("stranger");
        assert!(err.message().contains("not a validator"), "{err}");
        assert_eq!(b.head().height, 3);
        b.sync_ingest(block.clone(), certify(&block, &SIGNERS))
            .expect("a quorum of the height's validators");
        assert_eq!(b.head(), a.head());
    }

    #[test]
    fn openrpc_lists_exactly_the_served_methods() {
        let dir = tempfile::tempdir().expect("tmp");
        let c = std::sync::Arc::new(chain(dir.path(), PoolLimits::default()));
        let module =
            crate::rpc_server::module(c, crate::config::DEFAULT_QUERY_FUEL_CAP).expect("module");
        let mut served: Vec<&str> = module.method_names().collect();
        served.sort();
        let mut documented: Vec<&str> = civitas_rpc::openrpc::METHODS.iter().map(|m| m.0).collect();
        documented.sort();
        assert_eq!(served, documented);
    }
}

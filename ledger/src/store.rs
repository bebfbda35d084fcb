//! The on-disk store: RocksDB column families for the Jellyfish Merkle tree (nodes and versioned
//! values), blocks, commit certificates, receipts, a transaction index and the head pointer.
//!
//! A block commits in one synced `WriteBatch` (tree nodes, values, block, certificate, receipts,
//! transaction and event indexes, head), so a crash leaves either the old head or the new one, never a mix. State at a
//! height is read through the versioned values, so execution of block `h` reads version `h-1`
//! while the tree for `h` is computed in memory.
//!
//! History is bounded: a store opened with [`StoreConfig::retained_heights`] `= Some(n)` keeps
//! the state of the head and the `n - 1` heights before it provable and deletes what only older
//! versions need (tree nodes made stale by later writes, and values overwritten since), in the
//! same write batch as the block that moves the window, so a crash never leaves a half-pruned
//! version. Reads and proofs below the oldest retained version fail with
//! [`StoreError::Pruned`].
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use civitas_primitives::block::{Block, CommitCertificate, Header, Receipt};
use civitas_primitives::Hash;
use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Version};
use parity_scale_codec::{Decode, Encode};
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, Direction, IteratorMode, Options,
    ReadOptions, SliceTransform, WriteBatch, WriteOptions, DB,
};
use thiserror::Error;

mod events;
pub use events::{EventFilter, EventPosition, IndexedEvent};

const CF_NODES: &str = "jmt_nodes";
const CF_VALUES: &str = "jmt_values";
const CF_BLOCKS: &str = "blocks";
const CF_CERTS: &str = "certificates";
const CF_RECEIPTS: &str = "receipts";
const CF_TX_INDEX: &str = "tx_index";
const CF_META: &str = "meta";
/// What pruning deletes, by the version since which it is stale: `version ‖ 0 ‖ node key`
/// (a tree node no version from `version` on refers to) and `version ‖ 1 ‖ key hash` (a value
/// written at `version`, which makes the key's previous value stale).
const CF_STALE: &str = "jmt_stale";
/// Encrypted record payloads (custodian nodes only), by record hash.
pub(crate) const CF_VAULT: &str = "vault_records";
/// Encrypted sealed-call results, by transaction hash.
pub(crate) const CF_SEALED: &str = "sealed_outputs";
/// The event index (see [`events`]).
const CF_EVENTS: &str = "event_index";
const COLUMN_FAMILIES: [&str; 11] = [
    CF_VAULT,
    CF_SEALED,
    CF_NODES,
    CF_VALUES,
    CF_BLOCKS,
    CF_CERTS,
    CF_RECEIPTS,
    CF_TX_INDEX,
    CF_META,
    CF_STALE,
    CF_EVENTS,
];

const STALE_NODE: u8 = 0;
const STALE_VALUE: u8 = 1;
/// Versions one commit prunes at most, so one block's batch stays small when many versions
/// fall out of the window at once (after a restart with a smaller window).
const MAX_VERSIONS_PRUNED_PER_COMMIT: u64 = 64;

const HEAD_KEY: &[u8] = b"head";
const GENESIS_KEY: &[u8] = b"genesis";
/// The oldest state version still provable (u64, big-endian); absent: 0.
const OLDEST_VERSION_KEY: &[u8] = b"oldest_version";

/// Heights a store keeps provable by default: the head and the 9,999 before it (about eight
/// minutes of history at the default 50 ms cadence, far more when blocks are sparse).
pub const DEFAULT_RETAINED_HEIGHTS: u64 = 10_000;
/// Fewest heights a pruning store keeps: the head and its parent, so that a reader that took
/// the head just before a commit still reads a whole version.
pub const MIN_RETAINED_HEIGHTS: u64 = 2;
/// Default size of the RocksDB block cache shared by the column families (bytes).
pub const DEFAULT_BLOCK_CACHE_BYTES: usize = 256 << 20;

/// How a store keeps its history and how much memory it caches with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// Heights whose state stays provable: the head and the `n - 1` heights before it (at
    /// least [`MIN_RETAINED_HEIGHTS`]). `None` keeps every height (an archive store).
    pub retained_heights: Option<u64>,
    /// Size of the block cache (uncompressed data blocks, index and filter blocks).
    pub block_cache_bytes: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            retained_heights: Some(DEFAULT_RETAINED_HEIGHTS),
            block_cache_bytes: DEFAULT_BLOCK_CACHE_BYTES,
        }
    }
}

impl StoreConfig {
    /// An archive store: every height stays provable.
    pub fn archive() -> Self {
        StoreConfig {
            retained_heights: None,
            ..StoreConfig::default()
        }
    }

    /// A store that keeps the last `n` heights provable.
    pub fn retaining(n: u64) -> Self {
        StoreConfig {
            retained_heights: Some(n),
            ..StoreConfig::default()
        }
    }
}

/// A storage failure: I/O, corruption, or data that does not decode.
#[derive(Debug, Error)]
pub enum StoreError {
    /// RocksDB reported an error.
    #[error("database: {0}")]
    Db(#[from] rocksdb::Error),
    /// Stored bytes do not decode.
    #[error("corrupt {what} in the database")]
    Corrupt {
        /// What failed to decode.
        what: &'static str,
    },
    /// The authenticated tree failed.
    #[error("state tree: {0}")]
    Tree(String),
    /// The state at `version` has been pruned: only versions from `oldest` on are kept.
    #[error(
        "the state at height {version} has been pruned: this node keeps heights {oldest} and above"
    )]
    Pruned {
        /// The version asked for.
        version: Version,
        /// The oldest version still kept.
        oldest: Version,
    },
    /// A retention setting below [`MIN_RETAINED_HEIGHTS`].
    #[error("retained heights must be at least {MIN_RETAINED_HEIGHTS} (or unlimited), not {0}")]
    Retention(u64),
    /// A state read failed because a test asked for it ([`Store::fail_reads_for_tests`]).
    #[cfg(feature = "test-hooks")]
    #[error("state read failed: injected by a test hook")]
    InjectedReadFailure,
}

/// What the store records about the newest committed block.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Head {
    /// Height (0 = genesis only).
    pub height: u64,
    /// Hash of the head header (zeros at genesis).
    pub block_hash: Hash,
    /// State root at the head.
    pub state_root: Hash,
}

/// Where a transaction was committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
}

/// Everything one block writes, prepared before the commit.
pub struct BlockWrite {
    /// The block.
    pub block: Block,
    /// Its certificate.
    pub certificate: CommitCertificate,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
    /// Tree nodes and values for the new version.
    pub tree: TreeUpdateBatch,
    /// The new head.
    pub head: Head,
}

/// The RocksDB store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Arc<DB>,
    /// Heights kept provable (`None`: all).
    retained_heights: Option<u64>,
    /// The oldest version still provable: what the meta column says, cached.
    oldest: Arc<AtomicU64>,
    /// Whether state reads fail (feature `test-hooks`): shared by this store's clones only.
    #[cfg(feature = "test-hooks")]
    fail_reads: Arc<std::sync::atomic::AtomicBool>,
}

fn value_key(key_hash: &KeyHash, version: Version) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..32].copy_from_slice(&key_hash.0);
    k[32..].copy_from_slice(&version.to_be_bytes());
    k
}

fn corrupt(what: &'static str) -> StoreError {
    StoreError::Corrupt { what }
}

impl Store {
    /// Opens (or creates) the store in `dir` with the default [`StoreConfig`].
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, StoreConfig::default())
    }

    /// Opens (or creates) the store in `dir`.
    pub fn open_with(dir: &Path, config: StoreConfig) -> Result<Store, StoreError> {
        if let Some(n) = config.retained_heights {
            if n < MIN_RETAINED_HEIGHTS {
                return Err(StoreError::Retention(n));
            }
        }
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(2);
        let cache = Cache::new_lru_cache(config.block_cache_bytes)?;
        let cfs = COLUMN_FAMILIES
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(*n, cf_options(n, &cache)));
        let db = DB::open_cf_descriptors(&opts, dir, cfs)?;
        let store = Store {
            db: Arc::new(db),
            retained_heights: config.retained_heights,
            oldest: Arc::default(),
            #[cfg(feature = "test-hooks")]
            fail_reads: Arc::default(),
        };
        let oldest = match store.db.get_cf(store.cf(CF_META)?, OLDEST_VERSION_KEY)? {
            None => 0,
            Some(b) => u64::from_be_bytes(
                b.as_slice()
                    .try_into()
                    .map_err(|_| corrupt("oldest version"))?,
            ),
        };
        store.oldest.store(oldest, Ordering::SeqCst);
        store.backfill_event_index()?;
        Ok(store)
    }

    /// The oldest state version this store can still read and prove.
    pub fn oldest_version(&self) -> Version {
        self.oldest.load(Ordering::SeqCst)
    }

    /// Fails with [`StoreError::Pruned`] if the state at `version` has been pruned.
    pub fn check_retained(&self, version: Version) -> Result<(), StoreError> {
        let oldest = self.oldest_version();
        if version < oldest {
            return Err(StoreError::Pruned { version, oldest });
        }
        Ok(())
    }

    /// Tree nodes on disk (a full scan): how tests and benchmarks see pruning work.
    #[cfg(feature = "test-hooks")]
    pub fn tree_node_count(&self) -> Result<u64, StoreError> {
        self.count_entries(CF_NODES)
    }

    /// Versioned state values on disk (a full scan), every version of every key counted.
    #[cfg(feature = "test-hooks")]
    pub fn state_value_count(&self) -> Result<u64, StoreError> {
        self.count_entries(CF_VALUES)
    }

    /// Records in the vault on disk (a full scan): what a crash test counts for loss or excess.
    #[cfg(feature = "test-hooks")]
    pub fn vault_record_count(&self) -> Result<u64, StoreError> {
        self.count_entries(CF_VAULT)
    }

    #[cfg(feature = "test-hooks")]
    fn count_entries(&self, cf: &str) -> Result<u64, StoreError> {
        let mut n = 0;
        let mut opts = ReadOptions::default();
        opts.set_total_order_seek(true);
        for item in self
            .db
            .iterator_cf_opt(self.cf(cf)?, opts, IteratorMode::Start)
        {
            item?;
            n += 1;
        }
        Ok(n)
    }

    /// Compacts every column family fully, so that deleted entries leave the files: what a
    /// benchmark measures as the live size (RocksDB otherwise reclaims them as it compacts).
    #[cfg(feature = "test-hooks")]
    pub fn compact_for_tests(&self) -> Result<(), StoreError> {
        for name in COLUMN_FAMILIES {
            self.db
                .compact_range_cf(self.cf(name)?, None::<&[u8]>, None::<&[u8]>);
        }
        Ok(())
    }

    /// Writes the memtables to disk, so that the files in the store's directory hold all it
    /// has committed (benchmarks measure bytes on disk this way).
    pub fn flush(&self) -> Result<(), StoreError> {
        for name in COLUMN_FAMILIES {
            self.db.flush_cf(self.cf(name)?)?;
        }
        Ok(())
    }

    /// Makes every state read (tree nodes and values) of this store and its clones fail with
    /// [`StoreError::InjectedReadFailure`], or work again: failure injection for tests.
    #[cfg(feature = "test-hooks")]
    pub fn fail_reads_for_tests(&self, fail: bool) {
        self.fail_reads
            .store(fail, std::sync::atomic::Ordering::SeqCst);
    }

    /// An injected read failure, if a test asked for one.
    fn check_reads(&self) -> Result<(), StoreError> {
        #[cfg(feature = "test-hooks")]
        if self.fail_reads.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::InjectedReadFailure);
        }
        Ok(())
    }

    fn cf(&self, name: &str) -> Result<&rocksdb::ColumnFamily, StoreError> {
        self.db.cf_handle(name).ok_or(corrupt("column family"))
    }

    /// The committed head, if genesis has been written.
    pub fn head(&self) -> Result<Option<Head>, StoreError> {
        match self.db.get_cf(self.cf(CF_META)?, HEAD_KEY)? {
            None => Ok(None),
            Some(b) => Head::decode(&mut &b[..])
                .map(Some)
                .map_err(|_| corrupt("head")),
        }
    }

    /// The genesis document this store was created from.
    pub fn genesis_doc(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(CF_META)?, GENESIS_KEY)?)
    }

    /// The value of `key_hash` as of `version`.
    pub fn value_at(
        &self,
        key_hash: KeyHash,
        version: Version,
    ) -> Result<Option<OwnedValue>, StoreError> {
        self.check_reads()?;
        self.check_retained(version)?;
        let cf = self.cf(CF_VALUES)?;
        let value = self.newest_value_entry(cf, &key_hash, version, |_, v| {
            Option::<Vec<u8>>::decode(&mut &v[..]).map_err(|_| corrupt("state value"))
        })?;
        // A prune that committed during the read may have taken the entry it looked for.
        self.check_retained(version)?;
        Ok(value.flatten())
    }

    /// `read(key, value)` of the newest entry of `key_hash` at `version` or before, if any: one
    /// seek, the entry read in place.
    fn newest_value_entry<T>(
        &self,
        cf: &rocksdb::ColumnFamily,
        key_hash: &KeyHash,
        version: Version,
        read: impl FnOnce(&[u8], &[u8]) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut iter = self.db.raw_iterator_cf(cf);
        iter.seek_for_prev(value_key(key_hash, version));
        match (iter.key(), iter.value()) {
            (Some(k), Some(v)) if k.len() == 40 && k[..32] == key_hash.0 => read(k, v).map(Some),
            _ => {
                iter.status()?;
                Ok(None)
            }
        }
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        self.get_decoded(CF_BLOCKS, &height.to_be_bytes(), "block")
    }

    /// The header of the block at `height`, without decoding its transactions (a block is
    /// stored as its header followed by them).
    pub fn block_header(&self, height: u64) -> Result<Option<Header>, StoreError> {
        match self
            .db
            .get_pinned_cf(self.cf(CF_BLOCKS)?, height.to_be_bytes())?
        {
            None => Ok(None),
            Some(b) => Header::decode(&mut &b[..])
                .map(Some)
                .map_err(|_| corrupt("block")),
        }
    }

    /// The commit certificate of the block at `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>, StoreError> {
        self.get_decoded(CF_CERTS, &height.to_be_bytes(), "certificate")
    }

    /// The receipts of the block at `height`.
    pub fn receipts(&self, height: u64) -> Result<Option<Vec<Receipt>>, StoreError> {
        self.get_decoded(CF_RECEIPTS, &height.to_be_bytes(), "receipts")
    }

    /// Where a transaction was committed.
    pub fn tx_location(&self, tx_hash: &Hash) -> Result<Option<TxLocation>, StoreError> {
        self.get_decoded(CF_TX_INDEX, &tx_hash.0, "transaction index")
    }

    fn get_decoded<T: Decode>(
        &self,
        cf: &str,
        key: &[u8],
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        match self.db.get_cf(self.cf(cf)?, key)? {
            None => Ok(None),
            Some(b) => T::decode(&mut &b[..]).map(Some).map_err(|_| corrupt(what)),
        }
    }

    fn put_tree(&self, batch: &mut WriteBatch, nodes: &NodeBatch) -> Result<(), StoreError> {
        let cf_nodes = self.cf(CF_NODES)?;
        let cf_values = self.cf(CF_VALUES)?;
        let mut key = Vec::with_capacity(64);
        let mut value = Vec::with_capacity(1024);
        for (node_key, node) in nodes.nodes() {
            key.clear();
            value.clear();
            borsh::to_writer(&mut key, node_key).map_err(|e| StoreError::Tree(e.to_string()))?;
            borsh::to_writer(&mut value, node).map_err(|e| StoreError::Tree(e.to_string()))?;
            batch.put_cf(cf_nodes, &key, &value);
        }
        for ((version, key_hash), v) in nodes.values() {
            value.clear();
            v.encode_to(&mut value);
            batch.put_cf(cf_values, value_key(key_hash, *version), &value);
        }
        Ok(())
    }

    /// Records what version `version` made stale, for a later prune (archive stores record
    /// nothing: they never prune).
    fn put_stale_index(
        &self,
        batch: &mut WriteBatch,
        version: Version,
        tree: &TreeUpdateBatch,
    ) -> Result<(), StoreError> {
        if self.retained_heights.is_none() {
            return Ok(());
        }
        let cf = self.cf(CF_STALE)?;
        let mut key = Vec::with_capacity(64);
        for stale in &tree.stale_node_index_batch {
            key.clear();
            key.extend_from_slice(&stale.stale_since_version.to_be_bytes());
            key.push(STALE_NODE);
            borsh::to_writer(&mut key, &stale.node_key)
                .map_err(|e| StoreError::Tree(e.to_string()))?;
            batch.put_cf(cf, &key, []);
        }
        for (v, key_hash) in tree.node_batch.values().keys() {
            if *v != version {
                continue;
            }
            key.clear();
            key.extend_from_slice(&v.to_be_bytes());
            key.push(STALE_VALUE);
            key.extend_from_slice(&key_hash.0);
            batch.put_cf(cf, &key, []);
        }
        Ok(())
    }

    /// Adds to `batch` the deletions that move the oldest retained version towards
    /// `head - retained + 1`; returns the new oldest version if it moves.
    fn prune(&self, batch: &mut WriteBatch, head: Version) -> Result<Option<Version>, StoreError> {
        let Some(retained) = self.retained_heights else {
            return Ok(None);
        };
        let target = head.saturating_sub(retained - 1);
        let oldest = self.oldest_version();
        if target <= oldest {
            return Ok(None);
        }
        let new_oldest = target.min(oldest + MAX_VERSIONS_PRUNED_PER_COMMIT);
        let cf_stale = self.cf(CF_STALE)?;
        let cf_nodes = self.cf(CF_NODES)?;
        let cf_values = self.cf(CF_VALUES)?;
        // Everything stale since a version in (oldest, new_oldest]: no version from
        // `new_oldest` on needs it. (Entries stale since `oldest` or before went earlier.)
        let mut opts = ReadOptions::default();
        opts.set_iterate_upper_bound((new_oldest + 1).to_be_bytes());
        let start = (oldest + 1).to_be_bytes();
        let iter = self.db.iterator_cf_opt(
            cf_stale,
            opts,
            IteratorMode::From(&start, Direction::Forward),
        );
        for item in iter {
            let (k, _) = item?;
            match k.get(8) {
                Some(&STALE_NODE) => batch.delete_cf(cf_nodes, &k[9..]),
                Some(&STALE_VALUE) if k.len() == 9 + 32 => {
                    let since =
                        u64::from_be_bytes(k[..8].try_into().map_err(|_| corrupt("stale index"))?);
                    let mut key_hash = [0u8; 32];
                    key_hash.copy_from_slice(&k[9..]);
                    // The value this write replaced, if any, is needed by no kept version.
                    if let Some(previous) =
                        self.previous_value_key(cf_values, &KeyHash(key_hash), since)?
                    {
                        batch.delete_cf(cf_values, previous);
                    }
                }
                _ => return Err(corrupt("stale index")),
            }
            batch.delete_cf(cf_stale, &k);
        }
        batch.put_cf(
            self.cf(CF_META)?,
            OLDEST_VERSION_KEY,
            new_oldest.to_be_bytes(),
        );
        Ok(Some(new_oldest))
    }

    /// The key of the newest value of `key_hash` written before `version`.
    fn previous_value_key(
        &self,
        cf_values: &rocksdb::ColumnFamily,
        key_hash: &KeyHash,
        version: Version,
    ) -> Result<Option<[u8; 40]>, StoreError> {
        let Some(before) = version.checked_sub(1) else {
            return Ok(None);
        };
        self.newest_value_entry(cf_values, key_hash, before, |k, _| {
            let mut out = [0u8; 40];
            out.copy_from_slice(k);
            Ok(out)
        })
    }

    /// Writes the genesis state (version 0) and head. Fails if the store is not empty.
    pub fn commit_genesis(
        &self,
        genesis_doc: &[u8],
        tree: &TreeUpdateBatch,
        state_root: Hash,
    ) -> Result<Head, StoreError> {
        let mut batch = WriteBatch::default();
        self.put_tree(&mut batch, &tree.node_batch)?;
        let head = Head {
            height: 0,
            block_hash: Hash::default(),
            state_root,
        };
        batch.put_cf(self.cf(CF_META)?, GENESIS_KEY, genesis_doc);
        batch.put_cf(self.cf(CF_META)?, HEAD_KEY, head.encode());
        civitas_crash::crash_point!("commit_genesis.before_write");
        self.write_synced(batch)?;
        civitas_crash::crash_point!("commit_genesis.after_write");
        Ok(head)
    }

    /// Commits a block atomically and durably, with the pruning it makes due.
    pub fn commit_block(&self, w: &BlockWrite) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        self.put_tree(&mut batch, &w.tree.node_batch)?;
        self.put_stale_index(&mut batch, w.head.height, &w.tree)?;
        let h = w.head.height.to_be_bytes();
        batch.put_cf(self.cf(CF_BLOCKS)?, h, w.block.encode());
        batch.put_cf(self.cf(CF_CERTS)?, h, w.certificate.encode());
        batch.put_cf(self.cf(CF_RECEIPTS)?, h, w.receipts.encode());
        self.index_events(&mut batch, w.head.height, &w.receipts)?;
        let index_cf = self.cf(CF_TX_INDEX)?;
        // Receipt `i` is transaction `i`'s and carries its hash (the executor makes them so):
        // the index is written from them rather than hashing every transaction again.
        debug_assert_eq!(w.receipts.len(), w.block.txs.len());
        for (i, receipt) in w.receipts.iter().enumerate() {
            let loc = TxLocation {
                height: w.head.height,
                index: i as u32,
            };
            batch.put_cf(index_cf, receipt.tx_hash.0, loc.encode());
        }
        batch.put_cf(self.cf(CF_META)?, HEAD_KEY, w.head.encode());
        if let Some(oldest) = self.prune(&mut batch, w.head.height)? {
            // Declared before the deletions land, so that a reader who checks the window after
            // reading (as `value_at` and proofs do) never takes a half-deleted version for a
            // kept one. Should the write fail, those versions are refused though still on disk.
            self.oldest.fetch_max(oldest, Ordering::SeqCst);
            tracing::debug!(oldest, head = w.head.height, "pruning stale state");
        }
        civitas_crash::crash_point!("commit_block.before_write");
        self.write_synced(batch)?;
        civitas_crash::crash_point!("commit_block.after_write");
        Ok(())
    }

    /// A node-local value (vault column families).
    pub(crate) fn get_private(&self, cf: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(cf)?, key)?)
    }

    /// Writes node-local values durably.
    pub(crate) fn put_private(
        &self,
        cf: &str,
        entries: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        let handle = self.cf(cf)?;
        for (k, v) in entries {
            batch.put_cf(handle, k, v);
        }
        self.write_synced(batch)
    }

    fn write_synced(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut opts = WriteOptions::default();
        opts.set_sync(true);
        self.db.write_opt(batch, &opts)?;
        Ok(())
    }
}

/// Column family options: a bloom filter for the point reads of tree nodes, prefix blooms on
/// the key hash for value seeks, one block cache for all.
fn cf_options(name: &str, cache: &Cache) -> Options {
    let mut block = BlockBasedOptions::default();
    block.set_block_cache(cache);
    block.set_cache_index_and_filter_blocks(true);
    block.set_pin_l0_filter_and_index_blocks_in_cache(true);
    if name == CF_NODES || name == CF_VALUES {
        block.set_bloom_filter(10.0, false);
    }
    let mut opts = Options::default();
    if name == CF_VALUES {
        // Values are read by seeking to the newest version of one key hash: the prefix bloom
        // skips the files that hold no version of it. (Iterators over this column are then
        // only defined within one key hash, which is all its readers look at.)
        opts.set_prefix_extractor(SliceTransform::create_fixed_prefix(32));
        opts.set_memtable_prefix_bloom_ratio(0.1);
    }
    opts.set_block_based_table_factory(&block);
    opts
}

impl TreeReader for Store {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.check_reads()?;
        let k = borsh::to_vec(node_key)?;
        match self.db.get_pinned_cf(self.cf(CF_NODES)?, k)? {
            None => Ok(None),
            Some(b) => Ok(Some(borsh::from_slice(&b)?)),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.value_at(key_hash, max_version)?)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only used when restoring a tree from chunks, which this store does not do.
        Ok(None)
    }
}

//! The on-disk store: RocksDB column families for the Jellyfish Merkle tree (nodes and versioned
//! values), blocks, commit certificates, receipts, a transaction index and the head pointer.
//!
//! A block commits in one synced `WriteBatch` (tree nodes, values, block, certificate, receipts,
//! index, head), so a crash leaves either the old head or the new one, never a mix. State at a
//! height is read through the versioned values, so execution of block `h` reads version `h-1`
//! while the tree for `h` is computed in memory.
use std::path::Path;
use std::sync::Arc;

use civitas_primitives::block::{Block, CommitCertificate, Receipt};
use civitas_primitives::Hash;
use jmt::storage::{LeafNode, Node, NodeBatch, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Version};
use parity_scale_codec::{Decode, Encode};
use rocksdb::{
    ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB,
};
use thiserror::Error;

const CF_NODES: &str = "jmt_nodes";
const CF_VALUES: &str = "jmt_values";
const CF_BLOCKS: &str = "blocks";
const CF_CERTS: &str = "certificates";
const CF_RECEIPTS: &str = "receipts";
const CF_TX_INDEX: &str = "tx_index";
const CF_META: &str = "meta";
/// Encrypted record payloads (custodian nodes only), by record hash.
pub(crate) const CF_VAULT: &str = "vault_records";
/// Encrypted sealed-call results, by transaction hash.
pub(crate) const CF_SEALED: &str = "sealed_outputs";
const COLUMN_FAMILIES: [&str; 9] = [
    CF_VAULT,
    CF_SEALED,
    CF_NODES,
    CF_VALUES,
    CF_BLOCKS,
    CF_CERTS,
    CF_RECEIPTS,
    CF_TX_INDEX,
    CF_META,
];

const HEAD_KEY: &[u8] = b"head";
const GENESIS_KEY: &[u8] = b"genesis";

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
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let cfs = COLUMN_FAMILIES
            .iter()
            .map(|n| ColumnFamilyDescriptor::new(*n, Options::default()));
        let db = DB::open_cf_descriptors(&opts, dir, cfs)?;
        Ok(Store {
            db: Arc::new(db),
            #[cfg(feature = "test-hooks")]
            fail_reads: Arc::default(),
        })
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
        let cf = self.cf(CF_VALUES)?;
        let seek = value_key(&key_hash, version);
        let mut iter = self
            .db
            .iterator_cf(cf, IteratorMode::From(&seek, Direction::Reverse));
        match iter.next() {
            Some(Ok((k, v))) if k.len() == 40 && k[..32] == key_hash.0 => {
                Option::<Vec<u8>>::decode(&mut &v[..]).map_err(|_| corrupt("state value"))
            }
            Some(Err(e)) => Err(e.into()),
            _ => Ok(None),
        }
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        self.get_decoded(CF_BLOCKS, &height.to_be_bytes(), "block")
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
        for (key, node) in nodes.nodes() {
            let k = borsh::to_vec(key).map_err(|e| StoreError::Tree(e.to_string()))?;
            let v = borsh::to_vec(node).map_err(|e| StoreError::Tree(e.to_string()))?;
            batch.put_cf(cf_nodes, k, v);
        }
        for ((version, key_hash), value) in nodes.values() {
            batch.put_cf(cf_values, value_key(key_hash, *version), value.encode());
        }
        Ok(())
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
        self.write_synced(batch)?;
        Ok(head)
    }

    /// Commits a block atomically and durably.
    pub fn commit_block(&self, w: &BlockWrite) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        self.put_tree(&mut batch, &w.tree.node_batch)?;
        let h = w.head.height.to_be_bytes();
        batch.put_cf(self.cf(CF_BLOCKS)?, h, w.block.encode());
        batch.put_cf(self.cf(CF_CERTS)?, h, w.certificate.encode());
        batch.put_cf(self.cf(CF_RECEIPTS)?, h, w.receipts.encode());
        let index_cf = self.cf(CF_TX_INDEX)?;
        for (i, tx) in w.block.txs.iter().enumerate() {
            let loc = TxLocation {
                height: w.head.height,
                index: i as u32,
            };
            batch.put_cf(index_cf, tx.hash().0, loc.encode());
        }
        batch.put_cf(self.cf(CF_META)?, HEAD_KEY, w.head.encode());
        self.write_synced(batch)
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

impl TreeReader for Store {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.check_reads()?;
        let k = borsh::to_vec(node_key)?;
        match self.db.get_cf(self.cf(CF_NODES)?, k)? {
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

//! A block's state-tree update: the block's writes applied to the tree of its parent in one
//! pass, each touched node rebuilt and hashed once for the whole block rather than once per
//! key. The tree, and so its root, depends only on the set of keys and values, not on how they
//! were inserted; blocks that delete keys take the key-by-key path, since the tree's one-pass
//! update takes no deletions.
//!
//! Committed tree nodes are kept in memory across blocks ([`KeptNodes`]): a node key names a
//! version and a path, and a committed node under it never changes, so a kept node is what
//! the store would return. Only nodes read from the store or written by a committed block are
//! kept; a proposal's own nodes (committed or not) are not, until its block commits.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use civitas_primitives::Hash;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, OwnedValue, Version};

use super::ExecError;
use crate::state::{key_hash, Sha3Hasher};
use crate::store::Store;

/// Most committed nodes kept (about a few blocks' worth of touched paths); past it the kept
/// nodes are dropped and the store serves them again.
const KEPT_NODES_MAX: usize = 50_000;

/// Committed state-tree nodes by key, shared by an executor's clones.
#[derive(Clone, Default)]
pub(super) struct KeptNodes(Arc<Mutex<HashMap<NodeKey, Node>>>);

impl KeptNodes {
    fn get(&self, key: &NodeKey) -> Option<Node> {
        self.0.lock().ok()?.get(key).cloned()
    }

    fn keep(&self, nodes: impl IntoIterator<Item = (NodeKey, Node)>) {
        let Ok(mut kept) = self.0.lock() else {
            return;
        };
        kept.extend(nodes);
        if kept.len() > KEPT_NODES_MAX {
            kept.clear();
        }
    }

    /// Keeps the nodes of a block the store has just committed.
    pub(super) fn keep_committed(&self, tree: &TreeUpdateBatch) {
        self.keep(
            tree.node_batch
                .nodes()
                .iter()
                .map(|(k, n)| (k.clone(), n.clone())),
        );
    }
}

/// The store's committed tree, read through the kept nodes.
pub(super) struct KeptNodesReader<'a> {
    store: &'a Store,
    kept: &'a KeptNodes,
}

impl<'a> KeptNodesReader<'a> {
    pub(super) fn new(store: &'a Store, kept: &'a KeptNodes) -> Self {
        KeptNodesReader { store, kept }
    }
}

impl TreeReader for KeptNodesReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        if let Some(node) = self.kept.get(node_key) {
            return Ok(Some(node));
        }
        let node = self.store.get_node_option(node_key)?;
        if let Some(node) = &node {
            self.kept.keep([(node_key.clone(), node.clone())]);
        }
        Ok(node)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.store.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.store.get_rightmost_leaf()
    }
}

/// The tree for `version`: `writes` (raw keys; `None` deletes) applied to the tree of
/// `version - 1` that `reader` holds. Nothing is written.
pub fn tree_update<R: TreeReader>(
    reader: &R,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    version: u64,
) -> Result<(Hash, TreeUpdateBatch), ExecError> {
    let tree = JellyfishMerkleTree::<_, Sha3Hasher>::new(reader);
    let tree_error = |e: anyhow::Error| ExecError::Tree(e.to_string());
    if !writes.is_empty() && writes.values().all(Option::is_some) {
        let puts: Vec<(jmt::KeyHash, Vec<u8>)> = writes
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (key_hash(&k), v)))
            .collect();
        let (roots, batch) = tree
            .batch_put_value_sets(vec![puts], None, version)
            .map_err(tree_error)?;
        let root = roots
            .last()
            .ok_or_else(|| ExecError::Tree("the tree update gave no root".into()))?;
        return Ok((Hash(root.0), batch));
    }
    let (root, batch) = tree
        .put_value_set(writes.into_iter().map(|(k, v)| (key_hash(&k), v)), version)
        .map_err(tree_error)?;
    Ok((Hash(root.0), batch))
}

#[cfg(test)]
mod tests {
    //! The one-pass update against the tree's own key-by-key update, on in-memory trees.
    use std::sync::RwLock;

    use super::*;

    /// A tree in memory: nodes, and versioned values.
    #[derive(Default)]
    struct MemoryTree {
        nodes: RwLock<BTreeMap<NodeKey, Node>>,
        values: RwLock<BTreeMap<(KeyHash, Version), Option<OwnedValue>>>,
    }

    impl MemoryTree {
        fn write(&self, batch: &TreeUpdateBatch) {
            let mut nodes = self.nodes.write().expect("lock");
            for (k, n) in batch.node_batch.nodes() {
                nodes.insert(k.clone(), n.clone());
            }
            let mut values = self.values.write().expect("lock");
            for ((version, key), value) in batch.node_batch.values() {
                values.insert((*key, *version), value.clone());
            }
        }
    }

    impl TreeReader for MemoryTree {
        fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
            Ok(self.nodes.read().expect("lock").get(node_key).cloned())
        }
        fn get_value_option(
            &self,
            max_version: Version,
            key_hash: KeyHash,
        ) -> anyhow::Result<Option<OwnedValue>> {
            let values = self.values.read().expect("lock");
            Ok(values
                .range((key_hash, 0)..=(key_hash, max_version))
                .next_back()
                .and_then(|(_, v)| v.clone()))
        }
        fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
            Ok(None)
        }
    }

    /// A deterministic stream of numbers (xorshift), so the sets are the same on every run.
    struct Numbers(u64);

    impl Numbers {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below
        }
    }

    #[test]
    fn a_blocks_writes_in_one_pass_give_the_key_by_key_root_and_provable_values() {
        let (one_pass, by_key) = (MemoryTree::default(), MemoryTree::default());
        let mut n = Numbers(0x5eed_cafe_f00d);
        let mut latest: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for version in 0..40u64 {
            let mut writes = BTreeMap::new();
            // Every fourth block deletes some keys (the key-by-key path); the others only put,
            // new keys and overwrites alike; every fifth block writes one or two keys, the
            // others up to 300.
            let size = 1 + n.next(if version % 5 == 0 { 2 } else { 300 });
            for _ in 0..size {
                let key = format!("k/{}", n.next(2_000)).into_bytes();
                let value = if version % 4 == 3 && n.next(3) == 0 {
                    None
                } else {
                    Some(format!("v{version}/{}", n.next(1 << 20)).into_bytes())
                };
                writes.insert(key, value);
            }
            let (root, batch) = tree_update(&one_pass, writes.clone(), version).expect("update");
            one_pass.write(&batch);
            let tree = JellyfishMerkleTree::<_, Sha3Hasher>::new(&by_key);
            let (expected, batch) = tree
                .put_value_set(
                    writes.iter().map(|(k, v)| (key_hash(k), v.clone())),
                    version,
                )
                .expect("update");
            by_key.write(&batch);
            assert_eq!(root, Hash(expected.0), "root of version {version}");
            latest.extend(writes);
        }
        // Every key's latest value (or absence) is provable against the last root.
        let tree = JellyfishMerkleTree::<_, Sha3Hasher>::new(&one_pass);
        let root = tree.get_root_hash(39).expect("root");
        for (key, value) in &latest {
            let (found, proof) = tree.get_with_proof(key_hash(key), 39).expect("proof");
            assert_eq!(&found, value, "{}", String::from_utf8_lossy(key));
            proof
                .verify(root, key_hash(key), found.as_deref())
                .expect("verifies");
        }
    }
}

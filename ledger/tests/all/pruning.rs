//! Bounded history: a store that keeps the last `n` heights proves its state at those heights
//! against their headers, refuses older heights with a typed error, deletes what only pruned
//! heights needed, survives a restart, and computes the same roots as an archive store; and the
//! batched tree update that blocks use builds the same tree as key-by-key updates.
use civitas_ledger::proof::{prove, verify_state_proof};
use civitas_ledger::state::{key_hash, keys, AccountInfo};
use civitas_ledger::{ChainParams, ExecError, StoreConfig, StoreError};
use parity_scale_codec::Decode;

use crate::common::*;

/// Heights the pruning stores of these tests keep.
const RETAINED: u64 = 3;

fn pruning_node(dir: &std::path::Path) -> Node {
    Node::open_store(
        dir,
        ChainParams::new(CHAIN),
        StoreConfig::retaining(RETAINED),
    )
}

fn archive_node(dir: &std::path::Path) -> Node {
    Node::open_store(dir, ChainParams::new(CHAIN), StoreConfig::archive())
}

/// Block `i`'s transactions (bank's nonce `i - 1`): the same writes every block.
fn block_txs(i: u64) -> Vec<civitas_primitives::tx::SignedTransaction> {
    vec![transfer("bank", i - 1, "alice", 1)]
}

/// Proves alice's account at `height`, checks the proof against that height's header and
/// returns her balance there.
fn proven_alice_balance(node: &Node, height: u64) -> Result<u128, ExecError> {
    let alice_key = keys::account(&key("alice").account());
    let proof = prove(node.exec.store(), &alice_key, height)?;
    let header = node
        .exec
        .store()
        .block(height)
        .expect("read")
        .expect("block")
        .header;
    verify_state_proof(&header.state_root, &proof).expect("a retained height's proof verifies");
    let info = AccountInfo::decode(&mut &proof.value.expect("alice exists")[..]).expect("decode");
    Ok(info.balance)
}

#[test]
fn proofs_at_retained_heights_verify_and_pruned_heights_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = pruning_node(dir.path());
    for i in 1..=8 {
        assert!(node.produce(block_txs(i)).is_empty());
    }
    // Heights 6, 7 and 8 stay: alice holds 1,000 + one credit per block.
    let oldest = 8 - RETAINED + 1;
    assert_eq!(node.exec.store().oldest_version(), oldest);
    for h in oldest..=8 {
        assert_eq!(
            proven_alice_balance(&node, h).expect("retained"),
            1_000 + h as u128
        );
    }
    for h in 0..oldest {
        match proven_alice_balance(&node, h) {
            Err(ExecError::Store(StoreError::Pruned { version, oldest: o })) => {
                assert_eq!((version, o), (h, oldest));
            }
            other => panic!("height {h}: expected a pruned-height error, got {other:?}"),
        }
    }
    // Plain reads below the window are refused too, rather than answered from what is left.
    let alice = key_hash(&keys::account(&key("alice").account()));
    assert!(matches!(
        node.exec.store().value_at(alice, oldest - 1),
        Err(StoreError::Pruned { .. })
    ));
}

#[test]
fn pruning_deletes_stale_nodes_and_values_so_the_store_stops_growing() {
    let (pruned_dir, archive_dir) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let mut pruned = pruning_node(pruned_dir.path());
    let mut archive = archive_node(archive_dir.path());
    let counts = |n: &Node| {
        let store = n.exec.store();
        (
            store.tree_node_count().expect("count nodes"),
            store.state_value_count().expect("count values"),
        )
    };
    let mut at_10 = (0, 0);
    for i in 1..=20 {
        assert!(pruned.produce(block_txs(i)).is_empty());
        assert!(archive.produce(block_txs(i)).is_empty());
        if i == 10 {
            at_10 = counts(&pruned);
            assert!(counts(&archive).0 > at_10.0, "the archive keeps more nodes");
        }
    }
    // Every block writes the same keys (bank, alice, the height), so once the window is full
    // the pruning store holds exactly as many nodes and values after each block...
    assert_eq!(counts(&pruned), at_10, "the pruning store stopped growing");
    // ...while the archive keeps every version's.
    let (archive_nodes, archive_values) = counts(&archive);
    assert!(
        archive_nodes > at_10.0 + 10,
        "archive nodes {archive_nodes}"
    );
    assert!(
        archive_values > at_10.1 + 10,
        "archive values {archive_values}"
    );
}

#[test]
fn a_restarted_pruning_store_serves_proofs_and_matches_an_archive_replay() {
    let (pruned_dir, archive_dir) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let mut archive = archive_node(archive_dir.path());
    let mut pruned = pruning_node(pruned_dir.path());
    for i in 1..=10 {
        assert!(pruned.produce(block_txs(i)).is_empty());
        assert!(archive.produce(block_txs(i)).is_empty());
        assert_eq!(pruned.head, archive.head, "block {i}");
    }
    let oldest_before = pruned.exec.store().oldest_version();
    assert_eq!(oldest_before, 10 - RETAINED + 1);
    drop(pruned);

    let mut pruned = pruning_node(pruned_dir.path());
    assert_eq!(
        pruned.head, archive.head,
        "the reopened store has the same head"
    );
    assert_eq!(
        pruned.exec.store().oldest_version(),
        oldest_before,
        "the window survives"
    );
    for h in oldest_before..=10 {
        assert_eq!(
            proven_alice_balance(&pruned, h).expect("retained"),
            1_000 + h as u128
        );
    }
    assert!(matches!(
        proven_alice_balance(&pruned, oldest_before - 1),
        Err(ExecError::Store(StoreError::Pruned { .. }))
    ));
    for i in 11..=16 {
        assert!(pruned.produce(block_txs(i)).is_empty());
        assert!(archive.produce(block_txs(i)).is_empty());
        assert_eq!(pruned.head, archive.head, "block {i} after the restart");
    }
    for h in 16 - RETAINED + 1..=16 {
        assert_eq!(
            proven_alice_balance(&pruned, h).expect("retained"),
            1_000 + h as u128
        );
        assert_eq!(
            proven_alice_balance(&archive, h).expect("archive"),
            1_000 + h as u128
        );
    }
    // The archive still proves the heights the pruning store gave up.
    assert_eq!(
        proven_alice_balance(&archive, 1).expect("archive keeps all"),
        1_001
    );
}

#[test]
fn a_store_keeping_fewer_than_two_heights_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    assert!(matches!(
        civitas_ledger::Store::open_with(dir.path(), StoreConfig::retaining(1)),
        Err(StoreError::Retention(1))
    ));
}

#[test]
fn batched_tree_updates_build_the_same_tree_as_key_by_key_updates() {
    use civitas_ledger::executor::tree_update;
    use civitas_ledger::state::Sha3Hasher;
    use jmt::JellyfishMerkleTree;

    let dir = tempfile::tempdir().expect("tmp");
    let mut node = archive_node(dir.path());
    let store = node.exec.store().clone();
    let mut nonce = 0;
    for round in 0u32..12 {
        // Transfers to 40 accounts: new ones (inserts that split leaves and grow the tree) and,
        // from the second round on, half of them ones paid before (updates).
        let recipients: Vec<String> = (0..40)
            .map(|i| {
                let n = if i % 2 == 0 && round > 0 {
                    (round - 1) * 40 + i
                } else {
                    round * 40 + i
                };
                format!("payee-{n}")
            })
            .collect();
        let txs = recipients
            .iter()
            .map(|r| {
                nonce += 1;
                transfer("bank", nonce - 1, r, 1)
            })
            .collect();
        assert!(node.produce(txs).is_empty());
        let h = node.head.height;
        // The block's writes, read back from the committed version.
        let mut written: Vec<Vec<u8>> = recipients
            .iter()
            .map(|r| keys::account(&key(r).account()))
            .collect();
        written.push(keys::account(&key("bank").account()));
        written.push(keys::HEIGHT.to_vec());
        let writes: std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>> = written
            .into_iter()
            .map(|k| {
                let v = store.value_at(key_hash(&k), h).expect("read");
                assert!(v.is_some(), "written at height {h}");
                (k, v)
            })
            .collect();
        // A write set that also deletes a key goes key by key, and still matches jmt's own.
        let mut with_deletion = writes.clone();
        with_deletion.insert(keys::account(&key("payee-0").account()), None);
        let (root, _) = tree_update(&store, with_deletion.clone(), h).expect("with a deletion");
        let (expected, _) = JellyfishMerkleTree::<_, Sha3Hasher>::new(&store)
            .put_value_set(with_deletion.into_iter().map(|(k, v)| (key_hash(&k), v)), h)
            .expect("key by key");
        assert_eq!(root.0, expected.0, "root with a deletion at height {h}");
        // Both ways from the parent's tree.
        let (batched_root, batched) = tree_update(&store, writes.clone(), h).expect("batched");
        let (one_by_one_root, one_by_one) = JellyfishMerkleTree::<_, Sha3Hasher>::new(&store)
            .put_value_set(writes.into_iter().map(|(k, v)| (key_hash(&k), v)), h)
            .expect("key by key");
        assert_eq!(batched_root.0, one_by_one_root.0, "root at height {h}");
        assert_eq!(
            batched_root, node.head.state_root,
            "the committed root at height {h}"
        );
        assert_eq!(
            batched.node_batch, one_by_one.node_batch,
            "nodes at height {h}"
        );
        assert_eq!(
            batched.stale_node_index_batch, one_by_one.stale_node_index_batch,
            "stale nodes at height {h}"
        );
    }
}

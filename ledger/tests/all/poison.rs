//! No poison transactions: a candidate whose execution fails on every node (state that does
//! not decode) is rolled back, left out of the block and reported, and the chain goes on as if
//! it never existed; a failure of this node's store (node-local) aborts the proposal, writes
//! nothing, and the same transactions commit once the store works again.
use civitas_ledger::{ExecError, TxError};
use civitas_runtime::StateError;

use crate::common::{key, transfer, Node};

#[test]
fn a_poisoned_candidate_is_excluded_and_state_is_as_if_it_never_existed() {
    let (da, db) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let mut a = Node::open(da.path());
    let mut b = Node::open(db.path());
    let before = transfer("bank", 0, "alice", 10);
    let poisoned = transfer("alice", 0, "bob", 100);
    // Valid only if the poisoned transaction's nonce bump survived.
    let needs_poisoned_nonce = transfer("alice", 1, "civil", 5);
    let after = transfer("civil", 0, "bob", 7);
    a.exec.poison_for_tests(poisoned.hash());

    let p = a.propose(vec![
        before.clone(),
        poisoned.clone(),
        needs_poisoned_nonce.clone(),
        after.clone(),
    ]);
    assert_eq!(p.excluded.len(), 1, "{:?}", p.excluded);
    let (hash, error) = &p.excluded[0];
    assert_eq!(*hash, poisoned.hash());
    assert!(
        matches!(error, ExecError::State(StateError::Undecodable(_))) && !error.is_node_local(),
        "{error:?}"
    );
    assert_eq!(
        p.rejected,
        vec![(
            needs_poisoned_nonce.hash(),
            TxError::NonceGap {
                expected: 0,
                got: 1
            }
        )]
    );
    assert_eq!(p.executed.block.txs, vec![before.clone(), after.clone()]);

    // A node that never saw the poisoned transaction builds the very same block.
    let q = b.propose(vec![before, needs_poisoned_nonce, after]);
    assert!(q.excluded.is_empty());
    assert_eq!(q.rejected, p.rejected);
    assert_eq!(p.executed.block.header, q.executed.block.header);
    assert_eq!(p.executed.receipts, q.executed.receipts);
    a.commit(p.executed);
    b.commit(q.executed);
    assert_eq!(a.head, b.head);

    // The chain keeps committing; the poisoned transaction, offered again, is left out again
    // and another transaction takes its nonce.
    let later = vec![
        transfer("alice", 0, "civil", 1),
        transfer("bank", 1, "bob", 2),
    ];
    let mut with_poisoned = vec![poisoned.clone()];
    with_poisoned.extend(later.clone());
    let p2 = a.propose(with_poisoned);
    assert_eq!(
        p2.excluded.iter().map(|(h, _)| *h).collect::<Vec<_>>(),
        vec![poisoned.hash()]
    );
    assert_eq!(p2.executed.block.txs, later);
    a.commit(p2.executed);
    assert!(b.produce(later).is_empty());
    assert_eq!(a.head, b.head);
    assert_eq!(a.head.height, 2);
    for name in ["alice", "bob", "bank", "civil"] {
        assert_eq!(
            (a.nonce(name), a.balance(name)),
            (b.nonce(name), b.balance(name)),
            "{name}"
        );
    }
    assert_eq!(a.balance("alice"), 1_000 + 10 - 1);
    assert!(a
        .exec
        .store()
        .tx_location(&poisoned.hash())
        .expect("index")
        .is_none());
}

#[test]
fn failing_store_reads_abort_the_proposal_and_the_same_transactions_commit_afterwards() {
    let (da, db) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let mut a = Node::open(da.path());
    let mut b = Node::open(db.path());
    let genesis_head = a.head.clone();
    let txs = vec![
        transfer("bank", 0, "alice", 10),
        transfer("alice", 0, "bob", 3),
    ];
    a.exec.store().fail_reads_for_tests(true);
    let error = a
        .exec
        .propose(
            &a.head,
            a.time_ms + 1_000,
            key("tax").account(),
            txs.clone(),
        )
        .err()
        .expect("the proposal fails while reads fail");
    assert!(
        error.is_node_local() && matches!(error, ExecError::State(StateError::Backend(_))),
        "{error:?}"
    );
    let store = a.exec.store();
    assert!(store.block(1).expect("read").is_none(), "no block written");
    assert!(
        store.receipts(1).expect("read").is_none(),
        "no receipt written"
    );
    assert_eq!(store.head().expect("read"), Some(genesis_head));
    for t in &txs {
        assert!(store.tx_location(&t.hash()).expect("read").is_none());
    }
    // The failure is this store's only: another node's store still reads.
    assert!(b.produce(txs.clone()).is_empty());

    a.exec.store().fail_reads_for_tests(false);
    assert!(a.produce(txs.clone()).is_empty());
    assert_eq!(a.head, b.head);
    let receipts = a.receipts(1);
    assert_eq!(receipts.len(), 2);
    assert!(receipts.iter().all(|r| r.error.is_none()), "{receipts:?}");
    for t in &txs {
        assert!(a
            .exec
            .store()
            .tx_location(&t.hash())
            .expect("read")
            .is_some());
    }
}

#[test]
fn a_node_local_failure_while_applying_a_candidate_aborts_the_proposal() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = Node::open(dir.path());
    let txs = vec![
        transfer("bank", 0, "alice", 10),
        transfer("alice", 0, "bob", 3),
    ];
    a.exec
        .fail_apply_for_tests(txs[1].hash(), StateError::Backend("disk failed".into()));
    let error = a
        .exec
        .propose(
            &a.head,
            a.time_ms + 1_000,
            key("tax").account(),
            txs.clone(),
        )
        .err()
        .expect("a node-local failure aborts the proposal");
    assert!(error.is_node_local(), "{error:?}");
    assert_eq!(a.head.height, 0);

    // Nothing was dropped: once the node works, both transactions commit.
    a.exec.clear_poison_for_tests();
    assert!(a.produce(txs.clone()).is_empty());
    let block = a.exec.store().block(1).expect("read").expect("block");
    assert_eq!(block.txs, txs);
}

//! Blocks: transfers, contracts, rejections, restart, and a second node validating the first's
//! blocks.
use civitas_ledger::{BlockRuleError, ExecError, Store, TxError};
use civitas_primitives::block::ReceiptStatus;
use civitas_primitives::contract_address;
use civitas_primitives::tx::Call;

use crate::common::*;

#[test]
fn transfers_commit_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let root_after;
    {
        let mut node = Node::open(dir.path());
        assert_eq!(node.head.height, 0);
        let rejected = node.produce(vec![
            transfer("bank", 0, "alice", 250),
            transfer("bank", 1, "alice", 50),
        ]);
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(node.balance("alice"), 1_300);
        assert_eq!(node.balance("bank"), 499_700);
        assert_eq!(node.nonce("bank"), 2);
        let receipts = node.receipts(1);
        assert_eq!(receipts.len(), 2);
        assert!(receipts.iter().all(|r| r.status == ReceiptStatus::Success));
        root_after = node.head.clone();
    }
    let mut node = Node::open(dir.path());
    assert_eq!(
        node.head, root_after,
        "restart resumes from the stored head"
    );
    assert_eq!(node.balance("alice"), 1_300);
    node.produce(vec![transfer("alice", 0, "bank", 300)]);
    assert_eq!(node.head.height, 2);
    assert_eq!(node.balance("alice"), 1_000);
    let block = node.exec.store().block(2).expect("read").expect("block 2");
    assert_eq!(block.header.parent_hash, root_after.block_hash);
}

#[test]
fn failed_calls_consume_the_nonce_and_change_nothing_else() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    node.produce(vec![transfer("alice", 0, "bank", 5_000)]);
    let r = &node.receipts(1)[0];
    assert_eq!(r.status, ReceiptStatus::Failed);
    assert_eq!(
        r.error.as_ref().map(|e| e.code.as_str()),
        Some("insufficient_balance")
    );
    assert_eq!(node.balance("alice"), 1_000);
    assert_eq!(node.nonce("alice"), 1);
}

#[test]
fn invalid_transactions_are_refused_with_typed_errors_and_no_state_change() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    node.produce(vec![transfer("bank", 0, "alice", 1)]);
    let (_, view) = node.exec.head_view().expect("view");

    let mut wrong_chain = transfer("bank", 1, "alice", 1);
    wrong_chain.tx.chain_id = "other".into();
    let wrong_chain = key("bank").sign_tx(wrong_chain.tx);
    let mut forged = transfer("bank", 1, "alice", 1);
    forged.tx.call = Call::Transfer {
        to: key("alice").account(),
        amount: 400_000,
    };
    let mut greedy = transfer("bank", 1, "alice", 1);
    greedy.tx.fuel_limit = u64::MAX;
    let greedy = key("bank").sign_tx(greedy.tx);
    let upload_by_citizen = tx("alice", 0, Call::UploadCode { code: vec![0; 10] });
    let big = tx(
        "bank",
        1,
        Call::Call {
            contract: key("x").account(),
            input: vec![0; 70 * 1024],
        },
    );

    let cases: Vec<(civitas_primitives::tx::SignedTransaction, &str)> = vec![
        (forged, "bad_signature"),
        (wrong_chain, "wrong_chain_id"),
        (transfer("bank", 0, "alice", 1), "stale_nonce"),
        (transfer("bank", 5, "alice", 1), "nonce_gap"),
        (greedy, "fuel_limit_too_high"),
        (upload_by_citizen, "not_permitted"),
        (big, "malformed"),
    ];
    for (stx, code) in &cases {
        let err = node
            .exec
            .check_tx(&view, stx, true)
            .expect("no node failure")
            .expect_err(code);
        assert_eq!(err.code(), *code, "{err}");
    }
    let not_permitted = node
        .exec
        .check_tx(&view, &cases[5].0, true)
        .expect("no node failure")
        .expect_err("role");
    assert!(
        not_permitted
            .to_string()
            .contains("upload_code needs one of the roles institution"),
        "{not_permitted}"
    );

    // Proposing them leaves every one out and changes no account.
    let before = (
        node.balance("bank"),
        node.balance("alice"),
        node.nonce("bank"),
        node.nonce("alice"),
    );
    let rejected = node.produce(cases.into_iter().map(|(t, _)| t).collect());
    assert_eq!(
        rejected.len(),
        6,
        "all but the forged one are rejected at proposal: {rejected:?}"
    );
    let after = (
        node.balance("bank"),
        node.balance("alice"),
        node.nonce("bank"),
        node.nonce("alice"),
    );
    // The forged transaction is not signature-checked on the proposer path (the mempool does
    // that); it is well-formed with a valid nonce, so it executes. Everything else changed nothing.
    assert_eq!(node.receipts(2).len(), 1);
    assert_eq!(after.2, before.2 + 1);
    assert_eq!(after.3, before.3);
    assert!(matches!(rejected[0], TxError::WrongChainId { .. }));
}

#[test]
fn another_node_validates_the_block_and_refuses_a_tampered_one() {
    let (a, b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let mut proposer = Node::open(a.path());
    let validator = Node::open(b.path());
    assert_eq!(proposer.head, validator.head, "same genesis, same root");
    let txs = vec![
        transfer("bank", 0, "alice", 10),
        transfer("alice", 0, "civil", 3),
    ];
    let executed = proposer
        .exec
        .propose(&proposer.head, 1_700_000_001_000, key("tax").account(), txs)
        .expect("propose")
        .executed;
    let block = executed.block.clone();
    let checked = validator
        .exec
        .validate(&validator.head, &block)
        .expect("valid block");
    assert_eq!(checked.state_root, executed.state_root);

    let mut tampered = block.clone();
    tampered.header.state_root.0[0] ^= 1;
    assert!(matches!(
        validator.exec.validate(&validator.head, &tampered),
        Err(ExecError::Mismatch(_))
    ));
    // The proposer path itself keeps block time after the parent's; a validator checks it.
    let mut stale_time = block.clone();
    stale_time.header.time_ms = 0;
    assert!(matches!(
        validator.exec.validate(&validator.head, &stale_time),
        Err(ExecError::BlockRule(
            BlockRuleError::TimeNotAfterParent { .. }
        ))
    ));

    let mut forged = block.clone();
    forged.txs[0].tx.call = Call::Transfer {
        to: key("alice").account(),
        amount: 499_000,
    };
    forged.header.tx_root = civitas_primitives::block::tx_root(&forged.txs);
    assert!(matches!(
        validator.exec.validate(&validator.head, &forged),
        Err(ExecError::InvalidTx {
            index: 0,
            error: TxError::BadSignature(_)
        })
    ));
    let _ = proposer.produce(vec![]);
}

#[test]
fn a_validator_that_checked_a_transaction_still_refuses_a_forgery_of_it() {
    let (a, b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let proposer = Node::open(a.path());
    let validator = Node::open(b.path());
    let txs = vec![
        transfer("bank", 0, "alice", 10),
        transfer("alice", 0, "civil", 3),
    ];
    // The validator checked both signatures itself (it admitted them to its pool).
    let verified: std::collections::HashSet<civitas_primitives::Hash> =
        txs.iter().map(|t| t.hash()).collect();
    let block = proposer
        .exec
        .propose(&proposer.head, 1_700_000_001_000, key("tax").account(), txs)
        .expect("propose")
        .executed
        .block;
    let checked = validator
        .exec
        .validate_with_verified(&validator.head, &block, &verified)
        .expect("valid block");
    assert_eq!(checked.block.header.hash(), block.header.hash());
    // The second transaction altered under its signature: its bytes are not those checked.
    let mut forged = block.clone();
    forged.txs[1].tx.call = Call::Transfer {
        to: key("bank").account(),
        amount: 3,
    };
    forged.header.tx_root = civitas_primitives::block::tx_root(&forged.txs);
    assert!(matches!(
        validator
            .exec
            .validate_with_verified(&validator.head, &forged, &verified),
        Err(ExecError::InvalidTx {
            index: 1,
            error: TxError::BadSignature(_)
        })
    ));
}

const COUNTER: &str = r#"(module
    (import "civitas" "storage_read" (func $get (param i32 i32 i32 i32) (result i32)))
    (import "civitas" "storage_write" (func $set (param i32 i32 i32 i32)))
    (import "civitas" "set_return" (func $ret (param i32 i32)))
    (memory (export "memory") 1)
    (data (i32.const 0) "n")
    (func (export "deploy") (i64.store (i32.const 8) (i64.const 40)) (call $set (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 8)))
    (func (export "call")
        (drop (call $get (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 8)))
        (i64.store (i32.const 8) (i64.add (i64.load (i32.const 8)) (i64.const 2)))
        (call $set (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 8))
        (call $ret (i32.const 8) (i32.const 8))))"#;

#[test]
fn contracts_upload_instantiate_and_run_through_blocks() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let code = wat::parse_str(COUNTER).expect("wat");
    let hash = civitas_primitives::sha3_256(&code);
    node.produce(vec![
        tx("bank", 0, Call::UploadCode { code: code.clone() }),
        tx(
            "bank",
            1,
            Call::Instantiate {
                code_hash: hash,
                salt: b"one".to_vec(),
                input: vec![],
            },
        ),
    ]);
    let addr = contract_address(&key("bank").account(), &hash, b"one");
    let r = node.receipts(1);
    assert!(
        r.iter().all(|r| r.status == ReceiptStatus::Success),
        "{r:?}"
    );
    assert_eq!(r[1].output, addr.0.to_vec());

    node.produce(vec![tx(
        "alice",
        0,
        Call::Call {
            contract: addr,
            input: vec![],
        },
    )]);
    let r = &node.receipts(2)[0];
    assert_eq!(r.status, ReceiptStatus::Success);
    assert_eq!(r.output, 42u64.to_le_bytes().to_vec());
    assert!(r.fuel_used > 0);

    // Out of fuel: receipt records it; storage unchanged.
    let mut starving = tx(
        "alice",
        1,
        Call::Call {
            contract: addr,
            input: vec![],
        },
    );
    starving.tx.fuel_limit = 10;
    let starving = key("alice").sign_tx(starving.tx);
    let rejected = node.produce(vec![
        starving,
        tx(
            "alice",
            2,
            Call::Call {
                contract: key("nobody").account(),
                input: vec![],
            },
        ),
    ]);
    let r = node.receipts(3);
    assert_eq!(
        r[0].error.as_ref().map(|e| e.code.as_str()),
        Some("out_of_fuel")
    );
    assert_eq!(r.len(), 1);
    assert_eq!(
        rejected.iter().map(|e| e.code()).collect::<Vec<_>>(),
        vec!["unknown_contract"]
    );
    node.produce(vec![tx(
        "alice",
        2,
        Call::Call {
            contract: addr,
            input: vec![],
        },
    )]);
    assert_eq!(node.receipts(4)[0].output, 44u64.to_le_bytes().to_vec());

    // The same salt twice is refused; invalid code is refused with a typed receipt.
    node.produce(vec![
        tx(
            "bank",
            2,
            Call::Instantiate {
                code_hash: hash,
                salt: b"one".to_vec(),
                input: vec![],
            },
        ),
        tx(
            "bank",
            3,
            Call::UploadCode {
                code: b"\0asm junk".to_vec(),
            },
        ),
    ]);
    let r = node.receipts(5);
    assert_eq!(
        r[0].error.as_ref().map(|e| e.code.as_str()),
        Some("contract_exists")
    );
    assert_eq!(
        r[1].error.as_ref().map(|e| e.code.as_str()),
        Some("invalid_code")
    );
    let _ = Store::open;
}

#[test]
fn only_the_admin_upgrades_and_the_contract_then_runs_the_new_code() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let v1 = wat::parse_str(COUNTER).expect("wat");
    let v2 = wat::parse_str(COUNTER.replace("(i64.const 2)", "(i64.const 100)")).expect("wat");
    let (h1, h2) = (
        civitas_primitives::sha3_256(&v1),
        civitas_primitives::sha3_256(&v2),
    );
    node.produce(vec![
        tx("bank", 0, Call::UploadCode { code: v1 }),
        tx("bank", 1, Call::UploadCode { code: v2 }),
        tx(
            "bank",
            2,
            Call::Instantiate {
                code_hash: h1,
                salt: vec![],
                input: vec![],
            },
        ),
    ]);
    let addr = contract_address(&key("bank").account(), &h1, b"");
    node.produce(vec![
        tx(
            "alice",
            0,
            Call::Upgrade {
                contract: addr,
                code_hash: h2,
            },
        ),
        tx(
            "bank",
            3,
            Call::Upgrade {
                contract: addr,
                code_hash: h2,
            },
        ),
        tx(
            "alice",
            1,
            Call::Call {
                contract: addr,
                input: vec![],
            },
        ),
    ]);
    let r = node.receipts(2);
    assert_eq!(
        r[0].error.as_ref().map(|e| e.code.as_str()),
        Some("not_admin")
    );
    assert_eq!(r[1].status, ReceiptStatus::Success);
    assert_eq!(
        r[2].output,
        140u64.to_le_bytes().to_vec(),
        "the upgraded code adds 100"
    );
    let (_, view) = node.exec.head_view().expect("view");
    let refs = |h| {
        view.get_decoded::<civitas_ledger::state::CodeInfo>(&civitas_ledger::state::keys::code(h))
            .expect("read")
            .expect("stored")
            .refcount
    };
    assert_eq!(
        (refs(&h1), refs(&h2)),
        (0, 1),
        "refcounts follow the contract"
    );
}

/// What a commit writes without hashing the transactions again (the root and the index are
/// taken from the receipts, the parent's time from its header alone) agrees with the block.
#[test]
fn a_committed_blocks_root_index_and_header_agree_with_its_transactions() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let txs = vec![
        transfer("bank", 0, "alice", 1),
        transfer("bank", 1, "bob", 2),
        transfer("bank", 2, "alice", 3),
    ];
    let rejected = node.produce(txs.clone());
    assert!(rejected.is_empty(), "{rejected:?}");
    let store = node.exec.store();
    let block = store.block(1).expect("read").expect("block 1");
    assert_eq!(block.txs, txs);
    assert_eq!(
        block.header.tx_root,
        civitas_primitives::block::tx_root(&block.txs)
    );
    assert_eq!(
        store.block_header(1).expect("read"),
        Some(block.header.clone())
    );
    assert_eq!(store.block_header(2).expect("read"), None);
    assert_eq!(
        node.exec.parent_time(&node.head).expect("time"),
        block.header.time_ms
    );
    for (i, tx) in txs.iter().enumerate() {
        let loc = store
            .tx_location(&tx.hash())
            .expect("read")
            .expect("indexed");
        assert_eq!((loc.height, loc.index), (1, i as u32));
    }
}

//! Private calls: the bodies of data-access transactions travel encrypted to the chain access
//! key. Blocks carry only the kind and the ciphertext; a plain body, a body that does not
//! open, one copied into another transaction or one of another kind is refused at admission
//! with a typed error; a node without the access key fails on its own, saying nothing about
//! the transaction.
use civitas_ledger::{ChainParams, Executor, Store, TxError};
use civitas_primitives::sha3_256;
use civitas_primitives::tx::{Call, PrivateCallError, SignedTransaction, Transaction};
use civitas_primitives::vault::SubjectId;
use civitas_runtime::{Vm, VmConfig};
use parity_scale_codec::Encode;

use crate::common::*;

fn alice() -> SubjectId {
    sha3_256(b"subject-alice")
}

fn bind(nonce: u64) -> Transaction {
    Transaction {
        chain_id: CHAIN.into(),
        signer: key("civil").account(),
        nonce,
        fuel_limit: 1_000_000,
        call: Call::BindIdentity {
            subject: alice(),
            account: key("alice").account(),
        },
    }
}

fn check(node: &Node, stx: &SignedTransaction) -> Result<(), TxError> {
    let (_, view) = node.exec.head_view().expect("view");
    node.exec
        .check_tx(&view, stx, true)
        .expect("no node failure")
}

#[test]
fn a_private_call_commits_and_its_block_holds_no_subject_id() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let stx = sign(&key("civil"), bind(0));
    assert!(matches!(stx.tx.call, Call::Private { .. }));
    assert!(node.produce(vec![stx]).is_empty());
    let receipt = node.receipts(1).remove(0);
    assert!(receipt.error.is_none(), "{:?}", receipt.error);
    let (_, view) = node.exec.head_view().expect("view");
    assert_eq!(
        view.identity(&alice()).expect("read"),
        Some(key("alice").account()),
        "the opened body ran"
    );
    let block = node.exec.store().block(1).expect("read").expect("block 1");
    let bytes = (block.encode(), receipt.encode());
    for (what, b) in [("block", &bytes.0), ("receipt", &bytes.1)] {
        assert!(
            !b.windows(32).any(|w| w == alice().0),
            "the {what} holds the subject id"
        );
    }
}

#[test]
fn plain_forged_and_foreign_bodies_are_refused_with_the_state_unchanged() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let civil = key("civil");

    // In clear.
    let plain = civil.sign_tx(bind(0));
    assert_eq!(
        check(&node, &plain),
        Err(TxError::MustBePrivate("bind_identity"))
    );

    // A body copied into another account's transaction (re-signed by that account).
    let sealed = sign(&civil, bind(0));
    let thief = key("land");
    let mut copied = sealed.tx.clone();
    copied.signer = thief.account();
    let copied = thief.sign_tx(copied);
    assert_eq!(
        check(&node, &copied),
        Err(TxError::PrivateBody(PrivateCallError::NotThisTransaction))
    );

    // A ciphertext with one byte changed.
    let mut tampered = sealed.tx.clone();
    if let Call::Private { body, .. } = &mut tampered.call {
        body.ciphertext[0] ^= 1;
    }
    let tampered = civil.sign_tx(tampered);
    assert_eq!(
        check(&node, &tampered),
        Err(TxError::PrivateBody(PrivateCallError::Undecryptable))
    );

    // A body of another kind than the one declared in clear.
    let mut relabelled = sealed.tx.clone();
    if let Call::Private { kind, .. } = &mut relabelled.call {
        *kind = civitas_primitives::tx::PrivateKind::Consent;
    }
    let relabelled = civil.sign_tx(relabelled);
    assert_eq!(
        check(&node, &relabelled),
        Err(TxError::PrivateBody(PrivateCallError::KindMismatch {
            declared: "consent"
        }))
    );

    // Encrypted to another key.
    let stranger_key = civitas_primitives::crypto::x25519_public(&[9; 32]);
    let elsewhere = civil
        .sign_tx_for_chain(bind(0), &stranger_key)
        .expect("encrypts");
    assert_eq!(
        check(&node, &elsewhere),
        Err(TxError::PrivateBody(PrivateCallError::Undecryptable))
    );

    let rejected = node.produce(vec![plain, copied, tampered, relabelled, elsewhere]);
    assert_eq!(rejected.len(), 5, "{rejected:?}");
    let block = node.exec.store().block(1).expect("read").expect("block 1");
    assert!(block.txs.is_empty(), "none of them is in the block");
    let (_, view) = node.exec.head_view().expect("view");
    assert_eq!(view.identity(&alice()).expect("read"), None);
    assert_eq!(view.account(&civil.account()).expect("read").nonce, 0);
}

#[test]
fn a_node_without_the_access_key_fails_on_its_own() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = Node::open(dir.path());
    let blind_dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(blind_dir.path()).expect("store");
    let blind = Executor::new(
        store,
        Vm::new(VmConfig::default()).expect("vm"),
        ChainParams::new(CHAIN),
    );
    blind.init_genesis(&genesis()).expect("genesis");
    let (_, view) = blind.head_view().expect("view");
    let stx = sign(&key("civil"), bind(0));
    let err = blind
        .check_tx(&view, &stx, true)
        .expect_err("a node failure, not a verdict on the transaction");
    assert!(err.is_node_local(), "{err}");
    assert_eq!(check(&node, &stx), Ok(()), "a node with the key admits it");
}

//! State proofs verify against the header's state root and fail for tampered values.
use civitas_ledger::proof::{prove, verify_state_proof, ProofError};
use civitas_ledger::state::{keys, AccountInfo};
use parity_scale_codec::{Decode, Encode};

use crate::common::*;

#[test]
fn a_balance_proof_verifies_and_a_tampered_one_fails() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    node.produce(vec![transfer("bank", 0, "alice", 77)]);
    let header = node
        .exec
        .store()
        .block(1)
        .expect("read")
        .expect("block")
        .header;
    let alice_key = keys::account(&key("alice").account());
    let proof = prove(node.exec.store(), &alice_key, 1).expect("prove");
    let info =
        AccountInfo::decode(&mut &proof.value.clone().expect("present")[..]).expect("decode");
    assert_eq!(info.balance, 1_077);
    verify_state_proof(&header.state_root, &proof).expect("verifies");

    let mut tampered = proof.clone();
    tampered.value = Some(
        AccountInfo {
            balance: 1_000_000,
            ..info.clone()
        }
        .encode(),
    );
    assert!(matches!(
        verify_state_proof(&header.state_root, &tampered),
        Err(ProofError::Mismatch(_))
    ));
    let mut wrong_root = header.state_root;
    wrong_root.0[5] ^= 0xff;
    assert!(verify_state_proof(&wrong_root, &proof).is_err());
    let garbage = civitas_ledger::proof::StateProof {
        proof: vec![1, 2, 3],
        ..proof.clone()
    };
    assert_eq!(
        verify_state_proof(&header.state_root, &garbage),
        Err(ProofError::Malformed)
    );

    // Proof of absence, and a proof at an older height against that height's root.
    let absent = prove(
        node.exec.store(),
        &keys::account(&key("nobody").account()),
        1,
    )
    .expect("prove");
    assert_eq!(absent.value, None);
    verify_state_proof(&header.state_root, &absent).expect("absence verifies");
    node.produce(vec![transfer("bank", 1, "alice", 1)]);
    let old = prove(node.exec.store(), &alice_key, 1).expect("prove at height 1");
    verify_state_proof(&header.state_root, &old).expect("old proof against old root");
}

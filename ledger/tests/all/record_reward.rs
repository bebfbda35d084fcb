//! The record reward: each new record version pays the genesis `record_reward` to the
//! custodian that commits it, once; a refused commit pays nothing.
use civitas_ledger::state::keys;
use civitas_primitives::sha3_256;
use civitas_primitives::tx::Call;
use civitas_primitives::vault::record_hash;

use crate::common::*;

fn commit(
    signer: &str,
    nonce: u64,
    version: u32,
    signed_by: &str,
) -> civitas_primitives::tx::SignedTransaction {
    let subject = sha3_256(b"subject-alice");
    let h = record_hash(&subject, "ds.a", version, &[version as u8; 32], b"payload");
    tx(
        signer,
        nonce,
        Call::CommitRecord {
            subject,
            dataset: "ds.a".into(),
            version,
            record_hash: h,
            signature: key(signed_by).sign_hash(&h),
        },
    )
}

fn error_of_last(node: &Node) -> Option<String> {
    node.receipts(node.head.height)[0]
        .error
        .as_ref()
        .map(|e| e.code.clone())
}

#[test]
fn each_new_record_version_pays_the_reward_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let reward = genesis().record_reward;
    let (_, view) = node.exec.head_view().expect("view");
    let stored: u128 = view
        .get_decoded(keys::RECORD_REWARD)
        .expect("read")
        .expect("set at genesis");
    assert_eq!(stored, reward);
    assert_eq!(reward, 10, "the test genesis pays 10 credits per record");
    let start = node.balance("tax");

    assert!(node.produce(vec![commit("tax", 0, 1, "tax")]).is_empty());
    assert_eq!(error_of_last(&node), None);
    assert_eq!(node.balance("tax"), start + reward, "version 1 pays");

    // The same version again is refused and pays nothing.
    node.produce(vec![commit("tax", 1, 1, "tax")]);
    assert_eq!(error_of_last(&node).as_deref(), Some("bad_version"));
    assert_eq!(node.balance("tax"), start + reward);

    // A skipped version and a bad signature pay nothing.
    node.produce(vec![commit("tax", 2, 3, "tax")]);
    assert_eq!(error_of_last(&node).as_deref(), Some("bad_version"));
    node.produce(vec![commit("tax", 3, 2, "bank")]);
    assert_eq!(
        error_of_last(&node).as_deref(),
        Some("bad_record_signature")
    );
    assert_eq!(node.balance("tax"), start + reward);

    // A custodian that does not hold the dataset is refused and paid nothing.
    let civil = node.balance("civil");
    node.produce(vec![commit("civil", 0, 2, "civil")]);
    assert_eq!(error_of_last(&node).as_deref(), Some("not_custodian"));
    assert_eq!(node.balance("civil"), civil);

    // The next version pays once more; two in one block pay twice.
    assert!(node
        .produce(vec![commit("tax", 4, 2, "tax"), commit("tax", 5, 3, "tax")])
        .is_empty());
    assert!(node
        .receipts(node.head.height)
        .iter()
        .all(|r| r.error.is_none()));
    assert_eq!(node.balance("tax"), start + 3 * reward);
    let (_, view) = node.exec.head_view().expect("view");
    assert_eq!(
        view.records(&sha3_256(b"subject-alice"), "ds.a")
            .expect("records")
            .len(),
        3
    );
}

//! Governance edges: a threshold no set of validators can reach is refused, a revoked role
//! loses its effect, and only regulators approve code.
use civitas_ledger::state::keys;
use civitas_ledger::{Executor, TxError};
use civitas_primitives::block::ReceiptStatus;
use civitas_primitives::sha3_256;
use civitas_primitives::tx::{Call, GovernanceAction, Role};
use civitas_primitives::vault::record_hash;

use crate::common::*;

fn threshold(node: &Node) -> u32 {
    let (_, view) = node.exec.head_view().expect("view");
    view.get_decoded(keys::THRESHOLD)
        .expect("read")
        .expect("threshold set at genesis")
}

fn validator_count(node: &Node) -> u32 {
    let (_, view) = node.exec.head_view().expect("view");
    Executor::validators(&view).expect("validators").len() as u32
}

/// The error code of the only receipt of the newest block.
fn last_error(node: &Node) -> Option<String> {
    let r = node.receipts(node.head.height);
    assert_eq!(r.len(), 1);
    r[0].error.as_ref().map(|e| e.code.clone())
}

#[test]
fn a_threshold_above_the_validator_count_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let validators = validator_count(&node);
    assert_eq!((validators, threshold(&node)), (3, 2));

    // Proposed, and approved by enough departments: still refused.
    let too_high = GovernanceAction::SetThreshold {
        threshold: validators + 1,
    };
    node.produce(vec![tx("tax", 0, Call::Propose { action: too_high })]);
    assert_eq!(last_error(&node).as_deref(), Some("invalid_threshold"));
    assert_eq!(threshold(&node), 2, "unchanged");
    let (_, view) = node.exec.head_view().expect("view");
    assert_eq!(
        view.get(&keys::proposal(1)).expect("read"),
        None,
        "no proposal is stored that could be approved later"
    );

    // Exactly the validator count is accepted once two departments agree.
    let all = GovernanceAction::SetThreshold {
        threshold: validators,
    };
    node.produce(vec![tx("tax", 1, Call::Propose { action: all })]);
    assert_eq!(last_error(&node), None);
    let id = u64::from_le_bytes(
        node.receipts(node.head.height)[0]
            .output
            .clone()
            .try_into()
            .expect("8 bytes"),
    );
    assert_eq!(threshold(&node), 2, "one approval is not enough");
    node.produce(vec![tx("civil", 0, Call::Approve { proposal: id })]);
    assert_eq!(last_error(&node), None);
    assert_eq!(threshold(&node), validators);
}

#[test]
fn a_threshold_that_became_unreachable_is_refused_when_approved() {
    // Threshold 1 lets each proposal execute at once; the set then shrinks to two.
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let set_one = GovernanceAction::SetThreshold { threshold: 1 };
    node.produce(vec![tx("tax", 0, Call::Propose { action: set_one })]);
    node.produce(vec![tx("civil", 0, Call::Approve { proposal: 1 })]);
    assert_eq!(threshold(&node), 1);
    let revoke = GovernanceAction::RevokeRole {
        account: key("land").account(),
        role: Role::Validator,
    };
    node.produce(vec![tx("tax", 1, Call::Propose { action: revoke })]);
    assert_eq!(validator_count(&node), 2);
    let three = GovernanceAction::SetThreshold { threshold: 3 };
    node.produce(vec![tx("tax", 2, Call::Propose { action: three })]);
    assert_eq!(last_error(&node).as_deref(), Some("invalid_threshold"));
    assert_eq!(threshold(&node), 1);
}

#[test]
fn a_revoked_custodian_can_no_longer_commit_records() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let subject = sha3_256(b"subject-alice");
    let commit = |nonce: u64, version: u32| {
        let h = record_hash(&subject, "ds.a", version, &[1; 32], b"payload");
        tx(
            "tax",
            nonce,
            Call::CommitRecord {
                subject,
                dataset: "ds.a".into(),
                version,
                record_hash: h,
                signature: key("tax").sign_hash(&h),
            },
        )
    };
    assert!(node.produce(vec![commit(0, 1)]).is_empty());
    assert_eq!(last_error(&node), None, "a custodian commits");

    let revoke = GovernanceAction::RevokeRole {
        account: key("tax").account(),
        role: Role::Custodian,
    };
    node.produce(vec![tx("civil", 0, Call::Propose { action: revoke })]);
    node.produce(vec![tx("land", 0, Call::Approve { proposal: 1 })]);
    let (_, view) = node.exec.head_view().expect("view");
    let roles = view.account(&key("tax").account()).expect("acct").roles;
    assert!(!roles.has(Role::Custodian), "role removed");
    assert!(roles.has(Role::Validator), "other roles kept");

    let rejected = node.produce(vec![commit(1, 2)]);
    assert_eq!(rejected.len(), 1);
    assert!(
        matches!(
            &rejected[0],
            TxError::NotPermitted {
                action: "commit_record",
                ..
            }
        ),
        "{:?}",
        rejected[0]
    );
    let (_, view) = node.exec.head_view().expect("view");
    assert_eq!(
        view.records(&subject, "ds.a").expect("records").len(),
        1,
        "no new version"
    );
}

#[test]
fn a_revoked_validator_leaves_the_set_two_blocks_after_and_cannot_propose() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let revoke = GovernanceAction::RevokeRole {
        account: key("land").account(),
        role: Role::Validator,
    };
    node.produce(vec![tx("tax", 0, Call::Propose { action: revoke })]);
    node.produce(vec![tx("civil", 0, Call::Approve { proposal: 1 })]);
    let decided_at = node.head.height;
    let (_, view) = node.exec.head_view().expect("view");
    let set = |h| Executor::validator_set_at(&view, h).expect("set");
    let land = key("land").account();
    assert!(
        set(decided_at + 1).contains(&land),
        "still there for the next block"
    );
    assert_eq!(set(decided_at + 2).len(), 2, "from h + 2 on");
    assert!(!set(decided_at + 2).contains(&land));
    assert!(!view
        .account(&land)
        .expect("acct")
        .roles
        .has(Role::Validator));

    let rejected = node.produce(vec![tx(
        "land",
        0,
        Call::Propose {
            action: GovernanceAction::SetThreshold { threshold: 1 },
        },
    )]);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].code(), "not_permitted");
}

#[test]
fn approve_code_by_a_non_regulator_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let code = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call")))"#,
    )
    .expect("wat");
    let code_hash = sha3_256(&code);
    node.produce(vec![tx("bank", 0, Call::UploadCode { code })]);
    assert_eq!(
        node.receipts(node.head.height)[0].status,
        ReceiptStatus::Success
    );

    let approval = |signer: &str, nonce: u64| {
        tx(
            signer,
            nonce,
            Call::ApproveCode {
                code_hash,
                approved: true,
            },
        )
    };
    let (_, before) = node.exec.head_view().expect("view");
    for (who, nonce) in [("bank", 1), ("tax", 0), ("alice", 0)] {
        let rejected = node.produce(vec![approval(who, nonce)]);
        assert_eq!(rejected.len(), 1, "{who}");
        assert!(
            matches!(
                &rejected[0],
                TxError::NotPermitted {
                    action: "approve_code",
                    needs,
                    signer,
                } if needs == "regulator" && *signer == key(who).account()
            ),
            "{who}: {:?}",
            rejected[0]
        );
        assert_eq!(rejected[0].code(), "not_permitted");
    }
    let (_, after) = node.exec.head_view().expect("view");
    assert_eq!(
        after.get(&keys::code_approval(&code_hash)).expect("read"),
        None
    );
    for who in ["bank", "tax", "alice"] {
        let a = key(who).account();
        assert_eq!(
            after.account(&a).expect("acct"),
            before.account(&a).expect("acct"),
            "{who}: nonce and balance unchanged"
        );
    }

    // The regulator can.
    assert!(node.produce(vec![approval("reg", 0)]).is_empty());
    assert_eq!(last_error(&node), None);
    let (_, after) = node.exec.head_view().expect("view");
    assert!(after
        .get(&keys::code_approval(&code_hash))
        .expect("read")
        .is_some());
}

//! Roles change only through proposals approved by enough departments.
use civitas_primitives::block::ReceiptStatus;
use civitas_primitives::tx::{Call, GovernanceAction, Role};

use crate::common::*;

#[test]
fn a_role_is_granted_after_two_of_three_departments_approve() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let grant = GovernanceAction::GrantRole {
        account: key("alice").account(),
        role: Role::Institution,
    };
    node.produce(vec![tx("tax", 0, Call::Propose { action: grant })]);
    let r = &node.receipts(1)[0];
    assert_eq!(r.status, ReceiptStatus::Success);
    let id = u64::from_le_bytes(r.output.clone().try_into().expect("8 bytes"));
    let (_, view) = node.exec.head_view().expect("view");
    assert!(!view
        .account(&key("alice").account())
        .expect("acct")
        .roles
        .has(Role::Institution));

    // Approving twice by the same department does not count twice.
    node.produce(vec![tx("tax", 1, Call::Approve { proposal: id })]);
    assert_eq!(
        node.receipts(2)[0].error.as_ref().map(|e| e.code.as_str()),
        Some("already_approved")
    );

    node.produce(vec![tx("civil", 0, Call::Approve { proposal: id })]);
    let r = &node.receipts(3)[0];
    assert_eq!(r.events[0].topic, b"ProposalExecuted");
    let (_, view) = node.exec.head_view().expect("view");
    assert!(view
        .account(&key("alice").account())
        .expect("acct")
        .roles
        .has(Role::Institution));

    // A non-department cannot propose.
    let rejected = node.produce(vec![tx(
        "bank",
        0,
        Call::Propose {
            action: GovernanceAction::SetThreshold { threshold: 1 },
        },
    )]);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].code(), "not_permitted");
}

#[test]
fn a_new_validator_takes_part_two_blocks_after_the_change_commits() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let grant = GovernanceAction::GrantRole {
        account: key("bank").account(),
        role: Role::Validator,
    };
    node.produce(vec![tx("tax", 0, Call::Propose { action: grant })]);
    node.produce(vec![tx("civil", 0, Call::Approve { proposal: 1 })]);
    let decided_at = node.head.height; // the change committed in this block
    let (_, view) = node.exec.head_view().expect("view");
    let set = |h| civitas_ledger::Executor::validator_set_at(&view, h).expect("set");
    assert_eq!(set(decided_at).len(), 3);
    assert_eq!(set(decided_at + 1).len(), 3, "not yet for the next block");
    assert_eq!(set(decided_at + 2).len(), 4, "from h + 2 on");
    assert!(set(decided_at + 2).contains(&key("bank").account()));
    assert!(civitas_ledger::Executor::validators(&view)
        .expect("newest")
        .contains(&key("bank").account()));
}

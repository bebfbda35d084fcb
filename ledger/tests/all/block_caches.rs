//! What the executor keeps in memory must never change a decision: committed reads kept for a
//! block see the block's own writes over them, end with the block (committed or not), and
//! never hold a transaction's writes that were rolled back; private bodies are kept by the
//! exact transaction; a committed height's kept job context serves that height only; the
//! values kept of the newest committed version serve that version only and follow each
//! committed block's writes.
use civitas_ledger::state::keys;
use civitas_primitives::tx::Call;
use civitas_primitives::vault::{
    AccessOutcome, AuditEntry, ConsentAction, ConsentStatus, RefusalReason,
};
use civitas_primitives::Hash;

use crate::common::{transfer, tx, Node};
use crate::sealed::{declared, future, subject, world, World};

/// Alice's audit trail.
fn trail(w: &World) -> Vec<AuditEntry> {
    let (_, view) = w.node.exec.head_view().expect("view");
    let s = subject("alice");
    (0..view.audit_len(&s).expect("len"))
        .map(|i| {
            view.get_decoded(&keys::audit(&s, i))
                .expect("read")
                .expect("entry")
        })
        .collect()
}

/// The outcome audited for sealed call `tx_hash` (it declares one read).
fn outcome_of(w: &World, tx_hash: &Hash) -> AccessOutcome {
    let entries: Vec<AuditEntry> = trail(w)
        .into_iter()
        .filter(|e| e.tx_hash == *tx_hash)
        .collect();
    assert_eq!(entries.len(), 1, "one entry per declared read: {entries:?}");
    entries[0].outcome
}

/// A sealed call by bank over alice's `ds.a` (probe mode `mode`), at bank's nonce `nonce`.
fn sealed_tx(w: &World, nonce: u64, mode: u8) -> civitas_primitives::tx::SignedTransaction {
    let mut input = subject("alice").0.to_vec();
    input.push(mode);
    tx(
        "bank",
        nonce,
        Call::SealedCall {
            contract: w.contract,
            input,
            reads: declared(&[("alice", "ds.a")]),
        },
    )
}

/// A world where bank holds alice's active compute consent for the probe, with `uses` uses.
fn consented(uses: u32) -> (World, u64) {
    let mut w = world();
    let code = w.code_hash;
    let id = w.request("bank", &["ds.a"], Some(code), future(&w), uses);
    w.answer(id, ConsentAction::Approve);
    (w, id)
}

#[test]
fn a_consent_revoked_in_a_block_refuses_the_sealed_calls_after_it_there_and_in_the_next_block() {
    let (mut w, id) = consented(10);
    let bank = w.nonce("bank");
    let before = sealed_tx(&w, bank, 0);
    let revoke = tx(
        "alice",
        w.nonce("alice"),
        Call::Consent {
            id,
            action: ConsentAction::Revoke,
        },
    );
    let after = sealed_tx(&w, bank + 1, 0);
    // The first call reads the consent from the committed state; the revoke then changes it
    // in the block; the second call must read the change, not the committed value.
    let rejected = w
        .node
        .produce(vec![before.clone(), revoke.clone(), after.clone()]);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(outcome_of(&w, &before.hash()), AccessOutcome::Granted);
    assert_eq!(
        outcome_of(&w, &after.hash()),
        AccessOutcome::Refused(RefusalReason::Revoked)
    );
    // The next block reads the revoked consent from the committed state.
    let next = sealed_tx(&w, bank + 2, 0);
    assert!(w.node.produce(vec![next.clone()]).is_empty());
    assert_eq!(
        outcome_of(&w, &next.hash()),
        AccessOutcome::Refused(RefusalReason::Revoked)
    );
    let (_, view) = w.node.exec.head_view().expect("view");
    let consent = view.consent(id).expect("read").expect("consent");
    assert_eq!((consent.status, consent.uses), (ConsentStatus::Revoked, 1));
}

#[test]
fn a_proposal_left_uncommitted_leaves_nothing_for_the_next_proposal() {
    let (mut w, id) = consented(1);
    let bank = w.nonce("bank");
    // Proposed on the head and dropped (another proposal won the height): it revokes the
    // consent, and a sealed call uses it up.
    let revoke = tx(
        "alice",
        w.nonce("alice"),
        Call::Consent {
            id,
            action: ConsentAction::Revoke,
        },
    );
    let dropped = w.node.propose(vec![sealed_tx(&w, bank, 1), revoke]);
    assert!(dropped.rejected.is_empty() && dropped.excluded.is_empty());
    assert_eq!(dropped.executed.block.txs.len(), 2);
    drop(dropped);
    // The block that commits at that height sees the committed state only.
    let call = sealed_tx(&w, bank, 0);
    assert!(w.node.produce(vec![call.clone()]).is_empty());
    assert_eq!(outcome_of(&w, &call.hash()), AccessOutcome::Granted);
    let (_, view) = w.node.exec.head_view().expect("view");
    let consent = view.consent(id).expect("read").expect("consent");
    assert_eq!((consent.status, consent.uses), (ConsentStatus::Active, 1));
}

#[test]
fn a_transaction_left_out_of_a_block_leaves_none_of_its_writes_for_the_transactions_after_it() {
    let (mut w, id) = consented(5);
    let bank = w.nonce("bank");
    let balance = w.node.balance("bank");
    // Its execution uses the consent and charges bank, then fails as committed bytes every
    // node fails to decode would: it is left out and its writes are rolled back.
    let left_out = sealed_tx(&w, bank, 1);
    w.node.exec.poison_for_tests(left_out.hash());
    let kept = sealed_tx(&w, bank, 0);
    let p = w.node.propose(vec![left_out.clone(), kept.clone()]);
    assert_eq!(
        p.excluded.iter().map(|(h, _)| *h).collect::<Vec<_>>(),
        vec![left_out.hash()]
    );
    assert_eq!(p.executed.block.txs, vec![kept.clone()]);
    w.node.commit(p.executed);
    w.node.exec.clear_poison_for_tests();
    let entries: Vec<AuditEntry> = trail(&w)
        .into_iter()
        .filter(|e| e.tx_hash == kept.hash() || e.tx_hash == left_out.hash())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].tx_hash, kept.hash());
    assert_eq!(entries[0].outcome, AccessOutcome::Granted);
    assert_eq!(entries[0].uses_left, Some(4), "one use, the kept call's");
    let (_, view) = w.node.exec.head_view().expect("view");
    assert_eq!(view.consent(id).expect("read").expect("consent").uses, 1);
    assert_eq!(
        w.node.balance("bank"),
        balance - 7,
        "charged once (the probe's dataset costs 7)"
    );
}

#[test]
fn a_replacement_transaction_runs_its_own_private_body_not_the_one_opened_before() {
    let (mut w, _) = consented(5);
    let bank = w.nonce("bank");
    let first = sealed_tx(&w, bank, 0);
    let replacement = sealed_tx(&w, bank, 4);
    assert_ne!(first.hash(), replacement.hash());
    // Admission opens (and keeps) the first one's body; the replacement, with the same
    // signer and nonce, is what the block holds.
    let (_, view) = w.node.exec.head_view().expect("view");
    w.node
        .exec
        .check_tx_except_nonce(&view, &first, false)
        .expect("checks")
        .expect("admitted");
    assert!(w.node.produce(vec![replacement.clone()]).is_empty());
    let height = w.node.head.height;
    let job = w
        .node
        .exec
        .sealed_job(&replacement.hash(), height)
        .expect("read")
        .expect("a job");
    let mut input = subject("alice").0.to_vec();
    input.push(4);
    assert_eq!(job.input, input, "the replacement's own input");
}

#[test]
fn the_kept_job_context_serves_only_its_own_height() {
    let (mut w, _) = consented(5);
    let bank = w.nonce("bank");
    let call = sealed_tx(&w, bank, 0);
    assert!(w.node.produce(vec![call.clone()]).is_empty());
    let height = w.node.head.height;
    assert!(w.node.produce(Vec::new()).is_empty());
    // Running the job keeps its height's context.
    assert!(w
        .node
        .exec
        .run_sealed_job(&call.hash(), height)
        .expect("runs")
        .is_some());
    // The state before its block holds no such call.
    assert_eq!(
        w.node
            .exec
            .sealed_job(&call.hash(), height - 1)
            .expect("read"),
        None
    );
    assert!(w
        .node
        .exec
        .run_sealed_job(&call.hash(), height - 1)
        .expect("runs")
        .is_none());
    assert!(w
        .node
        .exec
        .sealed_job(&call.hash(), height)
        .expect("read")
        .is_some());
}

#[test]
fn tree_nodes_of_a_dropped_proposal_never_reach_the_blocks_after_it() {
    let (da, db) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let (mut a, mut b) = (Node::open(da.path()), Node::open(db.path()));
    // Node a executes the winner of height 1, then a competing proposal for the same height
    // (its tree nodes for version 1 differ from the winner's under some of the same node
    // keys), and commits the winner.
    let first = vec![transfer("bank", 0, "bob", 5)];
    let winner = a.propose(first.clone());
    let time = a.time_ms;
    let loser = a.propose(vec![
        transfer("bank", 0, "alice", 10),
        transfer("tax", 0, "civil", 3),
    ]);
    assert!(loser.rejected.is_empty() && loser.excluded.is_empty());
    drop(loser);
    a.commit(winner.executed);
    a.time_ms = time;
    // Node b never saw the competing proposal; both build on the winner.
    b.time_ms = time - 1_000;
    assert!(b.produce(first).is_empty());
    assert_eq!(a.head, b.head, "after the winner");
    let next = vec![
        transfer("bank", 1, "alice", 7),
        transfer("bob", 0, "alice", 2),
    ];
    assert!(a.produce(next.clone()).is_empty());
    assert!(b.produce(next).is_empty());
    assert_eq!(a.head, b.head, "after the next block");
}

#[test]
fn reading_an_older_height_never_changes_what_the_newest_height_reads() {
    let (mut w, _) = consented(5);
    let bank = w.nonce("bank");
    let call = sealed_tx(&w, bank, 0);
    assert!(w.node.produce(vec![call.clone()]).is_empty());
    let height = w.node.head.height;
    let key = keys::sealed_job(&call.hash());
    // The newest height holds the job its block wrote (kept with the committed values).
    let (_, head) = w.node.exec.head_view().expect("view");
    assert!(head.get(&key).expect("read").is_some());
    // The height before holds no such job: that read goes to the store, at its own height.
    assert_eq!(
        w.node
            .exec
            .sealed_job(&call.hash(), height - 1)
            .expect("read"),
        None
    );
    // What it read there never becomes the newest height's value.
    let (_, head) = w.node.exec.head_view().expect("view");
    assert!(
        head.get(&key).expect("read").is_some(),
        "the head lost the job its block wrote"
    );
    assert!(w
        .node
        .exec
        .sealed_job(&call.hash(), height)
        .expect("read")
        .is_some());
}

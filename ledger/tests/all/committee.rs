//! The sealed-compute committee on a real store: a sealed call's block carries only its public
//! effects and a pending outcome; members' attestations are admitted only from members, after
//! the delay, once each; the output hash becomes public when a threshold agrees; disagreement
//! is recorded; and a validator with no payloads and no sealing key executes every block to
//! the same state roots.
use civitas_ledger::{Executor, Store, TxError};
use civitas_primitives::committee::{SealedAttestation, SealedOutcome, ATTESTATION_DELAY};
use civitas_primitives::tx::{Call, GovernanceAction, SignedTransaction};
use civitas_primitives::vault::ConsentAction;
use civitas_primitives::{sha3_256, Hash};
use civitas_runtime::{Vm, VmConfig};

use crate::common::{genesis, key, tx, CHAIN};
use crate::sealed::{declared, future, subject, world, World};

/// A consented sealed call of alice's `ds.a`, committed: its hash and block height.
fn sealed_call(w: &mut World) -> (Hash, u64) {
    let code = w.code_hash;
    let id = w.request("bank", &["ds.a"], Some(code), future(w), 5);
    w.answer(id, ConsentAction::Approve);
    let mut input = subject("alice").0.to_vec();
    input.push(0);
    let r = w.ok(
        "bank",
        Call::SealedCall {
            contract: w.contract,
            input,
            reads: declared(&[("alice", "ds.a")]),
        },
    );
    (r.tx_hash, w.node.head.height)
}

fn attestation(who: &str, w: &World, call: Hash, output_hash: Hash) -> SignedTransaction {
    tx(
        who,
        w.nonce(who),
        Call::AttestSealedOutputs {
            attestations: vec![SealedAttestation { call, output_hash }],
        },
    )
}

/// The admission verdict on `t` against the head state.
fn admission(w: &World, t: &SignedTransaction) -> Result<(), TxError> {
    let (_, view) = w.node.exec.head_view().expect("view");
    w.node.exec.check_tx(&view, t, false).expect("node ok")
}

fn outcome(w: &World, call: &Hash) -> SealedOutcome {
    let (_, view) = w.node.exec.head_view().expect("view");
    Executor::sealed_outcome(&view, call)
        .expect("read")
        .expect("outcome")
}

#[test]
fn an_output_becomes_public_only_when_a_threshold_of_members_attest_it() {
    let mut w = world();
    let (call, height) = sealed_call(&mut w);
    assert_eq!(
        outcome(&w, &call),
        SealedOutcome {
            height,
            output_hash: None,
            attested_at: None,
            attestations: 0,
            disputed: false,
        },
        "pending after its block"
    );
    let (hash, stored) = w
        .node
        .exec
        .run_sealed_job(&call, height)
        .expect("runs")
        .expect("job");
    assert_eq!(
        civitas_primitives::vault::SealedResult::from_padded(&stored.padded)
            .expect("decodes")
            .output,
        parity_scale_codec::Encode::encode(&42u32),
        "the member computed over the granted record"
    );

    // The next block would be height + 1: too early.
    assert_eq!(
        admission(&w, &attestation("tax", &w, call, hash)),
        Err(TxError::AttestationTooEarly {
            call,
            due: height + ATTESTATION_DELAY
        })
    );
    while w.node.head.height + 1 < height + ATTESTATION_DELAY {
        assert!(w.node.produce(Vec::new()).is_empty());
    }
    assert_eq!(
        admission(&w, &attestation("reg", &w, call, hash)),
        Err(TxError::NotCommitteeMember(key("reg").account())),
        "a regulator is no member"
    );
    assert_eq!(
        admission(&w, &attestation("bank", &w, call, hash)),
        Err(TxError::NotCommitteeMember(key("bank").account())),
    );
    let unknown = sha3_256(b"no such call");
    assert_eq!(
        admission(&w, &attestation("tax", &w, unknown, hash)),
        Err(TxError::UnknownSealedCall(unknown))
    );

    w.node.produce(vec![attestation("tax", &w, call, hash)]);
    let one = outcome(&w, &call);
    assert_eq!((one.attestations, one.output_hash), (1, None), "one of two");
    assert_eq!(
        admission(&w, &attestation("tax", &w, call, hash)),
        Err(TxError::AlreadyAttested(call))
    );

    w.node.produce(vec![attestation("civil", &w, call, hash)]);
    let done = outcome(&w, &call);
    assert_eq!(done.output_hash, Some(hash));
    assert_eq!(done.attested_at, Some(w.node.head.height));
    assert!(!done.disputed);
    let receipt = w.node.receipts(w.node.head.height).remove(0);
    assert_eq!(receipt.events.len(), 1);
    assert_eq!(receipt.events[0].topic, b"SealedOutputAttested".to_vec());
}

#[test]
fn members_that_disagree_mark_the_call_disputed_and_the_threshold_still_decides() {
    let mut w = world();
    let (call, height) = sealed_call(&mut w);
    let (hash, _) = w
        .node
        .exec
        .run_sealed_job(&call, height)
        .expect("runs")
        .expect("job");
    while w.node.head.height + 1 < height + ATTESTATION_DELAY {
        assert!(w.node.produce(Vec::new()).is_empty());
    }
    let wrong = sha3_256(b"a wrong output");
    w.node.produce(vec![
        attestation("tax", &w, call, hash),
        attestation("civil", &w, call, wrong),
    ]);
    let split = outcome(&w, &call);
    assert!(split.disputed);
    assert_eq!((split.attestations, split.output_hash), (2, None));
    let receipts = w.node.receipts(w.node.head.height);
    assert_eq!(
        receipts[1].events[0].topic,
        b"SealedOutputDisputed".to_vec(),
        "the second, differing attestation raises the alarm"
    );

    w.node.produce(vec![attestation("land", &w, call, hash)]);
    let decided = outcome(&w, &call);
    assert_eq!(decided.output_hash, Some(hash), "two of three agree");
    assert!(decided.disputed, "the disagreement stays on record");
}

#[test]
fn a_validator_without_payloads_or_sealing_key_reaches_the_same_roots() {
    let mut w = world();
    let (call, call_height) = sealed_call(&mut w);
    let (hash, _) = w.node.settle_sealed(call);

    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path()).expect("open");
    let plain = Executor::new(
        store,
        Vm::new(VmConfig::default()).expect("vm"),
        w.node.exec.params().clone(),
    )
    .with_access_key(civitas_primitives::dev::dev_access_key(CHAIN));
    assert!(plain.vault().is_none());
    let mut head = plain.init_genesis(&genesis()).expect("genesis");
    let source = w.node.exec.store();
    for height in 1..=w.node.head.height {
        let block = source.block(height).expect("read").expect("block");
        let executed = plain.validate(&head, &block).expect("validates");
        let certificate = source
            .certificate(height)
            .expect("read")
            .expect("certificate");
        head = plain.commit(executed, certificate).expect("commit");
        assert_eq!(
            head.state_root,
            source
                .block(height)
                .expect("read")
                .expect("block")
                .header
                .state_root,
            "height {height}"
        );
    }
    let (_, view) = plain.head_view().expect("view");
    assert_eq!(
        Executor::sealed_outcome(&view, &call)
            .expect("read")
            .and_then(|o| o.output_hash),
        Some(hash)
    );
    assert!(
        plain.run_sealed_job(&call, call_height).is_err(),
        "without the sealing key it cannot compute the result"
    );
}

#[test]
fn governance_names_a_committee_of_validators_only() {
    let mut w = world();
    let propose = |w: &World, members: Vec<civitas_primitives::AccountId>| {
        let mut members = members;
        members.sort();
        tx(
            "tax",
            w.nonce("tax"),
            Call::Propose {
                action: GovernanceAction::SetSealedCommittee {
                    committee: civitas_primitives::committee::SealedCommittee {
                        members,
                        threshold: 1,
                    },
                },
            },
        )
    };
    let t = propose(&w, vec![key("tax").account(), key("bank").account()]);
    w.node.produce(vec![t]);
    let r = w.node.receipts(w.node.head.height).remove(0);
    assert_eq!(
        r.error.map(|e| e.code),
        Some("invalid_committee".to_string()),
        "a bank cannot join the committee"
    );

    let t = propose(&w, vec![key("land").account()]);
    w.node.produce(vec![t]);
    let r = w.node.receipts(w.node.head.height).remove(0);
    assert!(r.error.is_none(), "{:?}", r.error);
    let id = u64::from_le_bytes(r.output[..8].try_into().expect("id"));
    w.ok("civil", Call::Approve { proposal: id });
    let (_, view) = w.node.exec.head_view().expect("view");
    let committee = Executor::committee(&view).expect("read");
    assert_eq!(committee.members, vec![key("land").account()]);

    // Only land may attest now.
    let (call, height) = sealed_call(&mut w);
    while w.node.head.height + 1 < height + ATTESTATION_DELAY {
        assert!(w.node.produce(Vec::new()).is_empty());
    }
    let hash = sha3_256(b"any");
    assert_eq!(
        admission(&w, &attestation("tax", &w, call, hash)),
        Err(TxError::NotCommitteeMember(key("tax").account()))
    );
    assert_eq!(admission(&w, &attestation("land", &w, call, hash)), Ok(()));
}

//! Sealed compute on a real store: the consent matrix (every refusal audited, nothing else
//! changed), exfiltration attempts by hostile contracts, uniform public receipts, disclosure,
//! and audit proofs that fail when an entry is altered.
use civitas_ledger::proof::{prove, verify_state_proof};
use civitas_ledger::state::keys;
use civitas_primitives::tx::Call;
use civitas_primitives::vault::{
    record_hash, AccessKind, AccessOutcome, AuditEntry, ConsentAction, ConsentMode, ConsentRequest,
    ConsentStatus, DeclaredRead, RefusalReason, SealedResult, SubjectId, SEALED_RESULT_SIZE,
};
use civitas_primitives::{contract_address, sha3_256, AccountId, Hash};
use parity_scale_codec::Encode;

use crate::common::{key, tx, Node};

/// A contract whose input is `subject (32 bytes) || mode (1 byte)`. It reads `ds.a` of the
/// subject; a refusal returns `[0xff]`. Modes after a granted read: 0 return the payload,
/// 1 write storage, 2 emit an event, 3 call a contract, 4 return 2000 bytes, 5 loop
/// payload[0] × 10 000 times (signalling through fuel), 6 write storage before reading,
/// 7 revert with 2000 bytes, 8 revert with the payload, 9 when payload[0] is odd (a read
/// that depends on the data) return `ds.b` instead, or `[0xfe]` if that read is refused.
const PROBE: &str = r#"(module
 (import "civitas" "input_read" (func $input_read (param i32)))
 (import "civitas" "set_return" (func $set_return (param i32 i32)))
 (import "civitas" "sealed_read" (func $sealed_read (param i32 i32 i32) (result i32)))
 (import "civitas" "result_len" (func $result_len (result i32)))
 (import "civitas" "result_read" (func $result_read (param i32)))
 (import "civitas" "storage_write" (func $storage_write (param i32 i32 i32 i32)))
 (import "civitas" "emit_event" (func $emit_event (param i32 i32 i32 i32)))
 (import "civitas" "call_contract" (func $call_contract (param i32 i32 i32) (result i32)))
 (import "civitas" "revert" (func $revert (param i32 i32)))
 (memory (export "memory") 1)
 (data (i32.const 1024) "ds.a")
 (data (i32.const 1032) "ds.b")
 (data (i32.const 1100) "VARIANT")
 (func (export "deploy"))
 (func (export "call")
  (local $mode i32) (local $n i32)
  (call $input_read (i32.const 0))
  (local.set $mode (i32.load8_u (i32.const 32)))
  (if (i32.eq (local.get $mode) (i32.const 6))
    (then (call $storage_write (i32.const 1024) (i32.const 4) (i32.const 1024) (i32.const 4))))
  (if (i32.ne (call $sealed_read (i32.const 0) (i32.const 1024) (i32.const 4)) (i32.const 0))
    (then (i32.store8 (i32.const 2048) (i32.const 255))
          (call $set_return (i32.const 2048) (i32.const 1))
          (return)))
  (call $result_read (i32.const 2048))
  (if (i32.eq (local.get $mode) (i32.const 1))
    (then (call $storage_write (i32.const 1024) (i32.const 4) (i32.const 2048) (i32.const 4))))
  (if (i32.eq (local.get $mode) (i32.const 2))
    (then (call $emit_event (i32.const 1024) (i32.const 4) (i32.const 2048) (i32.const 4))))
  (if (i32.eq (local.get $mode) (i32.const 3))
    (then (drop (call $call_contract (i32.const 0) (i32.const 1024) (i32.const 4)))))
  (if (i32.eq (local.get $mode) (i32.const 4))
    (then (call $set_return (i32.const 0) (i32.const 2000)) (return)))
  (if (i32.eq (local.get $mode) (i32.const 7))
    (then (call $revert (i32.const 0) (i32.const 2000))))
  (if (i32.eq (local.get $mode) (i32.const 8))
    (then (call $revert (i32.const 2048) (call $result_len))))
  (if (i32.and (i32.eq (local.get $mode) (i32.const 9))
               (i32.and (i32.load8_u (i32.const 2048)) (i32.const 1)))
    (then (if (i32.ne (call $sealed_read (i32.const 0) (i32.const 1032) (i32.const 4)) (i32.const 0))
            (then (i32.store8 (i32.const 2048) (i32.const 254))
                  (call $set_return (i32.const 2048) (i32.const 1))
                  (return)))
          (call $result_read (i32.const 2048))))
  (if (i32.eq (local.get $mode) (i32.const 5))
    (then (local.set $n (i32.mul (i32.load8_u (i32.const 2048)) (i32.const 10000)))
          (loop $l (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                   (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))))
  (call $set_return (i32.const 2048) (call $result_len)))
)"#;

const DAY: u64 = 86_400_000;

pub(crate) fn subject(name: &str) -> SubjectId {
    sha3_256(format!("subject-{name}").as_bytes())
}

/// A declaration of (subject name, dataset) reads.
pub(crate) fn declared(reads: &[(&str, &str)]) -> Vec<DeclaredRead> {
    reads
        .iter()
        .map(|(who, dataset)| DeclaredRead {
            subject: subject(who),
            dataset: dataset.to_string(),
        })
        .collect()
}

pub(crate) struct World {
    pub(crate) node: Node,
    _dir: tempfile::TempDir,
    pub(crate) contract: AccountId,
    pub(crate) code_hash: Hash,
    other_code: Hash,
}

impl World {
    pub(crate) fn nonce(&self, who: &str) -> u64 {
        self.node.nonce(who)
    }

    pub(crate) fn send(&mut self, who: &str, call: Call) -> civitas_primitives::block::Receipt {
        let t = tx(who, self.nonce(who), call);
        let rejected = self.node.produce(vec![t]);
        assert!(rejected.is_empty(), "refused: {rejected:?}");
        self.node.receipts(self.node.head.height).remove(0)
    }

    pub(crate) fn ok(&mut self, who: &str, call: Call) -> civitas_primitives::block::Receipt {
        let r = self.send(who, call);
        assert!(r.error.is_none(), "failed: {:?}", r.error);
        r
    }

    /// Uploads `value` as the next record of `name` in `dataset`.
    fn record(&mut self, name: &str, dataset: &str, value: u32) {
        let s = subject(name);
        let (_, view) = self.node.exec.head_view().expect("view");
        let version = view.records(&s, dataset).expect("records").len() as u32 + 1;
        let tax = key("tax");
        let mut r = civitas_primitives::vault::Record {
            subject: s,
            dataset: dataset.into(),
            version,
            salt: [version as u8; 32],
            payload: value.encode(),
            custodian: tax.account(),
            signature: [0; 64],
        };
        r.signature = tax.sign_hash(&r.hash());
        assert_eq!(
            r.hash(),
            record_hash(&s, dataset, version, &r.salt, &r.payload)
        );
        self.node
            .exec
            .vault()
            .expect("vault")
            .put_records(std::slice::from_ref(&r))
            .expect("vault put");
        self.ok(
            "tax",
            Call::CommitRecord {
                subject: s,
                dataset: dataset.into(),
                version,
                record_hash: r.hash(),
                signature: r.signature,
            },
        );
    }

    pub(crate) fn request(
        &mut self,
        bank: &str,
        datasets: &[&str],
        code: Option<Hash>,
        expires_ms: u64,
        max_uses: u32,
    ) -> u64 {
        let r = self.ok(
            bank,
            Call::RequestConsent {
                request: ConsentRequest {
                    subject: subject("alice"),
                    datasets: datasets.iter().map(|d| d.to_string()).collect(),
                    purpose: "loan".into(),
                    mode: if code.is_some() {
                        ConsentMode::Compute
                    } else {
                        ConsentMode::Disclose
                    },
                    code_hash: code,
                    expires_ms,
                    max_uses,
                },
            },
        );
        u64::from_le_bytes(r.output[..8].try_into().expect("id"))
    }

    pub(crate) fn answer(&mut self, id: u64, action: ConsentAction) {
        self.ok("alice", Call::Consent { id, action });
    }

    /// A sealed call as `bank` over `who`'s `ds.a` in `mode`, declaring that read: the public
    /// receipt, the private result.
    fn sealed(
        &mut self,
        bank: &str,
        who: &str,
        mode: u8,
    ) -> (civitas_primitives::block::Receipt, SealedResult) {
        self.sealed_declaring(bank, who, mode, &[(who, "ds.a")])
    }

    /// A sealed call as `bank` over `who`'s records in `mode`, declaring `reads`.
    fn sealed_declaring(
        &mut self,
        bank: &str,
        who: &str,
        mode: u8,
        reads: &[(&str, &str)],
    ) -> (civitas_primitives::block::Receipt, SealedResult) {
        let mut input = subject(who).0.to_vec();
        input.push(mode);
        let r = self.send(
            bank,
            Call::SealedCall {
                contract: self.contract,
                input,
                reads: declared(reads),
            },
        );
        assert_eq!(
            r.output_hash,
            Hash::default(),
            "a sealed receipt has no output hash"
        );
        let (_, stored) = self.node.settle_sealed(r.tx_hash);
        (
            r,
            SealedResult::from_padded(&stored.padded).expect("decodes"),
        )
    }

    /// The output hash the committee attested for sealed call `tx`.
    fn attested(&self, tx: &Hash) -> Hash {
        let (_, view) = self.node.exec.head_view().expect("view");
        civitas_ledger::Executor::sealed_outcome(&view, tx)
            .expect("read")
            .and_then(|o| o.output_hash)
            .expect("attested")
    }

    fn audit(&self, who: &str) -> Vec<AuditEntry> {
        let (_, view) = self.node.exec.head_view().expect("view");
        let s = subject(who);
        (0..view.audit_len(&s).expect("len"))
            .map(|i| {
                view.get_decoded(&keys::audit(&s, i))
                    .expect("read")
                    .expect("entry")
            })
            .collect()
    }

    /// Everything a refusal must leave untouched.
    fn observable(&self) -> (u128, u128, u128, Vec<(u32, ConsentStatus)>) {
        let (_, view) = self.node.exec.head_view().expect("view");
        let consents = (1..20)
            .filter_map(|id| view.consent(id).expect("consent"))
            .map(|c| (c.uses, c.status))
            .collect();
        (
            self.node.balance("bank"),
            self.node.balance("bank2"),
            self.node.balance("tax"),
            consents,
        )
    }
}

pub(crate) fn world() -> World {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let code = wat::parse_str(PROBE).expect("wat");
    let variant = wat::parse_str(PROBE.replace("VARIANT", "OTHER!!")).expect("wat");
    let code_hash = sha3_256(&code);
    let other_code = sha3_256(&variant);
    let mut w = World {
        node: {
            node.time_ms = 1_700_000_000_000;
            node
        },
        _dir: dir,
        contract: contract_address(&key("bank").account(), &code_hash, b"probe"),
        code_hash,
        other_code,
    };
    w.ok("bank", Call::UploadCode { code });
    w.ok("bank", Call::UploadCode { code: variant });
    w.ok(
        "bank",
        Call::Instantiate {
            code_hash,
            salt: b"probe".to_vec(),
            input: vec![],
        },
    );
    w.ok(
        "reg",
        Call::ApproveCode {
            code_hash,
            approved: true,
        },
    );
    w.ok(
        "civil",
        Call::BindIdentity {
            subject: subject("alice"),
            account: key("alice").account(),
        },
    );
    w.record("alice", "ds.a", 42);
    w
}

pub(crate) fn future(w: &World) -> u64 {
    w.node.time_ms + 30 * DAY
}

#[test]
fn a_granted_read_pays_counts_audits_and_returns_only_through_the_sealed_result() {
    let mut w = world();
    let code = w.code_hash;
    let id = w.request("bank", &["ds.a"], Some(code), future(&w), 2);
    w.answer(id, ConsentAction::Approve);
    let (bank, tax) = (w.node.balance("bank"), w.node.balance("tax"));
    let (receipt, result) = w.sealed("bank", "alice", 0);
    assert!(result.ok, "{result:?}");
    assert_eq!(result.output, 42u32.encode());
    assert_eq!(w.node.balance("bank"), bank - 7);
    assert_eq!(w.node.balance("tax"), tax + 7);
    assert!(receipt.output.is_empty() && receipt.events.is_empty());
    assert_eq!(
        receipt.fuel_used, 10_000_000,
        "a sealed receipt reports the budget"
    );
    assert_ne!(
        w.attested(&receipt.tx_hash),
        sha3_256(&result.padded()),
        "the hash is salted"
    );
    let trail = w.audit("alice");
    let e = trail.last().expect("entry");
    assert_eq!(
        (
            e.kind,
            e.outcome,
            e.consent,
            e.uses_left,
            e.dataset.as_str()
        ),
        (
            AccessKind::SealedRead,
            AccessOutcome::Granted,
            Some(id),
            Some(1),
            "ds.a"
        )
    );
    assert_eq!(e.code_hash, Some(code));
    assert_eq!(e.contract, Some(w.contract));
    assert_eq!(e.tx_hash, receipt.tx_hash);
}

/// Sets up one refusal case, runs the sealed call, and checks refusal + audit + no change.
fn refused(case: &str, reason: RefusalReason, setup: impl FnOnce(&mut World) -> &'static str) {
    let mut w = world();
    let bank = setup(&mut w);
    let before = w.observable();
    let trail_before = w.audit("alice").len();
    let (receipt, result) = w.sealed(bank, "alice", 0);
    assert!(result.ok, "{case}: the probe handles refusals itself");
    assert_eq!(
        result.output,
        vec![0xff],
        "{case}: the read must be refused"
    );
    assert!(
        receipt.error.is_none() && receipt.events.is_empty(),
        "{case}"
    );
    let trail = w.audit("alice");
    assert_eq!(trail.len(), trail_before + 1, "{case}: one audit entry");
    let e = trail.last().expect("entry");
    assert_eq!(e.outcome, AccessOutcome::Refused(reason), "{case}");
    assert_eq!(e.accessor, key(bank).account(), "{case}");
    assert_eq!(
        w.observable(),
        before,
        "{case}: nothing but the audit trail changes"
    );
}

#[test]
fn consent_matrix_every_refusal_is_audited_and_changes_nothing() {
    refused("no consent", RefusalReason::NoConsent, |_| "bank");
    refused("pending", RefusalReason::Pending, |w| {
        let c = w.code_hash;
        w.request("bank", &["ds.a"], Some(c), future(w), 5);
        "bank"
    });
    refused("rejected", RefusalReason::Rejected, |w| {
        let c = w.code_hash;
        let id = w.request("bank", &["ds.a"], Some(c), future(w), 5);
        w.answer(id, ConsentAction::Reject);
        "bank"
    });
    refused("paused", RefusalReason::Paused, |w| {
        let c = w.code_hash;
        let id = w.request("bank", &["ds.a"], Some(c), future(w), 5);
        w.answer(id, ConsentAction::Approve);
        w.answer(id, ConsentAction::Pause);
        "bank"
    });
    refused("revoked", RefusalReason::Revoked, |w| {
        let c = w.code_hash;
        let id = w.request("bank", &["ds.a"], Some(c), future(w), 5);
        w.answer(id, ConsentAction::Approve);
        w.answer(id, ConsentAction::Revoke);
        "bank"
    });
    refused("expired", RefusalReason::Expired, |w| {
        let c = w.code_hash;
        let expires = w.node.time_ms + 3_000;
        let id = w.request("bank", &["ds.a"], Some(c), expires, 5);
        w.answer(id, ConsentAction::Approve);
        w.node.time_ms += 10_000;
        "bank"
    });
    refused("exhausted", RefusalReason::Exhausted, |w| {
        let c = w.code_hash;
        let id = w.request("bank", &["ds.a"], Some(c), future(w), 1);
        w.answer(id, ConsentAction::Approve);
        let (_, first) = w.sealed("bank", "alice", 0);
        assert_eq!(first.output, 42u32.encode(), "the one allowed use works");
        "bank"
    });
    refused("wrong institution", RefusalReason::NoConsent, |w| {
        let c = w.code_hash;
        let id = w.request("bank", &["ds.a"], Some(c), future(w), 5);
        w.answer(id, ConsentAction::Approve);
        "bank2"
    });
    refused("wrong code hash", RefusalReason::WrongCodeHash, |w| {
        let other = w.other_code;
        let id = w.request("bank", &["ds.a"], Some(other), future(w), 5);
        w.answer(id, ConsentAction::Approve);
        "bank"
    });
    refused("unapproved code", RefusalReason::CodeNotApproved, |w| {
        let c = w.code_hash;
        let id = w.request("bank", &["ds.a"], Some(c), future(w), 5);
        w.answer(id, ConsentAction::Approve);
        w.ok(
            "reg",
            Call::ApproveCode {
                code_hash: c,
                approved: false,
            },
        );
        "bank"
    });
    refused(
        "dataset not in the consent",
        RefusalReason::DatasetNotConsented,
        |w| {
            let c = w.code_hash;
            let id = w.request("bank", &["ds.b"], Some(c), future(w), 5);
            w.answer(id, ConsentAction::Approve);
            "bank"
        },
    );
}

fn consented() -> World {
    let mut w = world();
    let c = w.code_hash;
    let id = w.request("bank", &["ds.a"], Some(c), future(&w), 100);
    w.answer(id, ConsentAction::Approve);
    w
}

#[test]
fn revert_data_shares_the_capped_output_channel() {
    let mut w = consented();
    // 2000 bytes of revert data: over the 1024-byte cap, so nothing of it leaves.
    let (receipt, big) = w.sealed("bank", "alice", 7);
    assert!(!big.ok);
    assert_eq!(big.error_code, "sealed_output_too_large");
    assert!(big.output.is_empty(), "no revert byte passes the cap");
    // A revert under the cap is the call's output, as a return value would be.
    let (receipt_small, small) = w.sealed("bank", "alice", 8);
    assert!(!small.ok);
    assert_eq!(small.error_code, "reverted");

    // Every stored result has one size, and the public receipts have one shape.
    let stored = |r: &civitas_primitives::block::Receipt| {
        w.node
            .exec
            .vault()
            .expect("vault")
            .sealed_output(&r.tx_hash)
            .expect("read")
            .expect("stored")
            .padded
            .len()
    };
    assert_eq!(stored(&receipt), SEALED_RESULT_SIZE);
    assert_eq!(stored(&receipt_small), SEALED_RESULT_SIZE);
    for r in [&receipt, &receipt_small] {
        assert!(r.error.is_none() && r.events.is_empty() && r.output.is_empty());
        assert_eq!(r.fuel_used, receipt.fuel_used, "fuel is the budget");
    }
}

#[test]
fn exfiltration_after_a_sealed_read_is_refused_with_typed_errors() {
    let mut w = consented();
    let storage_before = {
        let (_, view) = w.node.exec.head_view().expect("view");
        view.get(&keys::storage(&w.contract, b"ds.a"))
            .expect("read")
    };
    for (mode, code) in [
        (1u8, "sealed_side_effect.storage_write"),
        (2, "sealed_side_effect.emit_event"),
        (3, "sealed_side_effect.call_contract"),
        (4, "sealed_output_too_large"),
        (6, "read_only.storage_write"),
    ] {
        let (receipt, result) = w.sealed("bank", "alice", mode);
        assert!(!result.ok, "mode {mode} must fail");
        assert_eq!(result.error_code, code, "mode {mode}");
        assert!(
            result.output.is_empty(),
            "mode {mode}: no output on failure"
        );
        assert!(
            receipt.error.is_none() && receipt.events.is_empty() && receipt.output.is_empty(),
            "mode {mode}: the public receipt is uniform"
        );
    }
    let (_, view) = w.node.exec.head_view().expect("view");
    assert_eq!(
        view.get(&keys::storage(&w.contract, b"ds.a"))
            .expect("read"),
        storage_before
    );
}

#[test]
fn fuel_and_status_carry_no_signal_about_the_data() {
    let mut w = consented();
    w.ok(
        "civil",
        Call::BindIdentity {
            subject: subject("bob"),
            account: key("bob").account(),
        },
    );
    w.record("bob", "ds.a", 1);
    let c = w.code_hash;
    let r = w.ok(
        "bank",
        Call::RequestConsent {
            request: ConsentRequest {
                subject: subject("bob"),
                datasets: vec!["ds.a".into()],
                purpose: "loan".into(),
                mode: ConsentMode::Compute,
                code_hash: Some(c),
                expires_ms: future(&w),
                max_uses: 5,
            },
        },
    );
    let bob_consent = u64::from_le_bytes(r.output[..8].try_into().expect("id"));
    w.ok(
        "bob",
        Call::Consent {
            id: bob_consent,
            action: ConsentAction::Approve,
        },
    );
    // alice's value 42 loops 420 000 times; bob's 1 loops 10 000 times.
    let (ra, a) = w.sealed("bank", "alice", 5);
    let (rb, b) = w.sealed("bank", "bob", 5);
    assert!(a.ok && b.ok);
    assert_ne!(a.output, b.output);
    assert_eq!(ra.fuel_used, rb.fuel_used);
    assert_eq!(ra.status, rb.status);
    assert_eq!(
        (ra.events.len(), ra.output.len()),
        (rb.events.len(), rb.output.len())
    );
    assert_eq!(a.padded().len(), b.padded().len());
}

#[test]
fn disclosure_needs_an_active_disclose_consent_and_is_audited_either_way() {
    let mut w = world();
    let id = w.request("bank", &["ds.a"], None, future(&w), 1);
    // Another institution cannot use it: refused, audited, failed receipt.
    let r = w.send("bank2", Call::Disclose { consent: id });
    assert_eq!(
        r.error.as_ref().map(|e| e.code.as_str()),
        Some("no_consent")
    );
    // Pending: refused.
    let r = w.send("bank", Call::Disclose { consent: id });
    assert_eq!(
        r.error.as_ref().map(|e| e.code.as_str()),
        Some("consent_pending")
    );
    w.answer(id, ConsentAction::Approve);
    let bank = w.node.balance("bank");
    let r = w.send("bank", Call::Disclose { consent: id });
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(w.node.balance("bank"), bank - 7);
    let (_, view) = w.node.exec.head_view().expect("view");
    let d: civitas_ledger::access::Disclosure = view
        .get_decoded(&keys::disclosure(&r.tx_hash))
        .expect("read")
        .expect("disclosure stored");
    assert_eq!(d.grantee, key("bank").account());
    assert_eq!(d.records.len(), 1);
    let outcomes: Vec<_> = w.audit("alice").iter().map(|e| e.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            AccessOutcome::Refused(RefusalReason::NoConsent),
            AccessOutcome::Refused(RefusalReason::Pending),
            AccessOutcome::Granted
        ]
    );
    // One use only: the next is refused as exhausted.
    let r = w.send("bank", Call::Disclose { consent: id });
    assert_eq!(
        r.error.as_ref().map(|e| e.code.as_str()),
        Some("consent_exhausted")
    );
}

#[test]
fn only_the_subject_answers_and_transitions_follow_the_lifecycle() {
    let mut w = world();
    let c = w.code_hash;
    let id = w.request("bank", &["ds.a"], Some(c), future(&w), 1);
    let r = w.send(
        "bank",
        Call::Consent {
            id,
            action: ConsentAction::Approve,
        },
    );
    assert_eq!(r.error.map(|e| e.code), Some("not_subject".to_string()));
    let r = w.send(
        "alice",
        Call::Consent {
            id,
            action: ConsentAction::Resume,
        },
    );
    assert_eq!(r.error.map(|e| e.code), Some("bad_transition".to_string()));
    w.answer(id, ConsentAction::Approve);
    w.answer(id, ConsentAction::Pause);
    w.answer(id, ConsentAction::Resume);
    w.answer(id, ConsentAction::Revoke);
    let (_, view) = w.node.exec.head_view().expect("view");
    let history: Vec<_> = view
        .consent(id)
        .expect("read")
        .expect("consent")
        .history
        .iter()
        .map(|h| h.status)
        .collect();
    assert_eq!(
        history,
        vec![
            ConsentStatus::Pending,
            ConsentStatus::Active,
            ConsentStatus::Paused,
            ConsentStatus::Active,
            ConsentStatus::Revoked
        ]
    );
}

#[test]
fn a_record_commitment_needs_the_custodians_signature_and_the_next_version() {
    let mut w = world();
    let s = subject("alice");
    let h = record_hash(&s, "ds.a", 2, &[9; 32], b"x");
    let forged = key("bank").sign_hash(&h);
    let r = w.send(
        "tax",
        Call::CommitRecord {
            subject: s,
            dataset: "ds.a".into(),
            version: 2,
            record_hash: h,
            signature: forged,
        },
    );
    assert_eq!(
        r.error.map(|e| e.code),
        Some("bad_record_signature".to_string())
    );
    let r = w.send(
        "tax",
        Call::CommitRecord {
            subject: s,
            dataset: "ds.a".into(),
            version: 1,
            record_hash: h,
            signature: key("tax").sign_hash(&h),
        },
    );
    assert_eq!(r.error.map(|e| e.code), Some("bad_version".to_string()));
    let rejected = w.node.produce(vec![tx(
        "bank",
        w.nonce("bank"),
        Call::CommitRecord {
            subject: s,
            dataset: "ds.a".into(),
            version: 2,
            record_hash: h,
            signature: key("bank").sign_hash(&h),
        },
    )]);
    assert_eq!(rejected.len(), 1, "an institution may not commit records");
}

#[test]
fn audit_proofs_verify_against_the_header_and_fail_after_one_byte_changes() {
    let mut w = consented();
    w.sealed("bank", "alice", 0);
    let height = w.node.head.height;
    let header = w
        .node
        .exec
        .store()
        .block(height)
        .expect("read")
        .expect("block")
        .header;
    let key = keys::audit(&subject("alice"), 0);
    let proof = prove(w.node.exec.store(), &key, height).expect("prove");
    assert!(proof.value.is_some());
    verify_state_proof(&header.state_root, &proof).expect("valid proof");
    let value = proof.value.clone().expect("value");
    for i in [0, value.len() / 2, value.len() - 1] {
        let mut tampered = proof.clone();
        let mut v = value.clone();
        v[i] ^= 1;
        tampered.value = Some(v);
        assert!(
            verify_state_proof(&header.state_root, &tampered).is_err(),
            "byte {i} changed but the proof still verifies"
        );
    }
}

/// A sealed call whose execution fails on every node is left out of its block: no sealed
/// result in the vault, no audit entry, no consent use, no payment, no nonce; the same call,
/// once it executes, commits all of these.
#[test]
fn an_excluded_sealed_call_leaves_no_result_audit_entry_use_or_payment() {
    let mut w = world();
    let code = w.code_hash;
    let id = w.request("bank", &["ds.a"], Some(code), future(&w), 2);
    w.answer(id, ConsentAction::Approve);
    let mut input = subject("alice").0.to_vec();
    input.push(0);
    let call = tx(
        "bank",
        w.nonce("bank"),
        Call::SealedCall {
            contract: w.contract,
            input,
            reads: declared(&[("alice", "ds.a")]),
        },
    );
    let other = tx(
        "alice",
        w.nonce("alice"),
        Call::Transfer {
            to: key("bob").account(),
            amount: 1,
        },
    );
    let (observable, trail, nonce) = (w.observable(), w.audit("alice").len(), w.nonce("bank"));
    w.node.exec.poison_for_tests(call.hash());
    let p = w.node.propose(vec![call.clone(), other.clone()]);
    assert_eq!(
        p.excluded.iter().map(|(h, _)| *h).collect::<Vec<_>>(),
        vec![call.hash()]
    );
    assert_eq!(p.executed.block.txs, vec![other]);
    w.node.commit(p.executed);
    let vault = w.node.exec.vault().expect("vault").clone();
    assert!(vault.sealed_output(&call.hash()).expect("read").is_none());
    assert_eq!(w.observable(), observable);
    assert_eq!(w.audit("alice").len(), trail);
    assert_eq!(w.nonce("bank"), nonce);

    w.node.exec.clear_poison_for_tests();
    assert!(w.node.produce(vec![call.clone()]).is_empty());
    let (_, stored) = w.node.settle_sealed(call.hash());
    let result = SealedResult::from_padded(&stored.padded).expect("decodes");
    assert_eq!(result.output, 42u32.encode());
    assert_eq!(w.audit("alice").len(), trail + 1);
    assert_eq!(w.node.balance("bank"), observable.0 - 7);
}

#[test]
fn no_outcome_an_outsider_can_predict_reproduces_a_receipt() {
    // No consent: alice's read is refused, and the probe returns its refusal byte. An outsider
    // sees the transaction and could guess that outcome, or any error, or an empty result.
    let mut w = world();
    let (receipt, result) = w.sealed("bank", "alice", 0);
    assert_eq!(result.output, vec![0xff], "the refusal the probe returns");
    let tx = receipt.tx_hash;
    let attested = w.attested(&tx);
    let mut predictions: Vec<SealedResult> = vec![
        SealedResult {
            ok: true,
            output: vec![0xff],
            error_code: String::new(),
        },
        SealedResult {
            ok: true,
            output: Vec::new(),
            error_code: String::new(),
        },
    ];
    for code in [
        "reverted",
        "out_of_fuel",
        "trap",
        "memory_limit",
        "stack_overflow",
        "contract_not_found",
        "sealed_output_too_large",
        "sealed_side_effect.storage_write",
    ] {
        predictions.push(SealedResult {
            ok: false,
            output: Vec::new(),
            error_code: code.into(),
        });
    }
    // Salts an outsider can compute from public data: the old scheme's, the hash itself,
    // zeros, and a salt keyed by anything but the chain sealing key.
    let outsider_salts = [
        sha3_256(&tx.0),
        tx,
        Hash::default(),
        civitas_primitives::vault::sealed_output_salt(&[0; 32], &tx),
    ];
    for p in &predictions {
        for salt in &outsider_salts {
            assert_ne!(
                civitas_primitives::vault::sealed_output_hash(salt, &p.padded()),
                attested,
                "an outsider reproduced the receipt with {p:?}"
            );
        }
    }
    // With the sealing key (held by the executing nodes; [7; 32] in these tests) the true
    // outcome does reproduce it: the enumeration above would have caught an unkeyed salt.
    let keyed = civitas_primitives::vault::sealed_output_salt(&[7; 32], &tx);
    assert_eq!(
        civitas_primitives::vault::sealed_output_hash(&keyed, &predictions[0].padded()),
        attested
    );
}

/// Two subjects whose records differ, under a contract that reads a second dataset only when
/// the record is odd: both calls charge the same credits, count the same consent use and
/// write the same audit entries, because those follow from the declaration before the
/// contract runs.
#[test]
fn public_effects_follow_the_declaration_not_the_data() {
    let mut w = world();
    w.ok(
        "civil",
        Call::BindIdentity {
            subject: subject("bob"),
            account: key("bob").account(),
        },
    );
    w.record("bob", "ds.a", 43);
    w.record("alice", "ds.b", 1);
    w.record("bob", "ds.b", 2);
    let code = w.code_hash;
    let mut consents = Vec::new();
    for who in ["alice", "bob"] {
        let r = w.ok(
            "bank",
            Call::RequestConsent {
                request: ConsentRequest {
                    subject: subject(who),
                    datasets: vec!["ds.a".into(), "ds.b".into()],
                    purpose: "loan".into(),
                    mode: ConsentMode::Compute,
                    code_hash: Some(code),
                    expires_ms: future(&w),
                    max_uses: 5,
                },
            },
        );
        let id = u64::from_le_bytes(r.output[..8].try_into().expect("id"));
        w.ok(
            who,
            Call::Consent {
                id,
                action: ConsentAction::Approve,
            },
        );
        consents.push(id);
    }
    let mut effects = Vec::new();
    for (who, consent) in ["alice", "bob"].into_iter().zip(consents) {
        let (bank, tax) = (w.node.balance("bank"), w.node.balance("tax"));
        let trail = w.audit(who).len();
        let (receipt, result) = w.sealed_declaring("bank", who, 9, &[(who, "ds.a"), (who, "ds.b")]);
        assert!(result.ok, "{who}: {result:?}");
        let expected = if who == "alice" { 42u32 } else { 2 };
        assert_eq!(result.output, expected.encode(), "{who}: the record read");
        let (_, view) = w.node.exec.head_view().expect("view");
        let uses = view.consent(consent).expect("read").expect("consent").uses;
        let entries: Vec<_> = w.audit(who)[trail..]
            .iter()
            .map(|e| (e.dataset.clone(), e.outcome, e.consent == Some(consent)))
            .collect();
        effects.push((
            bank - w.node.balance("bank"),
            w.node.balance("tax") - tax,
            uses,
            entries,
            receipt.fuel_used,
            receipt.events.len(),
        ));
    }
    assert_eq!(
        effects[0], effects[1],
        "alice's and bob's calls differ in public"
    );
    let (paid, earned, uses, entries, _, _) = &effects[0];
    assert_eq!(
        (*paid, *earned),
        (14, 14),
        "both declared datasets are charged once"
    );
    assert_eq!(*uses, 1, "one use of the declared consent");
    assert_eq!(
        entries,
        &vec![
            ("ds.a".to_string(), AccessOutcome::Granted, true),
            ("ds.b".to_string(), AccessOutcome::Granted, true),
        ]
    );
}

/// A read the call did not declare gets the uniform refusal and has no public effect: no
/// charge, no use, no audit entry; an undeclared read next to a declared one changes only
/// what the declaration says.
#[test]
fn a_read_outside_the_declaration_is_refused_without_a_trace() {
    let mut w = consented();
    let (before, trail) = (w.observable(), w.audit("alice").len());
    let (_, result) = w.sealed_declaring("bank", "alice", 0, &[]);
    assert_eq!(result.output, vec![0xff], "the undeclared read is refused");
    assert_eq!(w.observable(), before);
    assert_eq!(w.audit("alice").len(), trail);

    // Declaring ds.b (which alice's consent does not cover) while reading ds.a: the read is
    // refused, and the trail records the declared ds.b alone.
    let (_, result) = w.sealed_declaring("bank", "alice", 0, &[("alice", "ds.b")]);
    assert_eq!(result.output, vec![0xff]);
    assert_eq!(w.observable(), before);
    let after = w.audit("alice");
    assert_eq!(after.len(), trail + 1, "one entry: the declared pair");
    let last = after.last().expect("entry");
    assert_eq!(
        (last.dataset.as_str(), last.outcome),
        (
            "ds.b",
            AccessOutcome::Refused(RefusalReason::DatasetNotConsented)
        )
    );

    // With ds.a declared and granted, the data-dependent read of ds.b (alice's ds.a is made
    // odd) is refused inside the contract and leaves nothing public beyond the ds.a grant.
    w.record("alice", "ds.a", 43);
    w.record("alice", "ds.b", 5);
    let (bank, trail) = (w.node.balance("bank"), w.audit("alice").len());
    let (_, result) = w.sealed_declaring("bank", "alice", 9, &[("alice", "ds.a")]);
    assert_eq!(
        result.output,
        vec![0xfe],
        "the undeclared ds.b read is refused"
    );
    assert_eq!(w.node.balance("bank"), bank - 7, "ds.a alone is charged");
    let entries: Vec<_> = w.audit("alice")[trail..]
        .iter()
        .map(|e| (e.dataset.clone(), e.outcome))
        .collect();
    assert_eq!(entries, vec![("ds.a".to_string(), AccessOutcome::Granted)]);
}

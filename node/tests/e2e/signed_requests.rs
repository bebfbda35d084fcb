//! Signed requests for personal data: a request passes the node's guard only when it is fresh
//! (issued within 120 s either way of the node's clock), never seen before, signed by its
//! signer, for exactly this method and over exactly this body. Everything else gets 1006 with
//! a stable `data.code` and nothing else. Checked on `consent_list`, `audit_listBySubject`,
//! `audit_listByInstitution`, `vault_fetchDisclosed` and `vault_getSealedOutput`.
use crate::common::*;
use civitas_primitives::crypto::ReplyKey;
use serde_json::{json, Value};

/// Well inside the node's 120 s window (node/src/rpc_vault.rs `REQUEST_WINDOW_MS`).
const INSIDE_MS: u64 = 100_000;
/// Outside it, with 5 s to spare for the request's trip.
const OUTSIDE_MS: u64 = 125_000;

async fn call(c: &HttpClient, method: &str, req: &SignedRequest) -> Result<Value, ClientError> {
    c.request(method, rpc_params![to_hex(&req.encode())]).await
}

/// Asserts a 1006 refusal whose data is exactly `{"code": reason}`.
fn assert_refused(result: Result<Value, ClientError>, reason: &str, case: &str) {
    let err = match result {
        Ok(v) => panic!("{case}: expected 1006 {reason}, the request passed: {v}"),
        Err(e) => e,
    };
    assert_eq!(
        refusal(err),
        (errors::UNAUTHORIZED, json!({ "code": reason })),
        "{case}"
    );
}

struct Method {
    name: &'static str,
    signer: Keypair,
    body: Vec<u8>,
    /// What a request that passes the guard gets.
    passed: fn(Result<Value, ClientError>, &str),
}

fn lists_one_consent(r: Result<Value, ClientError>, case: &str) {
    let v = r.unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{case}: {v}");
}

fn pages_one_entry(r: Result<Value, ClientError>, case: &str) {
    let v = r.unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(v["total"], json!(1), "{case}: {v}");
    assert_eq!(
        v["entries"].as_array().map(Vec::len),
        Some(1),
        "{case}: {v}"
    );
}

fn returns_an_envelope(r: Result<Value, ClientError>, case: &str) {
    let v = r.unwrap_or_else(|e| panic!("{case}: {e}"));
    let hex = v.as_str().unwrap_or_else(|| panic!("{case}: {v}"));
    let env = civitas_primitives::vault::Envelope::decode(&mut &from_hex(hex).expect("hex")[..])
        .unwrap_or_else(|e| panic!("{case}: not an envelope: {e}"));
    assert!(!env.ciphertext.is_empty(), "{case}");
}

/// No sealed call was made on this chain: a request past the guard reaches the lookup.
fn reaches_the_sealed_lookup(r: Result<Value, ClientError>, case: &str) {
    let err = r.expect_err(case);
    assert_eq!(
        refusal(err),
        (errors::NOT_FOUND, json!({ "code": "unknown_sealed_call" })),
        "{case}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_fresh_unreplayed_correctly_signed_requests_pass_the_guard() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = citizen_data(dir.path()).await;
    let c = data.node.client();
    let fetch = |tx_hash| {
        SealedFetch {
            tx_hash,
            reply_key: ReplyKey::generate().public(),
        }
        .encode()
    };
    let methods = [
        Method {
            name: "consent_list",
            signer: key("alice"),
            body: vec![],
            passed: lists_one_consent,
        },
        Method {
            name: "audit_listBySubject",
            signer: key("alice"),
            body: SubjectAuditQuery {
                subject: data.alice,
                from: 0,
                limit: 10,
            }
            .encode(),
            passed: pages_one_entry,
        },
        Method {
            name: "audit_listByInstitution",
            signer: key("bank-b"),
            body: InstitutionAuditQuery {
                institution: key("bank-b").account(),
                from: 0,
                limit: 10,
            }
            .encode(),
            passed: pages_one_entry,
        },
        Method {
            name: "vault_fetchDisclosed",
            signer: key("bank-b"),
            body: fetch(data.disclosure),
            passed: returns_an_envelope,
        },
        Method {
            name: "vault_getSealedOutput",
            signer: key("bank-b"),
            body: fetch(sha3_256(b"no sealed call")),
            passed: reaches_the_sealed_lookup,
        },
    ];
    for m in &methods {
        let sign = |issued_ms| m.signer.sign_request(m.name, m.body.clone(), issued_ms);
        let case = |what: &str| format!("{}: {what}", m.name);

        // A forged copy goes first: refused, and it does not use up the genuine request.
        let fresh = sign(now_ms());
        let mut flipped = fresh.clone();
        flipped.signature[17] ^= 0x01;
        assert_refused(
            call(&c, m.name, &flipped).await,
            "bad_signature",
            &case("one signature bit flipped"),
        );
        (m.passed)(call(&c, m.name, &fresh).await, &case("fresh"));
        assert_refused(
            call(&c, m.name, &fresh).await,
            "replayed_request",
            &case("the same request again"),
        );

        (m.passed)(
            call(&c, m.name, &sign(now_ms() - INSIDE_MS)).await,
            &case("issued 100 s ago"),
        );
        (m.passed)(
            call(&c, m.name, &sign(now_ms() + INSIDE_MS)).await,
            &case("issued 100 s ahead"),
        );
        let stale = sign(now_ms() - OUTSIDE_MS);
        assert_refused(
            call(&c, m.name, &stale).await,
            "stale_request",
            &case("issued 125 s ago"),
        );
        assert_refused(
            call(&c, m.name, &sign(now_ms() + OUTSIDE_MS)).await,
            "stale_request",
            &case("issued 125 s ahead"),
        );
        for (issued_ms, what) in [(0, "issued at the epoch"), (u64::MAX, "issued at u64::MAX")] {
            assert_refused(
                call(&c, m.name, &sign(issued_ms)).await,
                "stale_request",
                &case(what),
            );
        }
        let mut redated = stale.clone();
        redated.issued_ms = now_ms();
        assert_refused(
            call(&c, m.name, &redated).await,
            "bad_signature",
            &case("a stale request re-dated after signing"),
        );

        let mut changed = sign(now_ms());
        changed.body.push(0);
        assert_refused(
            call(&c, m.name, &changed).await,
            "bad_signature",
            &case("body changed after signing"),
        );
        let mut impostor = key("insurer").sign_request(m.name, m.body.clone(), now_ms());
        impostor.signer = m.signer.account();
        assert_refused(
            call(&c, m.name, &impostor).await,
            "bad_signature",
            &case("signed by another key than its signer"),
        );
        let other = if m.name == "consent_list" {
            "audit_listBySubject"
        } else {
            "consent_list"
        };
        let elsewhere = m.signer.sign_request(other, m.body.clone(), now_ms());
        assert_refused(
            call(&c, m.name, &elsewhere).await,
            "wrong_method",
            &case("signed for another method"),
        );
        // The refusals used up nothing: a new request passes.
        (m.passed)(
            call(&c, m.name, &sign(now_ms())).await,
            &case("fresh again"),
        );

        let (code, _) = refusal(
            c.request::<Value, _>(m.name, rpc_params!["0x00"])
                .await
                .expect_err("undecodable"),
        );
        assert_eq!(code, errors::INVALID_PARAMS, "{}", case("not a request"));
    }
    data.node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_used_before_a_crash_is_refused_as_replayed_after_the_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let bank = key("bank-b");
    let body = InstitutionAuditQuery {
        institution: bank.account(),
        from: 0,
        limit: 10,
    }
    .encode();
    let used = bank.sign_request("audit_listByInstitution", body.clone(), now_ms());
    let node = DevNode::start(dir.path());
    call(&node.client(), "audit_listByInstitution", &used)
        .await
        .expect("the first use passes");
    // Killed, not stopped: nothing is written at shutdown.
    node.crash();
    let node = DevNode::start(dir.path());
    let c = node.client();
    assert_refused(
        call(&c, "audit_listByInstitution", &used).await,
        "replayed_request",
        "the same request after the restart",
    );
    let fresh = bank.sign_request("audit_listByInstitution", body, now_ms());
    call(&c, "audit_listByInstitution", &fresh)
        .await
        .expect("a new request is served");
    node.terminate();
}

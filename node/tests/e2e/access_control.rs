//! Who may read a citizen's consents and audit trail: `consent_list` shows a key only the
//! consents about its bound subject and those filed by it; `audit_listBySubject` answers only
//! the citizen's bound wallet key; `audit_listByInstitution` answers the institution itself and
//! regulators. Refusals are 1006 with a stable code and carry no entries.
use crate::common::*;
use serde_json::json;

async fn consents(c: &HttpClient, who: &Keypair) -> Vec<ConsentInfo> {
    let req = signed_request(who, "consent_list", vec![], now_ms());
    ConsentApiClient::list(c, req).await.expect("consent_list")
}

async fn subject_trail(
    c: &HttpClient,
    who: &Keypair,
    subject: Hash,
) -> Result<AuditPage, ClientError> {
    let body = SubjectAuditQuery {
        subject,
        from: 0,
        limit: 100,
    };
    let req = signed_request(who, "audit_listBySubject", body.encode(), now_ms());
    AuditApiClient::list_by_subject(c, req).await
}

async fn institution_trail(
    c: &HttpClient,
    who: &Keypair,
    institution: &Keypair,
) -> Result<AuditPage, ClientError> {
    let body = InstitutionAuditQuery {
        institution: institution.account(),
        from: 0,
        limit: 100,
    };
    let req = signed_request(who, "audit_listByInstitution", body.encode(), now_ms());
    AuditApiClient::list_by_institution(c, req).await
}

fn assert_the_disclosure(page: &AuditPage, data: &CitizenData, case: &str) {
    assert_eq!((page.total, page.entries.len()), (1, 1), "{case}: {page:?}");
    let e = &page.entries[0];
    assert_eq!(e.subject, to_hex(&data.alice.0), "{case}");
    assert_eq!(e.accessor, to_hex(&key("bank-b").account().0), "{case}");
    assert_eq!(e.tx_hash, to_hex(&data.disclosure.0), "{case}");
    assert_eq!(
        (e.kind.as_str(), e.outcome.as_str(), e.consent),
        ("disclosure", "granted", Some(data.consent)),
        "{case}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_citizen_and_the_named_institution_see_her_consents() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = citizen_data(dir.path()).await;
    let c = data.node.client();
    for who in ["alice", "bank-b"] {
        let list = consents(&c, &key(who)).await;
        assert_eq!(list.len(), 1, "{who}: {list:?}");
        assert_eq!(list[0].id, data.consent, "{who}");
        assert_eq!(list[0].subject, to_hex(&data.alice.0), "{who}");
        assert_eq!(list[0].grantee, to_hex(&key("bank-b").account().0), "{who}");
        assert_eq!(list[0].status, "active", "{who}");
    }
    // Bob is bound to his own subject; the others are another institution, a regulator and a
    // key the chain has never seen.
    for who in ["bob", "bank-a", "regulator", "stranger"] {
        assert_eq!(consents(&c, &key(who)).await, vec![], "{who}");
    }
    data.node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_bound_wallet_key_reads_a_citizens_audit_trail() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = citizen_data(dir.path()).await;
    let c = data.node.client();
    let page = subject_trail(&c, &key("alice"), data.alice)
        .await
        .expect("alice reads her trail");
    assert_the_disclosure(&page, &data, "alice");
    // The accessor itself, a regulator, another citizen (bound to his own subject), another
    // institution, the identity department that bound her, and an unknown key.
    for who in [
        "bank-b",
        "regulator",
        "bob",
        "bank-a",
        "civil-affairs",
        "stranger",
    ] {
        let err = subject_trail(&c, &key(who), data.alice)
            .await
            .expect_err(who);
        assert_eq!(
            refusal(err),
            (errors::UNAUTHORIZED, json!({ "code": "not_subject" })),
            "{who}"
        );
    }
    // Her key is hers only: bob's trail is not hers to read.
    let err = subject_trail(&c, &key("alice"), data.bob)
        .await
        .expect_err("alice on bob");
    assert_eq!(
        refusal(err),
        (errors::UNAUTHORIZED, json!({ "code": "not_subject" }))
    );
    let page = subject_trail(&c, &key("bob"), data.bob)
        .await
        .expect("bob reads his own");
    assert_eq!((page.total, page.entries.len()), (0, 0));
    data.node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_institutions_audit_trail_is_for_itself_and_regulators() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = citizen_data(dir.path()).await;
    let c = data.node.client();
    let bank_b = key("bank-b");
    for who in ["bank-b", "regulator"] {
        let page = institution_trail(&c, &key(who), &bank_b)
            .await
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        assert_the_disclosure(&page, &data, who);
    }
    for who in ["bank-a", "insurer", "alice", "tax", "stranger"] {
        let err = institution_trail(&c, &key(who), &bank_b)
            .await
            .expect_err(who);
        assert_eq!(
            refusal(err),
            (errors::UNAUTHORIZED, json!({ "code": "not_regulator" })),
            "{who}"
        );
    }
    let own = institution_trail(&c, &key("bank-a"), &key("bank-a"))
        .await
        .expect("bank-a reads its own");
    assert_eq!((own.total, own.entries.len()), (0, 0));
    data.node.terminate();
}

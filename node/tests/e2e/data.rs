//! Citizens' data end to end: canaries never leak; only the authorised disclosure returns them.
use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_records_never_leak_and_only_the_authorised_disclosure_returns_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let log_path = dir.path().join("node.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let node = DevNode::start_logging(&data, "debug", log);
    let url = node.url.clone();
    let job = "CANARY-EMPLOYER-5f1c9e";
    let dx = "CANARY-DX-8d24b7";

    cli_ok(
        &url,
        &[
            "identity",
            "bind",
            "--subject",
            "alice",
            "--account",
            "alice",
        ],
    );
    let upload = |dataset: &str, from: &str, sets: &[&str]| {
        let mut args = vec![
            "vault",
            "upload",
            "--dataset",
            dataset,
            "--from",
            from,
            "--subject",
            "alice",
        ];
        for s in sets {
            args.push("--set");
            args.push(s);
        }
        cli_ok(&url, &args);
    };
    let employer = format!("employer={job}");
    let diagnosis = format!("diagnosis_code={dx}");
    upload(
        "social_security.employment",
        "social-security",
        &[
            &employer,
            "employed=true",
            "months_employed=40",
            "monthly_salary=6100",
        ],
    );
    upload(
        "tax.annual_income",
        "tax",
        &["year=2025", "gross_income=73200", "tax_paid=15000"],
    );
    upload(
        "real_estate.holdings",
        "real-estate",
        &["properties=0", "total_value=0", "mortgaged=false"],
    );
    upload(
        "hospital.diagnosis",
        "hospital",
        &[&diagnosis, "inpatient_days=2", "chronic=false"],
    );

    // A bank scores her in a sealed call.
    let scorer = approved_loan_scorer(&url, dir.path());
    let offer = alice_scored_by_bank_a(&url, &scorer);
    assert_eq!(offer["result"]["approved"], serde_json::json!(true));
    assert_eq!(offer["result"]["amount"], serde_json::json!(200000));

    // Another bank gets disclosure; the authorised download returns the canary verbatim.
    let disclose_id = disclose_request_by_bank_b(&url, "social_security.employment", "contract");
    cli_ok(
        &url,
        &["consent", "approve", &disclose_id, "--from", "alice"],
    );
    let disclosed = cli_ok(
        &url,
        &["disclose", &disclose_id, "--from", "bank-b", "--json"],
    );
    assert!(
        disclosed.contains(job),
        "the authorised disclosure returns the record"
    );
    let disclosed: serde_json::Value = serde_json::from_str(disclosed.trim()).expect("json");
    let disclosure_tx = disclosed["tx_hash"].as_str().expect("tx").to_string();
    assert_eq!(
        disclosed["records"][0]["signature_valid"],
        serde_json::json!(true)
    );

    // Unauthorised keys get refusals that carry nothing.
    let c = node.client();
    let mut replies = Vec::new();
    let fetch = civitas_primitives::vault::SealedFetch {
        tx_hash: civitas_primitives::Hash(hex32(&disclosure_tx).expect("hash")),
        reply_key: civitas_primitives::crypto::ReplyKey::generate().public(),
    };
    for who in ["bank-a", "alice", "insurer"] {
        let req = key(who).sign_request(
            "vault_fetchDisclosed",
            fetch.encode(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_millis() as u64,
        );
        let err = VaultApiClient::fetch_disclosed(&c, to_hex(&req.encode()))
            .await
            .expect_err("not the grantee");
        let (code, message, reason) = rejection(err);
        assert_eq!((code, reason.as_deref()), (1006, Some("not_grantee")));
        replies.push(message);
    }
    let subject = cli_ok(&url, &["identity", "subject", "alice"])
        .trim()
        .to_string();
    let audit_key = to_hex(
        &[
            b"u/e/".as_slice(),
            &hex32(&subject).expect("subject"),
            &0u64.to_be_bytes(),
        ]
        .concat(),
    );
    let err = StateApiClient::get_proof(&c, audit_key, None)
        .await
        .expect_err("private key");
    assert_eq!(rejection(err).0, 1006);

    // Blocks, receipts and events of the whole chain.
    let head = ChainApiClient::get_head(&c).await.expect("head").height;
    let mut public = Vec::new();
    for h in 1..=head {
        let b = ChainApiClient::get_block(&c, Some(h)).await.expect("block");
        public.extend(from_hex(&b.raw).expect("raw"));
        for t in &b.transactions {
            let r = TxApiClient::get_receipt(&c, t.clone())
                .await
                .expect("receipt");
            public.extend(serde_json::to_vec(&r).expect("json"));
            public.extend(from_hex(&r.output).expect("hex"));
            for e in &r.events {
                public.extend(from_hex(&e.data).expect("hex"));
            }
        }
    }
    for r in &replies {
        public.extend(r.as_bytes());
    }
    node.terminate();
    let mut files = Vec::new();
    files_under(&data, &mut files);
    assert!(files.len() > 3, "the store has files");
    for canary in [job, dx] {
        assert!(
            !contains(&public, canary.as_bytes()),
            "{canary} in blocks, receipts or replies"
        );
        assert!(
            !contains(&public, hex::encode(canary).as_bytes()),
            "{canary} hex-encoded in public data"
        );
        for f in &files {
            let bytes = std::fs::read(f).expect("read store file");
            assert!(
                !contains(&bytes, canary.as_bytes()),
                "{canary} in {}",
                f.display()
            );
        }
        let log = std::fs::read(&log_path).expect("log");
        assert!(!log.is_empty(), "the node logged at debug level");
        assert!(
            !contains(&log, canary.as_bytes()),
            "{canary} in the node log"
        );
    }
}

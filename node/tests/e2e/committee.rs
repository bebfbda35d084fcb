//! The sealed-compute committee over a devnet of four processes: a member that was down when
//! records were uploaded copies the payloads it missed from the other members once a sealed
//! call needs them, runs the call and attests the same output as the others.
use crate::common::*;
use crate::devnet::{
    init_devnet, loan_record_hashes, stopped_vault, upload_loan_records, VALIDATORS,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_missed_records_copies_them_from_the_committee_and_attests() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = init_devnet(dir.path(), &[]);
    let config = |k: usize| {
        net.join(format!("node-{k}/node.toml"))
            .to_str()
            .expect("utf-8")
            .to_string()
    };
    let mut nodes: Vec<Option<DevNode>> = (0..usize::from(VALIDATORS))
        .map(|k| Some(DevNode::spawn(&["node", "--config", &config(k)])))
        .collect();
    let url = |nodes: &[Option<DevNode>], k: usize| nodes[k].as_ref().expect("running").url.clone();
    cli_ok(
        &url(&nodes, 1),
        &[
            "identity",
            "bind",
            "--subject",
            "alice",
            "--account",
            "alice",
        ],
    );

    // Node 2, a committee member, is down while the records are uploaded.
    nodes[2].take().expect("running").terminate();
    upload_loan_records(&url(&nodes, 0), "x");
    nodes[2] = Some(DevNode::spawn(&["node", "--config", &config(2)]));
    let c0 = nodes[0].as_ref().expect("running").client();
    let c2 = nodes[2].as_ref().expect("running").client();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (h0, h2) = (
            c0.get_head().await.expect("head").height,
            c2.get_head().await.map(|h| h.height).unwrap_or(0),
        );
        if h2 >= h0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node 2 stays behind: {h2} < {h0}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let scorer = approved_loan_scorer(&url(&nodes, 3), dir.path());
    let offer = alice_scored_by_bank_a(&url(&nodes, 3), &scorer);
    assert_eq!(
        offer["result"]["approved"],
        serde_json::json!(true),
        "{offer}"
    );
    let call = Hash(hex32(offer["tx_hash"].as_str().expect("tx hash")).expect("hex"));
    // All three members attest, node 2 included, and agree.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = c0.get_sealed_outcome(call.to_hex()).await.expect("outcome");
        assert!(!o.disputed, "{o:?}");
        if o.attestations == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every member attested: {o:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let payloads = loan_record_hashes(&c0, &url(&nodes, 0)).await;
    // Anyone else asking for the payloads is refused.
    for who in ["bank-a", "alice", "real-estate"] {
        let body = civitas_primitives::committee::RecordsFetch {
            records: payloads.clone(),
            reply_key: civitas_primitives::crypto::ReplyKey::generate().public(),
        };
        let req = key(who).sign_request("vault_committeeRecords", body.encode(), now_ms());
        let err = VaultApiClient::committee_records(&c0, to_hex(&req.encode()))
            .await
            .expect_err("not a committee member");
        let (code, _, reason) = rejection(err);
        assert_eq!(
            (code, reason.as_deref()),
            (1006, Some("not_committee_member")),
            "{who}"
        );
        let body = civitas_primitives::committee::SealingKeyFetch {
            reply_key: civitas_primitives::crypto::ReplyKey::generate().public(),
        };
        let req = key(who).sign_request("vault_committeeSealingKey", body.encode(), now_ms());
        let err = VaultApiClient::committee_sealing_key(&c0, to_hex(&req.encode()))
            .await
            .expect_err("not a committee member");
        let (code, _, reason) = rejection(err);
        assert_eq!(
            (code, reason.as_deref()),
            (1006, Some("not_committee_member")),
            "{who} asks for the sealing key"
        );
    }
    for n in nodes.into_iter().flatten() {
        n.terminate();
    }
    let data = net.join("node-2/data");
    let vault = stopped_vault(&data);
    for p in &payloads {
        assert!(
            vault.has_record(p).expect("read"),
            "node 2 copied record {p}"
        );
    }
    assert!(
        vault.sealed_output(&call).expect("read").is_some(),
        "node 2 kept its result"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_named_to_the_committee_receives_the_sealing_key_and_attests() {
    use civitas_primitives::committee::SealedCommittee;
    use civitas_primitives::tx::GovernanceAction;
    let dir = tempfile::tempdir().expect("tmp");
    let net = init_devnet(dir.path(), &["--chain-id", CHAIN]);
    let nodes: Vec<DevNode> = (0..usize::from(VALIDATORS))
        .map(|k| {
            let config = net.join(format!("node-{k}/node.toml"));
            DevNode::spawn(&["node", "--config", config.to_str().expect("utf-8")])
        })
        .collect();
    let clients: Vec<HttpClient> = nodes.iter().map(|n| n.client()).collect();
    let adopted = net.join("node-3/data/sealing.key");
    assert!(
        !adopted.exists(),
        "real-estate starts outside the committee"
    );

    // Three departments name real-estate to the committee (four members, threshold three).
    let mut members: Vec<AccountId> = ["tax", "social-security", "civil-affairs", "real-estate"]
        .iter()
        .map(|n| key(n).account())
        .collect();
    members.sort();
    let r = send(
        &clients[0],
        &key("tax"),
        ADMIN_FUEL,
        Call::Propose {
            action: GovernanceAction::SetSealedCommittee {
                committee: SealedCommittee {
                    members,
                    threshold: 3,
                },
            },
        },
    )
    .await;
    assert_eq!(r.status, "success", "propose: {r:?}");
    let id = u64::decode(&mut &from_hex(&r.output).expect("hex")[..]).expect("proposal id");
    for (node, who) in [(1, "social-security"), (2, "civil-affairs")] {
        let r = send(
            &clients[node],
            &key(who),
            ADMIN_FUEL,
            Call::Approve { proposal: id },
        )
        .await;
        assert_eq!(r.status, "success", "{who} approves: {r:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !adopted.exists() {
        assert!(
            Instant::now() < deadline,
            "the new member never received the sealing key"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Records uploaded through node 0 go to its configured committee peers (nodes 1 and 2);
    // the new member copies them when a call needs them.
    cli_ok(
        &nodes[1].url,
        &[
            "identity",
            "bind",
            "--subject",
            "alice",
            "--account",
            "alice",
        ],
    );
    upload_loan_records(&nodes[0].url, "x");
    let scorer = approved_loan_scorer(&nodes[0].url, dir.path());
    let offer = alice_scored_by_bank_a(&nodes[0].url, &scorer);
    assert_eq!(
        offer["result"]["approved"],
        serde_json::json!(true),
        "{offer}"
    );
    let call = Hash(hex32(offer["tx_hash"].as_str().expect("tx hash")).expect("hex"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = clients[0]
            .get_sealed_outcome(call.to_hex())
            .await
            .expect("outcome");
        assert!(!o.disputed, "{o:?}");
        if o.attestations == 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new member did not attest: {o:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for n in nodes {
        n.terminate();
    }
    assert_eq!(
        std::fs::read_to_string(&adopted).expect("key file").trim(),
        hex::encode(civitas_primitives::dev::dev_sealing_key(CHAIN)),
        "the chain sealing key, handed over"
    );
    let data = net.join("node-3/data");
    let vault = stopped_vault(&data);
    assert!(
        vault.sealed_output(&call).expect("read").is_some(),
        "the new member kept its result"
    );
}

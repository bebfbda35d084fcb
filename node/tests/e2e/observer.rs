//! An observer beside a devnet of four validators, configured by `civitas devnet init
//! --observers 1`: it holds no key, follows every block and believes each only through its
//! certificate, serves the same blocks and checked state proofs, forwards transactions (a
//! sealed score submitted through it commits, is attested by the committee and its result
//! reaches the bank), and after a restart re-checks what it keeps; nothing of a citizen's
//! records is ever in its directory or its log.
use crate::common::*;
use crate::devnet::{init_devnet, upload_loan_records, VALIDATORS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_follows_by_certificates_forwards_and_holds_no_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = init_devnet(dir.path(), &["--observers", "1"]);
    let obs_config = net.join("observer-0/node.toml");
    let text = std::fs::read_to_string(&obs_config).expect("config");
    assert!(
        !text.contains("key_file"),
        "an observer's configuration names no key:\n{text}"
    );
    let nodes: Vec<DevNode> = (0..VALIDATORS)
        .map(|k| {
            let config = net.join(format!("node-{k}/node.toml"));
            DevNode::spawn(&["node", "--config", config.to_str().expect("utf-8")])
        })
        .collect();
    let obs_args = ["node", "--config", obs_config.to_str().expect("utf-8")];
    // Its log at the most verbose level goes to a file the canary check reads.
    let log_file = dir.path().join("observer.log");
    let observer = DevNode::spawn_with(
        &obs_args,
        "trace",
        Stdio::from(std::fs::File::create(&log_file).expect("log file")),
    );
    let oc = observer.client();
    let v0 = nodes[0].client();

    // Transactions submitted to the observer commit.
    let bank = key("bank-a");
    let mut hashes = Vec::new();
    for nonce in 0..5u64 {
        let t = bank.sign_tx(Transaction {
            chain_id: "civitas-devnet".into(),
            signer: bank.account(),
            nonce,
            fuel_limit: 1_000_000,
            call: Call::Transfer {
                to: key("alice").account(),
                amount: 1,
            },
        });
        hashes.push(submit(&oc, &t).await.expect("the observer forwards"));
    }
    for h in &hashes {
        assert_eq!(wait(&v0, h).await.status, "success");
    }

    // Record payloads never pass through an observer.
    let err = VaultApiClient::put_records(&oc, vec!["00".into()])
        .await
        .expect_err("an observer takes no records");
    let (code, _, reason) = rejection(err);
    assert_eq!((code, reason.as_deref()), (1006, Some("observer")));

    // A sealed score through the observer.
    let url = observer.url.clone();
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
    upload_loan_records(&nodes[0].url, "canary-observer-7777");
    let scorer = approved_loan_scorer(&url, dir.path());
    let offer = alice_scored_by_bank_a(&url, &scorer);
    assert_eq!(
        offer["result"]["approved"],
        serde_json::json!(true),
        "{offer}"
    );

    // Same blocks and certificates as the validators, up to the observer's head.
    let deadline = Instant::now() + Duration::from_secs(30);
    let target = v0.get_head().await.expect("head").height;
    while oc.get_head().await.expect("head").height < target {
        assert!(Instant::now() < deadline, "the observer stays behind");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let health = oc.health().await.expect("health");
    assert_eq!(health.role, "observer");
    assert!(health.peers >= 1, "{health:?}");
    for height in 1..=target {
        let (a, b) = (
            oc.get_block(Some(height)).await.expect("observer block"),
            v0.get_block(Some(height)).await.expect("validator block"),
        );
        assert_eq!(a.raw, b.raw, "height {height}");
        assert!(a.certificate.is_some());
    }
    // A state proof served through the observer checks against its believed header.
    let account_key = to_hex(&keys::account(&bank.account()));
    let proof = oc
        .get_proof(account_key.clone(), Some(target))
        .await
        .expect("proof");
    let header = oc.get_block(Some(target)).await.expect("block").header;
    assert_eq!(proof.state_root, header.state_root);
    assert!(proof.value.is_some());

    // A restart re-checks the kept blocks and goes on.
    observer.terminate();
    let observer = DevNode::spawn(&obs_args);
    let oc = observer.client();
    assert!(
        oc.get_head().await.expect("head").height >= target,
        "kept across a restart"
    );

    // Nothing under the observer's directory holds the canary; its replies never did.
    observer.terminate();
    for n in nodes {
        n.terminate();
    }
    let log = std::fs::read(&log_file).expect("log");
    assert!(!log.is_empty(), "the observer logged");
    assert!(
        !contains(&log, b"canary-observer-7777"),
        "the observer's log holds the canary"
    );
    let mut dirs = vec![net.join("observer-0")];
    let mut files = 0;
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).expect("read");
                assert!(
                    !contains(&bytes, b"canary-observer-7777"),
                    "{} holds the canary",
                    path.display()
                );
            }
        }
    }
    assert!(files >= 2, "the observer kept its blocks");
}

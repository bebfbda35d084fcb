//! A devnet of four department validators, each its own process on 127.0.0.1, configured by
//! `civitas devnet init`: transactions submitted to any node reach every validator and
//! commit; every node holds the same blocks, each with a certificate of at least three
//! validators that `verify_certificate` accepts; records reach the sealed-compute committee's
//! nodes alone, whose members attest a sealed score submitted through a node outside it, and
//! that node serves the score and a disclosure by forwarding the encrypted reads.
use crate::common::*;
use civitas_primitives::block::{Block, CommitCertificate};
use civitas_primitives::certificate::verify_certificate;

const CHAIN_ID: &str = "civitas-devnet";
pub(crate) use crate::devnet_setup::{
    init_devnet, loan_record_hashes, stopped_vault, upload_loan_records, VALIDATORS,
};

fn transfer(k: &Keypair, nonce: u64) -> SignedTransaction {
    k.sign_tx(Transaction {
        chain_id: CHAIN_ID.into(),
        signer: k.account(),
        nonce,
        fuel_limit: 1_000_000,
        call: Call::Transfer {
            to: key("alice").account(),
            amount: 1,
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_sent_to_any_node_commit_on_every_node_with_quorum_certificates() {
    let dir = tempfile::tempdir().expect("tmp");
    let net = init_devnet(dir.path(), &[]);
    let nodes: Vec<DevNode> = (0..VALIDATORS)
        .map(|k| {
            let config = net.join(format!("node-{k}/node.toml"));
            DevNode::spawn(&["node", "--config", config.to_str().expect("utf-8")])
        })
        .collect();
    let clients: Vec<HttpClient> = nodes.iter().map(|n| n.client()).collect();

    // Each node gets the transfers of its own signer (one account's nonces go through one
    // node: a node refuses a nonce that skips ahead of what it has seen).
    let signers = ["bank-a", "bank-b", "insurer", "hospital"];
    let mut hashes = Vec::new();
    for round in 0..5u64 {
        for (k, signer) in signers.iter().enumerate() {
            let h = submit(&clients[k], &transfer(&key(signer), round))
                .await
                .unwrap_or_else(|e| panic!("node {k} refused {signer}'s transfer: {e}"));
            hashes.push((k, h));
        }
    }
    let mut top = 0;
    for (k, h) in &hashes {
        // Committed, and visible on every node.
        let r = wait(&clients[*k], h).await;
        assert_eq!(r.status, "success", "{r:?}");
        top = top.max(r.height);
        for (j, c) in clients.iter().enumerate() {
            let r = wait(c, h).await;
            assert_eq!(r.status, "success", "node {j}: {r:?}");
        }
    }
    for (who, expected) in signers.iter().map(|s| (*s, 5u64)) {
        for c in &clients {
            let a = c
                .get_account(to_hex(&key(who).account().0))
                .await
                .expect("account");
            assert_eq!(
                a.nonce, expected,
                "{who}'s transfers committed exactly once"
            );
        }
    }

    // Every node is a validator connected to the other three.
    for (k, c) in clients.iter().enumerate() {
        let start = Instant::now();
        loop {
            let health = c.health().await.expect("health");
            assert_eq!(health.role, "validator");
            if health.peers >= usize::from(VALIDATORS) - 1 {
                assert_eq!(c.peers().await.expect("peers").len(), health.peers);
                break;
            }
            assert!(
                start.elapsed() < POLL_TIMEOUT,
                "node {k} sees {} peers",
                health.peers
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // The same blocks everywhere, each certified by a quorum of the genesis validators.
    let set: Vec<AccountId> = {
        let info = clients[0]
            .get_validators(Some(1))
            .await
            .expect("validators");
        info.validators
            .iter()
            .map(|v| AccountId(hex32(v).expect("hex")))
            .collect()
    };
    assert_eq!(set.len(), usize::from(VALIDATORS));
    for height in 1..=top {
        let mut raws = Vec::new();
        for (k, c) in clients.iter().enumerate() {
            let info = c.get_block(Some(height)).await.expect("block");
            let block = Block::decode(&mut &from_hex(&info.raw).expect("hex")[..]).expect("block");
            let cert = CommitCertificate::decode(
                &mut &from_hex(info.certificate.as_deref().expect("certificate")).expect("hex")[..],
            )
            .expect("certificate");
            let signers: std::collections::BTreeSet<_> =
                cert.signatures.iter().map(|(v, _)| *v).collect();
            assert!(
                signers.len() >= 3,
                "node {k}, height {height}: {} signers",
                signers.len()
            );
            verify_certificate(&block.header, &cert, &set)
                .unwrap_or_else(|e| panic!("node {k}, height {height}: {e:?}"));
            raws.push(info.raw);
        }
        assert!(
            raws.windows(2).all(|w| w[0] == w[1]),
            "height {height}: the nodes hold different blocks"
        );
    }

    // Records uploaded through node 0 reach the sealed-compute committee (nodes 0 to 2, the
    // first three validators) and no other node; node 3, outside it, still serves a sealed
    // score and a disclosure by forwarding the encrypted reads to the committee.
    let url = |k: usize| nodes[k].url.clone();
    for k in 0..4 {
        let config =
            std::fs::read_to_string(net.join(format!("node-{k}/node.toml"))).expect("config");
        assert_eq!(
            config.contains("sealing_key_file"),
            k < 3,
            "only the committee's nodes hold the sealing key (node {k})"
        );
    }
    cli_ok(
        &url(1),
        &[
            "identity",
            "bind",
            "--subject",
            "alice",
            "--account",
            "alice",
        ],
    );
    upload_loan_records(&url(0), "canary-employer-5150");

    // Records travel between nodes encrypted to the genesis committee key; a node outside the
    // committee takes none.
    let genesis: civitas_ledger::Genesis =
        serde_json::from_slice(&std::fs::read(net.join("genesis.json")).expect("genesis"))
            .expect("json");
    let committee_key = genesis
        .committee_key_bytes()
        .expect("valid")
        .expect("the devnet names a committee key");
    let env = civitas_primitives::crypto::seal_to(&committee_key, &Vec::<String>::new().encode())
        .expect("seal");
    let err = clients[3]
        .put_sealed_records(to_hex(&env.encode()))
        .await
        .expect_err("not a committee node");
    let (code, _, reason) = rejection(err);
    assert_eq!(
        (code, reason.as_deref()),
        (1006, Some("not_committee_node"))
    );
    let wrong = civitas_primitives::crypto::seal_to(&[7; 32], &Vec::<String>::new().encode())
        .expect("seal");
    let err = clients[1]
        .put_sealed_records(to_hex(&wrong.encode()))
        .await
        .expect_err("another key");
    assert_eq!(
        rejection(err).0,
        -32602,
        "an envelope to another key is refused"
    );

    let scorer = approved_loan_scorer(&url(3), dir.path());
    let offer = alice_scored_by_bank_a(&url(3), &scorer);
    assert_eq!(
        offer["result"]["approved"],
        serde_json::json!(true),
        "{offer}"
    );
    let score_tx = Hash(hex32(offer["tx_hash"].as_str().expect("tx hash")).expect("hex"));
    let outcome = clients[3]
        .get_sealed_outcome(score_tx.to_hex())
        .await
        .expect("outcome");
    assert_eq!(outcome.status, "attested");
    assert!(outcome.attestations >= 2, "{outcome:?}");
    assert!(!outcome.disputed);

    let consent = disclose_request_by_bank_b(&url(2), "tax.annual_income", "tenancy check");
    cli_ok(
        &url(3),
        &["consent", "approve", &consent, "--from", "alice"],
    );
    let records = dir.path().join("records");
    let shown = cli_ok(
        &url(3),
        &[
            "disclose",
            &consent,
            "--from",
            "bank-b",
            "--out-dir",
            records.to_str().expect("utf-8"),
        ],
    );
    assert!(shown.contains("61234"), "{shown}");

    let payloads = loan_record_hashes(&clients[0], &url(0)).await;
    for n in nodes {
        n.terminate();
    }

    // What each node's vault holds, read from its store after it stopped.
    for k in 0..4usize {
        let data = net.join(format!("node-{k}/data"));
        let vault = stopped_vault(&data);
        let member = k < 3;
        for p in &payloads {
            assert_eq!(
                vault.has_record(p).expect("read"),
                member,
                "node {k} and record {p}"
            );
        }
        assert_eq!(
            vault.sealed_output(&score_tx).expect("read").is_some(),
            member,
            "node {k} and the sealed result"
        );
    }
    // Nothing under node 3's directory holds the canary.
    let mut dirs = vec![net.join("node-3")];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                assert!(
                    !contains(&bytes, b"canary-employer-5150"),
                    "{} holds the canary",
                    path.display()
                );
            }
        }
    }
}

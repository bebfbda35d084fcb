//! A devnet of four department validators, each its own process on 127.0.0.1, configured by
//! `civitas devnet init`: transactions submitted to any node reach every validator and
//! commit; every node holds the same blocks, each with a certificate of at least three
//! validators that `verify_certificate` accepts; records reach the sealed-compute committee's
//! nodes alone, whose members attest a sealed score submitted through a node outside it, and
//! that node serves the score and a disclosure by forwarding the encrypted reads.
use crate::common::*;
use civitas_primitives::block::{Block, CommitCertificate};
use civitas_primitives::certificate::verify_certificate;

pub(crate) const VALIDATORS: u16 = 4;
const CHAIN_ID: &str = "civitas-devnet";

/// A base port whose 10 ports per node (validators and one observer) are all free on
/// 127.0.0.1 now; each call in this process starts its search past the ranges handed out
/// before, so tests running side by side never pick the same range.
pub(crate) fn free_base_port() -> u16 {
    static HANDED_OUT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let nodes = VALIDATORS + 1;
    // Below the kernel's ephemeral range (32768 up), so no client socket of another test
    // takes a port between the check and the nodes' binds.
    let start = (std::process::id() % 240) as u16 * 50;
    let skip = HANDED_OUT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    (skip..skip + 240u16)
        .map(|i| 20_000 + (start + i * 50) % 12_000)
        .find(|base| {
            (0..10 * nodes).all(|p| std::net::TcpListener::bind(("127.0.0.1", base + p)).is_ok())
        })
        .expect("a free port range")
}

/// Writes a devnet of [`VALIDATORS`] validators (and what `extra` flags add) with `civitas
/// devnet init` into `dir/net`, on a free port range; returns that directory.
pub(crate) fn init_devnet(dir: &Path, extra: &[&str]) -> PathBuf {
    let net = dir.join("net");
    let out = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["devnet", "init", net.to_str().expect("utf-8")])
        .args(["--validators", &VALIDATORS.to_string()])
        .args(["--base-port", &free_base_port().to_string()])
        .args(extra)
        .output()
        .expect("devnet init");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    net
}

/// The datasets a loan score reads.
pub(crate) const LOAN_DATASETS: [&str; 3] = [
    "tax.annual_income",
    "social_security.employment",
    "real_estate.holdings",
];

/// Uploads alice's income, employment (with `employer`) and holdings through the node at
/// `url`, each by its department.
pub(crate) fn upload_loan_records(url: &str, employer: &str) {
    let employer = format!("employer={employer}");
    let records: [(&str, &[&str]); 3] = [
        ("tax", &["year=2025", "gross_income=61234", "tax_paid=9000"]),
        (
            "social-security",
            &[
                &employer,
                "employed=true",
                "months_employed=40",
                "monthly_salary=6100",
            ],
        ),
        (
            "real-estate",
            &["properties=0", "total_value=0", "mortgaged=false"],
        ),
    ];
    for (dataset, (from, sets)) in LOAN_DATASETS.iter().zip(records) {
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
            args.extend(["--set", s]);
        }
        cli_ok(url, &args);
    }
}

/// The record hashes of alice's loan records, as the node at `url` (client `c`) commits them.
pub(crate) async fn loan_record_hashes(c: &HttpClient, url: &str) -> Vec<Hash> {
    let subject = cli_ok(url, &["identity", "subject", "alice"])
        .trim()
        .to_string();
    let mut hashes = Vec::new();
    for dataset in LOAN_DATASETS {
        let commitments = c
            .get_commitments(subject.clone(), dataset.into())
            .await
            .expect("commitments");
        hashes.push(Hash(hex32(&commitments[0].record_hash).expect("hex")));
    }
    hashes
}

/// The vault of a stopped node whose data directory is `data`.
pub(crate) fn stopped_vault(data: &Path) -> civitas_ledger::vault::Vault {
    civitas_ledger::vault::Vault::new(
        civitas_ledger::Store::open(data).expect("store"),
        civitas_ledger::vault::Vault::load_or_create_key(&data.join("vault.key")).expect("key"),
    )
}

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

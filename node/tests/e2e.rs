//! End-to-end: `civitas node --dev` as a real process on a temporary directory, driven over
//! JSON-RPC on a real socket. Deploys the token contract, transfers, queries, reads receipts,
//! verifies state proofs, restarts, crashes, and sends every kind of bad transaction.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use civitas_ledger::proof::{verify_state_proof, StateProof};
use civitas_ledger::state::keys;
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, SignedTransaction, Transaction, MAX_TX_BYTES};
use civitas_primitives::{contract_address, sha3_256, AccountId, Hash};
use civitas_rpc::*;
use jsonrpsee::core::ClientError;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::{Decode, Encode};

const CHAIN: &str = "civitas-dev";

struct DevNode {
    child: Child,
    url: String,
    metrics: String,
}

/// GET /metrics over a plain socket.
fn scrape(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut sock = std::net::TcpStream::connect(addr).expect("metrics socket");
    sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut body = String::new();
    sock.read_to_string(&mut body).expect("read");
    body
}

impl DevNode {
    /// `civitas node --dev` on `dir`, with free ports.
    fn start(dir: &Path) -> DevNode {
        let dir = dir.to_str().expect("utf-8 path");
        Self::spawn(&[
            "node",
            "--dev",
            "--rpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--block-interval-ms",
            "20",
            "--data-dir",
            dir,
        ])
    }

    /// Starts `civitas ARGS` and waits until it prints its RPC and metrics addresses.
    fn spawn(args: &[&str]) -> DevNode {
        Self::spawn_with(args, "warn", Stdio::null())
    }

    /// Starts `civitas ARGS` with a log filter and a destination for its log.
    fn spawn_with(args: &[&str], log_filter: &str, log: Stdio) -> DevNode {
        let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
            .args(args)
            .env("RUST_LOG", log_filter)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start node");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("node exited before printing its RPC address")
                .expect("read");
            if let Some(rest) = line.strip_prefix("RPC      http://") {
                let addr = rest.split_whitespace().next().expect("address");
                break format!("http://{addr}");
            }
        };
        let metrics = loop {
            let line = lines
                .next()
                .expect("node exited before printing its metrics address")
                .expect("read");
            if let Some(rest) = line.strip_prefix("metrics  http://") {
                break rest.trim_end_matches("/metrics").to_string();
            }
        };
        // Keep draining stdout so the node never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        DevNode {
            child,
            url,
            metrics,
        }
    }

    fn client(&self) -> HttpClient {
        HttpClientBuilder::default()
            .build(&self.url)
            .expect("client")
    }

    fn terminate(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }

    fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        // A test that panics must not leave its node running.
        let _ = self.child.kill();
    }
}

fn key(name: &str) -> Keypair {
    Keypair::dev(name)
}

fn sign(k: &Keypair, nonce: u64, fuel: u64, call: Call) -> SignedTransaction {
    k.sign_tx(Transaction {
        chain_id: CHAIN.into(),
        signer: k.account(),
        nonce,
        fuel_limit: fuel,
        call,
    })
}

async fn nonce(c: &HttpClient, who: &Keypair) -> u64 {
    c.get_account(to_hex(&who.account().0))
        .await
        .expect("account")
        .nonce
}

async fn submit(c: &HttpClient, stx: &SignedTransaction) -> Result<String, ClientError> {
    c.submit(to_hex(&stx.encode())).await
}

async fn wait(c: &HttpClient, hash: &str) -> ReceiptInfo {
    let start = Instant::now();
    loop {
        if let TxStatus::Committed { .. } = c.status(hash.to_string()).await.expect("status") {
            return c.get_receipt(hash.to_string()).await.expect("receipt");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "transaction {hash} not committed in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn send(c: &HttpClient, k: &Keypair, fuel: u64, call: Call) -> ReceiptInfo {
    let n = nonce(c, k).await;
    let hash = submit(c, &sign(k, n, fuel, call)).await.expect("admitted");
    wait(c, &hash).await
}

fn token_wasm() -> Vec<u8> {
    civitas_testkit::contract_wasm(Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/token"))
}

fn message<A: Encode>(method: &str, args: A) -> Vec<u8> {
    let mut m = civitas_primitives::selector(method).to_vec();
    args.encode_to(&mut m);
    m
}

async fn balance(c: &HttpClient, token: AccountId, who: AccountId) -> u128 {
    let out = c
        .query(QueryRequest {
            contract: to_hex(&token.0),
            input: to_hex(&message("balance_of", (who,))),
            caller: None,
        })
        .await
        .expect("query");
    u128::decode(&mut &from_hex(&out.output).expect("hex")[..]).expect("u128")
}

/// Deploys the token as bank-a with 1 000 000 units; returns its address.
async fn deploy_token(c: &HttpClient) -> AccountId {
    let bank = key("bank-a");
    let code = token_wasm();
    let hash = sha3_256(&code);
    let r = send(c, &bank, 50_000_000, Call::UploadCode { code }).await;
    assert_eq!(r.status, "success", "{r:?}");
    let input = message(
        "new",
        ("Credit".to_string(), "CRD".to_string(), 2u8, 1_000_000u128),
    );
    let r = send(
        c,
        &bank,
        50_000_000,
        Call::Instantiate {
            code_hash: hash,
            salt: b"t".to_vec(),
            input,
        },
    )
    .await;
    assert_eq!(r.status, "success", "{r:?}");
    let addr = contract_address(&bank.account(), &hash, b"t");
    assert_eq!(r.output, to_hex(&addr.0));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_transfer_query_receipt_and_verified_state_proof() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let token = deploy_token(&c).await;
    let (bank, alice) = (key("bank-a"), key("alice"));

    let input = message("transfer", (alice.account(), 2_500u128));
    let r = send(
        &c,
        &bank,
        50_000_000,
        Call::Call {
            contract: token,
            input,
        },
    )
    .await;
    assert_eq!(r.status, "success");
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].topic, "Transfer");
    assert_eq!(balance(&c, token, alice.account()).await, 2_500);
    assert_eq!(balance(&c, token, bank.account()).await, 997_500);

    // A failed call: its receipt says why, and balances stay.
    let input = message("transfer", (bank.account(), 1_000_000u128));
    let r = send(
        &c,
        &alice,
        50_000_000,
        Call::Call {
            contract: token,
            input,
        },
    )
    .await;
    assert_eq!(r.status, "failed");
    assert_eq!(r.error_code.as_deref(), Some("reverted"));
    assert!(r
        .error
        .as_deref()
        .is_some_and(|e| e.contains("InsufficientBalance")));
    assert_eq!(balance(&c, token, alice.account()).await, 2_500);

    // Proof of Alice's token balance against a header the client fetched itself.
    let mut slot = b"balances:".to_vec();
    alice.account().encode_to(&mut slot);
    let state_key = keys::storage(&token, &slot);
    let proof = c.get_proof(to_hex(&state_key), None).await.expect("proof");
    let header = c.get_block(Some(proof.height)).await.expect("block").header;
    let root = Hash(hex32(&header.state_root).expect("root"));
    let value = proof.value.as_ref().map(|v| from_hex(v).expect("hex"));
    assert_eq!(
        value
            .as_deref()
            .map(|v| u128::decode(&mut &v[..]).expect("u128")),
        Some(2_500)
    );
    let state_proof = StateProof {
        key: state_key.clone(),
        value: value.clone(),
        version: proof.height,
        proof: from_hex(&proof.proof).expect("hex"),
    };
    verify_state_proof(&root, &state_proof).expect("proof verifies against the header");
    let tampered = StateProof {
        value: Some(1_000_000u128.encode()),
        ..state_proof.clone()
    };
    assert!(
        verify_state_proof(&root, &tampered).is_err(),
        "a tampered value must not verify"
    );

    // Metadata embedded by the build is served with the code.
    let meta = c.get_metadata(to_hex(&token.0)).await.expect("metadata");
    assert_eq!(
        meta.metadata.as_ref().and_then(|m| m["name"].as_str()),
        Some("token")
    );

    // Dry-run: what a transfer would do, without doing it.
    let n = nonce(&c, &bank).await;
    let tx = Transaction {
        chain_id: CHAIN.into(),
        signer: bank.account(),
        nonce: n,
        fuel_limit: 50_000_000,
        call: Call::Call {
            contract: token,
            input: message("transfer", (alice.account(), 1u128)),
        },
    };
    let dry = c.dry_run(to_hex(&tx.encode())).await.expect("dry run");
    assert!(dry.success && dry.fuel_used > 0 && !dry.storage_delta.is_empty());
    assert_eq!(
        balance(&c, token, alice.account()).await,
        2_500,
        "dry run changed nothing"
    );
    assert_eq!(nonce(&c, &bank).await, n);

    // rpc.discover lists the methods.
    let doc: serde_json::Value =
        jsonrpsee::core::client::ClientT::request(&c, "rpc.discover", jsonrpsee::rpc_params![])
            .await
            .expect("discover");
    let names: Vec<&str> = doc["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(names.contains(&"state_getProof") && names.contains(&"tx_submit"));
    node.terminate();
}

fn rejection(e: ClientError) -> (i32, String, Option<String>) {
    match e {
        ClientError::Call(obj) => {
            let reason = obj
                .data()
                .and_then(|d| serde_json::from_str::<serde_json::Value>(d.get()).ok())
                .and_then(|v| v["code"].as_str().map(str::to_string));
            (obj.code(), obj.message().to_string(), reason)
        }
        other => panic!("expected a JSON-RPC error, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_transactions_get_typed_errors_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let (bank, alice) = (key("bank-a"), key("alice"));
    let r = send(
        &c,
        &bank,
        100_000,
        Call::Transfer {
            to: alice.account(),
            amount: 10,
        },
    )
    .await;
    assert_eq!(r.status, "success");
    let head = c.get_head().await.expect("head");
    let transfer = Call::Transfer {
        to: alice.account(),
        amount: 1,
    };

    let mut forged = sign(&bank, 1, 100_000, transfer.clone());
    forged.tx.call = Call::Transfer {
        to: alice.account(),
        amount: 999_999,
    };
    let other_chain = bank.sign_tx(Transaction {
        chain_id: "elsewhere".into(),
        signer: bank.account(),
        nonce: 1,
        fuel_limit: 100_000,
        call: transfer.clone(),
    });
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (forged.encode(), "bad_signature"),
        (other_chain.encode(), "wrong_chain_id"),
        (
            sign(&bank, 0, 100_000, transfer.clone()).encode(),
            "stale_nonce",
        ),
        (
            sign(&bank, 7, 100_000, transfer.clone()).encode(),
            "nonce_gap",
        ),
        (
            sign(&bank, 1, u64::MAX, transfer.clone()).encode(),
            "fuel_limit_too_high",
        ),
        (
            sign(
                &bank,
                1,
                1_000_000,
                Call::Call {
                    contract: key("nobody").account(),
                    input: vec![],
                },
            )
            .encode(),
            "unknown_contract",
        ),
        (
            sign(
                &alice,
                0,
                1_000_000,
                Call::UploadCode { code: token_wasm() },
            )
            .encode(),
            "not_permitted",
        ),
        (b"definitely not a transaction".to_vec(), "malformed"),
        (vec![0u8; MAX_TX_BYTES + 1], "malformed"),
    ];
    for (bytes, reason) in cases {
        let err = c.submit(to_hex(&bytes)).await.expect_err(reason);
        let (code, message, data) = rejection(err);
        assert_eq!(code, errors::TX_REJECTED, "{reason}: {message}");
        assert_eq!(data.as_deref(), Some(reason), "{message}");
    }
    // A duplicate of a pending transaction, and parameters that are not hex.
    let (code, _, _) = rejection(c.submit("0xzz".into()).await.expect_err("bad hex"));
    assert_eq!(code, errors::INVALID_PARAMS);
    let (code, message, _) = rejection(c.status("0x1234".into()).await.expect_err("short hash"));
    assert_eq!(code, errors::INVALID_PARAMS);
    assert!(message.contains("tx_hash"), "{message}");

    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = c.get_head().await.expect("head");
    assert_eq!(after, head, "no block, no state change");
    assert_eq!(nonce(&c, &bank).await, 1);
    assert_eq!(nonce(&c, &alice).await, 0);
    let health = c.health().await.expect("health");
    assert_eq!(health.pending, 0);
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_from_the_stored_head() {
    let dir = tempfile::tempdir().expect("tmp");
    let (bank, alice) = (key("bank-a"), key("alice"));
    let node = DevNode::start(dir.path());
    let c = node.client();
    for _ in 0..3 {
        send(
            &c,
            &bank,
            100_000,
            Call::Transfer {
                to: alice.account(),
                amount: 5,
            },
        )
        .await;
    }
    let head = c.get_head().await.expect("head");
    let account = c
        .get_account(to_hex(&alice.account().0))
        .await
        .expect("account");
    node.terminate();

    let node = DevNode::start(dir.path());
    let c = node.client();
    assert_eq!(
        c.get_head().await.expect("head"),
        head,
        "same head and state root after restart"
    );
    assert_eq!(
        c.get_account(to_hex(&alice.account().0))
            .await
            .expect("account"),
        account
    );
    let r = send(
        &c,
        &alice,
        100_000,
        Call::Transfer {
            to: bank.account(),
            amount: 1,
        },
    )
    .await;
    assert_eq!(
        r.height,
        head.height + 1,
        "new blocks continue from the stored head"
    );
    let block = c.get_block(Some(r.height)).await.expect("block");
    assert_eq!(block.header.parent_hash, head.block_hash);
    let metrics = scrape(&node.metrics);
    assert!(
        metrics.contains(&format!("civitas_height {}", r.height)),
        "{metrics}"
    );
    assert!(
        metrics.contains("civitas_txs_committed_total 1"),
        "{metrics}"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_under_load_the_head_is_always_a_complete_replayable_block() {
    let dir = tempfile::tempdir().expect("tmp");
    let alice = key("alice");
    let senders: Vec<Keypair> = ["bank-a", "bank-b", "insurer"]
        .iter()
        .map(|n| key(n))
        .collect();
    let mut last_height = 0;
    for round in 0..4u64 {
        let node = DevNode::start(dir.path());
        let c = node.client();
        let deadline = Instant::now() + Duration::from_millis(400 + 150 * round);
        let mut nonces = Vec::new();
        for s in &senders {
            nonces.push(nonce(&c, s).await);
        }
        // Load: keep every sender's next transfer in flight until the kill.
        while Instant::now() < deadline {
            for (i, s) in senders.iter().enumerate() {
                if submit(
                    &c,
                    &sign(
                        s,
                        nonces[i],
                        100_000,
                        Call::Transfer {
                            to: alice.account(),
                            amount: 1,
                        },
                    ),
                )
                .await
                .is_ok()
                {
                    nonces[i] += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        node.crash();
        let (head, replayed) = tokio::task::spawn_blocking({
            let d = dir.path().to_path_buf();
            move || replay_with_stored_genesis(&d)
        })
        .await
        .expect("replay");
        assert_eq!(
            head.state_root, replayed.state_root,
            "round {round}: the stored head matches a replay of its blocks"
        );
        assert_eq!(head.block_hash, replayed.block_hash);
        assert!(
            head.height > last_height,
            "round {round}: blocks were being committed when the node was killed"
        );
        last_height = head.height;
    }
    let node = DevNode::start(dir.path());
    let c = node.client();
    let health = c.health().await.expect("restarts after the last crash");
    assert!(health.height > 0);
    node.terminate();
}

/// Replays every stored block of the (crashed) node in `dir` into a fresh store, from the
/// genesis document stored beside the chain; returns (stored head, replayed head).
fn replay_with_stored_genesis(dir: &Path) -> (civitas_ledger::Head, civitas_ledger::Head) {
    use civitas_ledger::{ChainParams, Executor, Store};
    let crashed = Store::open(dir).expect("open crashed store");
    let doc = crashed
        .genesis_doc()
        .expect("read")
        .expect("genesis stored");
    let genesis: civitas_ledger::Genesis = serde_json::from_slice(&doc).expect("genesis JSON");
    let head = crashed.head().expect("read").expect("head");
    let fresh_dir = tempfile::tempdir().expect("tmp");
    let fresh = Executor::new(
        Store::open(fresh_dir.path()).expect("fresh"),
        civitas_runtime::Vm::new(civitas_runtime::VmConfig::default()).expect("vm"),
        ChainParams::new(CHAIN),
    );
    let mut replayed = fresh.init_genesis(&genesis).expect("genesis");
    for h in 1..=head.height {
        let block = crashed
            .block(h)
            .expect("read")
            .expect("every block up to the head is stored");
        let cert = crashed
            .certificate(h)
            .expect("read")
            .expect("certificate stored");
        assert!(
            crashed.receipts(h).expect("read").is_some(),
            "receipts of block {h} stored"
        );
        let executed = fresh
            .validate(&replayed, &block)
            .expect("stored block re-executes");
        replayed = fresh.commit(executed, cert).expect("commit");
    }
    (head, replayed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_submission_reports_each_transaction_and_admits_the_good_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let (bank, alice) = (key("bank-b"), key("alice"));
    let pay = |nonce| {
        sign(
            &bank,
            nonce,
            100_000,
            Call::Transfer {
                to: alice.account(),
                amount: 7,
            },
        )
    };
    let mut forged = pay(1);
    forged.tx.call = Call::Transfer {
        to: alice.account(),
        amount: 7_000_000,
    };
    let batch = vec![
        to_hex(&pay(0).encode()),
        to_hex(&forged.encode()),
        to_hex(&pay(1).encode()),
        "0x00".into(),
    ];
    let out = c.submit_batch(batch).await.expect("batch");
    let reasons: Vec<Option<&str>> = out.iter().map(|o| o.reason.as_deref()).collect();
    assert_eq!(
        reasons,
        vec![None, Some("bad_signature"), None, Some("malformed")]
    );
    assert!(out[0].tx_hash.is_some() && out[2].tx_hash.is_some());
    let r = wait(&c, out[2].tx_hash.as_deref().expect("hash")).await;
    assert_eq!(r.status, "success");
    let account = c
        .get_account(to_hex(&alice.account().0))
        .await
        .expect("account");
    assert_eq!(account.balance, (1_000_000_000u128 + 14).to_string());
    let too_many = vec!["0x00".to_string(); MAX_SUBMIT_BATCH + 1];
    let (code, _, _) = rejection(c.submit_batch(too_many).await.expect_err("over the limit"));
    assert_eq!(code, errors::INVALID_PARAMS);
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_runs_from_a_config_file_genesis_and_validator_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let validator = key("ministry");
    let citizen = key("carol");
    let genesis = civitas_ledger::Genesis {
        chain_id: "civitas-configured".into(),
        genesis_time_ms: 1_767_225_600_000,
        accounts: vec![
            civitas_ledger::GenesisAccount {
                name: "ministry".into(),
                account: validator.account().to_hex(),
                balance: 1_000,
                roles: vec!["validator".into()],
            },
            civitas_ledger::GenesisAccount {
                name: "carol".into(),
                account: citizen.account().to_hex(),
                balance: 50,
                roles: vec![],
            },
        ],
        upload_roles: vec!["institution".into()],
        instantiate_roles: vec!["institution".into()],
        governance_threshold: 1,
        record_reward: 10,
        datasets: vec![],
    };
    let genesis_file = dir.path().join("genesis.json");
    std::fs::write(
        &genesis_file,
        serde_json::to_vec_pretty(&genesis).expect("json"),
    )
    .expect("write");
    let key_file = dir.path().join("validator.key");
    std::fs::write(&key_file, hex::encode(validator.seed())).expect("write");
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ngenesis_file = {:?}\nvalidator_key_file = {:?}\nrpc_addr = \"127.0.0.1:0\"\nmetrics_addr = \"127.0.0.1:0\"\nblock_interval_ms = 20\n",
            dir.path().join("data"),
            genesis_file,
            key_file
        ),
    )
    .expect("write");
    let node = DevNode::spawn(&["node", "--config", config.to_str().expect("utf-8 path")]);
    let c = node.client();
    assert_eq!(
        c.health().await.expect("health").chain_id,
        "civitas-configured"
    );
    let tx = citizen.sign_tx(Transaction {
        chain_id: "civitas-configured".into(),
        signer: citizen.account(),
        nonce: 0,
        fuel_limit: 10_000,
        call: Call::Transfer {
            to: validator.account(),
            amount: 20,
        },
    });
    let hash = submit(&c, &tx).await.expect("admitted");
    let r = wait(&c, &hash).await;
    assert_eq!(r.status, "success");
    let block = c.get_block(Some(r.height)).await.expect("block");
    assert_eq!(
        block.signed_by,
        vec![to_hex(&validator.account().0)],
        "blocks are signed by the configured validator key"
    );
    node.terminate();
}

/// Runs the CLI against `url`; returns (success, stdout, stderr).
fn cli(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(args)
        .env("CIVITAS_RPC", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run civitas");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cli_ok(url: &str, args: &[&str]) -> String {
    let (ok, stdout, stderr) = cli(url, args);
    assert!(ok, "civitas {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn consent_id(receipt_json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(receipt_json.trim()).expect("receipt json");
    let hex = v["output"]
        .as_str()
        .expect("output")
        .trim_start_matches("0x");
    let bytes = hex::decode(hex).expect("hex");
    u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_records_never_leak_and_only_the_authorised_disclosure_returns_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let log_path = dir.path().join("node.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let node = DevNode::spawn_with(
        &[
            "node",
            "--dev",
            "--rpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--block-interval-ms",
            "20",
            "--data-dir",
            data.to_str().expect("utf-8"),
        ],
        "debug",
        Stdio::from(log),
    );
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
    let wasm = dir.path().join("loan-scoring.wasm");
    std::fs::write(
        &wasm,
        civitas_testkit::contract_wasm(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/loan-scoring"),
        ),
    )
    .expect("write wasm");
    let wasm = wasm.to_str().expect("utf-8");
    cli_ok(
        &url,
        &[
            "contract", "deploy", wasm, "--from", "bank-a", "--send", "--json",
        ],
    );
    let check: serde_json::Value =
        serde_json::from_str(&cli_ok(&url, &["contract", "check", wasm, "--json"])).expect("json");
    let code = check["code_hash"].as_str().expect("code hash").to_string();
    let policy = r#"[{"min_income":30000,"income_multiple":4,"max_amount":300000,"min_months_employed":12,"base_rate_bps":500,"property_discount_bps":50}]"#;
    let inst: serde_json::Value = serde_json::from_str(&cli_ok(
        &url,
        &[
            "contract",
            "instantiate",
            &code,
            "--from",
            "bank-a",
            "--args",
            policy,
            "--send",
            "--json",
        ],
    ))
    .expect("json");
    let scorer = inst["output"].as_str().expect("address").to_string();
    cli_ok(&url, &["code", "approve", &code]);
    let req = cli_ok(
        &url,
        &[
            "consent",
            "request",
            "--from",
            "bank-a",
            "--subject",
            "alice",
            "--mode",
            "compute",
            "--contract",
            &scorer,
            "--dataset",
            "tax.annual_income",
            "--dataset",
            "social_security.employment",
            "--dataset",
            "real_estate.holdings",
            "--purpose",
            "mortgage",
            "--json",
        ],
    );
    cli_ok(
        &url,
        &["consent", "approve", &consent_id(&req), "--from", "alice"],
    );
    let subject = cli_ok(&url, &["identity", "subject", "alice"])
        .trim()
        .to_string();
    let offer = cli_ok(
        &url,
        &[
            "sealed",
            "call",
            &scorer,
            "score",
            &format!("[\"{subject}\", 200000]"),
            "--from",
            "bank-a",
            "--json",
        ],
    );
    let offer: serde_json::Value = serde_json::from_str(offer.trim()).expect("json");
    assert_eq!(offer["result"]["approved"], serde_json::json!(true));
    assert_eq!(offer["result"]["amount"], serde_json::json!(200000));

    // Another bank gets disclosure; the authorised download returns the canary verbatim.
    let req = cli_ok(
        &url,
        &[
            "consent",
            "request",
            "--from",
            "bank-b",
            "--subject",
            "alice",
            "--mode",
            "disclose",
            "--dataset",
            "social_security.employment",
            "--purpose",
            "contract",
            "--json",
        ],
    );
    let disclose_id = consent_id(&req);
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

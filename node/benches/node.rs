//! `scripts/bench node`: a load generator signs credit transfers and submits them over JSON-RPC
//! to a dev node (the release binary, on a temporary directory); it reports committed tx/s and
//! p50/p99 submit-to-commit latency, and in the same run the machine's single-core and batch
//! ed25519 verification rates, with the ratio the goal is stated in.
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use civitas_primitives::crypto::{verify_tx, verify_tx_batch, Keypair};
use civitas_primitives::tx::{Call, SignedTransaction, Transaction};
use civitas_rpc::{to_hex, ChainApiClient, SystemApiClient, TxApiClient};
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::ws_client::WsClientBuilder;
use parity_scale_codec::Encode;

const SENDERS: &[&str] = &[
    "bank-a",
    "bank-b",
    "insurer",
    "hospital",
    "regulator",
    "alice",
    "bob",
    "tax",
];

/// Clients submitting one transaction per request: accounts of their own, funded by `tax` in
/// a setup block before the measurement, each waiting for a reply before its next request.
fn client_keys(n: usize) -> Vec<Keypair> {
    (0..n)
        .map(|i| Keypair::dev(&format!("bench-client-{i}")))
        .collect()
}

fn signed_transfers(keys: &[Keypair], per_sender: usize) -> Vec<Vec<SignedTransaction>> {
    let to = Keypair::dev("civil-affairs").account();
    keys.iter()
        .map(|k| {
            (0..per_sender as u64)
                .map(|nonce| {
                    k.sign_tx(Transaction {
                        chain_id: "civitas-dev".into(),
                        signer: k.account(),
                        nonce,
                        fuel_limit: 10_000,
                        call: Call::Transfer { to, amount: 1 },
                    })
                })
                .collect()
        })
        .collect()
}

/// `tax` funds each client (nonces from 0), so the chain knows them as members with credits.
fn funding(clients: &[Keypair]) -> Vec<SignedTransaction> {
    let tax = Keypair::dev("tax");
    clients
        .iter()
        .enumerate()
        .map(|(nonce, c)| {
            tax.sign_tx(Transaction {
                chain_id: "civitas-dev".into(),
                signer: tax.account(),
                nonce: nonce as u64,
                fuel_limit: 10_000,
                call: Call::Transfer {
                    to: c.account(),
                    amount: 1_000_000,
                },
            })
        })
        .collect()
}

fn verification_rates(txs: &[SignedTransaction]) -> (f64, f64) {
    let n = txs.len().min(4_000);
    let start = Instant::now();
    for t in &txs[..n] {
        assert!(verify_tx(t));
    }
    let single = n as f64 / start.elapsed().as_secs_f64();
    let refs: Vec<&SignedTransaction> = txs[..n].iter().collect();
    let start = Instant::now();
    for chunk in refs.chunks(256) {
        assert!(verify_tx_batch(chunk));
    }
    let batch = n as f64 / start.elapsed().as_secs_f64();
    (single, batch)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let per_sender: usize = std::env::var("BENCH_TXS_PER_SENDER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500);
    let one_per_request = std::env::var("BENCH_SUBMIT").as_deref() == Ok("single");
    // One `tx_submit` per request: many clients (each with one request in flight, as a
    // client waiting for its reply has), so that concurrent requests exist to verify together.
    // Batches: the eight dev senders. The same number of transfers either way.
    let clients: usize = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if one_per_request { 64 } else { SENDERS.len() })
        .max(1);
    let total = SENDERS.len() * per_sender;
    let (keys, fund) = if one_per_request {
        let keys = client_keys(clients);
        let fund = funding(&keys);
        (keys, fund)
    } else {
        (
            SENDERS.iter().map(|n| Keypair::dev(n)).collect(),
            Vec::new(),
        )
    };
    let batches = signed_transfers(&keys, total / keys.len());
    let all: Vec<SignedTransaction> = batches.iter().flatten().cloned().collect();
    let (single, batch) = verification_rates(&all);

    let dir = tempfile::tempdir().expect("tmp");
    let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args([
            "node",
            "--dev",
            "--rpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--block-interval-ms",
            "50",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the node");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr = loop {
        let line = lines.next().expect("node output").expect("read");
        if let Some(rest) = line.strip_prefix("RPC      http://") {
            break rest.split_whitespace().next().expect("addr").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (committed, elapsed, latencies) = rt.block_on(async move {
        let submitted: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
        let committed_at: Arc<Mutex<Vec<(String, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
        let ws = WsClientBuilder::default()
            .build(format!("ws://{addr}"))
            .await
            .expect("ws");
        let http = HttpClientBuilder::default()
            .build(format!("http://{addr}"))
            .expect("http");
        // Setup, not measured: the clients' funding, committed before the load starts.
        for chunk in fund.chunks(100) {
            let hexes: Vec<String> = chunk.iter().map(|t| to_hex(&t.encode())).collect();
            for o in http.submit_batch(hexes).await.expect("fund clients") {
                assert!(o.tx_hash.is_some(), "funding refused: {:?}", o.message);
            }
        }
        while http.health().await.expect("health").pending > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut heads = ws.subscribe_new_heads().await.expect("subscribe");
        let total = all.len();
        // The measured transfers only (the funding block's head may still be on its way).
        let measured: std::collections::HashSet<String> =
            all.iter().map(|t| to_hex(&t.hash().0)).collect();
        let watcher = {
            let committed_at = committed_at.clone();
            let http = http.clone();
            tokio::spawn(async move {
                let mut seen = 0usize;
                while seen < total {
                    let Some(Ok(head)) = heads.next().await else {
                        break;
                    };
                    let now = Instant::now();
                    let block = http.get_block(Some(head.height)).await.expect("block");
                    let mut c = committed_at.lock().expect("lock");
                    for h in block.transactions {
                        if measured.contains(&h) {
                            seen += 1;
                            c.push((h, now));
                        }
                    }
                }
            })
        };
        let start = Instant::now();
        let mut tasks = Vec::new();
        for txs in batches {
            let one_per_request = one_per_request;
            let http = http.clone();
            let submitted = submitted.clone();
            tasks.push(tokio::spawn(async move {
                if one_per_request {
                    // One `tx_submit` per transaction, each sender's in nonce order; the node
                    // groups concurrent requests for verification.
                    for t in &txs {
                        loop {
                            let sent = Instant::now();
                            match http.submit(to_hex(&t.encode())).await {
                                Ok(h) => {
                                    submitted.lock().expect("lock").insert(h, sent);
                                    break;
                                }
                                Err(e) if e.to_string().contains("pool_full") => {
                                    tokio::time::sleep(Duration::from_millis(5)).await;
                                }
                                Err(e) => panic!("transaction refused: {e}"),
                            }
                        }
                    }
                    return;
                }
                // Batches of 100 per request: signatures are verified as a batch at admission.
                for chunk in txs.chunks(100) {
                    let hexes: Vec<String> = chunk.iter().map(|t| to_hex(&t.encode())).collect();
                    let mut pending: Vec<usize> = (0..chunk.len()).collect();
                    while !pending.is_empty() {
                        let sent = Instant::now();
                        let batch: Vec<String> =
                            pending.iter().map(|i| hexes[*i].clone()).collect();
                        let outcomes = http.submit_batch(batch).await.expect("submit batch");
                        let mut retry = Vec::new();
                        for (i, o) in pending.iter().zip(outcomes) {
                            match (o.tx_hash, o.reason.as_deref()) {
                                (Some(h), _) => {
                                    submitted.lock().expect("lock").insert(h, sent);
                                }
                                (None, Some("pool_full")) => retry.push(*i),
                                // Later nonces of a sender wait for an earlier one that had to retry.
                                (None, Some("nonce_gap")) if !retry.is_empty() => retry.push(*i),
                                (None, r) => panic!("transaction refused: {r:?} {:?}", o.message),
                            }
                        }
                        if !retry.is_empty() {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        pending = retry;
                    }
                }
            }));
        }
        for t in tasks {
            t.await.expect("sender");
        }
        let _ = tokio::time::timeout(Duration::from_secs(120), watcher).await;
        let elapsed = start.elapsed();
        let submitted = submitted.lock().expect("lock").clone();
        let committed = committed_at.lock().expect("lock").clone();
        let mut latencies: Vec<Duration> = committed
            .iter()
            .filter_map(|(h, at)| submitted.get(h).map(|s| at.saturating_duration_since(*s)))
            .collect();
        latencies.sort();
        let last = committed.iter().map(|(_, at)| *at).max().unwrap_or(start);
        let health = http.health().await.expect("health");
        assert_eq!(health.pending, 0, "everything submitted was committed");
        (
            committed.len(),
            last.duration_since(start).min(elapsed),
            latencies,
        )
    });
    let _ = child.kill();
    let _ = child.wait();

    let tps = committed as f64 / elapsed.as_secs_f64();
    println!(
        "scripts/bench node  ({} senders, {committed} transfers over JSON-RPC, {}, one dev node)\n",
        keys.len(),
        if one_per_request {
            "one tx_submit each"
        } else {
            "tx_submitBatch of 100"
        }
    );
    println!("ed25519 verify_strict, one core:   {single:>10.0} sig/s");
    println!("ed25519 verify_batch (256), one core: {batch:>7.0} sig/s");
    println!(
        "committed transfers:               {tps:>10.0} tx/s   ({committed} in {:.2} s)",
        elapsed.as_secs_f64()
    );
    println!(
        "submit-to-commit latency:          p50 {:?}   p99 {:?}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99)
    );
    println!(
        "committed tx/s ÷ batch verification rate: {:.1}% (goal ≥ 100%)",
        100.0 * tps / batch
    );
    let p99 = percentile(&latencies, 0.99).as_secs_f64() * 1e3;
    for (name, value, bound) in [
        (
            if one_per_request {
                "committed_tx_per_s_one_per_request"
            } else {
                "committed_tx_per_s"
            },
            tps,
            Some(if one_per_request { batch / 2.0 } else { batch }),
        ),
        ("batch_verify_sig_per_s", batch, None),
        ("single_verify_sig_per_s", single, None),
        ("submit_to_commit_p99_ms", p99, None),
    ] {
        println!(
            "{}",
            serde_json::json!({ "bench": "node", "name": name, "value": value, "bound": bound })
        );
    }
}

//! `scripts/bench devnet`: four department validators on 127.0.0.1 (written by `civitas devnet
//! init`, each its own `civitas node --config` process deciding blocks by BFT consensus); a load
//! generator signs native credit transfers (`Call::Transfer`) from several accounts and submits
//! them with `tx_submitBatch` over JSON-RPC, each account's to one node, the accounts spread
//! round-robin over the four nodes (the nodes forward what they admit to the others). It reports
//! committed tx/s and p50/p99 submit-to-commit latency (commit = the block's head announced by
//! node 0), and where the time went: CPU per process (from `/proc`) and, from each node's
//! metrics, the time spent executing blocks, committing them and waiting for votes.
//!
//! `BENCH_TXS_PER_SENDER` (default 1,500) sets the load; `BENCH_OFFERED_TPS` paces it (each
//! sender's batches of 100 spread evenly so that all senders together offer that rate; unset
//! or 0: as fast as the nodes admit them, which measures capacity, and latency then counts
//! the queue).
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, SignedTransaction, Transaction};
use civitas_rpc::{to_hex, ChainApiClient, SystemApiClient, TxApiClient};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::ws_client::WsClientBuilder;
use parity_scale_codec::Encode;

const CHAIN: &str = "civitas-devnet";
const NODES: usize = 4;

/// The dev accounts with credits in the devnet genesis.
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

fn signed_transfers(per_sender: usize) -> Vec<Vec<SignedTransaction>> {
    let to = Keypair::dev("civil-affairs").account();
    SENDERS
        .iter()
        .map(|name| {
            let k = Keypair::dev(name);
            (0..per_sender as u64)
                .map(|nonce| {
                    k.sign_tx(Transaction {
                        chain_id: CHAIN.into(),
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A base port with the 10·NODES ports above it free now.
fn free_base_port() -> u16 {
    let seed = std::process::id() as u16;
    for attempt in 0..200u16 {
        let base = 20_000 + (seed.wrapping_add(attempt.wrapping_mul(97)) % 400) * 100;
        let free = (0..(10 * NODES) as u16)
            .all(|p| std::net::TcpListener::bind(("127.0.0.1", base + p)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no free range of ports on 127.0.0.1");
}

/// User + system CPU seconds of process `pid` so far.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat; here 11 and 12 (state is the first).
    // SAFETY: sysconf reads a constant of the system.
    let clock_ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / clock_ticks
}

/// The samples of a Prometheus text exposition.
fn scrape(addr: &str) -> BTreeMap<String, f64> {
    use std::io::{Read, Write};
    let mut out = BTreeMap::new();
    let Ok(mut sock) = std::net::TcpStream::connect(addr) else {
        return out;
    };
    let _ = sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut text = String::new();
    let _ = sock.read_to_string(&mut text);
    let body = text
        .split_once("\r\n\r\n")
        .map_or(text.as_str(), |(_, b)| b);
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        if let Some((series, value)) = line.rsplit_once(' ') {
            if let Ok(v) = value.parse() {
                out.insert(series.to_string(), v);
            }
        }
    }
    out
}

fn delta(after: &BTreeMap<String, f64>, before: &BTreeMap<String, f64>, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

struct Node {
    child: Child,
    rpc: String,
    metrics: String,
}

fn start_node(civitas: &str, config: &Path, log: &Path) -> Node {
    let mut child = Command::new(civitas)
        .args(["node", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(log).expect("log file")))
        .spawn()
        .expect("start a validator");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut rpc, mut metrics) = (None, None);
    while rpc.is_none() || metrics.is_none() {
        let line = lines.next().expect("validator output").expect("read");
        if let Some(rest) = line.strip_prefix("RPC      http://") {
            rpc = rest.split_whitespace().next().map(str::to_string);
        }
        if let Some(rest) = line.strip_prefix("metrics  http://") {
            metrics = rest.split('/').next().map(str::to_string);
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Node {
        child,
        rpc: rpc.expect("rpc"),
        metrics: metrics.expect("metrics"),
    }
}

fn main() {
    let per_sender: usize = std::env::var("BENCH_TXS_PER_SENDER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_500);
    let offered: f64 = std::env::var("BENCH_OFFERED_TPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    // Between two batches of one sender, at the offered rate.
    let batch_every =
        (offered > 0.0).then(|| Duration::from_secs_f64(100.0 * SENDERS.len() as f64 / offered));
    let batches = signed_transfers(per_sender);
    let total: usize = batches.iter().map(Vec::len).sum();

    let civitas = env!("CARGO_BIN_EXE_civitas");
    let dir = tempfile::tempdir().expect("tmp");
    let net = dir.path().join("net");
    let base = free_base_port();
    let init = Command::new(civitas)
        .args(["devnet", "init"])
        .arg(&net)
        .args(["--validators", &NODES.to_string()])
        .args(["--base-port", &base.to_string()])
        .stdout(Stdio::null())
        .status()
        .expect("civitas devnet init");
    assert!(init.success(), "civitas devnet init failed");
    let mut nodes: Vec<Node> = (0..NODES)
        .map(|k| {
            start_node(
                civitas,
                &net.join(format!("node-{k}/node.toml")),
                &dir.path().join(format!("node-{k}.log")),
            )
        })
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rpcs: Vec<String> = nodes.iter().map(|n| n.rpc.clone()).collect();
    let metrics_addrs: Vec<String> = nodes.iter().map(|n| n.metrics.clone()).collect();
    let pids: Vec<String> = nodes.iter().map(|n| n.child.id().to_string()).collect();
    let report = rt.block_on(async move {
        let clients: Vec<HttpClient> = rpcs
            .iter()
            .map(|a| {
                HttpClientBuilder::default()
                    .build(format!("http://{a}"))
                    .expect("http")
            })
            .collect();
        // Every validator connected to the three others and the network deciding.
        let ready = Instant::now();
        loop {
            let mut ok = true;
            for c in &clients {
                match c.health().await {
                    Ok(h) if h.peers == NODES - 1 && h.height >= 2 => {}
                    _ => ok = false,
                }
            }
            if ok {
                break;
            }
            assert!(
                ready.elapsed() < Duration::from_secs(60),
                "the devnet did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let submitted: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
        let committed_at: Arc<Mutex<Vec<(String, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
        let blocks: Arc<Mutex<Vec<usize>>> = Arc::new(Mutex::new(Vec::new()));
        let ws = WsClientBuilder::default()
            .build(format!("ws://{}", rpcs[0]))
            .await
            .expect("ws");
        let mut heads = ws.subscribe_new_heads().await.expect("subscribe");
        let cpu_before: Vec<f64> = pids.iter().map(|p| cpu_seconds(p)).collect();
        let own_before = cpu_seconds("self");
        let metrics_before: Vec<_> = metrics_addrs.iter().map(|a| scrape(a)).collect();
        let watcher = {
            let committed_at = committed_at.clone();
            let blocks = blocks.clone();
            let http = clients[0].clone();
            tokio::spawn(async move {
                let mut seen = 0usize;
                while seen < total {
                    let Some(Ok(head)) = heads.next().await else {
                        break;
                    };
                    let now = Instant::now();
                    let block = http.get_block(Some(head.height)).await.expect("block");
                    seen += block.transactions.len();
                    blocks.lock().expect("lock").push(block.transactions.len());
                    let mut c = committed_at.lock().expect("lock");
                    c.extend(block.transactions.into_iter().map(|h| (h, now)));
                }
            })
        };
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (s, txs) in batches.into_iter().enumerate() {
            let http = clients[s % NODES].clone();
            let submitted = submitted.clone();
            tasks.push(tokio::spawn(async move {
                for (k, chunk) in txs.chunks(100).enumerate() {
                    if let Some(every) = batch_every {
                        // Senders start staggered, so the batches do not arrive in bursts.
                        let offset = every.mul_f64(s as f64 / SENDERS.len() as f64);
                        let at = start + offset + every * k as u32;
                        tokio::time::sleep_until(at.into()).await;
                    }
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
        let submit_done = start.elapsed();
        let _ = tokio::time::timeout(Duration::from_secs(120), watcher).await;
        let elapsed = start.elapsed();
        let cpu: Vec<f64> = pids
            .iter()
            .zip(&cpu_before)
            .map(|(p, b)| cpu_seconds(p) - b)
            .collect();
        let own = cpu_seconds("self") - own_before;
        let metrics_after: Vec<_> = metrics_addrs.iter().map(|a| scrape(a)).collect();
        let submitted = submitted.lock().expect("lock").clone();
        let committed = committed_at.lock().expect("lock").clone();
        let mut latencies: Vec<Duration> = committed
            .iter()
            .filter_map(|(h, at)| submitted.get(h).map(|s| at.saturating_duration_since(*s)))
            .collect();
        latencies.sort();
        let last = committed.iter().map(|(_, at)| *at).max().unwrap_or(start);
        let blocks = blocks.lock().expect("lock").clone();
        (
            committed.len(),
            last.duration_since(start).min(elapsed),
            submit_done,
            latencies,
            blocks,
            cpu,
            own,
            metrics_before,
            metrics_after,
        )
    });
    for n in &mut nodes {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(n.child.id().to_string())
            .status();
    }
    for n in &mut nodes {
        let _ = n.child.wait();
    }
    let (committed, elapsed, submit_done, latencies, blocks, cpu, own, before, after) = report;

    let secs = elapsed.as_secs_f64();
    let tps = committed as f64 / secs;
    println!(
        "scripts/bench devnet  ({} senders, {committed} of {total} transfers committed, 4 validators on 127.0.0.1, each sender's to one node, round-robin; offered: {})\n",
        SENDERS.len(),
        if offered > 0.0 { format!("{offered:.0} tx/s") } else { "as fast as admitted".into() }
    );
    println!(
        "committed transfers:        {tps:>8.0} tx/s   ({committed} in {secs:.2} s; all submitted after {:.2} s)",
        submit_done.as_secs_f64()
    );
    println!(
        "submit-to-commit latency:   p50 {:?}   p99 {:?}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99)
    );
    let paced = if offered > 0.0 { "paced" } else { "capacity" };
    for (name, value) in [
        (format!("devnet_{paced}_tx_per_s"), tps),
        (
            format!("devnet_{paced}_p99_ms"),
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        ),
    ] {
        println!(
            "{}",
            serde_json::json!({ "bench": "devnet", "name": name, "value": value, "bound": null })
        );
    }
    let with_txs: Vec<usize> = blocks.iter().copied().filter(|n| *n > 0).collect();
    println!(
        "blocks:                     {} ({} with transfers, {:.0} transfers each on average, at most {})",
        blocks.len(),
        with_txs.len(),
        with_txs.iter().sum::<usize>() as f64 / with_txs.len().max(1) as f64,
        with_txs.iter().max().copied().unwrap_or(0)
    );
    println!("\nCPU over the {secs:.1} s (1.00 = one core busy the whole time):");
    for (k, c) in cpu.iter().enumerate() {
        println!("  node-{k}                    {:.2}", c / secs);
    }
    println!(
        "  load generator            {:.2}   (signing done before the clock started)",
        own / secs
    );
    println!("\nper node, from its metrics over the run (seconds in total, and per height):");
    println!(
        "  node   heights  late  execute s (n)      commit s (n)      vote wait s (per height)"
    );
    for k in 0..NODES {
        let (a, b) = (&after[k], &before[k]);
        let heights = delta(a, b, "civitas_consensus_decided_round_count");
        let exec = delta(a, b, "civitas_block_execute_seconds_sum");
        let exec_n = delta(a, b, "civitas_block_execute_seconds_count");
        let commit = delta(a, b, "civitas_block_commit_seconds_sum");
        let commit_n = delta(a, b, "civitas_block_commit_seconds_count");
        let wait = delta(a, b, "civitas_consensus_vote_wait_seconds_sum");
        let wait_n = delta(a, b, "civitas_consensus_vote_wait_seconds_count");
        println!(
            "  node-{k} {heights:>7.0} {:>5.0}  {exec:>7.2} ({exec_n:>4.0})    {commit:>7.2} ({commit_n:>4.0})    {wait:>7.2} ({:.3})",
            delta(a, b, "civitas_consensus_decided_late_total"),
            wait / wait_n.max(1.0)
        );
    }
    println!(
        "\nexecute: proposing or checking a block; commit: writing it; vote wait: from holding a height's block to its decision."
    );
}

//! `scripts/bench ingest`: a department's bulk upload end to end. A CSV of signed-to-be records
//! (random subjects, `tax.annual_income`) goes through `civitas vault upload --file` (the release
//! binary) to a dev node on a temporary directory: payload staging, commitments, blocks, and the
//! CLI's confirmation of every record. Reports committed records/s against the 10,000/s goal and
//! the CLI's peak resident memory for two file sizes (bounded memory: the larger file must not
//! need more), each figure also as one JSON line.
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GOAL_PER_S: f64 = 10_000.0;

fn csv(path: &Path, n: usize, seed: u64) {
    let mut text = String::with_capacity(n * 100);
    text.push_str("subject,year,gross_income,tax_paid\n");
    for i in 0..n as u64 {
        let subject =
            civitas_primitives::sha3_256(format!("register {seed}/{i}").as_bytes()).to_hex();
        let _ = writeln!(
            text,
            "{subject},2025,{},{}",
            30_000 + i % 90_000,
            5_000 + i % 9_000
        );
    }
    std::fs::write(path, text).expect("write the CSV");
}

/// The peak resident set (kB) of process `pid` so far, from /proc.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Uploads `n` records; returns (records/s, CLI peak RSS in MB).
fn run(bin: &str, rpc: &str, dir: &Path, n: usize, seed: u64) -> (f64, f64) {
    let file = dir.join(format!("register-{n}.csv"));
    csv(&file, n, seed);
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args([
            "vault",
            "upload",
            "--dataset",
            "tax.annual_income",
            "--from",
            "tax",
            "--json",
        ])
        .arg("--file")
        .arg(&file)
        .env("CIVITAS_RPC", rpc)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the upload");
    let pid = child.id();
    let mut peak = 0u64;
    let out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut last = String::new();
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            last = line;
        }
        last
    });
    loop {
        if let Some(kb) = peak_rss_kb(pid) {
            peak = peak.max(kb);
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = start.elapsed().as_secs_f64();
    let status = child.wait().expect("wait");
    let last = reader.join().expect("reader");
    assert!(status.success(), "the upload failed");
    let summary: serde_json::Value = serde_json::from_str(&last).expect("the upload's JSON");
    assert_eq!(
        summary["uploaded"].as_u64(),
        Some(n as u64),
        "every record committed"
    );
    (n as f64 / elapsed, peak as f64 / 1024.0)
}

fn main() {
    let n: usize = std::env::var("BENCH_INGEST_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let bin = env!("CARGO_BIN_EXE_civitas");
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Command::new(bin)
        .args([
            "node",
            "--dev",
            "--rpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the node");
    let mut lines = BufReader::new(node.stdout.take().expect("stdout")).lines();
    let addr = loop {
        let line = lines.next().expect("node output").expect("read");
        if let Some(rest) = line.strip_prefix("RPC      http://") {
            break rest.split_whitespace().next().expect("addr").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let rpc = format!("http://{addr}");

    let small = (n / 4).max(1_000);
    let (rate_small, rss_small) = run(bin, &rpc, dir.path(), small, 1);
    let (rate, rss) = run(bin, &rpc, dir.path(), n, 2);
    let _ = node.kill();
    let _ = node.wait();

    println!("bulk ingest through `civitas vault upload --file` to one dev node (release build):");
    println!(
        "  {small:>9} records: {rate_small:>8.0} records/s committed, CLI peak memory {rss_small:.0} MB"
    );
    println!(
        "  {n:>9} records: {rate:>8.0} records/s committed, CLI peak memory {rss:.0} MB ({:.0} % of the {GOAL_PER_S:.0}/s goal)",
        100.0 * rate / GOAL_PER_S
    );
    println!(
        "  memory for {}x the records: {:.2}x",
        n / small,
        rss / rss_small.max(1.0)
    );
    for (name, value, bound) in [
        ("records_per_s", rate, Some(GOAL_PER_S)),
        ("records_per_s_small", rate_small, Some(GOAL_PER_S)),
        ("cli_peak_rss_mb", rss, None),
        ("cli_peak_rss_mb_small", rss_small, None),
    ] {
        println!(
            "{}",
            serde_json::json!({ "bench": "ingest", "name": name, "value": value, "bound": bound, "records": if name.ends_with("small") { small } else { n } })
        );
    }
}

//! Bounded work on the RPC port, against a real node process: queries and dry runs stop at the
//! configured fuel cap and say so; with its open-file limit at 1024, a node flooded with 1,100
//! idle sockets keeps its connections under the cap derived from that limit, does not spin, and
//! still serves a new client.
use std::io::{Read, Write};
use std::net::TcpStream;

use crate::common::*;

/// A contract whose `call` loops forever.
pub(crate) fn endless_loop_wasm() -> Vec<u8> {
    wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "deploy"))
             (func (export "call") (loop $l (br $l))))"#,
    )
    .expect("wat")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_and_dry_runs_of_an_endless_loop_stop_at_the_configured_fuel_cap() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().to_str().expect("utf-8");
    let node = DevNode::spawn(&[
        "node",
        "--dev",
        "--rpc-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--block-interval-ms",
        "20",
        "--query-fuel-cap",
        "1000000",
        "--data-dir",
        data,
    ]);
    let c = node.client();
    let bank = key("bank-a");
    let code = endless_loop_wasm();
    let hash = sha3_256(&code);
    let r = send(&c, &bank, 50_000_000, Call::UploadCode { code }).await;
    assert_eq!(r.status, "success", "{r:?}");
    let r = send(
        &c,
        &bank,
        50_000_000,
        Call::Instantiate {
            code_hash: hash,
            salt: b"loop".to_vec(),
            input: vec![],
        },
    )
    .await;
    assert_eq!(r.status, "success", "{r:?}");
    let contract = contract_address(&bank.account(), &hash, b"loop");

    let refused = c
        .query(QueryRequest {
            contract: to_hex(&contract.0),
            input: "0x".into(),
            caller: None,
        })
        .await
        .expect_err("an endless query fails");
    let (code, message, _) = rejection(refused);
    assert_eq!(code, 1003, "{message}");
    assert!(
        message.contains("out of fuel") && message.contains("cap of 1000000 fuel"),
        "{message}"
    );

    // The transaction allows 50x the cap; the dry run still stops at the cap.
    let tx = Transaction {
        chain_id: CHAIN.into(),
        signer: bank.account(),
        nonce: nonce(&c, &bank).await,
        fuel_limit: 50_000_000,
        call: Call::Call {
            contract,
            input: vec![],
        },
    };
    let run = c.dry_run(to_hex(&tx.encode())).await.expect("dry run");
    assert!(!run.success);
    assert_eq!(run.error_code.as_deref(), Some("out_of_fuel"), "{run:?}");
    assert!(run.fuel_used <= 1_000_000, "{run:?}");
    let error = run.error.unwrap_or_default();
    assert!(error.contains("cap of 1000000 fuel"), "{error}");
    node.terminate();
}

/// Starts a dev node whose open-file limit is 1024, soft and hard (so raising the soft limit to
/// the hard one leaves it at 1024), configured for more connections than that allows.
fn node_with_1024_files(dir: &Path, log: &Path) -> DevNode {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_civitas"));
    // SAFETY: between fork and exec the closure calls only setrlimit, which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 1024,
                rlim_max: 1024,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let data = dir.to_str().expect("utf-8");
    DevNode::spawn_command(
        command,
        &[
            "node",
            "--dev",
            "--rpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--block-interval-ms",
            "20",
            "--rpc-max-connections",
            "4096",
            "--data-dir",
            data,
        ],
        "info",
        std::fs::File::create(log).expect("log file").into(),
    )
}

/// CPU time (user + system) the process has used, from /proc/PID/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Duration::from_secs_f64(ticks as f64 / per_second as f64)
}

/// Whether the peer has closed `sock` (a read gives end of file or an error other than
/// "would block").
fn closed_by_peer(mut sock: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match sock.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_1024_files_1100_idle_sockets_neither_spin_the_node_nor_lock_a_new_client_out() {
    // The test holds 1,100 sockets besides whatever the other tests hold.
    civitas_node::fdlimit::raise_to_hard().expect("raise own limit");
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("node.log");
    let node = node_with_1024_files(&dir.path().join("data"), &log);
    let addr = node.url.trim_start_matches("http://").to_string();
    let addr: std::net::SocketAddr = addr.parse().expect("address");
    let head = node
        .client()
        .get_head()
        .await
        .expect("head before the flood");

    let mut idle = Vec::with_capacity(1100);
    for i in 0..1100 {
        let mut sock = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .expect("connect idle socket");
        if i < 600 {
            // Half a request: headers promising a body that never comes. These come first, so
            // they alone could fill the cap if a half-received request counted as busy.
            sock.write_all(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"",
            )
            .expect("half a request");
        }
        sock.set_nonblocking(true).expect("nonblocking");
        idle.push(sock);
    }
    // Let the node take in the flood before watching its CPU time.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = node.child.id();
    let (cpu0, wall0) = (cpu_time(pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cpu, wall) = (cpu_time(pid) - cpu0, wall0.elapsed());
    assert!(
        cpu < wall / 2,
        "the node used {cpu:?} of CPU in {wall:?} while 1,100 idle sockets were held: spinning"
    );

    // The cap is half of 1024 (the configured 4096 is more than the descriptors allow): the
    // node closed the sockets idle longest to stay under it.
    let start = Instant::now();
    loop {
        let open = idle.iter().filter(|s| !closed_by_peer(s)).count();
        if open <= 512 {
            break;
        }
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "{open} of the 1,100 idle sockets still open; the cap is 512"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The ones closed were the oldest: the 400 opened last are all still open.
    let newest_closed = idle[700..].iter().filter(|s| closed_by_peer(s)).count();
    assert_eq!(
        newest_closed, 0,
        "the node closed {newest_closed} of the 400 sockets opened last instead of older ones"
    );

    let fresh = HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(20))
        .build(&node.url)
        .expect("client");
    let now = fresh.get_head().await.expect("a new client is served");
    assert!(now.height >= head.height);
    drop(idle);
    node.terminate();

    let log = std::fs::read_to_string(&log).expect("log");
    let limit_line = log
        .lines()
        .find(|l| l.contains("open-file limit"))
        .unwrap_or_else(|| panic!("no open-file limit line in the log:\n{log}"));
    assert!(limit_line.contains("soft=1024"), "{limit_line}");
    let rpc_line = log
        .lines()
        .find(|l| l.contains("RPC limits"))
        .unwrap_or_else(|| panic!("no RPC limits line in the log:\n{log}"));
    assert!(rpc_line.contains("max_connections=512"), "{rpc_line}");
}

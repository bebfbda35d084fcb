//! Crash points: a node aborted (a process crash, `std::process::abort`, not an error return)
//! at each durable write of a block commit, at the consensus decision boundary, at each vault
//! write and at each step of a key file's write, then restarted without the crash, keeps a
//! head that is a complete block whose state root a replay of every stored block into a fresh
//! store reproduces, every transaction whose commit a client saw exactly once, every vault
//! record it acknowledged and no other, its keys whole or absent, its sealed results made good,
//! and commits new blocks; a devnet validator crashed at the decision boundary, and another in
//! its proposal store, each catch up with the other three and sign again.
//!
//! The points are armed by `CIVITAS_CRASH_AT=name:nth` in the test build only (civitas-crash's
//! `crash-points` feature, which the node's dev-dependencies enable); `civitas_crash::POINTS`
//! lists them and [`every_crash_point_is_exercised_here_or_named_as_not`] keeps this file and
//! that list together.
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;

use civitas_crash::{ENV, POINTS};

use crate::common::*;
use crate::net::*;
use crate::restart::replay_with_stored_genesis;

/// The points each test below arms.
const BLOCK_POINTS: [&str; 4] = [
    "decided.before_commit",
    "commit_block.before_write",
    "commit_block.after_write",
    "decided.after_commit",
];
const VAULT_POINTS: [&str; 2] = ["vault.records.before_write", "vault.records.after_write"];
const STARTUP_POINTS: [&str; 5] = [
    "vault_key.temp_created",
    "vault_key.temp_written",
    "vault_key.renamed",
    "commit_genesis.before_write",
    "commit_genesis.after_write",
];
const KEYSTORE_POINTS: [&str; 3] = [
    "keystore.temp_created",
    "keystore.temp_written",
    "keystore.renamed",
];
const SEALED_POINTS: [&str; 2] = [
    "vault.sealed_outputs.before_write",
    "vault.sealed_outputs.after_write",
];
const SEALING_KEY_POINTS: [&str; 3] = [
    "sealing_key.temp_created",
    "sealing_key.temp_written",
    "sealing_key.renamed",
];
const DEVNET_POINT: &str = "decided.after_commit";
const DEVNET_PROPOSAL_POINT: &str = "proposal_record.before_rename";

/// Points no test here reaches, and why (none now; a new point must be tested or named here).
const NOT_EXERCISED: [(&str, &str); 0] = [];

#[test]
fn every_crash_point_is_exercised_here_or_named_as_not() {
    let mut here: Vec<&str> = BLOCK_POINTS
        .iter()
        .chain(&VAULT_POINTS)
        .chain(&STARTUP_POINTS)
        .chain(&KEYSTORE_POINTS)
        .chain(&SEALED_POINTS)
        .chain(&[DEVNET_POINT, DEVNET_PROPOSAL_POINT])
        .chain(&SEALING_KEY_POINTS)
        .chain(NOT_EXERCISED.iter().map(|(p, _)| p))
        .copied()
        .collect();
    here.sort();
    here.dedup();
    let mut all = POINTS.to_vec();
    all.sort();
    assert_eq!(
        here, all,
        "the points this file knows against civitas_crash::POINTS"
    );
}

/// Waits (bounded) for `child` to exit and asserts that the armed crash point ended it: killed
/// by SIGABRT after announcing `point` on its stderr, `log`.
async fn assert_crashed_at(child: &mut Child, log: &Path, point: &str) {
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "{point}: the process did not crash within {POLL_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert_eq!(
        status.signal(),
        Some(libc::SIGABRT),
        "{point}: the process ended by {status:?}, not by the crash point; its log:\n{text}"
    );
    assert!(
        text.contains(&format!("crash point {point} reached")),
        "{point}: aborted somewhere else; its log:\n{text}"
    );
}

/// A log file for a process's stderr.
fn log_file(path: &Path) -> std::fs::File {
    std::fs::File::create(path).expect("log file")
}

/// Keeps transfers from three senders in flight until `node` exits; the hashes whose commit the
/// client saw (`tx_status` committed) before that.
async fn transfers_until_exit(node: &mut DevNode, point: &str) -> Vec<String> {
    let c = node.client();
    let senders: Vec<Keypair> = ["bank-a", "bank-b", "insurer"]
        .iter()
        .map(|n| key(n))
        .collect();
    let mut nonces = Vec::new();
    for s in &senders {
        nonces.push(nonce(&c, s).await);
    }
    let (mut pending, mut seen_committed) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while node.child.try_wait().expect("wait").is_none() {
        for (i, s) in senders.iter().enumerate() {
            let tx = sign(
                s,
                nonces[i],
                100_000,
                Call::Transfer {
                    to: key("alice").account(),
                    amount: 1,
                },
            );
            if let Ok(hash) = submit(&c, &tx).await {
                nonces[i] += 1;
                pending.push(hash);
            }
        }
        let mut still = Vec::new();
        for hash in pending {
            match c.status(hash.clone()).await {
                Ok(TxStatus::Committed { .. }) => seen_committed.push(hash),
                _ => still.push(hash),
            }
        }
        pending = still;
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "{point}: not reached under load within {POLL_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    seen_committed
}

/// Checks the stored chain of the stopped node in `dir` after a crash at `point`: its head is
/// (at `height`, if given) a complete block whose hash and state root a replay of every stored block into
/// a fresh store reproduces; no transaction is in it twice and each of `seen_committed` once.
/// Returns the head.
async fn check_stored_chain(
    dir: &Path,
    point: &str,
    height: Option<u64>,
    seen_committed: &[String],
) -> civitas_ledger::Head {
    let d = dir.to_path_buf();
    let (head, replayed, in_blocks) = tokio::task::spawn_blocking(move || {
        let (head, replayed) = replay_with_stored_genesis(&d);
        let store = civitas_ledger::Store::open(&d).expect("store");
        let mut in_blocks: BTreeMap<String, u32> = BTreeMap::new();
        for h in 1..=head.height {
            for tx in store.block(h).expect("read").expect("block").txs {
                *in_blocks.entry(to_hex(&tx.hash().0)).or_default() += 1;
            }
        }
        (head, replayed, in_blocks)
    })
    .await
    .expect("replay");
    if let Some(height) = height {
        assert_eq!(head.height, height, "{point}: the stored head's height");
    }
    assert_eq!(
        (head.block_hash, head.state_root),
        (replayed.block_hash, replayed.state_root),
        "{point}: the stored head against a replay of its blocks"
    );
    if let Some((tx, n)) = in_blocks.iter().find(|(_, n)| **n != 1) {
        panic!("{point}: transaction {tx} is in {n} blocks");
    }
    for hash in seen_committed {
        assert!(
            in_blocks.contains_key(hash),
            "{point}: {hash}, seen committed before the crash, is not in the stored chain"
        );
    }
    head
}

/// Restarts the node in `dir` without a crash point and checks that it serves the stored
/// `head`, still reports each of `seen_committed` committed, and commits a new block on it.
async fn restart_and_commit(dir: &Path, point: &str, head: &civitas_ledger::Head, seen: &[String]) {
    let node = DevNode::start(dir);
    let c = node.client();
    let now = c.get_head().await.expect("head");
    assert_eq!(
        (now.height, &now.block_hash, &now.state_root),
        (
            head.height,
            &to_hex(&head.block_hash.0),
            &to_hex(&head.state_root.0)
        ),
        "{point}: the restarted node serves the stored head"
    );
    for hash in seen {
        let status = c.status(hash.clone()).await.expect("status");
        assert!(
            matches!(status, TxStatus::Committed { .. }),
            "{point}: {hash} was committed before the crash and is {status:?} after it"
        );
    }
    let r = send(
        &c,
        &key("bob"),
        100_000,
        Call::Transfer {
            to: key("alice").account(),
            amount: 1,
        },
    )
    .await;
    assert_eq!(r.status, "success", "{point}: {r:?}");
    let next = c.get_block(Some(head.height + 1)).await.expect("block");
    assert_eq!(
        next.header.parent_hash,
        to_hex(&head.block_hash.0),
        "{point}: the next block is built on the stored head"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_each_write_of_a_block_commit_keeps_a_complete_replayable_head() {
    // The third block crashes; those before it commit and their transactions are seen.
    const NTH: u64 = 3;
    for point in BLOCK_POINTS {
        let tmp = tempfile::tempdir().expect("tmp");
        let (data, log) = (tmp.path().join("data"), tmp.path().join("node.log"));
        let spec = format!("{point}:{NTH}");
        let mut node = DevNode::start_with_env(&data, &[(ENV, &spec)], "warn", log_file(&log));
        let seen = transfers_until_exit(&mut node, point).await;
        assert_crashed_at(&mut node.child, &log, point).await;
        assert!(
            !seen.is_empty(),
            "{point}: no transaction seen committed before the crash"
        );
        // Before the store write, the crashed block is lost (nobody saw it); from the write
        // on, it is the head.
        let written = point.ends_with("after_write") || point.ends_with("after_commit");
        let height = if written { NTH } else { NTH - 1 };
        let head = check_stored_chain(&data, point, Some(height), &seen).await;
        restart_and_commit(&data, point, &head, &seen).await;
    }
}

/// Four `tax.annual_income` records of alice per batch, versions numbered on from `batch`.
fn record_batch(batch: u32) -> Vec<Record> {
    (1..=4)
        .map(|i| tax_record(dev_subject("alice"), batch * 4 + i, 40_000 + u64::from(i)))
        .collect()
}

/// The stopped node's vault in `data` holds exactly `records`, each readable and equal.
fn vault_holds_exactly(data: &Path, point: &str, records: &[Record]) {
    let store = civitas_ledger::Store::open(data).expect("store");
    let key =
        civitas_ledger::vault::Vault::load_or_create_key(&data.join("vault.key")).expect("key");
    let vault = civitas_ledger::vault::Vault::new(store.clone(), key);
    for r in records {
        assert_eq!(
            vault.record(&r.hash()).expect("read").as_ref(),
            Some(r),
            "{point}: record {} lost",
            r.hash()
        );
    }
    assert_eq!(
        store.vault_record_count().expect("count"),
        records.len() as u64,
        "{point}: records in the vault"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_a_vault_write_loses_no_acknowledged_record_and_keeps_no_other() {
    for point in VAULT_POINTS {
        let tmp = tempfile::tempdir().expect("tmp");
        let (data, log) = (tmp.path().join("data"), tmp.path().join("node.log"));
        // The third upload crashes.
        let spec = format!("{point}:3");
        let mut node = DevNode::start_with_env(&data, &[(ENV, &spec)], "warn", log_file(&log));
        let c = node.client();
        let batches: Vec<Vec<Record>> = (0..3).map(record_batch).collect();
        let mut acknowledged = Vec::new();
        for (i, batch) in batches.iter().enumerate() {
            let hex = batch.iter().map(|r| to_hex(&r.encode())).collect();
            match VaultApiClient::put_records(&c, hex).await {
                Ok(hashes) => {
                    let want: Vec<String> = batch.iter().map(|r| to_hex(&r.hash().0)).collect();
                    assert_eq!(hashes, want, "{point}: upload {i} acknowledged");
                    acknowledged.extend(batch.iter().cloned());
                }
                Err(e) => {
                    assert_eq!(i, 2, "{point}: upload {i} failed before the crash: {e}");
                    break;
                }
            }
        }
        assert_crashed_at(&mut node.child, &log, point).await;
        // From the write on, the unanswered upload is durable too (whole: one batch).
        let mut held = acknowledged.clone();
        if point.ends_with("after_write") && acknowledged.len() == 8 {
            held.extend(batches[2].iter().cloned());
        }
        vault_holds_exactly(&data, point, &held);
        assert_eq!(acknowledged.len(), 8, "{point}: two uploads acknowledged");

        // The client retries the unanswered upload: once stored, every record is there once.
        let node = DevNode::start(&data);
        let c = node.client();
        let hex = batches[2].iter().map(|r| to_hex(&r.encode())).collect();
        VaultApiClient::put_records(&c, hex)
            .await
            .unwrap_or_else(|e| panic!("{point}: the retried upload: {e}"));
        let r = send(&c, &key("tax"), ADMIN_FUEL, commit_call(&acknowledged[0])).await;
        assert_eq!(
            r.status, "success",
            "{point}: a commitment after restart: {r:?}"
        );
        assert!(r.height >= 1, "{point}: a block committed after restart");
        node.terminate();
        let all: Vec<Record> = batches.concat();
        vault_holds_exactly(&data, point, &all);
    }
}

/// The sealed call in the stopped node's chain in `data` (the last one).
fn stored_sealed_call(data: &Path) -> Hash {
    let store = civitas_ledger::Store::open(data).expect("store");
    let head = store.head().expect("read").expect("head");
    (1..=head.height)
        .rev()
        .flat_map(|h| store.block(h).expect("read").expect("block").txs)
        .find(|stx| {
            matches!(
                &stx.tx.call,
                Call::Private { kind, .. } if *kind == civitas_primitives::tx::PrivateKind::SealedCall
            )
        })
        .map(|stx| stx.hash())
        .expect("a committed sealed call")
}

/// The stopped node's kept result of sealed call `tx` in `data`, if any.
fn stored_sealed_result(data: &Path, tx: &Hash) -> bool {
    let store = civitas_ledger::Store::open(data).expect("store");
    let key =
        civitas_ledger::vault::Vault::load_or_create_key(&data.join("vault.key")).expect("key");
    civitas_ledger::vault::Vault::new(store, key)
        .sealed_output(tx)
        .expect("read")
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_a_sealed_result_write_is_made_good_after_restart() {
    for point in SEALED_POINTS {
        let tmp = tempfile::tempdir().expect("tmp");
        let (data, log) = (tmp.path().join("data"), tmp.path().join("node.log"));
        let citizens = citizen_data(&data).await;
        let url = citizens.node.url.clone();
        let scorer = approved_loan_scorer(&url, tmp.path());
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
        citizens.node.terminate();

        // The committee member (the dev node) crashes keeping the committed call's result.
        let mut node = DevNode::start_with_env(&data, &[(ENV, point)], "warn", log_file(&log));
        let url = node.url.clone();
        let call = tokio::task::spawn_blocking(move || {
            cli(
                &url,
                &[
                    "sealed",
                    "call",
                    &scorer,
                    "score",
                    &format!("[\"{subject}\", 200000]"),
                    "--from",
                    "bank-a",
                    "--read",
                    "alice:tax.annual_income",
                    "--json",
                ],
            )
        });
        assert_crashed_at(&mut node.child, &log, point).await;
        let (ok, out, _) = call.await.expect("cli");
        assert!(!ok, "{point}: a result served before the crash: {out}");
        let tx = stored_sealed_call(&data);
        assert_eq!(
            stored_sealed_result(&data, &tx),
            point.ends_with("after_write"),
            "{point}: the result kept at the crash"
        );
        let head = tokio::task::spawn_blocking({
            let d = data.clone();
            move || {
                let (head, replayed) = replay_with_stored_genesis(&d);
                assert_eq!(
                    head.state_root, replayed.state_root,
                    "the head against a replay"
                );
                head
            }
        })
        .await
        .expect("replay");

        // Restarted, the member runs the committed call again (or keeps its result) and
        // attests it; the result is kept.
        let node = DevNode::start(&data);
        let c = node.client();
        wait_attested(&c, &tx).await;
        assert!(c.get_head().await.expect("head").height > head.height);
        node.terminate();
        assert!(
            stored_sealed_result(&data, &tx),
            "{point}: the result is kept after the restart"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_while_a_new_node_writes_its_vault_key_and_genesis_leaves_one_that_starts() {
    for point in STARTUP_POINTS {
        let tmp = tempfile::tempdir().expect("tmp");
        let (data, log) = (tmp.path().join("data"), tmp.path().join("node.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
            .args(DevNode::dev_args(&data))
            .env(ENV, point)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log_file(&log))
            .spawn()
            .expect("start node");
        assert_crashed_at(&mut child, &log, point).await;
        let key_file = data.join("vault.key");
        let key_before = std::fs::read(&key_file).ok();
        if point.starts_with("vault_key.temp") {
            assert_eq!(key_before, None, "{point}: a key file before it is whole");
        } else {
            assert_eq!(
                key_before.as_ref().map(Vec::len),
                Some(32),
                "{point}: the key file"
            );
        }
        let stored = {
            let store = civitas_ledger::Store::open(&data).expect("store");
            store.head().expect("read")
        };
        assert_eq!(
            stored.map(|h| h.height),
            (point == "commit_genesis.after_write").then_some(0),
            "{point}: the stored head"
        );

        let node = DevNode::start(&data);
        let c = node.client();
        let r = send(
            &c,
            &key("bank-a"),
            100_000,
            Call::Transfer {
                to: key("alice").account(),
                amount: 1,
            },
        )
        .await;
        assert_eq!(
            (r.status.as_str(), r.height),
            ("success", 1),
            "{point}: the first block after restart"
        );
        node.terminate();
        let key_after = std::fs::read(&key_file).expect("key file");
        assert_eq!(key_after.len(), 32, "{point}: the key file after restart");
        if let Some(k) = key_before {
            assert_eq!(
                k, key_after,
                "{point}: the key written before the crash is kept"
            );
        }
    }
}

/// `civitas ARGS` against `url` with the keystore `keys`, its password, and `crash` armed.
fn keystore_cli(
    url: &str,
    keys: &Path,
    crash: Option<&str>,
    args: &[&str],
) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_civitas"));
    command
        .args(args)
        .env("CIVITAS_RPC", url)
        .env("CIVITAS_KEYSTORE", keys)
        .env("CIVITAS_KEY_PASSWORD", "correct horse")
        .env("RUST_LOG", "warn");
    if let Some(point) = crash {
        command.env(ENV, point);
    }
    command.output().expect("run civitas")
}

/// The names `civitas key list` shows.
fn listed_keys(url: &str, keys: &Path) -> Vec<String> {
    let out = keystore_cli(url, keys, None, &["key", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    list.iter()
        .map(|k| k["name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_while_the_cli_writes_a_key_file_leaves_no_key_or_the_whole_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(&tmp.path().join("data"));
    let url = node.url.clone();
    for point in KEYSTORE_POINTS {
        let keys = tmp.path().join(point);
        let out = keystore_cli(
            &url,
            &keys,
            Some(point),
            &["key", "new", "treasury", "--json"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGABRT),
            "{point}: `key new` ended by {:?}: {stderr}",
            out.status
        );
        assert!(
            stderr.contains(&format!("crash point {point} reached")),
            "{stderr}"
        );
        assert!(
            out.stdout.is_empty(),
            "{point}: nothing reported before the crash"
        );

        let names = listed_keys(&url, &keys);
        if point == "keystore.renamed" {
            assert_eq!(names, ["treasury"], "{point}: the whole key is stored");
            let again = keystore_cli(&url, &keys, None, &["key", "new", "treasury"]);
            assert!(
                !again.status.success(),
                "{point}: a second key under the name"
            );
        } else {
            assert!(
                names.is_empty(),
                "{point}: a key listed before it is whole: {names:?}"
            );
            let again = keystore_cli(&url, &keys, None, &["key", "new", "treasury"]);
            assert!(
                again.status.success(),
                "{point}: the name stays blocked after the crash: {}",
                String::from_utf8_lossy(&again.stderr)
            );
            assert_eq!(listed_keys(&url, &keys), ["treasury"]);
        }
        // The stored key decrypts and signs.
        let shown = keystore_cli(&url, &keys, None, &["key", "show", "treasury"]);
        let account = String::from_utf8_lossy(&shown.stdout).trim().to_string();
        for args in [
            [
                "tx",
                "transfer",
                "--from",
                "bank-a",
                "--to",
                account.as_str(),
                "--amount",
                "1000",
                "--send",
            ],
            [
                "tx", "transfer", "--from", "treasury", "--to", "alice", "--amount", "1", "--send",
            ],
        ] {
            let out = keystore_cli(&url, &keys, None, &args);
            assert!(
                out.status.success(),
                "{point}: {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_crashed_at_the_decision_boundary_or_its_proposal_store_catches_up_and_signs_again(
) {
    let net = write_network();
    let mut nodes: Vec<DevNode> = (0..VALIDATORS.len()).map(|i| net.start(i)).collect();
    let mut clients: Vec<HttpClient> = nodes.iter().map(DevNode::client).collect();
    // The load goes through node 0; nodes 1 and 2 crash in turn, each at its second pass
    // after its restart.
    let entry = 0;
    let alice = key("alice");
    let mut sent = vec![transfer(&clients[entry], &alice, 0).await];
    wait(&clients[entry], &sent[0]).await;
    let start = Instant::now();
    let mut signed = 0;
    for (crashed, point) in [(1usize, DEVNET_POINT), (2, DEVNET_PROPOSAL_POINT)] {
        let data = net.dir.path().join(&net.names[crashed]);
        // Stopped cleanly, then restarted armed.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(nodes[crashed].child.id().to_string())
            .status();
        let _ = nodes[crashed].child.wait();
        let before = {
            let store = civitas_ledger::Store::open(&data).expect("store");
            store.head().expect("read").expect("head").height
        };
        let spec = format!("{point}:2");
        nodes[crashed] = net.start_with_env(crashed, &[(ENV, &spec)]);
        while nodes[crashed].child.try_wait().expect("wait").is_none() {
            sent.push(transfer(&clients[entry], &alice, sent.len() as u64).await);
            assert!(
                start.elapsed() < 2 * POLL_TIMEOUT,
                "{point}: not reached within {POLL_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = net.dir.path().join(format!("{}.log", net.names[crashed]));
        assert_crashed_at(&mut nodes[crashed].child, &log, point).await;
        let stored = check_stored_chain(&data, point, None, &[]).await;
        if point == DEVNET_POINT {
            assert_eq!(
                stored.height,
                before + 2,
                "{point}: the second decision is stored"
            );
        }

        // Three of four go on deciding while it is down.
        for _ in 0..3 {
            sent.push(transfer(&clients[entry], &alice, sent.len() as u64).await);
        }
        let last = wait(&clients[entry], sent.last().expect("sent")).await;
        assert!(
            last.height > stored.height,
            "{point}: blocks decided without it"
        );

        nodes[crashed] = net.start(crashed);
        clients[crashed] = nodes[crashed].client();
        head_until(
            &clients[crashed],
            "the restarted validator catches up",
            |h| h.height >= last.height,
        )
        .await;
        let me = key(VALIDATORS[crashed]).account();
        signed = loop {
            let hash = transfer(&clients[entry], &alice, sent.len() as u64).await;
            sent.push(hash.clone());
            let r = wait(&clients[entry], &hash).await;
            let (block, cert) = block_at(&clients[entry], r.height).await;
            if block.header.proposer == me || signers(&cert).contains(&me) {
                break r.height;
            }
            assert!(
                start.elapsed() < 3 * POLL_TIMEOUT,
                "{point}: the restarted validator neither proposes nor signs (last height {})",
                r.height
            );
        };
        assert!(signed > last.height);
    }
    all_reach(&clients, signed, "every validator holds the last block").await;
    same_chain_with_quorum_certificates(&clients, signed).await;
    for c in &clients {
        for hash in &sent {
            assert!(matches!(
                c.status(hash.clone()).await.expect("status"),
                TxStatus::Committed { .. }
            ));
        }
    }
    for n in nodes {
        n.terminate();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_committee_member_crashed_while_keeping_the_handed_over_key_starts_with_it_whole() {
    use civitas_primitives::committee::SealedCommittee;
    use civitas_primitives::tx::GovernanceAction;
    let dir = tempfile::tempdir().expect("tmp");
    let net = crate::devnet::init_devnet(dir.path(), &["--chain-id", CHAIN]);
    let config = |k: usize| net.join(format!("node-{k}/node.toml"));
    let log = dir.path().join("node-3.log");
    // Real-estate (node 3) starts outside the committee; it crashes at each step of keeping
    // the key it is handed, in turn (each restart asks for the key again).
    let start_3 = |crash: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_civitas"));
        if let Some(point) = crash {
            command.env(ENV, point);
        }
        let config = config(3);
        DevNode::spawn_command(
            command,
            &["node", "--config", config.to_str().expect("utf-8")],
            "warn",
            Stdio::from(log_file(&log)),
        )
    };
    let mut nodes: Vec<DevNode> = (0..3)
        .map(|k| DevNode::spawn(&["node", "--config", config(k).to_str().expect("utf-8")]))
        .collect();
    nodes.push(start_3(Some(SEALING_KEY_POINTS[0])));
    let clients: Vec<HttpClient> = nodes.iter().map(|n| n.client()).collect();
    let adopted = net.join("node-3/data/sealing.key");
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
    let want = hex::encode(civitas_primitives::dev::dev_sealing_key(CHAIN));
    for (i, point) in SEALING_KEY_POINTS.iter().enumerate() {
        assert_crashed_at(&mut nodes[3].child, &log, point).await;
        let kept = std::fs::read_to_string(&adopted).ok();
        if point.ends_with("renamed") {
            assert_eq!(
                kept.as_deref(),
                Some(want.as_str()),
                "{point}: the whole key"
            );
        } else {
            assert_eq!(kept, None, "{point}: a key file before it is whole");
        }
        nodes[3] = start_3(SEALING_KEY_POINTS.get(i + 1).copied());
    }
    // Started with the key it kept: it follows the chain.
    let c3 = nodes[3].client();
    let top = clients[0].get_head().await.expect("head").height;
    head_until(&c3, "the new member catches up", |h| h.height >= top).await;
    for n in nodes {
        n.terminate();
    }
    assert_eq!(
        std::fs::read_to_string(&adopted).expect("key file"),
        want,
        "the handed-over key, kept whole"
    );
}

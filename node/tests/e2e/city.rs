//! The city's traceable flows through the CLI against a dev node. A welfare fund allocated by
//! social security passes through a paying bank to two pseudonymous recipients, each tranche
//! approved (one rejected) by civil affairs; `civitas trace` follows it from allocation to every
//! recipient, and its totals equal the contract's own balances and add up to the allocation,
//! while no event names a recipient's subject. A repair ticket is filed, assigned, closed,
//! reopened, closed again and confirmed; the trace shows each step and the time it took to close.
//! A hotel under supervision files records late and misses slots of its schedule; the
//! supervision report marks the late records and lists the gaps. A residence registration is
//! issued, presented by its holder and verified against the chain alone; a tampered document,
//! a stranger's presentation, the wrong verifier, a suspension, a revocation and an expiry each
//! fail verification with their reason.
use std::path::Path;

use civitas_primitives::sha3_256;

use crate::common::*;

/// Runs `story` with a fresh dev node's URL and a scratch directory, on a blocking thread (the
/// CLI it drives blocks), then stops the node.
async fn on_dev_node(story: impl FnOnce(&str, &Path) + Send + 'static) {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(&dir.path().join("node"));
    let url = node.url.clone();
    let work = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || story(&url, &work))
        .await
        .expect("steps");
    node.terminate();
}

/// Deploys the reference contract `name` from `from` and instantiates it with `new`: its address.
fn instantiate(url: &str, work: &Path, name: &str, from: &str) -> String {
    instantiate_with(url, work, name, from, "[]")
}

/// As [`instantiate`], with the constructor's arguments.
fn instantiate_with(url: &str, work: &Path, name: &str, from: &str, args: &str) -> String {
    let wasm = work.join(format!("{name}.wasm"));
    std::fs::write(
        &wasm,
        civitas_testkit::contract_wasm(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../contracts/{name}")),
        ),
    )
    .expect("write wasm");
    let wasm = wasm.to_str().expect("utf-8");
    cli_ok(
        url,
        &[
            "contract", "deploy", wasm, "--from", from, "--send", "--json",
        ],
    );
    let inst: serde_json::Value = serde_json::from_str(&cli_ok(
        url,
        &[
            "contract",
            "instantiate",
            wasm,
            "--from",
            from,
            "--args",
            args,
            "--send",
            "--json",
        ],
    ))
    .expect("json");
    assert_eq!(inst["status"], "success", "{inst}");
    inst["output"].as_str().expect("address").to_string()
}

/// `civitas contract call ADDR METHOD --args ARGS --from FROM --send --json EXTRA…`: whether it
/// exited 0, the receipt it printed (null when nothing was submitted), and its stderr.
fn call_with(
    url: &str,
    addr: &str,
    from: &str,
    method: &str,
    args: &str,
    extra: &[&str],
) -> (bool, serde_json::Value, String) {
    let mut all = vec![
        "contract", "call", addr, method, "--args", args, "--from", from, "--send", "--json",
    ];
    all.extend_from_slice(extra);
    let (ok, stdout, stderr) = cli(url, &all);
    let receipt = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (ok, receipt, stderr)
}

fn call_ok(url: &str, addr: &str, from: &str, method: &str, args: &str) {
    let (ok, r, err) = call_with(url, addr, from, method, args, &[]);
    assert!(ok, "{method} {args} by {from}: {r} {err}");
    assert_eq!(r["status"], "success", "{method} {args} by {from}: {r}");
}

/// A call the contract refuses: its dry run fails, so the CLI exits 1 naming the error and
/// submits nothing.
fn call_refused(url: &str, addr: &str, from: &str, method: &str, args: &str, error: &str) {
    let (ok, r, err) = call_with(url, addr, from, method, args, &[]);
    assert!(!ok, "{method} {args} by {from} was accepted: {r}");
    assert!(r.is_null(), "nothing submitted: {r}");
    assert!(
        err.contains("dry run failed") && err.contains(error),
        "{err}"
    );
}

fn nonce_of(url: &str, who: &str) -> u64 {
    let v: serde_json::Value =
        serde_json::from_str(cli_ok(url, &["account", who, "--json"]).trim()).expect("json");
    v["nonce"].as_u64().expect("nonce")
}

fn query(url: &str, addr: &str, method: &str, args: &str) -> serde_json::Value {
    let out = cli_ok(
        url,
        &["contract", "query", addr, method, "--args", args, "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    v["result"].clone()
}

fn trace(url: &str, addr: &str, id: &str) -> serde_json::Value {
    serde_json::from_str(cli_ok(url, &["trace", addr, id, "--json"]).trim()).expect("trace json")
}

/// The steps' event names, in order.
fn names(trace: &serde_json::Value) -> Vec<String> {
    trace["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["event"].as_str().expect("event").to_string())
        .collect()
}

fn hex_of(account: &str) -> String {
    format!("0x{}", hex::encode(key(account).account().0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_welfare_fund_is_traced_from_allocation_to_every_recipient() {
    on_dev_node(|url, work| {
        let fund = instantiate(url, work, "welfare-fund", "social-security");
        // Pseudonyms: sha3(subject id ‖ the fund's salt), known to the paying bank and regulators.
        let salt = b"winter-heating-2026 salt";
        let pseudonym = |who: &str| {
            let mut bytes = dev_subject(who).0.to_vec();
            bytes.extend_from_slice(salt);
            format!("0x{}", hex::encode(sha3_256(&bytes).0))
        };
        let (pa, pb) = (pseudonym("alice"), pseudonym("bob"));

        call_ok(
            url,
            &fund,
            "social-security",
            "allocate",
            r#"["winter-heating-2026", 1000000, "civil-affairs"]"#,
        );
        call_ok(
            url,
            &fund,
            "social-security",
            "add_intermediary",
            r#"[1, "bank-a"]"#,
        );
        call_ok(
            url,
            &fund,
            "social-security",
            "propose",
            r#"[1, {"Holder": "bank-a"}, 600000, "paying bank"]"#,
        );
        // The allocator cannot approve its own tranche, nor pass money to a stranger: the dry
        // run fails, the CLI exits 1 and nothing is submitted.
        let before = nonce_of(url, "social-security");
        call_refused(
            url,
            &fund,
            "social-security",
            "approve",
            "[1]",
            "NotApprover",
        );
        call_refused(
            url,
            &fund,
            "social-security",
            "propose",
            r#"[1, {"Holder": "bob"}, 5, "stranger"]"#,
            "NotIntermediary",
        );
        assert_eq!(
            nonce_of(url, "social-security"),
            before,
            "nothing was submitted"
        );
        // With --force it is submitted, fails on chain, and the CLI still exits 1.
        let (ok, r, err) = call_with(
            url,
            &fund,
            "social-security",
            "approve",
            "[1]",
            &["--force"],
        );
        assert!(!ok && r["status"] == "failed", "{r}");
        assert!(err.contains("NotApprover"), "{err}");
        assert_eq!(nonce_of(url, "social-security"), before + 1);
        call_ok(url, &fund, "civil-affairs", "approve", "[1]");
        for (to, amount, purpose) in [
            (&pa, 250_000, "january"),
            (&pb, 250_000, "january"),
            (&pa, 100_000, "february"),
        ] {
            call_ok(
                url,
                &fund,
                "bank-a",
                "propose",
                &format!(r#"[1, {{"Recipient": "{to}"}}, {amount}, "{purpose}"]"#),
            );
        }
        call_ok(url, &fund, "civil-affairs", "approve", "[2]");
        call_ok(
            url,
            &fund,
            "civil-affairs",
            "reject",
            r#"[3, "not eligible this winter"]"#,
        );
        call_ok(url, &fund, "civil-affairs", "approve", "[4]");
        // A second fund's steps must not appear in the first one's trace.
        call_ok(
            url,
            &fund,
            "social-security",
            "allocate",
            r#"["school-meals", 5000, "civil-affairs"]"#,
        );

        let t = trace(url, &fund, "1");
        assert_eq!(t["field"], "fund", "{t}");
        assert_eq!(
            names(&t),
            [
                "Allocated",
                "IntermediaryAdded",
                "TrancheProposed",
                "TrancheApproved",
                "TrancheProposed",
                "TrancheProposed",
                "TrancheProposed",
                "TrancheApproved",
                "TrancheRejected",
                "TrancheApproved"
            ],
            "{t}"
        );
        let s = &t["summary"];
        let (ss, bank) = (hex_of("social-security"), hex_of("bank-a"));
        assert_eq!(s["total"], "1000000");
        assert_eq!(s["disbursed"], "350000", "{s}");
        assert_eq!(
            s["received"],
            serde_json::json!({ pa.clone(): "350000" }),
            "{s}"
        );
        assert_eq!(
            s["held"],
            serde_json::json!({ ss.clone(): "400000", bank.clone(): "250000" }),
            "{s}"
        );
        assert_eq!(s["adds_up"], true);
        assert_eq!(s["pending_tranches"], serde_json::json!([]));
        // The trace's replay agrees with the contract's own books.
        let as_num = |v: serde_json::Value| v.to_string().trim_matches('"').to_string();
        assert_eq!(
            as_num(query(url, &fund, "held", &format!(r#"[1, "{ss}"]"#))),
            "400000"
        );
        assert_eq!(
            as_num(query(url, &fund, "held", &format!(r#"[1, "{bank}"]"#))),
            "250000"
        );
        assert_eq!(
            as_num(query(url, &fund, "received", &format!(r#"[1, "{pa}"]"#))),
            "350000"
        );
        assert_eq!(
            as_num(query(url, &fund, "received", &format!(r#"[1, "{pb}"]"#))),
            "0"
        );
        // Steps carry block times; the human form prints them as dates and says the totals add up.
        assert!(
            t["steps"][0]["at_ms"].as_u64().is_some_and(|ms| ms > 0),
            "{t}"
        );
        let human = cli_ok(url, &["trace", &fund, "1"]);
        assert!(human.contains("totals add up"), "{human}");
        assert!(human.contains("Z "), "dates: {human}");
        // The public trail names no recipient: neither subject id appears in any event.
        let all = cli_ok(url, &["events", "--contract", &fund, "--all", "--json"]);
        for who in ["alice", "bob"] {
            let subject = hex::encode(dev_subject(who).0);
            assert!(!all.contains(&subject), "{who}'s subject id is public");
        }
        let second = trace(url, &fund, "2");
        assert_eq!(names(&second), ["Allocated"], "{second}");
        let (ok, _, err) = cli(url, &["trace", &fund, "9"]);
        assert!(!ok && err.contains("no event"), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_ticket_is_traced_with_its_time_to_close() {
    on_dev_node(|url, work| {
        // real-estate runs the estate's ticket desk; alice is a resident, bob a worker.
        let desk = instantiate(url, work, "community-tickets", "real-estate");
        call_ok(url, &desk, "alice", "file", r#"["lift in block 4 stuck"]"#);
        call_ok(url, &desk, "alice", "file", r#"["broken window"]"#);
        call_ok(url, &desk, "real-estate", "assign", r#"[1, "bob"]"#);
        call_ok(url, &desk, "bob", "close", r#"[1, "reset the lift"]"#);
        call_refused(url, &desk, "bob", "confirm", "[1]", "NotResident");
        call_ok(url, &desk, "alice", "reopen", r#"[1, "stuck again"]"#);
        call_ok(url, &desk, "bob", "close", r#"[1, "replaced the motor"]"#);
        call_ok(url, &desk, "alice", "confirm", "[1]");

        let t = trace(url, &desk, "1");
        assert_eq!(t["field"], "ticket", "{t}");
        assert_eq!(
            names(&t),
            [
                "Filed",
                "Assigned",
                "Closed",
                "Reopened",
                "Closed",
                "Confirmed"
            ],
            "{t}"
        );
        let at = |i: usize| t["steps"][i]["at_ms"].as_u64().expect("at");
        let s = &t["summary"];
        assert_eq!(s["status"], "Confirmed", "{s}");
        assert_eq!(s["reopened"], 1);
        // Time to close runs from filing to the close she confirmed, not the first one.
        assert_eq!(s["time_to_close_ms"].as_u64(), Some(at(4) - at(0)), "{t}");
        assert!(at(4) > at(2), "{t}");
        let stats = query(url, &desk, "stats", "[]");
        assert_eq!(
            stats["total_time_to_close_ms"].as_u64(),
            Some(at(4) - at(0)),
            "{stats}"
        );
        assert_eq!(stats["reopened"], 1, "{stats}");
        let open = trace(url, &desk, "2");
        assert_eq!(open["summary"]["status"], "Open", "{open}");
        let human = cli_ok(url, &["trace", &desk, "1"]);
        assert!(
            human.contains("status Confirmed, reopened 1 times"),
            "{human}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervision_report_marks_late_records_and_lists_the_gaps() {
    on_dev_node(|url, work| {
        const MIN: u64 = 60_000;
        // The regulator stands in for market supervision: records more than a minute old when
        // recorded are late. The hotel must report every 10 minutes, from an hour ago.
        let sup = instantiate_with(url, work, "supervision", "regulator", "[60000]");
        let head: serde_json::Value =
            serde_json::from_str(cli_ok(url, &["block", "--json"]).trim()).expect("block json");
        let now = head["header"]["time_ms"].as_u64().expect("block time");
        let start = now - 60 * MIN;
        call_ok(
            url,
            &sup,
            "regulator",
            "register",
            &format!(r#"["Harbour Hotel", {}, {start}]"#, 10 * MIN),
        );
        // bank-b's key stands in for the hotel's camera.
        call_refused(
            url,
            &sup,
            "bank-b",
            "report",
            &report_args(start + MIN),
            "NotReporter",
        );
        call_ok(url, &sup, "regulator", "add_reporter", r#"[1, "bank-b"]"#);
        // Slots 0 and 2 are back-filled now (late); slot 5 is reported as it happens.
        for claimed in [start + MIN, start + 25 * MIN, now - 5_000] {
            call_ok(url, &sup, "bank-b", "report", &report_args(claimed));
        }
        call_refused(
            url,
            &sup,
            "bank-b",
            "report",
            &report_args(now + 10 * MIN),
            "ClaimedInFuture",
        );

        let report: serde_json::Value = serde_json::from_str(
            cli_ok(
                url,
                &[
                    "supervision",
                    "report",
                    "--contract",
                    &sup,
                    "--entity",
                    "1",
                    "--from",
                    &start.to_string(),
                    "--json",
                ],
            )
            .trim(),
        )
        .expect("json");
        assert_eq!(report["name"], "Harbour Hotel", "{report}");
        assert_eq!(report["slots_due"], 6, "{report}");
        assert_eq!(report["on_time"], 1, "{report}");
        assert_eq!(report["late_only"], 2, "{report}");
        let gaps: Vec<u64> = report["gaps"]
            .as_array()
            .expect("gaps")
            .iter()
            .map(|g| g["from_ms"].as_u64().expect("from"))
            .collect();
        assert_eq!(
            gaps,
            [start + 10 * MIN, start + 30 * MIN, start + 40 * MIN],
            "{report}"
        );
        assert_eq!(report["compliance_percent"], 16, "{report}");
        let late: Vec<bool> = report["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["late"].as_bool().expect("late"))
            .collect();
        assert_eq!(late, [true, true, false], "{report}");
        let human = cli_ok(
            url,
            &[
                "supervision",
                "report",
                "--contract",
                &sup,
                "--entity",
                "1",
                "--from",
                &start.to_string(),
            ],
        );
        assert!(human.contains("LATE: recorded"), "{human}");
        assert_eq!(human.matches("GAP ").count(), 3, "{human}");
        let (ok, _, err) = cli(
            url,
            &["supervision", "report", "--contract", &sup, "--entity", "7"],
        );
        assert!(!ok && err.contains("no entity 7"), "{err}");
    })
    .await;
}

/// `report` arguments for a disinfection claimed at `claimed_ms`.
fn report_args(claimed_ms: u64) -> String {
    let evidence = hex::encode(sha3_256(format!("camera frame at {claimed_ms}").as_bytes()).0);
    format!(r#"[1, "disinfection", "room 204, UV-C 15 min", "0x{evidence}", {claimed_ms}]"#)
}

/// `civitas licence verify FILE ARGS… --json`: (success, the report).
fn verify_licence(url: &str, file: &Path, args: &[&str]) -> (bool, serde_json::Value, String) {
    let path = file.to_str().expect("utf-8");
    let mut all = vec!["licence", "verify", path, "--json"];
    all.extend_from_slice(args);
    let (ok, stdout, stderr) = cli(url, &all);
    let report = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (ok, report, stderr)
}

/// The names of the checks that failed.
fn failed_checks(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["ok"] == false)
        .map(|c| c["check"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_is_verified_from_the_chain_alone_until_it_is_suspended_revoked_or_expired() {
    on_dev_node(|url, work| {
        let registry = instantiate(url, work, "licences", "civil-affairs");
        cli_ok(
            url,
            &[
                "identity",
                "bind",
                "--subject",
                "alice",
                "--account",
                "alice",
                "--from",
                "civil-affairs",
            ],
        );
        let lic = work.join("residence.json");
        let issue = |out: &Path, valid_for: &str| {
            cli_ok(
                url,
                &[
                    "licence",
                    "issue",
                    "--registry",
                    &registry,
                    "--subject",
                    "alice",
                    "--kind",
                    "residence-registration",
                    "--field",
                    "address=12 Harbour Road",
                    "--field",
                    "since=2019-04-01",
                    "--valid-for",
                    valid_for,
                    "--from",
                    "civil-affairs",
                    "--out",
                    out.to_str().expect("utf-8"),
                ],
            )
        };
        issue(&lic, "365d");
        let present = |from: &str, out: &Path| {
            cli_ok(
                url,
                &[
                    "licence",
                    "present",
                    lic.to_str().expect("utf-8"),
                    "--from",
                    from,
                    "--to",
                    "bank-a",
                    "--out",
                    out.to_str().expect("utf-8"),
                ],
            );
        };
        let by_alice = work.join("presented-by-alice.json");
        present("alice", &by_alice);

        // In force: every check passes, and bank-a records its check on chain.
        let (ok, report, err) = verify_licence(url, &by_alice, &["--from", "bank-a", "--record"]);
        assert!(ok, "{report} {err}");
        assert_eq!(report["in_force"], true);
        let names: Vec<&str> = report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| c["check"].as_str().expect("name"))
            .collect();
        assert_eq!(
            names,
            [
                "issuer signature",
                "chain",
                "on-chain entry",
                "status",
                "holder signature",
                "addressed to this verifier",
                "holder bound to the subject",
                "check recorded"
            ],
            "{report}"
        );
        let presented = cli_ok(
            url,
            &[
                "events",
                "--contract",
                &registry,
                "--topic",
                "Presented",
                "--json",
            ],
        );
        let presented: serde_json::Value = serde_json::from_str(presented.trim()).expect("json");
        assert_eq!(
            presented["events"][0]["decoded"]["verifier"],
            hex_of("bank-a"),
            "{presented}"
        );

        // One changed character of the document breaks the issuer's signature.
        let mut tampered: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&lic).expect("read")).expect("json");
        tampered["document"]["fields"]["address"] = serde_json::json!("13 Harbour Road");
        let tampered_file = work.join("tampered.json");
        std::fs::write(&tampered_file, tampered.to_string()).expect("write");
        let (ok, report, _) = verify_licence(url, &tampered_file, &[]);
        assert!(!ok);
        assert_eq!(failed_checks(&report), ["issuer signature"], "{report}");

        // bob holds the file but his key is not bound to alice's subject.
        let by_bob = work.join("presented-by-bob.json");
        present("bob", &by_bob);
        let (ok, report, _) = verify_licence(url, &by_bob, &["--from", "bank-a"]);
        assert!(!ok);
        assert_eq!(
            failed_checks(&report),
            ["holder bound to the subject"],
            "{report}"
        );
        // A presentation made for bank-a does not verify for bank-b.
        let (ok, report, _) = verify_licence(url, &by_alice, &["--from", "bank-b"]);
        assert!(!ok);
        assert_eq!(
            failed_checks(&report),
            ["addressed to this verifier"],
            "{report}"
        );

        // Suspended, reinstated, then revoked: the reason is the failure.
        call_ok(
            url,
            &registry,
            "civil-affairs",
            "suspend",
            r#"[1, "address under review"]"#,
        );
        let (ok, report, err) = verify_licence(url, &lic, &[]);
        assert!(
            !ok && err.contains("suspended: address under review"),
            "{report} {err}"
        );
        call_ok(url, &registry, "civil-affairs", "reinstate", "[1]");
        assert!(verify_licence(url, &lic, &[]).0, "in force again");
        call_ok(
            url,
            &registry,
            "civil-affairs",
            "revoke",
            r#"[1, "moved away"]"#,
        );
        let (ok, report, err) = verify_licence(url, &by_alice, &["--from", "bank-a"]);
        assert!(!ok && err.contains("revoked: moved away"), "{report} {err}");
        assert_eq!(failed_checks(&report), ["status"], "{report}");

        // A licence past its validity has expired once a block passes its end.
        let short = work.join("short.json");
        issue(&short, "2s");
        std::thread::sleep(std::time::Duration::from_millis(2_500));
        call_ok(
            url,
            &registry,
            "civil-affairs",
            "add_issuer",
            r#"["real-estate"]"#,
        );
        let (ok, report, err) = verify_licence(url, &short, &[]);
        assert!(!ok && err.contains("expired at"), "{report} {err}");
    })
    .await;
}

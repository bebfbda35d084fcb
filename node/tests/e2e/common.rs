//! Shared helpers: a dev node as a real process, a JSON-RPC client, signing, waiting, the CLI.
#![allow(dead_code)]
pub use std::io::{BufRead, BufReader};
pub use std::path::{Path, PathBuf};
pub use std::process::{Child, Command, Stdio};
pub use std::time::{Duration, Instant};

pub use civitas_ledger::proof::{verify_state_proof, StateProof};
pub use civitas_ledger::state::keys;
pub use civitas_primitives::crypto::Keypair;
pub use civitas_primitives::tx::{Call, SignedTransaction, Transaction, MAX_TX_BYTES};
pub use civitas_primitives::vault::{
    subject_id, ConsentAction, ConsentMode, ConsentRequest, InstitutionAuditQuery, Record,
    SealedFetch, SignedRequest, SubjectAuditQuery,
};
pub use civitas_primitives::{contract_address, sha3_256, AccountId, Hash};
pub use civitas_rpc::*;
pub use jsonrpsee::core::client::ClientT;
pub use jsonrpsee::core::ClientError;
pub use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
pub use jsonrpsee::rpc_params;
pub use parity_scale_codec::{Decode, Encode};

pub const CHAIN: &str = "civitas-dev";

pub struct DevNode {
    pub child: Child,
    pub url: String,
    pub metrics: String,
}

/// How long a node may take to print its addresses before a test gives up on it.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a test polls for a condition the node must reach before it fails (only a bound
/// against hanging, never a performance expectation).
pub const POLL_TIMEOUT: Duration = Duration::from_secs(60);

/// GET /metrics over a plain socket; returns the whole HTTP response.
pub fn scrape(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut sock = std::net::TcpStream::connect(addr).expect("metrics socket");
    sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut body = String::new();
    sock.read_to_string(&mut body).expect("read");
    body
}

/// The samples of a Prometheus text exposition (an HTTP response or its body): series
/// (`name` or `name{labels}`) to value. Panics on a line that is not a comment or a sample.
pub fn parse_metrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    let body = text.split_once("\r\n\r\n").map_or(text, |(_, b)| b);
    let mut samples = std::collections::BTreeMap::new();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with('#') {
            continue;
        }
        // The value follows the series; labels may hold spaces, so split after the labels.
        let split_from = line.rfind('}').map_or(0, |i| i + 1);
        let (series, value) = line[split_from..]
            .split_once(char::is_whitespace)
            .map(|(rest, value)| (format!("{}{rest}", &line[..split_from]), value))
            .unwrap_or_else(|| panic!("metrics line without a value: {line}"));
        let value: f64 = value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("metrics line with a bad value: {line}"));
        assert!(
            samples.insert(series.clone(), value).is_none(),
            "series {series} twice in the exposition"
        );
    }
    samples
}

/// The value of one series in a parsed exposition; panics naming it when absent.
pub fn sample(samples: &std::collections::BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no series {series} in {samples:?}"))
}

/// Scrapes `addr` and parses the exposition.
pub fn metrics(addr: &str) -> std::collections::BTreeMap<String, f64> {
    parse_metrics(&scrape(addr))
}

/// Polls the node's head until `done` holds for it; panics after [`POLL_TIMEOUT`] with `what`.
pub async fn head_until(c: &HttpClient, what: &str, done: impl Fn(&HeadInfo) -> bool) -> HeadInfo {
    let start = Instant::now();
    loop {
        let head = c.get_head().await.expect("head");
        if done(&head) {
            return head;
        }
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "{what}: not reached in {POLL_TIMEOUT:?}; head is {head:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl DevNode {
    /// `civitas node --dev` on `dir`, with free ports.
    pub fn start(dir: &Path) -> DevNode {
        Self::start_logging(dir, "warn", Stdio::null())
    }

    /// `civitas node --dev` on `dir`, with free ports, logging at `filter` to `log`.
    pub fn start_logging(dir: &Path, filter: &str, log: impl Into<Stdio>) -> DevNode {
        Self::start_with_env(dir, &[], filter, log)
    }

    /// `civitas node --dev` on `dir`, with free ports, extra environment variables, logging at
    /// `filter` to `log`.
    pub fn start_with_env(
        dir: &Path,
        env: &[(&str, &str)],
        filter: &str,
        log: impl Into<Stdio>,
    ) -> DevNode {
        let mut command = Command::new(env!("CARGO_BIN_EXE_civitas"));
        command.envs(env.iter().copied());
        Self::spawn_command(command, &Self::dev_args(dir), filter, log.into())
    }

    /// The arguments of `civitas node --dev` on `dir` with free ports and 20 ms blocks.
    pub fn dev_args(dir: &Path) -> Vec<&str> {
        let dir = dir.to_str().expect("utf-8 path");
        vec![
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
        ]
    }

    /// Starts `civitas ARGS` and waits until it prints its RPC and metrics addresses.
    pub fn spawn(args: &[&str]) -> DevNode {
        Self::spawn_with(args, "warn", Stdio::null())
    }

    /// Starts `civitas ARGS` with a log filter and a destination for its log.
    pub fn spawn_with(args: &[&str], log_filter: &str, log: Stdio) -> DevNode {
        Self::spawn_command(
            Command::new(env!("CARGO_BIN_EXE_civitas")),
            args,
            log_filter,
            log,
        )
    }

    /// Starts `command ARGS` (the `civitas` binary, prepared by the caller, e.g. with limits
    /// set before exec) and waits until it prints its RPC and metrics addresses.
    pub fn spawn_command(
        mut command: Command,
        args: &[&str],
        log_filter: &str,
        log: Stdio,
    ) -> DevNode {
        let mut child = command
            .args(args)
            .env("RUST_LOG", log_filter)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start node");
        let stdout = child.stdout.take().expect("stdout");
        // Owned by a DevNode from here on, so a panic below kills the process.
        let mut node = DevNode {
            child,
            url: String::new(),
            metrics: String::new(),
        };
        // Read stdout on a thread so a node that hangs before printing its addresses fails the
        // test (after a generous minute) instead of blocking it forever.
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    // Nobody listens any more; keep draining so the node never blocks on a
                    // full pipe.
                    continue;
                }
            }
        });
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let mut seen = Vec::new();
        let mut next_line = |what: &str| -> String {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    seen.push(line.clone());
                    line
                }
                Err(e) => panic!(
                    "`civitas {}` did not print its {what} address ({}); stdout so far:\n{}",
                    args.join(" "),
                    match e {
                        std::sync::mpsc::RecvTimeoutError::Timeout =>
                            format!("no line within {STARTUP_TIMEOUT:?}"),
                        std::sync::mpsc::RecvTimeoutError::Disconnected =>
                            "it closed stdout, probably exited".to_string(),
                    },
                    seen.join("\n")
                ),
            }
        };
        // An observer serves no metrics.
        let mut observer = false;
        node.url = loop {
            let line = next_line("RPC");
            observer |= line.starts_with("Civitas observer:");
            if let Some(rest) = line.strip_prefix("RPC      http://") {
                let addr = rest.split_whitespace().next().expect("address");
                break format!("http://{addr}");
            }
        };
        if observer {
            return node;
        }
        node.metrics = loop {
            let line = next_line("metrics");
            if let Some(rest) = line.strip_prefix("metrics  http://") {
                break rest.trim_end_matches("/metrics").to_string();
            }
        };
        node
    }

    pub fn client(&self) -> HttpClient {
        HttpClientBuilder::default()
            .build(&self.url)
            .expect("client")
    }

    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }

    pub fn crash(mut self) {
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

pub fn key(name: &str) -> Keypair {
    Keypair::dev(name)
}

/// Signs `call` as `k`'s transaction `nonce` on the dev chain; a private kind's body is
/// encrypted to the dev chain's access key, as the CLI does.
pub fn sign(k: &Keypair, nonce: u64, fuel: u64, call: Call) -> SignedTransaction {
    let access_key =
        civitas_primitives::crypto::x25519_public(&civitas_primitives::dev::dev_access_key(CHAIN));
    k.sign_tx_for_chain(
        Transaction {
            chain_id: CHAIN.into(),
            signer: k.account(),
            nonce,
            fuel_limit: fuel,
            call,
        },
        &access_key,
    )
    .expect("encrypts")
}

pub async fn nonce(c: &HttpClient, who: &Keypair) -> u64 {
    c.get_account(to_hex(&who.account().0))
        .await
        .expect("account")
        .nonce
}

pub async fn submit(c: &HttpClient, stx: &SignedTransaction) -> Result<String, ClientError> {
    c.submit(to_hex(&stx.encode())).await
}

pub async fn wait(c: &HttpClient, hash: &str) -> ReceiptInfo {
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

pub async fn send(c: &HttpClient, k: &Keypair, fuel: u64, call: Call) -> ReceiptInfo {
    let n = nonce(c, k).await;
    let hash = submit(c, &sign(k, n, fuel, call)).await.expect("admitted");
    wait(c, &hash).await
}

pub fn token_wasm() -> Vec<u8> {
    civitas_testkit::contract_wasm(Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/token"))
}

pub fn message<A: Encode>(method: &str, args: A) -> Vec<u8> {
    let mut m = civitas_primitives::selector(method).to_vec();
    args.encode_to(&mut m);
    m
}

pub async fn balance(c: &HttpClient, token: AccountId, who: AccountId) -> u128 {
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
pub async fn deploy_token(c: &HttpClient) -> AccountId {
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

pub fn rejection(e: ClientError) -> (i32, String, Option<String>) {
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

/// Runs the CLI against `url`; returns (success, stdout, stderr).
pub fn cli(url: &str, args: &[&str]) -> (bool, String, String) {
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

pub fn cli_ok(url: &str, args: &[&str]) -> String {
    let (ok, stdout, stderr) = cli(url, args);
    assert!(ok, "civitas {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

pub fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

pub fn consent_id(receipt_json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(receipt_json.trim()).expect("receipt json");
    let hex = v["output"]
        .as_str()
        .expect("output")
        .trim_start_matches("0x");
    let bytes = hex::decode(hex).expect("hex");
    u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")).to_string()
}

/// This machine's clock in ms since the Unix epoch (the node runs on the same clock).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// Fuel for administrative calls (the CLI's `ADMIN_FUEL`).
pub const ADMIN_FUEL: u64 = 1_000_000;

/// The subject id of a dev citizen: national id `{name}-national-id` salted with the chain id
/// (node/src/dev.rs `dev_subject`).
pub fn dev_subject(name: &str) -> Hash {
    subject_id(CHAIN, &format!("{name}-national-id"))
}

/// A `tax.annual_income` record of `subject` (fields year:u32, gross_income:u64,
/// tax_paid:u64), signed by the `tax` custodian.
pub fn tax_record(subject: Hash, version: u32, gross_income: u64) -> Record {
    let tax = key("tax");
    let mut r = Record {
        subject,
        dataset: "tax.annual_income".into(),
        version,
        salt: sha3_256(&(subject, version, gross_income).encode()).0,
        payload: (2025u32, gross_income, gross_income / 5).encode(),
        custodian: tax.account(),
        signature: [0; 64],
    };
    r.signature = tax.sign_hash(&r.hash());
    r
}

/// The `CommitRecord` call for `r`.
pub fn commit_call(r: &Record) -> Call {
    Call::CommitRecord {
        subject: r.subject,
        dataset: r.dataset.clone(),
        version: r.version,
        record_hash: r.hash(),
        signature: r.signature,
    }
}

/// Hex of a request for `method` signed by `k`, issued at `issued_ms`.
pub fn signed_request(k: &Keypair, method: &str, body: Vec<u8>, issued_ms: u64) -> String {
    to_hex(&k.sign_request(method, body, issued_ms).encode())
}

/// The code and the whole `data` member (JSON null when absent) of a JSON-RPC error.
pub fn refusal(e: ClientError) -> (i32, serde_json::Value) {
    match e {
        ClientError::Call(obj) => {
            let data = obj
                .data()
                .map(|d| serde_json::from_str(d.get()).expect("data is JSON"))
                .unwrap_or(serde_json::Value::Null);
            (obj.code(), data)
        }
        other => panic!("expected a JSON-RPC error, got {other}"),
    }
}

/// civil-affairs binds dev account `name`'s key to `subject`.
pub async fn bind_identity(c: &HttpClient, name: &str, subject: Hash) {
    let r = send(
        c,
        &key("civil-affairs"),
        ADMIN_FUEL,
        Call::BindIdentity {
            subject,
            account: key(name).account(),
        },
    )
    .await;
    assert_eq!(r.status, "success", "bind {name}: {r:?}");
}

/// `bank` files a compute consent (5 uses, a day) for `code_hash` over `name`'s
/// `tax.annual_income` (subject `subject`) for `purpose`, and `name` approves it: its id.
pub async fn approved_income_consent(
    c: &HttpClient,
    bank: &Keypair,
    name: &str,
    subject: Hash,
    code_hash: Hash,
    purpose: &str,
) -> u64 {
    let r = send(
        c,
        bank,
        ADMIN_FUEL,
        Call::RequestConsent {
            request: ConsentRequest {
                subject,
                datasets: vec!["tax.annual_income".into()],
                purpose: purpose.into(),
                mode: ConsentMode::Compute,
                code_hash: Some(code_hash),
                expires_ms: now_ms() + 86_400_000,
                max_uses: 5,
            },
        },
    )
    .await;
    assert_eq!(r.status, "success", "consent request {name}: {r:?}");
    let id = u64::decode(&mut &from_hex(&r.output).expect("hex")[..]).expect("consent id");
    let r = send(
        c,
        &key(name),
        ADMIN_FUEL,
        Call::Consent {
            id,
            action: ConsentAction::Approve,
        },
    )
    .await;
    assert_eq!(r.status, "success", "approve consent {name}: {r:?}");
    id
}

/// A dev node on which alice and bob are bound to their subjects, tax committed one record of
/// alice's, alice approved bank-b's disclose consent for it and bank-b disclosed it (one
/// granted audit entry in alice's trail and bank-b's).
pub struct CitizenData {
    pub node: DevNode,
    pub alice: Hash,
    pub bob: Hash,
    pub consent: u64,
    pub disclosure: Hash,
}

/// Builds [`CitizenData`] on `dir` through transactions and `vault_putRecords`.
pub async fn citizen_data(dir: &Path) -> CitizenData {
    let node = DevNode::start(dir);
    let c = node.client();
    let (alice, bob) = (dev_subject("alice"), dev_subject("bob"));
    for (name, subject) in [("alice", alice), ("bob", bob)] {
        bind_identity(&c, name, subject).await;
    }
    let record = tax_record(alice, 1, 73_200);
    VaultApiClient::put_records(&c, vec![to_hex(&record.encode())])
        .await
        .expect("put record");
    let r = send(&c, &key("tax"), ADMIN_FUEL, commit_call(&record)).await;
    assert_eq!(r.status, "success", "commit: {r:?}");
    let r = send(
        &c,
        &key("bank-b"),
        ADMIN_FUEL,
        Call::RequestConsent {
            request: ConsentRequest {
                subject: alice,
                datasets: vec!["tax.annual_income".into()],
                purpose: "tenancy check".into(),
                mode: ConsentMode::Disclose,
                code_hash: None,
                expires_ms: now_ms() + 86_400_000,
                max_uses: 5,
            },
        },
    )
    .await;
    assert_eq!(r.status, "success", "consent request: {r:?}");
    let out = from_hex(&r.output).expect("hex");
    let consent = u64::decode(&mut &out[..]).expect("consent id");
    let r = send(
        &c,
        &key("alice"),
        ADMIN_FUEL,
        Call::Consent {
            id: consent,
            action: ConsentAction::Approve,
        },
    )
    .await;
    assert_eq!(r.status, "success", "approve: {r:?}");
    let r = send(&c, &key("bank-b"), ADMIN_FUEL, Call::Disclose { consent }).await;
    assert_eq!(r.status, "success", "disclose: {r:?}");
    let disclosure = Hash(hex32(&r.tx_hash).expect("tx hash"));
    CitizenData {
        node,
        alice,
        bob,
        consent,
        disclosure,
    }
}

/// Deploys loan-scoring as bank-a with the reference policy, has the regulator approve its
/// code, and returns the contract's address (CLI commands against `url`).
pub fn approved_loan_scorer(url: &str, work: &Path) -> String {
    let wasm = work.join("loan-scoring.wasm");
    std::fs::write(
        &wasm,
        civitas_testkit::contract_wasm(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/loan-scoring"),
        ),
    )
    .expect("write wasm");
    let wasm = wasm.to_str().expect("utf-8");
    cli_ok(
        url,
        &[
            "contract", "deploy", wasm, "--from", "bank-a", "--send", "--json",
        ],
    );
    let check: serde_json::Value =
        serde_json::from_str(&cli_ok(url, &["contract", "check", wasm, "--json"])).expect("json");
    let code = check["code_hash"].as_str().expect("code hash").to_string();
    let policy = r#"[{"min_income":30000,"income_multiple":4,"max_amount":300000,"min_months_employed":12,"base_rate_bps":500,"property_discount_bps":50}]"#;
    let inst: serde_json::Value = serde_json::from_str(&cli_ok(
        url,
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
    cli_ok(url, &["code", "approve", &code]);
    scorer
}

/// alice approves bank-a's compute consent for `scorer` over her income, employment and
/// property, and bank-a scores her for 200 000 in a sealed call: the `--json` result.
pub fn alice_scored_by_bank_a(url: &str, scorer: &str) -> serde_json::Value {
    let req = cli_ok(
        url,
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
            scorer,
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
        url,
        &["consent", "approve", &consent_id(&req), "--from", "alice"],
    );
    let subject = cli_ok(url, &["identity", "subject", "alice"])
        .trim()
        .to_string();
    let offer = cli_ok(
        url,
        &[
            "sealed",
            "call",
            scorer,
            "score",
            &format!("[\"{subject}\", 200000]"),
            "--from",
            "bank-a",
            "--read",
            "alice:tax.annual_income,social_security.employment,real_estate.holdings",
            "--json",
        ],
    );
    serde_json::from_str(offer.trim()).expect("json")
}

/// bank-b files a disclose consent about alice's `dataset`: the consent id.
pub fn disclose_request_by_bank_b(url: &str, dataset: &str, purpose: &str) -> String {
    let req = cli_ok(
        url,
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
            dataset,
            "--purpose",
            purpose,
            "--json",
        ],
    );
    consent_id(&req)
}

/// Waits until the sealed-compute committee attested sealed call `tx`'s output hash (the
/// result can be fetched from then on); returns the hash (hex).
pub async fn wait_attested(c: &HttpClient, tx: &Hash) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = VaultApiClient::get_sealed_outcome(c, tx.to_hex())
            .await
            .expect("a committed sealed call");
        assert!(!o.disputed, "committee members disagree: {o:?}");
        if let Some(hash) = o.output_hash {
            return hash;
        }
        assert!(Instant::now() < deadline, "never attested: {o:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

//! Fault-injection soak of the department network: four validators and an observer, each its
//! own process on 127.0.0.1, every peer-to-peer connection through a [`FaultLink`], under a
//! steady load of token transfers, sealed calls and consent changes, while a driver in turn
//! kills and restarts, pauses (SIGSTOP / SIGCONT), isolates (every link of one validator cut),
//! slows (its links delayed) and clock-skews (restarted under libfaketime) one validator at a
//! time: never more than the one fault BFT tolerates among four. A checker then proves that no
//! two nodes ever committed different blocks at one height, that every transaction whose
//! receipt a client saw is in the chain exactly once at that height, that no account's nonce
//! was applied twice or skipped, and that every node converges on one head once the faults
//! stop. The run lasts `CIVITAS_SOAK_SECONDS` (40 by default: the short soak of
//! `scripts/test`; `scripts/soak MINUTES` runs it longer) and always injects every kind of
//! fault at least once.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use civitas_primitives::block::Block;
use civitas_primitives::selector;
use civitas_primitives::vault::DeclaredRead;

use crate::common::*;
use crate::devnet_setup::{init_devnet, upload_loan_records, LOAN_DATASETS};
use crate::fault_link::{FaultLink, LinkMode};

const CHAIN_ID: &str = "civitas-devnet";
const VALIDATORS: usize = 4;
/// How long each fault holds.
const FAULT_HOLD: Duration = Duration::from_millis(2_500);
/// The delay a slowed link adds to every chunk it forwards.
const SLOW_LINK_MS: u64 = 200;
/// How far the skewed validator's clock runs ahead.
const CLOCK_SKEW: &str = "+1500ms";
/// libfaketime, as Debian's `faketime` package installs it.
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
/// How long one request may take before a client tries another node (a paused node holds
/// its connections open and answers nothing).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a client waits for its transaction's receipt before it submits it again.
const RESUBMIT_AFTER: Duration = Duration::from_secs(10);
/// How many transfers each sender has in flight at once.
const TRANSFER_WINDOW: u64 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Kill,
    Pause,
    Isolate,
    Slow,
    Skew,
}

const FAULTS: [Fault; 5] = [
    Fault::Kill,
    Fault::Pause,
    Fault::Isolate,
    Fault::Slow,
    Fault::Skew,
];

/// One validator: its configuration, fixed RPC address and running process.
struct Validator {
    config: PathBuf,
    log: PathBuf,
    url: String,
    node: Option<DevNode>,
}

impl Validator {
    fn start(&mut self, skewed: bool) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_civitas"));
        if skewed {
            command
                .env("LD_PRELOAD", LIBFAKETIME)
                .env("FAKETIME", CLOCK_SKEW)
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
                .env("FAKETIME_NO_CACHE", "1");
        }
        let node = DevNode::spawn_command(
            command,
            &["node", "--config", self.config.to_str().expect("utf-8")],
            "warn,civitas_node=info",
            Stdio::from(log),
        );
        assert_eq!(node.url, self.url, "the configured RPC address");
        self.node = Some(node);
    }

    fn pid(&self) -> String {
        self.node.as_ref().expect("running").child.id().to_string()
    }

    fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.pid()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill {signal}");
    }
}

fn client(url: &str) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(REQUEST_TIMEOUT)
        .build(url)
        .expect("client")
}

/// The port of `addr` (`127.0.0.1:PORT`).
fn port_of(addr: &str) -> u16 {
    addr.trim_matches('"')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {addr}"))
}

/// Reads `key = "127.0.0.1:PORT"` from a node.toml.
fn config_port(config: &str, key: &str) -> u16 {
    let line = config
        .lines()
        .find(|l| l.starts_with(&format!("{key} =")))
        .unwrap_or_else(|| panic!("no {key} in {config}"));
    port_of(line.split('=').nth(1).expect("value").trim())
}

/// A transaction a client saw committed.
#[derive(Clone, Debug)]
struct Seen {
    hash: Hash,
    signer: AccountId,
    nonce: u64,
    height: u64,
}

/// What the load generators share.
struct Load {
    urls: Vec<String>,
    access_key: [u8; 32],
    stop: AtomicBool,
    seen: Mutex<Vec<Seen>>,
    resubmitted: std::sync::atomic::AtomicU64,
    replayed: std::sync::atomic::AtomicU64,
}

impl Load {
    fn sign(&self, k: &Keypair, nonce: u64, fuel: u64, call: Call) -> SignedTransaction {
        k.sign_tx_for_chain(
            Transaction {
                chain_id: CHAIN_ID.into(),
                signer: k.account(),
                nonce,
                fuel_limit: fuel,
                call,
            },
            &self.access_key,
        )
        .expect("encrypts")
    }

    /// Submits `txs` (one account's, in nonce order) to the nodes in turn, starting at
    /// `first`, until nodes have served every one's receipt; records them as seen and returns
    /// the receipts in order. A transaction is submitted again, to the next node, when its
    /// receipt has not come within [`RESUBMIT_AFTER`].
    async fn commit_all(&self, txs: &[SignedTransaction], first: usize) -> Vec<ReceiptInfo> {
        let hashes: Vec<String> = txs.iter().map(|t| t.hash().to_hex()).collect();
        let clients: Vec<HttpClient> = self.urls.iter().map(|u| client(u)).collect();
        let mut receipts: Vec<Option<ReceiptInfo>> = vec![None; txs.len()];
        let started = Instant::now();
        let mut attempt = 0usize;
        while receipts.iter().any(Option::is_none) {
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "transactions of {} never committed: nonces {:?}",
                txs[0].tx.signer,
                txs.iter()
                    .zip(&receipts)
                    .filter(|(_, r)| r.is_none())
                    .map(|(t, _)| t.tx.nonce)
                    .collect::<Vec<_>>()
            );
            let node = (first + attempt) % clients.len();
            if attempt > 0 {
                self.resubmitted.fetch_add(1, Ordering::Relaxed);
            }
            attempt += 1;
            // Refusals are expected here (a node that already holds one, or already
            // committed it); the receipts decide.
            let missing: Vec<String> = txs
                .iter()
                .zip(&receipts)
                .filter(|(_, r)| r.is_none())
                .map(|(t, _)| to_hex(&t.encode()))
                .collect();
            let _ = clients[node].submit_batch(missing).await;
            let waiting = Instant::now();
            while waiting.elapsed() < RESUBMIT_AFTER && receipts.iter().any(Option::is_none) {
                for c in clients.iter().cycle().skip(node).take(clients.len()) {
                    let Ok(got) = c.get_receipts(hashes.clone()).await else {
                        continue;
                    };
                    for (slot, r) in receipts.iter_mut().zip(got) {
                        if slot.is_none() {
                            *slot = r;
                        }
                    }
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let receipts: Vec<ReceiptInfo> = receipts.into_iter().flatten().collect();
        let mut seen = self.seen.lock().expect("lock");
        for (t, r) in txs.iter().zip(&receipts) {
            seen.push(Seen {
                hash: t.hash(),
                signer: t.tx.signer,
                nonce: t.tx.nonce,
                height: r.height,
            });
        }
        receipts
    }

    /// [`Load::commit_all`] of one transaction.
    async fn commit(&self, stx: &SignedTransaction, first: usize) -> ReceiptInfo {
        let mut r = self.commit_all(std::slice::from_ref(stx), first).await;
        r.pop().expect("one receipt")
    }

    async fn next_nonce(&self, k: &Keypair) -> u64 {
        for url in self.urls.iter().cycle().take(3 * self.urls.len()) {
            if let Ok(a) = client(url).get_account(to_hex(&k.account().0)).await {
                return a.nonce;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no node serves {}'s account", k.account());
    }
}

/// Transfers from `from` to bob, [`TRANSFER_WINDOW`] at a time, until stopped; how many
/// committed.
async fn transfers(load: Arc<Load>, from: &'static str, first: usize) -> u64 {
    let k = key(from);
    let mut nonce = load.next_nonce(&k).await;
    let mut n = 0;
    while !load.stop.load(Ordering::Relaxed) {
        let txs: Vec<SignedTransaction> = (nonce..nonce + TRANSFER_WINDOW)
            .map(|nonce| {
                let call = Call::Transfer {
                    to: key("bob").account(),
                    amount: 1,
                };
                load.sign(&k, nonce, 100_000, call)
            })
            .collect();
        for r in load.commit_all(&txs, first + n as usize).await {
            assert_eq!(r.status, "success", "{from}'s transfer: {r:?}");
        }
        // A client retrying after a lost reply: a committed transaction sent again, to
        // another node, is refused (and the checker finds it in the chain once).
        load.replayed.fetch_add(1, Ordering::Relaxed);
        let last = txs.last().expect("a window");
        let again = client(&load.urls[(first + n as usize + 1) % load.urls.len()])
            .submit(to_hex(&last.encode()))
            .await;
        assert!(
            again.is_err(),
            "a committed transaction was admitted again: {again:?}"
        );
        nonce += TRANSFER_WINDOW;
        n += TRANSFER_WINDOW;
    }
    n
}

/// bank-a's sealed loan scores of alice, until stopped; how many committed.
async fn sealed_calls(load: Arc<Load>, scorer: AccountId, subject: Hash) -> u64 {
    let k = key("bank-a");
    let mut nonce = load.next_nonce(&k).await;
    let mut n = 0;
    while !load.stop.load(Ordering::Relaxed) {
        let call = Call::SealedCall {
            contract: scorer,
            input: [selector("score").to_vec(), (subject, 200_000u64).encode()].concat(),
            reads: LOAN_DATASETS
                .iter()
                .map(|d| DeclaredRead {
                    subject,
                    dataset: d.to_string(),
                })
                .collect(),
        };
        let r = load
            .commit(&load.sign(&k, nonce, 20_000_000, call), n as usize)
            .await;
        assert_eq!(r.status, "success", "a sealed receipt is uniform: {r:?}");
        nonce += 1;
        n += 1;
    }
    n
}

/// bank-b asks for a disclosure of alice's income, alice approves it, then revokes it, until
/// stopped; how many consent transactions committed.
async fn consent_changes(load: Arc<Load>, subject: Hash) -> u64 {
    let (bank, alice) = (key("bank-b"), key("alice"));
    let (mut bank_nonce, mut alice_nonce) =
        (load.next_nonce(&bank).await, load.next_nonce(&alice).await);
    let mut n = 0;
    while !load.stop.load(Ordering::Relaxed) {
        let request = Call::RequestConsent {
            request: ConsentRequest {
                subject,
                datasets: vec!["tax.annual_income".into()],
                purpose: "soak".into(),
                mode: ConsentMode::Disclose,
                code_hash: None,
                expires_ms: u64::MAX,
                max_uses: 1,
            },
        };
        let r = load
            .commit(&load.sign(&bank, bank_nonce, 1_000_000, request), n)
            .await;
        bank_nonce += 1;
        assert_eq!(r.status, "success", "consent request: {r:?}");
        let out = from_hex(&r.output).expect("hex");
        let id = u64::from_le_bytes(out[..8].try_into().expect("a consent id"));
        for action in [ConsentAction::Approve, ConsentAction::Revoke] {
            let answer = Call::Consent { id, action };
            let r = load
                .commit(&load.sign(&alice, alice_nonce, 1_000_000, answer), n + 1)
                .await;
            alice_nonce += 1;
            assert_eq!(r.status, "success", "consent {action:?}: {r:?}");
        }
        n += 3;
    }
    n as u64
}

/// Every node's head, where it answers.
async fn heads(urls: &[String]) -> Vec<Option<HeadInfo>> {
    let mut out = Vec::new();
    for u in urls {
        out.push(client(u).get_head().await.ok());
    }
    out
}

/// Waits until every node's head reaches `height`.
async fn all_at_least(urls: &[String], height: u64, what: &str) {
    let start = Instant::now();
    loop {
        let hs = heads(urls).await;
        if hs
            .iter()
            .all(|h| h.as_ref().is_some_and(|h| h.height >= height))
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{what}: heads {:?} never all reached {height}",
            hs.iter()
                .map(|h| h.as_ref().map(|h| h.height))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn highest(hs: &[Option<HeadInfo>]) -> u64 {
    hs.iter().flatten().map(|h| h.height).max().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_kills_pauses_partitions_delays_and_clock_skew_no_fork_no_loss_no_replay_and_one_head(
) {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "{LIBFAKETIME} is missing: install Debian's faketime package (scripts/setup does)"
    );
    let seconds: u64 = std::env::var("CIVITAS_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().expect("tmp");
    let net = init_devnet(dir.path(), &["--observers", "1"]);

    // Every validator dials each other one through a link of its own: link[i][j] carries
    // i's connection to j.
    let configs: Vec<PathBuf> = (0..VALIDATORS)
        .map(|i| net.join(format!("node-{i}/node.toml")))
        .collect();
    let texts: Vec<String> = configs
        .iter()
        .map(|c| std::fs::read_to_string(c).expect("config"))
        .collect();
    let p2p: Vec<u16> = texts.iter().map(|t| config_port(t, "p2p_addr")).collect();
    let mut links: BTreeMap<(usize, usize), FaultLink> = BTreeMap::new();
    for i in 0..VALIDATORS {
        for j in (0..VALIDATORS).filter(|j| *j != i) {
            links.insert((i, j), FaultLink::start(p2p[j]));
        }
    }
    let mut validators = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let peers: Vec<String> = (0..VALIDATORS)
            .filter(|j| *j != i)
            .map(|j| format!("\"127.0.0.1:{}\"", links[&(i, j)].port))
            .collect();
        let rewritten: String = text
            .lines()
            .map(|l| {
                if l.starts_with("peers =") {
                    format!("peers = [{}]", peers.join(", "))
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert_ne!(&rewritten, text, "node {i}'s peers are rewritten");
        std::fs::write(&configs[i], rewritten + "\n").expect("write config");
        validators.push(Validator {
            config: configs[i].clone(),
            log: net.join(format!("node-{i}.log")),
            url: format!("http://127.0.0.1:{}", config_port(text, "rpc_addr")),
            node: None,
        });
    }
    for v in &mut validators {
        v.start(false);
    }
    let observer_log = std::fs::File::create(net.join("observer-0.log")).expect("log");
    let observer = DevNode::spawn_with(
        &[
            "node",
            "--config",
            net.join("observer-0/node.toml").to_str().expect("utf-8"),
        ],
        "warn,civitas_node=info",
        Stdio::from(observer_log),
    );
    let validator_urls: Vec<String> = validators.iter().map(|v| v.url.clone()).collect();
    let mut all_urls = validator_urls.clone();
    all_urls.push(observer.url.clone());
    let guard = LogsOnFailure {
        logs: (0..VALIDATORS)
            .map(|i| net.join(format!("node-{i}.log")))
            .chain([net.join("observer-0.log")])
            .collect(),
    };
    all_at_least(&all_urls, 2, "start").await;

    // The sealed scorer, alice's records and her consent to bank-a's scores, by the CLI.
    let url = validator_urls[0].clone();
    let work = dir.path().to_path_buf();
    let (scorer, subject) = tokio::task::spawn_blocking(move || {
        let scorer = approved_loan_scorer(&url, &work);
        upload_loan_records(&url, "Acme");
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
        let subject = cli_ok(&url, &["identity", "subject", "alice"])
            .trim()
            .to_string();
        let mut args = vec![
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
            "--purpose",
            "soak",
            "--max-uses",
            "1000000",
            "--json",
        ];
        for d in LOAN_DATASETS {
            args.extend(["--dataset", d]);
        }
        let req = cli_ok(&url, &args);
        cli_ok(
            &url,
            &["consent", "approve", &consent_id(&req), "--from", "alice"],
        );
        (scorer, subject)
    })
    .await
    .expect("setup");
    let scorer = AccountId(hex32(&scorer).expect("scorer address"));
    let subject = Hash(hex32(&subject).expect("subject id"));

    let access_key = std::fs::read_to_string(net.join("node-0/access.key")).expect("access key");
    let access_key: [u8; 32] = from_hex(access_key.trim())
        .expect("hex")
        .try_into()
        .expect("32 bytes");
    let load = Arc::new(Load {
        urls: all_urls.clone(),
        access_key: civitas_primitives::crypto::x25519_public(&access_key),
        stop: AtomicBool::new(false),
        seen: Mutex::new(Vec::new()),
        resubmitted: Default::default(),
        replayed: Default::default(),
    });
    let mut tasks = Vec::new();
    for (i, from) in ["hospital", "insurer", "bob"].into_iter().enumerate() {
        tasks.push(("transfers", tokio::spawn(transfers(load.clone(), from, i))));
    }
    tasks.push((
        "sealed calls",
        tokio::spawn(sealed_calls(load.clone(), scorer, subject)),
    ));
    tasks.push((
        "consent changes",
        tokio::spawn(consent_changes(load.clone(), subject)),
    ));

    // Heads sampled through the run: (height, hash) as each node served it.
    let samples: Arc<Mutex<Vec<(usize, u64, String)>>> = Arc::default();
    let sampler = {
        let (samples, urls, load) = (samples.clone(), all_urls.clone(), load.clone());
        tokio::spawn(async move {
            while !load.stop.load(Ordering::Relaxed) {
                for (i, h) in heads(&urls).await.into_iter().enumerate() {
                    if let Some(h) = h {
                        samples
                            .lock()
                            .expect("lock")
                            .push((i, h.height, h.block_hash));
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    // The faults, one validator at a time.
    let started = Instant::now();
    let mut injected: BTreeMap<Fault, u64> = BTreeMap::new();
    let mut round = 0usize;
    while started.elapsed() < Duration::from_secs(seconds) || injected.len() < FAULTS.len() {
        let fault = FAULTS[round % FAULTS.len()];
        // Victims rotate so that each kind meets different validators across rounds.
        let victim = (round + round / FAULTS.len()) % VALIDATORS;
        round += 1;
        let others: Vec<String> = (0..VALIDATORS)
            .filter(|i| *i != victim)
            .map(|i| validator_urls[i].clone())
            .collect();
        let before = heads(&validator_urls).await;
        match fault {
            Fault::Kill => {
                validators[victim].node.take().expect("running").crash();
                tokio::time::sleep(FAULT_HOLD).await;
                validators[victim].start(false);
            }
            Fault::Pause => {
                validators[victim].signal("-STOP");
                tokio::time::sleep(FAULT_HOLD).await;
                let paused = client(&validator_urls[victim]).get_head().await;
                validators[victim].signal("-CONT");
                assert!(paused.is_err(), "a paused node answered: {paused:?}");
            }
            Fault::Isolate | Fault::Slow => {
                let mode = if fault == Fault::Isolate {
                    LinkMode::Cut
                } else {
                    LinkMode::Delay(SLOW_LINK_MS)
                };
                for ((i, j), link) in &links {
                    if *i == victim || *j == victim {
                        link.set(mode);
                    }
                }
                let cut_at = before[victim].as_ref().map_or(0, |h| h.height);
                tokio::time::sleep(FAULT_HOLD).await;
                if fault == Fault::Isolate {
                    // The partition is real: the others go on (the link stays cut until they
                    // are two blocks past the victim's head when it was cut, and one more for
                    // a decision under way), the victim cannot.
                    all_at_least(&others, cut_at + 3, "the others, one validator isolated").await;
                    let victim_at = client(&validator_urls[victim])
                        .get_head()
                        .await
                        .map_or(0, |h| h.height);
                    assert!(
                        victim_at <= cut_at + 1,
                        "isolated validator {victim} went from {cut_at} to {victim_at}"
                    );
                }
                for link in links.values() {
                    link.set(LinkMode::Pass);
                }
            }
            Fault::Skew => {
                validators[victim].node.take().expect("running").crash();
                validators[victim].start(true);
                tokio::time::sleep(2 * FAULT_HOLD).await;
                validators[victim].node.take().expect("running").crash();
                validators[victim].start(false);
            }
        }
        *injected.entry(fault).or_default() += 1;
        // The chain went on without the victim, or resumes now; the victim catches up before
        // the next fault, so at most one validator is ever faulty.
        let target = highest(&heads(&others).await) + 1;
        all_at_least(
            &validator_urls,
            target,
            &format!("after {fault:?} of {victim}"),
        )
        .await;
    }
    let fault_seconds = started.elapsed().as_secs();

    // Faults over: the load stops and every node converges on one head.
    load.stop.store(true, Ordering::Relaxed);
    let mut committed: BTreeMap<&str, u64> = BTreeMap::new();
    for (kind, t) in tasks {
        *committed.entry(kind).or_default() += t.await.expect("load task");
    }
    sampler.await.expect("sampler");
    let target = highest(&heads(&all_urls).await) + 2;
    all_at_least(&all_urls, target, "convergence").await;
    let mut at_target = BTreeSet::new();
    for u in &all_urls {
        at_target.insert(
            client(u)
                .get_block(Some(target))
                .await
                .expect("block")
                .header
                .hash,
        );
    }
    assert_eq!(
        at_target.len(),
        1,
        "the nodes disagree at height {target}: {at_target:?}"
    );

    // The canonical chain, as validator 0 serves it, against every node's blocks.
    let reference = client(&validator_urls[0]);
    let mut chain = Vec::new();
    for h in 1..=target {
        let info = reference.get_block(Some(h)).await.expect("block");
        let block = Block::decode(&mut &from_hex(&info.raw).expect("hex")[..]).expect("block");
        assert_eq!(to_hex(&block.header.hash().0), info.header.hash);
        chain.push(block);
    }
    let hash_at = |h: u64| to_hex(&chain[(h - 1) as usize].header.hash().0);
    for (i, u) in all_urls.iter().enumerate() {
        let c = client(u);
        for h in 1..=target {
            let served = c.get_block(Some(h)).await.expect("block").header.hash;
            assert_eq!(served, hash_at(h), "node {i} at height {h}");
        }
    }
    // No node ever served another block at a height than the one the chain holds.
    let samples = samples.lock().expect("lock").clone();
    for (i, h, hash) in &samples {
        if *h >= 1 && *h <= target {
            assert_eq!(
                hash,
                &hash_at(*h),
                "node {i} once served height {h} as another block"
            );
        }
    }
    for w in chain.windows(2) {
        assert_eq!(w[1].header.parent_hash, w[0].header.hash(), "parent links");
    }

    // Every seen transaction exactly once, where its receipt said; nonces in order.
    let mut places: BTreeMap<Hash, Vec<u64>> = BTreeMap::new();
    let mut nonces: BTreeMap<AccountId, Vec<u64>> = BTreeMap::new();
    for b in &chain {
        for t in &b.txs {
            places.entry(t.hash()).or_default().push(b.header.height);
            nonces.entry(t.tx.signer).or_default().push(t.tx.nonce);
        }
    }
    let seen = load.seen.lock().expect("lock").clone();
    for s in &seen {
        assert_eq!(
            places.get(&s.hash).map(Vec::as_slice),
            Some(&[s.height][..]),
            "transaction {} ({} nonce {}) whose receipt said height {}",
            s.hash,
            s.signer,
            s.nonce,
            s.height
        );
    }
    for (signer, ns) in &nonces {
        for w in ns.windows(2) {
            assert_eq!(w[1], w[0] + 1, "{signer}'s nonces in chain order: {ns:?}");
        }
    }
    let seen_signers: BTreeSet<AccountId> = seen.iter().map(|s| s.signer).collect();
    for signer in &seen_signers {
        let mine: Vec<u64> = seen
            .iter()
            .filter(|s| s.signer == *signer)
            .map(|s| s.nonce)
            .collect();
        let first = mine.iter().min().copied().unwrap_or(0);
        let last = mine.iter().max().copied().unwrap_or(0);
        assert_eq!(
            mine.len() as u64,
            last - first + 1,
            "{signer}: every nonce from {first} to {last} seen once"
        );
    }
    for (kind, n) in &committed {
        assert!(*n > 0, "no {kind} committed during the soak");
    }

    eprintln!(
        "soak: {fault_seconds} s of faults, {} injected ({injected:?}); {} transactions seen committed ({committed:?}), {} resubmissions, {} committed transactions replayed and refused; {} blocks, {} head samples; verdict: no fork, every seen transaction once at its height, nonces in order, one head at {target} on all {} nodes",
        injected.values().sum::<u64>(),
        seen.len(),
        load.resubmitted.load(Ordering::Relaxed),
        load.replayed.load(Ordering::Relaxed),
        target,
        samples.len(),
        all_urls.len()
    );
    drop(guard);
    drop(observer);
    drop(validators);
}

/// Prints the end of every node's log when the soak fails.
struct LogsOnFailure {
    logs: Vec<PathBuf>,
}

impl Drop for LogsOnFailure {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for path in &self.logs {
            let log = std::fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("--- {} (last 30 lines) ---", path.display());
            for l in &lines[lines.len().saturating_sub(30)..] {
                eprintln!("{l}");
            }
        }
    }
}

//! The CLI's side of the JSON-RPC API: signing keys, building and signing transactions,
//! dry-running them, submitting, waiting for inclusion and printing receipts.
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, Transaction};
use civitas_primitives::AccountId;
use civitas_rpc::{
    from_hex, hex32, to_hex, ChainApiClient, ContractApiClient, DryRunResult, ReceiptInfo,
    TxApiClient, TxStatus,
};
use clap::Args;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;

use civitas_primitives::dev;

/// How to reach the node.
#[derive(Args, Debug, Clone)]
pub struct RpcArgs {
    /// Node RPC URL.
    #[arg(
        long,
        global = true,
        env = "CIVITAS_RPC",
        default_value = "http://127.0.0.1:9944"
    )]
    pub rpc: String,
}

/// A connection to a node.
pub struct Client {
    rt: tokio::runtime::Runtime,
    rpc: HttpClient,
    url: String,
    access_key: std::sync::OnceLock<[u8; 32]>,
}

impl Client {
    /// Connects (lazily) to `url`.
    pub fn new(url: &str) -> Result<Client> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let rpc = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(60))
            .build(url)
            .with_context(|| format!("bad RPC URL {url}"))?;
        Ok(Client {
            rt,
            rpc,
            url: url.into(),
            access_key: std::sync::OnceLock::new(),
        })
    }

    /// Runs an RPC call.
    pub fn call<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, jsonrpsee::core::ClientError>>,
    ) -> Result<T> {
        self.rt.block_on(f).map_err(|e| match e {
            jsonrpsee::core::ClientError::Call(obj) => anyhow!("{}", obj.message()),
            jsonrpsee::core::ClientError::Transport(t) => {
                anyhow!("cannot reach the node at {}: {t}", self.url)
            }
            other => anyhow!("{other}"),
        })
    }

    /// The raw client.
    pub fn rpc(&self) -> &HttpClient {
        &self.rpc
    }

    /// The chain id, from `system_health`.
    pub fn chain_id(&self) -> Result<String> {
        Ok(self
            .call(civitas_rpc::SystemApiClient::health(&self.rpc))?
            .chain_id)
    }

    /// The chain access key that private call bodies are encrypted to (fetched once).
    pub fn access_key(&self) -> Result<[u8; 32]> {
        if let Some(k) = self.access_key.get() {
            return Ok(*k);
        }
        let hex = self.call(civitas_rpc::ChainApiClient::get_access_key(&self.rpc))?;
        let key =
            civitas_rpc::hex32(&hex).map_err(|e| anyhow::anyhow!("the node's access key: {e}"))?;
        Ok(*self.access_key.get_or_init(|| key))
    }

    /// Signs `tx` as `key`; a call that concerns a person's data (identity binding, record
    /// commitment, consent, sealed call, disclosure) is first encrypted to the chain access
    /// key, so blocks carry only its kind.
    pub fn sign(
        &self,
        key: &Keypair,
        tx: Transaction,
    ) -> Result<civitas_primitives::tx::SignedTransaction> {
        if civitas_primitives::tx::PrivateKind::of(&tx.call).is_none() {
            return Ok(key.sign_tx(tx));
        }
        key.sign_tx_for_chain(tx, &self.access_key()?)
            .ok_or_else(|| anyhow::anyhow!("encrypting the transaction body failed"))
    }

    /// The committed next nonce of `who` (transactions still in the pool are not counted).
    pub fn nonce(&self, who: &AccountId) -> Result<u64> {
        Ok(self.call(self.rpc.get_account(to_hex(&who.0)))?.nonce)
    }
}

pub use civitas_primitives::clock::now_ms;

/// Signs, submits and waits for `call` as `key` without a dry run; returns the receipt.
pub fn send(client: &Client, key: &Keypair, call: Call, fuel: u64) -> Result<ReceiptInfo> {
    let tx = next_tx(client, key, call, fuel)?;
    submit_and_wait(client, key, tx, false)
}

/// `call` as `key`'s next transaction on the node's chain.
fn next_tx(client: &Client, key: &Keypair, call: Call, fuel: u64) -> Result<Transaction> {
    Ok(Transaction {
        chain_id: client.chain_id()?,
        signer: key.account(),
        nonce: client.nonce(&key.account())?,
        fuel_limit: fuel,
        call,
    })
}

/// Signs and submits `tx` (saying so on stderr with `progress`), then waits for its receipt.
fn submit_and_wait(
    client: &Client,
    key: &Keypair,
    tx: Transaction,
    progress: bool,
) -> Result<ReceiptInfo> {
    let hash = client.call(client.rpc().submit(to_hex(&client.sign(key, tx)?.encode())))?;
    if progress {
        eprintln!("submitted {hash}; waiting for inclusion…");
    }
    wait_receipt(client, &hash, Duration::from_secs(60))
}

/// Resolves `--from NAME`: a key in the encrypted keystore, else a dev account name.
pub fn signing_key(name: &str) -> Result<Keypair> {
    if let Some(k) = crate::keystore::load(name)? {
        return Ok(k);
    }
    if dev::is_dev_account(name) {
        return Ok(dev::dev_key(name));
    }
    bail!("no key `{name}` in the keystore and no dev account of that name (create one with `civitas key new {name}`)")
}

/// Resolves an account: 64 hex digits, or a dev account name.
pub fn account_arg(s: &str) -> Result<AccountId> {
    if let Ok(b) = hex32(s) {
        return Ok(AccountId(b));
    }
    if dev::is_dev_account(s) {
        return Ok(dev::dev_key(s).account());
    }
    bail!("`{s}` is neither a 64-hex-digit account id nor a dev account name")
}

/// What to print.
#[derive(Clone, Copy)]
pub struct Output {
    /// JSON on stdout.
    pub json: bool,
}

/// Whether a state-changing command submits: `--send`, and `--force` to submit after a
/// failed dry run.
#[derive(Clone, Copy, Debug)]
pub struct Send {
    /// Submit and wait for the receipt (else: dry run only).
    pub send: bool,
    /// Submit even when the dry run fails.
    pub force: bool,
}

/// Dry-runs `call` as `key`, and with `send` signs, submits, waits and prints the receipt.
/// A failed dry run stops before submitting unless forced; a receipt that is not a success is
/// an error (exit 1) naming the decoded error, after the receipt is printed.
pub fn transact(
    client: &Client,
    key: &Keypair,
    call: Call,
    fuel: u64,
    send: Send,
    out: Output,
) -> Result<Option<ReceiptInfo>> {
    let tx = next_tx(client, key, call, fuel)?;
    let dry: DryRunResult = client.call(client.rpc().dry_run(to_hex(&tx.encode())))?;
    let Send { send, force } = send;
    if !send {
        if out.json {
            println!("{}", serde_json::json!({ "dry_run": dry }));
        } else {
            print_dry_run(&dry);
            println!("(dry run only: add --send to submit)");
        }
        return Ok(None);
    }
    if !dry.success {
        let why = dry.error.clone().unwrap_or_default();
        if !force {
            bail!(
                "the dry run failed ({why}); nothing was submitted (add --force to submit anyway)"
            );
        }
        if !out.json {
            eprintln!("warning: the dry run failed ({why}); submitting anyway (--force)");
        }
    }
    let receipt = submit_and_wait(client, key, tx, !out.json)?;
    if out.json {
        println!("{}", serde_json::to_string(&receipt)?);
    } else {
        print_receipt(&receipt);
    }
    if receipt.status != "success" {
        bail!(
            "transaction {} failed [{}]: {}",
            receipt.tx_hash,
            receipt.error_code.clone().unwrap_or_default(),
            receipt.error.clone().unwrap_or_default()
        );
    }
    Ok(Some(receipt))
}

/// Polls until `hash` is committed; returns its receipt.
pub fn wait_receipt(client: &Client, hash: &str, timeout: Duration) -> Result<ReceiptInfo> {
    let start = Instant::now();
    loop {
        match client.call(client.rpc().status(hash.to_string()))? {
            TxStatus::Committed { .. } => {
                return client.call(client.rpc().get_receipt(hash.to_string()))
            }
            TxStatus::Unknown => {
                bail!("the node no longer knows transaction {hash} (dropped from the pool)")
            }
            TxStatus::Pending => {}
        }
        if start.elapsed() > timeout {
            bail!("transaction {hash} not committed after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn print_dry_run(d: &DryRunResult) {
    println!(
        "dry run: {}  fuel {}  writes {}  events {}",
        if d.success { "success" } else { "FAILED" },
        d.fuel_used,
        d.storage_delta.len(),
        d.events.len()
    );
    if let Some(e) = &d.error {
        println!(
            "  error [{}]: {e}",
            d.error_code.clone().unwrap_or_default()
        );
    }
}

/// Prints a receipt for people.
pub fn print_receipt(r: &ReceiptInfo) {
    println!("transaction {}", r.tx_hash);
    println!(
        "  block {} index {}  status {}  fuel {}",
        r.height, r.index, r.status, r.fuel_used
    );
    if let Some(e) = &r.error {
        println!(
            "  error [{}]: {e}",
            r.error_code.clone().unwrap_or_default()
        );
    }
    for e in &r.events {
        println!("  event {} from {}: {}", e.topic, e.contract, e.data);
    }
    if r.output != "0x" {
        println!("  output {}", r.output);
    }
}

/// Output bytes of a receipt.
pub fn receipt_output(r: &ReceiptInfo) -> Result<Vec<u8>> {
    from_hex(&r.output).map_err(|e| anyhow!(e))
}

//! Observer nodes, for banks, insurers and the public: `civitas node --config FILE` with no
//! `validator_key_file` (or with `--observer`). An observer follows the department network
//! without voting and without executing: it fetches each block with its commit certificate
//! from the validators named in `relay_rpc`, believes it only once the certificate carries a
//! quorum of a validator set it trusts ([`chain`]), keeps the believed blocks, and serves
//! JSON-RPC ([`rpc`]).
//!
//! Why it does not execute: a block's state root covers the data of private calls (consents,
//! bindings, the audit trail), which only a holder of the chain access key can compute. An
//! observer holds no key at all (no access key, no sealing key, no vault), so it never holds a
//! record payload, a sealed result or a decrypted call body; instead it checks what it serves
//! against certified headers (state values with their proofs), and forwards the rest.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use civitas_ledger::Genesis;
use civitas_primitives::block::{Block, CommitCertificate};
use civitas_primitives::tx::Role;
use civitas_primitives::AccountId;
use civitas_rpc::ChainApiClient;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::DecodeAll;

use crate::config::NodeConfig;

pub mod chain;
mod rpc;

use chain::ObservedChain;

/// Methods the observer answers itself; every other method is forwarded to a validator.
const SERVED_HERE: &[&str] = &[
    "chain_getHead",
    "chain_getBlock",
    "chain_getValidators",
    "state_getProof",
    "system_health",
    "rpc.discover",
];

/// Methods an observer refuses rather than forwards: record payloads and committee keys
/// never pass through a node that holds none.
const REFUSED_HERE: &[&str] = &[
    "vault_putRecords",
    "vault_putSealedRecords",
    "vault_committeeRecords",
    "vault_committeeSealingKey",
];

/// Most blocks fetched from one validator before the observer asks for its head again.
const FETCH_RUN: u64 = 500;

/// A validator the observer follows.
struct Source {
    url: String,
    client: HttpClient,
    reachable: AtomicBool,
}

/// A running observer.
pub struct Observer {
    chain: ObservedChain,
    sources: Vec<Source>,
    in_sync: AtomicBool,
}

impl Observer {
    fn reachable(&self) -> usize {
        self.sources
            .iter()
            .filter(|s| s.reachable.load(Ordering::Relaxed))
            .count()
    }

    fn in_sync(&self) -> bool {
        self.in_sync.load(Ordering::Relaxed)
    }
}

/// The validators of a genesis, the observer's trust root.
fn genesis_validators(genesis: &Genesis) -> Result<Vec<AccountId>> {
    Ok(genesis
        .parsed_accounts()?
        .into_iter()
        .filter(|(_, _, info)| info.roles.has(Role::Validator))
        .map(|(id, _, _)| id)
        .collect())
}

/// Runs an observer until SIGINT or SIGTERM.
pub fn run(config: NodeConfig, genesis: Genesis) -> Result<()> {
    if config.sealing_key_file.is_some() || config.access_key_file.is_some() {
        bail!("an observer holds no key: remove sealing_key_file and access_key_file from its configuration");
    }
    if config.relay_rpc.is_empty() {
        bail!("an observer follows the validators named in relay_rpc: name at least one (http://HOST:PORT)");
    }
    let chain = ObservedChain::open(
        &config.data_dir.join("observer"),
        &genesis.chain_id,
        genesis_validators(&genesis)?,
    )
    .with_context(|| {
        format!(
            "opening the observer's blocks in {}",
            config.data_dir.display()
        )
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut sources = Vec::new();
        for url in &config.relay_rpc {
            let client = HttpClientBuilder::default()
                .request_timeout(Duration::from_secs(10))
                .build(url)
                .map_err(|e| anyhow::anyhow!("validator RPC address {url}: {e}"))?;
            sources.push(Source {
                url: url.clone(),
                client,
                reachable: AtomicBool::new(false),
            });
        }
        let observer = Arc::new(Observer {
            chain,
            sources,
            in_sync: AtomicBool::new(false),
        });
        let listener = config.rpc_listener(1024)?;
        let (addr, server) =
            crate::rpc_server::serve(config.rpc_addr, rpc::module(observer.clone())?, listener)
                .await?;
        println!(
            "Civitas observer: chain `{}`, following {} validator(s), {} block(s) believed ({})",
            genesis.chain_id,
            observer.sources.len(),
            observer.chain.height(),
            config.data_dir.display()
        );
        println!("RPC      http://{addr}  ws://{addr}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tracing::info!(
            validators = observer.sources.len(),
            height = observer.chain.height(),
            "observer started: following by certificates"
        );
        let follower = tokio::spawn(follow(observer.clone()));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        follower.abort();
        let _ = server.stop();
        println!("stopped at height {}", observer.chain.height());
        anyhow::Ok(())
    })
}

/// Follows the validators for good: from one at a time, moving to the next on any failure
/// (unreachable, or a block the observer does not believe).
async fn follow(o: Arc<Observer>) {
    let mut i = 0usize;
    loop {
        let source = &o.sources[i % o.sources.len()];
        match follow_once(&o, source).await {
            Ok(at_head) => {
                source.reachable.store(true, Ordering::Relaxed);
                o.in_sync.store(at_head, Ordering::Relaxed);
                if at_head {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            Err(e) => {
                source.reachable.store(false, Ordering::Relaxed);
                o.in_sync.store(false, Ordering::Relaxed);
                tracing::warn!(validator = %source.url, error = %e, "following this validator failed; trying the next");
                i += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Fetches and believes the blocks `source` has beyond ours (a bounded run); whether the
/// observer then stands at `source`'s head.
async fn follow_once(o: &Observer, source: &Source) -> Result<bool> {
    let head = source.client.get_head().await?.height;
    let mut next = o.chain.height() + 1;
    let end = head.min(next + FETCH_RUN);
    while next <= end {
        let info = source.client.get_block(Some(next)).await?;
        let raw = civitas_rpc::from_hex(&info.raw).map_err(|e| anyhow::anyhow!(e))?;
        let block = Block::decode_all(&mut &raw[..]).context("an undecodable block")?;
        let cert_hex = info
            .certificate
            .context("a block served without its certificate")?;
        let cert_raw = civitas_rpc::from_hex(&cert_hex).map_err(|e| anyhow::anyhow!(e))?;
        let cert = CommitCertificate::decode_all(&mut &cert_raw[..])
            .context("an undecodable certificate")?;
        let set = match o.chain.next_set() {
            Ok(_) => None,
            Err(_) => {
                let v = source.client.get_validators(Some(next)).await?;
                Some(
                    v.validators
                        .iter()
                        .map(|a| civitas_rpc::hex32(a).map(AccountId))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| anyhow::anyhow!(e))?,
                )
            }
        };
        o.chain.append(block, cert, set)?;
        tracing::debug!(height = next, validator = %source.url, "believed a block by its certificate");
        next += 1;
    }
    Ok(o.chain.height() >= head)
}

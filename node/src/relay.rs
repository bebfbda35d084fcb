//! Forwarding to the other nodes of a network, over their JSON-RPC addresses: every
//! transaction this node admits goes on to their pools (`tx_submitBatch`), so a transaction
//! submitted to any node reaches every validator; record payloads this node receives go on to
//! their vaults (`vault_putRecords`), so every node that executes sealed calls holds them.
//!
//! Only what was new here is forwarded (a duplicate transaction is refused by the pool, a held
//! record is skipped), so forwarding between nodes that all forward ends after one round.
//! Transactions go in the background, batched; records go before `vault_putRecords` answers,
//! so the commitment a client sends next finds its payload on every reachable node. A peer that
//! is down is skipped (logged, never the payload), and catches up on transactions through the
//! blocks it syncs.
use std::time::Duration;

use civitas_rpc::{TxApiClient, VaultApiClient};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use tokio::sync::mpsc;

/// Most transactions forwarded in one `tx_submitBatch`.
const BATCH: usize = 1_000;
/// Transactions waiting to be forwarded; beyond it new ones are not forwarded (the peers get
/// them through blocks).
const QUEUE: usize = 100_000;
/// How long a peer may take to answer.
const PEER_TIMEOUT: Duration = Duration::from_secs(5);

/// A node's forwarding to its peers.
pub struct Relay {
    peers: Vec<(String, HttpClient)>,
    txs: mpsc::Sender<String>,
}

impl Relay {
    /// Forwarding to the nodes at `urls` (`http://HOST:PORT`); its background task runs on
    /// the current tokio runtime.
    pub fn start(urls: &[String]) -> anyhow::Result<Relay> {
        let mut peers = Vec::with_capacity(urls.len());
        for url in urls {
            let client = HttpClientBuilder::default()
                .request_timeout(PEER_TIMEOUT)
                .build(url)
                .map_err(|e| anyhow::anyhow!("peer RPC address {url}: {e}"))?;
            peers.push((url.clone(), client));
        }
        let (txs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(forward_txs(peers.clone(), queue));
        Ok(Relay { peers, txs })
    }

    /// Queues admitted transactions (hex of their SCALE encoding) for the peers.
    pub fn transactions(&self, txs: Vec<String>) {
        for tx in txs {
            if self.txs.try_send(tx).is_err() {
                tracing::warn!(
                    "the forwarding queue is full: a transaction reaches peers only through blocks"
                );
                return;
            }
        }
    }

    /// Sends records (hex of their SCALE encoding) new to this node to every peer, waiting for
    /// their answers.
    pub async fn records(&self, records: Vec<String>) {
        if records.is_empty() {
            return;
        }
        let mut calls = tokio::task::JoinSet::new();
        for (url, client) in self.peers.clone() {
            let records = records.clone();
            calls.spawn(async move {
                if let Err(e) = client.put_records(records).await {
                    tracing::warn!(peer = %url, error = %peer_error(&e), "forwarding records to a peer failed");
                }
            });
        }
        while calls.join_next().await.is_some() {}
    }
}

/// The background task: drains the queue in batches and sends each batch to every peer.
async fn forward_txs(peers: Vec<(String, HttpClient)>, mut queue: mpsc::Receiver<String>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(tx) => batch.push(tx),
                Err(_) => break,
            }
        }
        let mut calls = tokio::task::JoinSet::new();
        for (url, client) in peers.clone() {
            let batch = batch.clone();
            calls.spawn(async move {
                if let Err(e) = client.submit_batch(batch).await {
                    tracing::debug!(peer = %url, error = %peer_error(&e), "forwarding transactions to a peer failed");
                }
            });
        }
        while calls.join_next().await.is_some() {}
    }
}

/// A peer's error, by kind only: its text may quote what was sent.
fn peer_error(e: &jsonrpsee::core::ClientError) -> &'static str {
    use jsonrpsee::core::ClientError;
    match e {
        ClientError::Call(_) => "refused",
        ClientError::RequestTimeout => "timeout",
        ClientError::Transport(_) => "unreachable",
        _ => "failed",
    }
}

//! Forwarding to the other nodes of a network, over their JSON-RPC addresses: every
//! transaction this node admits goes on to their pools (`tx_submitBatch`), so a transaction
//! submitted to any node reaches every validator; record payloads this node receives go on to
//! the sealed-compute committee's nodes alone (`vault_putRecords`), so every member holds them
//! and no other node does.
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
    committee: Vec<(String, HttpClient)>,
    /// The genesis committee transport key: forwarded records are encrypted to it.
    committee_key: Option<[u8; 32]>,
    txs: mpsc::Sender<String>,
}

impl Relay {
    /// Forwarding of transactions to the nodes at `urls` and of record payloads to the
    /// committee's nodes at `committee` (`http://HOST:PORT`); its background task runs on the
    /// current tokio runtime.
    pub fn start(
        urls: &[String],
        committee: &[String],
        committee_key: Option<[u8; 32]>,
    ) -> anyhow::Result<Relay> {
        let peers = clients(urls)?;
        let committee = clients(committee)?;
        if !committee.is_empty() && committee_key.is_none() {
            tracing::warn!("the genesis names no committee_key: record payloads travel to the committee's nodes in clear");
        }
        let (txs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(forward_txs(peers, queue));
        Ok(Relay {
            committee,
            committee_key,
            txs,
        })
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

    /// Sends records (hex of their SCALE encoding) new to this node to every other committee
    /// node, waiting for their answers.
    pub async fn records(&self, records: Vec<String>) {
        if records.is_empty() {
            return;
        }
        let sealed = match self.committee_key {
            Some(key) => {
                use parity_scale_codec::Encode;
                match civitas_primitives::crypto::seal_to(&key, &records.encode()) {
                    Some(env) => Some(civitas_rpc::to_hex(&env.encode())),
                    None => {
                        tracing::error!(
                            "encrypting records for the committee failed; not forwarded"
                        );
                        return;
                    }
                }
            }
            None => None,
        };
        let mut calls = tokio::task::JoinSet::new();
        for (url, client) in self.committee.clone() {
            let records = records.clone();
            let sealed = sealed.clone();
            calls.spawn(async move {
                let sent = match sealed {
                    Some(env) => client.put_sealed_records(env).await,
                    None => client.put_records(records).await,
                };
                if let Err(e) = sent {
                    tracing::warn!(peer = %url, error = %peer_error(&e), "forwarding records to a peer failed");
                }
            });
        }
        while calls.join_next().await.is_some() {}
    }
}

fn clients(urls: &[String]) -> anyhow::Result<Vec<(String, HttpClient)>> {
    urls.iter()
        .map(|url| {
            HttpClientBuilder::default()
                .request_timeout(PEER_TIMEOUT)
                .build(url)
                .map(|c| (url.clone(), c))
                .map_err(|e| anyhow::anyhow!("peer RPC address {url}: {e}"))
        })
        .collect()
}

/// How many rounds a forwarded read is retried while the committee's nodes say pending.
const PENDING_RETRIES: usize = 40;

/// Whether a member's refusal says the result is not attested yet (on its head).
fn is_pending(e: &jsonrpsee::types::ErrorObjectOwned) -> bool {
    e.data()
        .is_some_and(|d| d.get().contains("sealed_output_pending"))
}

/// Which committee-held reply a node forwards.
#[derive(Clone, Copy, Debug)]
pub enum CommitteeRead {
    /// `vault_getSealedOutput`.
    SealedOutput,
    /// `vault_fetchDisclosed`.
    Disclosed,
}

impl Relay {
    /// Asks the committee's other nodes in turn for the record payloads a signed
    /// `vault_committeeRecords` request names; the first answer (hex of an envelope) wins.
    pub async fn committee_records(&self, request: &str) -> Option<String> {
        for (url, client) in &self.committee {
            match client.committee_records(request.to_string()).await {
                Ok(reply) => return Some(reply),
                Err(e) => {
                    tracing::warn!(peer = %url, error = %peer_error(&e), "a committee node did not send missing records")
                }
            }
        }
        None
    }

    /// Asks the committee's other nodes in turn for the chain sealing key with a signed
    /// `vault_committeeSealingKey` request; the first answer (hex of an envelope) wins.
    pub async fn committee_sealing_key(&self, request: &str) -> Option<String> {
        for (url, client) in &self.committee {
            match client.committee_sealing_key(request.to_string()).await {
                Ok(reply) => return Some(reply),
                Err(e) => {
                    tracing::warn!(peer = %url, error = %peer_error(&e), "a committee node did not hand over the sealing key")
                }
            }
        }
        None
    }

    /// Whether this node knows committee nodes to forward reads to.
    pub fn has_committee(&self) -> bool {
        !self.committee.is_empty()
    }

    /// Forwards a signed read this node cannot serve (it holds no payloads or results) to the
    /// committee's nodes in turn: the first answer wins, and a refusal is passed on as the
    /// member gave it. The reply is encrypted to the requester's key, so this node learns
    /// nothing from it. `None`: no committee node could be reached.
    pub async fn ask_committee(
        &self,
        read: CommitteeRead,
        request: &str,
    ) -> Option<Result<String, jsonrpsee::types::ErrorObjectOwned>> {
        use jsonrpsee::core::ClientError;
        // A member whose head is a block behind this node's may not see the attestation yet:
        // such an answer is retried for a moment.
        let mut pending = None;
        for _ in 0..PENDING_RETRIES {
            for (url, client) in &self.committee {
                let answer = match read {
                    CommitteeRead::SealedOutput => {
                        client.get_sealed_output(request.to_string()).await
                    }
                    CommitteeRead::Disclosed => client.fetch_disclosed(request.to_string()).await,
                };
                match answer {
                    Ok(reply) => return Some(Ok(reply)),
                    Err(ClientError::Call(e)) if is_pending(&e) => pending = Some(e),
                    Err(ClientError::Call(e)) => return Some(Err(e)),
                    Err(e) => {
                        tracing::warn!(peer = %url, error = %peer_error(&e), "a committee node did not answer a forwarded read")
                    }
                }
            }
            // No member says pending: none could be reached.
            pending.as_ref()?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pending.map(Err)
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

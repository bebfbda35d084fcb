//! Prometheus metrics: blocks, transactions, pool size, execution and commit time, and
//! consensus (height and round, rounds per decided height, votes, certificate precommits,
//! time waiting for votes, peers, sync lag); served as text on `--metrics-addr`.
//!
//! Consensus figures come from the engine-neutral [`ConsensusEvent`]s and [`NetworkView`]
//! of the consensus boundary, never from an engine's own types.
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::consensus::{ConsensusEvent, NetworkView};

/// A vote counter's label: `kind` = `prevote` or `precommit`.
type VoteLabels = Vec<(&'static str, &'static str)>;

fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The node's metrics.
pub struct Metrics {
    /// Blocks committed.
    pub blocks: Counter,
    /// Head height.
    pub height: Gauge,
    /// Transactions admitted to the pool.
    pub txs_admitted: Counter,
    /// Transactions refused at admission.
    pub txs_refused: Counter,
    /// Transactions committed.
    pub txs_committed: Counter,
    /// Candidates left out of a block because their execution fails on every node.
    pub txs_excluded: Counter,
    /// Pool size.
    pub mempool_size: Gauge,
    /// Block execution time (a block this node proposes, or checks before it votes).
    pub execute_seconds: Histogram,
    /// Block commit (write) time.
    pub commit_seconds: Histogram,
    /// The height the consensus engine is deciding.
    pub consensus_height: Gauge,
    /// The round of that height the engine is in.
    pub consensus_round: Gauge,
    /// The round each height was decided in (0: the first proposer's block).
    pub decided_round: Histogram,
    /// Heights decided in a round after the first.
    pub decided_late: Counter,
    /// Votes this node signed, by kind.
    pub votes_signed: Family<VoteLabels, Counter>,
    /// Votes received from other validators, by kind.
    pub votes_received: Family<VoteLabels, Counter>,
    /// Precommit signatures in the certificates of the decided heights.
    pub certificate_precommits: Counter,
    /// From holding a height's block (proposed or checked) to its decision.
    pub vote_wait_seconds: Histogram,
    /// Connected peers.
    pub peers: Gauge,
    /// The highest height a validator of the network was seen deciding.
    pub peer_height: Gauge,
    /// Heights this node is behind its peers' committed head.
    pub sync_lag: Gauge,
    /// 1 when at the network's head, else 0 (as `system_health.in_sync`).
    pub in_sync: Gauge,
    registry: Registry,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("civitas");
        let m = Metrics {
            blocks: Counter::default(),
            height: Gauge::default(),
            txs_admitted: Counter::default(),
            txs_refused: Counter::default(),
            txs_committed: Counter::default(),
            txs_excluded: Counter::default(),
            mempool_size: Gauge::default(),
            execute_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            consensus_height: Gauge::default(),
            consensus_round: Gauge::default(),
            decided_round: Histogram::new([0.0, 1.0, 2.0, 3.0, 5.0, 8.0]),
            decided_late: Counter::default(),
            votes_signed: Family::default(),
            votes_received: Family::default(),
            certificate_precommits: Counter::default(),
            vote_wait_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
            peers: Gauge::default(),
            peer_height: Gauge::default(),
            sync_lag: Gauge::default(),
            in_sync: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("blocks", "Blocks committed", m.blocks.clone());
        registry.register("height", "Head height", m.height.clone());
        registry.register(
            "txs_admitted",
            "Transactions admitted to the pool",
            m.txs_admitted.clone(),
        );
        registry.register(
            "txs_refused",
            "Transactions refused at admission",
            m.txs_refused.clone(),
        );
        registry.register(
            "txs_committed",
            "Transactions committed",
            m.txs_committed.clone(),
        );
        registry.register(
            "txs_excluded",
            "Candidates left out of a block because their execution fails on every node",
            m.txs_excluded.clone(),
        );
        registry.register(
            "mempool_size",
            "Transactions pending",
            m.mempool_size.clone(),
        );
        registry.register(
            "block_execute_seconds",
            "Block execution time (proposed, or checked before a vote)",
            m.execute_seconds.clone(),
        );
        registry.register(
            "block_commit_seconds",
            "Block commit time",
            m.commit_seconds.clone(),
        );
        registry.register(
            "consensus_height",
            "The height the consensus engine is deciding",
            m.consensus_height.clone(),
        );
        registry.register(
            "consensus_round",
            "The round of that height the engine is in",
            m.consensus_round.clone(),
        );
        registry.register(
            "consensus_decided_round",
            "The round each height was decided in (0: the first proposer's block)",
            m.decided_round.clone(),
        );
        registry.register(
            "consensus_decided_late",
            "Heights decided in a round after the first",
            m.decided_late.clone(),
        );
        registry.register(
            "consensus_votes_signed",
            "Votes this node signed, by kind",
            m.votes_signed.clone(),
        );
        registry.register(
            "consensus_votes_received",
            "Votes received from other validators, by kind",
            m.votes_received.clone(),
        );
        registry.register(
            "consensus_certificate_precommits",
            "Precommit signatures in the certificates of the decided heights",
            m.certificate_precommits.clone(),
        );
        registry.register(
            "consensus_vote_wait_seconds",
            "From holding a height's block (proposed or checked) to its decision",
            m.vote_wait_seconds.clone(),
        );
        registry.register("peers", "Connected peers", m.peers.clone());
        registry.register(
            "peer_height",
            "The highest height a validator of the network was seen deciding",
            m.peer_height.clone(),
        );
        registry.register(
            "sync_lag",
            "Heights this node is behind its peers' committed head",
            m.sync_lag.clone(),
        );
        registry.register(
            "in_sync",
            "1 when at the network's head, else 0",
            m.in_sync.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts what the consensus engine reports.
    pub fn observe(&self, event: &ConsensusEvent) {
        match *event {
            ConsensusEvent::StartedRound { height, round } => {
                self.consensus_height.set(gauge_value(height));
                self.consensus_round.set(i64::from(round));
            }
            ConsensusEvent::SignedVote(kind) => {
                self.votes_signed
                    .get_or_create(&vec![("kind", kind.name())])
                    .inc();
            }
            ConsensusEvent::ReceivedVote(kind) => {
                self.votes_received
                    .get_or_create(&vec![("kind", kind.name())])
                    .inc();
            }
            ConsensusEvent::PeerAt { .. } => {}
            ConsensusEvent::Decided {
                round,
                precommits,
                vote_wait,
                ..
            } => {
                self.decided_round.observe(f64::from(round));
                if round > 0 {
                    self.decided_late.inc();
                }
                self.certificate_precommits
                    .inc_by(u64::try_from(precommits).unwrap_or(u64::MAX));
                if let Some(w) = vote_wait {
                    self.vote_wait_seconds.observe(w.as_secs_f64());
                }
            }
        }
    }

    /// Sets the figures that follow from the node's network status and head.
    pub fn refresh(&self, network: &NetworkView, head: u64) {
        self.peers
            .set(i64::try_from(network.peers.len()).unwrap_or(i64::MAX));
        self.peer_height.set(gauge_value(network.peer_height));
        self.sync_lag.set(gauge_value(network.sync_lag(head)));
        self.in_sync.set(i64::from(network.in_sync(head)));
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Serves `GET /metrics` (any path) on `listener`.
pub async fn serve(listener: TcpListener, chain: std::sync::Arc<crate::service::Chain>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            continue;
        };
        chain
            .metrics
            .refresh(&chain.network.view(), chain.head().height);
        let body = chain.metrics.render();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(response.as_bytes()).await;
        });
    }
}

//! Prometheus metrics: blocks, transactions, pool size, execution and commit time; served as
//! text on `--metrics-addr`.
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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
    /// Block execution time.
    pub execute_seconds: Histogram,
    /// Block commit (write) time.
    pub commit_seconds: Histogram,
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
            "Block execution time",
            m.execute_seconds.clone(),
        );
        registry.register(
            "block_commit_seconds",
            "Block commit time",
            m.commit_seconds.clone(),
        );
        Metrics { registry, ..m }
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

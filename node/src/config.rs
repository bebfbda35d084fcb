//! The node's configuration: the `civitas node` flags and the TOML file of a deployment.
//! `--dev` gives a single-validator chain with embedded defaults; `--config FILE` reads a
//! file, and the flags override it.
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use civitas_ledger::Genesis;
use civitas_primitives::crypto::Keypair;
use clap::Args;
use serde::Deserialize;

use crate::dev;
use crate::mempool::PoolLimits;

/// The `civitas node` flags.
#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Single-validator dev chain: dev genesis, dev keys (printed), RPC on 127.0.0.1.
    #[arg(long, conflicts_with = "config")]
    pub dev: bool,
    /// TOML configuration for a real deployment (see README).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the chain is stored (dev default: ~/.civitas/dev).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// JSON-RPC address, HTTP and WebSocket (default 127.0.0.1:9944; port 0 picks a free one).
    #[arg(long, value_name = "HOST:PORT")]
    pub rpc_addr: Option<SocketAddr>,
    /// Prometheus metrics address (default 127.0.0.1:9615; port 0 picks a free one).
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_addr: Option<SocketAddr>,
    /// When transactions reach an idle chain, gather more for this long before waiting for the
    /// next block slot (block times follow the chain's cadence, a chain parameter).
    #[arg(long, value_name = "MS")]
    pub block_interval_ms: Option<u64>,
    /// Most transactions the pool holds; submissions beyond it get error 1004 (default 50000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub pool_max_txs: Option<u64>,
    /// Most transactions one account may have pending; beyond it error 1004
    /// `account_pool_full` (default 10000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub pool_max_per_account: Option<u64>,
    /// A transaction pending this long is evicted, with its signer's later ones (default
    /// 3600000, an hour).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub pool_max_age_ms: Option<u64>,
    /// Most fuel one `contract_query` or `contract_dryRun` may burn (default 100000000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub query_fuel_cap: Option<u64>,
    /// Most open RPC connections (default 512; never more than half the open-file limit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rpc_max_connections: Option<u64>,
    /// Most calls in one JSON-RPC batch; a longer batch is refused whole with error -32010
    /// (default 100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rpc_max_batch_len: Option<u32>,
    /// Most subscriptions one WebSocket connection may hold; beyond it error -32006 (default 64).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rpc_max_subscriptions_per_connection: Option<u32>,
    /// Longest a call (or a batch) may take; after it the client gets error 1008
    /// (default 30000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub rpc_request_timeout_ms: Option<u64>,
    /// Requests one client IP may make per minute, all its connections together (a token
    /// bucket of that size); beyond it error 1007 with a retry hint (default 3000000: 50,000 a second).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rpc_ip_requests_per_minute: Option<u32>,
    /// Requests one connection may make per minute; beyond it error 1007 (default 1200000: 20,000 a second).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rpc_connection_requests_per_minute: Option<u32>,
    /// A web origin (`https://bank.example`) whose pages may call the RPC from a browser
    /// (CORS); repeatable, `*` for any origin. Replaces the file's `rpc_cors`. The dev node
    /// allows any origin unless this is given; other nodes allow none unless configured.
    #[arg(long = "rpc-cors", value_name = "ORIGIN")]
    pub rpc_cors: Vec<String>,
    /// Heights whose state stays provable: the head and the N-1 before it (default 10000;
    /// 0 keeps every height). Older tree nodes and values are deleted as blocks commit.
    #[arg(long, value_name = "N")]
    pub state_retained_heights: Option<u64>,
    /// Free space (MiB) the data directory's filesystem must keep: below it the node stops
    /// with an error before writing the next block (default 64; 0 turns the floor off).
    #[arg(long, value_name = "MIB")]
    pub min_free_disk_mb: Option<u64>,
    /// Run as an observer (follow the validators in `relay_rpc` without voting, executing or
    /// holding any key), even if the configuration names a validator key.
    #[arg(long, requires = "config")]
    pub observer: bool,
    /// Start from an empty chain: delete the dev data directory first (dev only).
    #[arg(long, requires = "dev")]
    pub reset: bool,
}

/// The node configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// JSON genesis document.
    pub genesis_file: PathBuf,
    /// File holding the validator's 32-byte secret seed as hex. Without it the node is an
    /// observer (see `civitas_node::observer`).
    #[serde(default)]
    pub validator_key_file: PathBuf,
    /// RPC address.
    #[serde(default = "default_rpc")]
    pub rpc_addr: SocketAddr,
    /// Metrics address.
    #[serde(default = "default_metrics")]
    pub metrics_addr: SocketAddr,
    /// How long an idle chain gathers transactions before its next block slot.
    #[serde(default = "default_interval")]
    pub block_interval_ms: u64,
    /// Most transactions the pool holds.
    #[serde(default = "default_pool_max_txs")]
    pub pool_max_txs: u64,
    /// Most transactions one account may have pending.
    #[serde(default = "default_pool_max_per_account")]
    pub pool_max_per_account: u64,
    /// How long a transaction may stay pending before it is evicted.
    #[serde(default = "default_pool_max_age_ms")]
    pub pool_max_age_ms: u64,
    /// Most fuel one query or dry run may burn: unauthenticated work is bounded.
    #[serde(default = "default_query_fuel_cap")]
    pub query_fuel_cap: u64,
    /// Most open RPC connections (idle ones included); the node also keeps it at or below
    /// half its open-file limit.
    #[serde(default = "default_rpc_max_connections")]
    pub rpc_max_connections: u64,
    /// Most calls in one JSON-RPC batch.
    #[serde(default = "default_rpc_max_batch_len")]
    pub rpc_max_batch_len: u32,
    /// Most subscriptions one WebSocket connection may hold.
    #[serde(default = "default_rpc_max_subscriptions_per_connection")]
    pub rpc_max_subscriptions_per_connection: u32,
    /// Longest a call or batch may take before it is answered with a timeout.
    #[serde(default = "default_rpc_request_timeout_ms")]
    pub rpc_request_timeout_ms: u64,
    /// Requests one client IP may make per minute (all its connections).
    #[serde(default = "default_rpc_ip_requests_per_minute")]
    pub rpc_ip_requests_per_minute: u32,
    /// Requests one connection may make per minute.
    #[serde(default = "default_rpc_connection_requests_per_minute")]
    pub rpc_connection_requests_per_minute: u32,
    /// Web origins whose pages may call the RPC from a browser (CORS), e.g.
    /// `["https://bank.example"]`; `["*"]` allows any. Default: none.
    #[serde(default)]
    pub rpc_cors: Vec<String>,
    /// Heights whose state stays provable (`state_getProof`, signed audit reads): the head and
    /// the `n - 1` before it, at least 2; 0 keeps every height (an archive node). What only
    /// older heights need is deleted in the same write as each block.
    #[serde(default = "default_state_retained_heights")]
    pub state_retained_heights: u64,
    /// Free space (MiB) the data directory's filesystem must keep; below it the node stops
    /// before writing a block. 0: no floor.
    #[serde(default = "default_min_free_disk_mb")]
    pub min_free_disk_mb: u64,
    /// File holding the chain sealing key (32 bytes, hex), on the nodes that execute sealed
    /// calls; without it the node cannot execute a block holding one.
    #[serde(default)]
    pub sealing_key_file: Option<PathBuf>,
    /// File holding the chain access key's secret (32 bytes, hex), on every validator: it
    /// opens the encrypted bodies of private calls, and its public half must be the genesis
    /// `access_key`. Without it the node cannot check or execute a private call.
    #[serde(default)]
    pub access_key_file: Option<PathBuf>,
    /// The other nodes' JSON-RPC URLs (`http://HOST:PORT`): transactions this node admits are
    /// forwarded to them.
    #[serde(default)]
    pub relay_rpc: Vec<String>,
    /// The JSON-RPC URLs of the sealed-compute committee's other nodes: record payloads this
    /// node receives are forwarded to them alone (no other node ever holds a payload).
    #[serde(default)]
    pub committee_rpc: Vec<String>,
    /// This validator's p2p address (`127.0.0.1:PORT`). When set, the node decides blocks
    /// with the other validators by BFT consensus (the Malachite engine, its state under
    /// `data_dir/consensus`); when absent, it produces blocks alone (the solo engine).
    #[serde(default)]
    pub p2p_addr: Option<SocketAddr>,
    /// The other validators' p2p addresses, connected to and kept (with `p2p_addr`).
    #[serde(default)]
    pub peers: Vec<SocketAddr>,
}

fn default_rpc() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9944))
}
fn default_metrics() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9615))
}
fn default_interval() -> u64 {
    100
}
fn default_pool_max_txs() -> u64 {
    PoolLimits::default().max_count as u64
}

fn default_pool_max_per_account() -> u64 {
    PoolLimits::default().max_per_account
}
fn default_pool_max_age_ms() -> u64 {
    u64::try_from(PoolLimits::default().max_age.as_millis()).unwrap_or(u64::MAX)
}

fn default_query_fuel_cap() -> u64 {
    DEFAULT_QUERY_FUEL_CAP
}
fn default_rpc_max_connections() -> u64 {
    DEFAULT_RPC_MAX_CONNECTIONS
}
fn default_rpc_max_batch_len() -> u32 {
    100
}
fn default_rpc_max_subscriptions_per_connection() -> u32 {
    64
}
fn default_rpc_request_timeout_ms() -> u64 {
    30_000
}
fn default_rpc_ip_requests_per_minute() -> u32 {
    3_000_000
}
fn default_rpc_connection_requests_per_minute() -> u32 {
    1_200_000
}
fn default_min_free_disk_mb() -> u64 {
    64
}
fn default_state_retained_heights() -> u64 {
    civitas_ledger::store::DEFAULT_RETAINED_HEIGHTS
}

impl NodeConfig {
    /// The RPC listener's limits for this configuration, on a process whose open-file limit
    /// is `nofile`. Zero values (possible only in a file) are refused.
    pub fn rpc_listener(&self, nofile: u64) -> Result<crate::rpc_server::listener::ListenerConfig> {
        use std::num::NonZeroU32;
        let nonzero = |v: u32, key: &str| {
            NonZeroU32::new(v).with_context(|| format!("`{key}` must be at least 1"))
        };
        if self.rpc_max_batch_len == 0 {
            bail!("`rpc_max_batch_len` must be at least 1");
        }
        if self.rpc_max_subscriptions_per_connection == 0 {
            bail!("`rpc_max_subscriptions_per_connection` must be at least 1");
        }
        if self.rpc_request_timeout_ms == 0 {
            bail!("`rpc_request_timeout_ms` must be at least 1");
        }
        for origin in &self.rpc_cors {
            crate::rpc_server::cors::check_origin(origin)?;
        }
        Ok(crate::rpc_server::listener::ListenerConfig {
            cors: self.rpc_cors.clone(),
            max_batch_len: self.rpc_max_batch_len,
            max_subscriptions_per_connection: self.rpc_max_subscriptions_per_connection,
            calls: crate::rpc_server::limits::CallLimits {
                ip_requests_per_minute: nonzero(
                    self.rpc_ip_requests_per_minute,
                    "rpc_ip_requests_per_minute",
                )?,
                connection_requests_per_minute: nonzero(
                    self.rpc_connection_requests_per_minute,
                    "rpc_connection_requests_per_minute",
                )?,
                call_timeout: std::time::Duration::from_millis(self.rpc_request_timeout_ms),
            },
            ..crate::rpc_server::listener::ListenerConfig::for_limits(
                self.rpc_max_connections,
                nofile,
            )
        })
    }

    /// The store settings this configuration asks for.
    pub fn store_config(&self) -> civitas_ledger::StoreConfig {
        civitas_ledger::StoreConfig {
            retained_heights: match self.state_retained_heights {
                0 => None,
                n => Some(n),
            },
            ..civitas_ledger::StoreConfig::default()
        }
    }
}

/// The fuel cap that queries and dry runs share unless configured otherwise.
pub const DEFAULT_QUERY_FUEL_CAP: u64 = 100_000_000;
/// The connection cap of the RPC server unless configured otherwise.
pub const DEFAULT_RPC_MAX_CONNECTIONS: u64 = 512;

fn dev_data_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".civitas")
        .join("dev")
}

/// What a node runs with: its configuration, the genesis and the validator keys it holds.
pub struct Resolved {
    /// The configuration (the file's, or the dev defaults, with the flags applied).
    pub config: NodeConfig,
    /// The genesis document.
    pub genesis: Genesis,
    /// The validator keys this node signs with.
    pub keys: Vec<Keypair>,
    /// The chain sealing key, if this node executes sealed calls.
    pub sealing_key: Option<[u8; 32]>,
    /// The chain access key's secret, if this node opens private calls.
    pub access_key: Option<[u8; 32]>,
}

/// Reads a 32-byte key written as hex in `file`.
pub(crate) fn read_key_file(file: &std::path::Path, what: &str) -> Result<[u8; 32]> {
    let hex =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    civitas_rpc::hex32(hex.trim())
        .map_err(|e| anyhow::anyhow!("{what} file {}: {e}", file.display()))
}

/// Resolves the command line (and the file it names) into what the node runs with.
pub fn resolve(args: &NodeArgs) -> Result<Resolved> {
    let (config, genesis, keys, sealing_key, access_key) = if args.dev {
        let data_dir = args.data_dir.clone().unwrap_or_else(dev_data_dir);
        if args.reset && data_dir.exists() {
            std::fs::remove_dir_all(&data_dir)
                .with_context(|| format!("removing {}", data_dir.display()))?;
        }
        let config = NodeConfig {
            data_dir,
            genesis_file: PathBuf::new(),
            validator_key_file: PathBuf::new(),
            rpc_addr: args.rpc_addr.unwrap_or_else(default_rpc),
            metrics_addr: args.metrics_addr.unwrap_or_else(default_metrics),
            block_interval_ms: args.block_interval_ms.unwrap_or(50),
            pool_max_txs: args.pool_max_txs.unwrap_or_else(default_pool_max_txs),
            pool_max_per_account: args
                .pool_max_per_account
                .unwrap_or_else(default_pool_max_per_account),
            pool_max_age_ms: args.pool_max_age_ms.unwrap_or_else(default_pool_max_age_ms),
            query_fuel_cap: args.query_fuel_cap.unwrap_or(DEFAULT_QUERY_FUEL_CAP),
            rpc_max_connections: args
                .rpc_max_connections
                .unwrap_or(DEFAULT_RPC_MAX_CONNECTIONS),
            rpc_max_batch_len: args
                .rpc_max_batch_len
                .unwrap_or_else(default_rpc_max_batch_len),
            rpc_max_subscriptions_per_connection: args
                .rpc_max_subscriptions_per_connection
                .unwrap_or_else(default_rpc_max_subscriptions_per_connection),
            rpc_request_timeout_ms: args
                .rpc_request_timeout_ms
                .unwrap_or_else(default_rpc_request_timeout_ms),
            rpc_ip_requests_per_minute: args
                .rpc_ip_requests_per_minute
                .unwrap_or_else(default_rpc_ip_requests_per_minute),
            rpc_connection_requests_per_minute: args
                .rpc_connection_requests_per_minute
                .unwrap_or_else(default_rpc_connection_requests_per_minute),
            rpc_cors: if args.rpc_cors.is_empty() {
                vec!["*".to_string()]
            } else {
                args.rpc_cors.clone()
            },
            state_retained_heights: args
                .state_retained_heights
                .unwrap_or_else(default_state_retained_heights),
            min_free_disk_mb: args
                .min_free_disk_mb
                .unwrap_or_else(default_min_free_disk_mb),
            sealing_key_file: None,
            access_key_file: None,
            relay_rpc: Vec::new(),
            committee_rpc: Vec::new(),
            p2p_addr: None,
            peers: Vec::new(),
        };
        let validator_keys = dev::DEV_ACCOUNTS
            .iter()
            .filter(|(_, roles)| roles.contains(&"validator"))
            .map(|(name, _)| dev::dev_key(name))
            .collect();
        let sealing = civitas_primitives::dev::dev_sealing_key(dev::DEV_CHAIN_ID);
        let access = civitas_primitives::dev::dev_access_key(dev::DEV_CHAIN_ID);
        (
            config,
            dev::dev_genesis(),
            validator_keys,
            Some(sealing),
            Some(access),
        )
    } else if let Some(path) = &args.config {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut config: NodeConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if let Some(d) = &args.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(a) = args.rpc_addr {
            config.rpc_addr = a;
        }
        if let Some(a) = args.metrics_addr {
            config.metrics_addr = a;
        }
        if let Some(ms) = args.block_interval_ms {
            config.block_interval_ms = ms;
        }
        if let Some(n) = args.pool_max_txs {
            config.pool_max_txs = n;
        }
        if let Some(n) = args.pool_max_per_account {
            config.pool_max_per_account = n;
        }
        if let Some(n) = args.pool_max_age_ms {
            config.pool_max_age_ms = n;
        }
        if let Some(n) = args.query_fuel_cap {
            config.query_fuel_cap = n;
        }
        if let Some(n) = args.rpc_max_connections {
            config.rpc_max_connections = n;
        }
        if let Some(n) = args.state_retained_heights {
            config.state_retained_heights = n;
        }
        if let Some(n) = args.min_free_disk_mb {
            config.min_free_disk_mb = n;
        }
        if let Some(n) = args.rpc_max_batch_len {
            config.rpc_max_batch_len = n;
        }
        if let Some(n) = args.rpc_max_subscriptions_per_connection {
            config.rpc_max_subscriptions_per_connection = n;
        }
        if let Some(n) = args.rpc_request_timeout_ms {
            config.rpc_request_timeout_ms = n;
        }
        if let Some(n) = args.rpc_ip_requests_per_minute {
            config.rpc_ip_requests_per_minute = n;
        }
        if let Some(n) = args.rpc_connection_requests_per_minute {
            config.rpc_connection_requests_per_minute = n;
        }
        if !args.rpc_cors.is_empty() {
            config.rpc_cors = args.rpc_cors.clone();
        }
        let genesis: Genesis = serde_json::from_slice(
            &std::fs::read(&config.genesis_file)
                .with_context(|| format!("reading {}", config.genesis_file.display()))?,
        )
        .with_context(|| format!("parsing genesis {}", config.genesis_file.display()))?;
        genesis.validate().context("invalid genesis")?;
        if args.observer || config.validator_key_file.as_os_str().is_empty() {
            return Ok(Resolved {
                config,
                genesis,
                keys: Vec::new(),
                sealing_key: None,
                access_key: None,
            });
        }
        let seed = std::fs::read_to_string(&config.validator_key_file)
            .with_context(|| format!("reading {}", config.validator_key_file.display()))?;
        let seed = civitas_rpc::hex32(seed.trim())
            .map_err(|e| anyhow::anyhow!("validator key file: {e}"))?;
        let sealing = config
            .sealing_key_file
            .as_deref()
            .map(|f| read_key_file(f, "sealing key"))
            .transpose()?;
        let access = config
            .access_key_file
            .as_deref()
            .map(|f| read_key_file(f, "access key"))
            .transpose()?;
        if let (Some(sealing), Some(public)) = (sealing, genesis.committee_key_bytes()?) {
            let secret = civitas_primitives::crypto::committee_transport_secret(&sealing);
            if civitas_primitives::crypto::x25519_public(&secret) != public {
                bail!("the sealing key file does not match the genesis committee_key");
            }
        }
        if let (Some(secret), Some(public)) = (access, genesis.access_key_bytes()?) {
            if civitas_primitives::crypto::x25519_public(&secret) != public {
                bail!("the access key file does not match the genesis access_key");
            }
        }
        (
            config,
            genesis,
            vec![Keypair::from_seed(seed)],
            sealing,
            access,
        )
    } else {
        bail!("pass --dev for a local dev chain, or --config FILE (see `civitas node --help`)");
    };
    Ok(Resolved {
        config,
        genesis,
        keys,
        sealing_key,
        access_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "data_dir = \"/d\"\ngenesis_file = \"/g.json\"\nvalidator_key_file = \"/v.key\"\n";

    #[test]
    fn pool_max_txs_reads_from_the_file_and_defaults_to_the_pool_default() {
        let absent: NodeConfig = toml::from_str(BASE).expect("config");
        assert_eq!(absent.pool_max_txs, PoolLimits::default().max_count as u64);
        let set: NodeConfig = toml::from_str(&format!("{BASE}pool_max_txs = 7\n")).expect("config");
        assert_eq!(set.pool_max_txs, 7);
        assert!(toml::from_str::<NodeConfig>(&format!("{BASE}pool_max = 7\n")).is_err());
    }

    #[test]
    fn pool_per_account_cap_and_age_read_from_the_file_with_the_pool_defaults() {
        let absent: NodeConfig = toml::from_str(BASE).expect("config");
        assert_eq!(
            absent.pool_max_per_account,
            PoolLimits::default().max_per_account
        );
        assert_eq!(absent.pool_max_age_ms, 3_600_000);
        let set: NodeConfig = toml::from_str(&format!(
            "{BASE}pool_max_per_account = 4\npool_max_age_ms = 1500\n"
        ))
        .expect("config");
        assert_eq!((set.pool_max_per_account, set.pool_max_age_ms), (4, 1500));
    }

    #[test]
    fn query_fuel_cap_and_rpc_max_connections_read_from_the_file_with_defaults() {
        let absent: NodeConfig = toml::from_str(BASE).expect("config");
        assert_eq!(absent.query_fuel_cap, DEFAULT_QUERY_FUEL_CAP);
        assert_eq!(absent.rpc_max_connections, DEFAULT_RPC_MAX_CONNECTIONS);
        let set: NodeConfig = toml::from_str(&format!(
            "{BASE}query_fuel_cap = 1000000\nrpc_max_connections = 9\n"
        ))
        .expect("config");
        assert_eq!(set.query_fuel_cap, 1_000_000);
        assert_eq!(set.rpc_max_connections, 9);
    }

    #[test]
    fn rpc_call_limits_read_from_the_file_with_defaults_and_zero_is_refused() {
        let absent: NodeConfig = toml::from_str(BASE).expect("config");
        let l = absent.rpc_listener(4096).expect("defaults");
        assert_eq!(l.max_batch_len, 100);
        assert_eq!(l.max_subscriptions_per_connection, 64);
        assert_eq!(l.calls.call_timeout, std::time::Duration::from_secs(30));
        assert_eq!(l.calls.ip_requests_per_minute.get(), 3_000_000);
        assert_eq!(l.calls.connection_requests_per_minute.get(), 1_200_000);
        let set: NodeConfig = toml::from_str(&format!(
            "{BASE}rpc_max_batch_len = 3\nrpc_max_subscriptions_per_connection = 2\n\
             rpc_request_timeout_ms = 250\nrpc_ip_requests_per_minute = 7\n\
             rpc_connection_requests_per_minute = 5\n"
        ))
        .expect("config");
        let l = set.rpc_listener(4096).expect("set");
        assert_eq!(l.max_batch_len, 3);
        assert_eq!(l.max_subscriptions_per_connection, 2);
        assert_eq!(l.calls.call_timeout, std::time::Duration::from_millis(250));
        assert_eq!(l.calls.ip_requests_per_minute.get(), 7);
        assert_eq!(l.calls.connection_requests_per_minute.get(), 5);
        let zero: NodeConfig =
            toml::from_str(&format!("{BASE}rpc_ip_requests_per_minute = 0\n")).expect("config");
        assert!(zero.rpc_listener(4096).is_err());
    }

    #[test]
    fn state_retained_heights_reads_from_the_file_and_zero_means_an_archive() {
        let absent: NodeConfig = toml::from_str(BASE).expect("config");
        assert_eq!(
            absent.store_config().retained_heights,
            Some(civitas_ledger::store::DEFAULT_RETAINED_HEIGHTS)
        );
        let set: NodeConfig =
            toml::from_str(&format!("{BASE}state_retained_heights = 50\n")).expect("config");
        assert_eq!(set.store_config().retained_heights, Some(50));
        let archive: NodeConfig =
            toml::from_str(&format!("{BASE}state_retained_heights = 0\n")).expect("config");
        assert_eq!(archive.store_config().retained_heights, None);
    }
}

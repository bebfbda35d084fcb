//! The engine's configuration for a department network: a TCP listener on the node's
//! `p2p_addr`, its `peers` dialled and kept (not exclusively: inbound connections arrive from
//! ephemeral ports), no discovery, value sync on, and round timeouts sized for validators on
//! one site's network or loopback.
use std::net::SocketAddr;
use std::time::Duration;

use malachitebft_app_channel::app::config::{
    ConsensusConfig, NodeConfig, P2pConfig, ValueSyncConfig,
};
use malachitebft_core_types::LinearTimeouts;
use thiserror::Error;

/// A p2p address that does not make a multiaddr.
#[derive(Debug, Error)]
#[error("p2p address {addr}: {reason}")]
pub struct ConfigError {
    addr: SocketAddr,
    reason: String,
}

/// What the engine runs with (the engine reads it through [`NodeConfig`]).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    value_sync: ValueSyncConfig,
}

fn multiaddr<T: std::str::FromStr>(addr: SocketAddr) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let text = match addr {
        SocketAddr::V4(a) => format!("/ip4/{}/tcp/{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("/ip6/{}/tcp/{}", a.ip(), a.port()),
    };
    text.parse().map_err(|e: T::Err| ConfigError {
        addr,
        reason: e.to_string(),
    })
}

impl EngineConfig {
    /// A validator named `moniker` listening on `listen` and keeping connections to `peers`.
    pub fn new(
        moniker: &str,
        listen: SocketAddr,
        peers: &[SocketAddr],
    ) -> Result<Self, ConfigError> {
        let p2p = P2pConfig {
            listen_addr: multiaddr(listen)?,
            persistent_peers: peers
                .iter()
                .map(|p| multiaddr(*p))
                .collect::<Result<_, _>>()?,
            persistent_peers_only: false,
            ..P2pConfig::default()
        };
        let consensus = ConsensusConfig {
            p2p,
            ..ConsensusConfig::default()
        };
        let value_sync = ValueSyncConfig {
            enabled: true,
            // A restarted validator learns its peers' heads within a second.
            status_update_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            ..ValueSyncConfig::default()
        };
        Ok(EngineConfig {
            moniker: moniker.into(),
            consensus,
            value_sync,
        })
    }
}

impl NodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }

    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }

    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }

    fn value_sync(&self) -> &ValueSyncConfig {
        &self.value_sync
    }

    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.value_sync
    }
}

/// Round timeouts. The proposer's block waits for its time slot (one cadence interval) and
/// its execution, and an idle proposer waits up to [`super::app::IDLE_PROPOSE_WAIT`] for
/// transactions: the propose timeout leaves room for both. Votes cross a local network in
/// milliseconds.
pub fn timeouts() -> LinearTimeouts {
    let propose = Duration::from_secs(3);
    let prevote = Duration::from_millis(500);
    let precommit = Duration::from_millis(500);
    LinearTimeouts {
        propose,
        propose_delta: Duration::from_millis(500),
        prevote,
        prevote_delta: Duration::from_millis(250),
        precommit,
        precommit_delta: Duration::from_millis(250),
        rebroadcast: propose + prevote + precommit,
        max_timeout: Duration::from_secs(30),
    }
}

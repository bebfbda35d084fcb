//! A department network's engine: Malachite BFT (`arc-malachitebft-*` 0.8.2, its channel API)
//! behind our [`Application`] boundary. Each department's validator is its own process; the
//! validators reach each other over TCP (libp2p) and decide every height by Tendermint
//! consensus, more than two thirds of them signing each block.
//!
//! One concern per module: [`types`] (our engine `Context`: heights, addresses, the value,
//! votes, proposals, the validator set and the proposer rotation), [`signing`] (ed25519 with
//! our keys; a precommit signature is a ledger commit signature), [`codec`] (wire and WAL
//! encoding), [`store`] (the blocks of undecided heights, kept across a crash), [`config`]
//! (network, sync and timeouts), [`app`] (the loop that answers the engine) and [`events`]
//! (the engine's events as the boundary's [`ConsensusEvent`]s, for status and metrics); in
//! debug builds only, `fault` (a proposer's test fault, turned on by `CIVITAS_FAULT_PROPOSER`).
//!
//! State on disk, under the node's data directory: `consensus/wal/` (the engine's write-ahead
//! log: a restarted validator replays its own votes and so never signs two different blocks
//! for one height and round) and `consensus/proposals/`.
//!
//! No type of the engine leaves this module: the ledger, RPC and CLI see blocks and
//! [`CommitCertificate`](civitas_primitives::block::CommitCertificate)s only.
pub mod app;
pub mod codec;
pub mod config;
pub mod events;
#[cfg(debug_assertions)]
pub mod fault;
pub mod signing;
pub mod store;
pub mod types;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use civitas_primitives::crypto::Keypair;
use civitas_primitives::sha3_256;
use malachitebft_app_channel::app::types::codec::Codec;
use malachitebft_app_channel::app::types::Keypair as NetworkKeypair;
use malachitebft_app_channel::{
    ConsensusContext, EngineHandle, NetworkContext, NetworkIdentity, RequestContext, Signer,
    SyncContext, WalContext,
};
use thiserror::Error;
use tokio::task::JoinHandle;

use self::app::AppLoop;
use self::codec::BorshCodec;
use self::events::EventTally;
use self::signing::{Ed25519Signer, Ed25519Verifier};
use self::store::ProposalStore;
use self::types::CivitasContext;
use super::solo::SoloWork;
use super::{Application, ConsensusEvent};

/// Domain of the derivation of the node's network (libp2p) key from its validator seed.
const NETWORK_KEY_DOMAIN: &[u8] = b"civitas/p2p-key/v1";

/// Where this validator listens and whom it connects to.
#[derive(Clone, Debug)]
pub struct Network {
    /// This node's p2p address.
    pub listen: SocketAddr,
    /// The other validators' p2p addresses.
    pub peers: Vec<SocketAddr>,
}

/// The engine could not start.
#[derive(Debug, Error)]
pub enum EngineError {
    /// A p2p address is unusable.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The proposal store cannot be opened.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The ledger could not report its head.
    #[error("ledger: {0}")]
    Ledger(#[from] super::AppError),
    /// The engine refused to start.
    #[error("starting the consensus engine: {0}")]
    Start(String),
    /// A test fault (debug builds only) is misconfigured.
    #[cfg(debug_assertions)]
    #[error(transparent)]
    Fault(#[from] fault::UnknownFault),
}

/// A running engine and its application loop.
pub struct RunningEngine {
    engine: EngineHandle,
    app: JoinHandle<()>,
}

impl RunningEngine {
    /// Stops the engine's actors and the loop.
    pub fn stop(self) {
        self.engine.actor.stop(None);
        self.app.abort();
        self.engine.handle.abort();
    }
}

/// The network key: derived from the validator seed, so the peer id stays the same across
/// restarts, but not the validator key itself (the network layer signs its own handshakes).
fn network_keypair(key: &Keypair) -> Result<NetworkKeypair, EngineError> {
    let mut bytes = NETWORK_KEY_DOMAIN.to_vec();
    bytes.extend_from_slice(&key.seed());
    let mut seed = sha3_256(&bytes).0;
    NetworkKeypair::ed25519_from_bytes(&mut seed).map_err(|e| EngineError::Start(e.to_string()))
}

/// What the running engine reports to the node: `peers` hears the connected peers (id,
/// address) every [`PEER_POLL`], `events` every [`ConsensusEvent`] the engine's events tell,
/// `voting` whether this node's key is a validator of each height the engine starts (outside
/// the set, the node follows the chain without voting).
pub struct EngineReports<P, E, V> {
    /// Connected peers.
    pub peers: P,
    /// Consensus events.
    pub events: E,
    /// Whether this node votes at the height started.
    pub voting: V,
}

/// Starts the engine for the validator `key` of chain `chain_id` on `network`, its state
/// under `data_dir/consensus`, driving `app` and telling `reports`. Must run inside a
/// multi-threaded tokio runtime (the loop executes blocks in place).
pub async fn start<A, P, E, V>(
    app: Arc<A>,
    key: Keypair,
    chain_id: &str,
    network: &Network,
    data_dir: &Path,
    reports: EngineReports<P, E, V>,
) -> Result<RunningEngine, EngineError>
where
    A: Application + SoloWork + 'static,
    P: Fn(Vec<(String, Option<String>)>) + Send + 'static,
    E: Fn(ConsensusEvent) + Send + 'static,
    V: Fn(bool) + Send + Sync + 'static,
{
    let EngineReports {
        peers: on_peers,
        events: on_event,
        voting: on_voting,
    } = reports;
    // A test fault is read first: a misspelt one stops the node before it joins the network.
    #[cfg(debug_assertions)]
    let fault = fault::ProposerFault::from_env()?;
    let dir = data_dir.join("consensus");
    let decided = app.start_height()?.saturating_sub(1);
    let store = ProposalStore::open(&dir.join("proposals"), decided)?;
    let ctx = CivitasContext::new(chain_id);
    let account = key.account();
    let moniker = account.to_hex().chars().take(12).collect::<String>();
    let cfg = config::EngineConfig::new(&moniker, network.listen, &network.peers)?;
    let net_key = network_keypair(&key)?;
    let signer = Arc::new(Ed25519Signer::new(key.clone(), chain_id));
    let peer_id = net_key.public().to_peer_id().to_bytes();
    let proof = signer
        .sign_validator_proof(account.0.to_vec(), peer_id)
        .await
        .map_err(|e| EngineError::Start(format!("{e:?}")))?;
    let proof = BorshCodec
        .encode(&proof)
        .map_err(|e| EngineError::Start(e.to_string()))?;
    let address = signer.address();
    let identity = NetworkIdentity::new_validator(moniker, net_key, address.to_string(), proof);
    let (mut channels, engine) = malachitebft_app_channel::start_engine(
        ctx.clone(),
        cfg,
        WalContext::new(dir.join("wal").join("consensus.wal"), BorshCodec),
        NetworkContext::new(identity, BorshCodec),
        ConsensusContext::new_validator(
            address,
            Box::new(Ed25519Verifier::new(chain_id)),
            Box::new(Ed25519Signer::new(key, chain_id)),
        ),
        SyncContext::new(BorshCodec),
        RequestContext::new(100),
    )
    .await
    .map_err(|e| EngineError::Start(e.to_string()))?;
    tracing::info!(listen = %network.listen, peers = network.peers.len(), validator = %address, "Malachite engine started");
    tokio::spawn(watch_peers(channels.net_requests.clone(), on_peers));
    tokio::spawn(watch_events(
        channels.events.subscribe(),
        app.clone(),
        EventTally::new(chain_id, address),
        on_event,
    ));
    #[allow(unused_mut)]
    let mut app_loop = AppLoop::new(app, ctx, signer, store, on_voting);
    #[cfg(debug_assertions)]
    if let Some(f) = fault {
        tracing::warn!(fault = ?f, "test fault on: this validator's proposals are invalid");
        app_loop = app_loop.with_fault(f);
    }
    let app = tokio::spawn(async move {
        if let Err(e) = app_loop.run(&mut channels).await {
            tracing::error!(error = %e, "the consensus application loop stopped");
        }
    });
    Ok(RunningEngine { engine, app })
}

/// How often the connected peers are read from the network layer.
pub const PEER_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Reads the network layer's peers every [`PEER_POLL`] and hands them to `on_peers`.
async fn watch_peers(
    requests: tokio::sync::mpsc::Sender<malachitebft_app_channel::NetworkRequest>,
    on_peers: impl Fn(Vec<(String, Option<String>)>),
) {
    loop {
        match malachitebft_app_channel::NetworkRequest::dump_state(&requests).await {
            Ok(Some(dump)) => {
                let mut peers: Vec<(String, Option<String>)> = dump
                    .peers
                    .iter()
                    .map(|(id, info)| (id.to_string(), Some(info.address.to_string())))
                    .collect();
                peers.sort();
                on_peers(peers);
            }
            Ok(None) => {}
            Err(_) => return,
        }
        tokio::time::sleep(PEER_POLL).await;
    }
}

/// Tells the engine's events to `on_event` until the engine stops; the validator set that
/// vouches for peers' heights is the one of the height the engine is in.
async fn watch_events<A: Application + 'static>(
    mut events: tokio::sync::broadcast::Receiver<
        malachitebft_engine::util::events::Event<CivitasContext>,
    >,
    app: Arc<A>,
    mut tally: EventTally,
    on_event: impl Fn(ConsensusEvent),
) {
    use malachitebft_engine::util::events::Event;
    use tokio::sync::broadcast::error::RecvError;
    let mut set_height = None;
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "consensus events missed by the metrics");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if let Event::StartedRound(height, ..) = &event {
            if set_height != Some(height.0) {
                match tokio::task::block_in_place(|| app.validator_set(height.0)) {
                    Ok(set) => {
                        tally.set_validators(set);
                        set_height = Some(height.0);
                    }
                    Err(e) => {
                        tracing::warn!(height = height.0, error = %e, "no validator set for the sync status")
                    }
                }
            }
        }
        for e in tally.tally(&event, std::time::Instant::now()) {
            on_event(e);
        }
    }
}

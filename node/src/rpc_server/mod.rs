//! The node's implementation of the JSON-RPC API (HTTP and WebSocket on one port), one module
//! per namespace: `chain`, `tx`, `contract`, `state` and `system` are public; `vault`, `consent`,
//! `audit` and `credits` concern people's data and go through [`private::PrivateApi`]'s signed
//! requests.
mod audit;
mod chain;
mod consent;
mod contract;
pub mod cors;
mod credits;
pub mod limits;
pub mod listener;
pub mod private;
mod state;
mod submit_queue;
mod system;
mod tx;
mod vault;
pub mod wallet_files;

use std::net::SocketAddr;
use std::sync::Arc;

use civitas_ledger::store::TxLocation;
use civitas_primitives::block::Receipt;
use civitas_primitives::merkle::merkle_proof;
use civitas_primitives::{AccountId, Hash};
use civitas_rpc::errors::{self, error, invalid_param};
use civitas_rpc::*;
use jsonrpsee::core::RpcResult;
use jsonrpsee::server::{RpcModule, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use parity_scale_codec::Encode;

use crate::service::Chain;

pub(crate) struct Api {
    chain: Arc<Chain>,
    /// `tx_submit` requests, verified in groups.
    submitter: Arc<submit_queue::SubmitQueue>,
    /// The fuel cap that queries and dry runs share: unauthenticated work is bounded.
    query_fuel: u64,
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    error(errors::INTERNAL, format!("node error: {e}"), None)
}

/// A proof that could not be made: a height this node has pruned is the caller's to change
/// (1002 `pruned_height`, naming the oldest height still proven), anything else the node's.
pub(crate) fn proof_error(e: civitas_ledger::ExecError) -> ErrorObjectOwned {
    match e {
        civitas_ledger::ExecError::Store(civitas_ledger::StoreError::Pruned { version, oldest }) => {
            error(
                errors::NOT_FOUND,
                format!(
                    "the state at height {version} has been pruned: this node proves heights {oldest} and above"
                ),
                Some("pruned_height"),
            )
        }
        other => internal(other),
    }
}

pub(crate) fn account_param(name: &str, s: &str) -> Result<AccountId, ErrorObjectOwned> {
    hex32(s).map(AccountId).map_err(|e| invalid_param(name, e))
}

impl Api {
    /// The status of `hash` if the store has committed it: `Committed` once the published head
    /// holds its block, `Pending` in the moment between the store write and the head update
    /// (so a client that sees `Committed` then reads a head at least that high).
    pub(crate) fn committed_status(&self, hash: &Hash) -> RpcResult<Option<TxStatus>> {
        let loc = self
            .chain
            .query_exec
            .store()
            .tx_location(hash)
            .map_err(internal)?;
        Ok(loc.map(|loc| {
            if loc.height <= self.chain.head().height {
                TxStatus::Committed {
                    height: loc.height,
                    index: loc.index,
                }
            } else {
                TxStatus::Pending
            }
        }))
    }

    pub(crate) fn receipt(&self, hash: Hash) -> RpcResult<ReceiptInfo> {
        let store = self.chain.query_exec.store();
        let loc = store.tx_location(&hash).map_err(internal)?.ok_or_else(|| {
            let pending = self.chain.is_pending(&hash);
            error(
                errors::NOT_FOUND,
                if pending {
                    format!("transaction {hash} is pending: no receipt yet")
                } else {
                    format!("no committed transaction {hash}")
                },
                Some(if pending { "pending" } else { "unknown_tx" }),
            )
        })?;
        let receipts = self.block_receipts(loc.height)?;
        let mut info = self.receipt_info(&hash, loc, &receipts)?;
        let encoded: Vec<Vec<u8>> = receipts.iter().map(Encode::encode).collect();
        info.raw = encoded.get(loc.index as usize).map(|r| to_hex(r));
        info.receipt_proof =
            merkle_proof(&encoded, loc.index as usize).map(|p| to_hex(&p.encode()));
        Ok(info)
    }

    /// The receipts of the block at `height`.
    pub(crate) fn block_receipts(&self, height: u64) -> RpcResult<Vec<Receipt>> {
        self.chain
            .query_exec
            .store()
            .receipts(height)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("receipts of block {height} missing")))
    }

    /// The receipt of `hash` at `loc` among its block's `receipts`, with the node's diagnostic
    /// of a failure when it kept one.
    pub(crate) fn receipt_info(
        &self,
        hash: &Hash,
        loc: TxLocation,
        receipts: &[Receipt],
    ) -> RpcResult<ReceiptInfo> {
        let r = receipts
            .get(loc.index as usize)
            .ok_or_else(|| internal("receipt index out of range"))?;
        let mut info = ReceiptInfo::new(r, loc.height, loc.index);
        if info.error.is_some() {
            if let Some(text) = self.chain.diagnostic(hash) {
                info.error = Some(text);
            }
        }
        Ok(info)
    }
}

/// Every method of the API in one module, plus `rpc.discover`; queries and dry runs stop at
/// `query_fuel` fuel; signed requests are remembered in memory only.
pub fn module(chain: Arc<Chain>, query_fuel: u64) -> anyhow::Result<RpcModule<()>> {
    module_with_guard(chain, query_fuel, Arc::new(private::ReplayGuard::default()))
}

/// [`module`] with the replay guard of signed requests given.
pub fn module_with_guard(
    chain: Arc<Chain>,
    query_fuel: u64,
    guard: Arc<private::ReplayGuard>,
) -> anyhow::Result<RpcModule<()>> {
    let submitter = Arc::new(submit_queue::SubmitQueue::start(chain.clone())?);
    let api = || Api {
        chain: chain.clone(),
        submitter: submitter.clone(),
        query_fuel,
    };
    let mut module = RpcModule::new(());
    module.merge(ChainApiServer::into_rpc(api()))?;
    module.merge(TxApiServer::into_rpc(api()))?;
    module.merge(ContractApiServer::into_rpc(api()))?;
    module.merge(StateApiServer::into_rpc(api()))?;
    module.merge(SystemApiServer::into_rpc(api()))?;
    let private = || private::PrivateApi::new(chain.clone(), guard.clone());
    module.merge(VaultApiServer::into_rpc(private()))?;
    module.merge(ConsentApiServer::into_rpc(private()))?;
    module.merge(AuditApiServer::into_rpc(private()))?;
    module.merge(CreditsApiServer::into_rpc(private()))?;
    module.register_method("rpc.discover", |_, _, _| {
        civitas_rpc::openrpc::document(env!("CARGO_PKG_VERSION"))
    })?;
    Ok(module)
}

/// What the RPC server runs with.
#[derive(Debug, Clone)]
pub struct RpcSettings {
    /// The fuel cap of queries and dry runs.
    pub query_fuel: u64,
    /// Where the replay guard remembers the signed requests it let through (across
    /// restarts); `None` keeps them in memory only.
    pub replay_guard_file: Option<std::path::PathBuf>,
    /// The connection limits (see [`listener`]).
    pub listener: listener::ListenerConfig,
}

/// Starts the server on `addr`: request and response size limits, the listener's connection
/// cap, idle timeout and accept backoff.
pub async fn start(
    addr: SocketAddr,
    chain: Arc<Chain>,
    settings: RpcSettings,
) -> anyhow::Result<(SocketAddr, ServerHandle)> {
    let guard = match &settings.replay_guard_file {
        Some(path) => private::ReplayGuard::persistent(path, civitas_primitives::clock::now_ms())?,
        None => private::ReplayGuard::default(),
    };
    let methods = module_with_guard(chain, settings.query_fuel, Arc::new(guard))?;
    serve(addr, methods, settings.listener).await
}

/// Serves `methods` (and the wallet page) on `addr` with the listener's limits.
pub async fn serve(
    addr: SocketAddr,
    methods: RpcModule<()>,
    listener_config: listener::ListenerConfig,
) -> anyhow::Result<(SocketAddr, ServerHandle)> {
    let services = listener::services(&listener_config);
    let tcp = tokio::net::TcpListener::bind(addr).await?;
    let local = tcp.local_addr()?;
    let (stop, handle) = jsonrpsee::server::stop_channel();
    tokio::spawn(listener::run(
        tcp,
        services,
        methods.into(),
        stop,
        listener_config,
        Arc::new(wallet_files::WalletFiles::discover()),
    ));
    Ok((local, handle))
}

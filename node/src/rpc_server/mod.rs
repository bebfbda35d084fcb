//! The node's implementation of the JSON-RPC API (HTTP and WebSocket on one port).
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use civitas_ledger::proof::prove;
use civitas_ledger::state::{keys, CodeInfo, ContractInfo, StateView};
use civitas_ledger::Executor;
use civitas_primitives::block::validators_hash;
use civitas_primitives::tx::{Role, SignedTransaction, Transaction};
use civitas_primitives::{AccountId, Hash};
use civitas_rpc::errors::{self, error, invalid_param};
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult, SubscriptionResult};
use jsonrpsee::server::{RpcModule, Server, ServerHandle};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage};
use parity_scale_codec::DecodeAll;

use crate::mempool::PoolError;
use crate::service::{head_info, Chain};

/// Fuel a query may use.
const QUERY_FUEL: u64 = 100_000_000;

struct Api {
    chain: Arc<Chain>,
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    error(errors::INTERNAL, format!("node error: {e}"), None)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn account_param(name: &str, s: &str) -> Result<AccountId, ErrorObjectOwned> {
    hex32(s).map(AccountId).map_err(|e| invalid_param(name, e))
}

impl Api {
    /// The status of `hash` if the store has committed it: `Committed` once the published head
    /// holds its block, `Pending` in the moment between the store write and the head update
    /// (so a client that sees `Committed` then reads a head at least that high).
    fn committed_status(&self, hash: &Hash) -> RpcResult<Option<TxStatus>> {
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

    fn receipt(&self, hash: Hash) -> RpcResult<ReceiptInfo> {
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
        let receipts = store
            .receipts(loc.height)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("receipts of block {} missing", loc.height)))?;
        let r = receipts
            .get(loc.index as usize)
            .ok_or_else(|| internal("receipt index out of range"))?;
        let mut info = ReceiptInfo::new(r, loc.height, loc.index);
        if info.error.is_some() {
            if let Some(text) = self.chain.diagnostic(&hash) {
                info.error = Some(text);
            }
        }
        Ok(info)
    }
}

#[async_trait]
impl ChainApiServer for Api {
    async fn get_head(&self) -> RpcResult<HeadInfo> {
        Ok(head_info(&self.chain.head()))
    }

    async fn get_block(&self, height: Option<u64>) -> RpcResult<BlockInfo> {
        let height = height.unwrap_or_else(|| self.chain.head().height);
        let store = self.chain.query_exec.store();
        let block = store.block(height).map_err(internal)?.ok_or_else(|| {
            error(
                errors::NOT_FOUND,
                format!("no block at height {height}"),
                Some("unknown_block"),
            )
        })?;
        let cert = store.certificate(height).map_err(internal)?;
        let signers = cert
            .as_ref()
            .map(|c| c.signatures.iter().map(|(v, _)| to_hex(&v.0)).collect())
            .unwrap_or_default();
        let mut info = BlockInfo::new(&block, signers);
        info.certificate = cert.map(|c| to_hex(&parity_scale_codec::Encode::encode(&c)));
        Ok(info)
    }

    async fn get_validators(&self, height: Option<u64>) -> RpcResult<ValidatorsInfo> {
        let head = self.chain.head();
        let height = height.unwrap_or(head.height + 1);
        // The set of `height` is fixed by the state before it: the state after `height - 1`,
        // or the head's for the two heights a committed change cannot reach yet.
        if height == 0 || height > head.height + 2 {
            return Err(error(
                errors::NOT_FOUND,
                format!(
                    "no validator set for height {height}: heights 1 to {} are known",
                    head.height + 2
                ),
                Some("unknown_height"),
            ));
        }
        let version = (height - 1).min(head.height);
        let view = StateView::new(self.chain.query_exec.store().clone(), version);
        let (since, set) = Executor::validator_set_since(&view, height).map_err(internal)?;
        Ok(ValidatorsInfo {
            height,
            since,
            validators: set.iter().map(|v| to_hex(&v.0)).collect(),
            hash: to_hex(&validators_hash(&set).0),
        })
    }

    async fn get_account(&self, account: String) -> RpcResult<AccountInfoJson> {
        let id = account_param("account", &account)?;
        let (_, view) = self.chain.query_exec.head_view().map_err(internal)?;
        let info = view.account(&id).map_err(internal)?;
        Ok(AccountInfoJson {
            account: to_hex(&id.0),
            nonce: info.nonce,
            balance: info.balance.to_string(),
            roles: Role::ALL
                .iter()
                .filter(|r| info.roles.has(**r))
                .map(|r| r.name().to_string())
                .collect(),
        })
    }

    async fn subscribe_new_heads(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        let mut heads = self.chain.subscribe_heads();
        let sink = pending.accept().await?;
        loop {
            match heads.recv().await {
                Ok(head) => {
                    let msg = SubscriptionMessage::from(jsonrpsee::core::to_json_raw_value(&head)?);
                    if sink.send(msg).await.is_err() {
                        return Ok(());
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return Ok(()),
            }
        }
    }
}

#[async_trait]
impl TxApiServer for Api {
    async fn submit(&self, tx: String) -> RpcResult<String> {
        let bytes = from_hex(&tx).map_err(|e| invalid_param("tx", e))?;
        let stx = SignedTransaction::decode_checked(&bytes).map_err(|e| {
            error(
                errors::TX_REJECTED,
                format!("transaction refused: {e}"),
                Some("malformed"),
            )
        })?;
        let chain = self.chain.clone();
        let result = tokio::task::spawn_blocking(move || chain.submit(stx))
            .await
            .map_err(internal)?;
        result.map(|hash| to_hex(&hash.0)).map_err(|e| {
            let (code, reason) = pool_error_code(&e);
            error(code, format!("transaction refused: {e}"), Some(reason))
        })
    }

    async fn submit_batch(&self, txs: Vec<String>) -> RpcResult<Vec<SubmitOutcome>> {
        if txs.len() > MAX_SUBMIT_BATCH {
            return Err(invalid_param(
                "txs",
                format!(
                    "{} transactions; the limit is {MAX_SUBMIT_BATCH}",
                    txs.len()
                ),
            ));
        }
        // Undecodable entries are refused in place; the rest go to the pool as one batch.
        let mut slots: Vec<Result<SignedTransaction, SubmitOutcome>> =
            Vec::with_capacity(txs.len());
        for (i, t) in txs.iter().enumerate() {
            let decoded = from_hex(t)
                .map_err(|e| format!("entry {i}: {e}"))
                .and_then(|b| {
                    SignedTransaction::decode_checked(&b).map_err(|e| format!("entry {i}: {e}"))
                });
            slots.push(
                decoded.map_err(|message| refused(errors::TX_REJECTED, "malformed", message)),
            );
        }
        let valid: Vec<SignedTransaction> = slots
            .iter()
            .filter_map(|s| s.as_ref().ok().cloned())
            .collect();
        let chain = self.chain.clone();
        let mut results = tokio::task::spawn_blocking(move || chain.submit_batch(valid))
            .await
            .map_err(internal)?
            .into_iter();
        Ok(slots
            .into_iter()
            .map(|slot| match slot {
                Err(outcome) => outcome,
                Ok(_) => match results.next() {
                    Some(Ok(hash)) => SubmitOutcome {
                        tx_hash: Some(to_hex(&hash.0)),
                        error_code: None,
                        reason: None,
                        message: None,
                    },
                    Some(Err(e)) => {
                        let (code, reason) = pool_error_code(&e);
                        refused(code, reason, format!("transaction refused: {e}"))
                    }
                    None => refused(errors::INTERNAL, "internal", "missing result".into()),
                },
            })
            .collect())
    }

    async fn status(&self, tx_hash: String) -> RpcResult<TxStatus> {
        let hash = parse_hash("tx_hash", &tx_hash)?;
        if let Some(status) = self.committed_status(&hash)? {
            return Ok(status);
        }
        if self.chain.is_pending(&hash) {
            return Ok(TxStatus::Pending);
        }
        // A block may have committed between the two reads: the pool drops its transactions
        // right after the store has them, so look again before saying unknown.
        Ok(self.committed_status(&hash)?.unwrap_or(TxStatus::Unknown))
    }

    async fn get_receipt(&self, tx_hash: String) -> RpcResult<ReceiptInfo> {
        let hash = parse_hash("tx_hash", &tx_hash)?;
        self.receipt(hash)
    }
}

#[async_trait]
impl ContractApiServer for Api {
    async fn query(&self, request: QueryRequest) -> RpcResult<QueryResult> {
        let contract = account_param("contract", &request.contract)?;
        let input = from_hex(&request.input).map_err(|e| invalid_param("input", e))?;
        let caller = match &request.caller {
            Some(c) => account_param("caller", c)?,
            None => AccountId::default(),
        };
        let chain = self.chain.clone();
        let result = tokio::task::spawn_blocking(move || {
            chain
                .query_exec
                .query(contract, caller, input, QUERY_FUEL, now_ms())
        })
        .await
        .map_err(internal)?
        .map_err(internal)?;
        match result {
            Ok(out) => Ok(QueryResult {
                output: to_hex(&out.output),
                fuel_used: out.fuel_used,
            }),
            Err(e) => Err(ErrorObjectOwned::owned(
                errors::EXECUTION_FAILED,
                format!("query failed: {}", e.error),
                Some(serde_json::json!({ "fuel_used": e.fuel_used, "debug_log": e.debug_log })),
            )),
        }
    }

    async fn dry_run(&self, tx: String) -> RpcResult<DryRunResult> {
        let bytes = from_hex(&tx).map_err(|e| invalid_param("tx", e))?;
        let tx = Transaction::decode_all(&mut &bytes[..])
            .map_err(|_| invalid_param("tx", "not a SCALE-encoded unsigned transaction"))?;
        let chain = self.chain.clone();
        let result = tokio::task::spawn_blocking(move || chain.query_exec.dry_run(&tx, now_ms()))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        let run = result.map_err(|e| {
            error(
                errors::TX_REJECTED,
                format!("transaction would be refused: {e}"),
                Some(e.code()),
            )
        })?;
        let info = ReceiptInfo::new(&run.receipt, self.chain.head().height + 1, 0);
        Ok(DryRunResult {
            success: run.receipt.error.is_none(),
            fuel_used: run.receipt.fuel_used,
            events: info.events,
            storage_delta: run
                .writes
                .into_iter()
                .map(|(k, v)| StorageDelta {
                    key: to_hex(&k),
                    value: v.map(|v| to_hex(&v)),
                })
                .collect(),
            output: info.output,
            error_code: info.error_code,
            // The node's own explanation (it ran the call here): more precise than the code's.
            error: run.diagnostic.or(info.error),
        })
    }

    async fn get_metadata(&self, address_or_code_hash: String) -> RpcResult<ContractMetadataInfo> {
        let id =
            hex32(&address_or_code_hash).map_err(|e| invalid_param("address_or_code_hash", e))?;
        let (_, view) = self.chain.query_exec.head_view().map_err(internal)?;
        let code_hash = match view
            .get_decoded::<ContractInfo>(&keys::contract(&AccountId(id)))
            .map_err(internal)?
        {
            Some(c) => c.code_hash,
            None => Hash(id),
        };
        let code = view
            .get_decoded::<CodeInfo>(&keys::code(&code_hash))
            .map_err(internal)?
            .ok_or_else(|| {
                error(
                    errors::NOT_FOUND,
                    format!("no contract or code {address_or_code_hash}"),
                    Some("unknown_code"),
                )
            })?;
        let info = self
            .chain
            .query_exec
            .vm()
            .validate(&code.code)
            .map_err(internal)?;
        Ok(ContractMetadataInfo {
            code_hash: to_hex(&code_hash.0),
            size: info.size,
            host_imports: info.host_imports,
            metadata: civitas_contract_build::embedded_metadata(&code.code),
        })
    }
}

#[async_trait]
impl StateApiServer for Api {
    async fn get_proof(&self, key: String, height: Option<u64>) -> RpcResult<ProofInfo> {
        let key = from_hex(&key).map_err(|e| invalid_param("key", e))?;
        if keys::PRIVATE_PREFIXES.iter().any(|p| key.starts_with(p)) {
            return Err(error(
                errors::UNAUTHORIZED,
                "consents, disclosures and audit entries are served only to signed requests (consent_list, audit_listBySubject, audit_listByInstitution)",
                Some("private_key"),
            ));
        }
        let head = self.chain.head();
        let height = height.unwrap_or(head.height);
        if height > head.height {
            return Err(invalid_param(
                "height",
                format!("{height} is above the head {}", head.height),
            ));
        }
        let store = self.chain.query_exec.store();
        let state_root = if height == 0 {
            head_root_at_genesis(&self.chain)?
        } else {
            store
                .block(height)
                .map_err(internal)?
                .ok_or_else(|| {
                    error(
                        errors::NOT_FOUND,
                        format!("no block at height {height}"),
                        Some("unknown_block"),
                    )
                })?
                .header
                .state_root
        };
        let proof = prove(store, &key, height).map_err(internal)?;
        Ok(ProofInfo {
            key: to_hex(&key),
            value: proof.value.as_ref().map(|v| to_hex(v)),
            height,
            state_root: to_hex(&state_root.0),
            proof: to_hex(&proof.proof),
        })
    }
}

fn refused(code: i32, reason: &str, message: String) -> SubmitOutcome {
    SubmitOutcome {
        tx_hash: None,
        error_code: Some(code),
        reason: Some(reason.into()),
        message: Some(message),
    }
}

fn pool_error_code(e: &PoolError) -> (i32, &'static str) {
    match e {
        PoolError::Invalid(e) => (errors::TX_REJECTED, e.code()),
        PoolError::Duplicate(_) => (errors::DUPLICATE, "duplicate"),
        PoolError::Full(_) => (errors::POOL_FULL, "pool_full"),
        PoolError::Node(_) => (errors::INTERNAL, "node_failure"),
    }
}

fn head_root_at_genesis(chain: &Chain) -> RpcResult<Hash> {
    let head = chain.head();
    if head.height == 0 {
        Ok(head.state_root)
    } else {
        Err(invalid_param(
            "height",
            "proofs at height 0 are served only before the first block",
        ))
    }
}

#[async_trait]
impl SystemApiServer for Api {
    async fn health(&self) -> RpcResult<Health> {
        Ok(Health {
            height: self.chain.head().height,
            pending: self.chain.pending(),
            chain_id: self.chain.block_exec.params().chain_id.clone(),
        })
    }

    async fn version(&self) -> RpcResult<VersionInfo> {
        Ok(VersionInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            api: "1".into(),
        })
    }
}

/// Every method of the API in one module, plus `rpc.discover`.
pub fn module(chain: Arc<Chain>) -> anyhow::Result<RpcModule<()>> {
    let mut module = RpcModule::new(());
    module.merge(ChainApiServer::into_rpc(Api {
        chain: chain.clone(),
    }))?;
    module.merge(TxApiServer::into_rpc(Api {
        chain: chain.clone(),
    }))?;
    module.merge(ContractApiServer::into_rpc(Api {
        chain: chain.clone(),
    }))?;
    module.merge(StateApiServer::into_rpc(Api {
        chain: chain.clone(),
    }))?;
    module.merge(SystemApiServer::into_rpc(Api {
        chain: chain.clone(),
    }))?;
    let guard = Arc::new(crate::rpc_vault::ReplayGuard::default());
    let private = || crate::rpc_vault::PrivateApi::new(chain.clone(), guard.clone());
    module.merge(VaultApiServer::into_rpc(private()))?;
    module.merge(ConsentApiServer::into_rpc(private()))?;
    module.merge(AuditApiServer::into_rpc(private()))?;
    module.merge(CreditsApiServer::into_rpc(private()))?;
    module.register_method("rpc.discover", |_, _, _| {
        civitas_rpc::openrpc::document(env!("CARGO_PKG_VERSION"))
    })?;
    Ok(module)
}

/// Starts the server on `addr` with request-size and connection limits.
pub async fn start(
    addr: SocketAddr,
    chain: Arc<Chain>,
) -> anyhow::Result<(SocketAddr, ServerHandle)> {
    let config = jsonrpsee::server::ServerConfig::builder()
        .max_request_body_size(2 * 1024 * 1024)
        .max_response_body_size(16 * 1024 * 1024)
        .max_connections(512)
        .build();
    let server = Server::builder().set_config(config).build(addr).await?;
    let local = server.local_addr()?;
    let handle = server.start(module(chain)?);
    Ok((local, handle))
}

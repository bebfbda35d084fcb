//! `contract_*`: queries, dry runs and metadata.

use civitas_ledger::state::{keys, CodeInfo, ContractInfo};
use civitas_primitives::clock::now_ms;
use civitas_primitives::tx::Transaction;
use civitas_primitives::{AccountId, Hash};
use civitas_rpc::errors::{self, error, invalid_param};
use civitas_rpc::*;
use civitas_runtime::VmError;
use jsonrpsee::core::{async_trait, RpcResult};
use jsonrpsee::types::ErrorObjectOwned;
use parity_scale_codec::DecodeAll;

use super::{account_param, internal, Api};

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
        let cap = self.query_fuel;
        let result = tokio::task::spawn_blocking(move || {
            chain
                .query_exec
                .query(contract, caller, input, cap, now_ms())
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
                match e.error {
                    VmError::OutOfFuel => format!(
                        "query failed: out of fuel: queries stop at this node's cap of {cap} fuel"
                    ),
                    other => format!("query failed: {other}"),
                },
                Some(serde_json::json!({ "fuel_used": e.fuel_used, "debug_log": e.debug_log })),
            )),
        }
    }

    async fn dry_run(&self, tx: String) -> RpcResult<DryRunResult> {
        let bytes = from_hex(&tx).map_err(|e| invalid_param("tx", e))?;
        let tx = Transaction::decode_all(&mut &bytes[..])
            .map_err(|_| invalid_param("tx", "not a SCALE-encoded unsigned transaction"))?;
        let chain = self.chain.clone();
        let cap = self.query_fuel;
        let result =
            tokio::task::spawn_blocking(move || chain.query_exec.dry_run(&tx, now_ms(), cap))
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

//! `state_*`: values with Jellyfish Merkle proofs against a height's state root.

use civitas_ledger::proof::prove;
use civitas_ledger::state::keys;
use civitas_primitives::Hash;
use civitas_rpc::errors::{self, error, invalid_param};
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};

use super::{internal, proof_error, Api};
use crate::service::Chain;

#[async_trait]
impl StateApiServer for Api {
    async fn get_proof(&self, key: String, height: Option<u64>) -> RpcResult<ProofInfo> {
        let key = from_hex(&key).map_err(|e| invalid_param("key", e))?;
        if keys::PRIVATE_PREFIXES.iter().any(|p| key.starts_with(p)) {
            return Err(error(
                errors::UNAUTHORIZED,
                "identity bindings by account, consents, disclosures and audit entries are served only to signed requests (consent_list, audit_listBySubject, audit_listByInstitution)",
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
        let proof = prove(store, &key, height).map_err(proof_error)?;
        Ok(ProofInfo {
            key: to_hex(&key),
            value: proof.value.as_ref().map(|v| to_hex(v)),
            height,
            state_root: to_hex(&state_root.0),
            proof: to_hex(&proof.proof),
        })
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

//! The observer's JSON-RPC: heads, blocks, certificates and validator sets from the chain it
//! believes; state values with their proofs fetched from a validator and checked against the
//! believed header's state root; `system_health` as an observer; every other method forwarded
//! as is to a validator (transactions reach the network that way; signed reads of personal
//! data come back encrypted to the requester's key, so the observer learns nothing from them).
use std::sync::Arc;

use civitas_primitives::block::validators_hash;
use civitas_primitives::proof::{verify_state_proof, StateProof};
use civitas_primitives::Hash;
use civitas_rpc::errors::{self, error, invalid_param};
use civitas_rpc::{
    from_hex, to_hex, BlockInfo, HeadInfo, Health, ProofInfo, StateApiClient, ValidatorsInfo,
};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::core::ClientError;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::value::RawValue;

use super::{Observer, REFUSED_HERE, SERVED_HERE};

/// Parameters passed on verbatim.
struct RawParams(Option<String>);

impl ToRpcParams for RawParams {
    fn to_rpc_params(self) -> Result<Option<Box<RawValue>>, serde_json::Error> {
        self.0.map(RawValue::from_string).transpose()
    }
}

fn unavailable() -> ErrorObjectOwned {
    error(
        errors::INTERNAL,
        "no validator this observer follows answered",
        Some("no_validator"),
    )
}

fn client_error(e: ClientError) -> Option<ErrorObjectOwned> {
    match e {
        ClientError::Call(obj) => Some(obj),
        _ => None,
    }
}

/// Every method of the observer.
pub fn module(observer: Arc<Observer>) -> anyhow::Result<RpcModule<()>> {
    let mut module = RpcModule::new(());
    let o = observer.clone();
    module.register_method(
        "chain_getHead",
        move |_, _, _| -> Result<HeadInfo, ErrorObjectOwned> {
            let height = o.chain.height();
            let (block, _) = o.chain.block(height).ok_or_else(|| {
                error(
                    errors::NOT_FOUND,
                    "no block followed yet",
                    Some("unknown_block"),
                )
            })?;
            Ok(HeadInfo {
                height,
                block_hash: to_hex(&block.header.hash().0),
                state_root: to_hex(&block.header.state_root.0),
            })
        },
    )?;
    let o = observer.clone();
    module.register_method(
        "chain_getBlock",
        move |params, _, _| -> Result<BlockInfo, ErrorObjectOwned> {
            let height: Option<u64> = params.sequence().optional_next()?;
            let height = height.unwrap_or_else(|| o.chain.height());
            let (block, cert) = o.chain.block(height).ok_or_else(|| {
                error(
                    errors::NOT_FOUND,
                    format!("no block {height} believed yet"),
                    Some("unknown_block"),
                )
            })?;
            let signed_by = cert.signatures.iter().map(|(v, _)| to_hex(&v.0)).collect();
            let mut info = BlockInfo::new(&block, signed_by);
            info.certificate = Some(to_hex(&parity_scale_codec::Encode::encode(&cert)));
            Ok(info)
        },
    )?;
    let o = observer.clone();
    module.register_method(
        "chain_getValidators",
        move |params, _, _| -> Result<ValidatorsInfo, ErrorObjectOwned> {
            let height: Option<u64> = params.sequence().optional_next()?;
            let height = height.unwrap_or_else(|| o.chain.height() + 1);
            let (since, set) = o.chain.validators(height).ok_or_else(|| {
                error(
                    errors::NOT_FOUND,
                    format!("no validator set believed for height {height}"),
                    Some("unknown_height"),
                )
            })?;
            Ok(ValidatorsInfo {
                height,
                since,
                hash: to_hex(&validators_hash(&set).0),
                validators: set.iter().map(|v| to_hex(&v.0)).collect(),
            })
        },
    )?;
    let o = observer.clone();
    module.register_method(
        "system_health",
        move |_, _, _| -> Result<Health, ErrorObjectOwned> {
            Ok(Health {
                height: o.chain.height(),
                pending: 0,
                chain_id: o.chain.chain_id().to_string(),
                role: "observer".into(),
                peers: o.reachable(),
                in_sync: o.in_sync(),
            })
        },
    )?;
    let o = observer.clone();
    module.register_async_method("state_getProof", move |params, _, _| {
        let o = o.clone();
        async move {
            let mut seq = params.sequence();
            let key: String = seq.next()?;
            let height: Option<u64> = seq.optional_next()?;
            let height = height.unwrap_or_else(|| o.chain.height());
            let (block, _) = o.chain.block(height).ok_or_else(|| {
                invalid_param("height", format!("no block {height} believed yet"))
            })?;
            let mut last = unavailable();
            for source in &o.sources {
                match source.client.get_proof(key.clone(), Some(height)).await {
                    Ok(p) => return check_proof(&p, &block.header.state_root).map(|_| p),
                    Err(e) => {
                        if let Some(obj) = client_error(e) {
                            return Err(obj);
                        }
                    }
                }
                last = unavailable();
            }
            Err(last)
        }
    })?;
    for name in REFUSED_HERE {
        module.register_method(name, |_, _, _| -> Result<(), ErrorObjectOwned> {
            Err(error(
                errors::UNAUTHORIZED,
                "an observer holds no records and no keys: send this to a department's node",
                Some("observer"),
            ))
        })?;
    }
    for (name, ..) in civitas_rpc::openrpc::METHODS {
        if SERVED_HERE.contains(name) || REFUSED_HERE.contains(name) || name.contains("subscribe") {
            continue;
        }
        let o = observer.clone();
        module.register_async_method(name, move |params, _, _| {
            let o = o.clone();
            let raw = params.as_str().map(str::to_string);
            async move {
                for source in &o.sources {
                    match source
                        .client
                        .request::<serde_json::Value, _>(name, RawParams(raw.clone()))
                        .await
                    {
                        Ok(v) => return Ok(v),
                        Err(e) => {
                            if let Some(obj) = client_error(e) {
                                return Err(obj);
                            }
                        }
                    }
                }
                Err(unavailable())
            }
        })?;
    }
    module.register_method("rpc.discover", |_, _, _| {
        civitas_rpc::openrpc::document(env!("CARGO_PKG_VERSION"))
    })?;
    Ok(module)
}

/// A validator's proof, believed only if it leads to the believed header's state root.
fn check_proof(p: &ProofInfo, state_root: &Hash) -> Result<(), ErrorObjectOwned> {
    let bad = |why: String| {
        error(
            errors::INTERNAL,
            format!("the validator's proof does not check against the believed header: {why}"),
            Some("bad_proof"),
        )
    };
    let key = from_hex(&p.key).map_err(|e| bad(e.to_string()))?;
    let value = p
        .value
        .as_deref()
        .map(from_hex)
        .transpose()
        .map_err(|e| bad(e.to_string()))?;
    let proof = from_hex(&p.proof).map_err(|e| bad(e.to_string()))?;
    if p.state_root != to_hex(&state_root.0) {
        return Err(bad("another state root".into()));
    }
    verify_state_proof(
        state_root,
        &StateProof {
            key,
            value,
            version: p.height,
            proof,
        },
    )
    .map_err(|e| bad(e.to_string()))
}

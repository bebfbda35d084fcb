//! What the personal-data namespaces of the JSON-RPC API share (`vault_*`, `consent_*`,
//! `audit_*` and `credits_*`, one module each): anything about a person needs a
//! [`SignedRequest`] from a key allowed to see it (fresh, never replayed); record contents and
//! sealed results leave only encrypted to the request's one-time key.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use civitas_ledger::proof::prove;
use civitas_ledger::state::StateView;
use civitas_primitives::crypto::verify_request;
use civitas_primitives::vault::{AuditEntry, SignedRequest};
use civitas_primitives::{AccountId, Hash};
use civitas_rpc::errors::{self, error, invalid_param};
use civitas_rpc::*;
use jsonrpsee::core::RpcResult;
use jsonrpsee::types::ErrorObjectOwned;
use parity_scale_codec::{Decode, DecodeAll};

use super::internal;
use crate::service::Chain;

/// How old a signed request may be, and how far ahead of this node's clock.
pub const REQUEST_WINDOW_MS: u64 = 120_000;
/// Records per `vault_putRecords` call.
pub const MAX_PUT_RECORDS: usize = 1_000;
/// Audit entries per page.
pub const MAX_AUDIT_PAGE: u32 = 500;

/// Refuses replayed requests: remembers `(signer, nonce)` for the request window.
#[derive(Default)]
pub struct ReplayGuard {
    seen: Mutex<BTreeMap<(AccountId, u64), u64>>,
}

pub(crate) fn unauthorized(message: impl Into<String>, reason: &str) -> ErrorObjectOwned {
    error(errors::UNAUTHORIZED, message, Some(reason))
}

pub(crate) fn not_found(message: String, reason: &str) -> ErrorObjectOwned {
    error(errors::NOT_FOUND, message, Some(reason))
}

impl ReplayGuard {
    /// Decodes and checks a signed request for `method` at time `now_ms`.
    pub fn check(&self, hex: &str, method: &str, now_ms: u64) -> RpcResult<SignedRequest> {
        let bytes = from_hex(hex).map_err(|e| invalid_param("request", e))?;
        let req = SignedRequest::decode_all(&mut &bytes[..])
            .map_err(|_| invalid_param("request", "not a SCALE-encoded signed request"))?;
        if req.method != method {
            return Err(unauthorized(
                format!(
                    "the request was signed for `{}`, not `{method}`",
                    req.method
                ),
                "wrong_method",
            ));
        }
        if !verify_request(&req) {
            return Err(unauthorized(
                "the request signature does not verify for its signer",
                "bad_signature",
            ));
        }
        if req.issued_ms.saturating_add(REQUEST_WINDOW_MS) < now_ms
            || req.issued_ms > now_ms.saturating_add(REQUEST_WINDOW_MS)
        {
            return Err(unauthorized(
                format!(
                    "the request was issued at {} ms; this node's clock says {now_ms} ms and accepts {} s either way",
                    req.issued_ms,
                    REQUEST_WINDOW_MS / 1000
                ),
                "stale_request",
            ));
        }
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| internal("replay guard poisoned"))?;
        seen.retain(|_, issued| issued.saturating_add(2 * REQUEST_WINDOW_MS) >= now_ms);
        if seen
            .insert((req.signer, req.nonce), req.issued_ms)
            .is_some()
        {
            return Err(unauthorized(
                "this request was already used: sign a new one",
                "replayed_request",
            ));
        }
        Ok(req)
    }
}

/// The handlers.
pub struct PrivateApi {
    pub(crate) chain: Arc<Chain>,
    pub(crate) guard: Arc<ReplayGuard>,
}

impl PrivateApi {
    /// Handlers over `chain`, sharing one replay guard.
    pub fn new(chain: Arc<Chain>, guard: Arc<ReplayGuard>) -> Self {
        PrivateApi { chain, guard }
    }

    pub(crate) fn view(&self) -> RpcResult<(civitas_ledger::Head, StateView)> {
        self.chain.query_exec.head_view().map_err(internal)
    }

    pub(crate) fn body<T: Decode>(req: &SignedRequest) -> RpcResult<T> {
        T::decode_all(&mut &req.body[..])
            .map_err(|_| invalid_param("request", "the body does not decode for this method"))
    }

    pub(crate) fn state_root_at(&self, height: u64) -> RpcResult<Hash> {
        let head = self.chain.head();
        if height == head.height {
            return Ok(head.state_root);
        }
        Ok(self
            .chain
            .query_exec
            .store()
            .block(height)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("block {height} missing")))?
            .header
            .state_root)
    }

    /// The value of `key` at `height` with its proof, as `state_getProof` serves a public one.
    pub(crate) fn proven_value(&self, key: Vec<u8>, height: u64) -> RpcResult<ProofInfo> {
        let proof =
            prove(self.chain.query_exec.store(), &key, height).map_err(super::proof_error)?;
        Ok(ProofInfo {
            key: to_hex(&key),
            value: proof.value.as_ref().map(|v| to_hex(v)),
            height,
            state_root: to_hex(&self.state_root_at(height)?.0),
            proof: to_hex(&proof.proof),
        })
    }

    pub(crate) fn proven_entry(&self, key: Vec<u8>, height: u64) -> RpcResult<AuditEntryInfo> {
        let proof =
            prove(self.chain.query_exec.store(), &key, height).map_err(super::proof_error)?;
        let value = proof
            .value
            .clone()
            .ok_or_else(|| internal("audit entry missing from the tree"))?;
        let entry = AuditEntry::decode(&mut &value[..]).map_err(internal)?;
        Ok(audit_info(&entry, &key, &value, &proof.proof))
    }

    pub(crate) fn vault(&self) -> RpcResult<&civitas_ledger::vault::Vault> {
        self.chain.query_exec.vault().ok_or_else(|| {
            error(
                errors::NOT_FOUND,
                "this node holds no vault",
                Some("no_vault"),
            )
        })
    }
}

pub(crate) fn head_time(chain: &Chain) -> RpcResult<u64> {
    let head = chain.head();
    if head.height == 0 {
        return Ok(0);
    }
    Ok(chain
        .query_exec
        .store()
        .block(head.height)
        .map_err(internal)?
        .map(|b| b.header.time_ms)
        .unwrap_or(0))
}

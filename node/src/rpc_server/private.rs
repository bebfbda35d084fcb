//! The personal-data side of the JSON-RPC API: `vault_*`, `consent_*`, `audit_*` and
//! `credits_*`. Anything about a person needs a [`SignedRequest`] from a key allowed to see it
//! (fresh, never replayed); record contents and sealed results leave only encrypted to the
//! request's one-time key.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use civitas_ledger::access::Disclosure;
use civitas_ledger::proof::prove;
use civitas_ledger::state::{keys, StateView};
use civitas_primitives::crypto::{seal_to, verify_hash, verify_request};
use civitas_primitives::tx::Role;
use civitas_primitives::vault::{
    check_payload, AccessKind, AccessOutcome, AuditEntry, ConsentArtefact, ConsentMode,
    ConsentStatus, DisclosedRecords, InstitutionAuditQuery, Record, SealedFetch, SealedOutputReply,
    SealedResult, SignedRequest, SubjectAuditQuery, MAX_PAYLOAD,
};
use civitas_primitives::{AccountId, Hash};
use civitas_rpc::errors::{self, error, invalid_param};
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};
use jsonrpsee::types::ErrorObjectOwned;
use parity_scale_codec::{Decode, DecodeAll, Encode};

use crate::rpc_server::internal;
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

fn unauthorized(message: impl Into<String>, reason: &str) -> ErrorObjectOwned {
    error(errors::UNAUTHORIZED, message, Some(reason))
}

fn not_found(message: String, reason: &str) -> ErrorObjectOwned {
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
    chain: Arc<Chain>,
    guard: Arc<ReplayGuard>,
}

impl PrivateApi {
    /// Handlers over `chain`, sharing one replay guard.
    pub fn new(chain: Arc<Chain>, guard: Arc<ReplayGuard>) -> Self {
        PrivateApi { chain, guard }
    }

    fn view(&self) -> RpcResult<(civitas_ledger::Head, StateView)> {
        self.chain.query_exec.head_view().map_err(internal)
    }

    fn body<T: Decode>(req: &SignedRequest) -> RpcResult<T> {
        T::decode_all(&mut &req.body[..])
            .map_err(|_| invalid_param("request", "the body does not decode for this method"))
    }

    fn state_root_at(&self, height: u64) -> RpcResult<Hash> {
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

    fn proven_entry(&self, key: Vec<u8>, height: u64) -> RpcResult<AuditEntryInfo> {
        let proof = prove(self.chain.query_exec.store(), &key, height).map_err(internal)?;
        let value = proof
            .value
            .clone()
            .ok_or_else(|| internal("audit entry missing from the tree"))?;
        let entry = AuditEntry::decode(&mut &value[..]).map_err(internal)?;
        Ok(audit_info(&entry, &key, &value, &proof.proof))
    }

    fn vault(&self) -> RpcResult<&civitas_ledger::vault::Vault> {
        self.chain.query_exec.vault().ok_or_else(|| {
            error(
                errors::NOT_FOUND,
                "this node holds no vault",
                Some("no_vault"),
            )
        })
    }
}

fn head_time(chain: &Chain) -> RpcResult<u64> {
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

#[async_trait]
impl VaultApiServer for PrivateApi {
    async fn put_records(&self, records: Vec<String>) -> RpcResult<Vec<String>> {
        if records.len() > MAX_PUT_RECORDS {
            return Err(invalid_param(
                "records",
                format!("at most {MAX_PUT_RECORDS} per call"),
            ));
        }
        let (_, view) = self.view()?;
        let mut parsed = Vec::with_capacity(records.len());
        for (i, hex) in records.iter().enumerate() {
            let name = format!("records[{i}]");
            let bytes = from_hex(hex).map_err(|e| invalid_param(&name, e))?;
            let r = Record::decode_all(&mut &bytes[..])
                .map_err(|_| invalid_param(&name, "not a SCALE-encoded record"))?;
            if r.payload.len() > MAX_PAYLOAD {
                return Err(invalid_param(
                    &name,
                    format!(
                        "payload is {} bytes; the limit is {MAX_PAYLOAD}",
                        r.payload.len()
                    ),
                ));
            }
            let ds = view
                .dataset(&r.dataset)
                .map_err(internal)?
                .ok_or_else(|| invalid_param(&name, format!("no dataset `{}`", r.dataset)))?;
            if ds.custodian != r.custodian {
                return Err(invalid_param(
                    &name,
                    format!(
                        "dataset `{}` is held by {}, not {}",
                        r.dataset, ds.custodian, r.custodian
                    ),
                ));
            }
            if !verify_hash(&r.custodian, &r.hash(), &r.signature) {
                return Err(invalid_param(
                    &name,
                    "the custodian's signature does not verify over the record hash",
                ));
            }
            check_payload(&ds.fields, &r.payload).map_err(|e| {
                invalid_param(
                    &name,
                    format!("payload does not match the schema of `{}`: {e}", r.dataset),
                )
            })?;
            parsed.push(r);
        }
        self.vault()?.put_records(&parsed).map_err(internal)?;
        Ok(parsed.iter().map(|r| to_hex(&r.hash().0)).collect())
    }

    async fn get_dataset(&self, id: String) -> RpcResult<DatasetInfo> {
        let (_, view) = self.view()?;
        let ds = view
            .dataset(&id)
            .map_err(internal)?
            .ok_or_else(|| not_found(format!("no dataset `{id}`"), "unknown_dataset"))?;
        Ok(DatasetInfo::from(&ds))
    }

    async fn list_datasets(&self) -> RpcResult<Vec<DatasetInfo>> {
        let (_, view) = self.view()?;
        let mut out = Vec::new();
        for id in view.dataset_ids().map_err(internal)? {
            if let Some(ds) = view.dataset(&id).map_err(internal)? {
                out.push(DatasetInfo::from(&ds));
            }
        }
        Ok(out)
    }

    async fn get_commitments(
        &self,
        subject: String,
        dataset: String,
    ) -> RpcResult<Vec<RecordCommitmentInfo>> {
        let subject = Hash(hex32(&subject).map_err(|e| invalid_param("subject", e))?);
        let (_, view) = self.view()?;
        Ok(view
            .records(&subject, &dataset)
            .map_err(internal)?
            .iter()
            .map(|r| RecordCommitmentInfo {
                version: r.version,
                record_hash: to_hex(&r.record_hash.0),
                custodian: to_hex(&r.custodian.0),
                signature: to_hex(&r.signature),
                height: r.height,
            })
            .collect())
    }

    async fn fetch_disclosed(&self, request: String) -> RpcResult<String> {
        let req = self
            .guard
            .check(&request, "vault_fetchDisclosed", crate::client::now_ms())?;
        let body: SealedFetch = Self::body(&req)?;
        let (_, view) = self.view()?;
        let d: Disclosure = view
            .get_decoded(&keys::disclosure(&body.tx_hash))
            .map_err(internal)?
            .ok_or_else(|| {
                not_found(
                    format!("no committed disclosure {}", body.tx_hash),
                    "unknown_disclosure",
                )
            })?;
        if d.grantee != req.signer {
            return Err(unauthorized(
                "only the institution the disclosure was granted to may download it",
                "not_grantee",
            ));
        }
        let consent = view
            .consent(d.consent)
            .map_err(internal)?
            .ok_or_else(|| internal("consent of a disclosure missing"))?;
        if consent.status == ConsentStatus::Revoked {
            return Err(unauthorized(
                "the citizen revoked this consent: its records are no longer served",
                "consent_revoked",
            ));
        }
        let vault = self.vault()?;
        let mut records = Vec::with_capacity(d.records.len());
        for (_, _, hash) in &d.records {
            records.push(
                vault
                    .record(hash)
                    .map_err(internal)?
                    .ok_or_else(|| internal(format!("vault lacks record {hash}")))?,
            );
        }
        let plain = DisclosedRecords {
            consent: d.consent,
            records,
        }
        .encode();
        let env = seal_to(&body.reply_key, &plain).ok_or_else(|| internal("encryption failed"))?;
        Ok(to_hex(&env.encode()))
    }

    async fn get_sealed_output(&self, request: String) -> RpcResult<String> {
        let req = self
            .guard
            .check(&request, "vault_getSealedOutput", crate::client::now_ms())?;
        let body: SealedFetch = Self::body(&req)?;
        let stored = self
            .vault()?
            .sealed_output(&body.tx_hash)
            .map_err(internal)?
            .ok_or_else(|| {
                not_found(
                    format!("no sealed result for transaction {}", body.tx_hash),
                    "unknown_sealed_call",
                )
            })?;
        let (_, view) = self.view()?;
        let subject = view.subject_of(&req.signer).map_err(internal)?;
        let allowed = stored.institution == req.signer
            || subject.is_some_and(|s| stored.subjects.contains(&s));
        if !allowed {
            return Err(unauthorized(
                "only the institution that made the sealed call and the citizens it read may see its result",
                "not_party",
            ));
        }
        let result = SealedResult::from_padded(&stored.padded)
            .ok_or_else(|| internal("stored sealed result does not decode"))?;
        let plain = SealedOutputReply {
            result,
            salt: stored.salt,
        }
        .encode();
        let env = seal_to(&body.reply_key, &plain).ok_or_else(|| internal("encryption failed"))?;
        Ok(to_hex(&env.encode()))
    }
}

#[async_trait]
impl ConsentApiServer for PrivateApi {
    async fn list(&self, request: String) -> RpcResult<Vec<ConsentInfo>> {
        let req = self
            .guard
            .check(&request, "consent_list", crate::client::now_ms())?;
        let (_, view) = self.view()?;
        let mut ids = view
            .id_list(&keys::consents_of_grantee(&req.signer))
            .map_err(internal)?;
        if let Some(subject) = view.subject_of(&req.signer).map_err(internal)? {
            ids.extend(
                view.id_list(&keys::consents_of_subject(&subject))
                    .map_err(internal)?,
            );
        }
        ids.sort_unstable();
        ids.dedup();
        let now = head_time(&self.chain)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = view.consent(id).map_err(internal)? {
                out.push(consent_info(&c, now));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl AuditApiServer for PrivateApi {
    async fn list_by_subject(&self, request: String) -> RpcResult<AuditPage> {
        let req = self
            .guard
            .check(&request, "audit_listBySubject", crate::client::now_ms())?;
        let q: SubjectAuditQuery = Self::body(&req)?;
        let (head, view) = self.view()?;
        if view.identity(&q.subject).map_err(internal)? != Some(req.signer) {
            return Err(unauthorized(
                "only the citizen's bound wallet key may read her audit trail",
                "not_subject",
            ));
        }
        let total = view.audit_len(&q.subject).map_err(internal)?;
        let limit = u64::from(q.limit.min(MAX_AUDIT_PAGE));
        let state_root = self.state_root_at(head.height)?;
        let mut entries = Vec::new();
        for seq in q.from..total.min(q.from.saturating_add(limit)) {
            entries.push(self.proven_entry(keys::audit(&q.subject, seq), head.height)?);
        }
        Ok(AuditPage {
            height: head.height,
            state_root: to_hex(&state_root.0),
            total,
            entries,
        })
    }

    async fn list_by_institution(&self, request: String) -> RpcResult<AuditPage> {
        let req = self
            .guard
            .check(&request, "audit_listByInstitution", crate::client::now_ms())?;
        let q: InstitutionAuditQuery = Self::body(&req)?;
        let (head, view) = self.view()?;
        let is_regulator = view
            .account(&req.signer)
            .map_err(internal)?
            .roles
            .has(Role::Regulator);
        if !is_regulator && req.signer != q.institution {
            return Err(unauthorized(
                "only regulators and the institution itself may list its audit trail",
                "not_regulator",
            ));
        }
        let total: u64 = view
            .get_decoded(&keys::institution_audit_len(&q.institution))
            .map_err(internal)?
            .unwrap_or(0);
        let limit = u64::from(q.limit.min(MAX_AUDIT_PAGE));
        let state_root = self.state_root_at(head.height)?;
        let mut entries = Vec::new();
        for n in q.from..total.min(q.from.saturating_add(limit)) {
            let Some((subject, seq)) = view
                .get_decoded::<(Hash, u64)>(&keys::institution_audit(&q.institution, n))
                .map_err(internal)?
            else {
                continue;
            };
            entries.push(self.proven_entry(keys::audit(&subject, seq), head.height)?);
        }
        Ok(AuditPage {
            height: head.height,
            state_root: to_hex(&state_root.0),
            total,
            entries,
        })
    }
}

#[async_trait]
impl CreditsApiServer for PrivateApi {
    async fn get_balance(&self, account: String) -> RpcResult<CreditsInfo> {
        let id = AccountId(hex32(&account).map_err(|e| invalid_param("account", e))?);
        let (_, view) = self.view()?;
        Ok(CreditsInfo {
            account: to_hex(&id.0),
            balance: view.account(&id).map_err(internal)?.balance.to_string(),
        })
    }
}

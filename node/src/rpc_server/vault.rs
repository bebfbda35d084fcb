//! `vault_*`: record uploads (custodians), commitments, sealed outputs and disclosures; every
//! read of a person's data needs a fresh signed request and leaves encrypted to its key.

use civitas_ledger::access::Disclosure;
use civitas_ledger::state::keys;
use civitas_primitives::clock::now_ms;
use civitas_primitives::crypto::{seal_to, verify_hash, verify_hash_batch};
use civitas_primitives::vault::{
    check_payload, ConsentStatus, DisclosedRecords, Record, SealedFetch, SealedOutputReply,
    SealedResult, MAX_PAYLOAD,
};
use civitas_primitives::Hash;
use civitas_rpc::errors::invalid_param;
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};
use parity_scale_codec::{DecodeAll, Encode};

use super::internal;
use super::private::{not_found, unauthorized, PrivateApi, MAX_PUT_RECORDS};
use crate::relay::CommitteeRead;

impl PrivateApi {
    /// A signed read this node cannot serve (it is outside the sealed-compute committee, or a
    /// member that lacks the data), answered by a committee node when this node knows one.
    async fn served_by_committee(&self, read: CommitteeRead, request: &str) -> RpcResult<String> {
        let forwarded = match self.chain.relay() {
            Some(relay) if relay.has_committee() && !self.chain.block_exec.has_sealing_key() => {
                relay.ask_committee(read, request).await
            }
            _ => None,
        };
        forwarded.unwrap_or_else(|| {
            Err(not_found(
                "this node holds no copy: records and sealed results are kept by the nodes of the sealed-compute committee; ask one of them".into(),
                "not_held",
            ))
        })
    }
}

#[async_trait]
impl VaultApiServer for PrivateApi {
    async fn committee_sealing_key(&self, request: String) -> RpcResult<String> {
        let req = self
            .guard
            .check(&request, "vault_committeeSealingKey", now_ms())?;
        let body: civitas_primitives::committee::SealingKeyFetch = Self::body(&req)?;
        let (_, view) = self.view()?;
        let committee = civitas_ledger::Executor::committee(&view).map_err(internal)?;
        if !committee.contains(&req.signer) {
            return Err(unauthorized(
                "only a member of the sealed-compute committee may receive the sealing key",
                "not_committee_member",
            ));
        }
        let key = self.chain.block_exec.sealing_key().ok_or_else(|| {
            not_found(
                "this node holds no sealing key: ask another committee node".into(),
                "not_held",
            )
        })?;
        tracing::info!(member = %req.signer, "handing the chain sealing key to a committee member");
        let env = seal_to(&body.reply_key, &key).ok_or_else(|| internal("encryption failed"))?;
        Ok(to_hex(&env.encode()))
    }

    async fn committee_records(&self, request: String) -> RpcResult<String> {
        let req = self
            .guard
            .check(&request, "vault_committeeRecords", now_ms())?;
        let body: civitas_primitives::committee::RecordsFetch = Self::body(&req)?;
        if body.records.len() > MAX_PUT_RECORDS {
            return Err(invalid_param(
                "records",
                format!("at most {MAX_PUT_RECORDS} per request"),
            ));
        }
        let (_, view) = self.view()?;
        let committee = civitas_ledger::Executor::committee(&view).map_err(internal)?;
        if !committee.contains(&req.signer) {
            return Err(unauthorized(
                "only a member of the sealed-compute committee may copy record payloads",
                "not_committee_member",
            ));
        }
        let vault = self.vault()?;
        let mut records = Vec::with_capacity(body.records.len());
        for hash in &body.records {
            if let Some(r) = vault.record(hash).map_err(internal)? {
                records.push(r);
            }
        }
        let env = seal_to(&body.reply_key, &records.encode())
            .ok_or_else(|| internal("encryption failed"))?;
        Ok(to_hex(&env.encode()))
    }

    async fn get_sealed_outcome(&self, tx_hash: String) -> RpcResult<SealedOutcomeInfo> {
        let hash = Hash::from_hex(&tx_hash)
            .ok_or_else(|| invalid_param("tx_hash", "not 64 hex digits"))?;
        let (_, view) = self.view()?;
        let o = civitas_ledger::Executor::sealed_outcome(&view, &hash)
            .map_err(internal)?
            .ok_or_else(|| {
                not_found(
                    format!("transaction {tx_hash} is no committed sealed call"),
                    "unknown_sealed_call",
                )
            })?;
        Ok(SealedOutcomeInfo {
            height: o.height,
            status: if o.output_hash.is_some() {
                "attested"
            } else {
                "pending"
            }
            .into(),
            output_hash: o.output_hash.map(|h| to_hex(&h.0)),
            attested_at: o.attested_at,
            attestations: o.attestations,
            disputed: o.disputed,
        })
    }

    async fn put_sealed_records(&self, envelope: String) -> RpcResult<Vec<String>> {
        let secret = self.chain.committee_transport_secret().ok_or_else(|| {
            unauthorized(
                "this node is not in the sealed-compute committee: it takes no forwarded records",
                "not_committee_node",
            )
        })?;
        let bytes = from_hex(&envelope).map_err(|e| invalid_param("envelope", e))?;
        let env = civitas_primitives::vault::Envelope::decode_all(&mut &bytes[..])
            .map_err(|_| invalid_param("envelope", "not a SCALE-encoded envelope"))?;
        let plain = civitas_primitives::crypto::open_sealed(&secret, &env).ok_or_else(|| {
            invalid_param("envelope", "does not open with the committee transport key")
        })?;
        let records = Vec::<String>::decode_all(&mut &plain[..])
            .map_err(|_| invalid_param("envelope", "does not hold a list of records"))?;
        self.put_records(records).await
    }

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
            check_payload(&ds.fields, &r.payload).map_err(|e| {
                invalid_param(
                    &name,
                    format!("payload does not match the schema of `{}`: {e}", r.dataset),
                )
            })?;
            parsed.push(r);
        }
        // The custodians' signatures, verified as one batch (singly only to name a bad one). A
        // batch accepts the signatures the strict check does and, rarely, a crafted one it
        // refuses: such a record is stored in its own custodian's vault, and its commitment,
        // checked strictly on chain, is refused.
        let signed: Vec<_> = parsed
            .iter()
            .map(|r| (r.custodian, r.hash(), r.signature))
            .collect();
        if !verify_hash_batch(&signed) {
            if let Some(i) = signed
                .iter()
                .position(|(who, hash, sig)| !verify_hash(who, hash, sig))
            {
                return Err(invalid_param(
                    &format!("records[{i}]"),
                    "the custodian's signature does not verify over the record hash",
                ));
            }
        }
        let vault = self.vault()?;
        let mut new = Vec::new();
        for (r, hex) in parsed.iter().zip(&records) {
            if !vault.has_record(&r.hash()).map_err(internal)? {
                new.push(hex.clone());
            }
        }
        vault.put_records(&parsed).map_err(internal)?;
        if let Some(relay) = self.chain.relay() {
            relay.records(new).await;
        }
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

    async fn get_latest_versions(
        &self,
        dataset: String,
        subjects: Vec<String>,
    ) -> RpcResult<Vec<u32>> {
        if subjects.len() > MAX_PUT_RECORDS {
            return Err(invalid_param(
                "subjects",
                format!("at most {MAX_PUT_RECORDS} per call"),
            ));
        }
        let (_, view) = self.view()?;
        subjects
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let subject =
                    Hash(hex32(s).map_err(|e| invalid_param(&format!("subjects[{i}]"), e))?);
                Ok(view
                    .records(&subject, &dataset)
                    .map_err(internal)?
                    .last()
                    .map_or(0, |r| r.version))
            })
            .collect()
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
            .check(&request, "vault_fetchDisclosed", now_ms())?;
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
            match vault.record(hash).map_err(internal)? {
                Some(record) => records.push(record),
                None => {
                    return self
                        .served_by_committee(CommitteeRead::Disclosed, &request)
                        .await
                }
            }
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
            .check(&request, "vault_getSealedOutput", now_ms())?;
        let body: SealedFetch = Self::body(&req)?;
        let (_, view) = self.view()?;
        let outcome = civitas_ledger::Executor::sealed_outcome(&view, &body.tx_hash)
            .map_err(internal)?
            .ok_or_else(|| {
                not_found(
                    format!("transaction {} is no committed sealed call", body.tx_hash),
                    "unknown_sealed_call",
                )
            })?;
        if outcome.output_hash.is_none() {
            return Err(not_found(
                format!(
                    "the sealed-compute committee has not attested the result of {} yet; retry after the next blocks",
                    body.tx_hash
                ),
                "sealed_output_pending",
            ));
        }
        let stored = self
            .vault()?
            .sealed_output(&body.tx_hash)
            .map_err(internal)?;
        let Some(stored) = stored else {
            return self
                .served_by_committee(CommitteeRead::SealedOutput, &request)
                .await;
        };
        let subject = view.subject_of(&req.signer).map_err(internal)?;
        // The institution always; a citizen only for a call that declared her records alone.
        // Every other requester, including a citizen of a multi-subject call, gets the same
        // refusal, so it does not tell a citizen that others were declared.
        if !stored.may_be_read_by(&req.signer, subject) {
            return Err(unauthorized(
                "only the institution that made the sealed call, or the citizen of a single-subject call, may see its result",
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

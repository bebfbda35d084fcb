//! `audit_*`: audit trails by subject and by institution, each entry with its proof.

use civitas_ledger::state::keys;
use civitas_primitives::clock::now_ms;
use civitas_primitives::tx::Role;
use civitas_primitives::vault::{InstitutionAuditQuery, SubjectAuditQuery};
use civitas_primitives::Hash;
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};

use super::internal;
use super::private::{unauthorized, PrivateApi, MAX_AUDIT_PAGE};

#[async_trait]
impl AuditApiServer for PrivateApi {
    async fn list_by_subject(&self, request: String) -> RpcResult<AuditPage> {
        let req = self
            .guard
            .check(&request, "audit_listBySubject", now_ms())?;
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
            .check(&request, "audit_listByInstitution", now_ms())?;
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

//! Wire forms of ledger records that both sides build: the node serves them, and a client
//! rebuilds them from the proven state value to check that the served fields match it.
use civitas_primitives::vault::{AuditEntry, ConsentArtefact, ConsentMode};

use crate::{to_hex, AuditEntryInfo, ConsentInfo};

fn opt_hex(h: Option<&[u8]>) -> Option<String> {
    h.map(to_hex)
}

/// The JSON form of an audit entry with its proof.
pub fn audit_info(e: &AuditEntry, key: &[u8], value: &[u8], proof: &[u8]) -> AuditEntryInfo {
    AuditEntryInfo {
        seq: e.seq,
        subject: to_hex(&e.subject.0),
        accessor: to_hex(&e.accessor.0),
        contract: opt_hex(e.contract.as_ref().map(|c| &c.0[..])),
        code_hash: opt_hex(e.code_hash.as_ref().map(|c| &c.0[..])),
        dataset: e.dataset.clone(),
        purpose: e.purpose.clone(),
        consent: e.consent,
        uses_left: e.uses_left,
        kind: e.kind.name().into(),
        outcome: e.outcome.label(),
        tx_hash: to_hex(&e.tx_hash.0),
        height: e.height,
        time_ms: e.time_ms,
        key: to_hex(key),
        value: to_hex(value),
        proof: to_hex(proof),
    }
}

/// The JSON form of a consent at block time `now_ms`.
pub fn consent_info(c: &ConsentArtefact, now_ms: u64) -> ConsentInfo {
    ConsentInfo {
        id: c.id,
        grantee: to_hex(&c.grantee.0),
        subject: to_hex(&c.request.subject.0),
        datasets: c.request.datasets.clone(),
        purpose: c.request.purpose.clone(),
        mode: match c.request.mode {
            ConsentMode::Compute => "compute".into(),
            ConsentMode::Disclose => "disclose".into(),
        },
        code_hash: c.request.code_hash.map(|h| to_hex(&h.0)),
        expires_ms: c.request.expires_ms,
        max_uses: c.request.max_uses,
        uses: c.uses,
        status: c.status_at(now_ms).name().into(),
        history: c
            .history
            .iter()
            .map(|h| format!("{}@{}", h.status.name(), h.height))
            .collect(),
        proof: None,
    }
}

//! Disclosures: an institution uses a disclose-mode consent to obtain a subject's records,
//! paying the custodians; granted or refused, every dataset named goes on the audit trail.
use civitas_primitives::vault::{AccessOutcome, ConsentArtefact, ConsentMode, RefusalReason};

use super::apply::{CallResult, TxCtx};
use super::{fuel, ExecError};
use crate::access::{AuditContext, Disclosure};
use crate::state::keys;

/// Uses a disclose-mode consent. A refusal fails the transaction but stays on the trail.
pub(super) fn disclose(t: TxCtx<'_>, consent_id: u64) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::DISCLOSE) {
        return Ok(r);
    }
    let (view, ctx) = (t.view, t.block);
    let signer = t.signer();
    let tx_hash = t.tx_hash;
    let Some(mut c) = view.consent(consent_id)? else {
        return Ok(CallResult::fail(
            fuel::DISCLOSE,
            "consent_not_found",
            format!("no consent {consent_id}"),
        ));
    };
    let audit = AuditContext::disclosure(signer, tx_hash, ctx);
    let refuse = |c: &ConsentArtefact, reason: RefusalReason| {
        let mut r = CallResult::fail(
            fuel::DISCLOSE,
            reason.code(),
            format!("disclosure refused: {}", reason.code()),
        );
        r.audit = audit.entries_for_consent(c, AccessOutcome::Refused(reason));
        r
    };
    if c.grantee != signer {
        return Ok(refuse(&c, RefusalReason::NoConsent));
    }
    if c.request.mode != ConsentMode::Disclose {
        return Ok(refuse(&c, RefusalReason::WrongMode));
    }
    if let Some(reason) = RefusalReason::for_status(c.status_at(ctx.time_ms)) {
        return Ok(refuse(&c, reason));
    }
    let mut records = Vec::new();
    let mut price: u128 = 0;
    let mut custodians = Vec::new();
    for d in &c.request.datasets {
        let Some(ds) = view.dataset(d)? else {
            return Ok(refuse(&c, RefusalReason::UnknownDataset));
        };
        let Some(r) = view.records(&c.request.subject, d)?.pop() else {
            return Ok(refuse(&c, RefusalReason::NoRecord));
        };
        records.push((d.clone(), r.version, r.record_hash));
        price = price.saturating_add(ds.price);
        custodians.push((ds.custodian, ds.price));
    }
    if view.account(&signer)?.balance < price {
        return Ok(refuse(&c, RefusalReason::InsufficientCredits));
    }
    for (custodian, p) in custodians {
        if !view.move_credits(&signer, &custodian, p)? {
            // The failed receipt drops the transfers made so far.
            return Ok(refuse(&c, RefusalReason::InsufficientCredits));
        }
    }
    c.uses += 1;
    view.put_encoded(keys::consent(c.id), &c)?;
    view.put_encoded(
        keys::disclosure(&tx_hash),
        &Disclosure {
            consent: c.id,
            grantee: signer,
            subject: c.request.subject,
            records,
            height: ctx.height,
        },
    )?;
    let mut result = CallResult::ok(fuel::DISCLOSE);
    result.audit = audit.entries_for_consent(&c, AccessOutcome::Granted);
    Ok(result)
}

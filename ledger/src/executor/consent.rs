//! Consent requests filed by institutions and the subjects' decisions on them.
use std::collections::BTreeSet;

use civitas_primitives::vault::{
    ConsentAction, ConsentArtefact, ConsentChange, ConsentMode, ConsentRequest, ConsentStatus,
};

use super::apply::{CallResult, TxCtx};
use super::{fuel, ExecError};
use crate::state::keys;

/// Files a pending consent request; the output is its id.
pub(super) fn request(t: TxCtx<'_>, request: &ConsentRequest) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::REGISTRY) {
        return Ok(r);
    }
    let view = t.view;
    let ctx = t.block;
    let fail = |code: &str, msg: String| Ok(CallResult::fail(fuel::REGISTRY, code, msg));
    if request.datasets.is_empty() {
        return fail(
            "bad_request",
            "a consent request names at least one dataset".into(),
        );
    }
    let mut seen = BTreeSet::new();
    for d in &request.datasets {
        if !seen.insert(d.as_str()) {
            return fail("bad_request", format!("dataset `{d}` is named twice"));
        }
        if view.dataset(d)?.is_none() {
            return fail("unknown_dataset", format!("no dataset `{d}`"));
        }
    }
    match (request.mode, request.code_hash) {
        (ConsentMode::Compute, None) => {
            return fail(
                "bad_request",
                "a compute consent names the contract code hash".into(),
            )
        }
        (ConsentMode::Disclose, Some(_)) => {
            return fail(
                "bad_request",
                "a disclose consent names no contract code".into(),
            )
        }
        _ => {}
    }
    if request.expires_ms <= ctx.time_ms {
        return fail("bad_request", "the expiry is not in the future".into());
    }
    if request.max_uses == 0 {
        return fail("bad_request", "max uses must be at least 1".into());
    }
    let id: u64 = view.get_decoded(keys::NEXT_CONSENT)?.unwrap_or(1);
    view.put_encoded(keys::NEXT_CONSENT.to_vec(), &(id + 1))?;
    let artefact = ConsentArtefact {
        id,
        grantee: t.signer(),
        request: request.clone(),
        uses: 0,
        status: ConsentStatus::Pending,
        history: vec![ConsentChange {
            status: ConsentStatus::Pending,
            height: ctx.height,
            time_ms: ctx.time_ms,
        }],
    };
    view.put_encoded(keys::consent(id), &artefact)?;
    for list in [
        keys::consents_of_subject(&request.subject),
        keys::consents_of_grantee(&t.signer()),
    ] {
        let mut ids = view.id_list(&list)?;
        ids.push(id);
        view.put_encoded(list, &ids)?;
    }
    Ok(CallResult {
        output: id.to_le_bytes().to_vec(),
        ..CallResult::ok(fuel::REGISTRY)
    })
}

/// The subject (from her bound wallet) moves a consent along its lifecycle.
pub(super) fn answer(
    t: TxCtx<'_>,
    id: u64,
    action: ConsentAction,
) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::REGISTRY) {
        return Ok(r);
    }
    let view = t.view;
    let ctx = t.block;
    let fail = |code: &str, msg: String| Ok(CallResult::fail(fuel::REGISTRY, code, msg));
    let Some(mut c) = view.consent(id)? else {
        return fail("consent_not_found", format!("no consent {id}"));
    };
    if view.identity(&c.request.subject)? != Some(t.signer()) {
        return fail(
            "not_subject",
            "only the citizen the consent is about may answer it (from her bound wallet key)"
                .into(),
        );
    }
    let now = c.status_at(ctx.time_ms);
    use ConsentAction as A;
    use ConsentStatus as S;
    let next = match (action, now) {
        (A::Approve, S::Pending) => S::Active,
        (A::Reject, S::Pending) => S::Rejected,
        (A::Pause, S::Active) => S::Paused,
        (A::Resume, S::Paused) => S::Active,
        (A::Revoke, S::Pending | S::Active | S::Paused | S::Exhausted) => S::Revoked,
        _ => {
            return fail(
                "bad_transition",
                format!("cannot {} a consent that is {}", action.name(), now.name()),
            )
        }
    };
    c.status = next;
    c.history.push(ConsentChange {
        status: next,
        height: ctx.height,
        time_ms: ctx.time_ms,
    });
    view.put_encoded(keys::consent(id), &c)?;
    Ok(CallResult::ok(fuel::REGISTRY))
}

//! The sealed-compute committee's attestations: each member's output hash of a committed
//! sealed call is kept in state; once a threshold of members attested the same hash it becomes
//! the call's public output, and members attesting different hashes mark the call disputed.
use civitas_primitives::block::EventRecord;
use civitas_primitives::committee::{SealedAttestation, SealedCommittee, SealedOutcome};
use civitas_primitives::{AccountId, Hash};
use civitas_runtime::StateError;
use parity_scale_codec::Encode;

use super::apply::{CallResult, TxCtx};
use super::{fuel, ExecError, Executor};
use crate::state::{keys, StateView};

impl Executor {
    /// The sealed-compute committee in `view`'s state (a chain without one has an empty
    /// committee, so no attestation is accepted).
    pub fn committee(view: &StateView) -> Result<SealedCommittee, StateError> {
        Ok(view
            .get_decoded(keys::COMMITTEE)?
            .unwrap_or(SealedCommittee {
                members: Vec::new(),
                threshold: 1,
            }))
    }

    /// Where sealed call `tx_hash` stands, if it is one.
    pub fn sealed_outcome(
        view: &StateView,
        tx_hash: &Hash,
    ) -> Result<Option<SealedOutcome>, StateError> {
        view.get_decoded(&keys::sealed_outcome(tx_hash))
    }
}

/// Records a member's attestations (already checked on admission: member, committed call,
/// delay passed, not repeated), finalising each output a threshold agrees on.
pub(super) fn attest(
    t: TxCtx<'_>,
    attestations: &[SealedAttestation],
) -> Result<CallResult, ExecError> {
    let cost = fuel::ATTESTATION.saturating_mul(attestations.len() as u64);
    if let Some(r) = t.over_limit(cost) {
        return Ok(r);
    }
    let view = t.view;
    let committee = Executor::committee(view)?;
    let member = t.signer();
    let mut result = CallResult::ok(cost);
    for a in attestations {
        let key = keys::sealed_outcome(&a.call);
        let Some(mut outcome) = view.get_decoded::<SealedOutcome>(&key)? else {
            continue;
        };
        view.put_encoded(keys::sealed_attestation(&a.call, &member), &a.output_hash)?;
        outcome.attestations += 1;
        let (agreeing, differing) = tally(view, &committee, &a.call, &a.output_hash)?;
        if differing > 0 && !outcome.disputed {
            outcome.disputed = true;
            tracing::warn!(call = %a.call, "committee members attested different outputs of a sealed call");
            result.events.push(event(b"SealedOutputDisputed", &a.call));
        }
        if outcome.output_hash.is_none() && agreeing >= committee.threshold {
            outcome.output_hash = Some(a.output_hash);
            outcome.attested_at = Some(t.block.height);
            result.events.push(event(b"SealedOutputAttested", &a.call));
        }
        view.put_encoded(key, &outcome)?;
    }
    Ok(result)
}

/// Members that attested `output_hash` for `call`, and members that attested another value.
fn tally(
    view: &StateView,
    committee: &SealedCommittee,
    call: &Hash,
    output_hash: &Hash,
) -> Result<(u32, u32), StateError> {
    let (mut agreeing, mut differing) = (0, 0);
    for m in &committee.members {
        match view.get_decoded::<Hash>(&keys::sealed_attestation(call, m))? {
            Some(h) if h == *output_hash => agreeing += 1,
            Some(_) => differing += 1,
            None => {}
        }
    }
    Ok((agreeing, differing))
}

fn event(topic: &[u8], call: &Hash) -> EventRecord {
    EventRecord {
        contract: AccountId::default(),
        topic: topic.to_vec(),
        data: call.encode(),
    }
}

//! Governance: proposals and approvals, their actions (roles, deploy policy, threshold) and
//! the validator schedule they change.
use civitas_primitives::block::{validators_hash, EventRecord};
use civitas_primitives::tx::{GovernanceAction, Role};
use civitas_primitives::{AccountId, Hash};
use civitas_runtime::StateError;

use super::apply::{CallResult, TxCtx};
use super::{fuel, ExecError, Executor};
use crate::state::{keys, DeployPolicy, Proposal, StateView};

impl Executor {
    /// The validator schedule: (activation height, sorted set), oldest first.
    fn validator_schedule(view: &StateView) -> Result<Vec<(u64, Vec<AccountId>)>, StateError> {
        Ok(view.get_decoded(keys::VALIDATORS)?.unwrap_or_default())
    }

    /// The newest validator set, including a change that is not active yet.
    pub fn validators(view: &StateView) -> Result<Vec<AccountId>, StateError> {
        Ok(Self::validator_schedule(view)?
            .pop()
            .map(|(_, set)| set)
            .unwrap_or_default())
    }

    /// The validators who decide block `height`: a pure function of committed state. A change
    /// committed in block `h` takes effect at `h + 2`.
    pub fn validator_set_at(view: &StateView, height: u64) -> Result<Vec<AccountId>, StateError> {
        Ok(Self::validator_set_since(view, height)?.1)
    }

    /// The hashes a header of `height` commits to: the validator sets of `height` and of
    /// `height + 1`, both fixed by the state before the block (a change takes effect two
    /// blocks after it commits).
    pub(super) fn validator_hashes(
        view: &StateView,
        height: u64,
    ) -> Result<(Hash, Hash), StateError> {
        Ok((
            validators_hash(&Self::validator_set_at(view, height)?),
            validators_hash(&Self::validator_set_at(view, height + 1)?),
        ))
    }

    /// The validator set that decides `height` and the height from which it does.
    pub fn validator_set_since(
        view: &StateView,
        height: u64,
    ) -> Result<(u64, Vec<AccountId>), StateError> {
        Ok(Self::validator_schedule(view)?
            .into_iter()
            .rev()
            .find(|(activation, _)| *activation <= height)
            .unwrap_or_default())
    }

    /// Schedules `set` to take effect two blocks after `height`, dropping entries no longer
    /// needed to answer for heights from `height` on.
    fn schedule_validators(
        view: &StateView,
        height: u64,
        set: Vec<AccountId>,
    ) -> Result<(), StateError> {
        let activation = height + 2;
        let mut schedule = Self::validator_schedule(view)?;
        schedule.retain(|(a, _)| *a != activation);
        schedule.push((activation, set));
        schedule.sort_by_key(|(a, _)| *a);
        while schedule.len() > 1 && schedule[1].0 <= height {
            schedule.remove(0);
        }
        view.put_encoded(keys::VALIDATORS.to_vec(), &schedule)
    }
}

/// Files a proposal (the proposer approves it); the output is its id.
pub(super) fn propose(t: TxCtx<'_>, action: &GovernanceAction) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::GOVERNANCE) {
        return Ok(r);
    }
    let view = t.view;
    if let Some(refused) = refuse_action(view, action)? {
        return Ok(refused);
    }
    let id: u64 = view.get_decoded(keys::NEXT_PROPOSAL)?.unwrap_or(1);
    view.put_encoded(keys::NEXT_PROPOSAL.to_vec(), &(id + 1))?;
    let proposal = Proposal {
        id,
        action: action.clone(),
        proposer: t.signer(),
        approvals: vec![t.signer()],
        executed: false,
    };
    let mut result = settle_proposal(view, t.block.height, proposal)?;
    result.output = id.to_le_bytes().to_vec();
    Ok(result)
}

/// Adds the signer's approval to a pending proposal.
pub(super) fn approve(t: TxCtx<'_>, proposal: u64) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::GOVERNANCE) {
        return Ok(r);
    }
    let Some(mut p) = t.view.get_decoded::<Proposal>(&keys::proposal(proposal))? else {
        return Ok(CallResult::fail(
            fuel::GOVERNANCE,
            "proposal_not_found",
            format!("no proposal {proposal}"),
        ));
    };
    if p.executed {
        return Ok(CallResult::fail(
            fuel::GOVERNANCE,
            "proposal_executed",
            "the proposal has already taken effect",
        ));
    }
    if p.approvals.contains(&t.signer()) {
        return Ok(CallResult::fail(
            fuel::GOVERNANCE,
            "already_approved",
            "this department already approved",
        ));
    }
    p.approvals.push(t.signer());
    settle_proposal(t.view, t.block.height, p)
}

/// The failed result for an action that cannot take effect in the current state: a
/// threshold of 0, or above the number of validators (no set of approvals could reach it,
/// and governance would be locked for good). `None` if the action is acceptable.
fn refuse_action(
    view: &StateView,
    action: &GovernanceAction,
) -> Result<Option<CallResult>, ExecError> {
    if let GovernanceAction::SetSealedCommittee { committee } = action {
        let validators = Executor::validators(view)?;
        let problem = committee.problem().map(String::from).or_else(|| {
            committee
                .members
                .iter()
                .find(|m| !validators.contains(m))
                .map(|m| format!("committee member {m} is not a validator"))
        });
        if let Some(problem) = problem {
            return Ok(Some(CallResult::fail(
                fuel::GOVERNANCE,
                "invalid_committee",
                problem,
            )));
        }
    }
    if let GovernanceAction::SetThreshold { threshold } = action {
        let validators = Executor::validators(view)?.len();
        if *threshold == 0 || *threshold as usize > validators {
            return Ok(Some(CallResult::fail(
                fuel::GOVERNANCE,
                "invalid_threshold",
                format!(
                    "the threshold must be between 1 and the number of validators ({validators}), not {threshold}"
                ),
            )));
        }
    }
    Ok(None)
}

/// Stores a proposal, executing it once it has enough approvals from current validators.
fn settle_proposal(
    view: &StateView,
    height: u64,
    mut p: Proposal,
) -> Result<CallResult, ExecError> {
    let threshold: u32 = view.get_decoded(keys::THRESHOLD)?.unwrap_or(1);
    let mut valid = 0u32;
    for a in &p.approvals {
        if view.account(a)?.roles.has(Role::Validator) {
            valid += 1;
        }
    }
    let mut result = CallResult::ok(fuel::GOVERNANCE);
    if valid >= threshold {
        match &p.action {
            GovernanceAction::GrantRole { account, role } => {
                let mut info = view.account(account)?;
                info.roles = info.roles.with(*role);
                view.set_account(account, &info)?;
                if *role == Role::Validator {
                    let mut set = Executor::validators(view)?;
                    if !set.contains(account) {
                        set.push(*account);
                        set.sort();
                    }
                    Executor::schedule_validators(view, height, set)?;
                }
            }
            GovernanceAction::RevokeRole { account, role } => {
                let mut info = view.account(account)?;
                info.roles = info.roles.without(*role);
                view.set_account(account, &info)?;
                if *role == Role::Validator {
                    let mut set = Executor::validators(view)?;
                    set.retain(|v| v != account);
                    Executor::schedule_validators(view, height, set)?;
                }
            }
            GovernanceAction::SetDeployPolicy {
                upload,
                instantiate,
            } => {
                view.put_encoded(
                    keys::DEPLOY_POLICY.to_vec(),
                    &DeployPolicy {
                        upload: *upload,
                        instantiate: *instantiate,
                    },
                )?;
            }
            GovernanceAction::SetThreshold { threshold } => {
                // The validator set may have shrunk since the proposal was filed.
                if let Some(refused) = refuse_action(view, &p.action)? {
                    return Ok(refused);
                }
                view.put_encoded(keys::THRESHOLD.to_vec(), threshold)?;
            }
            GovernanceAction::SetSealedCommittee { committee } => {
                // The validator set may have changed since the proposal was filed.
                if let Some(refused) = refuse_action(view, &p.action)? {
                    return Ok(refused);
                }
                view.put_encoded(keys::COMMITTEE.to_vec(), committee)?;
            }
            GovernanceAction::SetFuelPrice {
                credits_per_million_fuel,
            } => {
                view.put_encoded(keys::FUEL_PRICE.to_vec(), credits_per_million_fuel)?;
            }
        }
        p.executed = true;
        result.events.push(EventRecord {
            contract: AccountId::default(),
            topic: b"ProposalExecuted".to_vec(),
            data: parity_scale_codec::Encode::encode(&p.id),
        });
    }
    view.put_encoded(keys::proposal(p.id), &p)?;
    Ok(result)
}

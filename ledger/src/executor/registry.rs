//! The registries: identity bindings, datasets, record commitments and regulators' code
//! approvals.
use std::collections::BTreeSet;

use civitas_primitives::vault::{Dataset, Field, SubjectId};
use civitas_primitives::{AccountId, Hash};

use super::apply::{CallResult, TxCtx};
use super::{fuel, ExecError};
use crate::access::{CodeApproval, StoredRecord};
use crate::state::keys;

/// Binds a subject to a wallet account (replacing the subject's previous binding).
pub(super) fn bind_identity(
    t: TxCtx<'_>,
    subject: &SubjectId,
    account: &AccountId,
) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::REGISTRY) {
        return Ok(r);
    }
    let view = t.view;
    if let Some(old) = view.identity(subject)? {
        view.put(keys::identity_of(&old), None)?;
    }
    if let Some(previous) = view.subject_of(account)? {
        if previous != *subject {
            return Ok(CallResult::fail(
                fuel::REGISTRY,
                "account_bound",
                format!("account {account} is already bound to another subject"),
            ));
        }
    }
    view.put_encoded(keys::identity(subject), account)?;
    view.put_encoded(keys::identity_of(account), subject)?;
    Ok(CallResult::ok(fuel::REGISTRY))
}

/// Registers a dataset held by the signer.
pub(super) fn register_dataset(
    t: TxCtx<'_>,
    id: &str,
    fields: &[Field],
    price: u128,
) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::REGISTRY) {
        return Ok(r);
    }
    let view = t.view;
    if view.dataset(id)?.is_some() {
        return Ok(CallResult::fail(
            fuel::REGISTRY,
            "dataset_exists",
            format!("dataset `{id}` is already registered"),
        ));
    }
    let mut names = BTreeSet::new();
    if fields.is_empty() || !fields.iter().all(|f| names.insert(f.name.as_str())) {
        return Ok(CallResult::fail(
            fuel::REGISTRY,
            "bad_schema",
            "a dataset needs at least one field and unique field names",
        ));
    }
    view.put_dataset(&Dataset {
        id: id.to_string(),
        custodian: t.signer(),
        fields: fields.to_vec(),
        price,
    })?;
    Ok(CallResult::ok(fuel::REGISTRY))
}

/// Commits the next version of a subject's record in a dataset the signer holds, paying the
/// record reward.
pub(super) fn commit_record(
    t: TxCtx<'_>,
    subject: &SubjectId,
    dataset: &str,
    version: u32,
    record_hash: &Hash,
    signature: &[u8; 64],
) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::RECORD) {
        return Ok(r);
    }
    let view = t.view;
    let signer = t.signer();
    let fail = |code: &str, msg: String| Ok(CallResult::fail(fuel::RECORD, code, msg));
    let Some(ds) = view.dataset(dataset)? else {
        return fail("unknown_dataset", format!("no dataset `{dataset}`"));
    };
    if ds.custodian != signer {
        return fail(
            "not_custodian",
            format!("dataset `{dataset}` is held by {}", ds.custodian),
        );
    }
    let mut versions = view.records(subject, dataset)?;
    let expected = versions.last().map_or(1, |r| r.version + 1);
    if version != expected {
        return fail(
            "bad_version",
            format!("the next version of this record is {expected}, not {version}"),
        );
    }
    if !civitas_primitives::crypto::verify_hash(&signer, record_hash, signature) {
        return fail(
            "bad_record_signature",
            "the record signature does not verify for the custodian".into(),
        );
    }
    versions.push(StoredRecord {
        version,
        record_hash: *record_hash,
        custodian: signer,
        signature: *signature,
        height: t.block.height,
    });
    view.put_encoded(keys::records(subject, dataset), &versions)?;
    let reward: u128 = view.get_decoded(keys::RECORD_REWARD)?.unwrap_or(0);
    let mut me = view.account(&signer)?;
    me.balance = me.balance.saturating_add(reward);
    view.set_account(&signer, &me)?;
    Ok(CallResult::ok(fuel::RECORD))
}

/// A regulator approves (or withdraws approval of) stored code for sealed reads.
pub(super) fn approve_code(
    t: TxCtx<'_>,
    code_hash: &Hash,
    approved: bool,
) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::REGISTRY) {
        return Ok(r);
    }
    if t.view.get(&keys::code(code_hash))?.is_none() {
        return Ok(CallResult::fail(
            fuel::REGISTRY,
            "code_not_found",
            format!("no code stored under {code_hash}"),
        ));
    }
    t.view.put_encoded(
        keys::code_approval(code_hash),
        &CodeApproval {
            approved,
            regulator: t.signer(),
            height: t.block.height,
        },
    )?;
    Ok(CallResult::ok(fuel::REGISTRY))
}

//! Sealed calls: the declared reads are decided (charged, counted, audited) before the
//! contract runs; the contract then reads the granted records through the vault, and only a
//! salted commitment to its padded result becomes public.
use std::sync::Arc;

use civitas_primitives::vault::DeclaredRead;
use civitas_primitives::vault::{
    sealed_output_hash, sealed_output_salt, SealedResult, SEALED_OUTPUT_MAX,
};
use civitas_primitives::AccountId;
use civitas_runtime::{CallRequest, Entry, StateError, VmError};

use super::apply::{CallResult, TxCtx};
use super::{ExecError, Executor};
use crate::access::{grant_declared_reads, AuditContext, GrantedSource};
use crate::state::{keys, ContractInfo};
use crate::vault::StoredSealedOutput;

impl Executor {
    /// Runs a sealed call. Its declared reads are decided first (their charges, consent uses
    /// and audit entries are the call's only public effects); whatever happens inside the
    /// contract, the public result is uniform; the real result is padded, committed to by a
    /// salted hash, and kept for the institution and the subject of a single-subject
    /// declaration (see `StoredSealedOutput::may_be_read_by`).
    pub(super) fn sealed_call(
        &self,
        t: TxCtx<'_>,
        contract: AccountId,
        input: &[u8],
        reads: &[DeclaredRead],
    ) -> Result<CallResult, ExecError> {
        let (view, ctx, tx) = (t.view, t.block, t.tx());
        let tx_hash = t.stx.hash();
        let mut audit = Vec::new();
        let result = match view.get_decoded::<ContractInfo>(&keys::contract(&contract))? {
            None => SealedResult {
                ok: false,
                output: Vec::new(),
                error_code: "contract_not_found".into(),
            },
            Some(info) => {
                let context =
                    AuditContext::sealed_read(tx.signer, contract, info.code_hash, tx_hash, ctx);
                let (grants, entries) = grant_declared_reads(
                    view,
                    &context,
                    &tx.signer,
                    &info.code_hash,
                    reads,
                    ctx.time_ms,
                )?;
                audit = entries;
                let source =
                    GrantedSource::new(self.vault.clone(), contract, info.code_hash, grants);
                let outcome = self.vm.execute_sealed(
                    Arc::new(view.clone()),
                    Arc::new(source),
                    ctx,
                    CallRequest {
                        code_hash: info.code_hash,
                        contract,
                        caller: tx.signer,
                        input: input.to_vec(),
                        fuel_limit: tx.fuel_limit,
                        entry: Entry::Call,
                        read_only: true,
                    },
                );
                match outcome {
                    Ok(out) => SealedResult {
                        ok: true,
                        output: out.output,
                        error_code: String::new(),
                    },
                    Err(e) if e.error.is_node_failure() => return Err(ExecError::from_vm(e.error)),
                    Err(e) => private_failure(e.error),
                }
            }
        };
        let subjects: std::collections::BTreeSet<_> = reads.iter().map(|r| r.subject).collect();
        let sealing_key = self.sealing_key.ok_or_else(|| {
            ExecError::State(StateError::Backend(
                "this node holds no chain sealing key: it cannot execute sealed calls".into(),
            ))
        })?;
        let salt = sealed_output_salt(&sealing_key, &tx_hash);
        let padded = result.padded();
        let output_hash = sealed_output_hash(&salt, &padded);
        Ok(CallResult {
            audit,
            sealed: Some((
                output_hash,
                StoredSealedOutput {
                    institution: tx.signer,
                    subjects: subjects.into_iter().collect(),
                    salt,
                    padded,
                },
            )),
            ..CallResult::ok(tx.fuel_limit)
        })
    }
}

/// A failed sealed call's private result. Revert data shares the return value's channel and
/// cap; a larger revert is reported by its code alone.
fn private_failure(error: VmError) -> SealedResult {
    match error {
        VmError::Reverted { message } if message.len() <= SEALED_OUTPUT_MAX => SealedResult {
            ok: false,
            output: message,
            error_code: "reverted".into(),
        },
        VmError::Reverted { .. } => SealedResult {
            ok: false,
            output: Vec::new(),
            error_code: "sealed_output_too_large".into(),
        },
        other => SealedResult {
            ok: false,
            output: Vec::new(),
            error_code: other.code(),
        },
    }
}

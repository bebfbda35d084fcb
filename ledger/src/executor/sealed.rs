//! Sealed calls. In a block, only the declared reads are decided (charged, counted, audited):
//! every validator can do that from public state and the declaration, without any payload, so
//! consensus never waits for data. The call itself is kept as a job under a private key; the
//! sealed-compute committee runs it after its block commits ([`Executor::run_sealed_job`])
//! and attests the salted hash of its padded result (see `attestation`).
use std::sync::Arc;

use civitas_primitives::committee::SealedOutcome;
use civitas_primitives::vault::DeclaredRead;
use civitas_primitives::vault::{
    sealed_output_hash, sealed_output_salt, SealedResult, SEALED_OUTPUT_MAX,
};
use civitas_primitives::{AccountId, Hash};
use civitas_runtime::{BlockContext, CallRequest, Entry, StateError, VmError};
use parity_scale_codec::{Decode, Encode};

use super::apply::{CallResult, TxCtx};
use super::{ExecError, Executor};
use crate::access::{
    grant_declared_reads, AuditContext, DecryptedRecords, GrantedSource, SealedGrants,
};
use crate::state::{keys, ContractInfo, StateView};
use crate::vault::StoredSealedOutput;

/// What the committee needs to run a committed sealed call: everything was decided in its
/// block, so every member runs the same call over the same records and the same state.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct SealedJob {
    /// The institution that made the call.
    pub institution: AccountId,
    /// The contract.
    pub contract: AccountId,
    /// Its code when the call was made (`None`: no such contract).
    pub code_hash: Option<Hash>,
    /// Selector + arguments.
    pub input: Vec<u8>,
    /// Fuel limit of the call.
    pub fuel_limit: u64,
    /// The granted reads and the record hash each may read.
    pub grants: Vec<(DeclaredRead, Hash)>,
    /// Citizens whose records the call declared (who may fetch a single-subject result).
    pub subjects: Vec<Hash>,
}

/// The committed height whose sealed jobs ran last, with what its jobs share.
pub(super) type JobContext = Arc<std::sync::Mutex<Option<(u64, KeptJobContext)>>>;

/// What one committed block's sealed jobs share: its block context, one view of the state it
/// left, and the payloads decrypted for its jobs.
#[derive(Clone)]
pub(super) struct KeptJobContext {
    /// `None`: no block is stored at that height.
    block: Option<BlockContext>,
    view: StateView,
    decrypted: DecryptedRecords,
}

impl Executor {
    /// Applies a sealed call in its block: decides its declared reads (their charges, consent
    /// uses and audit entries are the call's only public effects), records its result as
    /// pending, and keeps the job for the committee. The receipt is the same whatever the data.
    pub(super) fn sealed_call(
        &self,
        t: TxCtx<'_>,
        contract: AccountId,
        input: &[u8],
        reads: &[DeclaredRead],
    ) -> Result<CallResult, ExecError> {
        let (view, ctx, tx) = (t.view, t.block, t.tx());
        let tx_hash = t.tx_hash;
        let info = view.get_decoded::<ContractInfo>(&keys::contract(&contract))?;
        let (grants, audit) = match &info {
            None => (SealedGrants::new(), Vec::new()),
            Some(info) => {
                let context =
                    AuditContext::sealed_read(tx.signer, contract, info.code_hash, tx_hash, ctx);
                grant_declared_reads(
                    view,
                    &context,
                    &tx.signer,
                    &info.code_hash,
                    reads,
                    ctx.time_ms,
                )?
            }
        };
        let subjects: std::collections::BTreeSet<_> = reads.iter().map(|r| r.subject).collect();
        let job = SealedJob {
            institution: tx.signer,
            contract,
            code_hash: info.map(|i| i.code_hash),
            input: input.to_vec(),
            fuel_limit: tx.fuel_limit,
            grants: grants.into_iter().collect(),
            subjects: subjects.into_iter().collect(),
        };
        view.put_encoded(keys::sealed_job(&tx_hash), &job)?;
        view.put_encoded(
            keys::sealed_outcome(&tx_hash),
            &SealedOutcome {
                height: ctx.height,
                output_hash: None,
                attested_at: None,
                attestations: 0,
                disputed: false,
            },
        )?;
        Ok(CallResult {
            audit,
            sealed: true,
            ..CallResult::ok(tx.fuel_limit)
        })
    }

    /// The job of committed sealed call `tx_hash`, as block `height` left it.
    pub fn sealed_job(&self, tx_hash: &Hash, height: u64) -> Result<Option<SealedJob>, ExecError> {
        let view = self.job_context_at(height)?.view;
        Ok(view.get_decoded::<SealedJob>(&keys::sealed_job(tx_hash))?)
    }

    /// The block context, the state and the decrypted payloads that committed block
    /// `height`'s sealed jobs share. Kept for the height last asked for, so that a block's
    /// jobs share one read of its header, one view (whose reads are kept: the jobs read the
    /// same contract state) and one decryption of each record: a committed version never
    /// changes, and jobs only read. Asking for another height drops them.
    /// `None` for the block context: no block is stored at that height (nothing is kept then).
    fn job_context_at(&self, height: u64) -> Result<KeptJobContext, ExecError> {
        if let Ok(kept) = self.job_context.lock() {
            if let Some((h, context)) = &*kept {
                if *h == height {
                    return Ok(context.clone());
                }
            }
        }
        let fresh = |block| KeptJobContext {
            block,
            view: self.view_at(height),
            decrypted: DecryptedRecords::default(),
        };
        let Some(block) = self.store.block(height)? else {
            return Ok(fresh(None));
        };
        let context = fresh(Some(BlockContext {
            height,
            time_ms: block.header.time_ms,
        }));
        if let Ok(mut kept) = self.job_context.lock() {
            *kept = Some((height, context.clone()));
        }
        Ok(context)
    }

    /// Runs the committed sealed call `tx_hash` of block `height` over the state as that block
    /// left it and the records its block granted: the work of a committee member, which needs
    /// the vault (the payloads) and the chain sealing key (the salt). The output hash is what
    /// the member attests; the stored output is what the institution (and a single declared
    /// subject) may fetch. `Ok(None)`: that block holds no such sealed call.
    pub fn run_sealed_job(
        &self,
        tx_hash: &Hash,
        height: u64,
    ) -> Result<Option<(Hash, StoredSealedOutput)>, ExecError> {
        let KeptJobContext {
            block: ctx,
            view,
            decrypted,
        } = self.job_context_at(height)?;
        let Some(job) = view.get_decoded::<SealedJob>(&keys::sealed_job(tx_hash))? else {
            return Ok(None);
        };
        let sealing_key = self.sealing_key().ok_or_else(|| {
            ExecError::State(StateError::Backend(
                "this node holds no chain sealing key: it cannot run sealed calls".into(),
            ))
        })?;
        let ctx = ctx.ok_or_else(|| {
            ExecError::State(StateError::Backend(format!("block {height} is not stored")))
        })?;
        let result = match job.code_hash {
            None => SealedResult {
                ok: false,
                output: Vec::new(),
                error_code: "contract_not_found".into(),
            },
            Some(code_hash) => {
                let source = GrantedSource::new(
                    self.vault.clone(),
                    job.contract,
                    code_hash,
                    job.grants.iter().cloned().collect(),
                )
                .sharing(decrypted);
                let outcome = self.vm.execute_sealed(
                    Arc::new(view),
                    Arc::new(source),
                    ctx,
                    CallRequest {
                        code_hash,
                        contract: job.contract,
                        caller: job.institution,
                        input: job.input.clone(),
                        fuel_limit: job.fuel_limit,
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
        let salt = sealed_output_salt(&sealing_key, tx_hash);
        let padded = result.padded();
        let output_hash = sealed_output_hash(&salt, &padded);
        Ok(Some((
            output_hash,
            StoredSealedOutput {
                institution: job.institution,
                subjects: job.subjects,
                salt,
                padded,
            },
        )))
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

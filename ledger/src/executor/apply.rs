//! Applying one checked transaction: the nonce, the dispatch to its call family, the audit
//! entries that outlive a failed call, and the receipt.
use std::sync::Arc;

use civitas_primitives::block::{EventRecord, Receipt, ReceiptError, ReceiptStatus};
use civitas_primitives::tx::{Call, SignedTransaction, Transaction};
use civitas_primitives::vault::AuditEntry;
use civitas_primitives::{sha3_256, AccountId, Hash};
use civitas_runtime::{BlockContext, CallRequest, VmError};

use super::{ExecError, Executor, TxError};
use crate::state::{keys, StateView};

/// One transaction being applied: the block's view, the block context and the transaction.
#[derive(Clone, Copy)]
pub(super) struct TxCtx<'a> {
    pub view: &'a StateView,
    pub block: BlockContext,
    pub stx: &'a SignedTransaction,
    /// The signed transaction's hash.
    pub tx_hash: Hash,
    /// The call it makes (a private call's opened body).
    pub call: &'a Call,
}

impl<'a> TxCtx<'a> {
    /// The transaction.
    pub fn tx(&self) -> &'a Transaction {
        &self.stx.tx
    }

    /// The signer.
    pub fn signer(&self) -> AccountId {
        self.stx.tx.signer
    }

    /// The failed result of a call whose flat `cost` exceeds the fuel limit, if it does.
    pub fn over_limit(&self, cost: u64) -> Option<CallResult> {
        let limit = self.stx.tx.fuel_limit;
        (cost > limit).then(|| {
            CallResult::fail(
                limit,
                "out_of_fuel",
                format!("needs {cost} fuel; the limit is {limit}"),
            )
        })
    }
}

/// What a call did, before it becomes a receipt.
pub(super) struct CallResult {
    pub fuel_used: u64,
    pub events: Vec<EventRecord>,
    pub output: Vec<u8>,
    pub error: Option<ReceiptError>,
    /// A human explanation of `error`, made by this node: never part of consensus.
    pub diagnostic: Option<String>,
    /// Audit entries that stay even when the call fails (refused disclosures).
    pub audit: Vec<AuditEntry>,
    /// Whether this was a sealed call (its receipt is uniform; the committee computes its
    /// result after the block).
    pub sealed: bool,
}

impl CallResult {
    pub fn ok(fuel_used: u64) -> Self {
        CallResult {
            fuel_used,
            events: Vec::new(),
            output: Vec::new(),
            error: None,
            diagnostic: None,
            audit: Vec::new(),
            sealed: false,
        }
    }

    pub fn fail(fuel_used: u64, code: &str, message: impl Into<String>) -> Self {
        CallResult {
            error: Some(ReceiptError {
                code: code.into(),
                revert_data: Vec::new(),
            }),
            diagnostic: Some(message.into()),
            ..CallResult::ok(fuel_used)
        }
    }

    /// A failed contract call: its code, the contract's revert data when it reverted, and the
    /// VM's description as the diagnostic.
    pub fn vm_failure(fuel_used: u64, e: &VmError) -> Self {
        let revert_data = match e {
            VmError::Reverted { message } => message.clone(),
            _ => Vec::new(),
        };
        CallResult {
            error: Some(ReceiptError {
                code: e.code(),
                revert_data,
            }),
            diagnostic: Some(e.to_string()),
            ..CallResult::ok(fuel_used)
        }
    }
}

impl Executor {
    /// Applies one checked transaction: consumes its nonce, runs its call, and returns the
    /// receipt. A failed call leaves only the nonce change. An error leaves partial writes in
    /// `view`: the caller rolls them back or drops the block.
    pub(super) fn apply(
        &self,
        view: &StateView,
        block: BlockContext,
        stx: &SignedTransaction,
    ) -> Result<(Receipt, Option<String>), ExecError> {
        let tx_hash = stx.hash();
        let applied = self.apply_unhooked(view, block, stx, tx_hash)?;
        #[cfg(feature = "test-hooks")]
        self.hooks.check(&tx_hash)?;
        Ok(applied)
    }

    fn apply_unhooked(
        &self,
        view: &StateView,
        block: BlockContext,
        stx: &SignedTransaction,
        tx_hash: Hash,
    ) -> Result<(Receipt, Option<String>), ExecError> {
        let tx = &stx.tx;
        let price = super::fees::fuel_price(view)?;
        let max_fee = super::fees::fee(tx.fuel_limit, price);
        let mut account = view.account(&tx.signer)?;
        account.nonce += 1;
        // The fee of the whole fuel limit is taken with the nonce; what the call leaves
        // unused comes back after it. The checks before every application refuse a signer
        // who cannot pay.
        account.balance = account
            .balance
            .checked_sub(max_fee)
            .ok_or(ExecError::InvalidTx {
                index: 0,
                error: TxError::CannotPayFees {
                    fuel_limit: tx.fuel_limit,
                    fee: max_fee,
                    balance: account.balance,
                },
            })?;
        view.set_account(&tx.signer, &account)?;
        view.commit_tx()?;

        let call = match self.effective_call_hashed(stx, tx_hash)? {
            Ok(call) => call,
            Err(e) => return Err(ExecError::InvalidTx { index: 0, error: e }),
        };
        let result = self.run_call(TxCtx {
            view,
            block,
            stx,
            tx_hash,
            call: &call,
        })?;
        if result.error.is_some() {
            view.abort_tx()?;
        } else {
            view.commit_tx()?;
        }
        for entry in result.audit {
            view.append_audit(entry)?;
        }
        view.commit_tx()?;
        if result.sealed {
            // The public receipt of a sealed call is the same whatever the data: success, the
            // whole fuel budget, no events, no output, and no output hash (the committee's
            // attested hash is kept in state once a threshold agrees).
            let receipt = Receipt {
                tx_hash,
                status: ReceiptStatus::Success,
                fuel_used: tx.fuel_limit,
                events: Vec::new(),
                output_hash: Hash::default(),
                output: Vec::new(),
                error: None,
            };
            return Ok((receipt, None));
        }
        let fuel_used = result.fuel_used.min(tx.fuel_limit);
        super::fees::refund(
            view,
            &tx.signer,
            max_fee - super::fees::fee(fuel_used, price),
        )?;
        let receipt = Receipt {
            tx_hash,
            status: if result.error.is_none() {
                ReceiptStatus::Success
            } else {
                ReceiptStatus::Failed
            },
            fuel_used,
            events: if result.error.is_none() {
                result.events
            } else {
                Vec::new()
            },
            output_hash: if result.output.is_empty() {
                Hash::default()
            } else {
                sha3_256(&result.output)
            },
            output: result.output,
            error: result.error,
        };
        Ok((receipt, result.diagnostic))
    }

    /// Runs a contract entry and keeps its storage changes in the current transaction.
    pub(super) fn vm_call(
        &self,
        view: &StateView,
        block: BlockContext,
        request: CallRequest,
        base_fuel: u64,
    ) -> Result<CallResult, ExecError> {
        match self.vm.execute(Arc::new(view.clone()), block, request) {
            Ok(out) => {
                for change in out.storage_changes {
                    view.put(keys::storage(&change.contract, &change.key), change.value)?;
                }
                Ok(CallResult {
                    fuel_used: base_fuel + out.fuel_used,
                    events: out
                        .events
                        .into_iter()
                        .map(|e| EventRecord {
                            contract: e.contract,
                            topic: e.topic,
                            data: e.data,
                        })
                        .collect(),
                    output: out.output,
                    ..CallResult::ok(0)
                })
            }
            Err(e) if e.error.is_node_failure() => Err(ExecError::from_vm(e.error)),
            Err(e) => Ok(CallResult::vm_failure(base_fuel + e.fuel_used, &e.error)),
        }
    }

    /// Dispatches a call to its family.
    fn run_call(&self, t: TxCtx<'_>) -> Result<CallResult, ExecError> {
        match t.call {
            Call::Transfer { to, amount } => super::transfer::transfer(t, to, *amount),
            Call::UploadCode { code } => self.upload_code(t, code),
            Call::Instantiate {
                code_hash,
                salt,
                input,
            } => self.instantiate(t, code_hash, salt, input),
            Call::Call { contract, input } => self.call_contract(t, contract, input),
            Call::Upgrade {
                contract,
                code_hash,
            } => super::code::upgrade(t, contract, code_hash),
            Call::Propose { action } => super::governance::propose(t, action),
            Call::Approve { proposal } => super::governance::approve(t, *proposal),
            Call::BindIdentity { subject, account } => {
                super::registry::bind_identity(t, subject, account)
            }
            Call::RegisterDataset { id, fields, price } => {
                super::registry::register_dataset(t, id, fields, *price)
            }
            Call::CommitRecord {
                subject,
                dataset,
                version,
                record_hash,
                signature,
            } => super::registry::commit_record(
                t,
                subject,
                dataset,
                *version,
                record_hash,
                signature,
            ),
            Call::ApproveCode {
                code_hash,
                approved,
            } => super::registry::approve_code(t, code_hash, *approved),
            Call::RequestConsent { request } => super::consent::request(t, request),
            Call::Consent { id, action } => super::consent::answer(t, *id, *action),
            Call::SealedCall {
                contract,
                input,
                reads,
            } => self.sealed_call(t, *contract, input, reads),
            Call::Disclose { consent } => super::disclosure::disclose(t, *consent),
            Call::AttestSealedOutputs { attestations } => {
                super::attestation::attest(t, attestations)
            }
            // `effective_call` opens every private call, and a body never holds another.
            Call::Private { .. } => Ok(CallResult::fail(
                0,
                "bad_private_body",
                "a private call's body holds another private call",
            )),
        }
    }
}

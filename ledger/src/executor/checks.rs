//! Admission checks: what a transaction must satisfy before it runs (format, chain, fuel,
//! signature, nonce, target contract, roles), with [`CheckFailure`] separating the
//! transaction's faults from this node's failures.
use civitas_primitives::crypto::verify_tx;
use civitas_primitives::tx::{Call, Role, RoleSet, SignedTransaction};
use civitas_runtime::StateError;

use super::{ExecError, Executor, TxError};
use crate::state::{keys, DeployPolicy, StateView};

/// A failed check: the transaction's fault, or this node's.
enum CheckFailure {
    Tx(TxError),
    Node(StateError),
}

impl From<TxError> for CheckFailure {
    fn from(e: TxError) -> Self {
        CheckFailure::Tx(e)
    }
}

impl From<StateError> for CheckFailure {
    fn from(e: StateError) -> Self {
        CheckFailure::Node(e)
    }
}

impl Executor {
    /// Checks a transaction against `view` without executing it. Two levels: the outer error
    /// is this node's failure (state I/O), which says nothing about the transaction; the inner
    /// one is the transaction's fault, which every node finds alike.
    pub fn check_tx(
        &self,
        view: &StateView,
        stx: &SignedTransaction,
        verify_signature: bool,
    ) -> Result<Result<(), TxError>, ExecError> {
        match self.check_tx_faults(view, stx, verify_signature) {
            Ok(()) => Ok(Ok(())),
            Err(CheckFailure::Tx(e)) => Ok(Err(e)),
            Err(CheckFailure::Node(e)) => Err(ExecError::State(e)),
        }
    }

    fn check_tx_faults(
        &self,
        view: &StateView,
        stx: &SignedTransaction,
        verify_signature: bool,
    ) -> Result<(), CheckFailure> {
        stx.check_limits()
            .map_err(|e| TxError::Format(e.to_string()))?;
        let tx = &stx.tx;
        if tx.chain_id != self.params.chain_id {
            return Err(TxError::WrongChainId {
                expected: self.params.chain_id.clone(),
                got: tx.chain_id.clone(),
            }
            .into());
        }
        let cap = self.params.fuel_cap(&tx.call);
        if tx.fuel_limit > cap && matches!(tx.call, Call::SealedCall { .. }) {
            return Err(TxError::SealedFuelTooHigh {
                limit: tx.fuel_limit,
                max: cap,
            }
            .into());
        }
        if tx.fuel_limit > cap {
            return Err(TxError::FuelLimitTooHigh {
                limit: tx.fuel_limit,
                max: cap,
            }
            .into());
        }
        if verify_signature && !verify_tx(stx) {
            return Err(TxError::BadSignature(tx.signer).into());
        }
        let account = view.account(&tx.signer)?;
        // Members only: a role, a bound identity (a citizen answering consents) or credits.
        if account.roles.is_empty()
            && account.balance == 0
            && view.get(&keys::identity_of(&tx.signer))?.is_none()
        {
            return Err(TxError::UnknownAccount(tx.signer).into());
        }
        if tx.nonce < account.nonce {
            return Err(TxError::StaleNonce {
                expected: account.nonce,
                got: tx.nonce,
            }
            .into());
        }
        if tx.nonce > account.nonce {
            return Err(TxError::NonceGap {
                expected: account.nonce,
                got: tx.nonce,
            }
            .into());
        }
        if let Call::Call { contract, .. } | Call::SealedCall { contract, .. } = &tx.call {
            let exists = view.get(&keys::contract(contract))?.is_some();
            if !exists {
                return Err(TxError::UnknownContract(*contract).into());
            }
        }
        let needs = match &tx.call {
            Call::UploadCode { .. } | Call::Instantiate { .. } => {
                let policy: DeployPolicy =
                    view.get_decoded(keys::DEPLOY_POLICY)?
                        .unwrap_or(DeployPolicy {
                            upload: Default::default(),
                            instantiate: Default::default(),
                        });
                Some(if matches!(tx.call, Call::UploadCode { .. }) {
                    policy.upload
                } else {
                    policy.instantiate
                })
            }
            Call::Propose { .. } | Call::Approve { .. } => Some(RoleSet::of(&[Role::Validator])),
            Call::BindIdentity { .. } => Some(RoleSet::of(&[Role::Identity])),
            Call::RegisterDataset { .. } | Call::CommitRecord { .. } => {
                Some(RoleSet::of(&[Role::Custodian]))
            }
            Call::RequestConsent { .. } | Call::SealedCall { .. } | Call::Disclose { .. } => {
                Some(RoleSet::of(&[Role::Institution]))
            }
            Call::ApproveCode { .. } => Some(RoleSet::of(&[Role::Regulator])),
            _ => None,
        };
        if let Some(needs) = needs {
            if !account.roles.intersects(needs) {
                let names: Vec<&str> = Role::ALL
                    .iter()
                    .filter(|r| needs.has(**r))
                    .map(|r| r.name())
                    .collect();
                return Err(TxError::NotPermitted {
                    action: tx.call.kind(),
                    needs: if names.is_empty() {
                        "(none)".into()
                    } else {
                        names.join(", ")
                    },
                    signer: tx.signer,
                }
                .into());
            }
        }
        Ok(())
    }
}

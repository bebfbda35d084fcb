//! Admission checks: what a transaction must satisfy before it runs (format, chain, fuel,
//! signature, nonce, target contract, roles), with [`CheckFailure`] separating the
//! transaction's faults from this node's failures.
use civitas_primitives::crypto::verify_tx;
use civitas_primitives::tx::{Call, PrivateKind, Role, RoleSet, SignedTransaction};
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
        match self.check_tx_faults(view, stx, verify_signature, true) {
            Ok(()) => Ok(Ok(())),
            Err(CheckFailure::Tx(e)) => Ok(Err(e)),
            Err(CheckFailure::Node(e)) => Err(ExecError::State(e)),
        }
    }

    /// [`Self::check_tx`] without the nonce rule, for a pool that orders each account's
    /// pending nonces itself: every other check, as if `stx` were the account's next
    /// transaction on `view`.
    pub fn check_tx_except_nonce(
        &self,
        view: &StateView,
        stx: &SignedTransaction,
        verify_signature: bool,
    ) -> Result<Result<(), TxError>, ExecError> {
        match self.check_tx_faults(view, stx, verify_signature, false) {
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
        check_nonce: bool,
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
        if PrivateKind::of(&tx.call).is_some() {
            return Err(TxError::MustBePrivate(tx.call.kind()).into());
        }
        if verify_signature && !verify_tx(stx) {
            return Err(TxError::BadSignature(tx.signer).into());
        }
        let call = match self.effective_call(stx) {
            Ok(Ok(call)) => call,
            Ok(Err(e)) => return Err(e.into()),
            Err(ExecError::State(e)) => return Err(CheckFailure::Node(e)),
            Err(e) => return Err(CheckFailure::Node(StateError::Backend(e.to_string()))),
        };
        let cap = self.params.fuel_cap(&call);
        if tx.fuel_limit > cap && matches!(*call, Call::SealedCall { .. }) {
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
        let account = view.account(&tx.signer)?;
        // Members only: a role, a bound identity (a citizen answering consents) or credits.
        if account.roles.is_empty()
            && account.balance == 0
            && view.get(&keys::identity_of(&tx.signer))?.is_none()
        {
            return Err(TxError::UnknownAccount(tx.signer).into());
        }
        let fee = super::fees::fee(tx.fuel_limit, super::fees::fuel_price(view)?);
        if account.balance < fee {
            return Err(TxError::CannotPayFees {
                fuel_limit: tx.fuel_limit,
                fee,
                balance: account.balance,
            }
            .into());
        }
        if check_nonce && tx.nonce < account.nonce {
            return Err(TxError::StaleNonce {
                expected: account.nonce,
                got: tx.nonce,
            }
            .into());
        }
        if check_nonce && tx.nonce > account.nonce {
            return Err(TxError::NonceGap {
                expected: account.nonce,
                got: tx.nonce,
            }
            .into());
        }
        if let Call::Call { contract, .. } | Call::SealedCall { contract, .. } = &*call {
            let exists = view.get(&keys::contract(contract))?.is_some();
            if !exists {
                return Err(TxError::UnknownContract(*contract).into());
            }
        }
        let needs = match &*call {
            Call::UploadCode { .. } | Call::Instantiate { .. } => {
                let policy: DeployPolicy =
                    view.get_decoded(keys::DEPLOY_POLICY)?
                        .unwrap_or(DeployPolicy {
                            upload: Default::default(),
                            instantiate: Default::default(),
                        });
                Some(if matches!(*call, Call::UploadCode { .. }) {
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
        if let Call::AttestSealedOutputs { attestations } = &*call {
            check_attestations(view, &tx.signer, attestations)?;
        }
        if let Some(needs) = needs {
            if !account.roles.intersects(needs) {
                let names: Vec<&str> = Role::ALL
                    .iter()
                    .filter(|r| needs.has(**r))
                    .map(|r| r.name())
                    .collect();
                return Err(TxError::NotPermitted {
                    action: call.kind(),
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

/// A committee member's attestations, as the next block would hold them: from a member, each
/// of a committed sealed call whose delay has passed, none repeated (in the transaction or on
/// chain).
fn check_attestations(
    view: &StateView,
    signer: &civitas_primitives::AccountId,
    attestations: &[civitas_primitives::committee::SealedAttestation],
) -> Result<(), CheckFailure> {
    use civitas_primitives::committee::{SealedOutcome, ATTESTATION_DELAY};
    if !Executor::committee(view)?.contains(signer) {
        return Err(TxError::NotCommitteeMember(*signer).into());
    }
    let height = view.base_version() + 1;
    for (i, a) in attestations.iter().enumerate() {
        let Some(outcome) = view.get_decoded::<SealedOutcome>(&keys::sealed_outcome(&a.call))?
        else {
            return Err(TxError::UnknownSealedCall(a.call).into());
        };
        let due = outcome.height + ATTESTATION_DELAY;
        if height < due {
            return Err(TxError::AttestationTooEarly { call: a.call, due }.into());
        }
        if attestations[..i].iter().any(|b| b.call == a.call)
            || view
                .get(&keys::sealed_attestation(&a.call, signer))?
                .is_some()
        {
            return Err(TxError::AlreadyAttested(a.call).into());
        }
    }
    Ok(())
}

//! Credit transfers between accounts.
use civitas_primitives::AccountId;

use super::apply::{CallResult, TxCtx};
use super::{fuel, ExecError};

/// Moves `amount` credits from the signer to `to`.
pub(super) fn transfer(
    t: TxCtx<'_>,
    to: &AccountId,
    amount: u128,
) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::TRANSFER) {
        return Ok(r);
    }
    let view = t.view;
    let signer = t.signer();
    let mut from = view.account(&signer)?;
    if from.balance < amount {
        return Ok(CallResult::fail(
            fuel::TRANSFER,
            "insufficient_balance",
            format!("balance {} is less than {amount}", from.balance),
        ));
    }
    from.balance -= amount;
    view.set_account(&signer, &from)?;
    let mut dest = view.account(to)?;
    dest.balance = match dest.balance.checked_add(amount) {
        Some(b) => b,
        None => {
            return Ok(CallResult::fail(
                fuel::TRANSFER,
                "overflow",
                "recipient balance would overflow",
            ))
        }
    };
    view.set_account(to, &dest)?;
    Ok(CallResult::ok(fuel::TRANSFER))
}

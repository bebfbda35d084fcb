//! Fees: a transaction pays for the fuel it uses, in credits, at the price governance sets
//! (`g/fuel_price`, credits per 10^6 fuel; absent or 0: no fees). The signer pays: the fee of
//! the whole fuel limit is taken with the nonce, the unused part refunded after the call (a
//! sealed call always uses its whole limit, so its fee says nothing of its data). Fees leave
//! circulation.
use civitas_primitives::AccountId;

use super::ExecError;
use crate::state::{keys, StateView};

/// Fuel units the price is quoted per.
pub const FUEL_PER_PRICE_UNIT: u128 = 1_000_000;

/// The fee of `fuel` at `price` credits per 10^6 fuel, rounded up.
pub fn fee(fuel: u64, price: u128) -> u128 {
    (u128::from(fuel) * price).div_ceil(FUEL_PER_PRICE_UNIT)
}

/// The chain's current fee price.
pub(super) fn fuel_price(view: &StateView) -> Result<u128, civitas_runtime::StateError> {
    Ok(view.get_decoded(keys::FUEL_PRICE)?.unwrap_or(0))
}

/// Gives `amount` credits back to `account`.
pub(super) fn refund(view: &StateView, account: &AccountId, amount: u128) -> Result<(), ExecError> {
    if amount == 0 {
        return Ok(());
    }
    let mut info = view.account(account)?;
    info.balance = info.balance.saturating_add(amount);
    view.set_account(account, &info)?;
    view.commit_tx()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_is_the_fuel_at_the_price_per_million_rounded_up() {
        assert_eq!(fee(0, 7), 0);
        assert_eq!(fee(1_000_000, 7), 7);
        assert_eq!(fee(1, 7), 1);
        assert_eq!(fee(2_500_000, 2), 5);
        assert_eq!(fee(1_500_001, 2), 4);
        assert_eq!(fee(u64::MAX, 0), 0);
        assert_eq!(
            fee(u64::MAX, u128::from(u64::MAX)),
            (u128::from(u64::MAX) * u128::from(u64::MAX)).div_ceil(1_000_000)
        );
    }
}

//! A fungible token with allowances: balances, transfers, approvals and delegated transfers, a
//! capped mint by the owner, and burning. Amounts are `u128` in the token's smallest unit.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;

/// Token storage.
#[storage]
pub struct Token {
    name: Value<String>,
    symbol: Value<String>,
    decimals: Value<u8>,
    owner: Value<AccountId>,
    total_supply: Value<u128>,
    balances: Mapping<AccountId, u128>,
    allowances: Mapping<(AccountId, AccountId), u128>,
}

/// Tokens moved; `from: None` is a mint, `to: None` a burn.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Transfer {
    /// Sender.
    pub from: Option<AccountId>,
    /// Recipient.
    pub to: Option<AccountId>,
    /// Amount.
    pub value: u128,
}

/// An allowance was set.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Approval {
    /// Owner of the tokens.
    pub owner: AccountId,
    /// Who may spend them.
    pub spender: AccountId,
    /// The new allowance.
    pub value: u128,
}

/// Why a call failed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {
    /// The sender's balance is too small.
    InsufficientBalance,
    /// The spender's allowance is too small.
    InsufficientAllowance,
    /// Supply would overflow.
    Overflow,
    /// Only the owner may mint.
    NotOwner,
}

#[contract(events(Transfer, Approval))]
impl Token {
    /// Creates the token and gives `initial_supply` to the caller, who becomes the owner.
    #[constructor]
    pub fn new(&mut self, name: String, symbol: String, decimals: u8, initial_supply: u128) {
        let caller = env::caller();
        self.name.set(&name);
        self.symbol.set(&symbol);
        self.decimals.set(&decimals);
        self.owner.set(&caller);
        self.total_supply.set(&initial_supply);
        self.balances.insert(&caller, &initial_supply);
        env::emit(&Transfer {
            from: None,
            to: Some(caller),
            value: initial_supply,
        });
    }

    /// Moves `value` from the caller to `to`.
    #[call]
    pub fn transfer(&mut self, to: AccountId, value: u128) -> Result<(), Error> {
        self.move_tokens(env::caller(), to, value)
    }

    /// Lets `spender` move up to `value` of the caller's tokens.
    #[call]
    pub fn approve(&mut self, spender: AccountId, value: u128) {
        let owner = env::caller();
        self.allowances.insert(&(owner, spender), &value);
        env::emit(&Approval {
            owner,
            spender,
            value,
        });
    }

    /// Moves `value` from `from` to `to` using the caller's allowance.
    #[call]
    pub fn transfer_from(
        &mut self,
        from: AccountId,
        to: AccountId,
        value: u128,
    ) -> Result<(), Error> {
        let spender = env::caller();
        let allowance = self.allowances.get_or_default(&(from, spender));
        let rest = allowance
            .checked_sub(value)
            .ok_or(Error::InsufficientAllowance)?;
        self.move_tokens(from, to, value)?;
        self.allowances.insert(&(from, spender), &rest);
        Ok(())
    }

    /// Creates `value` new tokens for `to` (owner only).
    #[call]
    pub fn mint(&mut self, to: AccountId, value: u128) -> Result<(), Error> {
        if self.owner.get() != Some(env::caller()) {
            return Err(Error::NotOwner);
        }
        let supply = self
            .total_supply
            .get_or_default()
            .checked_add(value)
            .ok_or(Error::Overflow)?;
        let balance = self
            .balances
            .get_or_default(&to)
            .checked_add(value)
            .ok_or(Error::Overflow)?;
        self.total_supply.set(&supply);
        self.balances.insert(&to, &balance);
        env::emit(&Transfer {
            from: None,
            to: Some(to),
            value,
        });
        Ok(())
    }

    /// Destroys `value` of the caller's tokens.
    #[call]
    pub fn burn(&mut self, value: u128) -> Result<(), Error> {
        let caller = env::caller();
        let balance = self
            .balances
            .get_or_default(&caller)
            .checked_sub(value)
            .ok_or(Error::InsufficientBalance)?;
        self.balances.insert(&caller, &balance);
        self.total_supply
            .set(&self.total_supply.get_or_default().saturating_sub(value));
        env::emit(&Transfer {
            from: Some(caller),
            to: None,
            value,
        });
        Ok(())
    }

    /// Balance of `owner`.
    #[view]
    pub fn balance_of(&self, owner: AccountId) -> u128 {
        self.balances.get_or_default(&owner)
    }

    /// What `spender` may still move of `owner`'s tokens.
    #[view]
    pub fn allowance(&self, owner: AccountId, spender: AccountId) -> u128 {
        self.allowances.get_or_default(&(owner, spender))
    }

    /// Tokens in existence.
    #[view]
    pub fn total_supply(&self) -> u128 {
        self.total_supply.get_or_default()
    }

    /// Name, symbol and decimals.
    #[view]
    pub fn info(&self) -> (String, String, u8) {
        (
            self.name.get().unwrap_or_default(),
            self.symbol.get().unwrap_or_default(),
            self.decimals.get_or_default(),
        )
    }
}

impl Token {
    fn move_tokens(&mut self, from: AccountId, to: AccountId, value: u128) -> Result<(), Error> {
        let from_balance = self
            .balances
            .get_or_default(&from)
            .checked_sub(value)
            .ok_or(Error::InsufficientBalance)?;
        self.balances.insert(&from, &from_balance);
        let to_balance = self
            .balances
            .get_or_default(&to)
            .checked_add(value)
            .ok_or(Error::Overflow)?;
        self.balances.insert(&to, &to_balance);
        env::emit(&Transfer {
            from: Some(from),
            to: Some(to),
            value,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_sdk::test;

    fn token() -> Token {
        test::reset();
        let mut t = Token::default();
        t.new("Credit".into(), "CRD".into(), 6, 1_000);
        t
    }

    #[test]
    fn constructor_mints_to_the_caller() {
        let t = token();
        let a = test::accounts();
        assert_eq!(t.balance_of(a.alice), 1_000);
        assert_eq!(t.total_supply(), 1_000);
        assert_eq!(t.info(), ("Credit".into(), "CRD".into(), 6));
        assert_eq!(
            test::events_of::<Transfer>(),
            vec![Transfer {
                from: None,
                to: Some(a.alice),
                value: 1_000
            }]
        );
    }

    #[test]
    fn transfer_moves_and_refuses_overdrafts() {
        let mut t = token();
        let a = test::accounts();
        assert_eq!(t.transfer(a.bob, 300), Ok(()));
        assert_eq!(t.balance_of(a.alice), 700);
        assert_eq!(t.balance_of(a.bob), 300);
        assert_eq!(t.transfer(a.bob, 701), Err(Error::InsufficientBalance));
        assert_eq!(
            t.balance_of(a.alice),
            700,
            "a failed transfer changes nothing"
        );
    }

    #[test]
    fn transfer_to_self_keeps_the_balance() {
        let mut t = token();
        let a = test::accounts();
        assert_eq!(t.transfer(a.alice, 400), Ok(()));
        assert_eq!(t.balance_of(a.alice), 1_000);
    }

    #[test]
    fn allowances_limit_delegated_transfers() {
        let mut t = token();
        let a = test::accounts();
        t.approve(a.bob, 250);
        assert_eq!(t.allowance(a.alice, a.bob), 250);
        test::set_caller(a.bob);
        assert_eq!(t.transfer_from(a.alice, a.charlie, 200), Ok(()));
        assert_eq!(t.allowance(a.alice, a.bob), 50);
        assert_eq!(
            t.transfer_from(a.alice, a.charlie, 51),
            Err(Error::InsufficientAllowance)
        );
        assert_eq!(t.balance_of(a.charlie), 200);
        assert_eq!(test::events_of::<Approval>().len(), 1);
    }

    #[test]
    fn only_the_owner_mints_and_supply_cannot_overflow() {
        let mut t = token();
        let a = test::accounts();
        assert_eq!(t.mint(a.bob, 5), Ok(()));
        assert_eq!(t.total_supply(), 1_005);
        assert_eq!(t.mint(a.bob, u128::MAX), Err(Error::Overflow));
        test::set_caller(a.bob);
        assert_eq!(t.mint(a.bob, 5), Err(Error::NotOwner));
        assert_eq!(t.burn(5), Ok(()));
        assert_eq!(t.total_supply(), 1_000);
        assert_eq!(t.burn(1), Err(Error::InsufficientBalance));
    }
}

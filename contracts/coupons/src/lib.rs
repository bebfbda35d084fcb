//! Innovation-reward coupons: a department's administrator authorises issuing departments; an
//! issuer grants coupons worth an amount of credits to enterprises under a named programme; an
//! enterprise may transfer a coupon before it expires and redeem it once. Every step is an event.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;

/// Lifecycle of a coupon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Status {
    /// Holdable, transferable, redeemable.
    Active,
    /// Redeemed; final.
    Redeemed,
    /// Revoked by its issuer; final.
    Revoked,
}

/// One coupon.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Coupon {
    /// Sequential id.
    pub id: u64,
    /// Issuing department.
    pub issuer: AccountId,
    /// Current holder.
    pub holder: AccountId,
    /// Value in credits.
    pub value: u128,
    /// Programme name, e.g. "green-tech-2026".
    pub programme: String,
    /// Expiry, block time in milliseconds.
    pub expires_at: u64,
    /// Status.
    pub status: Status,
}

/// Coupon storage.
#[storage]
pub struct Coupons {
    admin: Value<AccountId>,
    issuers: Mapping<AccountId, bool>,
    next_id: Value<u64>,
    coupons: Mapping<u64, Coupon>,
    /// Sum of active coupon values per holder.
    holdings: Mapping<AccountId, u128>,
}

/// A department may now issue coupons.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct IssuerAdded {
    /// The department.
    pub issuer: AccountId,
}

/// A coupon was issued.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Issued {
    /// Coupon id.
    pub id: u64,
    /// Issuer.
    pub issuer: AccountId,
    /// Enterprise receiving it.
    pub holder: AccountId,
    /// Value.
    pub value: u128,
    /// Programme.
    pub programme: String,
}

/// A coupon changed hands.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Transferred {
    /// Coupon id.
    pub id: u64,
    /// Previous holder.
    pub from: AccountId,
    /// New holder.
    pub to: AccountId,
}

/// A coupon was redeemed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Redeemed {
    /// Coupon id.
    pub id: u64,
    /// Holder who redeemed.
    pub holder: AccountId,
    /// Value paid out.
    pub value: u128,
}

/// A coupon was revoked by its issuer.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Revoked {
    /// Coupon id.
    pub id: u64,
}

/// Why a call failed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {
    /// Only the administrator may do this.
    NotAdmin,
    /// The caller is not an authorised issuer.
    NotIssuer,
    /// The caller does not hold the coupon.
    NotHolder,
    /// Only the coupon's issuer may do this.
    NotCouponIssuer,
    /// No coupon with that id.
    NotFound,
    /// The coupon has expired.
    Expired,
    /// The coupon was already redeemed or revoked.
    NotActive,
    /// A coupon must be worth something.
    ZeroValue,
    /// The expiry is not in the future.
    ExpiryInPast,
    /// Totals would overflow.
    Overflow,
}

#[contract(events(IssuerAdded, Issued, Transferred, Redeemed, Revoked))]
impl Coupons {
    /// The caller becomes the administrator and the first issuer.
    #[constructor]
    pub fn new(&mut self) {
        let admin = env::caller();
        self.admin.set(&admin);
        self.issuers.insert(&admin, &true);
        self.next_id.set(&1);
        env::emit(&IssuerAdded { issuer: admin });
    }

    /// Authorises another department to issue coupons (administrator only).
    #[call]
    pub fn add_issuer(&mut self, issuer: AccountId) -> Result<(), Error> {
        if self.admin.get() != Some(env::caller()) {
            return Err(Error::NotAdmin);
        }
        self.issuers.insert(&issuer, &true);
        env::emit(&IssuerAdded { issuer });
        Ok(())
    }

    /// Issues a coupon worth `value` to `holder`; returns its id.
    #[call]
    pub fn issue(
        &mut self,
        holder: AccountId,
        value: u128,
        programme: String,
        expires_at: u64,
    ) -> Result<u64, Error> {
        let issuer = env::caller();
        if !self.issuers.get_or_default(&issuer) {
            return Err(Error::NotIssuer);
        }
        if value == 0 {
            return Err(Error::ZeroValue);
        }
        if expires_at <= env::block_time() {
            return Err(Error::ExpiryInPast);
        }
        let id = self.next_id.get_or_default().max(1);
        let holding = self
            .holdings
            .get_or_default(&holder)
            .checked_add(value)
            .ok_or(Error::Overflow)?;
        self.next_id.set(&(id + 1));
        self.holdings.insert(&holder, &holding);
        self.coupons.insert(
            &id,
            &Coupon {
                id,
                issuer,
                holder,
                value,
                programme: programme.clone(),
                expires_at,
                status: Status::Active,
            },
        );
        env::emit(&Issued {
            id,
            issuer,
            holder,
            value,
            programme,
        });
        Ok(id)
    }

    /// Gives coupon `id` to `to` (holder only, while active and unexpired).
    #[call]
    pub fn transfer(&mut self, id: u64, to: AccountId) -> Result<(), Error> {
        let mut coupon = self.usable(id)?;
        let from = coupon.holder;
        self.holdings.insert(
            &from,
            &self
                .holdings
                .get_or_default(&from)
                .saturating_sub(coupon.value),
        );
        let to_holding = self
            .holdings
            .get_or_default(&to)
            .checked_add(coupon.value)
            .ok_or(Error::Overflow)?;
        self.holdings.insert(&to, &to_holding);
        coupon.holder = to;
        self.coupons.insert(&id, &coupon);
        env::emit(&Transferred { id, from, to });
        Ok(())
    }

    /// Redeems coupon `id` (holder only, once, before expiry); returns its value.
    #[call]
    pub fn redeem(&mut self, id: u64) -> Result<u128, Error> {
        let mut coupon = self.usable(id)?;
        coupon.status = Status::Redeemed;
        self.close(&coupon);
        env::emit(&Redeemed {
            id,
            holder: coupon.holder,
            value: coupon.value,
        });
        Ok(coupon.value)
    }

    /// Revokes an active coupon (its issuer only).
    #[call]
    pub fn revoke(&mut self, id: u64) -> Result<(), Error> {
        let mut coupon = self.coupons.get(&id).ok_or(Error::NotFound)?;
        if coupon.issuer != env::caller() {
            return Err(Error::NotCouponIssuer);
        }
        if coupon.status != Status::Active {
            return Err(Error::NotActive);
        }
        coupon.status = Status::Revoked;
        self.close(&coupon);
        env::emit(&Revoked { id });
        Ok(())
    }

    /// The coupon with `id`.
    #[view]
    pub fn coupon(&self, id: u64) -> Option<Coupon> {
        self.coupons.get(&id)
    }

    /// Total value of the active coupons `holder` has.
    #[view]
    pub fn holdings(&self, holder: AccountId) -> u128 {
        self.holdings.get_or_default(&holder)
    }

    /// Whether `who` may issue coupons.
    #[view]
    pub fn is_issuer(&self, who: AccountId) -> bool {
        self.issuers.get_or_default(&who)
    }
}

impl Coupons {
    /// Stores a coupon that has left the active state and removes it from its holder's total.
    fn close(&mut self, coupon: &Coupon) {
        let remaining = self
            .holdings
            .get_or_default(&coupon.holder)
            .saturating_sub(coupon.value);
        self.holdings.insert(&coupon.holder, &remaining);
        self.coupons.insert(&coupon.id, coupon);
    }

    /// The coupon, if the caller holds it and it is active and unexpired.
    fn usable(&self, id: u64) -> Result<Coupon, Error> {
        let coupon = self.coupons.get(&id).ok_or(Error::NotFound)?;
        if coupon.holder != env::caller() {
            return Err(Error::NotHolder);
        }
        if coupon.status != Status::Active {
            return Err(Error::NotActive);
        }
        if env::block_time() >= coupon.expires_at {
            return Err(Error::Expired);
        }
        Ok(coupon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_sdk::test;

    const DAY: u64 = 86_400_000;

    fn setup() -> Coupons {
        test::reset();
        test::set_block(1, 1_000 * DAY);
        let mut c = Coupons::default();
        c.new();
        c
    }

    #[test]
    fn issue_transfer_redeem_emit_every_step() {
        let mut c = setup();
        let a = test::accounts();
        let id = c
            .issue(a.bob, 500, "green-tech".into(), 1_030 * DAY)
            .expect("issue");
        assert_eq!(c.holdings(a.bob), 500);
        test::set_caller(a.bob);
        c.transfer(id, a.charlie).expect("transfer");
        assert_eq!(c.holdings(a.bob), 0);
        assert_eq!(c.holdings(a.charlie), 500);
        test::set_caller(a.charlie);
        assert_eq!(c.redeem(id), Ok(500));
        assert_eq!(c.holdings(a.charlie), 0);
        assert_eq!(c.coupon(id).map(|x| x.status), Some(Status::Redeemed));
        assert_eq!(c.redeem(id), Err(Error::NotActive), "redeemed once only");
        assert_eq!(test::events_of::<Issued>().len(), 1);
        assert_eq!(
            test::events_of::<Transferred>(),
            vec![Transferred {
                id,
                from: a.bob,
                to: a.charlie
            }]
        );
        assert_eq!(
            test::events_of::<Redeemed>(),
            vec![Redeemed {
                id,
                holder: a.charlie,
                value: 500
            }]
        );
    }

    #[test]
    fn only_authorised_issuers_issue() {
        let mut c = setup();
        let a = test::accounts();
        test::set_caller(a.dave);
        assert_eq!(
            c.issue(a.bob, 1, "p".into(), 2_000 * DAY),
            Err(Error::NotIssuer)
        );
        assert_eq!(c.add_issuer(a.dave), Err(Error::NotAdmin));
        test::set_caller(a.alice);
        c.add_issuer(a.dave).expect("admin adds issuer");
        test::set_caller(a.dave);
        assert!(c.issue(a.bob, 1, "p".into(), 2_000 * DAY).is_ok());
        assert!(c.is_issuer(a.dave));
    }

    #[test]
    fn expired_and_foreign_coupons_cannot_be_used() {
        let mut c = setup();
        let a = test::accounts();
        assert_eq!(
            c.issue(a.bob, 0, "p".into(), 2_000 * DAY),
            Err(Error::ZeroValue)
        );
        assert_eq!(
            c.issue(a.bob, 5, "p".into(), 1_000 * DAY),
            Err(Error::ExpiryInPast)
        );
        let id = c.issue(a.bob, 5, "p".into(), 1_001 * DAY).expect("issue");
        test::set_caller(a.charlie);
        assert_eq!(c.redeem(id), Err(Error::NotHolder));
        test::set_caller(a.bob);
        test::set_block(2, 1_001 * DAY);
        assert_eq!(c.redeem(id), Err(Error::Expired));
        assert_eq!(c.transfer(id, a.charlie), Err(Error::Expired));
        assert_eq!(c.redeem(99), Err(Error::NotFound));
    }

    #[test]
    fn issuers_revoke_their_own_active_coupons() {
        let mut c = setup();
        let a = test::accounts();
        let id = c.issue(a.bob, 7, "p".into(), 2_000 * DAY).expect("issue");
        test::set_caller(a.bob);
        assert_eq!(c.revoke(id), Err(Error::NotCouponIssuer));
        test::set_caller(a.alice);
        assert_eq!(c.revoke(id), Ok(()));
        assert_eq!(c.holdings(a.bob), 0);
        test::set_caller(a.bob);
        assert_eq!(c.redeem(id), Err(Error::NotActive));
    }
}

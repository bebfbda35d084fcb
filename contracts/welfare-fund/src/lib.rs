//! Traceable welfare funds. A department allocates a fund and names the department that approves
//! its disbursements; the allocator adds intermediaries (district offices, paying banks). Money
//! moves only in tranches: a holder (the allocator or an intermediary) proposes moving part of
//! what it holds to another intermediary or to a recipient, and the approving department approves
//! or rejects it. Every step is an event carrying the fund, the amounts and the block time, so a
//! regulator (or `civitas trace`) follows a fund from allocation to every recipient.
//!
//! Recipients are pseudonyms: the disbursing department derives each one as
//! `sha3-256(subject id ‖ fund salt)` and gives the salt only to regulators, so the public sees
//! totals and every step without learning who received the money, while a regulator can link
//! a pseudonym to a citizen. At every moment the amounts held by holders, reserved in proposed
//! tranches and received by recipients add up to the fund's total.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;

/// Where a tranche goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Party {
    /// An intermediary of the fund (or its allocator), who may pass money on.
    Holder(AccountId),
    /// A recipient's pseudonym; money that reaches a recipient has left the fund.
    Recipient(Hash),
}

/// One fund.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Fund {
    /// Sequential id.
    pub id: u64,
    /// Name, e.g. "winter-heating-2026".
    pub name: String,
    /// The department that allocated it.
    pub allocator: AccountId,
    /// The department that approves each tranche.
    pub approver: AccountId,
    /// The amount allocated, in the currency's smallest unit.
    pub total: u128,
    /// The amount that has reached recipients.
    pub disbursed: u128,
    /// Block time of the allocation, in milliseconds.
    pub allocated_at: u64,
}

/// Where a tranche stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum TrancheStatus {
    /// Waiting for the approving department.
    Proposed,
    /// Approved: the money moved.
    Approved,
    /// Rejected: the money stayed with its holder.
    Rejected,
}

/// One proposed movement of money.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Tranche {
    /// Sequential id (over every fund).
    pub id: u64,
    /// The fund.
    pub fund: u64,
    /// The holder the money leaves.
    pub from: AccountId,
    /// Where it goes.
    pub to: Party,
    /// How much.
    pub amount: u128,
    /// What it is for, e.g. "district 3, January".
    pub purpose: String,
    /// Where it stands.
    pub status: TrancheStatus,
    /// Block time of the proposal.
    pub proposed_at: u64,
}

/// Welfare-fund storage.
#[storage]
pub struct WelfareFunds {
    next_fund: Value<u64>,
    funds: Mapping<u64, Fund>,
    /// (fund, account) -> whether the account is an intermediary of the fund.
    intermediaries: Mapping<(u64, AccountId), bool>,
    /// (fund, holder) -> the amount it holds, reserved tranches included.
    held: Mapping<(u64, AccountId), u128>,
    /// (fund, holder) -> the part of `held` in proposed tranches.
    reserved: Mapping<(u64, AccountId), u128>,
    /// (fund, recipient pseudonym) -> the amount received.
    received: Mapping<(u64, Hash), u128>,
    next_tranche: Value<u64>,
    tranches: Mapping<u64, Tranche>,
}

/// A fund was allocated.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Allocated {
    /// Fund id.
    pub fund: u64,
    /// Its name.
    pub name: String,
    /// The allocating department, which holds the total at first.
    pub allocator: AccountId,
    /// The approving department.
    pub approver: AccountId,
    /// The amount allocated.
    pub total: u128,
    /// Block time.
    pub at: u64,
}

/// An intermediary may now hold and pass on the fund's money.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct IntermediaryAdded {
    /// Fund id.
    pub fund: u64,
    /// The intermediary.
    pub intermediary: AccountId,
    /// Block time.
    pub at: u64,
}

/// A holder proposed a tranche.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct TrancheProposed {
    /// Fund id.
    pub fund: u64,
    /// Tranche id.
    pub tranche: u64,
    /// The holder the money would leave.
    pub from: AccountId,
    /// Where it would go.
    pub to: Party,
    /// How much.
    pub amount: u128,
    /// What it is for.
    pub purpose: String,
    /// Block time.
    pub at: u64,
}

/// The approving department approved a tranche: the money moved.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct TrancheApproved {
    /// Fund id.
    pub fund: u64,
    /// Tranche id.
    pub tranche: u64,
    /// The holder the money left.
    pub from: AccountId,
    /// Where it went.
    pub to: Party,
    /// How much.
    pub amount: u128,
    /// The approving department.
    pub approver: AccountId,
    /// Block time.
    pub at: u64,
}

/// The approving department rejected a tranche: the money stayed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct TrancheRejected {
    /// Fund id.
    pub fund: u64,
    /// Tranche id.
    pub tranche: u64,
    /// Why.
    pub reason: String,
    /// Block time.
    pub at: u64,
}

/// Why a call failed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {
    /// No fund with that id.
    UnknownFund,
    /// No tranche with that id.
    UnknownTranche,
    /// Only the fund's allocator may do this.
    NotAllocator,
    /// Only the fund's approving department may do this.
    NotApprover,
    /// The caller holds none of this fund's money (neither allocator nor intermediary).
    NotHolder,
    /// A tranche may go only to an intermediary of the fund or to a recipient.
    NotIntermediary,
    /// A holder cannot send a tranche to itself.
    SelfTranche,
    /// Amounts must be above zero.
    ZeroAmount,
    /// The holder's unreserved balance is smaller than the tranche.
    InsufficientFunds,
    /// The tranche was already approved or rejected.
    AlreadyDecided,
    /// The approving department cannot be the allocator (each step needs a second department).
    ApproverIsAllocator,
    /// Totals would overflow.
    Overflow,
}

#[contract(events(
    Allocated,
    IntermediaryAdded,
    TrancheProposed,
    TrancheApproved,
    TrancheRejected
))]
impl WelfareFunds {
    /// An empty register of funds.
    #[constructor]
    pub fn new(&mut self) {
        self.next_fund.set(&1);
        self.next_tranche.set(&1);
    }

    /// Allocates a fund of `total` held by the caller, whose tranches `approver` approves;
    /// returns its id.
    #[call]
    pub fn allocate(
        &mut self,
        name: String,
        total: u128,
        approver: AccountId,
    ) -> Result<u64, Error> {
        let allocator = env::caller();
        if total == 0 {
            return Err(Error::ZeroAmount);
        }
        if approver == allocator {
            return Err(Error::ApproverIsAllocator);
        }
        let id = self.next_fund.get_or_default().max(1);
        let at = env::block_time();
        self.next_fund.set(&(id + 1));
        self.funds.insert(
            &id,
            &Fund {
                id,
                name: name.clone(),
                allocator,
                approver,
                total,
                disbursed: 0,
                allocated_at: at,
            },
        );
        self.held.insert(&(id, allocator), &total);
        env::emit(&Allocated {
            fund: id,
            name,
            allocator,
            approver,
            total,
            at,
        });
        Ok(id)
    }

    /// Makes `intermediary` a holder of fund `fund` (its allocator only).
    #[call]
    pub fn add_intermediary(&mut self, fund: u64, intermediary: AccountId) -> Result<(), Error> {
        let f = self.funds.get(&fund).ok_or(Error::UnknownFund)?;
        if f.allocator != env::caller() {
            return Err(Error::NotAllocator);
        }
        self.intermediaries.insert(&(fund, intermediary), &true);
        env::emit(&IntermediaryAdded {
            fund,
            intermediary,
            at: env::block_time(),
        });
        Ok(())
    }

    /// Proposes moving `amount` of what the caller holds of `fund` to `to`; the amount is
    /// reserved until the approving department decides. Returns the tranche id.
    #[call]
    pub fn propose(
        &mut self,
        fund: u64,
        to: Party,
        amount: u128,
        purpose: String,
    ) -> Result<u64, Error> {
        let f = self.funds.get(&fund).ok_or(Error::UnknownFund)?;
        let from = env::caller();
        if !self.is_holder(&f, &from) {
            return Err(Error::NotHolder);
        }
        if amount == 0 {
            return Err(Error::ZeroAmount);
        }
        if let Party::Holder(next) = to {
            if next == from {
                return Err(Error::SelfTranche);
            }
            if !self.is_holder(&f, &next) {
                return Err(Error::NotIntermediary);
            }
        }
        let held = self.held.get_or_default(&(fund, from));
        let reserved = self.reserved.get_or_default(&(fund, from));
        let reserved_after = reserved.checked_add(amount).ok_or(Error::Overflow)?;
        if reserved_after > held {
            return Err(Error::InsufficientFunds);
        }
        let id = self.next_tranche.get_or_default().max(1);
        let at = env::block_time();
        self.next_tranche.set(&(id + 1));
        self.reserved.insert(&(fund, from), &reserved_after);
        self.tranches.insert(
            &id,
            &Tranche {
                id,
                fund,
                from,
                to,
                amount,
                purpose: purpose.clone(),
                status: TrancheStatus::Proposed,
                proposed_at: at,
            },
        );
        env::emit(&TrancheProposed {
            fund,
            tranche: id,
            from,
            to,
            amount,
            purpose,
            at,
        });
        Ok(id)
    }

    /// Approves tranche `tranche` (the fund's approving department only): the money moves.
    #[call]
    pub fn approve(&mut self, tranche: u64) -> Result<(), Error> {
        let (mut t, mut f) = self.pending(tranche)?;
        let from_key = (t.fund, t.from);
        let held = self.held.get_or_default(&from_key);
        let reserved = self.reserved.get_or_default(&from_key);
        let (Some(held), Some(reserved)) =
            (held.checked_sub(t.amount), reserved.checked_sub(t.amount))
        else {
            return Err(Error::InsufficientFunds);
        };
        match t.to {
            Party::Holder(next) => {
                let to_key = (t.fund, next);
                let to_held = self
                    .held
                    .get_or_default(&to_key)
                    .checked_add(t.amount)
                    .ok_or(Error::Overflow)?;
                self.held.insert(&to_key, &to_held);
            }
            Party::Recipient(pseudonym) => {
                let to_key = (t.fund, pseudonym);
                let received = self
                    .received
                    .get_or_default(&to_key)
                    .checked_add(t.amount)
                    .ok_or(Error::Overflow)?;
                f.disbursed = f.disbursed.checked_add(t.amount).ok_or(Error::Overflow)?;
                self.received.insert(&to_key, &received);
                self.funds.insert(&f.id, &f);
            }
        }
        self.held.insert(&from_key, &held);
        self.reserved.insert(&from_key, &reserved);
        t.status = TrancheStatus::Approved;
        self.tranches.insert(&t.id, &t);
        env::emit(&TrancheApproved {
            fund: t.fund,
            tranche: t.id,
            from: t.from,
            to: t.to,
            amount: t.amount,
            approver: f.approver,
            at: env::block_time(),
        });
        Ok(())
    }

    /// Rejects tranche `tranche` (the fund's approving department only): the reserve is freed.
    #[call]
    pub fn reject(&mut self, tranche: u64, reason: String) -> Result<(), Error> {
        let (mut t, _) = self.pending(tranche)?;
        let key = (t.fund, t.from);
        let reserved = self.reserved.get_or_default(&key).saturating_sub(t.amount);
        self.reserved.insert(&key, &reserved);
        t.status = TrancheStatus::Rejected;
        self.tranches.insert(&t.id, &t);
        env::emit(&TrancheRejected {
            fund: t.fund,
            tranche: t.id,
            reason,
            at: env::block_time(),
        });
        Ok(())
    }

    /// The fund with `id`.
    #[view]
    pub fn fund(&self, id: u64) -> Option<Fund> {
        self.funds.get(&id)
    }

    /// The tranche with `id`.
    #[view]
    pub fn tranche(&self, id: u64) -> Option<Tranche> {
        self.tranches.get(&id)
    }

    /// What `holder` holds of `fund` (including what it has reserved in proposed tranches).
    #[view]
    pub fn held(&self, fund: u64, holder: AccountId) -> u128 {
        self.held.get_or_default(&(fund, holder))
    }

    /// What the recipient with pseudonym `recipient` has received from `fund`.
    #[view]
    pub fn received(&self, fund: u64, recipient: Hash) -> u128 {
        self.received.get_or_default(&(fund, recipient))
    }
}

impl WelfareFunds {
    /// Whether `who` may hold money of fund `f`: its allocator or one of its intermediaries.
    fn is_holder(&self, f: &Fund, who: &AccountId) -> bool {
        f.allocator == *who || self.intermediaries.get_or_default(&(f.id, *who))
    }

    /// A proposed tranche and its fund, if the caller is the fund's approving department.
    fn pending(&self, tranche: u64) -> Result<(Tranche, Fund), Error> {
        let t = self.tranches.get(&tranche).ok_or(Error::UnknownTranche)?;
        let f = self.funds.get(&t.fund).ok_or(Error::UnknownFund)?;
        if f.approver != env::caller() {
            return Err(Error::NotApprover);
        }
        if t.status != TrancheStatus::Proposed {
            return Err(Error::AlreadyDecided);
        }
        Ok((t, f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_sdk::test;

    fn pseudonym(n: u8) -> Hash {
        env::sha3_256(&[n])
    }

    fn setup() -> (WelfareFunds, test::Accounts, u64) {
        test::reset();
        test::set_block(1, 1_000);
        let a = test::accounts();
        let mut c = WelfareFunds::default();
        c.new();
        // alice allocates, bob approves, charlie is an intermediary.
        let fund = c
            .allocate("heating".into(), 1_000, a.bob)
            .expect("allocate");
        c.add_intermediary(fund, a.charlie).expect("intermediary");
        (c, a, fund)
    }

    #[test]
    fn money_moves_only_when_the_approver_approves_and_always_adds_up() {
        let (mut c, a, fund) = setup();
        let t1 = c
            .propose(fund, Party::Holder(a.charlie), 600, "district 3".into())
            .expect("propose");
        assert_eq!(c.held(fund, a.charlie), 0, "nothing moves on a proposal");
        assert_eq!(
            c.propose(fund, Party::Holder(a.charlie), 401, "too much".into()),
            Err(Error::InsufficientFunds),
            "600 of 1000 is reserved"
        );
        assert_eq!(c.approve(t1), Err(Error::NotApprover));
        test::set_caller(a.bob);
        c.approve(t1).expect("approve");
        assert_eq!(c.approve(t1), Err(Error::AlreadyDecided));
        assert_eq!((c.held(fund, a.alice), c.held(fund, a.charlie)), (400, 600));

        test::set_caller(a.charlie);
        let t2 = c
            .propose(fund, Party::Recipient(pseudonym(1)), 250, "jan".into())
            .expect("propose");
        let t3 = c
            .propose(fund, Party::Recipient(pseudonym(2)), 300, "jan".into())
            .expect("propose");
        test::set_caller(a.bob);
        c.approve(t2).expect("approve");
        c.reject(t3, "recipient not eligible".into())
            .expect("reject");
        assert_eq!(c.received(fund, pseudonym(1)), 250);
        assert_eq!(c.received(fund, pseudonym(2)), 0);
        assert_eq!(c.held(fund, a.charlie), 350, "the rejected 300 stays");
        let f = c.fund(fund).expect("fund");
        assert_eq!(f.disbursed, 250);
        assert_eq!(
            c.held(fund, a.alice) + c.held(fund, a.charlie) + f.disbursed,
            f.total
        );
        assert_eq!(test::events_of::<TrancheApproved>().len(), 2);
        assert_eq!(test::events_of::<TrancheRejected>().len(), 1);
    }

    #[test]
    fn only_holders_propose_and_only_to_intermediaries_or_recipients() {
        let (mut c, a, fund) = setup();
        test::set_caller(a.dave);
        assert_eq!(
            c.propose(fund, Party::Recipient(pseudonym(1)), 1, "x".into()),
            Err(Error::NotHolder)
        );
        assert_eq!(c.add_intermediary(fund, a.dave), Err(Error::NotAllocator));
        test::set_caller(a.alice);
        assert_eq!(
            c.propose(fund, Party::Holder(a.dave), 1, "x".into()),
            Err(Error::NotIntermediary)
        );
        assert_eq!(
            c.propose(fund, Party::Holder(a.alice), 1, "x".into()),
            Err(Error::SelfTranche)
        );
        assert_eq!(
            c.propose(fund, Party::Recipient(pseudonym(1)), 0, "x".into()),
            Err(Error::ZeroAmount)
        );
        assert_eq!(
            c.propose(99, Party::Recipient(pseudonym(1)), 1, "x".into()),
            Err(Error::UnknownFund)
        );
        assert_eq!(
            c.allocate("self-approved".into(), 5, a.alice),
            Err(Error::ApproverIsAllocator)
        );
    }
}

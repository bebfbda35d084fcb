//! Health claims for an insurer: the owner sets the claims policy; `assess(claimant)` runs as a
//! sealed call over the claimant's hospital diagnosis and expenses and her social-security
//! coverage (read with her consent) and returns only the payout.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;
use civitas_sdk::sealed::SealedError;

/// Dataset read for the diagnosis.
pub const DIAGNOSIS: &str = "hospital.diagnosis";
/// Dataset read for the bill.
pub const EXPENSES: &str = "hospital.expenses";
/// Dataset read for public coverage.
pub const COVERAGE: &str = "social_security.coverage";

/// `hospital.diagnosis` record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Diagnosis {
    /// ICD-10 code, e.g. `S82.1`.
    pub diagnosis_code: String,
    /// Days in hospital.
    pub inpatient_days: u32,
    /// Chronic condition.
    pub chronic: bool,
}

/// `hospital.expenses` record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Expenses {
    /// The hospital's reference.
    pub claim_ref: String,
    /// Total billed.
    pub total: u64,
    /// Part paid by public insurance.
    pub publicly_covered: u64,
}

/// `social_security.coverage` record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Coverage {
    /// Publicly insured.
    pub insured: bool,
    /// Plan name.
    pub plan: String,
    /// Co-payment the patient owes, percent.
    pub copay_percent: u32,
}

/// The insurer's claims policy.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Policy {
    /// ICD-10 chapter prefixes covered (e.g. `S` for injuries); empty covers all.
    pub covered_prefixes: Vec<String>,
    /// Amount the claimant bears first.
    pub deductible: u64,
    /// Allowance per inpatient day.
    pub daily_allowance: u64,
    /// Largest payout.
    pub max_payout: u64,
}

/// Why a claim pays what it pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Decision {
    /// Paid.
    Paid,
    /// Not publicly insured: the policy requires it.
    NotInsured,
    /// The diagnosis is outside the policy.
    NotCovered,
    /// Nothing left after the deductible.
    BelowDeductible,
}

/// The answer the insurer learns.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Payout {
    /// Decision.
    pub decision: Decision,
    /// Amount paid.
    pub amount: u64,
}

/// Storage.
#[storage]
pub struct Claims {
    owner: Value<AccountId>,
    policy: Value<Policy>,
}

/// Failures.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {
    /// Only the owner may change the policy.
    NotOwner,
    /// No policy set.
    NoPolicy,
    /// The chain refused a record read (no consent, no record, …).
    DataUnavailable,
    /// A record does not decode as its dataset's schema.
    BadRecord,
}

fn read<T: Decode>(claimant: &Hash, dataset: &str) -> Result<T, Error> {
    sealed::read(claimant, dataset).map_err(|e| match e {
        SealedError::Refused => Error::DataUnavailable,
        SealedError::Decode => Error::BadRecord,
    })
}

/// The payout, from the three records and the policy.
pub fn assess_records(p: &Policy, d: &Diagnosis, e: &Expenses, c: &Coverage) -> Payout {
    let pay = |decision, amount| Payout { decision, amount };
    if !c.insured {
        return pay(Decision::NotInsured, 0);
    }
    let covered = p.covered_prefixes.is_empty()
        || p.covered_prefixes
            .iter()
            .any(|prefix| d.diagnosis_code.starts_with(prefix.as_str()));
    if !covered {
        return pay(Decision::NotCovered, 0);
    }
    let own_share = e.total.saturating_sub(e.publicly_covered);
    let copay = own_share.saturating_mul(u64::from(c.copay_percent.min(100))) / 100;
    let reimbursable = own_share.saturating_sub(copay).saturating_sub(p.deductible);
    let allowance = p
        .daily_allowance
        .saturating_mul(u64::from(d.inpatient_days));
    let amount = reimbursable.saturating_add(allowance).min(p.max_payout);
    if amount == 0 {
        return pay(Decision::BelowDeductible, 0);
    }
    pay(Decision::Paid, amount)
}

#[contract]
impl Claims {
    /// Deploys with the insurer's policy; the deployer owns it.
    #[constructor]
    pub fn new(&mut self, policy: Policy) {
        self.owner.set(&env::caller());
        self.policy.set(&policy);
    }

    /// Changes the policy (owner only).
    #[call]
    pub fn set_policy(&mut self, policy: Policy) -> Result<(), Error> {
        if Some(env::caller()) != self.owner.get() {
            return Err(Error::NotOwner);
        }
        self.policy.set(&policy);
        Ok(())
    }

    /// The current policy.
    #[view]
    pub fn policy(&self) -> Option<Policy> {
        self.policy.get()
    }

    /// Assesses a claim (run as a sealed call) from the claimant's records.
    #[view]
    pub fn assess(&self, claimant: Hash) -> Result<Payout, Error> {
        let policy = self.policy.get().ok_or(Error::NoPolicy)?;
        let d: Diagnosis = read(&claimant, DIAGNOSIS)?;
        let e: Expenses = read(&claimant, EXPENSES)?;
        let c: Coverage = read(&claimant, COVERAGE)?;
        Ok(assess_records(&policy, &d, &e, &c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_sdk::test;

    fn policy() -> Policy {
        Policy {
            covered_prefixes: vec!["S".into(), "I2".into()],
            deductible: 500,
            daily_allowance: 100,
            max_payout: 20_000,
        }
    }

    fn claimant(code: &str, total: u64, insured: bool) -> Hash {
        let who = Hash([total as u8 ^ code.len() as u8; 32]);
        test::set_sealed_record(
            who,
            DIAGNOSIS,
            Diagnosis {
                diagnosis_code: code.into(),
                inpatient_days: 3,
                chronic: false,
            }
            .encode(),
        );
        test::set_sealed_record(
            who,
            EXPENSES,
            Expenses {
                claim_ref: "H-1".into(),
                total,
                publicly_covered: total / 2,
            }
            .encode(),
        );
        test::set_sealed_record(
            who,
            COVERAGE,
            Coverage {
                insured,
                plan: "basic".into(),
                copay_percent: 20,
            }
            .encode(),
        );
        who
    }

    #[test]
    fn payouts_follow_the_policy() {
        test::reset();
        let mut c = Claims::default();
        c.new(policy());
        // own share 6000, copay 1200, minus deductible 500 = 4300, plus 3 days × 100.
        assert_eq!(
            c.assess(claimant("S82.1", 12_000, true)),
            Ok(Payout {
                decision: Decision::Paid,
                amount: 4_600
            })
        );
        assert_eq!(
            c.assess(claimant("J18", 12_000, true)).map(|p| p.decision),
            Ok(Decision::NotCovered)
        );
        assert_eq!(
            c.assess(claimant("S82.1", 12_000, false))
                .map(|p| p.decision),
            Ok(Decision::NotInsured)
        );
        assert_eq!(
            c.assess(claimant("I21", 1_000_000, true)).map(|p| p.amount),
            Ok(20_000)
        );
        assert_eq!(c.assess(Hash([0xee; 32])), Err(Error::DataUnavailable));
    }

    #[test]
    fn only_the_owner_changes_the_policy() {
        test::reset();
        let mut c = Claims::default();
        c.new(policy());
        test::set_caller(test::accounts().bob);
        assert_eq!(c.set_policy(policy()), Err(Error::NotOwner));
    }
}

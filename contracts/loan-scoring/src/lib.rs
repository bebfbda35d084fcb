//! Loan scoring for a bank: the owner sets the lending policy; `score(applicant, requested)`
//! runs as a sealed call over the applicant's tax income, employment and real-estate records
//! (read with her consent) and returns only the offer: approved, amount, rate.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;
use civitas_sdk::sealed::SealedError;

/// Dataset read for income.
pub const INCOME: &str = "tax.annual_income";
/// Dataset read for employment.
pub const EMPLOYMENT: &str = "social_security.employment";
/// Dataset read for property.
pub const HOLDINGS: &str = "real_estate.holdings";

/// `tax.annual_income` record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Income {
    /// Tax year.
    pub year: u32,
    /// Gross income.
    pub gross_income: u64,
    /// Tax paid.
    pub tax_paid: u64,
}

/// `social_security.employment` record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Employment {
    /// Employer name.
    pub employer: String,
    /// Currently employed.
    pub employed: bool,
    /// Months with the current employer.
    pub months_employed: u32,
    /// Monthly salary.
    pub monthly_salary: u64,
}

/// `real_estate.holdings` record.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Holdings {
    /// Properties owned.
    pub properties: u32,
    /// Their total value.
    pub total_value: u64,
    /// Whether any is mortgaged.
    pub mortgaged: bool,
}

/// The bank's lending policy.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Policy {
    /// Lowest annual income that can borrow.
    pub min_income: u64,
    /// Largest loan as a multiple of annual income.
    pub income_multiple: u32,
    /// Largest loan at all.
    pub max_amount: u64,
    /// Months of current employment required.
    pub min_months_employed: u32,
    /// Base interest rate, basis points.
    pub base_rate_bps: u32,
    /// Rate reduction for applicants owning unmortgaged property, basis points.
    pub property_discount_bps: u32,
}

/// The answer the bank learns.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Offer {
    /// Whether a loan is offered.
    pub approved: bool,
    /// Amount offered (0 when declined).
    pub amount: u64,
    /// Interest rate, basis points (0 when declined).
    pub rate_bps: u32,
}

/// Storage.
#[storage]
pub struct LoanScoring {
    owner: Value<AccountId>,
    policy: Value<Policy>,
}

/// Failures.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {
    /// Only the owner may change the policy.
    NotOwner,
    /// A policy with a zero multiple or a discount above the base rate.
    BadPolicy,
    /// The chain refused a record read (no consent, no record, …).
    DataUnavailable,
    /// A record does not decode as its dataset's schema.
    BadRecord,
}

fn read<T: Decode>(applicant: &Hash, dataset: &str) -> Result<T, Error> {
    sealed::read(applicant, dataset).map_err(|e| match e {
        SealedError::Refused => Error::DataUnavailable,
        SealedError::Decode => Error::BadRecord,
    })
}

fn check(policy: &Policy) -> Result<(), Error> {
    if policy.income_multiple == 0 || policy.property_discount_bps > policy.base_rate_bps {
        return Err(Error::BadPolicy);
    }
    Ok(())
}

/// The decision, from the three records and the policy.
pub fn decide(
    policy: &Policy,
    income: &Income,
    job: &Employment,
    holdings: Option<&Holdings>,
    requested: u64,
) -> Offer {
    let declined = Offer {
        approved: false,
        amount: 0,
        rate_bps: 0,
    };
    if income.gross_income < policy.min_income
        || !job.employed
        || job.months_employed < policy.min_months_employed
    {
        return declined;
    }
    let ceiling = income
        .gross_income
        .saturating_mul(u64::from(policy.income_multiple))
        .min(policy.max_amount);
    let amount = requested.min(ceiling);
    if amount == 0 {
        return declined;
    }
    let owns_free_property = holdings.is_some_and(|h| h.properties > 0 && !h.mortgaged);
    let rate_bps = if owns_free_property {
        policy.base_rate_bps - policy.property_discount_bps
    } else {
        policy.base_rate_bps
    };
    Offer {
        approved: true,
        amount,
        rate_bps,
    }
}

#[contract]
impl LoanScoring {
    /// Deploys with the bank's policy; the deployer owns it.
    #[constructor]
    pub fn new(&mut self, policy: Policy) -> Result<(), Error> {
        check(&policy)?;
        self.owner.set(&env::caller());
        self.policy.set(&policy);
        Ok(())
    }

    /// Changes the policy (owner only).
    #[call]
    pub fn set_policy(&mut self, policy: Policy) -> Result<(), Error> {
        if Some(env::caller()) != self.owner.get() {
            return Err(Error::NotOwner);
        }
        check(&policy)?;
        self.policy.set(&policy);
        Ok(())
    }

    /// The current policy.
    #[view]
    pub fn policy(&self) -> Option<Policy> {
        self.policy.get()
    }

    /// Scores an applicant (run as a sealed call): reads her income, employment and property
    /// records and returns the offer for `requested`.
    #[view]
    pub fn score(&self, applicant: Hash, requested: u64) -> Result<Offer, Error> {
        let policy = self.policy.get().ok_or(Error::BadPolicy)?;
        let income: Income = read(&applicant, INCOME)?;
        let job: Employment = read(&applicant, EMPLOYMENT)?;
        let holdings: Option<Holdings> = match read(&applicant, HOLDINGS) {
            Ok(h) => Some(h),
            Err(Error::DataUnavailable) => None,
            Err(e) => return Err(e),
        };
        Ok(decide(&policy, &income, &job, holdings.as_ref(), requested))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_sdk::test;

    fn policy() -> Policy {
        Policy {
            min_income: 30_000,
            income_multiple: 5,
            max_amount: 400_000,
            min_months_employed: 12,
            base_rate_bps: 450,
            property_discount_bps: 50,
        }
    }

    fn applicant(income: u64, months: u32, free_property: bool) -> Hash {
        let who = Hash([income as u8; 32]);
        test::set_sealed_record(
            who,
            INCOME,
            Income {
                year: 2025,
                gross_income: income,
                tax_paid: income / 5,
            }
            .encode(),
        );
        test::set_sealed_record(
            who,
            EMPLOYMENT,
            Employment {
                employer: "ACME".into(),
                employed: true,
                months_employed: months,
                monthly_salary: income / 12,
            }
            .encode(),
        );
        if free_property {
            test::set_sealed_record(
                who,
                HOLDINGS,
                Holdings {
                    properties: 1,
                    total_value: 250_000,
                    mortgaged: false,
                }
                .encode(),
            );
        }
        who
    }

    fn deployed() -> LoanScoring {
        test::reset();
        let mut s = LoanScoring::default();
        s.new(policy()).expect("deploy");
        s
    }

    #[test]
    fn offers_follow_income_employment_and_property() {
        let s = deployed();
        let a = applicant(60_000, 24, true);
        assert_eq!(
            s.score(a, 500_000),
            Ok(Offer {
                approved: true,
                amount: 300_000,
                rate_bps: 400
            })
        );
        assert_eq!(
            test::sealed_reads(),
            vec![
                (a, INCOME.to_string()),
                (a, EMPLOYMENT.to_string()),
                (a, HOLDINGS.to_string())
            ]
        );
        let b = applicant(90_000, 24, false);
        assert_eq!(s.score(b, 100_000).map(|o| o.rate_bps), Ok(450));
        let short = applicant(70_000, 3, false);
        assert_eq!(s.score(short, 100_000).map(|o| o.approved), Ok(false));
        let poor = applicant(20_000, 48, true);
        assert_eq!(s.score(poor, 10_000).map(|o| o.amount), Ok(0));
    }

    #[test]
    fn refused_reads_and_bad_records_are_errors() {
        let s = deployed();
        assert_eq!(s.score(Hash([9; 32]), 1_000), Err(Error::DataUnavailable));
        let a = Hash([8; 32]);
        test::set_sealed_record(a, INCOME, vec![1, 2]);
        assert_eq!(s.score(a, 1_000), Err(Error::BadRecord));
    }

    #[test]
    fn only_the_owner_changes_the_policy() {
        let mut s = deployed();
        test::set_caller(test::accounts().bob);
        assert_eq!(s.set_policy(policy()), Err(Error::NotOwner));
        test::set_caller(test::accounts().alice);
        let mut p = policy();
        p.property_discount_bps = 1_000;
        assert_eq!(s.set_policy(p), Err(Error::BadPolicy));
        p = policy();
        p.base_rate_bps = 300;
        assert_eq!(s.set_policy(p.clone()), Ok(()));
        assert_eq!(s.policy(), Some(p));
    }
}

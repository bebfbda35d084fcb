//! The dev genesis: the named dev accounts of `civitas_primitives::dev` (departments, banks, an
//! insurer, a hospital, a regulator and citizens, with keys anyone can derive: never use them
//! outside dev), their balances, roles and the dev datasets.
use civitas_ledger::genesis::GenesisDataset;
use civitas_ledger::{Genesis, GenesisAccount};

pub use civitas_primitives::dev::{dev_key, dev_subject, DEV_ACCOUNTS, DEV_CHAIN_ID};

/// (id, custodian, fields, price) of the datasets registered in the dev genesis.
pub const DEV_DATASETS: &[(&str, &str, &[&str], u128)] = &[
    (
        "tax.annual_income",
        "tax",
        &["year:u32", "gross_income:u64", "tax_paid:u64"],
        5,
    ),
    (
        "social_security.employment",
        "social-security",
        &[
            "employer:text",
            "employed:bool",
            "months_employed:u32",
            "monthly_salary:u64",
        ],
        5,
    ),
    (
        "social_security.coverage",
        "social-security",
        &["insured:bool", "plan:text", "copay_percent:u32"],
        5,
    ),
    (
        "real_estate.holdings",
        "real-estate",
        &["properties:u32", "total_value:u64", "mortgaged:bool"],
        5,
    ),
    (
        "hospital.diagnosis",
        "hospital",
        &["diagnosis_code:text", "inpatient_days:u32", "chronic:bool"],
        8,
    ),
    (
        "hospital.expenses",
        "hospital",
        &["claim_ref:text", "total:u64", "publicly_covered:u64"],
        8,
    ),
];

/// Credits every dev account starts with.
pub const DEV_BALANCE: u128 = 1_000_000_000;

/// The dev genesis.
pub fn dev_genesis() -> Genesis {
    Genesis {
        chain_id: DEV_CHAIN_ID.into(),
        genesis_time_ms: 1_767_225_600_000,
        accounts: DEV_ACCOUNTS
            .iter()
            .map(|(name, roles)| GenesisAccount {
                name: (*name).into(),
                account: dev_key(name).account().to_hex(),
                balance: DEV_BALANCE,
                roles: roles.iter().map(|r| r.to_string()).collect(),
            })
            .collect(),
        upload_roles: vec!["institution".into(), "regulator".into(), "custodian".into()],
        instantiate_roles: vec!["institution".into(), "regulator".into(), "custodian".into()],
        access_key: Some(
            civitas_primitives::AccountId(civitas_primitives::crypto::x25519_public(
                &civitas_primitives::dev::dev_access_key(DEV_CHAIN_ID),
            ))
            .to_hex(),
        ),
        governance_threshold: 3,
        sealed_committee: None,
        committee_key: Some(
            civitas_primitives::AccountId(civitas_primitives::crypto::x25519_public(
                &civitas_primitives::crypto::committee_transport_secret(
                    &civitas_primitives::dev::dev_sealing_key(DEV_CHAIN_ID),
                ),
            ))
            .to_hex(),
        ),
        record_reward: 10,
        fuel_price: 0,
        datasets: DEV_DATASETS
            .iter()
            .map(|(id, custodian, fields, price)| GenesisDataset {
                id: (*id).into(),
                custodian: dev_key(custodian).account().to_hex(),
                fields: fields.iter().map(|f| f.to_string()).collect(),
                price: *price,
            })
            .collect(),
    }
}

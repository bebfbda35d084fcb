//! Dev-mode defaults: the chain id, named accounts for departments, banks, an insurer, a
//! hospital, a regulator and citizens, all with deterministic keys anyone can derive (never use
//! them outside dev), and the genesis built from them.
use civitas_ledger::genesis::GenesisDataset;
use civitas_ledger::{Genesis, GenesisAccount};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::vault::{subject_id, SubjectId};

/// The dev chain id.
pub const DEV_CHAIN_ID: &str = "civitas-dev";

/// (name, roles) of every dev account. The first is the dev validator that produces blocks.
pub const DEV_ACCOUNTS: &[(&str, &[&str])] = &[
    ("tax", &["validator", "custodian"]),
    ("social-security", &["validator", "custodian"]),
    ("civil-affairs", &["validator", "custodian", "identity"]),
    ("real-estate", &["validator", "custodian"]),
    ("hospital", &["custodian"]),
    ("bank-a", &["institution"]),
    ("bank-b", &["institution"]),
    ("insurer", &["institution"]),
    ("regulator", &["regulator"]),
    ("alice", &[]),
    ("bob", &[]),
];

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

/// The subject id of a dev citizen (`alice`, `bob`): her national id is `{name}-national-id`,
/// salted with the dev chain id.
pub fn dev_subject(name: &str) -> SubjectId {
    subject_id(DEV_CHAIN_ID, &format!("{name}-national-id"))
}

/// Credits every dev account starts with.
pub const DEV_BALANCE: u128 = 1_000_000_000;

/// The key of a dev account.
pub fn dev_key(name: &str) -> Keypair {
    Keypair::dev(name)
}

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
        governance_threshold: 3,
        record_reward: 10,
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

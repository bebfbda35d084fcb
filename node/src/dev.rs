//! Dev-mode defaults: the chain id, named accounts for departments, banks, an insurer, a
//! hospital, a regulator and citizens, all with deterministic keys anyone can derive (never use
//! them outside dev), and the genesis built from them.
use civitas_ledger::{Genesis, GenesisAccount};
use civitas_primitives::crypto::Keypair;

/// The dev chain id.
pub const DEV_CHAIN_ID: &str = "civitas-dev";

/// (name, roles) of every dev account. The first is the dev validator that produces blocks.
pub const DEV_ACCOUNTS: &[(&str, &[&str])] = &[
    ("tax", &["validator", "custodian"]),
    ("social-security", &["validator", "custodian"]),
    ("civil-affairs", &["validator", "custodian"]),
    ("real-estate", &["validator", "custodian"]),
    ("hospital", &["custodian"]),
    ("bank-a", &["institution"]),
    ("bank-b", &["institution"]),
    ("insurer", &["institution"]),
    ("regulator", &["regulator"]),
    ("alice", &[]),
    ("bob", &[]),
];

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
    }
}

//! Dev-mode accounts: the chain id and the named accounts of the dev chain (departments, banks,
//! an insurer, a hospital, a regulator and citizens), all with deterministic keys anyone can
//! derive from the name (never use them outside dev). The node builds its dev genesis from this
//! table; clients accept the names wherever an account or a signing key is asked for.
use alloc::format;

use crate::crypto::Keypair;
use crate::vault::{subject_id, SubjectId};

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

/// Whether `name` is a dev account.
pub fn is_dev_account(name: &str) -> bool {
    DEV_ACCOUNTS.iter().any(|(n, _)| *n == name)
}

/// The key of a dev account (any name derives a key; [`is_dev_account`] says whether it is one
/// of the dev chain's).
pub fn dev_key(name: &str) -> Keypair {
    Keypair::dev(name)
}

/// The subject id of a dev citizen (`alice`, `bob`): her national id is `{name}-national-id`,
/// salted with the dev chain id.
pub fn dev_subject(name: &str) -> SubjectId {
    subject_id(DEV_CHAIN_ID, &format!("{name}-national-id"))
}

/// The dev and devnet chain sealing key of `chain_id` (anyone can derive it: dev only).
pub fn dev_sealing_key(chain_id: &str) -> [u8; 32] {
    crate::sha3_256(format!("civitas/dev-sealing-key/{chain_id}").as_bytes()).0
}

/// The dev and devnet chain access key of `chain_id`: the x25519 secret that opens private
/// call bodies (anyone can derive it: dev only).
pub fn dev_access_key(chain_id: &str) -> [u8; 32] {
    crate::sha3_256(format!("civitas/dev-access-key/{chain_id}").as_bytes()).0
}

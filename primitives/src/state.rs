//! Public state records that clients decode from proven values (`state_getProof`): an
//! account's nonce, credits and roles, and a regulator's decision on a code hash. The ledger
//! stores exactly these encodings, so a wallet reads the same bytes the state root commits.
use parity_scale_codec::{Decode, Encode};
use scale_info::TypeInfo;

use crate::tx::RoleSet;
use crate::AccountId;

/// An account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct AccountInfo {
    /// Next expected nonce.
    pub nonce: u64,
    /// Credits.
    pub balance: u128,
    /// Roles held.
    pub roles: RoleSet,
}

/// A regulator's decision on a code hash.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct CodeApproval {
    /// Approved (true) or withdrawn (false).
    pub approved: bool,
    /// The regulator.
    pub regulator: AccountId,
    /// Height of the decision.
    pub height: u64,
}

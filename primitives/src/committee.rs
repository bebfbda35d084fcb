//! The sealed-compute committee: the department validators, named by governance, that alone
//! hold record payloads and the chain sealing key. Blocks carry only a sealed call's public
//! effects; after the call's block commits, each member runs it over the granted records and
//! attests the salted hash of its padded result, and the hash becomes the call's public output
//! once a threshold of members attested the same value.
use alloc::vec::Vec;
use parity_scale_codec::{Decode, Encode};
use scale_info::TypeInfo;

use crate::{AccountId, Hash};

/// Most attestations one transaction carries.
pub const MAX_ATTESTATIONS: usize = 1024;

/// Blocks after a sealed call's block before its attestations are admitted: members run the
/// call as soon as its block commits and attest once the head is this many blocks further, so
/// when an attestation lands says nothing about how long the call ran.
pub const ATTESTATION_DELAY: u64 = 2;

/// Who computes sealed calls and how many must agree.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SealedCommittee {
    /// The members (validator accounts), sorted, no duplicates.
    pub members: Vec<AccountId>,
    /// Identical attestations that make an output hash final (1..=members).
    pub threshold: u32,
}

impl SealedCommittee {
    /// The default committee of a validator set: its first `min(3, n)` validators, with a
    /// majority of them as the threshold, so one member down does not stop results.
    pub fn default_for(validators: &[AccountId]) -> Self {
        let mut members: Vec<AccountId> = validators.iter().take(3).copied().collect();
        members.sort();
        members.dedup();
        let threshold = (members.len() / 2 + 1) as u32;
        SealedCommittee { members, threshold }
    }

    /// Whether `account` is a member.
    pub fn contains(&self, account: &AccountId) -> bool {
        self.members.binary_search(account).is_ok()
    }

    /// Why the committee cannot work, if it cannot: no members, members unsorted or repeated,
    /// or a threshold outside 1..=members.
    pub fn problem(&self) -> Option<&'static str> {
        if self.members.is_empty() {
            return Some("the sealed-compute committee has no members");
        }
        if self.members.windows(2).any(|w| w[0] >= w[1]) {
            return Some("the committee's members must be sorted and distinct");
        }
        if self.threshold == 0 || self.threshold as usize > self.members.len() {
            return Some("the committee's threshold must be between 1 and its number of members");
        }
        None
    }
}

/// One member's claim: running sealed call `call` gave the output hash `output_hash`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SealedAttestation {
    /// The sealed call's transaction hash.
    pub call: Hash,
    /// The salted hash of its padded result.
    pub output_hash: Hash,
}

/// A committee member's request for record payloads it lacks (it was down when they were
/// forwarded), the body of a signed `vault_committeeRecords` request.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct RecordsFetch {
    /// Hashes of the committed records wanted.
    pub records: Vec<Hash>,
    /// The requester's one-time x25519 public key: the reply (SCALE `Vec<Record>`) is
    /// encrypted to it.
    pub reply_key: [u8; 32],
}

/// A new committee member's request for the chain sealing key, the body of a signed
/// `vault_committeeSealingKey` request from its validator key.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SealingKeyFetch {
    /// The requester's one-time x25519 public key: the reply (the 32-byte key) is encrypted
    /// to it.
    pub reply_key: [u8; 32],
}

/// Where a sealed call's result stands on chain.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SealedOutcome {
    /// The height of the call's block.
    pub height: u64,
    /// The output hash a threshold of members attested, once they have.
    pub output_hash: Option<Hash>,
    /// Height at which it became final.
    pub attested_at: Option<u64>,
    /// Members that attested so far (any value).
    pub attestations: u32,
    /// Whether two members attested different values (an alarm: someone's node is wrong).
    pub disputed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(b: u8) -> AccountId {
        AccountId([b; 32])
    }

    #[test]
    fn the_default_committee_is_three_validators_with_a_majority_threshold() {
        let c = SealedCommittee::default_for(&[acc(4), acc(2), acc(3), acc(1)]);
        assert_eq!(c.members, alloc::vec![acc(2), acc(3), acc(4)]);
        assert_eq!(c.threshold, 2);
        assert_eq!(c.problem(), None);
        assert!(c.contains(&acc(3)) && !c.contains(&acc(1)));
        let solo = SealedCommittee::default_for(&[acc(9)]);
        assert_eq!((solo.members.len(), solo.threshold), (1, 1));
    }

    #[test]
    fn an_unworkable_committee_is_named() {
        let empty = SealedCommittee {
            members: alloc::vec![],
            threshold: 1,
        };
        assert!(empty.problem().is_some());
        let unsorted = SealedCommittee {
            members: alloc::vec![acc(2), acc(1)],
            threshold: 1,
        };
        assert!(unsorted.problem().is_some());
        let too_high = SealedCommittee {
            members: alloc::vec![acc(1), acc(2)],
            threshold: 3,
        };
        assert!(too_high.problem().is_some());
    }
}

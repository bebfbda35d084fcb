//! The engine's [`Context`] for Civitas: what a height, an address, a value, a vote and a
//! proposal are, the validator set and the proposer rotation.
//!
//! - Height: the block height.
//! - Address: a department's account id (its ed25519 public key); every validator has
//!   voting power 1.
//! - Value: the block's hash ([`BlockId`]). The block itself travels as a proposal part
//!   ([`ProposalPart`]) next to the signed proposal, so the proposal, the votes and the WAL carry
//!   32 bytes instead of the block, and a value id is exactly what our certificates sign.
//! - Proposer of `(height, round)`: `(height + round) mod n` over the set sorted by address,
//!   the same on every node.
use std::fmt;
use std::sync::Arc;

use borsh::{BorshDeserialize, BorshSerialize};
use civitas_primitives::{AccountId, Hash};
use malachitebft_core_types::{
    Context, LinearTimeouts, NilOrVal, Round, SignedExtension, ValueId, VoteType, VotingPower,
};

use super::signing::{Ed25519Scheme, PublicKey, Signature};

/// A block height.
#[derive(
    Copy,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl malachitebft_core_types::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

/// A validator's address: the department's account id.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct Address(pub [u8; 32]);

impl Address {
    /// The account this address is.
    pub fn account(&self) -> AccountId {
        AccountId(self.0)
    }
}

impl From<AccountId> for Address {
    fn from(a: AccountId) -> Self {
        Address(a.0)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.account().fmt(f)
    }
}

impl malachitebft_core_types::Address for Address {}

/// The value consensus decides: the hash of a block header.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct BlockId(pub [u8; 32]);

impl BlockId {
    /// The block hash.
    pub fn hash(&self) -> Hash {
        Hash(self.0)
    }
}

impl From<Hash> for BlockId {
    fn from(h: Hash) -> Self {
        BlockId(h.0)
    }
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.hash().fmt(f)
    }
}

impl malachitebft_core_types::Value for BlockId {
    type Id = BlockId;

    fn id(&self) -> BlockId {
        *self
    }
}

/// A validator: a department with voting power 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    address: Address,
    public_key: PublicKey,
}

impl Validator {
    /// The validator of `account`.
    pub fn new(account: AccountId) -> Self {
        Validator {
            address: Address(account.0),
            public_key: PublicKey(account.0),
        }
    }
}

impl malachitebft_core_types::Validator<CivitasContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        1
    }
}

/// The validators of a height, sorted by address, without repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
}

impl ValidatorSet {
    /// The set of `accounts` (in any order).
    pub fn new(accounts: &[AccountId]) -> Self {
        let set = civitas_primitives::block::canonical_set(accounts);
        ValidatorSet {
            validators: set.into_iter().map(Validator::new).collect(),
        }
    }

    /// Whether the set is empty (consensus cannot run on it).
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }
}

impl malachitebft_core_types::ValidatorSet<CivitasContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        self.validators.len() as VotingPower
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.validators
            .binary_search_by(|v| v.address.cmp(address))
            .ok()
            .and_then(|i| self.validators.get(i))
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}

/// A proposal: the proposer's signed claim that `value` is its block for `(height, round)`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The block hash.
    pub value: BlockId,
    /// The round of the polka that makes the proposer re-propose `value` (nil otherwise).
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Address,
}

impl malachitebft_core_types::Proposal<CivitasContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &BlockId {
        &self.value
    }

    fn take_value(self) -> BlockId {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &Address {
        &self.proposer
    }
}

/// A prevote or precommit. Votes carry no extension (the ledger uses none).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    /// Prevote or precommit.
    pub vote_type: VoteType,
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The block voted for, or nil.
    pub value: NilOrVal<BlockId>,
    /// The voter.
    pub validator: Address,
}

impl malachitebft_core_types::Vote<CivitasContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<ValueId<CivitasContext>> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<ValueId<CivitasContext>> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.vote_type
    }

    fn validator_address(&self) -> &Address {
        &self.validator
    }

    fn extension(&self) -> Option<&SignedExtension<CivitasContext>> {
        None
    }

    fn take_extension(&mut self) -> Option<SignedExtension<CivitasContext>> {
        None
    }

    fn extend(self, _extension: SignedExtension<CivitasContext>) -> Self {
        self
    }
}

/// The block of a proposal, as one streamed part: the SCALE-encoded block and the proposer's
/// signature over it (see `signing::part_message`), so a relayed part is checked against the
/// proposer of its round before it is executed.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ProposalPart {
    /// Height.
    pub height: Height,
    /// Round.
    pub round: Round,
    /// The round of the polka behind a re-proposal (nil for a new block).
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Address,
    /// The SCALE-encoded block.
    pub block: Vec<u8>,
    /// The proposer's signature over the part.
    pub signature: Signature,
}

impl malachitebft_core_types::ProposalPart<CivitasContext> for ProposalPart {
    fn is_first(&self) -> bool {
        true
    }

    fn is_last(&self) -> bool {
        true
    }
}

/// The Civitas consensus context: the chain id is part of every signed message.
#[derive(Clone, Debug)]
pub struct CivitasContext {
    chain_id: Arc<str>,
}

impl CivitasContext {
    /// The context of chain `chain_id`.
    pub fn new(chain_id: &str) -> Self {
        CivitasContext {
            chain_id: chain_id.into(),
        }
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }
}

/// The index of the proposer of `(height, round)` in a set of `n` validators.
pub fn proposer_index(height: u64, round: Round, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let round = u64::from(round.as_u32().unwrap_or(0));
    (height.wrapping_add(round) % n as u64) as usize
}

impl Context for CivitasContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = BlockId;
    type Vote = Vote;
    type Extension = Vec<u8>;
    type SigningScheme = Ed25519Scheme;

    fn select_proposer<'a>(
        &self,
        validator_set: &'a ValidatorSet,
        height: Height,
        round: Round,
    ) -> &'a Validator {
        let index = proposer_index(height.0, round, validator_set.validators.len());
        // The engine never runs a height on an empty set: the app refuses to start one
        // (`app::height_params`).
        #[allow(clippy::indexing_slicing)]
        &validator_set.validators[index]
    }

    fn new_proposal(
        &self,
        height: Height,
        round: Round,
        value: BlockId,
        pol_round: Round,
        address: Address,
    ) -> Proposal {
        Proposal {
            height,
            round,
            value,
            pol_round,
            proposer: address,
        }
    }

    fn new_prevote(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockId>,
        address: Address,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Prevote,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }

    fn new_precommit(
        &self,
        height: Height,
        round: Round,
        value_id: NilOrVal<BlockId>,
        address: Address,
    ) -> Vote {
        Vote {
            vote_type: VoteType::Precommit,
            height,
            round,
            value: value_id,
            validator: address,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proposer_rotates_by_height_and_round_over_the_sorted_set() {
        assert_eq!(proposer_index(1, Round::new(0), 4), 1);
        assert_eq!(proposer_index(1, Round::new(1), 4), 2);
        assert_eq!(proposer_index(4, Round::new(0), 4), 0);
        assert_eq!(proposer_index(7, Round::new(2), 4), 1);
    }
}

//! Signing of consensus messages with the department's ed25519 key
//! (`civitas_primitives::crypto`), so that a precommit for a block IS a commit signature of
//! ours: its signed bytes are [`vote_message`]`(chain_id, height, round, block_hash)`, and the
//! engine's decided certificate converts into a [`CommitCertificate`] that
//! [`civitas_primitives::certificate::verify_certificate`] accepts, with no engine code.
//!
//! Every other message has a domain of its own, so no signature can be replayed as another
//! kind: prevotes and nil precommits ([`other_vote_message`]), proposals
//! ([`proposal_message`]), proposal parts ([`part_message`]), vote extensions and the
//! proof-of-validator that ties the network key to the account.
//!
//! [`CommitCertificate`]: civitas_primitives::block::CommitCertificate
use async_trait::async_trait;
use borsh::{BorshDeserialize, BorshSerialize};
use civitas_primitives::block::vote_message;
use civitas_primitives::certificate::verify_signature;
use civitas_primitives::crypto::Keypair;
use civitas_primitives::{sha3_256, AccountId, Hash};
use malachitebft_core_types::{
    NilOrVal, Round, SignedMessage, SigningScheme, ValidatorProof, VoteExtensionScope, VoteType,
};
use malachitebft_signing::{Error as SigningError, Signer, VerificationResult, Verifier};
use parity_scale_codec::Encode;
use thiserror::Error;

use super::types::{Address, CivitasContext, Proposal, ProposalPart, Vote};

/// Domain of prevotes and nil precommits.
pub const OTHER_VOTE_DOMAIN: &[u8] = b"civitas/consensus-vote/v1";
/// Domain of proposals.
pub const PROPOSAL_DOMAIN: &[u8] = b"civitas/proposal/v1";
/// Domain of proposal parts (the block a proposer streams).
pub const PART_DOMAIN: &[u8] = b"civitas/proposal-part/v1";
/// Domain of vote extensions (unused by the ledger, signed for completeness).
pub const EXTENSION_DOMAIN: &[u8] = b"civitas/vote-extension/v1";
/// Domain of the proof that a network key belongs to a validator.
pub const VALIDATOR_PROOF_DOMAIN: &[u8] = b"civitas/validator-proof/v1";

/// An ed25519 signature.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct Signature(pub [u8; 64]);

/// An ed25519 public key: the account id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PublicKey(pub [u8; 32]);

/// A private key: the 32-byte seed.
#[derive(Clone)]
pub struct PrivateKey(pub [u8; 32]);

/// Bytes that are not a signature or a public key.
#[derive(Debug, Error)]
#[error("expected {expected} bytes, got {got}")]
pub struct KeyDecodingError {
    expected: usize,
    got: usize,
}

/// The signing scheme: ed25519 as `civitas_primitives::crypto` does it (strict verification).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519Scheme;

impl SigningScheme for Ed25519Scheme {
    type DecodingError = KeyDecodingError;
    type Signature = Signature;
    type PublicKey = PublicKey;
    type PrivateKey = PrivateKey;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, KeyDecodingError> {
        <[u8; 64]>::try_from(bytes)
            .map(Signature)
            .map_err(|_| KeyDecodingError {
                expected: 64,
                got: bytes.len(),
            })
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, KeyDecodingError> {
        <[u8; 32]>::try_from(bytes)
            .map(PublicKey)
            .map_err(|_| KeyDecodingError {
                expected: 32,
                got: bytes.len(),
            })
    }

    fn encode_public_key(public_key: &PublicKey) -> Vec<u8> {
        public_key.0.to_vec()
    }
}

fn round_code(round: Round) -> i64 {
    round.as_i64()
}

/// What a validator signs for a vote: a precommit for a block is our commit vote
/// ([`vote_message`]); a prevote or a nil precommit is signed under [`OTHER_VOTE_DOMAIN`].
pub fn vote_signing_hash(chain_id: &str, vote: &Vote) -> Hash {
    match (vote.vote_type, &vote.value, vote.round.as_u32()) {
        (VoteType::Precommit, NilOrVal::Val(block), Some(round)) => {
            vote_message(chain_id, vote.height.0, round, &block.hash())
        }
        _ => other_vote_message(chain_id, vote),
    }
}

/// The signed hash of a prevote or a nil precommit.
pub fn other_vote_message(chain_id: &str, vote: &Vote) -> Hash {
    let mut bytes = OTHER_VOTE_DOMAIN.to_vec();
    chain_id.encode_to(&mut bytes);
    let kind: u8 = match vote.vote_type {
        VoteType::Prevote => 0,
        VoteType::Precommit => 1,
    };
    kind.encode_to(&mut bytes);
    vote.height.0.encode_to(&mut bytes);
    round_code(vote.round).encode_to(&mut bytes);
    match &vote.value {
        NilOrVal::Nil => 0u8.encode_to(&mut bytes),
        NilOrVal::Val(b) => {
            1u8.encode_to(&mut bytes);
            bytes.extend_from_slice(&b.0);
        }
    }
    sha3_256(&bytes)
}

/// The signed hash of a proposal.
pub fn proposal_message(chain_id: &str, p: &Proposal) -> Hash {
    let mut bytes = PROPOSAL_DOMAIN.to_vec();
    chain_id.encode_to(&mut bytes);
    p.height.0.encode_to(&mut bytes);
    round_code(p.round).encode_to(&mut bytes);
    round_code(p.pol_round).encode_to(&mut bytes);
    bytes.extend_from_slice(&p.value.0);
    bytes.extend_from_slice(&p.proposer.0);
    sha3_256(&bytes)
}

/// The signed hash of a proposal part: its height, rounds, proposer and the hash of its bytes.
pub fn part_message(chain_id: &str, part: &ProposalPart) -> Hash {
    let mut bytes = PART_DOMAIN.to_vec();
    chain_id.encode_to(&mut bytes);
    part.height.0.encode_to(&mut bytes);
    round_code(part.round).encode_to(&mut bytes);
    round_code(part.pol_round).encode_to(&mut bytes);
    bytes.extend_from_slice(&part.proposer.0);
    bytes.extend_from_slice(&sha3_256(&part.block).0);
    sha3_256(&bytes)
}

fn extension_message(
    chain_id: &str,
    scope: &VoteExtensionScope<CivitasContext>,
    extension: &[u8],
) -> Hash {
    let mut bytes = EXTENSION_DOMAIN.to_vec();
    chain_id.encode_to(&mut bytes);
    scope.height.0.encode_to(&mut bytes);
    round_code(scope.round).encode_to(&mut bytes);
    bytes.extend_from_slice(&scope.value_id.0);
    bytes.extend_from_slice(&scope.validator_address.0);
    extension.encode_to(&mut bytes);
    sha3_256(&bytes)
}

fn proof_message(public_key: &[u8], peer_id: &[u8]) -> Hash {
    let mut bytes = VALIDATOR_PROOF_DOMAIN.to_vec();
    bytes.extend_from_slice(&ValidatorProof::<CivitasContext>::signing_bytes(
        public_key, peer_id,
    ));
    sha3_256(&bytes)
}

fn verdict(public_key: &PublicKey, hash: &Hash, signature: &Signature) -> VerificationResult {
    VerificationResult::from_bool(verify_signature(
        &AccountId(public_key.0),
        hash,
        &signature.0,
    ))
}

/// Checks signatures of consensus messages of one chain.
#[derive(Clone, Debug)]
pub struct Ed25519Verifier {
    chain_id: String,
}

impl Ed25519Verifier {
    /// A verifier for chain `chain_id`.
    pub fn new(chain_id: &str) -> Self {
        Ed25519Verifier {
            chain_id: chain_id.into(),
        }
    }

    /// Whether `part` is signed by the proposer it names.
    pub fn part_is_signed(&self, part: &ProposalPart) -> bool {
        verify_signature(
            &part.proposer.account(),
            &part_message(&self.chain_id, part),
            &part.signature.0,
        )
    }

    /// Whether `signature` over `vote` is the voter's.
    pub fn vote_is_signed(&self, vote: &Vote, signature: &Signature) -> bool {
        verify_signature(
            &vote.validator.account(),
            &vote_signing_hash(&self.chain_id, vote),
            &signature.0,
        )
    }

    /// Whether `signature` over `proposal` is the proposer's.
    pub fn proposal_is_signed(&self, proposal: &Proposal, signature: &Signature) -> bool {
        verify_signature(
            &proposal.proposer.account(),
            &proposal_message(&self.chain_id, proposal),
            &signature.0,
        )
    }
}

#[async_trait]
impl Verifier<CivitasContext> for Ed25519Verifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(
            public_key,
            &vote_signing_hash(&self.chain_id, vote),
            signature,
        ))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(
            public_key,
            &proposal_message(&self.chain_id, proposal),
            signature,
        ))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<CivitasContext>,
        extension: &Vec<u8>,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SigningError> {
        Ok(verdict(
            public_key,
            &extension_message(&self.chain_id, scope, extension),
            signature,
        ))
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<CivitasContext>,
    ) -> Result<VerificationResult, SigningError> {
        let Ok(key) = Ed25519Scheme::decode_public_key(&proof.public_key) else {
            return Ok(VerificationResult::Invalid);
        };
        Ok(verdict(
            &key,
            &proof_message(&proof.public_key, &proof.peer_id),
            &proof.signature,
        ))
    }
}

/// Signs this validator's consensus messages.
pub struct Ed25519Signer {
    key: Keypair,
    chain_id: String,
}

impl Ed25519Signer {
    /// A signer with `key` on chain `chain_id`.
    pub fn new(key: Keypair, chain_id: &str) -> Self {
        Ed25519Signer {
            key,
            chain_id: chain_id.into(),
        }
    }

    /// This validator's address.
    pub fn address(&self) -> Address {
        Address::from(self.key.account())
    }

    /// Signs a proposal part (the block it streams).
    pub fn sign_part(&self, part: &mut ProposalPart) {
        part.signature = Signature(self.key.sign_hash(&part_message(&self.chain_id, part)));
    }

    fn sign(&self, hash: &Hash) -> Signature {
        Signature(self.key.sign_hash(hash))
    }
}

#[async_trait]
impl Signer<CivitasContext> for Ed25519Signer {
    async fn sign_vote(
        &self,
        vote: Vote,
    ) -> Result<SignedMessage<CivitasContext, Vote>, SigningError> {
        let signature = self.sign(&vote_signing_hash(&self.chain_id, &vote));
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<CivitasContext, Proposal>, SigningError> {
        let signature = self.sign(&proposal_message(&self.chain_id, &proposal));
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<CivitasContext>,
        extension: Vec<u8>,
    ) -> Result<SignedMessage<CivitasContext, Vec<u8>>, SigningError> {
        let signature = self.sign(&extension_message(&self.chain_id, &scope, &extension));
        Ok(SignedMessage::new(extension, signature))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<CivitasContext>, SigningError> {
        let signature = self.sign(&proof_message(&public_key, &peer_id));
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::malachite::types::{BlockId, Height};

    fn vote(vote_type: VoteType, value: NilOrVal<BlockId>) -> Vote {
        Vote {
            vote_type,
            height: Height(7),
            round: Round::new(2),
            value,
            validator: Address([1; 32]),
        }
    }

    #[test]
    fn a_precommit_for_a_block_signs_the_ledgers_commit_vote_and_nothing_else_does() {
        let block = BlockId([9; 32]);
        let commit = vote_message("c", 7, 2, &block.hash());
        assert_eq!(
            vote_signing_hash("c", &vote(VoteType::Precommit, NilOrVal::Val(block))),
            commit
        );
        assert_ne!(
            vote_signing_hash("c", &vote(VoteType::Prevote, NilOrVal::Val(block))),
            commit
        );
        assert_ne!(
            vote_signing_hash("c", &vote(VoteType::Prevote, NilOrVal::Nil)),
            vote_signing_hash("c", &vote(VoteType::Precommit, NilOrVal::Nil))
        );
    }
}

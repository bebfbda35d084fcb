//! State proofs: a key's value (or its absence) at a height, with a Jellyfish Merkle proof
//! against that height's state root. [`verify_state_proof`] is the light-client side: it needs
//! only the proof and a root taken from a header the client trusts. The ledger builds proofs
//! with the same [`Sha3Hasher`] and [`key_hash`], and re-exports this verifier, so a node and a
//! client check a proof with one function.
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use jmt::proof::SparseMerkleProof;
use jmt::{KeyHash, RootHash, SimpleHasher};
use parity_scale_codec::{Decode, Encode};
use sha3::Digest;

use crate::Hash;

/// The state tree's hash function: SHA3-256.
pub struct Sha3Hasher(sha3::Sha3_256);

impl SimpleHasher for Sha3Hasher {
    fn new() -> Self {
        Sha3Hasher(sha3::Sha3_256::new())
    }
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }
    fn finalize(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// The tree key of a raw state key.
pub fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash::with::<Sha3Hasher>(key)
}

/// A key's value at a version, with its proof.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StateProof {
    /// Raw state key.
    pub key: Vec<u8>,
    /// Value, or `None` for a proof of absence.
    pub value: Option<Vec<u8>>,
    /// Height (tree version).
    pub version: u64,
    /// Borsh-encoded sparse Merkle proof.
    pub proof: Vec<u8>,
}

/// Why a proof did not verify.
#[derive(Debug, PartialEq, Eq)]
pub enum ProofError {
    /// The proof bytes do not decode.
    Malformed,
    /// The proof does not lead to the root with this key and value.
    Mismatch(String),
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::Malformed => f.write_str("the proof bytes are malformed"),
            ProofError::Mismatch(e) => write!(f, "the proof does not match the state root: {e}"),
        }
    }
}

impl std::error::Error for ProofError {}

/// Verifies `proof` against `state_root` (from a trusted header of `proof.version`).
pub fn verify_state_proof(state_root: &Hash, proof: &StateProof) -> Result<(), ProofError> {
    let smp: SparseMerkleProof<Sha3Hasher> =
        borsh::from_slice(&proof.proof).map_err(|_| ProofError::Malformed)?;
    smp.verify(
        RootHash(state_root.0),
        key_hash(&proof.key),
        proof.value.as_ref(),
    )
    .map_err(|e| ProofError::Mismatch(e.to_string()))
}

/// Why an audit entry as served is not proven.
#[derive(Debug, PartialEq, Eq)]
pub enum AuditProofError {
    /// Its Merkle proof fails.
    Proof(ProofError),
    /// The proven value is not an audit entry.
    Undecodable,
}

impl fmt::Display for AuditProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditProofError::Proof(e) => e.fmt(f),
            AuditProofError::Undecodable => f.write_str("the proven value is not an audit entry"),
        }
    }
}

impl std::error::Error for AuditProofError {}

/// Verifies an audit entry served as (state `key`, `value`, `proof`) against `state_root`, taken
/// from a trusted header of `height`, and decodes it: what a client shows is the proven entry,
/// never the node's description of it. The CLI's `audit --verify` and the wallet both call this.
pub fn verify_audit_entry(
    state_root: &Hash,
    height: u64,
    key: &[u8],
    value: &[u8],
    proof: &[u8],
) -> Result<crate::vault::AuditEntry, AuditProofError> {
    let state_proof = StateProof {
        key: key.to_vec(),
        value: Some(value.to_vec()),
        version: height,
        proof: proof.to_vec(),
    };
    verify_state_proof(state_root, &state_proof).map_err(AuditProofError::Proof)?;
    parity_scale_codec::DecodeAll::decode_all(&mut &value[..])
        .map_err(|_| AuditProofError::Undecodable)
}

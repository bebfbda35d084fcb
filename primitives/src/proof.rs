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

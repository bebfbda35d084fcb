//! State proofs: a key's value (or its absence) at a height, with a Jellyfish Merkle proof
//! against that height's state root. [`verify_state_proof`] is the light-client side: it needs
//! only the proof and a root taken from a header the client trusts.
use civitas_primitives::Hash;
use jmt::proof::SparseMerkleProof;
use jmt::{JellyfishMerkleTree, RootHash};
use parity_scale_codec::{Decode, Encode};
use thiserror::Error;

use crate::state::{key_hash, Sha3Hasher};
use crate::store::Store;
use crate::ExecError;

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
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProofError {
    /// The proof bytes do not decode.
    #[error("the proof bytes are malformed")]
    Malformed,
    /// The proof does not lead to the root with this key and value.
    #[error("the proof does not match the state root: {0}")]
    Mismatch(String),
}

/// Proves `key` at `version` from the store.
pub fn prove(store: &Store, key: &[u8], version: u64) -> Result<StateProof, ExecError> {
    let tree = JellyfishMerkleTree::<_, Sha3Hasher>::new(store);
    let (value, proof) = tree
        .get_with_proof(key_hash(key), version)
        .map_err(|e| ExecError::Tree(e.to_string()))?;
    Ok(StateProof {
        key: key.to_vec(),
        value,
        version,
        proof: borsh::to_vec(&proof).map_err(|e| ExecError::Tree(e.to_string()))?,
    })
}

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

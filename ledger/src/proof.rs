//! State proofs: a key's value (or its absence) at a height, with a Jellyfish Merkle proof
//! against that height's state root. [`prove`] builds one from the store; the light-client side,
//! [`verify_state_proof`], lives in `civitas_primitives::proof` (clients check proofs without
//! the ledger) and is re-exported here.
use jmt::JellyfishMerkleTree;

pub use civitas_primitives::proof::{verify_state_proof, ProofError, StateProof};

use crate::state::{key_hash, Sha3Hasher};
use crate::store::Store;
use crate::ExecError;

/// Proves `key` at `version` from the store. A version the store has pruned fails with
/// [`crate::StoreError::Pruned`] (as [`ExecError::Store`]).
pub fn prove(store: &Store, key: &[u8], version: u64) -> Result<StateProof, ExecError> {
    store.check_retained(version)?;
    let tree = JellyfishMerkleTree::<_, Sha3Hasher>::new(store);
    let (value, proof) = tree.get_with_proof(key_hash(key), version).map_err(|e| {
        // A prune that committed while the proof was read took nodes it needed.
        match store.check_retained(version) {
            Err(pruned) => ExecError::Store(pruned),
            Ok(()) => ExecError::Tree(e.to_string()),
        }
    })?;
    // A proof read while a prune committed may have mixed in what it deleted.
    store.check_retained(version)?;
    Ok(StateProof {
        key: key.to_vec(),
        value,
        version,
        proof: borsh::to_vec(&proof).map_err(|e| ExecError::Tree(e.to_string()))?,
    })
}

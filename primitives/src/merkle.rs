//! Binary Merkle trees over sha3-256 for transaction and receipt roots: domain-separated leaves
//! and nodes, an odd node promoted unchanged, inclusion proofs that a light client verifies.
use alloc::vec::Vec;
use parity_scale_codec::{Decode, Encode};
use scale_info::TypeInfo;
use sha3::{Digest, Sha3_256};

use crate::Hash;

fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha3_256::new();
    h.update([0u8]);
    h.update(data);
    Hash(h.finalize().into())
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha3_256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The level above `level`: pairs hashed together, an odd last node promoted unchanged.
fn parent_level(level: &[Hash]) -> Vec<Hash> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node_hash(l, r),
            [single] => *single,
            _ => Hash::default(),
        })
        .collect()
}

/// The root of `leaves` (each hashed as a leaf). The empty tree's root is all zeros.
pub fn merkle_root<T: AsRef<[u8]>>(leaves: &[T]) -> Hash {
    let mut level: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l.as_ref())).collect();
    if level.is_empty() {
        return Hash::default();
    }
    while level.len() > 1 {
        level = parent_level(&level);
    }
    level[0]
}

/// A proof that a leaf sits at `index` among `leaf_count` leaves.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct MerkleProof {
    /// Leaf position.
    pub index: u64,
    /// Number of leaves.
    pub leaf_count: u64,
    /// Sibling hashes from the leaf up (levels where the node was promoted have none).
    pub siblings: Vec<Hash>,
}

/// The proof for leaf `index`, or `None` if out of range.
pub fn merkle_proof<T: AsRef<[u8]>>(leaves: &[T], index: usize) -> Option<MerkleProof> {
    if index >= leaves.len() {
        return None;
    }
    let mut level: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l.as_ref())).collect();
    let mut pos = index;
    let mut siblings = Vec::new();
    while level.len() > 1 {
        let sibling = pos ^ 1;
        if sibling < level.len() {
            siblings.push(level[sibling]);
        }
        level = parent_level(&level);
        pos /= 2;
    }
    Some(MerkleProof {
        index: index as u64,
        leaf_count: leaves.len() as u64,
        siblings,
    })
}

impl MerkleProof {
    /// Whether `leaf` at this proof's position yields `root`.
    pub fn verify(&self, root: &Hash, leaf: &[u8]) -> bool {
        if self.index >= self.leaf_count {
            return false;
        }
        let mut hash = leaf_hash(leaf);
        let mut pos = self.index;
        let mut width = self.leaf_count;
        let mut siblings = self.siblings.iter();
        while width > 1 {
            let sibling = pos ^ 1;
            if sibling < width {
                let Some(s) = siblings.next() else {
                    return false;
                };
                hash = if pos.is_multiple_of(2) {
                    node_hash(&hash, s)
                } else {
                    node_hash(s, &hash)
                };
            }
            pos /= 2;
            width = width.div_ceil(2);
        }
        siblings.next().is_none() && hash == *root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn proofs_verify_for_every_leaf_and_fail_when_tampered() {
        for n in 1..=9usize {
            let leaves: Vec<Vec<u8>> = (0..n).map(|i| format!("leaf {i}").into_bytes()).collect();
            let root = merkle_root(&leaves);
            for (i, leaf) in leaves.iter().enumerate() {
                let proof = merkle_proof(&leaves, i).expect("in range");
                assert!(proof.verify(&root, leaf), "n={n} i={i}");
                let mut bad = leaf.clone();
                bad[0] ^= 1;
                assert!(!proof.verify(&root, &bad));
                let mut moved = proof.clone();
                moved.index = (moved.index + 1) % n as u64;
                assert!(n == 1 || !moved.verify(&root, leaf));
            }
            assert!(merkle_proof(&leaves, n).is_none());
        }
        assert_eq!(merkle_root::<&[u8]>(&[]), Hash::default());
    }
}

//! State-proof verification. Two kinds of input:
//!
//! - a root and a SCALE-encoded proof (key, value, version, proof bytes) from arbitrary bytes: `verify_state_proof` never panics;
//! - a real in-memory Jellyfish Merkle tree of fuzzed entries and a proof for a fuzzed key:
//!   the honest proof verifies against the root; the same proof never verifies for another
//!   value (another `Some`, or absence instead of presence and back), for another key's
//!   claim, or against another root; a proof with a flipped bit never panics.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use civitas_fuzz::prove;
use civitas_primitives::proof::{verify_state_proof, StateProof};
use civitas_primitives::Hash;
use libfuzzer_sys::fuzz_target;
use parity_scale_codec::DecodeAll;

#[derive(Arbitrary, Debug)]
struct Tree {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    query: Vec<u8>,
    other_value: Vec<u8>,
    other_key: Vec<u8>,
    flip: (u16, u8),
    root_flip: (u8, u8),
}

fn tree(t: Tree) {
    // Distinct keys (the last value wins), at most 32 entries.
    let entries: BTreeMap<Vec<u8>, Vec<u8>> = t.entries.into_iter().take(32).collect();
    let entries: Vec<(Vec<u8>, Vec<u8>)> = entries.into_iter().collect();
    let (root, proofs) = prove(&entries, std::slice::from_ref(&t.query));
    let honest = &proofs[0];
    let actual = entries
        .iter()
        .find(|(k, _)| *k == t.query)
        .map(|(_, v)| v.clone());
    assert_eq!(honest.value, actual, "the tree returned another value");
    assert_eq!(
        verify_state_proof(&root, honest),
        Ok(()),
        "an honest proof fails"
    );

    let claim = |key: &[u8], value: Option<Vec<u8>>| StateProof {
        key: key.to_vec(),
        value,
        ..honest.clone()
    };
    if actual.as_ref() != Some(&t.other_value) {
        let lie = claim(&t.query, Some(t.other_value.clone()));
        assert!(
            verify_state_proof(&root, &lie).is_err(),
            "a proof verifies for another value"
        );
    }
    if actual.is_some() {
        assert!(
            verify_state_proof(&root, &claim(&t.query, None)).is_err(),
            "a presence proof verifies as absence"
        );
    }
    let other_actual = entries
        .iter()
        .find(|(k, _)| *k == t.other_key)
        .map(|(_, v)| v.clone());
    if t.other_key != t.query && actual.is_some() {
        // The proof of one key's value is not a proof of the same value under another key,
        // unless the other key really holds it.
        let moved = claim(&t.other_key, actual.clone());
        if other_actual != actual {
            assert!(
                verify_state_proof(&root, &moved).is_err(),
                "a proof verifies for another key"
            );
        }
    }
    let mut root_bytes = root.0;
    root_bytes[usize::from(t.root_flip.0) % 32] ^= 1 << (t.root_flip.1 % 8);
    assert!(
        verify_state_proof(&Hash(root_bytes), honest).is_err(),
        "a proof verifies against another root"
    );

    if !honest.proof.is_empty() {
        let mut flipped = honest.clone();
        let at = usize::from(t.flip.0) % flipped.proof.len();
        flipped.proof[at] ^= 1 << (t.flip.1 % 8);
        let _ = verify_state_proof(&root, &flipped);
    }
}

// The first byte picks the mode (seeds in corpus/state_proof/ start with it): 0, a 32-byte root
// and a SCALE-encoded `StateProof`; otherwise a structured tree.
fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if bytes.len() < 32 {
            return;
        }
        let (root, rest) = bytes.split_at(32);
        let mut root_bytes = [0u8; 32];
        root_bytes.copy_from_slice(root);
        if let Ok(p) = StateProof::decode_all(&mut &rest[..]) {
            let _ = verify_state_proof(&Hash(root_bytes), &p);
        }
    } else if let Ok(t) = Tree::arbitrary(&mut Unstructured::new(bytes)) {
        tree(t);
    }
});

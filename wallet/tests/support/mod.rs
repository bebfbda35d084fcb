//! Hand-built chains and states for the wallet's tests: a light client that has verified one
//! header (a quorum of a four-validator genesis set) with a chosen state and receipts root, and
//! one-leaf Jellyfish Merkle states whose root and proof follow the tree's own rule, so proofs
//! are the ones `verify_state_proof` checks for a node's tree.
#![allow(dead_code)]
use civitas_primitives::block::{validators_hash, vote_message, CommitCertificate, Header};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::light::LightStep;
use civitas_primitives::proof::key_hash;
use civitas_primitives::{sha3_256, AccountId, Hash};
use civitas_wallet::light::LightClient;

/// The chain id of every hand-built chain.
pub const CHAIN: &str = "wallet-test";
/// The height the light client has verified.
pub const HEIGHT: u64 = 7;
/// Its block time.
pub const TIME_MS: u64 = 7_000;

/// `0x` hex.
pub fn hexed(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// The genesis set's keys.
pub fn validator_keys() -> Vec<Keypair> {
    (0..4).map(|i| Keypair::dev(&format!("v-{i}"))).collect()
}

/// The header at [`HEIGHT`] with these roots, decided by the genesis set.
pub fn header(state_root: [u8; 32], receipts_root: [u8; 32]) -> Header {
    let set: Vec<AccountId> = validator_keys().iter().map(Keypair::account).collect();
    Header {
        chain_id: CHAIN.into(),
        height: HEIGHT,
        parent_hash: Hash([7; 32]),
        time_ms: TIME_MS,
        proposer: set[0],
        tx_root: Hash([0; 32]),
        state_root: Hash(state_root),
        receipts_root: Hash(receipts_root),
        validators_hash: validators_hash(&set),
        next_validators_hash: validators_hash(&set),
    }
}

/// `header` with a certificate of three of the four genesis validators.
pub fn step(header: Header) -> LightStep {
    let keys = validator_keys();
    let set: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    let msg = vote_message(CHAIN, header.height, 0, &header.hash());
    let certificate = CommitCertificate {
        height: header.height,
        round: 0,
        block_hash: header.hash(),
        signatures: keys[..3]
            .iter()
            .map(|k| (k.account(), k.sign_hash(&msg)))
            .collect(),
    };
    LightStep {
        header,
        certificate,
        validators: set,
    }
}

/// A light client pinned to the genesis set that has verified [`HEIGHT`] with these roots.
pub fn verified_with(state_root: [u8; 32], receipts_root: [u8; 32]) -> LightClient {
    let set: Vec<AccountId> = validator_keys().iter().map(Keypair::account).collect();
    let mut light = LightClient::new(CHAIN, &set);
    light
        .verify(&[step(header(state_root, receipts_root))])
        .expect("a quorum of the genesis set");
    light
}

/// A light client that has verified [`HEIGHT`], whose state root is `state_root`.
pub fn verified(state_root: [u8; 32]) -> LightClient {
    verified_with(state_root, [0; 32])
}

/// A state holding only `key = value`: its root (jmt's leaf hash, `JMT::LeafNode` || key hash
/// || value hash) and the inclusion proof, hex (borsh: `Some(leaf)`, no siblings).
pub fn one_leaf(key: &[u8], value: &[u8]) -> ([u8; 32], String) {
    let kh = key_hash(key).0;
    let vh = sha3_256(value).0;
    let mut leaf = b"JMT::LeafNode".to_vec();
    leaf.extend_from_slice(&kh);
    leaf.extend_from_slice(&vh);
    let mut proof = vec![1u8];
    proof.extend_from_slice(&kh);
    proof.extend_from_slice(&vh);
    proof.extend_from_slice(&[0; 4]);
    (sha3_256(&leaf).0, hexed(&proof))
}

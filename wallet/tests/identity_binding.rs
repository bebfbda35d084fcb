//! The wallet's check of her identity binding (`LightClient::check_binding`): the answer the
//! page shows (bound to her key, to another, or to none) is believed only through a state proof
//! of the binding's key against a verified header; a proof of another key, one that does not
//! lead to the header's state root, or one at a height not verified, is refused.
use civitas_primitives::block::{validators_hash, vote_message, CommitCertificate, Header};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::light::LightStep;
use civitas_primitives::{AccountId, Hash};
use civitas_wallet::light::{identity_key, LightClient, ServedProof};
use civitas_wallet::WalletError;

const CHAIN: &str = "binding-test";
/// The root of an empty Jellyfish Merkle tree: jmt's `SPARSE_MERKLE_PLACEHOLDER_HASH`.
const EMPTY_ROOT: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";
/// A borsh-encoded `SparseMerkleProof` with no leaf and no siblings (`Option::None` = 0, then
/// a u32 length 0): the proof of absence in an empty tree.
const EMPTY_PROOF: &str = "0x0000000000";

/// A light client that has verified height 7, whose state root is `state_root`.
fn verified(state_root: [u8; 32]) -> LightClient {
    let keys: Vec<Keypair> = (0..4).map(|i| Keypair::dev(&format!("v-{i}"))).collect();
    let set: Vec<AccountId> = keys.iter().map(Keypair::account).collect();
    let header = Header {
        chain_id: CHAIN.into(),
        height: 7,
        parent_hash: Hash([7; 32]),
        time_ms: 7_000,
        proposer: set[0],
        tx_root: Hash([0; 32]),
        state_root: Hash(state_root),
        receipts_root: Hash([0; 32]),
        validators_hash: validators_hash(&set),
        next_validators_hash: validators_hash(&set),
    };
    let msg = vote_message(CHAIN, 7, 0, &header.hash());
    let certificate = CommitCertificate {
        height: 7,
        round: 0,
        block_hash: header.hash(),
        signatures: keys[..3]
            .iter()
            .map(|k| (k.account(), k.sign_hash(&msg)))
            .collect(),
    };
    let mut light = LightClient::new(CHAIN, &set);
    light
        .verify(&[LightStep {
            header,
            certificate,
            validators: set,
        }])
        .expect("a quorum of the genesis set");
    light
}

fn served(subject: &Hash, height: u64) -> ServedProof {
    ServedProof {
        key: format!("0x{}", hex::encode(identity_key(subject))),
        value: None,
        height,
        proof: EMPTY_PROOF.into(),
    }
}

fn her() -> (Hash, AccountId) {
    (Hash([0x5a; 32]), Keypair::dev("alice").account())
}

#[test]
fn a_proof_of_absence_against_a_verified_root_proves_her_key_unbound() {
    let (subject, account) = her();
    let b = verified(EMPTY_ROOT)
        .check_binding(&subject, &account, &served(&subject, 7))
        .expect("absence proven");
    assert_eq!(b.bound_account, None);
    assert!(!b.mine);
    assert_eq!(b.height, 7);
}

#[test]
fn a_proof_that_does_not_lead_to_the_verified_root_is_refused() {
    let (subject, account) = her();
    let err = verified([1; 32])
        .check_binding(&subject, &account, &served(&subject, 7))
        .expect_err("another root");
    assert!(
        matches!(&err, WalletError::NotVerified(m) if m.contains("fails its proof")),
        "{err}"
    );
}

#[test]
fn a_proof_of_another_key_is_refused() {
    let (subject, account) = her();
    let mut other = served(&subject, 7);
    other.key = format!("0x{}", hex::encode(identity_key(&Hash([0x5b; 32]))));
    let err = verified(EMPTY_ROOT)
        .check_binding(&subject, &account, &other)
        .expect_err("another subject's key");
    assert!(
        matches!(&err, WalletError::NotVerified(m) if m.contains("another key")),
        "{err}"
    );
}

#[test]
fn a_proof_at_a_height_not_verified_is_refused() {
    let (subject, account) = her();
    let err = verified(EMPTY_ROOT)
        .check_binding(&subject, &account, &served(&subject, 8))
        .expect_err("height 8 is not verified");
    assert!(
        matches!(&err, WalletError::NotVerified(m) if m.contains("block 8 is not verified")),
        "{err}"
    );
}

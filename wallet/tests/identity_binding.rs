//! The wallet's check of her identity binding (`LightClient::check_binding`): the answer the
//! page shows (bound to her key, to another, or to none) is believed only through a state proof
//! of the binding's key against a verified header; a proof of another key, one that does not
//! lead to the header's state root, or one at a height not verified, is refused.
mod support;

use civitas_primitives::crypto::Keypair;
use civitas_primitives::{AccountId, Hash};
use civitas_wallet::light::{identity_key, ServedProof};
use civitas_wallet::WalletError;

use support::verified;

/// The root of an empty Jellyfish Merkle tree: jmt's `SPARSE_MERKLE_PLACEHOLDER_HASH`.
const EMPTY_ROOT: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";
/// A borsh-encoded `SparseMerkleProof` with no leaf and no siblings (`Option::None` = 0, then
/// a u32 length 0): the proof of absence in an empty tree.
const EMPTY_PROOF: &str = "0x0000000000";

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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_proof_of_absence_against_a_verified_root_proves_her_key_unbound() {
    let (subject, account) = her();
    let b = verified(EMPTY_ROOT)
        .check_binding(&subject, &account, &served(&subject, 7))
        .expect("absence proven");
    assert_eq!(b.bound_account, None);
    assert!(!b.mine);
    assert_eq!(b.height, 7);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
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

//! The wallet's check of a sealed result addressed to her (`civitas_wallet::sealed::check`):
//! the attested output hash is believed only through a state proof of the call's outcome
//! (`o/` + tx hash) against a verified header, and the decrypted result only when it hashes to
//! it. The state here is a real one-leaf Jellyfish Merkle tree (root and proof built by the
//! tree's own rule), so the proofs are the ones `verify_state_proof` checks for a node's tree.
mod support;

use civitas_primitives::committee::SealedOutcome;
use civitas_primitives::crypto::{seal_to, ReplyKey};
use civitas_primitives::vault::{sealed_output_hash, SealedOutputReply, SealedResult};
use civitas_primitives::Hash;
use civitas_wallet::light::{LightClient, ServedProof};
use civitas_wallet::sealed::{check, outcome_key};
use civitas_wallet::WalletError;
use parity_scale_codec::Encode;

use support::{hexed, one_leaf, verified};

const TX: Hash = Hash([0x7c; 32]);

fn result() -> SealedOutputReply {
    SealedOutputReply {
        result: SealedResult {
            ok: true,
            output: b"loan offer".to_vec(),
            error_code: String::new(),
        },
        salt: Hash([0x33; 32]),
    }
}

/// The chain (a light client verified at the root holding `outcome`), the served outcome proof.
fn chain_with(outcome: &SealedOutcome) -> (LightClient, ServedProof) {
    let value = outcome.encode();
    let (root, proof) = one_leaf(&outcome_key(&TX), &value);
    let served = ServedProof {
        key: hexed(&outcome_key(&TX)),
        value: Some(hexed(&value)),
        height: 7,
        proof,
    };
    (verified(root), served)
}

fn attested(hash: Hash) -> SealedOutcome {
    SealedOutcome {
        height: 5,
        output_hash: Some(hash),
        attested_at: Some(6),
        attestations: 2,
        disputed: false,
    }
}

fn sealed_to(reply: &ReplyKey, r: &SealedOutputReply) -> String {
    hexed(
        &seal_to(&reply.public(), &r.encode())
            .expect("seal")
            .encode(),
    )
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn the_attested_result_proven_against_a_verified_header_is_shown() {
    let r = result();
    let (light, served) = chain_with(&attested(sealed_output_hash(&r.salt, &r.result.padded())));
    let reply = ReplyKey::generate();
    let shown = check(&light, &TX, &served, &reply, &sealed_to(&reply, &r)).expect("verified");
    assert!(shown.ok);
    assert_eq!(shown.output, hexed(b"loan offer"));
    assert_eq!(shown.height, 7);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn another_result_than_the_attested_one_is_refused() {
    let r = result();
    let (light, served) = chain_with(&attested(sealed_output_hash(&r.salt, &r.result.padded())));
    let reply = ReplyKey::generate();
    let mut other = result();
    other.result.output = b"loan offeR".to_vec();
    let err = check(&light, &TX, &served, &reply, &sealed_to(&reply, &other)).expect_err("refused");
    assert!(
        err.to_string().contains("does not match the output hash"),
        "{err}"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_call_not_attested_yet_is_reported_as_such() {
    let pending = SealedOutcome {
        height: 5,
        output_hash: None,
        attested_at: None,
        attestations: 1,
        disputed: false,
    };
    let (light, served) = chain_with(&pending);
    let reply = ReplyKey::generate();
    let err =
        check(&light, &TX, &served, &reply, &sealed_to(&reply, &result())).expect_err("pending");
    assert!(matches!(err, WalletError::NotAttested), "{err}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_attested_hash_whose_proof_fails_is_refused() {
    let r = result();
    let (light, mut served) =
        chain_with(&attested(sealed_output_hash(&r.salt, &r.result.padded())));
    // The node claims another attested hash (the one of the result it serves) for the same proof.
    let mut forged = result();
    forged.result.output = b"no offer".to_vec();
    served.value = Some(hexed(
        &attested(sealed_output_hash(&forged.salt, &forged.result.padded())).encode(),
    ));
    let reply = ReplyKey::generate();
    let err =
        check(&light, &TX, &served, &reply, &sealed_to(&reply, &forged)).expect_err("refused");
    assert!(err.to_string().contains("fails its proof"), "{err}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_proof_of_another_key_or_at_an_unverified_height_is_refused() {
    let r = result();
    let (light, served) = chain_with(&attested(sealed_output_hash(&r.salt, &r.result.padded())));
    let reply = ReplyKey::generate();
    let env = sealed_to(&reply, &r);
    let err = check(&light, &Hash([0x7d; 32]), &served, &reply, &env).expect_err("another tx");
    assert!(err.to_string().contains("another key"), "{err}");
    let mut later = served.clone();
    later.height = 8;
    let err = check(&light, &TX, &later, &reply, &env).expect_err("height 8");
    assert!(err.to_string().contains("block 8 is not verified"), "{err}");
}

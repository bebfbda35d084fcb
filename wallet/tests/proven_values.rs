//! What the page shows besides the trail, each believed only through a proof against a
//! verified header: her consents (status recomputed at the header's block time), her credits,
//! a regulator's approval of a contract's code, a block with its certificate signers, and a
//! receipt against the header's receipts root. Each refusal holds although every other part of
//! the input is valid.
mod support;

use civitas_primitives::block::{receipts_root, Block, Receipt, ReceiptError, ReceiptStatus};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::merkle::merkle_proof;
use civitas_primitives::state::{AccountInfo, CodeApproval};
use civitas_primitives::tx::RoleSet;
use civitas_primitives::vault::{
    ConsentArtefact, ConsentChange, ConsentMode, ConsentRequest, ConsentStatus,
};
use civitas_primitives::Hash;
use civitas_wallet::explorer::{block_view, check_receipt, ServedReceipt};
use civitas_wallet::light::{ServedProof, StepJson};
use civitas_wallet::proven::{
    account_key, approval_key, check_approval, check_consent, check_credits, consent_key,
    ConsentView, ServedConsent,
};
use civitas_wallet::WalletError;
use parity_scale_codec::Encode;

use support::{header, hexed, one_leaf, step, verified, verified_with, HEIGHT, TIME_MS};

/// The root of an empty Jellyfish Merkle tree and the proof of absence in it.
const EMPTY_ROOT: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";
const EMPTY_PROOF: &str = "0x0000000000";

fn not_verified(err: &WalletError, says: &str) -> bool {
    matches!(err, WalletError::NotVerified(m) if m.contains(says))
}

/// Her subject (the consents' subject) and her account.
fn her() -> Option<&'static Hash> {
    const SUBJECT: Hash = Hash([0x5a; 32]);
    Some(&SUBJECT)
}

fn her_account() -> civitas_primitives::AccountId {
    Keypair::dev("alice").account()
}

/// [`check_consent`] as her wallet asks it.
fn check_hers(
    light: &civitas_wallet::light::LightClient,
    served: &ServedConsent,
) -> Result<ConsentView, WalletError> {
    check_consent(light, served, her(), &her_account())
}

fn consent(id: u64, expires_ms: u64) -> ConsentArtefact {
    ConsentArtefact {
        id,
        grantee: Keypair::dev("bank-a").account(),
        request: ConsentRequest {
            subject: Hash([0x5a; 32]),
            datasets: vec!["tax.annual_income".into()],
            purpose: "mortgage pre-approval".into(),
            mode: ConsentMode::Compute,
            code_hash: Some(Hash([0xc0; 32])),
            expires_ms,
            max_uses: 3,
        },
        uses: 1,
        status: ConsentStatus::Active,
        history: vec![ConsentChange {
            status: ConsentStatus::Active,
            height: 5,
            time_ms: 5_000,
        }],
    }
}

/// A chain whose state holds `value` under `key`, and the served proof of it.
fn proven(key: &[u8], value: &[u8]) -> (civitas_wallet::light::LightClient, ServedProof) {
    let (root, proof) = one_leaf(key, value);
    let served = ServedProof {
        key: hexed(key),
        value: Some(hexed(value)),
        height: HEIGHT,
        proof,
    };
    (verified(root), served)
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_proven_consent_is_shown_with_its_status_at_the_verified_block_time() {
    let (light, proof) = proven(&consent_key(4), &consent(4, TIME_MS + 1).encode());
    let view = check_hers(
        &light,
        &ServedConsent {
            id: 4,
            proof: Some(proof),
        },
    )
    .expect("proven");
    assert_eq!(view.status, "active");
    assert_eq!((view.uses, view.max_uses), (1, 3));
    assert_eq!(view.grantee, hexed(&Keypair::dev("bank-a").account().0));
    assert_eq!(view.history, vec![("active".to_string(), 5, 5_000)]);
    // Stored as active, but expired at the verified header's time: the wallet says expired,
    // whatever status the node listed beside it.
    let (light, proof) = proven(&consent_key(4), &consent(4, TIME_MS).encode());
    let view = check_hers(
        &light,
        &ServedConsent {
            id: 4,
            proof: Some(proof),
        },
    )
    .expect("proven");
    assert_eq!(view.status, "expired");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_consent_with_a_failing_proof_another_id_or_no_proof_is_refused() {
    let (light, mut proof) = proven(&consent_key(4), &consent(4, TIME_MS + 1).encode());
    let good = proof.clone();
    proof.value = Some(hexed(&consent(4, TIME_MS + 2).encode()));
    let err = check_hers(
        &light,
        &ServedConsent {
            id: 4,
            proof: Some(proof),
        },
    )
    .expect_err("altered");
    assert!(not_verified(&err, "consent 4 fails its proof"), "{err}");

    // The proof is of consent 4's key, but the node lists it as consent 5.
    let err = check_hers(
        &light,
        &ServedConsent {
            id: 5,
            proof: Some(good),
        },
    )
    .expect_err("id 5");
    assert!(not_verified(&err, "another key"), "{err}");

    // An artefact stored under 4's key that names itself 6.
    let (light, proof) = proven(&consent_key(4), &consent(6, TIME_MS + 1).encode());
    let err = check_hers(
        &light,
        &ServedConsent {
            id: 4,
            proof: Some(proof),
        },
    )
    .expect_err("id 6");
    assert!(not_verified(&err, "proven as consent 6"), "{err}");

    let err = check_hers(&light, &ServedConsent { id: 4, proof: None }).expect_err("no proof");
    assert!(not_verified(&err, "without a proof"), "{err}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn her_credits_are_her_proven_account_record_and_an_absent_account_holds_none() {
    let alice = Keypair::dev("alice").account();
    let info = AccountInfo {
        nonce: 3,
        balance: 340_282_366_920_938_463_463_374_607_431_768_211_455, // u128::MAX: not a JS number
        roles: RoleSet::default(),
    };
    let (light, proof) = proven(&account_key(&alice), &info.encode());
    let c = check_credits(&light, &alice, &proof).expect("proven");
    assert_eq!(c.balance, u128::MAX.to_string());
    assert_eq!(c.height, HEIGHT);

    // Another account's record is not hers.
    let bob = Keypair::dev("bob").account();
    let err = check_credits(&light, &bob, &proof).expect_err("bob's key");
    assert!(not_verified(&err, "another key"), "{err}");

    let absent = ServedProof {
        key: hexed(&account_key(&bob)),
        value: None,
        height: HEIGHT,
        proof: EMPTY_PROOF.into(),
    };
    let c = check_credits(&verified(EMPTY_ROOT), &bob, &absent).expect("absence proven");
    assert_eq!(c.balance, "0");
    let err = check_credits(&verified([3; 32]), &bob, &absent).expect_err("another root");
    assert!(not_verified(&err, "her account fails its proof"), "{err}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_code_approval_is_shown_as_proven_approved_withdrawn_or_never_given() {
    let code = Hash([0xc0; 32]);
    let regulator = Keypair::dev("regulator").account();
    for approved in [true, false] {
        let decision = CodeApproval {
            approved,
            regulator,
            height: 6,
        };
        let (light, proof) = proven(&approval_key(&code), &decision.encode());
        let a = check_approval(&light, &code, &proof).expect("proven");
        assert_eq!(a.approved, approved);
        assert_eq!(a.regulator, Some(hexed(&regulator.0)));
        assert_eq!(a.decided_at, Some(6));
    }
    let absent = ServedProof {
        key: hexed(&approval_key(&code)),
        value: None,
        height: HEIGHT,
        proof: EMPTY_PROOF.into(),
    };
    let a = check_approval(&verified(EMPTY_ROOT), &code, &absent).expect("absence proven");
    assert!(!a.approved);
    assert_eq!(a.regulator, None);
    // An approval of another code hash does not approve this one.
    let decision = CodeApproval {
        approved: true,
        regulator,
        height: 6,
    };
    let (light, proof) = proven(&approval_key(&Hash([0xc1; 32])), &decision.encode());
    let err = check_approval(&light, &code, &proof).expect_err("another code");
    assert!(not_verified(&err, "another key"), "{err}");
}

fn receipts() -> Vec<Receipt> {
    (0..3u8)
        .map(|i| Receipt {
            tx_hash: Hash([i + 1; 32]),
            status: if i == 1 {
                ReceiptStatus::Failed
            } else {
                ReceiptStatus::Success
            },
            fuel_used: 100 + u64::from(i),
            events: vec![],
            output_hash: Hash::default(),
            output: vec![],
            error: (i == 1).then(|| ReceiptError {
                code: "consent_revoked".into(),
                revert_data: vec![],
            }),
        })
        .collect()
}

fn served_receipt(rs: &[Receipt], index: usize) -> ServedReceipt {
    let encoded: Vec<Vec<u8>> = rs.iter().map(Encode::encode).collect();
    ServedReceipt {
        height: HEIGHT,
        index: index as u32,
        raw: Some(hexed(&encoded[index])),
        receipt_proof: merkle_proof(&encoded, index).map(|p| hexed(&p.encode())),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_receipt_is_shown_once_its_path_leads_to_the_verified_receipts_root() {
    let rs = receipts();
    let light = verified_with([0; 32], receipts_root(&rs).0);
    let r = check_receipt(&light, &Hash([2; 32]), &served_receipt(&rs, 1)).expect("proven");
    assert_eq!(
        (r.status.as_str(), r.index, r.fuel_used),
        ("failed", 1, 101)
    );
    assert_eq!(r.error_code.as_deref(), Some("consent_revoked"));
    assert_eq!(r.time_ms, TIME_MS);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn an_altered_misplaced_foreign_or_unproven_receipt_is_refused() {
    let rs = receipts();
    let light = verified_with([0; 32], receipts_root(&rs).0);
    let mut altered = served_receipt(&rs, 1);
    let mut tampered = rs[1].clone();
    tampered.status = ReceiptStatus::Success;
    altered.raw = Some(hexed(&tampered.encode()));
    let err = check_receipt(&light, &Hash([2; 32]), &altered).expect_err("altered");
    assert!(not_verified(&err, "not the one block 7 commits"), "{err}");

    let mut moved = served_receipt(&rs, 1);
    moved.index = 2;
    let err = check_receipt(&light, &Hash([2; 32]), &moved).expect_err("wrong position");
    assert!(not_verified(&err, "at position 2"), "{err}");

    let err = check_receipt(&light, &Hash([9; 32]), &served_receipt(&rs, 1)).expect_err("other tx");
    assert!(not_verified(&err, "another transaction"), "{err}");

    let mut bare = served_receipt(&rs, 1);
    bare.receipt_proof = None;
    let err = check_receipt(&light, &Hash([2; 32]), &bare).expect_err("no proof");
    assert!(not_verified(&err, "without its proof"), "{err}");

    let err = check_receipt(&verified([0; 32]), &Hash([2; 32]), &served_receipt(&rs, 1))
        .expect_err("another receipts root");
    assert!(not_verified(&err, "not the one block 7 commits"), "{err}");
}

fn block_json(s: &civitas_primitives::light::LightStep) -> StepJson {
    let block = Block {
        header: s.header.clone(),
        txs: vec![],
    };
    StepJson {
        raw: hexed(&block.encode()),
        certificate: Some(hexed(&s.certificate.encode())),
        validators: s.validators.iter().map(|v| hexed(&v.0)).collect(),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_verified_block_is_explained_with_the_signers_of_its_certificate() {
    let light = verified([1; 32]);
    let s = step(header([1; 32], [0; 32]));
    let view = block_view(&light, &block_json(&s)).expect("verified block");
    assert_eq!(view.height, HEIGHT);
    assert_eq!(view.set_size, 4);
    let signers: Vec<String> = s
        .certificate
        .signatures
        .iter()
        .map(|(a, _)| hexed(&a.0))
        .collect();
    assert_eq!(view.signers, signers);
    assert_eq!(view.signers.len(), 3);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_block_not_verified_contradicting_or_short_of_quorum_is_refused() {
    let light = verified([1; 32]);
    // Another header at the verified height, validly signed: a contradiction.
    let other = step(header([2; 32], [0; 32]));
    let err = block_view(&light, &block_json(&other)).expect_err("contradicts");
    assert!(
        matches!(err, WalletError::Conflict { height: HEIGHT }),
        "{err}"
    );

    // The verified header with a certificate of only two of four.
    let mut short = step(header([1; 32], [0; 32]));
    short.certificate.signatures.truncate(2);
    let err = block_view(&light, &block_json(&short)).expect_err("no quorum");
    assert!(matches!(err, WalletError::Light(_)), "{err}");

    let mut later = header([1; 32], [0; 32]);
    later.height = HEIGHT + 1;
    let err = block_view(&light, &block_json(&step(later))).expect_err("not verified");
    assert!(not_verified(&err, "block 8 is not verified"), "{err}");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_proven_consent_about_someone_else_is_refused_unless_she_filed_it() {
    let (light, proof) = proven(&consent_key(4), &consent(4, TIME_MS + 1).encode());
    let served = ServedConsent {
        id: 4,
        proof: Some(proof),
    };
    let other = Hash([0x5b; 32]);
    let err = check_consent(&light, &served, Some(&other), &her_account()).expect_err("not hers");
    assert!(
        not_verified(&err, "neither about her nor filed by her"),
        "{err}"
    );
    let err = check_consent(&light, &served, None, &her_account()).expect_err("no subject known");
    assert!(not_verified(&err, "neither about her"), "{err}");
    // The institution that filed it sees it as its own.
    let bank = Keypair::dev("bank-a").account();
    let view = check_consent(&light, &served, Some(&other), &bank).expect("filed by the bank");
    assert_eq!(view.id, 4);
}

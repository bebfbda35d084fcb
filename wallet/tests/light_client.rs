//! The wallet's light-client rules on hand-built chains: headers are believed only with a
//! quorum of a trusted set, a set change only when a verified header announced it, and a header
//! that contradicts one already verified is refused. Each refusal must hold even though every
//! other part of the input is valid.
use civitas_primitives::block::{validators_hash, vote_message, CommitCertificate, Header};
use civitas_primitives::certificate::CertificateError;
use civitas_primitives::crypto::Keypair;
use civitas_primitives::light::{LightError, LightStep};
use civitas_primitives::{AccountId, Hash};
use civitas_wallet::light::LightClient;
use civitas_wallet::WalletError;

const CHAIN: &str = "light-test";

fn keys(prefix: &str, n: usize) -> Vec<Keypair> {
    (0..n)
        .map(|i| Keypair::dev(&format!("{prefix}-{i}")))
        .collect()
}

fn ids(keys: &[Keypair]) -> Vec<AccountId> {
    keys.iter().map(Keypair::account).collect()
}

fn header(height: u64, set: &[AccountId], next: &[AccountId], state: u8) -> Header {
    Header {
        chain_id: CHAIN.into(),
        height,
        parent_hash: Hash([height as u8; 32]),
        time_ms: height * 1_000,
        proposer: set[0],
        tx_root: Hash([0; 32]),
        state_root: Hash([state; 32]),
        receipts_root: Hash([0; 32]),
        validators_hash: validators_hash(set),
        next_validators_hash: validators_hash(next),
    }
}

fn certify(h: &Header, signers: &[&Keypair]) -> CommitCertificate {
    let msg = vote_message(&h.chain_id, h.height, 0, &h.hash());
    CommitCertificate {
        height: h.height,
        round: 0,
        block_hash: h.hash(),
        signatures: signers
            .iter()
            .map(|k| (k.account(), k.sign_hash(&msg)))
            .collect(),
    }
}

fn step(h: Header, signers: &[&Keypair], set: &[AccountId]) -> LightStep {
    LightStep {
        certificate: certify(&h, signers),
        header: h,
        validators: set.to_vec(),
    }
}

/// Genesis set A (4 validators), which hands over to set B (4 others) after height 10.
struct Chain {
    a: Vec<Keypair>,
    b: Vec<Keypair>,
}

impl Chain {
    fn new() -> Chain {
        Chain {
            a: keys("a", 4),
            b: keys("b", 4),
        }
    }
    fn client(&self) -> LightClient {
        LightClient::new(CHAIN, &ids(&self.a))
    }
    /// Height 10, signed by three of A, announcing B.
    fn handover(&self) -> LightStep {
        let (a, b) = (ids(&self.a), ids(&self.b));
        step(
            header(10, &a, &b, 10),
            &[&self.a[0], &self.a[1], &self.a[2]],
            &a,
        )
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_quorum_of_the_genesis_set_is_believed_and_so_is_an_announced_set() {
    let c = Chain::new();
    let mut light = c.client();
    let a = ids(&c.a);
    let h5 = step(header(5, &a, &a, 5), &[&c.a[3], &c.a[1], &c.a[0]], &a);
    assert_eq!(
        light.verify(std::slice::from_ref(&h5)).expect("h5").height,
        5
    );
    let b = ids(&c.b);
    let h20 = step(header(20, &b, &b, 20), &[&c.b[0], &c.b[1], &c.b[2]], &b);
    let got = light
        .verify(&[c.handover(), h20])
        .expect("h20 through the handover");
    assert_eq!(got.height, 20);
    assert_eq!(light.header(10).map(|h| h.height), Some(10));
    // B is now trusted directly.
    let h21 = step(header(21, &b, &b, 21), &[&c.b[1], &c.b[2], &c.b[3]], &b);
    assert_eq!(light.verify(&[h21]).expect("h21").height, 21);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_certificate_one_signature_short_of_quorum_is_refused() {
    let c = Chain::new();
    let mut light = c.client();
    let a = ids(&c.a);
    // 4 validators need 3; two valid signatures are one short.
    let short = step(header(5, &a, &a, 5), &[&c.a[0], &c.a[1]], &a);
    let err = light.verify(&[short]).expect_err("two of four");
    assert!(
        matches!(
            err,
            WalletError::Light(LightError::Certificate {
                height: 5,
                error: CertificateError::NoQuorum {
                    signed: 2,
                    needed: 3,
                    validators: 4
                }
            })
        ),
        "{err}"
    );
    assert!(light.header(5).is_none(), "nothing is remembered");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_duplicate_signer_is_refused() {
    let c = Chain::new();
    let mut light = c.client();
    let a = ids(&c.a);
    // Two distinct signers and one of them again: three signatures, two validators.
    let mut dup = step(header(5, &a, &a, 5), &[&c.a[0], &c.a[1]], &a);
    let again = dup.certificate.signatures[1];
    dup.certificate.signatures.push(again);
    let err = light.verify(&[dup]).expect_err("duplicate");
    assert!(
        matches!(
            err,
            WalletError::Light(LightError::Certificate {
                error: CertificateError::DuplicateSigner(who),
                ..
            }) if who == c.a[1].account()
        ),
        "{err}"
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_forged_validator_set_change_is_refused() {
    let c = Chain::new();
    let a = ids(&c.a);
    let forged_keys = keys("forger", 4);
    let f = ids(&forged_keys);
    let forged = |height: u64| {
        step(
            header(height, &f, &f, 99),
            &[&forged_keys[0], &forged_keys[1], &forged_keys[2]],
            &f,
        )
    };
    // 1. The forger's set presented after a real handover that announced B, not it.
    let mut light = c.client();
    let err = light
        .verify(&[c.handover(), forged(20)])
        .expect_err("unannounced set");
    assert!(
        matches!(
            err,
            WalletError::Light(LightError::UnannouncedSet { height: 20 })
        ),
        "{err}"
    );
    // 2. A handover header that announces the forger's set, signed by the forger.
    let fake_handover = step(
        header(10, &f, &f, 10),
        &[&forged_keys[0], &forged_keys[1], &forged_keys[2]],
        &f,
    );
    let err = light
        .verify(&[fake_handover, forged(20)])
        .expect_err("untrusted set");
    assert!(
        matches!(
            err,
            WalletError::Light(LightError::UntrustedSet { height: 10, .. })
        ),
        "{err}"
    );
    // 3. A handover header in A's name announcing the forger's set, but only two of A signed.
    let weak = step(header(10, &a, &f, 10), &[&c.a[0], &c.a[1]], &a);
    let err = light.verify(&[weak, forged(20)]).expect_err("no quorum");
    assert!(
        matches!(
            err,
            WalletError::Light(LightError::Certificate {
                height: 10,
                error: CertificateError::NoQuorum { .. }
            })
        ),
        "{err}"
    );
    // 4. The forger's set passed off as A (the header claims A's hash, A's list is given).
    let mut posing = forged(20);
    posing.validators = a.clone();
    let err = light.verify(&[posing]).expect_err("posing");
    assert!(
        matches!(err, WalletError::Light(LightError::Certificate { .. })),
        "{err}"
    );
    // The forger's set was never trusted.
    assert!(!light.trusts_set(&f));
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_header_contradicting_a_verified_one_is_refused() {
    let c = Chain::new();
    let mut light = c.client();
    let a = ids(&c.a);
    let h5 = step(header(5, &a, &a, 5), &[&c.a[0], &c.a[1], &c.a[2]], &a);
    light.verify(&[h5]).expect("h5");
    // The same validators sign a second header for height 5 (equivocation).
    let other = step(header(5, &a, &a, 6), &[&c.a[0], &c.a[1], &c.a[2]], &a);
    let err = light.verify(&[other]).expect_err("conflict");
    assert!(matches!(err, WalletError::Conflict { height: 5 }), "{err}");
    assert_eq!(light.header(5).map(|h| h.state_root), Some(Hash([5; 32])));
}

//! Keys in the CLI keystore's format, natively and (under wasm-bindgen-test) in a JavaScript
//! engine: a key file opens with its passphrase only, keeps its account, refuses a swapped one, and fresh keys come
//! from the platform's random source (the browser's `crypto.getRandomValues` in the page).
use civitas_primitives::crypto::{verify_request, Keypair};
use civitas_primitives::vault::SignedRequest;
use civitas_wallet::keystore::{decrypt, encrypt, generate};
use civitas_wallet::requests::consent_list;
use civitas_wallet::WalletError;
use parity_scale_codec::DecodeAll;

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_key_file_opens_with_its_passphrase_only() {
    let key = Keypair::dev("alice");
    let file = encrypt("alice", &key, "correct horse").expect("encrypt");
    assert_eq!(file.kdf, "argon2id");
    let opened = decrypt(&file, "correct horse").expect("decrypt");
    assert_eq!(opened.account(), key.account());
    assert!(matches!(
        decrypt(&file, "wrong horse"),
        Err(WalletError::WrongPassphrase)
    ));
    // A file whose account was swapped for another's is refused, not opened as that account.
    let mut swapped = file.clone();
    swapped.account = Keypair::dev("bob").account().to_hex();
    assert!(matches!(
        decrypt(&swapped, "correct horse"),
        Err(WalletError::UnsupportedKeyFile(_))
    ));
    // Each encryption draws a fresh salt and nonce.
    let again = encrypt("alice", &key, "correct horse").expect("encrypt");
    assert_ne!(file.salt, again.salt);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn generated_keys_are_fresh_and_sign() {
    let a = generate().expect("random numbers");
    let b = generate().expect("random numbers");
    assert_ne!(a.account(), b.account());
    // A signed request made with it verifies for its signer only; two requests of the same
    // instant differ by their random nonce.
    let hex = consent_list(&a, None, 1_000).expect("signed");
    let mut req = SignedRequest::decode_all(&mut &from_hex(&hex)[..]).expect("decodes");
    assert!(verify_request(&req));
    assert_ne!(hex, consent_list(&a, None, 1_000).expect("signed"));
    req.signer = b.account();
    assert!(!verify_request(&req));
}

fn from_hex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).expect("hex")
}

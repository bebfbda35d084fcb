//! Keys in the CLI keystore's file format: a JSON object with the key's name, its account id
//! (hex, no prefix), `"kdf": "argon2id"`, and the 32-byte secret seed encrypted with
//! XChaCha20-Poly1305 under a key derived from the passphrase with Argon2id (default
//! parameters) and a 16-byte salt. A file written by `civitas key new` opens here, and one
//! written here opens in the CLI.
use argon2::Argon2;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::XChaCha20Poly1305;
use civitas_primitives::crypto::Keypair;
use serde::{Deserialize, Serialize};

use crate::{malformed, random, WalletError};

/// A key file (the CLI's `KeyFile`, field for field).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    /// Name of the key.
    pub name: String,
    /// Account id, hex.
    pub account: String,
    /// Always `argon2id`.
    pub kdf: String,
    /// Argon2id salt, hex.
    pub salt: String,
    /// XChaCha20-Poly1305 nonce, hex.
    pub nonce: String,
    /// The encrypted seed, hex.
    pub ciphertext: String,
}

fn cipher(passphrase: &str, salt: &[u8]) -> Result<XChaCha20Poly1305, WalletError> {
    let mut key = [0u8; 32];
    Argon2::default()
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| WalletError::Kdf(e.to_string()))?;
    Ok(XChaCha20Poly1305::new(&key.into()))
}

/// Encrypts `key` under `passphrase` with a fresh salt and nonce.
pub fn encrypt(name: &str, key: &Keypair, passphrase: &str) -> Result<KeyFile, WalletError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 24];
    random(&mut salt)?;
    random(&mut nonce)?;
    let ciphertext = cipher(passphrase, &salt)?
        .encrypt(&nonce.into(), key.seed().as_slice())
        .map_err(|_| WalletError::Encryption)?;
    Ok(KeyFile {
        name: name.into(),
        account: key.account().to_hex(),
        kdf: "argon2id".into(),
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

/// Opens a key file with `passphrase`; the seed must give the account the file names.
pub fn decrypt(file: &KeyFile, passphrase: &str) -> Result<Keypair, WalletError> {
    if file.kdf != "argon2id" {
        return Err(WalletError::UnsupportedKeyFile(format!(
            "key derivation `{}`",
            file.kdf
        )));
    }
    let salt = hex::decode(&file.salt).map_err(|e| malformed("salt", e))?;
    let nonce: [u8; 24] = hex::decode(&file.nonce)
        .map_err(|e| malformed("nonce", e))?
        .try_into()
        .map_err(|_| malformed("nonce", "expected 24 bytes"))?;
    let ciphertext = hex::decode(&file.ciphertext).map_err(|e| malformed("ciphertext", e))?;
    let seed: [u8; 32] = cipher(passphrase, &salt)?
        .decrypt(&nonce.into(), ciphertext.as_slice())
        .map_err(|_| WalletError::WrongPassphrase)?
        .try_into()
        .map_err(|_| WalletError::UnsupportedKeyFile("the seed is not 32 bytes".into()))?;
    let key = Keypair::from_seed(seed);
    if key.account().to_hex() != file.account.trim_start_matches("0x") {
        return Err(WalletError::UnsupportedKeyFile(
            "the seed does not belong to the account the file names".into(),
        ));
    }
    Ok(key)
}

/// A fresh random key.
pub fn generate() -> Result<Keypair, WalletError> {
    let mut seed = [0u8; 32];
    random(&mut seed)?;
    Ok(Keypair::from_seed(seed))
}

//! The citizen wallet's core. The page the node serves at `/wallet/` loads it as WebAssembly;
//! everything a citizen must be able to trust runs here, not in the node she talks to:
//!
//! - [`keystore`]: keys in the CLI keystore's file format (Argon2id + XChaCha20-Poly1305), so a
//!   key moves between `civitas key` and the wallet;
//! - [`requests`]: signed requests (`consent_list`, `audit_listBySubject`) and consent answers,
//!   whose private body is encrypted to the chain access key like the CLI's;
//! - [`light`]: a light client pinned to a trust root, checking headers with
//!   `primitives::light::verify_steps` (the rule `civitas audit --verify` runs) and each audit
//!   entry's Merkle proof with `primitives::proof::verify_audit_entry`;
//! - [`proven`]: her consents (status recomputed from the proven artefact), credits and the
//!   regulator's approval of a consent's code, each proven against a verified header;
//! - [`explorer`]: recent blocks with their certificate signers, and a transaction's receipt
//!   proven against a verified header's receipts root;
//! - [`sealed`]: a sealed result addressed to her, fetched with a one-time reply key, decrypted
//!   here and checked against the output hash the committee attested (proven against a header);
//! - [`api`]: the `wasm-bindgen` exports the page calls (JSON strings in and out).
pub mod api;
pub mod explorer;
pub mod keystore;
pub mod light;
pub mod proven;
pub mod requests;
pub mod sealed;

/// Why a wallet operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// Input that does not parse (hex, JSON, SCALE).
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Why it did not parse.
        detail: String,
    },
    /// The passphrase does not open the key file.
    #[error("wrong passphrase (or a damaged key file)")]
    WrongPassphrase,
    /// The key file is not one this wallet reads.
    #[error("unsupported key file: {0}")]
    UnsupportedKeyFile(String),
    /// Deriving the key from the passphrase failed.
    #[error("deriving the key from the passphrase: {0}")]
    Kdf(String),
    /// The browser gave no random numbers.
    #[error("no random numbers available: {0}")]
    Random(String),
    /// Encrypting failed.
    #[error("encryption failed")]
    Encryption,
    /// A header could not be verified.
    #[error("verification failed: {0}")]
    Light(#[from] civitas_primitives::light::LightError),
    /// A header contradicts one verified before.
    #[error(
        "verification failed: the header of height {height} contradicts the one already verified"
    )]
    Conflict {
        /// The height.
        height: u64,
    },
    /// Something asked of the light client that it has not verified.
    #[error("verification failed: {0}")]
    NotVerified(String),
    /// The sealed-compute committee has not attested the sealed call's output hash yet.
    #[error("the committee has not attested yet")]
    NotAttested,
}

pub(crate) fn malformed(what: &'static str, detail: impl ToString) -> WalletError {
    WalletError::Malformed {
        what,
        detail: detail.to_string(),
    }
}

/// Bytes from `0x`-prefixed (or bare) hex.
pub(crate) fn from_hex(what: &'static str, s: &str) -> Result<Vec<u8>, WalletError> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|e| malformed(what, e))
}

/// 32 bytes from hex.
pub(crate) fn hex32(what: &'static str, s: &str) -> Result<[u8; 32], WalletError> {
    from_hex(what, s)?
        .try_into()
        .map_err(|v: Vec<u8>| malformed(what, format!("expected 32 bytes, got {}", v.len())))
}

/// `0x`-prefixed lower-case hex, as the node's JSON-RPC writes it.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Fills `buf` from the platform's random source (the browser's `crypto.getRandomValues`).
pub(crate) fn random(buf: &mut [u8]) -> Result<(), WalletError> {
    getrandom::fill(buf).map_err(|e| WalletError::Random(e.to_string()))
}

//! The vault: this node's encrypted copy of citizens' records and of sealed-call results.
//!
//! Records arrive verbatim (with the department's signature) through `vault_putRecords` and are
//! stored under their record hash; sealed-call results are stored under their transaction hash
//! when the block commits. Everything is encrypted at rest with XChaCha20-Poly1305 under the
//! node's vault key (a file in the data directory, never on chain), with the key as associated
//! data so a value cannot be moved to another key. Nothing here is part of the state root.
use std::path::Path;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use civitas_primitives::vault::Record;
use civitas_primitives::{AccountId, Hash};
use parity_scale_codec::{Decode, Encode};
use rand_core::{OsRng, RngCore};
use thiserror::Error;

use crate::store::{Store, StoreError, CF_SEALED, CF_VAULT};

/// A vault failure.
#[derive(Debug, Error)]
pub enum VaultError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored value does not decrypt under this node's key.
    #[error("vault entry {0} does not decrypt with this node's vault key")]
    Decrypt(String),
    /// The key file is unreadable or malformed.
    #[error("vault key {path}: {why}")]
    Key {
        /// Path.
        path: String,
        /// Why.
        why: String,
    },
}

/// A sealed call's result as this node keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StoredSealedOutput {
    /// The institution that made the call.
    pub institution: AccountId,
    /// Citizens whose records the call declared.
    pub subjects: Vec<Hash>,
    /// Salt of the receipt's output hash.
    pub salt: Hash,
    /// The padded [`civitas_primitives::vault::SealedResult`].
    pub padded: Vec<u8>,
}

impl StoredSealedOutput {
    /// Whether `requester` (bound to `requester_subject`, if any) may receive this result: the
    /// institution that made the call always; a citizen only when the call was about that
    /// citizen alone. A result computed over several citizens' records goes to the
    /// institution only, so that no citizen learns anything of another's records from it.
    /// "About one citizen alone" means that the call declared reads of exactly one subject.
    pub fn may_be_read_by(&self, requester: &AccountId, requester_subject: Option<Hash>) -> bool {
        if self.institution == *requester {
            return true;
        }
        match (self.subjects.as_slice(), requester_subject) {
            ([only], Some(subject)) => *only == subject,
            _ => false,
        }
    }
}

/// The encrypted record and result store of one node. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    store: Store,
    cipher: XChaCha20Poly1305,
}

impl Vault {
    /// A vault over `store` with a 32-byte key.
    pub fn new(store: Store, key: [u8; 32]) -> Self {
        Vault {
            store,
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    /// Reads the key at `path`, creating a random one (mode 0600) if the file does not exist.
    pub fn load_or_create_key(path: &Path) -> Result<[u8; 32], VaultError> {
        let err = |why: String| VaultError::Key {
            path: path.display().to_string(),
            why,
        };
        match std::fs::read(path) {
            Ok(bytes) => bytes
                .try_into()
                .map_err(|_| err("expected exactly 32 bytes".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                OsRng.fill_bytes(&mut key);
                write_secret(path, &key).map_err(|e| err(e.to_string()))?;
                Ok(key)
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    fn seal(&self, key: &[u8], plain: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce cannot fail.
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: key,
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    fn open(&self, key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        let bad = || VaultError::Decrypt(hex::encode(key));
        if sealed.len() < 24 {
            return Err(bad());
        }
        let (nonce, ct) = sealed.split_at(24);
        self.cipher
            .decrypt(nonce.into(), Payload { msg: ct, aad: key })
            .map_err(|_| bad())
    }

    /// Stores records (already checked by the caller), durably.
    pub fn put_records(&self, records: &[Record]) -> Result<(), VaultError> {
        let entries: Vec<(Vec<u8>, Vec<u8>)> = records
            .iter()
            .map(|r| {
                let key = r.hash().0.to_vec();
                let value = self.seal(&key, &r.encode());
                (key, value)
            })
            .collect();
        civitas_crash::crash_point!("vault.records.before_write");
        self.store.put_private(CF_VAULT, &entries)?;
        civitas_crash::crash_point!("vault.records.after_write");
        Ok(())
    }

    /// The record with this hash, if this node holds it.
    pub fn record(&self, record_hash: &Hash) -> Result<Option<Record>, VaultError> {
        let key = record_hash.0;
        let Some(sealed) = self.store.get_private(CF_VAULT, &key)? else {
            return Ok(None);
        };
        let plain = self.open(&key, &sealed)?;
        let record =
            Record::decode(&mut &plain[..]).map_err(|_| VaultError::Decrypt(hex::encode(key)))?;
        Ok(Some(record))
    }

    /// Whether this node holds the record.
    pub fn has_record(&self, record_hash: &Hash) -> Result<bool, VaultError> {
        Ok(self.store.get_private(CF_VAULT, &record_hash.0)?.is_some())
    }

    /// Keeps a sealed call's result (this node computed it as a committee member), durably.
    pub fn put_sealed_output(
        &self,
        tx_hash: &Hash,
        output: &StoredSealedOutput,
    ) -> Result<(), VaultError> {
        let key = tx_hash.0.to_vec();
        let value = self.seal(&key, &output.encode());
        civitas_crash::crash_point!("vault.sealed_outputs.before_write");
        self.store.put_private(CF_SEALED, &[(key, value)])?;
        civitas_crash::crash_point!("vault.sealed_outputs.after_write");
        Ok(())
    }

    /// Keeps several sealed calls' results (e.g. a block's) in one durable write.
    pub fn put_sealed_outputs(
        &self,
        outputs: &[(Hash, StoredSealedOutput)],
    ) -> Result<(), VaultError> {
        if outputs.is_empty() {
            return Ok(());
        }
        let entries: Vec<(Vec<u8>, Vec<u8>)> = outputs
            .iter()
            .map(|(tx_hash, output)| {
                let key = tx_hash.0.to_vec();
                let value = self.seal(&key, &output.encode());
                (key, value)
            })
            .collect();
        civitas_crash::crash_point!("vault.sealed_outputs.before_write");
        self.store.put_private(CF_SEALED, &entries)?;
        civitas_crash::crash_point!("vault.sealed_outputs.after_write");
        Ok(())
    }

    /// A committed sealed result.
    pub fn sealed_output(&self, tx_hash: &Hash) -> Result<Option<StoredSealedOutput>, VaultError> {
        let key = tx_hash.0;
        let Some(sealed) = self.store.get_private(CF_SEALED, &key)? else {
            return Ok(None);
        };
        let plain = self.open(&key, &sealed)?;
        StoredSealedOutput::decode(&mut &plain[..])
            .map(Some)
            .map_err(|_| VaultError::Decrypt(hex::encode(key)))
    }
}

/// Writes a new key file; a crash at any step leaves no key file or the whole one (the vault
/// is empty until the key exists, so a restart that makes another key loses nothing).
fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use crate::secret_file::{write, Existing, Step};
    write(path, bytes, Existing::Keep, |step| match step {
        Step::TempCreated => civitas_crash::crash_point!("vault_key.temp_created"),
        Step::TempWritten => civitas_crash::crash_point!("vault_key.temp_written"),
        Step::Renamed => civitas_crash::crash_point!("vault_key.renamed"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_encrypted_and_bound_to_their_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let vault = Vault::new(store.clone(), [7; 32]);
        let record = Record {
            subject: Hash([1; 32]),
            dataset: "tax.annual_income".into(),
            version: 1,
            salt: [2; 32],
            payload: b"CANARY-payload".to_vec(),
            custodian: AccountId([3; 32]),
            signature: [4; 64],
        };
        vault
            .put_records(std::slice::from_ref(&record))
            .expect("put");
        assert_eq!(
            vault.record(&record.hash()).expect("get"),
            Some(record.clone())
        );
        let raw = store
            .get_private(CF_VAULT, &record.hash().0)
            .expect("raw")
            .expect("present");
        assert!(!raw.windows(6).any(|w| w == b"CANARY"));
        let other = Vault::new(store, [8; 32]);
        assert!(matches!(
            other.record(&record.hash()),
            Err(VaultError::Decrypt(_))
        ));
    }

    #[test]
    fn a_blocks_sealed_outputs_kept_in_one_write_each_read_back_under_its_call() {
        let dir = tempfile::tempdir().expect("tempdir");
        let vault = Vault::new(Store::open(dir.path()).expect("store"), [7; 32]);
        let outputs: Vec<(Hash, StoredSealedOutput)> = (0..3u8)
            .map(|i| {
                (
                    Hash([i; 32]),
                    StoredSealedOutput {
                        institution: AccountId([9; 32]),
                        subjects: vec![Hash([i + 10; 32])],
                        salt: Hash([i; 32]),
                        padded: vec![i; 8],
                    },
                )
            })
            .collect();
        vault.put_sealed_outputs(&outputs).expect("put");
        vault.put_sealed_outputs(&[]).expect("nothing to keep");
        for (call, output) in &outputs {
            assert_eq!(
                vault.sealed_output(call).expect("get").as_ref(),
                Some(output)
            );
        }
        assert_eq!(vault.sealed_output(&Hash([3; 32])).expect("get"), None);
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vault.key");
        let a = Vault::load_or_create_key(&path).expect("create");
        let b = Vault::load_or_create_key(&path).expect("load");
        assert_eq!(a, b);
        std::fs::write(&path, b"short").expect("write");
        assert!(Vault::load_or_create_key(&path).is_err());
    }
}

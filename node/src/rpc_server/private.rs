//! What the personal-data namespaces of the JSON-RPC API share (`vault_*`, `consent_*`,
//! `audit_*` and `credits_*`, one module each): anything about a person needs a
//! [`SignedRequest`] from a key allowed to see it (fresh, never replayed); record contents and
//! sealed results leave only encrypted to the request's one-time key.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use civitas_ledger::proof::prove;
use civitas_ledger::state::StateView;
use civitas_primitives::crypto::verify_request;
use civitas_primitives::vault::{AuditEntry, SignedRequest};
use civitas_primitives::{AccountId, Hash};
use civitas_rpc::errors::{self, error, invalid_param};
use civitas_rpc::*;
use jsonrpsee::core::RpcResult;
use jsonrpsee::types::ErrorObjectOwned;
use parity_scale_codec::{Decode, DecodeAll};

use super::internal;
use crate::service::Chain;

/// How old a signed request may be, and how far ahead of this node's clock.
pub const REQUEST_WINDOW_MS: u64 = 120_000;
/// Records per `vault_putRecords` call.
pub const MAX_PUT_RECORDS: usize = 1_000;
/// Audit entries per page.
pub const MAX_AUDIT_PAGE: u32 = 500;

/// Refuses replayed requests: remembers `(signer, nonce)` for the request window. A guard
/// with a file ([`ReplayGuard::persistent`]) appends each request it lets through before
/// answering it, and reads the file back at start, so a request used before a restart (or a
/// crash) is still refused after it; the file holds only what is younger than twice the window.
#[derive(Default)]
pub struct ReplayGuard {
    seen: Mutex<BTreeMap<(AccountId, u64), u64>>,
    file: Option<Mutex<ReplayFile>>,
}

/// One remembered request in the guard's file: signer, nonce, issued (ms), little-endian.
const REPLAY_RECORD: usize = 32 + 8 + 8;

/// The guard's append-only file, rewritten with only the live entries at start and whenever
/// it holds far more records than live entries.
struct ReplayFile {
    path: std::path::PathBuf,
    file: std::fs::File,
    records: usize,
}

fn replay_record(signer: &AccountId, nonce: u64, issued_ms: u64) -> [u8; REPLAY_RECORD] {
    let mut r = [0u8; REPLAY_RECORD];
    r[..32].copy_from_slice(&signer.0);
    r[32..40].copy_from_slice(&nonce.to_le_bytes());
    r[40..].copy_from_slice(&issued_ms.to_le_bytes());
    r
}

/// Whether a request issued at `issued_ms` can still be presented at `now_ms` (kept until then).
fn still_fresh(issued_ms: u64, now_ms: u64) -> bool {
    issued_ms.saturating_add(2 * REQUEST_WINDOW_MS) >= now_ms
}

impl ReplayFile {
    /// Writes `seen` as the whole file (a temporary file renamed over it) and opens it for
    /// appending.
    fn rewrite(
        path: &std::path::Path,
        seen: &BTreeMap<(AccountId, u64), u64>,
    ) -> std::io::Result<ReplayFile> {
        use std::io::Write;
        let tmp = path.with_extension("tmp");
        let mut bytes = Vec::with_capacity(seen.len() * REPLAY_RECORD);
        for ((signer, nonce), issued) in seen {
            bytes.extend_from_slice(&replay_record(signer, *nonce, *issued));
        }
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(ReplayFile {
            path: path.to_path_buf(),
            file,
            records: seen.len(),
        })
    }
}

/// Why the replay guard's file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("replay guard file {path}: {source}")]
pub struct ReplayFileError {
    path: std::path::PathBuf,
    source: std::io::Error,
}

pub(crate) fn unauthorized(message: impl Into<String>, reason: &str) -> ErrorObjectOwned {
    error(errors::UNAUTHORIZED, message, Some(reason))
}

pub(crate) fn not_found(message: String, reason: &str) -> ErrorObjectOwned {
    error(errors::NOT_FOUND, message, Some(reason))
}

impl ReplayGuard {
    /// A guard that remembers in `path`: what the file holds (younger than twice the window at
    /// `now_ms`) is refused as replayed; a torn last record (a crash mid-write) is ignored.
    pub fn persistent(path: &std::path::Path, now_ms: u64) -> Result<ReplayGuard, ReplayFileError> {
        let err = |source| ReplayFileError {
            path: path.to_path_buf(),
            source,
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(err(e)),
        };
        let mut seen = BTreeMap::new();
        for r in bytes.chunks_exact(REPLAY_RECORD) {
            let mut signer = [0u8; 32];
            signer.copy_from_slice(&r[..32]);
            let mut word = [0u8; 8];
            word.copy_from_slice(&r[32..40]);
            let nonce = u64::from_le_bytes(word);
            word.copy_from_slice(&r[40..]);
            let issued = u64::from_le_bytes(word);
            if still_fresh(issued, now_ms) {
                seen.insert((AccountId(signer), nonce), issued);
            }
        }
        let file = ReplayFile::rewrite(path, &seen).map_err(err)?;
        Ok(ReplayGuard {
            seen: Mutex::new(seen),
            file: Some(Mutex::new(file)),
        })
    }

    /// Remembers a request in the file before it is answered; compacts the file when it
    /// holds more than twice the live entries (and over a thousand records).
    fn record(
        &self,
        seen: &BTreeMap<(AccountId, u64), u64>,
        signer: &AccountId,
        nonce: u64,
        issued_ms: u64,
    ) -> std::io::Result<()> {
        use std::io::Write;
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut f = file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if f.records > 1024 && f.records > 2 * seen.len() {
            *f = ReplayFile::rewrite(&f.path.clone(), seen)?;
            return Ok(());
        }
        f.file.write_all(&replay_record(signer, nonce, issued_ms))?;
        f.records += 1;
        Ok(())
    }

    /// Decodes and checks a signed request for `method` at time `now_ms`.
    pub fn check(&self, hex: &str, method: &str, now_ms: u64) -> RpcResult<SignedRequest> {
        let bytes = from_hex(hex).map_err(|e| invalid_param("request", e))?;
        let req = SignedRequest::decode_all(&mut &bytes[..])
            .map_err(|_| invalid_param("request", "not a SCALE-encoded signed request"))?;
        if req.method != method {
            return Err(unauthorized(
                format!(
                    "the request was signed for `{}`, not `{method}`",
                    req.method
                ),
                "wrong_method",
            ));
        }
        if !verify_request(&req) {
            return Err(unauthorized(
                "the request signature does not verify for its signer",
                "bad_signature",
            ));
        }
        if req.issued_ms.saturating_add(REQUEST_WINDOW_MS) < now_ms
            || req.issued_ms > now_ms.saturating_add(REQUEST_WINDOW_MS)
        {
            return Err(unauthorized(
                format!(
                    "the request was issued at {} ms; this node's clock says {now_ms} ms and accepts {} s either way",
                    req.issued_ms,
                    REQUEST_WINDOW_MS / 1000
                ),
                "stale_request",
            ));
        }
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| internal("replay guard poisoned"))?;
        seen.retain(|_, issued| still_fresh(*issued, now_ms));
        if seen
            .insert((req.signer, req.nonce), req.issued_ms)
            .is_some()
        {
            return Err(unauthorized(
                "this request was already used: sign a new one",
                "replayed_request",
            ));
        }
        // Remembered on disk before it is answered; if it cannot be, it is not answered.
        if let Err(e) = self.record(&seen, &req.signer, req.nonce, req.issued_ms) {
            seen.remove(&(req.signer, req.nonce));
            tracing::error!(error = %e, "could not record a signed request in the replay guard's file");
            return Err(internal(format!(
                "this node could not record the request against replay: {e}"
            )));
        }
        Ok(req)
    }
}

/// The handlers.
pub struct PrivateApi {
    pub(crate) chain: Arc<Chain>,
    pub(crate) guard: Arc<ReplayGuard>,
}

impl PrivateApi {
    /// Handlers over `chain`, sharing one replay guard.
    pub fn new(chain: Arc<Chain>, guard: Arc<ReplayGuard>) -> Self {
        PrivateApi { chain, guard }
    }

    pub(crate) fn view(&self) -> RpcResult<(civitas_ledger::Head, StateView)> {
        self.chain.query_exec.head_view().map_err(internal)
    }

    pub(crate) fn body<T: Decode>(req: &SignedRequest) -> RpcResult<T> {
        T::decode_all(&mut &req.body[..])
            .map_err(|_| invalid_param("request", "the body does not decode for this method"))
    }

    pub(crate) fn state_root_at(&self, height: u64) -> RpcResult<Hash> {
        let head = self.chain.head();
        if height == head.height {
            return Ok(head.state_root);
        }
        Ok(self
            .chain
            .query_exec
            .store()
            .block(height)
            .map_err(internal)?
            .ok_or_else(|| internal(format!("block {height} missing")))?
            .header
            .state_root)
    }

    /// The value of `key` at `height` with its proof, as `state_getProof` serves a public one.
    pub(crate) fn proven_value(&self, key: Vec<u8>, height: u64) -> RpcResult<ProofInfo> {
        let proof =
            prove(self.chain.query_exec.store(), &key, height).map_err(super::proof_error)?;
        Ok(ProofInfo {
            key: to_hex(&key),
            value: proof.value.as_ref().map(|v| to_hex(v)),
            height,
            state_root: to_hex(&self.state_root_at(height)?.0),
            proof: to_hex(&proof.proof),
        })
    }

    pub(crate) fn proven_entry(&self, key: Vec<u8>, height: u64) -> RpcResult<AuditEntryInfo> {
        let proof =
            prove(self.chain.query_exec.store(), &key, height).map_err(super::proof_error)?;
        let value = proof
            .value
            .clone()
            .ok_or_else(|| internal("audit entry missing from the tree"))?;
        let entry = AuditEntry::decode(&mut &value[..]).map_err(internal)?;
        Ok(audit_info(&entry, &key, &value, &proof.proof))
    }

    pub(crate) fn vault(&self) -> RpcResult<&civitas_ledger::vault::Vault> {
        self.chain.query_exec.vault().ok_or_else(|| {
            error(
                errors::NOT_FOUND,
                "this node holds no vault",
                Some("no_vault"),
            )
        })
    }
}

pub(crate) fn head_time(chain: &Chain) -> RpcResult<u64> {
    let head = chain.head();
    if head.height == 0 {
        return Ok(0);
    }
    Ok(chain
        .query_exec
        .store()
        .block(head.height)
        .map_err(internal)?
        .map(|b| b.header.time_ms)
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use civitas_primitives::crypto::Keypair;

    use super::*;

    fn request(k: &Keypair, issued_ms: u64) -> String {
        to_hex(&k.sign_request("consent_list", vec![], issued_ms).encode())
    }

    fn refused_as(r: RpcResult<SignedRequest>) -> String {
        let e = r.expect_err("refused");
        e.data()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d.get()).ok())
            .and_then(|v| v["code"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    use parity_scale_codec::Encode;

    #[test]
    fn a_persistent_guard_refuses_after_reopening_what_it_let_through_before() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("replay_guard.bin");
        let now = 10 * REQUEST_WINDOW_MS;
        let k = Keypair::dev("alice");
        let used = request(&k, now);
        {
            let guard = ReplayGuard::persistent(&path, now).expect("guard");
            guard.check(&used, "consent_list", now).expect("first use");
        }
        // A torn record after it, as a crash mid-append leaves.
        let mut bytes = std::fs::read(&path).expect("file");
        bytes.extend_from_slice(&[7u8; 10]);
        std::fs::write(&path, bytes).expect("write");
        let guard = ReplayGuard::persistent(&path, now + 1).expect("reopened");
        assert_eq!(
            refused_as(guard.check(&used, "consent_list", now + 1)),
            "replayed_request"
        );
        guard
            .check(&request(&k, now + 1), "consent_list", now + 1)
            .expect("a new request passes");
    }

    #[test]
    fn reopening_after_twice_the_window_forgets_the_old_requests() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("replay_guard.bin");
        let now = 10 * REQUEST_WINDOW_MS;
        let k = Keypair::dev("alice");
        {
            let guard = ReplayGuard::persistent(&path, now).expect("guard");
            guard
                .check(&request(&k, now), "consent_list", now)
                .expect("first use");
        }
        assert_eq!(std::fs::metadata(&path).expect("file").len(), 48);
        ReplayGuard::persistent(&path, now + 2 * REQUEST_WINDOW_MS + 1).expect("reopened");
        assert_eq!(
            std::fs::metadata(&path).expect("file").len(),
            0,
            "the expired request is dropped from the file"
        );
    }
}

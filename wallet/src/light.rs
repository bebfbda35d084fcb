//! The wallet's light client. It pins a trust root (chain id and genesis validator set, whose
//! hash the page shows so a citizen or her bank branch can compare it), believes a header only
//! through `primitives::light::verify_steps` (a quorum of a trusted set, set changes announced
//! by `next_validators_hash` of a header believed before), remembers the headers it verified and
//! refuses one that contradicts them, and checks each audit entry's Merkle proof against the
//! state root of a verified header.
use std::collections::BTreeMap;

use civitas_primitives::block::{validators_hash, Block, CommitCertificate, Header};
use civitas_primitives::light::{verify_steps, LightStep};
use civitas_primitives::proof::{verify_audit_entry, verify_state_proof, StateProof};
use civitas_primitives::vault::AuditEntry;
use civitas_primitives::{AccountId, Hash};
use parity_scale_codec::DecodeAll;
use serde::{Deserialize, Serialize};

use crate::{from_hex, hex32, malformed, to_hex, WalletError};

/// A step as the page collects it from `chain_getBlock` and `chain_getValidators`.
#[derive(Clone, Debug, Deserialize)]
pub struct StepJson {
    /// `BlockInfo.raw`: the SCALE block, hex.
    pub raw: String,
    /// `BlockInfo.certificate`: the SCALE commit certificate, hex.
    pub certificate: Option<String>,
    /// `ValidatorsInfo.validators`: the set of the block's height, hex ids.
    pub validators: Vec<String>,
}

/// An audit entry as `audit_listBySubject` serves it (the fields the wallet reads).
#[derive(Clone, Debug, Deserialize)]
pub struct ServedEntry {
    /// Position in the trail.
    pub seq: u64,
    /// State key, hex.
    pub key: String,
    /// SCALE value, hex.
    pub value: String,
    /// Merkle proof, hex.
    pub proof: String,
}

/// An audit page as served.
#[derive(Clone, Debug, Deserialize)]
pub struct ServedPage {
    /// The height the proofs are against.
    pub height: u64,
    /// That height's state root, as the node claims it.
    pub state_root: String,
    /// The entries.
    pub entries: Vec<ServedEntry>,
}

/// A value with its proof as `state_getProof` serves it.
#[derive(Clone, Debug, Deserialize)]
pub struct ServedProof {
    /// The raw state key, hex.
    pub key: String,
    /// The SCALE value, hex, or `None` when the key is absent.
    pub value: Option<String>,
    /// The height the proof is against.
    pub height: u64,
    /// Merkle proof, hex.
    pub proof: String,
}

/// Whether her key is bound to her subject, as proven against a verified header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// The subject id asked about.
    pub subject: String,
    /// The wallet account an identity department bound to the subject, if any.
    pub bound_account: Option<String>,
    /// Whether that account is hers.
    pub mine: bool,
    /// The verified height the answer is proven at.
    pub height: u64,
}

/// The state key of the wallet account bound to `subject` (`ledger::state::keys::identity`:
/// `i/s/` and the subject id). Public: `state_getProof` serves it with a proof.
pub fn identity_key(subject: &Hash) -> Vec<u8> {
    let mut key = b"i/s/".to_vec();
    key.extend_from_slice(&subject.0);
    key
}

/// One entry as the page shows it: the proven entry's fields, or why it is not proven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckedEntry {
    /// Position in the trail (as served, so a failed entry can be placed).
    pub seq: u64,
    /// Whether the entry is proven against a verified header.
    pub verified: bool,
    /// Why not.
    pub error: Option<String>,
    /// The proven entry (absent when not proven).
    pub entry: Option<EntryView>,
}

/// The fields of a proven audit entry, in the page's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryView {
    /// The institution.
    pub accessor: String,
    /// The contract (sealed reads).
    pub contract: Option<String>,
    /// Its code hash.
    pub code_hash: Option<String>,
    /// Dataset id.
    pub dataset: String,
    /// The consent's purpose.
    pub purpose: String,
    /// The consent.
    pub consent: Option<u64>,
    /// Uses left on it afterwards.
    pub uses_left: Option<u32>,
    /// `sealed_read` or `disclosure`.
    pub kind: String,
    /// `granted` or `refused: CODE`.
    pub outcome: String,
    /// The transaction.
    pub tx_hash: String,
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
}

impl EntryView {
    fn of(e: &AuditEntry) -> EntryView {
        EntryView {
            accessor: to_hex(&e.accessor.0),
            contract: e.contract.map(|c| to_hex(&c.0)),
            code_hash: e.code_hash.map(|c| to_hex(&c.0)),
            dataset: e.dataset.clone(),
            purpose: e.purpose.clone(),
            consent: e.consent,
            uses_left: e.uses_left,
            kind: e.kind.name().into(),
            outcome: e.outcome.label(),
            tx_hash: to_hex(&e.tx_hash.0),
            height: e.height,
            time_ms: e.time_ms,
        }
    }
}

/// The light client's state.
#[derive(Clone, Debug)]
pub struct LightClient {
    chain_id: String,
    root_hash: Hash,
    /// Set hashes a header may be signed by: the root, and every set announced by a verified
    /// header.
    trusted_sets: Vec<Hash>,
    /// Verified headers by height.
    verified: BTreeMap<u64, Header>,
}

/// Parses hex validator ids.
pub fn parse_set(hexes: &[String]) -> Result<Vec<AccountId>, WalletError> {
    hexes
        .iter()
        .map(|h| hex32("validator id", h).map(AccountId))
        .collect()
}

impl LightClient {
    /// A client pinned to `chain_id` and its genesis validator set.
    pub fn new(chain_id: &str, genesis_validators: &[AccountId]) -> LightClient {
        let root_hash = validators_hash(genesis_validators);
        LightClient {
            chain_id: chain_id.into(),
            root_hash,
            trusted_sets: vec![root_hash],
            verified: BTreeMap::new(),
        }
    }

    /// The pinned set's hash.
    pub fn root_hash(&self) -> Hash {
        self.root_hash
    }

    /// The chain id pinned.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Whether headers signed by the set `validators` are believed without a further step.
    pub fn trusts_set(&self, validators: &[AccountId]) -> bool {
        self.trusted_sets.contains(&validators_hash(validators))
    }

    /// Forgets the header believed at `height` (one found to contradict a validly signed
    /// header of the same height: the page drops it and verifies that height again). Sets it
    /// announced stay trusted: they were announced by headers verified before it.
    pub fn forget(&mut self, height: u64) {
        self.verified.remove(&height);
    }

    /// The verified header at `height`, if any.
    pub fn header(&self, height: u64) -> Option<&Header> {
        self.verified.get(&height)
    }

    /// The value a served proof shows under `key`, once the proof leads to the state root of
    /// the verified header of its height: `None` is a proven absence. A proof for another key,
    /// at a height not verified, or one that fails, is refused (`what` names the value).
    pub fn proven_value(
        &self,
        served: &ServedProof,
        key: &[u8],
        what: &str,
    ) -> Result<Option<Vec<u8>>, WalletError> {
        let header = self.verified.get(&served.height).ok_or_else(|| {
            WalletError::NotVerified(format!("block {} is not verified", served.height))
        })?;
        if from_hex("state key", &served.key)? != key {
            return Err(WalletError::NotVerified(format!(
                "the node proved another key than {what}"
            )));
        }
        let value = served
            .value
            .as_deref()
            .map(|v| from_hex("proven value", v))
            .transpose()?;
        let proof = StateProof {
            key: key.to_vec(),
            value: value.clone(),
            version: served.height,
            proof: from_hex("state proof", &served.proof)?,
        };
        verify_state_proof(&header.state_root, &proof)
            .map_err(|e| WalletError::NotVerified(format!("{what} fails its proof: {e}")))?;
        Ok(value)
    }

    /// Checks a served proof of the identity binding of `subject` against the verified header
    /// of its height, and whether the bound account is `account`. A proof of absence proves she
    /// is not bound; a proof for another key, or one that fails, is refused.
    pub fn check_binding(
        &self,
        subject: &Hash,
        account: &AccountId,
        served: &ServedProof,
    ) -> Result<Binding, WalletError> {
        let value = self.proven_value(served, &identity_key(subject), "her identity binding")?;
        let bound = value
            .map(|v| AccountId::decode_all(&mut &v[..]).map_err(|e| malformed("binding", e)))
            .transpose()?;
        Ok(Binding {
            subject: to_hex(&subject.0),
            bound_account: bound.map(|a| to_hex(&a.0)),
            mine: bound == Some(*account),
            height: served.height,
        })
    }

    /// Verifies `steps` (oldest first) and remembers the headers proven; returns the last.
    pub fn verify(&mut self, steps: &[LightStep]) -> Result<Header, WalletError> {
        let proven = verify_steps(&self.chain_id, &self.trusted_sets, steps)?;
        for h in &proven {
            if let Some(known) = self.verified.get(&h.height) {
                if known.hash() != h.hash() {
                    return Err(WalletError::Conflict { height: h.height });
                }
            }
        }
        for h in &proven {
            if !self.trusted_sets.contains(&h.next_validators_hash) {
                self.trusted_sets.push(h.next_validators_hash);
            }
            self.verified.insert(h.height, h.clone());
        }
        proven
            .last()
            .cloned()
            .ok_or_else(|| WalletError::NotVerified("no header".into()))
    }

    /// Checks every entry of `page` against the verified header of its height (which must have
    /// been verified first). A page whose state root is not that header's fails every entry.
    pub fn check_page(&self, page: &ServedPage) -> Vec<CheckedEntry> {
        let root = match self.page_root(page) {
            Ok(root) => root,
            Err(e) => {
                let msg = e.to_string();
                return page
                    .entries
                    .iter()
                    .map(|s| CheckedEntry {
                        seq: s.seq,
                        verified: false,
                        error: Some(msg.clone()),
                        entry: None,
                    })
                    .collect();
            }
        };
        page.entries
            .iter()
            .map(|s| match check_entry(&root, page.height, s) {
                Ok(e) => CheckedEntry {
                    seq: s.seq,
                    verified: true,
                    error: None,
                    entry: Some(EntryView::of(&e)),
                },
                Err(e) => CheckedEntry {
                    seq: s.seq,
                    verified: false,
                    error: Some(e.to_string()),
                    entry: None,
                },
            })
            .collect()
    }

    fn page_root(&self, page: &ServedPage) -> Result<Hash, WalletError> {
        let header = self.verified.get(&page.height).ok_or_else(|| {
            WalletError::NotVerified(format!("block {} is not verified", page.height))
        })?;
        let claimed = Hash(hex32("state root", &page.state_root)?);
        if claimed != header.state_root {
            return Err(WalletError::NotVerified(format!(
                "the page's state root is not the state root of verified block {}",
                page.height
            )));
        }
        Ok(header.state_root)
    }
}

fn check_entry(root: &Hash, height: u64, s: &ServedEntry) -> Result<AuditEntry, WalletError> {
    let key = from_hex("entry key", &s.key)?;
    let value = from_hex("entry value", &s.value)?;
    let proof = from_hex("entry proof", &s.proof)?;
    let entry = verify_audit_entry(root, height, &key, &value, &proof).map_err(|e| {
        WalletError::NotVerified(format!("audit entry {} fails its proof: {e}", s.seq))
    })?;
    if entry.seq != s.seq {
        return Err(WalletError::NotVerified(format!(
            "audit entry {} is proven as entry {}",
            s.seq, entry.seq
        )));
    }
    Ok(entry)
}

/// A step from its JSON form.
pub fn step_of(json: &StepJson) -> Result<LightStep, WalletError> {
    let raw = from_hex("block", &json.raw)?;
    let block = Block::decode_all(&mut &raw[..]).map_err(|e| malformed("block", e))?;
    let cert_hex = json.certificate.as_deref().ok_or_else(|| {
        WalletError::NotVerified(format!("block {} has no certificate", block.header.height))
    })?;
    let cert_bytes = from_hex("certificate", cert_hex)?;
    let certificate = CommitCertificate::decode_all(&mut &cert_bytes[..])
        .map_err(|e| malformed("certificate", e))?;
    Ok(LightStep {
        header: block.header,
        certificate,
        validators: parse_set(&json.validators)?,
    })
}

//! What the page shows about her besides the trail, each believed only through a proof against
//! a verified header: her consents (served to her signed `consent_list` with their proofs), her
//! credits (the public account record) and whether a regulator approved a consent's contract
//! code. The status of a consent is recomputed here from the proven artefact and the verified
//! header's block time, not taken from the node.
use civitas_primitives::state::{AccountInfo, CodeApproval};
use civitas_primitives::vault::{ConsentArtefact, ConsentMode};
use civitas_primitives::{AccountId, Hash};
use parity_scale_codec::DecodeAll;
use serde::{Deserialize, Serialize};

use crate::light::{LightClient, ServedProof};
use crate::{malformed, to_hex, WalletError};

/// The state key of consent `id` (`ledger::state::keys::consent`: `n/c/` and the id, big
/// endian).
pub fn consent_key(id: u64) -> Vec<u8> {
    let mut key = b"n/c/".to_vec();
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// The state key of an account's record (`ledger::state::keys::account`: `a/` and the id).
pub fn account_key(account: &AccountId) -> Vec<u8> {
    let mut key = b"a/".to_vec();
    key.extend_from_slice(&account.0);
    key
}

/// The state key of a regulator's decision on `code_hash` (`ledger::state::keys::
/// code_approval`: `p/` and the hash).
pub fn approval_key(code_hash: &Hash) -> Vec<u8> {
    let mut key = b"p/".to_vec();
    key.extend_from_slice(&code_hash.0);
    key
}

/// A consent as `consent_list` serves it: the fields the wallet reads (its id, to know which
/// key the proof must be of, and the proof).
#[derive(Clone, Debug, Deserialize)]
pub struct ServedConsent {
    /// Id.
    pub id: u64,
    /// The artefact with its proof.
    pub proof: Option<ServedProof>,
}

/// A consent proven against a verified header, in the page's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsentView {
    /// Id.
    pub id: u64,
    /// The institution.
    pub grantee: String,
    /// Her subject id.
    pub subject: String,
    /// Datasets.
    pub datasets: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// `compute` or `disclose`.
    pub mode: String,
    /// The contract code allowed to compute.
    pub code_hash: Option<String>,
    /// Expiry (block time, ms).
    pub expires_ms: u64,
    /// Uses allowed.
    pub max_uses: u32,
    /// Uses spent.
    pub uses: u32,
    /// Status at the verified header's block time (expiry and exhaustion applied).
    pub status: String,
    /// Every change: `(status, height, time_ms)`, oldest first.
    pub history: Vec<(String, u64, u64)>,
    /// The verified height it is proven at.
    pub height: u64,
}

/// Checks a served consent: its artefact is proven under `n/c/ID` against the verified header
/// of the proof's height, is the consent with that id, and concerns her: about her subject
/// (`subject`, when she gave her national id), or filed by her account.
pub fn check_consent(
    light: &LightClient,
    served: &ServedConsent,
    subject: Option<&Hash>,
    account: &AccountId,
) -> Result<ConsentView, WalletError> {
    let proof = served.proof.as_ref().ok_or_else(|| {
        WalletError::NotVerified(format!(
            "the node served consent {} without a proof",
            served.id
        ))
    })?;
    let what = format!("consent {}", served.id);
    let value = light
        .proven_value(proof, &consent_key(served.id), &what)?
        .ok_or_else(|| {
            WalletError::NotVerified(format!(
                "consent {} is not on chain at block {}",
                served.id, proof.height
            ))
        })?;
    let c = ConsentArtefact::decode_all(&mut &value[..]).map_err(|e| malformed("consent", e))?;
    if c.id != served.id {
        return Err(WalletError::NotVerified(format!(
            "consent {} is proven as consent {}",
            served.id, c.id
        )));
    }
    if Some(&c.request.subject) != subject && c.grantee != *account {
        return Err(WalletError::NotVerified(format!(
            "consent {} is neither about her nor filed by her",
            c.id
        )));
    }
    let time_ms = light
        .header(proof.height)
        .map(|h| h.time_ms)
        .ok_or_else(|| {
            WalletError::NotVerified(format!("block {} is not verified", proof.height))
        })?;
    Ok(ConsentView {
        id: c.id,
        grantee: to_hex(&c.grantee.0),
        subject: to_hex(&c.request.subject.0),
        datasets: c.request.datasets.clone(),
        purpose: c.request.purpose.clone(),
        mode: match c.request.mode {
            ConsentMode::Compute => "compute".into(),
            ConsentMode::Disclose => "disclose".into(),
        },
        code_hash: c.request.code_hash.map(|h| to_hex(&h.0)),
        expires_ms: c.request.expires_ms,
        max_uses: c.request.max_uses,
        uses: c.uses,
        status: c.status_at(time_ms).name().into(),
        history: c
            .history
            .iter()
            .map(|h| (h.status.name().into(), h.height, h.time_ms))
            .collect(),
        height: proof.height,
    })
}

/// Her credits, proven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreditsView {
    /// The account.
    pub account: String,
    /// Balance (decimal; may exceed a JavaScript number).
    pub balance: String,
    /// The verified height it is proven at.
    pub height: u64,
}

/// Checks a `state_getProof` answer for `account`'s record; an absent account holds nothing.
pub fn check_credits(
    light: &LightClient,
    account: &AccountId,
    served: &ServedProof,
) -> Result<CreditsView, WalletError> {
    let info = light
        .proven_value(served, &account_key(account), "her account")?
        .map(|v| AccountInfo::decode_all(&mut &v[..]).map_err(|e| malformed("account", e)))
        .transpose()?
        .unwrap_or_default();
    Ok(CreditsView {
        account: to_hex(&account.0),
        balance: info.balance.to_string(),
        height: served.height,
    })
}

/// A regulator's decision on a contract's code, proven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApprovalView {
    /// The code hash.
    pub code_hash: String,
    /// Approved for sealed reads now.
    pub approved: bool,
    /// The regulator who decided, if any did.
    pub regulator: Option<String>,
    /// The height of the decision.
    pub decided_at: Option<u64>,
    /// The verified height it is proven at.
    pub height: u64,
}

/// Checks a `state_getProof` answer for the approval of `code_hash`; an absent decision proves
/// that no regulator approved it.
pub fn check_approval(
    light: &LightClient,
    code_hash: &Hash,
    served: &ServedProof,
) -> Result<ApprovalView, WalletError> {
    let decision = light
        .proven_value(served, &approval_key(code_hash), "the code approval")?
        .map(|v| CodeApproval::decode_all(&mut &v[..]).map_err(|e| malformed("approval", e)))
        .transpose()?;
    Ok(ApprovalView {
        code_hash: to_hex(&code_hash.0),
        approved: decision.as_ref().is_some_and(|d| d.approved),
        regulator: decision.as_ref().map(|d| to_hex(&d.regulator.0)),
        decided_at: decision.as_ref().map(|d| d.height),
        height: served.height,
    })
}

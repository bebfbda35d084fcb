//! The public explorer view: recent blocks with the departments whose signatures commit them,
//! and a transaction's receipt, each believed only through the light client. A block is shown
//! once its header is verified and its certificate is a quorum of the header's own set; a
//! receipt once its Merkle path leads to the receipts root of a verified header.
use civitas_primitives::block::{topic_text, validators_hash, Block, Receipt, ReceiptStatus};
use civitas_primitives::light::verify_steps;
use civitas_primitives::merkle::MerkleProof;
use civitas_primitives::Hash;
use parity_scale_codec::DecodeAll;
use serde::{Deserialize, Serialize};

use crate::light::{step_of, LightClient, StepJson};
use crate::{from_hex, malformed, to_hex, WalletError};

/// A verified block, in the explorer's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockView {
    /// Height.
    pub height: u64,
    /// Block hash.
    pub hash: String,
    /// Block time.
    pub time_ms: u64,
    /// The proposing validator.
    pub proposer: String,
    /// The transactions' hashes, in order.
    pub txs: Vec<String>,
    /// The consensus round that decided it.
    pub round: u32,
    /// The validators whose precommits the certificate carries.
    pub signers: Vec<String>,
    /// The size of the set that decides this height.
    pub set_size: usize,
}

/// Explains a block: its header must be the one the light client verified at its height, and
/// its certificate a quorum of the set the header names (checked again: a node may serve
/// another valid certificate than the one verified first).
pub fn block_view(light: &LightClient, json: &StepJson) -> Result<BlockView, WalletError> {
    let step = step_of(json)?;
    let raw = from_hex("block", &json.raw)?;
    let block = Block::decode_all(&mut &raw[..]).map_err(|e| malformed("block", e))?;
    let height = step.header.height;
    let known = light
        .header(height)
        .ok_or_else(|| WalletError::NotVerified(format!("block {height} is not verified")))?;
    if known.hash() != step.header.hash() {
        return Err(WalletError::Conflict { height });
    }
    let set_size = step.validators.len();
    verify_steps(
        light.chain_id(),
        &[validators_hash(&step.validators)],
        core::slice::from_ref(&step),
    )?;
    Ok(BlockView {
        height,
        hash: to_hex(&step.header.hash().0),
        time_ms: step.header.time_ms,
        proposer: to_hex(&step.header.proposer.0),
        txs: block.txs.iter().map(|t| to_hex(&t.hash().0)).collect(),
        round: step.certificate.round,
        signers: step
            .certificate
            .signatures
            .iter()
            .map(|(id, _)| to_hex(&id.0))
            .collect(),
        set_size,
    })
}

/// A receipt as `tx_getReceipt` serves it: the fields the wallet reads.
#[derive(Clone, Debug, Deserialize)]
pub struct ServedReceipt {
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// The SCALE receipt, hex.
    pub raw: Option<String>,
    /// Its Merkle path to the receipts root, hex.
    pub receipt_proof: Option<String>,
}

/// A receipt proven against a verified header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceiptView {
    /// Transaction hash.
    pub tx_hash: String,
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
    /// Position in the block.
    pub index: u32,
    /// `success` or `failed`.
    pub status: String,
    /// Stable error code, when failed.
    pub error_code: Option<String>,
    /// Fuel used.
    pub fuel_used: u64,
    /// Output hash (for a sealed call: the committee's salted hash, zero in the block).
    pub output_hash: String,
    /// Events: `(emitting contract, topic as text or hex)`.
    pub events: Vec<(String, String)>,
}

/// Checks a served receipt of `tx_hash` against the verified header of its height.
pub fn check_receipt(
    light: &LightClient,
    tx_hash: &Hash,
    served: &ServedReceipt,
) -> Result<ReceiptView, WalletError> {
    let header = light.header(served.height).ok_or_else(|| {
        WalletError::NotVerified(format!("block {} is not verified", served.height))
    })?;
    let missing =
        || WalletError::NotVerified("the node served the receipt without its proof".into());
    let raw = from_hex("receipt", served.raw.as_deref().ok_or_else(missing)?)?;
    let path = from_hex(
        "receipt proof",
        served.receipt_proof.as_deref().ok_or_else(missing)?,
    )?;
    let path =
        MerkleProof::decode_all(&mut &path[..]).map_err(|e| malformed("receipt proof", e))?;
    if path.index != u64::from(served.index) || !path.verify(&header.receipts_root, &raw) {
        return Err(WalletError::NotVerified(format!(
            "the receipt is not the one block {} commits at position {}",
            served.height, served.index
        )));
    }
    let r = Receipt::decode_all(&mut &raw[..]).map_err(|e| malformed("receipt", e))?;
    if r.tx_hash != *tx_hash {
        return Err(WalletError::NotVerified(format!(
            "the node proved the receipt of another transaction ({})",
            to_hex(&r.tx_hash.0)
        )));
    }
    Ok(ReceiptView {
        tx_hash: to_hex(&r.tx_hash.0),
        height: served.height,
        time_ms: header.time_ms,
        index: served.index,
        status: match r.status {
            ReceiptStatus::Success => "success".into(),
            ReceiptStatus::Failed => "failed".into(),
        },
        error_code: r.error.as_ref().map(|e| e.code.clone()),
        fuel_used: r.fuel_used,
        output_hash: to_hex(&r.output_hash.0),
        events: r
            .events
            .iter()
            .map(|e| (to_hex(&e.contract.0), topic_text(&e.topic)))
            .collect(),
    })
}

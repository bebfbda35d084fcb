//! Wire types of the API (JSON), and hex helpers.
use civitas_primitives::block::{Block, Header, Receipt, ReceiptStatus};
use civitas_primitives::Hash;
use serde::{Deserialize, Serialize};

/// `0x`-prefixed lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    // One allocation, a table lookup per byte (a block's raw bytes run to megabytes).
    let mut out = vec![0u8; 2 + 2 * bytes.len()];
    out[..2].copy_from_slice(b"0x");
    // Infallible: the slice is exactly twice the input's length.
    let _ = hex::encode_to_slice(bytes, &mut out[2..]);
    String::from_utf8(out).unwrap_or_default()
}

/// Parses hex with or without `0x`.
pub fn from_hex(s: &str) -> Result<Vec<u8>, String> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|e| format!("not hex: {e}"))
}

/// Parses a 32-byte value in hex.
pub fn hex32(s: &str) -> Result<[u8; 32], String> {
    let v = from_hex(s)?;
    v.try_into()
        .map_err(|v: Vec<u8>| format!("expected 32 bytes, got {}", v.len()))
}

/// The newest committed block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadInfo {
    /// Height.
    pub height: u64,
    /// Block hash.
    pub block_hash: String,
    /// State root after the block.
    pub state_root: String,
}

/// A header in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderInfo {
    /// Chain id.
    pub chain_id: String,
    /// Height.
    pub height: u64,
    /// Hash of this header.
    pub hash: String,
    /// Parent hash.
    pub parent_hash: String,
    /// Block time (ms).
    pub time_ms: u64,
    /// Proposer.
    pub proposer: String,
    /// Transaction root.
    pub tx_root: String,
    /// State root.
    pub state_root: String,
    /// Receipts root.
    pub receipts_root: String,
    /// Hash of the validator set that decides this height.
    pub validators_hash: String,
    /// Hash of the validator set that decides the next height.
    pub next_validators_hash: String,
}

impl From<&Header> for HeaderInfo {
    fn from(h: &Header) -> Self {
        HeaderInfo {
            chain_id: h.chain_id.clone(),
            height: h.height,
            hash: to_hex(&h.hash().0),
            parent_hash: to_hex(&h.parent_hash.0),
            time_ms: h.time_ms,
            proposer: to_hex(&h.proposer.0),
            tx_root: to_hex(&h.tx_root.0),
            state_root: to_hex(&h.state_root.0),
            receipts_root: to_hex(&h.receipts_root.0),
            validators_hash: to_hex(&h.validators_hash.0),
            next_validators_hash: to_hex(&h.next_validators_hash.0),
        }
    }
}

/// Where a sealed call's result stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedOutcomeInfo {
    /// The call's block.
    pub height: u64,
    /// `pending` or `attested`.
    pub status: String,
    /// The attested output hash (hex), once attested.
    pub output_hash: Option<String>,
    /// The height at which it was attested.
    pub attested_at: Option<u64>,
    /// Members that attested so far.
    pub attestations: u32,
    /// Whether members attested different values.
    pub disputed: bool,
}

/// The validators who decide a height.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorsInfo {
    /// The height asked about.
    pub height: u64,
    /// The first height this set decides (it took effect then).
    pub since: u64,
    /// Account ids, sorted.
    pub validators: Vec<String>,
    /// Their hash, as headers commit to it (`validators_hash`).
    pub hash: String,
}

/// A block in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockInfo {
    /// Header.
    pub header: HeaderInfo,
    /// Transaction hashes in order.
    pub transactions: Vec<String>,
    /// Validators whose signatures commit the block.
    pub signed_by: Vec<String>,
    /// The SCALE-encoded block, hex (for light clients that check roots themselves).
    pub raw: String,
    /// The SCALE-encoded commit certificate, hex (validators' signatures over the header).
    #[serde(default)]
    pub certificate: Option<String>,
}

impl BlockInfo {
    /// From a block and its signers.
    pub fn new(block: &Block, signed_by: Vec<String>) -> Self {
        use parity_scale_codec::Encode;
        BlockInfo {
            header: HeaderInfo::from(&block.header),
            transactions: block.txs.iter().map(|t| to_hex(&t.hash().0)).collect(),
            signed_by,
            raw: to_hex(&block.encode()),
            certificate: None,
        }
    }
}

/// The outcome of one transaction of a batch submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitOutcome {
    /// Hash, when admitted.
    pub tx_hash: Option<String>,
    /// JSON-RPC error code, when refused (as `tx_submit` would return).
    pub error_code: Option<i32>,
    /// Stable reason, when refused (e.g. `nonce_gap`).
    pub reason: Option<String>,
    /// Explanation, when refused.
    pub message: Option<String>,
}

/// Largest batch `tx_submitBatch` accepts.
pub const MAX_SUBMIT_BATCH: usize = 1000;

/// Where a transaction is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum TxStatus {
    /// Waiting in the pool.
    Pending,
    /// In a committed block.
    Committed {
        /// Height.
        height: u64,
        /// Position.
        index: u32,
    },
    /// Not known to this node.
    Unknown,
}

/// An event in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    /// Emitting contract.
    pub contract: String,
    /// Topic as text when UTF-8, else hex.
    pub topic: String,
    /// SCALE data, hex.
    pub data: String,
}

/// A receipt in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptInfo {
    /// Transaction hash.
    pub tx_hash: String,
    /// Height of the block.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// `success` or `failed`.
    pub status: String,
    /// Fuel used.
    pub fuel_used: u64,
    /// Events.
    pub events: Vec<EventInfo>,
    /// Output, hex.
    pub output: String,
    /// sha3-256 of the output, or for a sealed call the salted hash of its private result.
    #[serde(default)]
    pub output_hash: String,
    /// Stable error code, when failed.
    pub error_code: Option<String>,
    /// Error explanation, when failed.
    pub error: Option<String>,
    /// The SCALE-encoded receipt, hex, as the block's receipts root commits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Its Merkle inclusion proof (SCALE `MerkleProof`) against the header's receipts root,
    /// hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_proof: Option<String>,
}

pub use civitas_primitives::block::{topic_from_text, topic_text};

/// Most events one `chain_getEvents` page holds.
pub const MAX_EVENT_PAGE: u32 = 1000;

/// Which events `chain_getEvents` (and `chain_subscribeEvents`) want; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    /// Only this contract's events (hex account; the zero account for chain events).
    #[serde(default)]
    pub contract: Option<String>,
    /// Only events with this topic, written as receipts show it (its text, or `0x…` hex for
    /// a topic that is not plain text).
    #[serde(default)]
    pub topic: Option<String>,
    /// First height (default 1; ignored by subscriptions).
    #[serde(default)]
    pub from_height: Option<u64>,
    /// Last height (default: the head; ignored by subscriptions).
    #[serde(default)]
    pub to_height: Option<u64>,
    /// Where to go on: the `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Most events to return (default and at most [`MAX_EVENT_PAGE`]).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// An event with where it was emitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedEventInfo {
    /// Block height.
    pub height: u64,
    /// The transaction's index in its block.
    pub tx_index: u32,
    /// The event's index among its transaction's events.
    pub event_index: u32,
    /// The emitting transaction.
    pub tx_hash: String,
    /// Emitting contract.
    pub contract: String,
    /// Topic as text when UTF-8, else hex.
    pub topic: String,
    /// SCALE data, hex.
    pub data: String,
}

/// A page of events in chain order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    /// The events.
    pub events: Vec<IndexedEventInfo>,
    /// Pass as `cursor` for the next page; absent when this page is the last.
    pub next_cursor: Option<String>,
    /// The head the query ran against (its default last height).
    pub head: u64,
}

impl ReceiptInfo {
    /// From a stored receipt and its location.
    pub fn new(r: &Receipt, height: u64, index: u32) -> Self {
        ReceiptInfo {
            tx_hash: to_hex(&r.tx_hash.0),
            height,
            index,
            status: match r.status {
                ReceiptStatus::Success => "success".into(),
                ReceiptStatus::Failed => "failed".into(),
            },
            fuel_used: r.fuel_used,
            events: r
                .events
                .iter()
                .map(|e| EventInfo {
                    contract: to_hex(&e.contract.0),
                    topic: topic_text(&e.topic),
                    data: to_hex(&e.data),
                })
                .collect(),
            output: to_hex(&r.output),
            output_hash: to_hex(&r.output_hash.0),
            error_code: r.error.as_ref().map(|e| e.code.clone()),
            error: r
                .error
                .as_ref()
                .map(|e| crate::errors::describe_failure(&e.code, &e.revert_data)),
            raw: None,
            receipt_proof: None,
        }
    }
}

/// A read-only contract call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRequest {
    /// Contract address, hex.
    pub contract: String,
    /// Selector + SCALE arguments, hex.
    pub input: String,
    /// Caller to present to the contract (default: zero account).
    #[serde(default)]
    pub caller: Option<String>,
}

/// What a query returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResult {
    /// Output, hex.
    pub output: String,
    /// Fuel used.
    pub fuel_used: u64,
}

/// One storage write in a dry-run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageDelta {
    /// Raw state key, hex.
    pub key: String,
    /// New value, hex; `null` for removal.
    pub value: Option<String>,
}

/// What a transaction would do at the current head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunResult {
    /// Whether the call would succeed.
    pub success: bool,
    /// Fuel it would use.
    pub fuel_used: u64,
    /// Events it would emit.
    pub events: Vec<EventInfo>,
    /// State writes it would make (including the nonce).
    pub storage_delta: Vec<StorageDelta>,
    /// Output, hex.
    pub output: String,
    /// Stable error code, if it would fail.
    pub error_code: Option<String>,
    /// Error explanation, if it would fail.
    pub error: Option<String>,
}

/// A state proof in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofInfo {
    /// Raw state key, hex.
    pub key: String,
    /// Value, hex, or `null` when absent.
    pub value: Option<String>,
    /// Height the proof is for.
    pub height: u64,
    /// State root of that height's header.
    pub state_root: String,
    /// Proof bytes, hex (borsh-encoded sparse Merkle proof).
    pub proof: String,
}

/// An account's public record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfoJson {
    /// Account id.
    pub account: String,
    /// Next nonce (counting committed transactions only).
    pub nonce: u64,
    /// Credits.
    pub balance: String,
    /// Roles.
    pub roles: Vec<String>,
}

/// Contract or code metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContractMetadataInfo {
    /// Code hash.
    pub code_hash: String,
    /// Module size.
    pub size: usize,
    /// Host functions imported.
    pub host_imports: Vec<String>,
    /// The SDK metadata embedded by `civitas contract build`, if any.
    pub metadata: Option<serde_json::Value>,
}

/// Health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Head height.
    pub height: u64,
    /// Transactions waiting.
    pub pending: usize,
    /// Chain id.
    pub chain_id: String,
    /// What this node is: `dev` (one process holding every validator key), `validator` (one
    /// department's node in a network, voting at this height), `standby` (a department's node
    /// whose key is not in this height's validator set: it executes and follows without
    /// voting), or `observer` (no key: follows by certificates, neither votes nor executes).
    #[serde(default)]
    pub role: String,
    /// Connected peers of the consensus network.
    #[serde(default)]
    pub peers: usize,
    /// Whether the node is at the network's head (not catching up).
    #[serde(default)]
    pub in_sync: bool,
}

/// A peer of the consensus network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The engine's id of the peer.
    pub id: String,
    /// Its address, when known.
    pub address: Option<String>,
}

/// Software version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Node version.
    pub version: String,
    /// API version.
    pub api: String,
}

/// Parses a hash parameter.
pub fn parse_hash(name: &str, s: &str) -> Result<Hash, jsonrpsee::types::ErrorObjectOwned> {
    hex32(s)
        .map(Hash)
        .map_err(|e| crate::errors::invalid_param(name, e))
}

/// A dataset in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Id.
    pub id: String,
    /// Custodian account.
    pub custodian: String,
    /// Fields as `name:type`.
    pub fields: Vec<String>,
    /// Credits per use (decimal string).
    pub price: String,
}

impl From<&civitas_primitives::vault::Dataset> for DatasetInfo {
    fn from(d: &civitas_primitives::vault::Dataset) -> Self {
        DatasetInfo {
            id: d.id.clone(),
            custodian: to_hex(&d.custodian.0),
            fields: d
                .fields
                .iter()
                .map(|f| format!("{}:{}", f.name, f.ty.name()))
                .collect(),
            price: d.price.to_string(),
        }
    }
}

/// A record commitment in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCommitmentInfo {
    /// Version.
    pub version: u32,
    /// Salted record hash.
    pub record_hash: String,
    /// Custodian.
    pub custodian: String,
    /// Signature over the record hash.
    pub signature: String,
    /// Height committed.
    pub height: u64,
}

/// A consent artefact in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentInfo {
    /// Id.
    pub id: u64,
    /// Institution.
    pub grantee: String,
    /// Subject.
    pub subject: String,
    /// Datasets.
    pub datasets: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// `compute` or `disclose`.
    pub mode: String,
    /// Contract code hash (compute).
    pub code_hash: Option<String>,
    /// Expiry (block time, ms).
    pub expires_ms: u64,
    /// Uses allowed.
    pub max_uses: u32,
    /// Uses spent.
    pub uses: u32,
    /// Status now (expiry and exhaustion applied).
    pub status: String,
    /// History: `status@height`.
    pub history: Vec<String>,
    /// The consent artefact (`n/c/ID`) with its Merkle proof against the head's state root, so
    /// a wallet need not take the fields above on the node's word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<ProofInfo>,
}

/// One audit entry with its proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryInfo {
    /// Position in the subject's trail.
    pub seq: u64,
    /// Subject.
    pub subject: String,
    /// Institution.
    pub accessor: String,
    /// Contract (sealed reads).
    pub contract: Option<String>,
    /// Code hash (sealed reads).
    pub code_hash: Option<String>,
    /// Dataset.
    pub dataset: String,
    /// Purpose.
    pub purpose: String,
    /// Consent id.
    pub consent: Option<u64>,
    /// Uses left afterwards.
    pub uses_left: Option<u32>,
    /// `sealed_read` or `disclosure`.
    pub kind: String,
    /// `granted` or `refused: <reason>`.
    pub outcome: String,
    /// Transaction.
    pub tx_hash: String,
    /// Height.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
    /// The state key, hex.
    pub key: String,
    /// The SCALE-encoded entry as stored, hex (what the proof covers).
    pub value: String,
    /// Proof bytes, hex, against `AuditPage::state_root`.
    pub proof: String,
}

/// A page of audit entries, proven against one committed header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// Height of the header the proofs are against.
    pub height: u64,
    /// Its state root.
    pub state_root: String,
    /// Entries in the trail (subject) or entries listed so far (institution).
    pub total: u64,
    /// The entries.
    pub entries: Vec<AuditEntryInfo>,
}

/// A credit balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsInfo {
    /// Account.
    pub account: String,
    /// Balance (decimal string).
    pub balance: String,
}

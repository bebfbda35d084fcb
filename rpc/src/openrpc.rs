//! The OpenRPC document `rpc.discover` returns. The node checks at start-up (and a test checks)
//! that it lists exactly the methods the server registers, so the two cannot drift apart.
use serde_json::{json, Value};

/// A parameter: name, JSON schema type, required.
pub type Param = (&'static str, &'static str, bool);

/// A method: name, summary, parameters, result schema type.
pub type Method = (&'static str, &'static str, &'static [Param], &'static str);

/// Every method the node serves.
pub const METHODS: &[Method] = &[
    (
        "vault_putRecords",
        "Hand this custodian node verbatim signed records (hex SCALE Record) before committing them.",
        &[("records", "array", true)],
        "array",
    ),
    (
        "vault_putSealedRecords",
        "putRecords between nodes, encrypted to the genesis committee_key (committee nodes only).",
        &[("envelope", "string", true)],
        "array",
    ),
    (
        "vault_getDataset",
        "A registered dataset: custodian, schema, price.",
        &[("id", "string", true)],
        "object",
    ),
    (
        "vault_listDatasets",
        "Every registered dataset.",
        &[],
        "array",
    ),
    (
        "vault_getLatestVersions",
        "The latest committed version of each of up to 1000 subjects' records in a dataset (0 for none).",
        &[("dataset", "string", true), ("subjects", "array", true)],
        "array",
    ),
    (
        "vault_getCommitments",
        "Public commitments (salted hash + department signature) of a subject's records.",
        &[("subject", "string", true), ("dataset", "string", true)],
        "array",
    ),
    (
        "vault_fetchDisclosed",
        "Download disclosed records (signed request; reply encrypted to the request's key).",
        &[("request", "string", true)],
        "string",
    ),
    (
        "vault_getSealedOutput",
        "A sealed call's result (signed request; reply encrypted to the request's key).",
        &[("request", "string", true)],
        "string",
    ),
    (
        "vault_committeeRecords",
        "Record payloads for another sealed-compute committee member (signed request by a member; reply encrypted).",
        &[("request", "string", true)],
        "string",
    ),
    (
        "vault_committeeSealingKey",
        "The chain sealing key for a new sealed-compute committee member (signed request by the member; reply encrypted).",
        &[("request", "string", true)],
        "string",
    ),
    (
        "vault_getSealedOutcome",
        "Where a sealed call's result stands: pending, or the output hash the sealed-compute committee attested.",
        &[("tx_hash", "string", true)],
        "object",
    ),
    (
        "consent_list",
        "The signer's consents, as subject or grantee (signed request).",
        &[("request", "string", true)],
        "array",
    ),
    (
        "audit_listBySubject",
        "A citizen's audit trail with Merkle proofs (signed by her bound key).",
        &[("request", "string", true)],
        "object",
    ),
    (
        "audit_listByInstitution",
        "An institution's audit trail with proofs (regulators or the institution; signed).",
        &[("request", "string", true)],
        "object",
    ),
    (
        "credits_getBalance",
        "An account's credit balance.",
        &[("account", "string", true)],
        "object",
    ),
    (
        "chain_getHead",
        "The newest committed block.",
        &[],
        "object",
    ),
    (
        "chain_getBlock",
        "The block at a height (default: the head).",
        &[("height", "integer", false)],
        "object",
    ),
    (
        "chain_getValidators",
        "The validators who decide a height (default: the next), the height they took effect and their hash.",
        &[("height", "integer", false)],
        "object",
    ),
    (
        "chain_getAccessKey",
        "The chain access key (x25519 public, hex) that private call bodies are encrypted to.",
        &[],
        "string",
    ),
    (
        "chain_getAccount",
        "An account's nonce, credits and roles.",
        &[("account", "string", true)],
        "object",
    ),
    (
        "chain_subscribeNewHeads",
        "Subscribe to new heads (WebSocket).",
        &[],
        "string",
    ),
    (
        "chain_unsubscribeNewHeads",
        "End a head subscription.",
        &[("subscription", "string", true)],
        "boolean",
    ),
    (
        "chain_getEvents",
        "Committed events in chain order by contract, topic and heights, a page at a time: {contract?, topic?, from_height?, to_height?, cursor?, limit?}.",
        &[("query", "object", true)],
        "object",
    ),
    (
        "chain_subscribeEvents",
        "Subscribe to new events matching {contract?, topic?} (WebSocket).",
        &[("query", "object", true)],
        "string",
    ),
    (
        "chain_unsubscribeEvents",
        "End an event subscription.",
        &[("subscription", "string", true)],
        "boolean",
    ),
    (
        "tx_submit",
        "Submit a signed transaction (hex SCALE).",
        &[("tx", "string", true)],
        "string",
    ),
    (
        "tx_submitBatch",
        "Submit up to 1000 signed transactions; one outcome each.",
        &[("txs", "array", true)],
        "array",
    ),
    (
        "tx_status",
        "Pending, committed or unknown.",
        &[("tx_hash", "string", true)],
        "object",
    ),
    (
        "tx_getReceipts",
        "The receipts (without proofs) of up to 1000 transactions; null for one not committed.",
        &[("tx_hashes", "array", true)],
        "array",
    ),
    (
        "tx_getReceipt",
        "The receipt of a committed transaction.",
        &[("tx_hash", "string", true)],
        "object",
    ),
    (
        "contract_query",
        "Read-only call at the head.",
        &[("request", "object", true)],
        "object",
    ),
    (
        "contract_dryRun",
        "Execute an unsigned transaction without committing.",
        &[("tx", "string", true)],
        "object",
    ),
    (
        "contract_getMetadata",
        "Code facts and embedded metadata.",
        &[("address_or_code_hash", "string", true)],
        "object",
    ),
    (
        "state_getProof",
        "A state value with its Merkle proof.",
        &[("key", "string", true), ("height", "integer", false)],
        "object",
    ),
    (
        "system_health",
        "Head height, pending transactions, chain id, role, peers and whether in sync.",
        &[],
        "object",
    ),
    (
        "system_peers",
        "The connected peers of the consensus network.",
        &[],
        "array",
    ),
    (
        "system_version",
        "Software and API versions.",
        &[],
        "object",
    ),
    ("rpc.discover", "This document.", &[], "object"),
];

/// The OpenRPC document.
pub fn document(version: &str) -> Value {
    let methods: Vec<Value> = METHODS
        .iter()
        .map(|(name, summary, params, result)| {
            json!({
                "name": name,
                "summary": summary,
                "params": params.iter().map(|(n, t, req)| json!({
                    "name": n, "required": req, "schema": { "type": t }
                })).collect::<Vec<_>>(),
                "result": { "name": "result", "schema": { "type": result } },
            })
        })
        .collect();
    json!({
        "openrpc": "1.2.6",
        "info": { "title": "Civitas JSON-RPC", "version": version },
        "methods": methods,
    })
}

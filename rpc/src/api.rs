//! Method definitions. Each trait is one namespace; `#[rpc(server, client)]` generates the
//! server trait the node implements (`…Server`) and the typed client (`…Client`).
use jsonrpsee::core::{RpcResult, SubscriptionResult};
use jsonrpsee::proc_macros::rpc;

use crate::types::*;

/// Blocks and heads.
#[rpc(server, client, namespace = "chain")]
pub trait ChainApi {
    /// The newest committed block.
    #[method(name = "getHead")]
    async fn get_head(&self) -> RpcResult<HeadInfo>;

    /// The block at `height` (default: the head).
    #[method(name = "getBlock")]
    async fn get_block(&self, height: Option<u64>) -> RpcResult<BlockInfo>;

    /// The validators who decide `height` (default: the next height), and since when.
    #[method(name = "getValidators")]
    async fn get_validators(&self, height: Option<u64>) -> RpcResult<ValidatorsInfo>;

    /// The chain access key (x25519 public key, hex) that private call bodies are encrypted
    /// to; its value is the state key `m/access_key`, provable with `state_getProof`.
    #[method(name = "getAccessKey")]
    async fn get_access_key(&self) -> RpcResult<String>;

    /// The account's nonce, credits and roles.
    #[method(name = "getAccount")]
    async fn get_account(&self, account: String) -> RpcResult<AccountInfoJson>;

    /// New heads as they are committed.
    #[subscription(name = "subscribeNewHeads" => "newHead", unsubscribe = "unsubscribeNewHeads", item = HeadInfo)]
    async fn subscribe_new_heads(&self) -> SubscriptionResult;

    /// Committed events in chain order, narrowed by contract and topic, over a height range,
    /// a page at a time (`cursor` from the previous page's `next_cursor`).
    #[method(name = "getEvents")]
    async fn get_events(&self, query: EventQuery) -> RpcResult<EventPage>;

    /// Each new event matching `query`'s contract and topic, as its block is committed.
    #[subscription(name = "subscribeEvents" => "event", unsubscribe = "unsubscribeEvents", item = IndexedEventInfo)]
    async fn subscribe_events(&self, query: EventQuery) -> SubscriptionResult;
}

/// Transactions.
#[rpc(server, client, namespace = "tx")]
pub trait TxApi {
    /// Submits a signed transaction (hex of its SCALE encoding); returns its hash once admitted.
    #[method(name = "submit")]
    async fn submit(&self, tx: String) -> RpcResult<String>;

    /// Submits up to 1000 signed transactions at once (signatures verified as a batch); one
    /// outcome per transaction, in order.
    #[method(name = "submitBatch")]
    async fn submit_batch(&self, txs: Vec<String>) -> RpcResult<Vec<SubmitOutcome>>;

    /// Pending, committed (with height and index) or unknown.
    #[method(name = "status")]
    async fn status(&self, tx_hash: String) -> RpcResult<TxStatus>;

    /// The receipt of a committed transaction.
    #[method(name = "getReceipt")]
    async fn get_receipt(&self, tx_hash: String) -> RpcResult<ReceiptInfo>;

    /// The receipts of up to 1000 transactions, in order: `null` for one not committed (yet).
    /// Without Merkle proofs (`tx_getReceipt` serves those); for tools following bulk uploads.
    #[method(name = "getReceipts")]
    async fn get_receipts(&self, tx_hashes: Vec<String>) -> RpcResult<Vec<Option<ReceiptInfo>>>;
}

/// Contracts.
#[rpc(server, client, namespace = "contract")]
pub trait ContractApi {
    /// Runs a read-only call at the head: free, writes nothing.
    #[method(name = "query")]
    async fn query(&self, request: QueryRequest) -> RpcResult<QueryResult>;

    /// Executes an unsigned transaction (hex of its SCALE encoding) at the head without
    /// committing: fuel, events, storage delta and error.
    #[method(name = "dryRun")]
    async fn dry_run(&self, tx: String) -> RpcResult<DryRunResult>;

    /// What the chain knows of the code behind a contract address or code hash.
    #[method(name = "getMetadata")]
    async fn get_metadata(&self, address_or_code_hash: String) -> RpcResult<ContractMetadataInfo>;
}

/// Authenticated state.
#[rpc(server, client, namespace = "state")]
pub trait StateApi {
    /// A raw state key's value at `height` (default: head) with a Merkle proof against that
    /// height's state root.
    #[method(name = "getProof")]
    async fn get_proof(&self, key: String, height: Option<u64>) -> RpcResult<ProofInfo>;
}

/// The node itself.
#[rpc(server, client, namespace = "system")]
pub trait SystemApi {
    /// Head height, pending transactions, chain id, role, peers and whether in sync.
    #[method(name = "health")]
    async fn health(&self) -> RpcResult<Health>;

    /// The connected peers of the consensus network.
    #[method(name = "peers")]
    async fn peers(&self) -> RpcResult<Vec<PeerInfo>>;

    /// Software and API versions.
    #[method(name = "version")]
    async fn version(&self) -> RpcResult<VersionInfo>;
}

/// Datasets and records. Record payloads go to custodian nodes only; downloads and sealed
/// results need a signed request (hex of a SCALE `SignedRequest`) and come back encrypted to
/// the request's one-time x25519 key.
#[rpc(server, client, namespace = "vault")]
pub trait VaultApi {
    /// Hands this node the verbatim records (hex of SCALE `Record`s, at most 1000) whose
    /// commitments the custodian is about to submit; checks signature, dataset, custodian and
    /// schema; stores them encrypted. Returns the record hashes.
    #[method(name = "putRecords")]
    async fn put_records(&self, records: Vec<String>) -> RpcResult<Vec<String>>;

    /// `putRecords` between nodes: hex of an `Envelope`, encrypted to the genesis
    /// `committee_key`, holding the SCALE `Vec<String>` of hex records; only the committee's
    /// nodes (which hold the sealing key it derives from) can open it.
    #[method(name = "putSealedRecords")]
    async fn put_sealed_records(&self, envelope: String) -> RpcResult<Vec<String>>;

    /// A registered dataset.
    #[method(name = "getDataset")]
    async fn get_dataset(&self, id: String) -> RpcResult<DatasetInfo>;

    /// Every registered dataset.
    #[method(name = "listDatasets")]
    async fn list_datasets(&self) -> RpcResult<Vec<DatasetInfo>>;

    /// The latest committed version of each subject's record in `dataset` (0 for none), for up
    /// to 1000 subjects, in order: what a custodian's bulk upload numbers its records from.
    #[method(name = "getLatestVersions")]
    async fn get_latest_versions(
        &self,
        dataset: String,
        subjects: Vec<String>,
    ) -> RpcResult<Vec<u32>>;

    /// The public commitments (hash + signature) of a subject's records in a dataset.
    #[method(name = "getCommitments")]
    async fn get_commitments(
        &self,
        subject: String,
        dataset: String,
    ) -> RpcResult<Vec<RecordCommitmentInfo>>;

    /// The records of a committed disclosure, for its grantee (signed `SealedFetch` body);
    /// returns hex of an `Envelope` holding SCALE `DisclosedRecords`.
    #[method(name = "fetchDisclosed")]
    async fn fetch_disclosed(&self, request: String) -> RpcResult<String>;

    /// A sealed call's result, for the institution that made it or a subject it read (signed
    /// `SealedFetch` body); returns hex of an `Envelope` holding SCALE `SealedOutputReply`.
    #[method(name = "getSealedOutput")]
    async fn get_sealed_output(&self, request: String) -> RpcResult<String>;

    /// Where a sealed call's result stands (public): pending, or the output hash a threshold
    /// of the sealed-compute committee attested, and whether members disagreed.
    #[method(name = "getSealedOutcome")]
    async fn get_sealed_outcome(&self, tx_hash: String) -> RpcResult<SealedOutcomeInfo>;

    /// Record payloads this node holds, for another member of the sealed-compute committee
    /// that lacks them (signed `RecordsFetch` body from a member's validator key); returns hex
    /// of an `Envelope` holding SCALE `Vec<Record>` (the held ones among those asked).
    #[method(name = "committeeRecords")]
    async fn committee_records(&self, request: String) -> RpcResult<String>;

    /// The chain sealing key, for a member of the sealed-compute committee whose node lacks it
    /// (it joined by governance): a signed `SealingKeyFetch` body from the member's validator
    /// key; returns hex of an `Envelope` holding the 32-byte key.
    #[method(name = "committeeSealingKey")]
    async fn committee_sealing_key(&self, request: String) -> RpcResult<String>;
}

/// Consent artefacts, shown only to the citizen they are about and the institution they name.
#[rpc(server, client, namespace = "consent")]
pub trait ConsentApi {
    /// The consents of the signer: about her (if her key is bound to a subject) or filed by
    /// it (institutions), by id, a page at a time: a signed request whose body is empty (the
    /// first page of up to 500) or a `ConsentListQuery` (the page after a consent id); a page
    /// as long as its limit may have more after its last id.
    #[method(name = "list")]
    async fn list(&self, request: String) -> RpcResult<Vec<ConsentInfo>>;
}

/// The audit trail.
#[rpc(server, client, namespace = "audit")]
pub trait AuditApi {
    /// A citizen's entries (signed by her bound key, `SubjectAuditQuery` body), each with a
    /// Merkle proof against the state root of a committed header.
    #[method(name = "listBySubject")]
    async fn list_by_subject(&self, request: String) -> RpcResult<AuditPage>;

    /// An institution's entries, for regulators or the institution itself
    /// (`InstitutionAuditQuery` body), with proofs.
    #[method(name = "listByInstitution")]
    async fn list_by_institution(&self, request: String) -> RpcResult<AuditPage>;
}

/// Credits.
#[rpc(server, client, namespace = "credits")]
pub trait CreditsApi {
    /// An account's credit balance.
    #[method(name = "getBalance")]
    async fn get_balance(&self, account: String) -> RpcResult<CreditsInfo>;
}

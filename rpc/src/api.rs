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

    /// The account's nonce, credits and roles.
    #[method(name = "getAccount")]
    async fn get_account(&self, account: String) -> RpcResult<AccountInfoJson>;

    /// New heads as they are committed.
    #[subscription(name = "subscribeNewHeads" => "newHead", unsubscribe = "unsubscribeNewHeads", item = HeadInfo)]
    async fn subscribe_new_heads(&self) -> SubscriptionResult;
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
    /// Head height, pending transactions, chain id.
    #[method(name = "health")]
    async fn health(&self) -> RpcResult<Health>;

    /// Software and API versions.
    #[method(name = "version")]
    async fn version(&self) -> RpcResult<VersionInfo>;
}

//! The executor: checks transactions, applies them to a [`StateView`], and turns a block into
//! receipts and a state root. The proposer path builds a block from candidates (skipping those
//! that fail their checks); the validator path re-executes a proposed block and accepts it only
//! if every transaction passes and the roots match. Both end in an [`ExecutedBlock`] that
//! [`Executor::commit`] writes atomically.
use std::sync::Arc;

use civitas_primitives::block::{
    receipts_root, tx_root, validators_hash, Block, CommitCertificate, EventRecord, Header,
    Receipt, ReceiptError, ReceiptStatus,
};
use civitas_primitives::crypto::{verify_tx, verify_tx_batch};
use civitas_primitives::tx::{Call, GovernanceAction, Role, RoleSet, SignedTransaction};
use civitas_primitives::vault::{
    sealed_output_hash, AccessKind, AccessOutcome, AuditEntry, ConsentAction, ConsentArtefact,
    ConsentChange, ConsentMode, ConsentStatus, Dataset, RefusalReason, SealedResult,
    SEALED_OUTPUT_MAX,
};
use civitas_primitives::{contract_address, sha3_256, AccountId, Hash};
use civitas_runtime::{BlockContext, CallRequest, Entry, StateError, Vm, VmError};
use jmt::storage::TreeUpdateBatch;
use jmt::JellyfishMerkleTree;
use thiserror::Error;

use crate::access::{CodeApproval, Disclosure, LedgerSealedSource, StoredRecord};
use crate::genesis::Genesis;
use crate::state::{
    key_hash, keys, CodeInfo, ContractInfo, DeployPolicy, Proposal, Sha3Hasher, StateView,
};
use crate::store::{BlockWrite, Head, Store, StoreError};
use crate::vault::{StoredSealedOutput, Vault};

/// Chain-wide execution parameters (consensus: every node uses the same).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// Chain id.
    pub chain_id: String,
    /// Sum of the fuel limits of one block's transactions.
    pub block_fuel_limit: u64,
    /// Transactions per block.
    pub max_block_txs: usize,
}

impl ChainParams {
    /// Defaults for `chain_id`.
    pub fn new(chain_id: &str) -> Self {
        ChainParams {
            chain_id: chain_id.into(),
            block_fuel_limit: 10_000_000_000,
            max_block_txs: 10_000,
        }
    }
}

/// Fuel charged for work outside the VM.
pub mod fuel {
    /// A credit transfer.
    pub const TRANSFER: u64 = 1_000;
    /// A governance proposal or approval.
    pub const GOVERNANCE: u64 = 5_000;
    /// Upload, per byte of code (validation and compilation).
    pub const UPLOAD_PER_BYTE: u64 = 20;
    /// Instantiation, before the constructor runs.
    pub const INSTANTIATE: u64 = 20_000;
    /// Upgrade.
    pub const UPGRADE: u64 = 10_000;
    /// Identity binding, dataset registration, code approval, consent filing and answers.
    pub const REGISTRY: u64 = 5_000;
    /// A record commitment (includes verifying the department's signature).
    pub const RECORD: u64 = 70_000;
    /// A disclosure, before per-dataset work.
    pub const DISCLOSE: u64 = 20_000;
}

/// Why a transaction was refused before execution: it changes nothing and consumes no nonce.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TxError {
    /// Oversized or undecodable bytes.
    #[error("{0}")]
    Format(String),
    /// The signature does not verify for the signer.
    #[error("invalid signature for signer {0}")]
    BadSignature(AccountId),
    /// Another chain's transaction.
    #[error("wrong chain id `{got}`; this chain is `{expected}`")]
    WrongChainId {
        /// This chain.
        expected: String,
        /// The transaction's.
        got: String,
    },
    /// A nonce already used (a replay).
    #[error("nonce {got} already used; the next nonce of this account is {expected}")]
    StaleNonce {
        /// Next nonce.
        expected: u64,
        /// Given.
        got: u64,
    },
    /// A nonce past the next one.
    #[error("nonce {got} skips ahead; the next nonce of this account is {expected}")]
    NonceGap {
        /// Next nonce.
        expected: u64,
        /// Given.
        got: u64,
    },
    /// A fuel limit no block can hold.
    #[error("fuel limit {limit} exceeds the block fuel limit {max}")]
    FuelLimitTooHigh {
        /// Given.
        limit: u64,
        /// Block limit.
        max: u64,
    },
    /// A call to an address with no contract.
    #[error("no contract at {0}")]
    UnknownContract(AccountId),
    /// Sealed calls and disclosures run only in committed blocks (they count consent uses and
    /// write the audit trail).
    #[error("{0} cannot be dry-run: it counts consent uses and writes the audit trail")]
    NotDryRunnable(&'static str),
    /// A record commitment whose payload this node has not received (`vault_putRecords`).
    #[error(
        "this node holds no payload for record {0}: send the record with vault_putRecords first"
    )]
    PayloadMissing(Hash),
    /// The signer's roles do not allow this call.
    #[error("{action} needs one of the roles {needs}; account {signer} has none of them")]
    NotPermitted {
        /// The call kind.
        action: &'static str,
        /// Roles that would allow it.
        needs: String,
        /// Signer.
        signer: AccountId,
    },
}

impl TxError {
    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            TxError::Format(_) => "malformed",
            TxError::BadSignature(_) => "bad_signature",
            TxError::WrongChainId { .. } => "wrong_chain_id",
            TxError::StaleNonce { .. } => "stale_nonce",
            TxError::NonceGap { .. } => "nonce_gap",
            TxError::FuelLimitTooHigh { .. } => "fuel_limit_too_high",
            TxError::NotPermitted { .. } => "not_permitted",
            TxError::UnknownContract(_) => "unknown_contract",
            TxError::NotDryRunnable(_) => "not_dry_runnable",
            TxError::PayloadMissing(_) => "payload_missing",
        }
    }
}

/// Why a block could not be executed or accepted.
#[derive(Debug, Error)]
pub enum ExecError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// State I/O failed during execution.
    #[error(transparent)]
    State(#[from] StateError),
    /// The VM failed for reasons of this node (not the contract's).
    #[error("VM failure: {0}")]
    Vm(String),
    /// A proposed block carries a transaction that fails its checks.
    #[error("transaction {index} of the proposed block is invalid: {error}")]
    InvalidTx {
        /// Position.
        index: usize,
        /// Why.
        error: TxError,
    },
    /// A proposed block whose header does not match its execution.
    #[error("proposed block does not match its execution: {0}")]
    Mismatch(String),
    /// The genesis document is invalid or the store already has one.
    #[error("genesis: {0}")]
    Genesis(String),
    /// The authenticated tree failed.
    #[error("state tree: {0}")]
    Tree(String),
}

impl ExecError {
    /// A node failure the VM reported: state errors keep their kind.
    fn from_vm(e: VmError) -> Self {
        match e {
            VmError::State(s) => ExecError::State(s),
            other => ExecError::Vm(other.to_string()),
        }
    }

    /// Whether this node alone may see the failure: it says nothing about the block or the
    /// transaction, so the node must retry (or refuse to vote), never drop or vote against.
    pub fn is_node_local(&self) -> bool {
        match self {
            ExecError::State(s) => s.is_node_local(),
            ExecError::InvalidTx { .. } | ExecError::Mismatch(_) => false,
            ExecError::Store(_) | ExecError::Vm(_) | ExecError::Genesis(_) | ExecError::Tree(_) => {
                true
            }
        }
    }
}

/// What a transaction would do at the head.
pub struct DryRun {
    /// The receipt it would get.
    pub receipt: Receipt,
    /// The state writes it would make, ordered by key.
    pub writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// This node's explanation of a failure (never part of consensus).
    pub diagnostic: Option<String>,
}

/// A block executed but not yet committed.
pub struct ExecutedBlock {
    /// The block (with roots filled in).
    pub block: Block,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// Per transaction, this node's explanation of a failure: for logs and RPC replies, never
    /// part of consensus.
    pub diagnostics: Vec<Option<String>>,
    /// The state root after the block.
    pub state_root: Hash,
    tree: TreeUpdateBatch,
    private: Vec<(&'static str, Vec<u8>, Vec<u8>)>,
}

/// A failed check: the transaction's fault, or this node's.
enum CheckFailure {
    Tx(TxError),
    Node(StateError),
}

impl From<TxError> for CheckFailure {
    fn from(e: TxError) -> Self {
        CheckFailure::Tx(e)
    }
}

impl From<StateError> for CheckFailure {
    fn from(e: StateError) -> Self {
        CheckFailure::Node(e)
    }
}

/// Executes blocks against the store.
#[derive(Clone)]
pub struct Executor {
    store: Store,
    vm: Vm,
    params: ChainParams,
    vault: Option<Vault>,
}

fn receipt_error(code: &str) -> Option<ReceiptError> {
    Some(ReceiptError {
        code: code.into(),
        revert_data: Vec::new(),
    })
}

/// What a call did, before it becomes a receipt.
struct CallResult {
    fuel_used: u64,
    events: Vec<EventRecord>,
    output: Vec<u8>,
    error: Option<ReceiptError>,
    /// A human explanation of `error`, made by this node: never part of consensus.
    diagnostic: Option<String>,
    /// Audit entries that stay even when the call fails (refused disclosures).
    audit: Vec<AuditEntry>,
    /// A sealed call's private result.
    sealed: Option<(Hash, StoredSealedOutput)>,
}

impl CallResult {
    fn ok(fuel_used: u64) -> Self {
        CallResult {
            fuel_used,
            events: Vec::new(),
            output: Vec::new(),
            error: None,
            diagnostic: None,
            audit: Vec::new(),
            sealed: None,
        }
    }
    fn fail(fuel_used: u64, code: &str, message: impl Into<String>) -> Self {
        CallResult {
            error: receipt_error(code),
            diagnostic: Some(message.into()),
            ..CallResult::ok(fuel_used)
        }
    }
    /// A failed contract call: its code, the contract's revert data when it reverted, and the
    /// VM's description as the diagnostic.
    fn vm_failure(fuel_used: u64, e: &VmError) -> Self {
        let revert_data = match e {
            VmError::Reverted { message } => message.clone(),
            _ => Vec::new(),
        };
        CallResult {
            error: Some(ReceiptError {
                code: e.code(),
                revert_data,
            }),
            diagnostic: Some(e.to_string()),
            ..CallResult::ok(fuel_used)
        }
    }
}

impl Executor {
    /// An executor over `store`.
    pub fn new(store: Store, vm: Vm, params: ChainParams) -> Self {
        Executor {
            store,
            vm,
            params,
            vault: None,
        }
    }

    /// The executor with this node's vault: it can serve sealed reads and keep sealed results.
    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = Some(vault);
        self
    }

    /// This node's vault, if it holds one.
    pub fn vault(&self) -> Option<&Vault> {
        self.vault.as_ref()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The VM.
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The chain parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// Writes genesis if the store is empty; returns the head either way.
    pub fn init_genesis(&self, genesis: &Genesis) -> Result<Head, ExecError> {
        if let Some(head) = self.store.head()? {
            return Ok(head);
        }
        if genesis.chain_id != self.params.chain_id {
            return Err(ExecError::Genesis(format!(
                "genesis chain id `{}` differs from the node's `{}`",
                genesis.chain_id, self.params.chain_id
            )));
        }
        let view = StateView::new(self.store.clone(), 0);
        genesis.write(&view)?;
        let (root, tree) = self.tree_update(&view, 0)?;
        let doc = serde_json_bytes(genesis);
        Ok(self.store.commit_genesis(&doc, &tree, root)?)
    }

    /// A read-only view of the committed state at the head.
    pub fn head_view(&self) -> Result<(Head, StateView), ExecError> {
        let head = self
            .store
            .head()?
            .ok_or_else(|| ExecError::Genesis("the store has no genesis".into()))?;
        let view = StateView::new(self.store.clone(), head.height);
        Ok((head, view))
    }

    /// Checks a transaction against `view` without executing it. Two levels: the outer error
    /// is this node's failure (state I/O), which says nothing about the transaction; the inner
    /// one is the transaction's fault, which every node finds alike.
    pub fn check_tx(
        &self,
        view: &StateView,
        stx: &SignedTransaction,
        verify_signature: bool,
    ) -> Result<Result<(), TxError>, ExecError> {
        match self.check_tx_faults(view, stx, verify_signature) {
            Ok(()) => Ok(Ok(())),
            Err(CheckFailure::Tx(e)) => Ok(Err(e)),
            Err(CheckFailure::Node(e)) => Err(ExecError::State(e)),
        }
    }

    fn check_tx_faults(
        &self,
        view: &StateView,
        stx: &SignedTransaction,
        verify_signature: bool,
    ) -> Result<(), CheckFailure> {
        stx.check_limits()
            .map_err(|e| TxError::Format(e.to_string()))?;
        let tx = &stx.tx;
        if tx.chain_id != self.params.chain_id {
            return Err(TxError::WrongChainId {
                expected: self.params.chain_id.clone(),
                got: tx.chain_id.clone(),
            }
            .into());
        }
        if tx.fuel_limit > self.params.block_fuel_limit {
            return Err(TxError::FuelLimitTooHigh {
                limit: tx.fuel_limit,
                max: self.params.block_fuel_limit,
            }
            .into());
        }
        if verify_signature && !verify_tx(stx) {
            return Err(TxError::BadSignature(tx.signer).into());
        }
        let account = view.account(&tx.signer)?;
        if tx.nonce < account.nonce {
            return Err(TxError::StaleNonce {
                expected: account.nonce,
                got: tx.nonce,
            }
            .into());
        }
        if tx.nonce > account.nonce {
            return Err(TxError::NonceGap {
                expected: account.nonce,
                got: tx.nonce,
            }
            .into());
        }
        if let Call::Call { contract, .. } | Call::SealedCall { contract, .. } = &tx.call {
            let exists = view.get(&keys::contract(contract))?.is_some();
            if !exists {
                return Err(TxError::UnknownContract(*contract).into());
            }
        }
        let needs = match &tx.call {
            Call::UploadCode { .. } | Call::Instantiate { .. } => {
                let policy: DeployPolicy =
                    view.get_decoded(keys::DEPLOY_POLICY)?
                        .unwrap_or(DeployPolicy {
                            upload: Default::default(),
                            instantiate: Default::default(),
                        });
                Some(if matches!(tx.call, Call::UploadCode { .. }) {
                    policy.upload
                } else {
                    policy.instantiate
                })
            }
            Call::Propose { .. } | Call::Approve { .. } => Some(RoleSet::of(&[Role::Validator])),
            Call::BindIdentity { .. } => Some(RoleSet::of(&[Role::Identity])),
            Call::RegisterDataset { .. } | Call::CommitRecord { .. } => {
                Some(RoleSet::of(&[Role::Custodian]))
            }
            Call::RequestConsent { .. } | Call::SealedCall { .. } | Call::Disclose { .. } => {
                Some(RoleSet::of(&[Role::Institution]))
            }
            Call::ApproveCode { .. } => Some(RoleSet::of(&[Role::Regulator])),
            _ => None,
        };
        if let Some(needs) = needs {
            if !account.roles.intersects(needs) {
                let names: Vec<&str> = Role::ALL
                    .iter()
                    .filter(|r| needs.has(**r))
                    .map(|r| r.name())
                    .collect();
                return Err(TxError::NotPermitted {
                    action: tx.call.kind(),
                    needs: if names.is_empty() {
                        "(none)".into()
                    } else {
                        names.join(", ")
                    },
                    signer: tx.signer,
                }
                .into());
            }
        }
        Ok(())
    }

    /// Builds and executes a block from `candidates` on top of `parent` (the proposer path).
    /// Candidates that fail their checks are left out and returned with the reason.
    /// Signatures are assumed checked at admission (the mempool verifies them).
    pub fn propose(
        &self,
        parent: &Head,
        time_ms: u64,
        proposer: AccountId,
        candidates: Vec<SignedTransaction>,
    ) -> Result<(ExecutedBlock, Vec<(Hash, TxError)>), ExecError> {
        let height = parent.height + 1;
        let view = StateView::new(self.store.clone(), parent.height);
        let (validators_hash, next_validators_hash) = Self::validator_hashes(&view, height)?;
        let ctx = BlockContext { height, time_ms };
        let mut included = Vec::new();
        let mut receipts = Vec::new();
        let mut rejected = Vec::new();
        let mut private = Vec::new();
        let mut diagnostics = Vec::new();
        let mut fuel_budget = self.params.block_fuel_limit;
        for stx in candidates {
            if included.len() >= self.params.max_block_txs {
                break;
            }
            match self.check_tx(&view, &stx, false)? {
                // Valid but over what is left of this block's fuel: it waits for a later block.
                Ok(()) if stx.tx.fuel_limit > fuel_budget => continue,
                Ok(()) => {
                    fuel_budget -= stx.tx.fuel_limit;
                    let (receipt, diagnostic) = self.apply(&view, ctx, &stx, &mut private)?;
                    receipts.push(receipt);
                    diagnostics.push(diagnostic);
                    included.push(stx);
                }
                Err(e) => rejected.push((stx.hash(), e)),
            }
        }
        let header = Header {
            chain_id: self.params.chain_id.clone(),
            height,
            parent_hash: parent.block_hash,
            time_ms,
            proposer,
            tx_root: tx_root(&included),
            state_root: Hash::default(),
            receipts_root: receipts_root(&receipts),
            validators_hash,
            next_validators_hash,
        };
        let executed = self.finish(
            view,
            Block {
                header,
                txs: included,
            },
            receipts,
            diagnostics,
            private,
        )?;
        Ok((executed, rejected))
    }

    /// Re-executes a proposed block on top of `parent` (the validator path).
    pub fn validate(&self, parent: &Head, block: &Block) -> Result<ExecutedBlock, ExecError> {
        let h = &block.header;
        let expect = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(ExecError::Mismatch(what.into()))
            }
        };
        expect(h.chain_id == self.params.chain_id, "chain id")?;
        expect(h.height == parent.height + 1, "height")?;
        expect(h.parent_hash == parent.block_hash, "parent hash")?;
        let parent_time = match self.store.block(parent.height)? {
            Some(b) => b.header.time_ms,
            None => 0,
        };
        expect(
            h.time_ms > parent_time,
            "block time must be after the parent's",
        )?;
        expect(
            block.txs.len() <= self.params.max_block_txs,
            "transaction count",
        )?;
        expect(h.tx_root == tx_root(&block.txs), "transaction root")?;
        let refs: Vec<&SignedTransaction> = block.txs.iter().collect();
        if !verify_tx_batch(&refs) {
            let index = block.txs.iter().position(|t| !verify_tx(t)).unwrap_or(0);
            let signer = block
                .txs
                .get(index)
                .map(|t| t.tx.signer)
                .unwrap_or_default();
            return Err(ExecError::InvalidTx {
                index,
                error: TxError::BadSignature(signer),
            });
        }
        let fuel: u128 = block.txs.iter().map(|t| u128::from(t.tx.fuel_limit)).sum();
        expect(
            fuel <= u128::from(self.params.block_fuel_limit),
            "block fuel limit",
        )?;
        let view = StateView::new(self.store.clone(), parent.height);
        let (validators_hash, next_validators_hash) = Self::validator_hashes(&view, h.height)?;
        expect(h.validators_hash == validators_hash, "validators hash")?;
        expect(
            h.next_validators_hash == next_validators_hash,
            "next validators hash",
        )?;
        let ctx = BlockContext {
            height: h.height,
            time_ms: h.time_ms,
        };
        let mut receipts = Vec::with_capacity(block.txs.len());
        let mut diagnostics = Vec::with_capacity(block.txs.len());
        let mut private = Vec::new();
        for (index, stx) in block.txs.iter().enumerate() {
            self.check_tx(&view, stx, false)?
                .map_err(|error| ExecError::InvalidTx { index, error })?;
            let (receipt, diagnostic) = self.apply(&view, ctx, stx, &mut private)?;
            receipts.push(receipt);
            diagnostics.push(diagnostic);
        }
        expect(h.receipts_root == receipts_root(&receipts), "receipts root")?;
        let executed = self.finish(
            view,
            Block {
                header: h.clone(),
                txs: block.txs.clone(),
            },
            receipts,
            diagnostics,
            private,
        )?;
        if executed.state_root != h.state_root {
            return Err(ExecError::Mismatch(format!(
                "state root: header {} but execution gives {}",
                h.state_root, executed.state_root
            )));
        }
        Ok(executed)
    }

    /// Executes `tx` on the committed head without committing or checking its signature:
    /// the receipt it would get, the state writes it would make, and this node's explanation
    /// of a failure.
    pub fn dry_run(
        &self,
        tx: &civitas_primitives::tx::Transaction,
        time_ms: u64,
    ) -> Result<Result<DryRun, TxError>, ExecError> {
        let (head, view) = self.head_view()?;
        let stx = SignedTransaction {
            tx: tx.clone(),
            signature: [0; 64],
        };
        if let Err(e) = self.check_tx(&view, &stx, false)? {
            return Ok(Err(e));
        }
        if matches!(tx.call, Call::SealedCall { .. } | Call::Disclose { .. }) {
            return Ok(Err(TxError::NotDryRunnable(tx.call.kind())));
        }
        let ctx = BlockContext {
            height: head.height + 1,
            time_ms,
        };
        let (receipt, diagnostic) = self.apply(&view, ctx, &stx, &mut Vec::new())?;
        Ok(Ok(DryRun {
            receipt,
            writes: view.block_writes()?.into_iter().collect(),
            diagnostic,
        }))
    }

    /// A read-only contract call at the head: writes and events trap.
    pub fn query(
        &self,
        contract: AccountId,
        caller: AccountId,
        input: Vec<u8>,
        fuel_limit: u64,
        time_ms: u64,
    ) -> Result<Result<civitas_runtime::CallOutcome, civitas_runtime::CallError>, ExecError> {
        let (head, view) = self.head_view()?;
        let Some(info) = view.get_decoded::<ContractInfo>(&keys::contract(&contract))? else {
            return Ok(Err(civitas_runtime::CallError {
                error: VmError::Host(civitas_runtime::HostError::ContractNotFound(contract)),
                fuel_used: 0,
                debug_log: Vec::new(),
            }));
        };
        let result = self.vm.execute(
            Arc::new(view),
            BlockContext {
                height: head.height,
                time_ms,
            },
            CallRequest {
                code_hash: info.code_hash,
                contract,
                caller,
                input,
                fuel_limit,
                entry: Entry::Call,
                read_only: true,
            },
        );
        match result {
            Err(e) if e.error.is_node_failure() => Err(ExecError::from_vm(e.error)),
            other => Ok(other),
        }
    }

    /// The validator schedule: (activation height, sorted set), oldest first.
    fn validator_schedule(view: &StateView) -> Result<Vec<(u64, Vec<AccountId>)>, StateError> {
        Ok(view.get_decoded(keys::VALIDATORS)?.unwrap_or_default())
    }

    /// The newest validator set, including a change that is not active yet.
    pub fn validators(view: &StateView) -> Result<Vec<AccountId>, StateError> {
        Ok(Self::validator_schedule(view)?
            .pop()
            .map(|(_, set)| set)
            .unwrap_or_default())
    }

    /// The validators who decide block `height`: a pure function of committed state. A change
    /// committed in block `h` takes effect at `h + 2`.
    pub fn validator_set_at(view: &StateView, height: u64) -> Result<Vec<AccountId>, StateError> {
        Ok(Self::validator_set_since(view, height)?.1)
    }

    /// The hashes a header of `height` commits to: the validator sets of `height` and of
    /// `height + 1`, both fixed by the state before the block (a change takes effect two
    /// blocks after it commits).
    fn validator_hashes(view: &StateView, height: u64) -> Result<(Hash, Hash), StateError> {
        Ok((
            validators_hash(&Self::validator_set_at(view, height)?),
            validators_hash(&Self::validator_set_at(view, height + 1)?),
        ))
    }

    /// The validator set that decides `height` and the height from which it does.
    pub fn validator_set_since(
        view: &StateView,
        height: u64,
    ) -> Result<(u64, Vec<AccountId>), StateError> {
        Ok(Self::validator_schedule(view)?
            .into_iter()
            .rev()
            .find(|(activation, _)| *activation <= height)
            .unwrap_or_default())
    }

    /// Schedules `set` to take effect two blocks after `height`, dropping entries no longer
    /// needed to answer for heights from `height` on.
    fn schedule_validators(
        view: &StateView,
        height: u64,
        set: Vec<AccountId>,
    ) -> Result<(), StateError> {
        let activation = height + 2;
        let mut schedule = Self::validator_schedule(view)?;
        schedule.retain(|(a, _)| *a != activation);
        schedule.push((activation, set));
        schedule.sort_by_key(|(a, _)| *a);
        while schedule.len() > 1 && schedule[1].0 <= height {
            schedule.remove(0);
        }
        view.put_encoded(keys::VALIDATORS.to_vec(), &schedule)
    }

    /// Writes an executed block with its certificate; returns the new head.
    pub fn commit(
        &self,
        executed: ExecutedBlock,
        certificate: CommitCertificate,
    ) -> Result<Head, ExecError> {
        let head = Head {
            height: executed.block.header.height,
            block_hash: executed.block.header.hash(),
            state_root: executed.state_root,
        };
        self.store.commit_block(&BlockWrite {
            block: executed.block,
            certificate,
            receipts: executed.receipts,
            tree: executed.tree,
            head: head.clone(),
            private: executed.private,
        })?;
        Ok(head)
    }

    fn finish(
        &self,
        view: StateView,
        mut block: Block,
        receipts: Vec<Receipt>,
        diagnostics: Vec<Option<String>>,
        private: Vec<(&'static str, Vec<u8>, Vec<u8>)>,
    ) -> Result<ExecutedBlock, ExecError> {
        view.put_encoded(keys::HEIGHT.to_vec(), &block.header.height)?;
        view.commit_tx()?;
        let (state_root, tree) = self.tree_update(&view, block.header.height)?;
        block.header.state_root = state_root;
        Ok(ExecutedBlock {
            block,
            receipts,
            diagnostics,
            state_root,
            tree,
            private,
        })
    }

    /// Computes the tree for `version` from the view's writes, without writing it.
    fn tree_update(
        &self,
        view: &StateView,
        version: u64,
    ) -> Result<(Hash, TreeUpdateBatch), ExecError> {
        let writes = view.block_writes()?;
        let tree = JellyfishMerkleTree::<_, Sha3Hasher>::new(&self.store);
        let (root, batch) = tree
            .put_value_set(writes.into_iter().map(|(k, v)| (key_hash(&k), v)), version)
            .map_err(|e| ExecError::Tree(e.to_string()))?;
        Ok((Hash(root.0), batch))
    }

    /// Applies one checked transaction: consumes its nonce, runs its call, and returns the
    /// receipt. A failed call leaves only the nonce change.
    fn apply(
        &self,
        view: &StateView,
        ctx: BlockContext,
        stx: &SignedTransaction,
        private: &mut Vec<(&'static str, Vec<u8>, Vec<u8>)>,
    ) -> Result<(Receipt, Option<String>), ExecError> {
        let tx = &stx.tx;
        let mut account = view.account(&tx.signer)?;
        account.nonce += 1;
        view.set_account(&tx.signer, &account)?;
        view.commit_tx()?;

        let result = self.run_call(view, ctx, stx)?;
        if result.error.is_some() {
            view.abort_tx()?;
        } else {
            view.commit_tx()?;
        }
        for entry in result.audit {
            view.append_audit(entry)?;
        }
        view.commit_tx()?;
        if let Some((output_hash, stored)) = result.sealed {
            // The public receipt of a sealed call is the same whatever the data: success, the
            // whole fuel budget, no events, no output, and a salted hash of the padded result.
            if let Some(vault) = &self.vault {
                private.push(vault.sealed_output_write(&stx.hash(), &stored));
            }
            let receipt = Receipt {
                tx_hash: stx.hash(),
                status: ReceiptStatus::Success,
                fuel_used: tx.fuel_limit,
                events: Vec::new(),
                output_hash,
                output: Vec::new(),
                error: None,
            };
            return Ok((receipt, None));
        }
        let fuel_used = result.fuel_used.min(tx.fuel_limit);
        let receipt = Receipt {
            tx_hash: stx.hash(),
            status: if result.error.is_none() {
                ReceiptStatus::Success
            } else {
                ReceiptStatus::Failed
            },
            fuel_used,
            events: if result.error.is_none() {
                result.events
            } else {
                Vec::new()
            },
            output_hash: if result.output.is_empty() {
                Hash::default()
            } else {
                sha3_256(&result.output)
            },
            output: result.output,
            error: result.error,
        };
        Ok((receipt, result.diagnostic))
    }

    fn vm_call(
        &self,
        view: &StateView,
        ctx: BlockContext,
        request: CallRequest,
        base_fuel: u64,
    ) -> Result<CallResult, ExecError> {
        match self.vm.execute(Arc::new(view.clone()), ctx, request) {
            Ok(out) => {
                for change in out.storage_changes {
                    view.put(keys::storage(&change.contract, &change.key), change.value)?;
                }
                Ok(CallResult {
                    fuel_used: base_fuel + out.fuel_used,
                    events: out
                        .events
                        .into_iter()
                        .map(|e| EventRecord {
                            contract: e.contract,
                            topic: e.topic,
                            data: e.data,
                        })
                        .collect(),
                    output: out.output,
                    ..CallResult::ok(0)
                })
            }
            Err(e) if e.error.is_node_failure() => Err(ExecError::from_vm(e.error)),
            Err(e) => Ok(CallResult::vm_failure(base_fuel + e.fuel_used, &e.error)),
        }
    }

    fn run_call(
        &self,
        view: &StateView,
        ctx: BlockContext,
        stx: &SignedTransaction,
    ) -> Result<CallResult, ExecError> {
        let tx = &stx.tx;
        let limit = tx.fuel_limit;
        let flat = |cost: u64| -> Option<CallResult> {
            (cost > limit).then(|| {
                CallResult::fail(
                    limit,
                    "out_of_fuel",
                    format!("needs {cost} fuel; the limit is {limit}"),
                )
            })
        };
        match &tx.call {
            Call::Transfer { to, amount } => {
                if let Some(r) = flat(fuel::TRANSFER) {
                    return Ok(r);
                }
                let mut from = view.account(&tx.signer)?;
                if from.balance < *amount {
                    return Ok(CallResult::fail(
                        fuel::TRANSFER,
                        "insufficient_balance",
                        format!("balance {} is less than {amount}", from.balance),
                    ));
                }
                from.balance -= amount;
                view.set_account(&tx.signer, &from)?;
                let mut dest = view.account(to)?;
                dest.balance = match dest.balance.checked_add(*amount) {
                    Some(b) => b,
                    None => {
                        return Ok(CallResult::fail(
                            fuel::TRANSFER,
                            "overflow",
                            "recipient balance would overflow",
                        ))
                    }
                };
                view.set_account(to, &dest)?;
                Ok(CallResult::ok(fuel::TRANSFER))
            }
            Call::UploadCode { code } => {
                let cost = fuel::UPLOAD_PER_BYTE.saturating_mul(code.len() as u64);
                if let Some(r) = flat(cost) {
                    return Ok(r);
                }
                let info = match self.vm.validate(code) {
                    Ok(info) => info,
                    Err(e) => return Ok(CallResult::fail(cost, "invalid_code", e.to_string())),
                };
                let key = keys::code(&info.code_hash);
                if view.get(&key)?.is_none() {
                    view.put_encoded(
                        key,
                        &CodeInfo {
                            code: code.clone(),
                            uploader: tx.signer,
                            refcount: 0,
                        },
                    )?;
                }
                Ok(CallResult {
                    output: info.code_hash.0.to_vec(),
                    ..CallResult::ok(cost)
                })
            }
            Call::Instantiate {
                code_hash,
                salt,
                input,
            } => {
                if let Some(r) = flat(fuel::INSTANTIATE) {
                    return Ok(r);
                }
                let Some(mut code) = view.get_decoded::<CodeInfo>(&keys::code(code_hash))? else {
                    return Ok(CallResult::fail(
                        fuel::INSTANTIATE,
                        "code_not_found",
                        format!("no code stored under {code_hash}"),
                    ));
                };
                let address = contract_address(&tx.signer, code_hash, salt);
                if view.get(&keys::contract(&address))?.is_some() {
                    return Ok(CallResult::fail(
                        fuel::INSTANTIATE,
                        "contract_exists",
                        format!("a contract already exists at {address}: use another salt"),
                    ));
                }
                let mut result = self.vm_call(
                    view,
                    ctx,
                    CallRequest {
                        code_hash: *code_hash,
                        contract: address,
                        caller: tx.signer,
                        input: input.clone(),
                        fuel_limit: limit - fuel::INSTANTIATE,
                        entry: Entry::Deploy,
                        read_only: false,
                    },
                    fuel::INSTANTIATE,
                )?;
                if result.error.is_none() {
                    code.refcount += 1;
                    view.put_encoded(keys::code(code_hash), &code)?;
                    view.put_encoded(
                        keys::contract(&address),
                        &ContractInfo {
                            code_hash: *code_hash,
                            admin: tx.signer,
                        },
                    )?;
                    result.output = address.0.to_vec();
                }
                Ok(result)
            }
            Call::Call { contract, input } => {
                let Some(info) = view.get_decoded::<ContractInfo>(&keys::contract(contract))?
                else {
                    return Ok(CallResult::fail(
                        0,
                        "contract_not_found",
                        format!("no contract at {contract}"),
                    ));
                };
                self.vm_call(
                    view,
                    ctx,
                    CallRequest {
                        code_hash: info.code_hash,
                        contract: *contract,
                        caller: tx.signer,
                        input: input.clone(),
                        fuel_limit: limit,
                        entry: Entry::Call,
                        read_only: false,
                    },
                    0,
                )
            }
            Call::Upgrade {
                contract,
                code_hash,
            } => {
                if let Some(r) = flat(fuel::UPGRADE) {
                    return Ok(r);
                }
                let Some(mut info) = view.get_decoded::<ContractInfo>(&keys::contract(contract))?
                else {
                    return Ok(CallResult::fail(
                        fuel::UPGRADE,
                        "contract_not_found",
                        format!("no contract at {contract}"),
                    ));
                };
                if info.admin != tx.signer {
                    return Ok(CallResult::fail(
                        fuel::UPGRADE,
                        "not_admin",
                        "only the contract's admin may upgrade it",
                    ));
                }
                let Some(mut new_code) = view.get_decoded::<CodeInfo>(&keys::code(code_hash))?
                else {
                    return Ok(CallResult::fail(
                        fuel::UPGRADE,
                        "code_not_found",
                        format!("no code stored under {code_hash}"),
                    ));
                };
                if let Some(mut old) = view.get_decoded::<CodeInfo>(&keys::code(&info.code_hash))? {
                    old.refcount = old.refcount.saturating_sub(1);
                    view.put_encoded(keys::code(&info.code_hash), &old)?;
                }
                new_code.refcount += 1;
                view.put_encoded(keys::code(code_hash), &new_code)?;
                info.code_hash = *code_hash;
                view.put_encoded(keys::contract(contract), &info)?;
                Ok(CallResult::ok(fuel::UPGRADE))
            }
            Call::Propose { action } => {
                if let Some(r) = flat(fuel::GOVERNANCE) {
                    return Ok(r);
                }
                if let Some(refused) = Self::refuse_action(view, action)? {
                    return Ok(refused);
                }
                let id: u64 = view.get_decoded(keys::NEXT_PROPOSAL)?.unwrap_or(1);
                view.put_encoded(keys::NEXT_PROPOSAL.to_vec(), &(id + 1))?;
                let proposal = Proposal {
                    id,
                    action: action.clone(),
                    proposer: tx.signer,
                    approvals: vec![tx.signer],
                    executed: false,
                };
                let mut result = self.settle_proposal(view, ctx.height, proposal)?;
                result.output = id.to_le_bytes().to_vec();
                Ok(result)
            }
            Call::BindIdentity { subject, account } => {
                if let Some(r) = flat(fuel::REGISTRY) {
                    return Ok(r);
                }
                if let Some(old) = view.identity(subject)? {
                    view.put(keys::identity_of(&old), None)?;
                }
                if let Some(previous) = view.subject_of(account)? {
                    if previous != *subject {
                        return Ok(CallResult::fail(
                            fuel::REGISTRY,
                            "account_bound",
                            format!("account {account} is already bound to another subject"),
                        ));
                    }
                }
                view.put_encoded(keys::identity(subject), account)?;
                view.put_encoded(keys::identity_of(account), subject)?;
                Ok(CallResult::ok(fuel::REGISTRY))
            }
            Call::RegisterDataset { id, fields, price } => {
                if let Some(r) = flat(fuel::REGISTRY) {
                    return Ok(r);
                }
                if view.dataset(id)?.is_some() {
                    return Ok(CallResult::fail(
                        fuel::REGISTRY,
                        "dataset_exists",
                        format!("dataset `{id}` is already registered"),
                    ));
                }
                let mut names = std::collections::BTreeSet::new();
                if fields.is_empty() || !fields.iter().all(|f| names.insert(f.name.as_str())) {
                    return Ok(CallResult::fail(
                        fuel::REGISTRY,
                        "bad_schema",
                        "a dataset needs at least one field and unique field names",
                    ));
                }
                view.put_dataset(&Dataset {
                    id: id.clone(),
                    custodian: tx.signer,
                    fields: fields.clone(),
                    price: *price,
                })?;
                Ok(CallResult::ok(fuel::REGISTRY))
            }
            Call::CommitRecord {
                subject,
                dataset,
                version,
                record_hash,
                signature,
            } => {
                if let Some(r) = flat(fuel::RECORD) {
                    return Ok(r);
                }
                let fail = |code: &str, msg: String| Ok(CallResult::fail(fuel::RECORD, code, msg));
                let Some(ds) = view.dataset(dataset)? else {
                    return fail("unknown_dataset", format!("no dataset `{dataset}`"));
                };
                if ds.custodian != tx.signer {
                    return fail(
                        "not_custodian",
                        format!("dataset `{dataset}` is held by {}", ds.custodian),
                    );
                }
                let mut versions = view.records(subject, dataset)?;
                let expected = versions.last().map_or(1, |r| r.version + 1);
                if *version != expected {
                    return fail(
                        "bad_version",
                        format!("the next version of this record is {expected}, not {version}"),
                    );
                }
                if !civitas_primitives::crypto::verify_hash(&tx.signer, record_hash, signature) {
                    return fail(
                        "bad_record_signature",
                        "the record signature does not verify for the custodian".into(),
                    );
                }
                versions.push(StoredRecord {
                    version: *version,
                    record_hash: *record_hash,
                    custodian: tx.signer,
                    signature: *signature,
                    height: ctx.height,
                });
                view.put_encoded(keys::records(subject, dataset), &versions)?;
                let reward: u128 = view.get_decoded(keys::RECORD_REWARD)?.unwrap_or(0);
                let mut me = view.account(&tx.signer)?;
                me.balance = me.balance.saturating_add(reward);
                view.set_account(&tx.signer, &me)?;
                Ok(CallResult::ok(fuel::RECORD))
            }
            Call::RequestConsent { request } => {
                if let Some(r) = flat(fuel::REGISTRY) {
                    return Ok(r);
                }
                let fail =
                    |code: &str, msg: String| Ok(CallResult::fail(fuel::REGISTRY, code, msg));
                if request.datasets.is_empty() {
                    return fail(
                        "bad_request",
                        "a consent request names at least one dataset".into(),
                    );
                }
                let mut seen = std::collections::BTreeSet::new();
                for d in &request.datasets {
                    if !seen.insert(d.as_str()) {
                        return fail("bad_request", format!("dataset `{d}` is named twice"));
                    }
                    if view.dataset(d)?.is_none() {
                        return fail("unknown_dataset", format!("no dataset `{d}`"));
                    }
                }
                match (request.mode, request.code_hash) {
                    (ConsentMode::Compute, None) => {
                        return fail(
                            "bad_request",
                            "a compute consent names the contract code hash".into(),
                        )
                    }
                    (ConsentMode::Disclose, Some(_)) => {
                        return fail(
                            "bad_request",
                            "a disclose consent names no contract code".into(),
                        )
                    }
                    _ => {}
                }
                if request.expires_ms <= ctx.time_ms {
                    return fail("bad_request", "the expiry is not in the future".into());
                }
                if request.max_uses == 0 {
                    return fail("bad_request", "max uses must be at least 1".into());
                }
                let id: u64 = view.get_decoded(keys::NEXT_CONSENT)?.unwrap_or(1);
                view.put_encoded(keys::NEXT_CONSENT.to_vec(), &(id + 1))?;
                let artefact = ConsentArtefact {
                    id,
                    grantee: tx.signer,
                    request: request.clone(),
                    uses: 0,
                    status: ConsentStatus::Pending,
                    history: vec![ConsentChange {
                        status: ConsentStatus::Pending,
                        height: ctx.height,
                        time_ms: ctx.time_ms,
                    }],
                };
                view.put_encoded(keys::consent(id), &artefact)?;
                for list in [
                    keys::consents_of_subject(&request.subject),
                    keys::consents_of_grantee(&tx.signer),
                ] {
                    let mut ids = view.id_list(&list)?;
                    ids.push(id);
                    view.put_encoded(list, &ids)?;
                }
                Ok(CallResult {
                    output: id.to_le_bytes().to_vec(),
                    ..CallResult::ok(fuel::REGISTRY)
                })
            }
            Call::Consent { id, action } => {
                if let Some(r) = flat(fuel::REGISTRY) {
                    return Ok(r);
                }
                let fail =
                    |code: &str, msg: String| Ok(CallResult::fail(fuel::REGISTRY, code, msg));
                let Some(mut c) = view.consent(*id)? else {
                    return fail("consent_not_found", format!("no consent {id}"));
                };
                if view.identity(&c.request.subject)? != Some(tx.signer) {
                    return fail(
                        "not_subject",
                        "only the citizen the consent is about may answer it (from her bound wallet key)"
                            .into(),
                    );
                }
                let now = c.status_at(ctx.time_ms);
                use ConsentAction as A;
                use ConsentStatus as S;
                let next = match (action, now) {
                    (A::Approve, S::Pending) => S::Active,
                    (A::Reject, S::Pending) => S::Rejected,
                    (A::Pause, S::Active) => S::Paused,
                    (A::Resume, S::Paused) => S::Active,
                    (A::Revoke, S::Pending | S::Active | S::Paused | S::Exhausted) => S::Revoked,
                    _ => {
                        return fail(
                            "bad_transition",
                            format!("cannot {} a consent that is {}", action.name(), now.name()),
                        )
                    }
                };
                c.status = next;
                c.history.push(ConsentChange {
                    status: next,
                    height: ctx.height,
                    time_ms: ctx.time_ms,
                });
                view.put_encoded(keys::consent(*id), &c)?;
                Ok(CallResult::ok(fuel::REGISTRY))
            }
            Call::ApproveCode {
                code_hash,
                approved,
            } => {
                if let Some(r) = flat(fuel::REGISTRY) {
                    return Ok(r);
                }
                if view.get(&keys::code(code_hash))?.is_none() {
                    return Ok(CallResult::fail(
                        fuel::REGISTRY,
                        "code_not_found",
                        format!("no code stored under {code_hash}"),
                    ));
                }
                view.put_encoded(
                    keys::code_approval(code_hash),
                    &CodeApproval {
                        approved: *approved,
                        regulator: tx.signer,
                        height: ctx.height,
                    },
                )?;
                Ok(CallResult::ok(fuel::REGISTRY))
            }
            Call::SealedCall { contract, input } => {
                self.sealed_call(view, ctx, stx, *contract, input)
            }
            Call::Disclose { consent } => self.disclose(view, ctx, stx, *consent),
            Call::Approve { proposal } => {
                if let Some(r) = flat(fuel::GOVERNANCE) {
                    return Ok(r);
                }
                let Some(mut p) = view.get_decoded::<Proposal>(&keys::proposal(*proposal))? else {
                    return Ok(CallResult::fail(
                        fuel::GOVERNANCE,
                        "proposal_not_found",
                        format!("no proposal {proposal}"),
                    ));
                };
                if p.executed {
                    return Ok(CallResult::fail(
                        fuel::GOVERNANCE,
                        "proposal_executed",
                        "the proposal has already taken effect",
                    ));
                }
                if p.approvals.contains(&tx.signer) {
                    return Ok(CallResult::fail(
                        fuel::GOVERNANCE,
                        "already_approved",
                        "this department already approved",
                    ));
                }
                p.approvals.push(tx.signer);
                self.settle_proposal(view, ctx.height, p)
            }
        }
    }

    /// Runs a sealed call. Whatever happens inside, the public result is uniform; the real
    /// result is padded, committed to by a salted hash, and kept for the institution and the
    /// subjects.
    fn sealed_call(
        &self,
        view: &StateView,
        ctx: BlockContext,
        stx: &SignedTransaction,
        contract: AccountId,
        input: &[u8],
    ) -> Result<CallResult, ExecError> {
        let tx = &stx.tx;
        let tx_hash = stx.hash();
        let source = Arc::new(LedgerSealedSource::new(
            view.clone(),
            self.vault.clone(),
            tx.signer,
            tx_hash,
            ctx,
        ));
        let result = match view.get_decoded::<ContractInfo>(&keys::contract(&contract))? {
            None => SealedResult {
                ok: false,
                output: Vec::new(),
                error_code: "contract_not_found".into(),
            },
            Some(info) => match self.vm.execute_sealed(
                Arc::new(view.clone()),
                source.clone(),
                ctx,
                CallRequest {
                    code_hash: info.code_hash,
                    contract,
                    caller: tx.signer,
                    input: input.to_vec(),
                    fuel_limit: tx.fuel_limit,
                    entry: Entry::Call,
                    read_only: true,
                },
            ) {
                Ok(out) => SealedResult {
                    ok: true,
                    output: out.output,
                    error_code: String::new(),
                },
                Err(e) if e.error.is_node_failure() => return Err(ExecError::from_vm(e.error)),
                // Revert data shares the return value's channel and cap; a larger revert is
                // reported by its code alone.
                Err(e) => match e.error {
                    VmError::Reverted { message } if message.len() <= SEALED_OUTPUT_MAX => {
                        SealedResult {
                            ok: false,
                            output: message,
                            error_code: "reverted".into(),
                        }
                    }
                    VmError::Reverted { .. } => SealedResult {
                        ok: false,
                        output: Vec::new(),
                        error_code: "sealed_output_too_large".into(),
                    },
                    other => SealedResult {
                        ok: false,
                        output: Vec::new(),
                        error_code: other.code(),
                    },
                },
            },
        };
        let reads = source.finish();
        let salt = LedgerSealedSource::output_salt(&tx_hash, &reads);
        let padded = result.padded();
        let output_hash = sealed_output_hash(&salt, &padded);
        Ok(CallResult {
            sealed: Some((
                output_hash,
                StoredSealedOutput {
                    institution: tx.signer,
                    subjects: reads.subjects.into_iter().collect(),
                    salt,
                    padded,
                },
            )),
            ..CallResult::ok(tx.fuel_limit)
        })
    }

    /// Uses a disclose-mode consent. A refusal fails the transaction but stays on the trail.
    fn disclose(
        &self,
        view: &StateView,
        ctx: BlockContext,
        stx: &SignedTransaction,
        consent_id: u64,
    ) -> Result<CallResult, ExecError> {
        let tx = &stx.tx;
        if tx.fuel_limit < fuel::DISCLOSE {
            return Ok(CallResult::fail(
                tx.fuel_limit,
                "out_of_fuel",
                format!(
                    "needs {} fuel; the limit is {}",
                    fuel::DISCLOSE,
                    tx.fuel_limit
                ),
            ));
        }
        let Some(mut c) = view.consent(consent_id)? else {
            return Ok(CallResult::fail(
                fuel::DISCLOSE,
                "consent_not_found",
                format!("no consent {consent_id}"),
            ));
        };
        let entry = |c: &ConsentArtefact, dataset: &str, outcome: AccessOutcome| AuditEntry {
            seq: 0,
            subject: c.request.subject,
            accessor: tx.signer,
            contract: None,
            code_hash: None,
            dataset: dataset.into(),
            purpose: c.request.purpose.clone(),
            consent: Some(c.id),
            uses_left: Some(c.uses_left()),
            kind: AccessKind::Disclosure,
            outcome,
            tx_hash: stx.hash(),
            height: ctx.height,
            time_ms: ctx.time_ms,
        };
        let refuse = |c: &ConsentArtefact, reason: RefusalReason| {
            let mut r = CallResult::fail(
                fuel::DISCLOSE,
                reason.code(),
                format!("disclosure refused: {}", reason.code()),
            );
            r.audit = c
                .request
                .datasets
                .iter()
                .map(|d| entry(c, d, AccessOutcome::Refused(reason)))
                .collect();
            r
        };
        if c.grantee != tx.signer {
            return Ok(refuse(&c, RefusalReason::NoConsent));
        }
        if c.request.mode != ConsentMode::Disclose {
            return Ok(refuse(&c, RefusalReason::WrongMode));
        }
        if let Some(reason) = RefusalReason::for_status(c.status_at(ctx.time_ms)) {
            return Ok(refuse(&c, reason));
        }
        let mut records = Vec::new();
        let mut price: u128 = 0;
        let mut custodians = Vec::new();
        for d in &c.request.datasets {
            let Some(ds) = view.dataset(d)? else {
                return Ok(refuse(&c, RefusalReason::UnknownDataset));
            };
            let Some(r) = view.records(&c.request.subject, d)?.pop() else {
                return Ok(refuse(&c, RefusalReason::NoRecord));
            };
            records.push((d.clone(), r.version, r.record_hash));
            price = price.saturating_add(ds.price);
            custodians.push((ds.custodian, ds.price));
        }
        if view.account(&tx.signer)?.balance < price {
            return Ok(refuse(&c, RefusalReason::InsufficientCredits));
        }
        for (custodian, p) in custodians {
            if !view.move_credits(&tx.signer, &custodian, p)? {
                // The failed receipt drops the transfers made so far.
                return Ok(refuse(&c, RefusalReason::InsufficientCredits));
            }
        }
        c.uses += 1;
        view.put_encoded(keys::consent(c.id), &c)?;
        view.put_encoded(
            keys::disclosure(&stx.hash()),
            &Disclosure {
                consent: c.id,
                grantee: tx.signer,
                subject: c.request.subject,
                records,
                height: ctx.height,
            },
        )?;
        let mut result = CallResult::ok(fuel::DISCLOSE);
        result.audit = c
            .request
            .datasets
            .iter()
            .map(|d| entry(&c, d, AccessOutcome::Granted))
            .collect();
        Ok(result)
    }

    /// The failed result for an action that cannot take effect in the current state: a
    /// threshold of 0, or above the number of validators (no set of approvals could reach it,
    /// and governance would be locked for good). `None` if the action is acceptable.
    fn refuse_action(
        view: &StateView,
        action: &GovernanceAction,
    ) -> Result<Option<CallResult>, ExecError> {
        if let GovernanceAction::SetThreshold { threshold } = action {
            let validators = Self::validators(view)?.len();
            if *threshold == 0 || *threshold as usize > validators {
                return Ok(Some(CallResult::fail(
                    fuel::GOVERNANCE,
                    "invalid_threshold",
                    format!(
                        "the threshold must be between 1 and the number of validators ({validators}), not {threshold}"
                    ),
                )));
            }
        }
        Ok(None)
    }

    /// Stores a proposal, executing it once it has enough approvals from current validators.
    fn settle_proposal(
        &self,
        view: &StateView,
        height: u64,
        mut p: Proposal,
    ) -> Result<CallResult, ExecError> {
        let threshold: u32 = view.get_decoded(keys::THRESHOLD)?.unwrap_or(1);
        let mut valid = 0u32;
        for a in &p.approvals {
            if view.account(a)?.roles.has(Role::Validator) {
                valid += 1;
            }
        }
        let mut result = CallResult::ok(fuel::GOVERNANCE);
        if valid >= threshold {
            match &p.action {
                GovernanceAction::GrantRole { account, role } => {
                    let mut info = view.account(account)?;
                    info.roles = info.roles.with(*role);
                    view.set_account(account, &info)?;
                    if *role == Role::Validator {
                        let mut set = Self::validators(view)?;
                        if !set.contains(account) {
                            set.push(*account);
                            set.sort();
                        }
                        Self::schedule_validators(view, height, set)?;
                    }
                }
                GovernanceAction::RevokeRole { account, role } => {
                    let mut info = view.account(account)?;
                    info.roles = info.roles.without(*role);
                    view.set_account(account, &info)?;
                    if *role == Role::Validator {
                        let mut set = Self::validators(view)?;
                        set.retain(|v| v != account);
                        Self::schedule_validators(view, height, set)?;
                    }
                }
                GovernanceAction::SetDeployPolicy {
                    upload,
                    instantiate,
                } => {
                    view.put_encoded(
                        keys::DEPLOY_POLICY.to_vec(),
                        &DeployPolicy {
                            upload: *upload,
                            instantiate: *instantiate,
                        },
                    )?;
                }
                GovernanceAction::SetThreshold { threshold } => {
                    // The validator set may have shrunk since the proposal was filed.
                    if let Some(refused) = Self::refuse_action(view, &p.action)? {
                        return Ok(refused);
                    }
                    view.put_encoded(keys::THRESHOLD.to_vec(), threshold)?;
                }
            }
            p.executed = true;
            result.events.push(EventRecord {
                contract: AccountId::default(),
                topic: b"ProposalExecuted".to_vec(),
                data: parity_scale_codec::Encode::encode(&p.id),
            });
        }
        view.put_encoded(keys::proposal(p.id), &p)?;
        Ok(result)
    }
}

/// The genesis document as stored beside the state, for `chain_getGenesis` and audits.
fn serde_json_bytes(genesis: &Genesis) -> Vec<u8> {
    serde_json::to_vec_pretty(genesis).unwrap_or_default()
}

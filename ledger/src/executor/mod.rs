//! The executor: checks transactions, applies them to a [`StateView`], and turns a block into
//! receipts and a state root. The proposer path builds a block from candidates (skipping those
//! that fail their checks); the validator path re-executes a proposed block and accepts it only
//! if every transaction passes and the roots match. Both end in an [`ExecutedBlock`] that
//! [`Executor::commit`] writes atomically.
//!
//! This module holds the block loop; `checks` admits transactions, `apply` runs one, and there is
//! one module per call family (`transfer`, `code`, `governance`, `registry`, `consent`,
//! `sealed`, `disclosure`).
use std::collections::HashSet;
use std::sync::Arc;

use civitas_primitives::block::{
    receipts_root, tx_root, Block, CommitCertificate, Header, Receipt,
};
use civitas_primitives::crypto::{verify_tx, verify_tx_batch};
use civitas_primitives::merkle::merkle_root;
use civitas_primitives::tx::{Call, PrivateKind, SignedTransaction};
use civitas_primitives::{AccountId, Hash};
use civitas_runtime::{BlockContext, CallRequest, Entry, Vm, VmError};
use jmt::storage::TreeUpdateBatch;

use crate::genesis::Genesis;
use crate::state::{keys, CommittedValues, ContractInfo, StateView};
use crate::store::{BlockWrite, Head, Store};
use crate::vault::Vault;

mod apply;
mod attestation;
mod checks;
mod code;
mod consent;
mod disclosure;
mod errors;
mod fees;
pub mod fuel;
mod governance;
#[cfg(feature = "test-hooks")]
mod hooks;
mod opened;
mod registry;
mod sealed;
mod transfer;
mod tree;
pub use tree::tree_update;

pub use errors::{BlockRuleError, ExecError, TxError};
pub use sealed::SealedJob;

/// Chain-wide execution parameters (consensus: every node uses the same).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// Chain id.
    pub chain_id: String,
    /// Sum of the fuel limits of one block's transactions.
    pub block_fuel_limit: u64,
    /// Transactions per block.
    pub max_block_txs: usize,
    /// Fuel cap of a transaction that runs no contract code (transfers, governance, registry,
    /// records, consents, disclosures).
    pub native_fuel_cap: u64,
    /// Fuel cap of a transaction that runs the VM (upload, instantiate, call, upgrade, sealed
    /// call): a fraction of the block, so no one transaction reserves a whole block.
    pub vm_fuel_cap: u64,
    /// The block cadence, in milliseconds: a block's time is its parent's time plus a whole
    /// number (at least one) of these; block 1 counts from the Unix epoch. A proposer stamps
    /// the time before executing, so block times say nothing about how long execution took
    /// as long as a block's execution fits in one interval.
    pub block_time_ms: u64,
    /// Fuel cap of one sealed call: small enough that a block's sealed work fits the cadence
    /// (README, "Block times").
    pub sealed_fuel_cap: u64,
    /// Sum of the fuel limits of one block's sealed calls; those beyond it wait for a later
    /// block.
    pub block_sealed_fuel_limit: u64,
}

/// Default block cadence (ms).
pub const DEFAULT_BLOCK_TIME_MS: u64 = 50;
/// Default fuel cap of one sealed call: 5·10^7, about 6 ms of a tight wasm loop at the ~8·10^9
/// fuel per second `scripts/bench vm` measures (README, "Block times").
pub const DEFAULT_SEALED_FUEL_CAP: u64 = 50_000_000;
/// Default sealed fuel of one block: two calls at the cap, about 12 ms of a tight loop, a
/// quarter of the default cadence.
pub const DEFAULT_BLOCK_SEALED_FUEL_LIMIT: u64 = 2 * DEFAULT_SEALED_FUEL_CAP;

/// Whether `call` is a sealed call, in clear or as a private call of that kind: what the
/// sealed fuel caps apply to.
pub fn is_sealed_call(call: &Call) -> bool {
    matches!(
        call,
        Call::SealedCall { .. }
            | Call::Private {
                kind: PrivateKind::SealedCall,
                ..
            }
    )
}

impl ChainParams {
    /// Defaults for `chain_id`.
    pub fn new(chain_id: &str) -> Self {
        let block_fuel_limit = 10_000_000_000;
        ChainParams {
            chain_id: chain_id.into(),
            block_fuel_limit,
            max_block_txs: 10_000,
            native_fuel_cap: 10_000_000,
            vm_fuel_cap: block_fuel_limit / 8,
            block_time_ms: DEFAULT_BLOCK_TIME_MS,
            sealed_fuel_cap: DEFAULT_SEALED_FUEL_CAP,
            block_sealed_fuel_limit: DEFAULT_BLOCK_SEALED_FUEL_LIMIT,
        }
    }

    /// The fuel cap of `call`'s kind (a private call's, by the kind it declares).
    pub fn fuel_cap(&self, call: &civitas_primitives::tx::Call) -> u64 {
        use civitas_primitives::tx::Call;
        match call {
            _ if is_sealed_call(call) => self.sealed_fuel_cap.min(self.vm_fuel_cap),
            Call::UploadCode { .. }
            | Call::Instantiate { .. }
            | Call::Call { .. }
            | Call::Upgrade { .. } => self.vm_fuel_cap,
            _ => self.native_fuel_cap,
        }
    }

    /// The cadence, never zero.
    fn cadence(&self) -> u64 {
        self.block_time_ms.max(1)
    }

    /// The block-time rule: `time_ms` is after `parent_ms` by a whole number of cadence
    /// intervals.
    pub fn check_block_time(&self, parent_ms: u64, time_ms: u64) -> Result<(), BlockRuleError> {
        if time_ms <= parent_ms {
            return Err(BlockRuleError::TimeNotAfterParent { parent_ms, time_ms });
        }
        if !(time_ms - parent_ms).is_multiple_of(self.cadence()) {
            return Err(BlockRuleError::TimeOffCadence {
                parent_ms,
                time_ms,
                cadence_ms: self.cadence(),
            });
        }
        Ok(())
    }

    /// The slot a block proposed at `now_ms` carries: the latest time the rule allows after
    /// `parent_ms` that is not after `now_ms` (the parent's time plus the most whole cadence
    /// intervals that have passed), or the first slot when none has passed yet. A proposer
    /// waits for its clock to reach the slot, then stamps its block with it; a proposer a
    /// little late (by less than an interval, e.g. after holding back its parent's
    /// announcement to the end of its slot) still stamps the slot it is in.
    pub fn block_time_slot(&self, parent_ms: u64, now_ms: u64) -> u64 {
        let cadence = self.cadence();
        let intervals = (now_ms.saturating_sub(parent_ms) / cadence).max(1);
        parent_ms.saturating_add(intervals.saturating_mul(cadence))
    }

    /// A transaction is large when its fuel limit is over 1/64 of the block; large ones may
    /// fill at most half of a block's fuel, so a flood of them never keeps small ones (a
    /// transfer, a consent) waiting more than a block.
    fn is_large(&self, fuel_limit: u64) -> bool {
        fuel_limit > self.block_fuel_limit / 64
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
    /// Every state write of the block, by key (`None` deletes).
    writes: std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

/// A block built by [`Executor::propose`], and what it left out.
pub struct BlockProposal {
    /// The executed block.
    pub executed: ExecutedBlock,
    /// Candidates that failed their checks (the transaction's fault): drop them.
    pub rejected: Vec<(Hash, TxError)>,
    /// Candidates whose execution failed in a way every node would see alike (committed state
    /// that does not decode): left out, with every write they made rolled back, so that one
    /// such transaction cannot halt the chain. Drop them too.
    pub excluded: Vec<(Hash, ExecError)>,
}

/// Executes blocks against the store.
#[derive(Clone)]
pub struct Executor {
    store: Store,
    vm: Vm,
    params: ChainParams,
    vault: Option<Vault>,
    /// Set at start, or once when this node joins the sealed-compute committee.
    sealing_key: Arc<std::sync::OnceLock<[u8; 32]>>,
    /// Opens private calls with the chain access key, keeping each sender key's exchange.
    access_key: Option<Arc<civitas_primitives::crypto::PrivateOpener>>,
    /// Private-call bodies this node opened, by transaction hash.
    opened: opened::OpenedBodies,
    /// The committed height whose sealed jobs ran last: its block context and state.
    job_context: sealed::JobContext,
    /// Committed state-tree nodes, kept across blocks.
    kept_nodes: tree::KeptNodes,
    /// Values of the newest committed version, kept across blocks.
    committed_values: CommittedValues,
    #[cfg(feature = "test-hooks")]
    hooks: hooks::TestHooks,
}

impl Executor {
    /// An executor over `store`.
    pub fn new(store: Store, vm: Vm, params: ChainParams) -> Self {
        Executor {
            store,
            vm,
            params,
            vault: None,
            sealing_key: Arc::new(std::sync::OnceLock::new()),
            access_key: None,
            opened: opened::OpenedBodies::default(),
            job_context: sealed::JobContext::default(),
            kept_nodes: tree::KeptNodes::default(),
            committed_values: CommittedValues::default(),
            #[cfg(feature = "test-hooks")]
            hooks: hooks::TestHooks::default(),
        }
    }

    /// The executor with this node's vault: it can serve sealed reads and keep sealed results.
    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = Some(vault);
        self
    }

    /// The executor with the chain sealing key, which salts sealed calls' output hashes: only
    /// the nodes that execute sealed calls hold it.
    pub fn with_sealing_key(self, key: [u8; 32]) -> Self {
        self.adopt_sealing_key(key);
        self
    }

    /// Takes the chain sealing key on a running node (it joined the committee); `false` if it
    /// already held one.
    pub fn adopt_sealing_key(&self, key: [u8; 32]) -> bool {
        self.sealing_key.set(key).is_ok()
    }

    /// Whether this executor holds the chain sealing key (it can run sealed calls).
    pub fn has_sealing_key(&self) -> bool {
        self.sealing_key.get().is_some()
    }

    /// The chain sealing key, on a node of the sealed-compute committee.
    pub fn sealing_key(&self) -> Option<[u8; 32]> {
        self.sealing_key.get().copied()
    }

    /// The executor with the chain access key (x25519 secret), which opens the bodies of
    /// private calls: every validator holds it, observers and the public do not.
    pub fn with_access_key(mut self, key: [u8; 32]) -> Self {
        self.access_key = Some(Arc::new(civitas_primitives::crypto::PrivateOpener::new(
            &key,
        )));
        // Bodies are kept per key: none opened under another key carries over.
        self.opened = opened::OpenedBodies::default();
        self
    }

    /// The call `stx` makes: its own, or the opened body of a private call. A body that does
    /// not open is the transaction's fault; a node without the access key cannot tell.
    pub fn effective_call<'a>(
        &self,
        stx: &'a SignedTransaction,
    ) -> Result<Result<std::borrow::Cow<'a, Call>, TxError>, ExecError> {
        if !matches!(stx.tx.call, Call::Private { .. }) {
            return Ok(Ok(std::borrow::Cow::Borrowed(&stx.tx.call)));
        }
        self.effective_call_hashed(stx, stx.hash())
    }

    /// [`Executor::effective_call`] of `stx`, whose hash is `tx_hash`.
    fn effective_call_hashed<'a>(
        &self,
        stx: &'a SignedTransaction,
        tx_hash: Hash,
    ) -> Result<Result<std::borrow::Cow<'a, Call>, TxError>, ExecError> {
        if !matches!(stx.tx.call, Call::Private { .. }) {
            return Ok(Ok(std::borrow::Cow::Borrowed(&stx.tx.call)));
        }
        let opener = self.access_key.as_ref().ok_or_else(|| {
            ExecError::State(civitas_runtime::StateError::Backend(
                "this node holds no chain access key: it cannot open private calls".into(),
            ))
        })?;
        if let Some(call) = self.opened.get(&tx_hash) {
            return Ok(Ok(std::borrow::Cow::Owned(call)));
        }
        Ok(match opener.open(&stx.tx) {
            Ok(Some(call)) => {
                self.opened.keep(tx_hash, &call);
                Ok(std::borrow::Cow::Owned(call))
            }
            Ok(None) => Ok(std::borrow::Cow::Borrowed(&stx.tx.call)),
            Err(e) => Err(TxError::PrivateBody(e)),
        })
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

    /// The time of `parent`'s block: 0 (the Unix epoch) for the genesis state.
    pub fn parent_time(&self, parent: &Head) -> Result<u64, ExecError> {
        Ok(self
            .store
            .block_header(parent.height)?
            .map(|h| h.time_ms)
            .unwrap_or(0))
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
        let (root, tree) = self.tree_update(view.block_writes()?, 0)?;
        let doc = serde_json_bytes(genesis);
        Ok(self.store.commit_genesis(&doc, &tree, root)?)
    }

    /// A read-only view of the committed state at the head.
    pub fn head_view(&self) -> Result<(Head, StateView), ExecError> {
        let head = self
            .store
            .head()?
            .ok_or_else(|| ExecError::Genesis("the store has no genesis".into()))?;
        let view = self.view_at(head.height);
        Ok((head, view))
    }

    /// Builds and executes a block from `candidates` on top of `parent` (the proposer path).
    /// Candidates that fail their checks are left out and returned as `rejected`; candidates
    /// whose execution fails with an error that is not this node's alone are rolled back, left
    /// out and returned as `excluded`. A node-local failure (I/O) aborts the proposal: it says
    /// nothing about the transactions, which stay pending.
    /// Signatures are assumed checked at admission (the mempool verifies them).
    pub fn propose(
        &self,
        parent: &Head,
        time_ms: u64,
        proposer: AccountId,
        candidates: Vec<SignedTransaction>,
    ) -> Result<BlockProposal, ExecError> {
        let height = parent.height + 1;
        self.params
            .check_block_time(self.parent_time(parent)?, time_ms)?;
        let view = self.view_at(parent.height);
        let (validators_hash, next_validators_hash) = Self::validator_hashes(&view, height)?;
        let ctx = BlockContext { height, time_ms };
        let mut included = Vec::new();
        let mut receipts = Vec::new();
        let mut rejected = Vec::new();
        let mut excluded = Vec::new();
        let mut diagnostics = Vec::new();
        let mut fuel_budget = self.params.block_fuel_limit;
        let mut large_budget = self.params.block_fuel_limit / 2;
        let mut sealed_budget = self.params.block_sealed_fuel_limit;
        // Signers with a transaction deferred to a later block: their later nonces wait too
        // (checking them now would refuse them for a nonce gap).
        let mut deferred = std::collections::BTreeSet::new();
        for stx in candidates {
            if included.len() >= self.params.max_block_txs {
                break;
            }
            if deferred.contains(&stx.tx.signer) {
                continue;
            }
            let checked = match self.check_tx(&view, &stx, false) {
                Ok(checked) => checked,
                Err(e) if e.is_node_local() => return Err(e),
                Err(e) => {
                    excluded.push((stx.hash(), e));
                    continue;
                }
            };
            let sealed = is_sealed_call(&stx.tx.call);
            match checked {
                // Valid but over what is left of this block's fuel (or of its share for large
                // transactions, or of its sealed fuel for sealed calls): it and its signer's
                // later ones wait for a later block.
                Ok(())
                    if stx.tx.fuel_limit > fuel_budget
                        || (self.params.is_large(stx.tx.fuel_limit)
                            && stx.tx.fuel_limit > large_budget)
                        || (sealed && stx.tx.fuel_limit > sealed_budget) =>
                {
                    deferred.insert(stx.tx.signer);
                    continue;
                }
                Ok(()) => {
                    view.savepoint()?;
                    match self.apply(&view, ctx, &stx) {
                        Ok((receipt, diagnostic)) => {
                            view.release_savepoint()?;
                            fuel_budget -= stx.tx.fuel_limit;
                            if self.params.is_large(stx.tx.fuel_limit) {
                                large_budget -= stx.tx.fuel_limit;
                            }
                            if sealed {
                                sealed_budget -= stx.tx.fuel_limit;
                            }
                            receipts.push(receipt);
                            diagnostics.push(diagnostic);
                            included.push(stx);
                        }
                        Err(e) if e.is_node_local() => return Err(e),
                        Err(e) => {
                            view.rollback_to_savepoint()?;
                            tracing::warn!(tx = %stx.hash(), error = %e, "left out of the block: its execution fails on every node");
                            excluded.push((stx.hash(), e));
                        }
                    }
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
            // Each receipt carries its transaction's hash: the root is taken from them rather
            // than hashing the transactions again (`validate` checks it from the transactions).
            tx_root: merkle_root(&receipts.iter().map(|r| r.tx_hash).collect::<Vec<_>>()),
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
        )?;
        Ok(BlockProposal {
            executed,
            rejected,
            excluded,
        })
    }

    /// Re-executes a proposed block on top of `parent` (the validator path).
    pub fn validate(&self, parent: &Head, block: &Block) -> Result<ExecutedBlock, ExecError> {
        self.validate_with_verified(parent, block, &HashSet::new())
    }

    /// [`Executor::validate`], except that the signatures of the signed transactions whose
    /// hashes are in `verified` are not checked again: the caller checked them itself (e.g.
    /// when it admitted them to its pool). A signed transaction's hash covers its signature,
    /// so only those exact bytes are spared; any other transaction of the block is checked.
    pub fn validate_with_verified(
        &self,
        parent: &Head,
        block: &Block,
        verified: &HashSet<Hash>,
    ) -> Result<ExecutedBlock, ExecError> {
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
        self.params
            .check_block_time(self.parent_time(parent)?, h.time_ms)?;
        expect(
            block.txs.len() <= self.params.max_block_txs,
            "transaction count",
        )?;
        expect(h.tx_root == tx_root(&block.txs), "transaction root")?;
        let unverified =
            |t: &&SignedTransaction| verified.is_empty() || !verified.contains(&t.hash());
        let refs: Vec<&SignedTransaction> = block.txs.iter().filter(unverified).collect();
        if !verify_tx_batch(&refs) {
            let index = block
                .txs
                .iter()
                .position(|t| unverified(&t) && !verify_tx(t))
                .unwrap_or(0);
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
        let sealed_fuel: u128 = block
            .txs
            .iter()
            .filter(|t| is_sealed_call(&t.tx.call))
            .map(|t| u128::from(t.tx.fuel_limit))
            .sum();
        if sealed_fuel > u128::from(self.params.block_sealed_fuel_limit) {
            return Err(BlockRuleError::SealedFuelOverBlockLimit {
                fuel: sealed_fuel,
                limit: self.params.block_sealed_fuel_limit,
            }
            .into());
        }
        let view = self.view_at(parent.height);
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
        for (index, stx) in block.txs.iter().enumerate() {
            self.check_tx(&view, stx, false)?
                .map_err(|error| ExecError::InvalidTx { index, error })?;
            let (receipt, diagnostic) = self.apply(&view, ctx, stx)?;
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
    ///
    /// A dry run is unauthenticated work for whoever asks, so it runs on at most `fuel_cap`
    /// fuel (the cap queries share), whatever the transaction's own limit.
    pub fn dry_run(
        &self,
        tx: &civitas_primitives::tx::Transaction,
        time_ms: u64,
        fuel_cap: u64,
    ) -> Result<Result<DryRun, TxError>, ExecError> {
        // Calls that concern a person's data never run outside a block: a dry run would let
        // anyone replay another's private body and read its outcome.
        if PrivateKind::of(&tx.call).is_some() || matches!(tx.call, Call::Private { .. }) {
            return Ok(Err(TxError::NotDryRunnable(tx.call.kind())));
        }
        let (head, view) = self.head_view()?;
        let mut stx = SignedTransaction {
            tx: tx.clone(),
            signature: [0; 64],
        };
        if let Err(e) = self.check_tx(&view, &stx, false)? {
            return Ok(Err(e));
        }
        let capped = stx.tx.fuel_limit > fuel_cap;
        stx.tx.fuel_limit = stx.tx.fuel_limit.min(fuel_cap);
        let ctx = BlockContext {
            height: head.height + 1,
            time_ms,
        };
        let (receipt, mut diagnostic) = self.apply(&view, ctx, &stx)?;
        if capped
            && receipt
                .error
                .as_ref()
                .is_some_and(|e| e.code == "out_of_fuel")
        {
            diagnostic = Some(format!(
                "out of fuel: dry runs stop at this node's cap of {fuel_cap} fuel (the transaction's limit is {})",
                tx.fuel_limit
            ));
        }
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
        let write = BlockWrite {
            block: executed.block,
            certificate,
            receipts: executed.receipts,
            tree: executed.tree,
            head: head.clone(),
        };
        self.store.commit_block(&write)?;
        self.kept_nodes.keep_committed(&write.tree);
        self.committed_values
            .block_committed(head.height, executed.writes);
        Ok(head)
    }

    fn finish(
        &self,
        view: StateView,
        mut block: Block,
        receipts: Vec<Receipt>,
        diagnostics: Vec<Option<String>>,
    ) -> Result<ExecutedBlock, ExecError> {
        view.put_encoded(keys::HEIGHT.to_vec(), &block.header.height)?;
        view.commit_tx()?;
        let writes = view.take_block_writes()?;
        let (state_root, tree) = self.tree_update(writes.clone(), block.header.height)?;
        block.header.state_root = state_root;
        Ok(ExecutedBlock {
            block,
            receipts,
            diagnostics,
            state_root,
            tree,
            writes,
        })
    }

    /// Computes the tree for `version` from a block's writes, without writing it.
    fn tree_update(
        &self,
        writes: std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>>,
        version: u64,
    ) -> Result<(Hash, TreeUpdateBatch), ExecError> {
        let reader = tree::KeptNodesReader::new(&self.store, &self.kept_nodes);
        tree::tree_update(&reader, writes, version)
    }

    /// A view over committed version `version` that reads through the values this executor
    /// keeps of its newest committed version.
    fn view_at(&self, version: u64) -> StateView {
        StateView::with_committed(self.store.clone(), version, self.committed_values.clone())
    }
}

/// The genesis document as stored beside the state, for `chain_getGenesis` and audits.
fn serde_json_bytes(genesis: &Genesis) -> Vec<u8> {
    serde_json::to_vec_pretty(genesis).unwrap_or_default()
}

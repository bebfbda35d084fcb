//! How the VM reaches chain state: the [`StateBackend`] trait (committed state, supplied by the
//! ledger or by tests), the per-call [`Overlay`] of uncommitted writes with checkpoints for
//! nested calls, and [`MemoryState`], an in-memory backend for tests and tools.
use std::collections::BTreeMap;
use std::sync::Arc;

use civitas_primitives::{AccountId, Hash};
use thiserror::Error;

/// A failure of the storage underneath the VM. Never a contract's fault: the ledger must stop
/// executing the transaction rather than record a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StateError {
    /// The storage failed on this node (I/O, a poisoned lock, a missing vault): another node
    /// may well succeed, so this says nothing about the transaction.
    #[error("state backend failed: {0}")]
    Backend(String),
    /// Committed bytes that do not decode as what the key holds: every node holds the same
    /// bytes, so every node fails alike.
    #[error("undecodable state: {0}")]
    Undecodable(String),
}

impl StateError {
    /// Whether this node alone may see the failure (it says nothing about the transaction).
    pub fn is_node_local(&self) -> bool {
        matches!(self, StateError::Backend(_))
    }
}

/// Read access to committed state. Writes never go here: they come back from a call as
/// [`StorageChange`]s and the ledger applies them.
pub trait StateBackend: Send + Sync {
    /// The value under `key` in `contract`'s storage.
    fn storage_get(&self, contract: &AccountId, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    /// The code hash a contract address runs, if the contract exists.
    fn contract_code_hash(&self, contract: &AccountId) -> Result<Option<Hash>, StateError>;
    /// Module bytes stored under a code hash.
    fn code(&self, code_hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError>;
}

/// A contract's request to read a citizen's record inside a sealed call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedReadRequest {
    /// The contract reading.
    pub contract: AccountId,
    /// The code it runs.
    pub code_hash: Hash,
    /// The citizen.
    pub subject: Hash,
    /// Dataset id.
    pub dataset: String,
}

/// The answer to a [`SealedReadRequest`]. A refusal carries no reason: the contract sees one
/// uniform error; the reason goes to the audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SealedRead {
    /// The record's payload.
    Granted(Vec<u8>),
    /// Refused.
    Refused,
}

/// Where a sealed call's reads go: the ledger checks approval and consent, charges, counts the
/// use, writes the audit entry and decrypts the record.
pub trait SealedSource: Send + Sync {
    /// Decides and serves one read.
    fn sealed_read(&self, request: &SealedReadRequest) -> Result<SealedRead, StateError>;
}

/// One storage write of a call: `value: None` removes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageChange {
    /// The contract whose storage changes.
    pub contract: AccountId,
    /// The key.
    pub key: Vec<u8>,
    /// New value, or `None` for removal.
    pub value: Option<Vec<u8>>,
}

type SlotKey = (AccountId, Vec<u8>);

/// Uncommitted writes of one call tree, with a journal so a reverted nested call can be undone.
#[derive(Default, Debug)]
pub struct Overlay {
    writes: BTreeMap<SlotKey, Option<Vec<u8>>>,
    journal: Vec<(SlotKey, Option<Option<Vec<u8>>>)>,
}

impl Overlay {
    /// `Some(value or None-for-removed)` if this overlay has written the slot.
    pub fn get(&self, contract: &AccountId, key: &[u8]) -> Option<Option<&[u8]>> {
        self.writes
            .get(&(*contract, key.to_vec()))
            .map(|v| v.as_deref())
    }

    /// Records a write (`None` removes).
    pub fn put(&mut self, contract: AccountId, key: Vec<u8>, value: Option<Vec<u8>>) {
        let slot = (contract, key);
        let previous = self.writes.insert(slot.clone(), value);
        self.journal.push((slot, previous));
    }

    /// A point to return to with [`Overlay::revert_to`].
    pub fn checkpoint(&self) -> usize {
        self.journal.len()
    }

    /// Undoes every write made since `checkpoint`.
    pub fn revert_to(&mut self, checkpoint: usize) {
        while self.journal.len() > checkpoint {
            let Some((slot, previous)) = self.journal.pop() else {
                break;
            };
            match previous {
                Some(value) => {
                    self.writes.insert(slot, value);
                }
                None => {
                    self.writes.remove(&slot);
                }
            }
        }
    }

    /// The net writes, ordered by contract then key (the same order on every node).
    pub fn into_changes(self) -> Vec<StorageChange> {
        self.writes
            .into_iter()
            .map(|((contract, key), value)| StorageChange {
                contract,
                key,
                value,
            })
            .collect()
    }
}

/// An in-memory [`StateBackend`] for tests, tools and the off-chain test chain.
#[derive(Default, Debug, Clone)]
pub struct MemoryState {
    storage: BTreeMap<SlotKey, Vec<u8>>,
    contracts: BTreeMap<AccountId, Hash>,
    codes: BTreeMap<Hash, Arc<[u8]>>,
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }
    /// Stores module bytes under their code hash.
    pub fn put_code(&mut self, code_hash: Hash, code: Arc<[u8]>) {
        self.codes.insert(code_hash, code);
    }
    /// Registers a contract address running `code_hash`.
    pub fn put_contract(&mut self, address: AccountId, code_hash: Hash) {
        self.contracts.insert(address, code_hash);
    }
    /// Applies a call's storage changes.
    pub fn apply(&mut self, changes: &[StorageChange]) {
        for c in changes {
            let slot = (c.contract, c.key.clone());
            match &c.value {
                Some(v) => {
                    self.storage.insert(slot, v.clone());
                }
                None => {
                    self.storage.remove(&slot);
                }
            }
        }
    }
    /// Number of storage entries (all contracts).
    pub fn storage_len(&self) -> usize {
        self.storage.len()
    }
}

impl StateBackend for MemoryState {
    fn storage_get(&self, contract: &AccountId, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.storage.get(&(*contract, key.to_vec())).cloned())
    }
    fn contract_code_hash(&self, contract: &AccountId) -> Result<Option<Hash>, StateError> {
        Ok(self.contracts.get(contract).copied())
    }
    fn code(&self, code_hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError> {
        Ok(self.codes.get(code_hash).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_reverts_to_checkpoint_and_orders_changes() {
        let a = AccountId([1; 32]);
        let b = AccountId([0; 32]);
        let mut o = Overlay::default();
        o.put(a, b"k".to_vec(), Some(b"1".to_vec()));
        let cp = o.checkpoint();
        o.put(a, b"k".to_vec(), Some(b"2".to_vec()));
        o.put(b, b"z".to_vec(), None);
        assert_eq!(o.get(&a, b"k"), Some(Some(&b"2"[..])));
        o.revert_to(cp);
        assert_eq!(o.get(&a, b"k"), Some(Some(&b"1"[..])));
        assert_eq!(o.get(&b, b"z"), None);
        o.put(b, b"z".to_vec(), None);
        let changes = o.into_changes();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].contract, b, "changes are ordered by contract");
        assert_eq!(changes[0].value, None);
    }
}

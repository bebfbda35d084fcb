//! The ledger's state layout: which key holds what, the typed records stored there, and
//! [`StateView`], a block's uncommitted writes layered over the committed version, which is also
//! the VM's [`StateBackend`].
//!
//! Keys (raw bytes, hashed with sha3-256 into the Jellyfish Merkle tree):
//! `a/{account}` → [`AccountInfo`], `c/{code hash}` → [`CodeInfo`], `k/{contract}` →
//! [`ContractInfo`], `s/{contract}{key}` → contract storage, `g/…` → governance, `m/…` → chain
//! metadata.
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use civitas_primitives::tx::{GovernanceAction, RoleSet};
use civitas_primitives::{AccountId, Hash};
use civitas_runtime::{StateBackend, StateError};
use parity_scale_codec::{Decode, Encode};

use crate::store::Store;

/// The tree hasher and key hashing, shared with every client that checks proofs.
pub use civitas_primitives::proof::{key_hash, Sha3Hasher};

/// State keys. Every family starts with its own tag, and no tag is a prefix of another
/// ([`keys::FAMILIES`] lists them; a test checks it); after the tag come fixed-size parts
/// (ids, hashes, big-endian integers) and at most one variable-length part, which is either
/// last (contract storage) or length-prefixed (dataset ids). So two distinct logical keys
/// never map to the same bytes.
pub mod keys {
    use super::*;

    fn join(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut k = prefix.to_vec();
        for p in parts {
            k.extend_from_slice(p);
        }
        k
    }

    /// A variable-length part, prefixed with its length (u16, big-endian).
    fn sized(part: &[u8]) -> Vec<u8> {
        let len = u16::try_from(part.len()).unwrap_or(u16::MAX);
        let mut v = len.to_be_bytes().to_vec();
        v.extend_from_slice(&part[..usize::from(len)]);
        v
    }

    /// Every key family's tag: a constant key is its own family.
    pub const FAMILIES: &[&[u8]] = &[
        b"a/",
        b"c/",
        b"k/",
        b"s/",
        DEPLOY_POLICY,
        THRESHOLD,
        NEXT_PROPOSAL,
        b"g/p/",
        VALIDATORS,
        HEIGHT,
        CHAIN_ID,
        RECORD_REWARD,
        FUEL_PRICE,
        ACCESS_KEY,
        b"i/s/",
        b"i/a/",
        DATASET_INDEX,
        b"d/r/",
        b"r/",
        b"p/",
        NEXT_CONSENT,
        b"n/c/",
        b"n/s/",
        b"n/g/",
        b"u/n/",
        b"u/e/",
        b"v/n/",
        b"v/e/",
        b"x/",
        COMMITTEE,
        b"o/",
        b"e/",
        b"w/",
    ];

    /// An account's record.
    pub fn account(a: &AccountId) -> Vec<u8> {
        join(b"a/", &[&a.0])
    }
    /// Stored code.
    pub fn code(h: &Hash) -> Vec<u8> {
        join(b"c/", &[&h.0])
    }
    /// A contract's record.
    pub fn contract(a: &AccountId) -> Vec<u8> {
        join(b"k/", &[&a.0])
    }
    /// A contract storage slot (the contract-chosen key is the last, variable part).
    pub fn storage(a: &AccountId, key: &[u8]) -> Vec<u8> {
        join(b"s/", &[&a.0, key])
    }
    /// Deploy policy.
    pub const DEPLOY_POLICY: &[u8] = b"g/policy";
    /// Governance threshold.
    pub const THRESHOLD: &[u8] = b"g/threshold";
    /// Next proposal id.
    pub const NEXT_PROPOSAL: &[u8] = b"g/next";
    /// A proposal.
    pub fn proposal(id: u64) -> Vec<u8> {
        join(b"g/p/", &[&id.to_be_bytes()])
    }
    /// The validator set, sorted.
    pub const VALIDATORS: &[u8] = b"g/validators";
    /// Height of the last block (changes every block).
    pub const HEIGHT: &[u8] = b"m/height";
    /// Chain id.
    pub const CHAIN_ID: &[u8] = b"m/chain_id";
    /// Credits per committed record.
    pub const RECORD_REWARD: &[u8] = b"g/reward";
    /// The fee price: credits per 10^6 fuel (absent: 0, no fees).
    pub const FUEL_PRICE: &[u8] = b"g/fuel_price";
    /// The chain access key (x25519 public) that private call bodies are encrypted to.
    pub const ACCESS_KEY: &[u8] = b"m/access_key";

    /// The wallet account bound to a subject.
    pub fn identity(subject: &Hash) -> Vec<u8> {
        join(b"i/s/", &[&subject.0])
    }
    /// The subject bound to a wallet account.
    pub fn identity_of(account: &AccountId) -> Vec<u8> {
        join(b"i/a/", &[&account.0])
    }
    /// Ids of every registered dataset, in registration order.
    pub const DATASET_INDEX: &[u8] = b"d/index";
    /// A dataset (its id length-prefixed).
    pub fn dataset(id: &str) -> Vec<u8> {
        join(b"d/r/", &[&sized(id.as_bytes())])
    }
    /// Every committed version of a subject's record in a dataset.
    pub fn records(subject: &Hash, dataset: &str) -> Vec<u8> {
        join(
            b"r/",
            &[
                &subject.0,
                &civitas_primitives::sha3_256(dataset.as_bytes()).0,
            ],
        )
    }
    /// A regulator's decision on a code hash.
    pub fn code_approval(code_hash: &Hash) -> Vec<u8> {
        join(b"p/", &[&code_hash.0])
    }
    /// Next consent id.
    pub const NEXT_CONSENT: &[u8] = b"n/next";
    /// A consent artefact.
    pub fn consent(id: u64) -> Vec<u8> {
        join(b"n/c/", &[&id.to_be_bytes()])
    }
    /// Ids of the consents about a subject.
    pub fn consents_of_subject(subject: &Hash) -> Vec<u8> {
        join(b"n/s/", &[&subject.0])
    }
    /// Ids of the consents filed by an institution.
    pub fn consents_of_grantee(grantee: &AccountId) -> Vec<u8> {
        join(b"n/g/", &[&grantee.0])
    }
    /// Number of audit entries of a subject.
    pub fn audit_len(subject: &Hash) -> Vec<u8> {
        join(b"u/n/", &[&subject.0])
    }
    /// A subject's audit entry.
    pub fn audit(subject: &Hash, seq: u64) -> Vec<u8> {
        join(b"u/e/", &[&subject.0, &seq.to_be_bytes()])
    }
    /// Number of audit entries about an institution.
    pub fn institution_audit_len(institution: &AccountId) -> Vec<u8> {
        join(b"v/n/", &[&institution.0])
    }
    /// Pointer from an institution's trail to a subject's entry: `(subject, seq)`.
    pub fn institution_audit(institution: &AccountId, n: u64) -> Vec<u8> {
        join(b"v/e/", &[&institution.0, &n.to_be_bytes()])
    }
    /// A committed disclosure, by transaction hash.
    pub fn disclosure(tx_hash: &Hash) -> Vec<u8> {
        join(b"x/", &[&tx_hash.0])
    }
    /// The sealed-compute committee.
    pub const COMMITTEE: &[u8] = b"g/committee";
    /// Where a sealed call's result stands (public: its salted output hash once attested).
    pub fn sealed_outcome(tx_hash: &Hash) -> Vec<u8> {
        join(b"o/", &[&tx_hash.0])
    }
    /// A committee member's attestation of a sealed call's output hash.
    pub fn sealed_attestation(tx_hash: &Hash, member: &AccountId) -> Vec<u8> {
        join(b"e/", &[&tx_hash.0, &member.0])
    }
    /// What the committee needs to run a committed sealed call (its input and grants).
    pub fn sealed_job(tx_hash: &Hash) -> Vec<u8> {
        join(b"w/", &[&tx_hash.0])
    }
    /// Key prefixes holding data about people (which account is whose, consents, the audit
    /// trail, disclosures, sealed calls' inputs and grants): served only through signed
    /// requests, never by the public proof method.
    pub const PRIVATE_PREFIXES: [&[u8]; 6] = [b"i/a/", b"n/", b"u/", b"v/", b"w/", b"x/"];

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::collections::BTreeMap;

        #[test]
        fn no_family_tag_is_a_prefix_of_another() {
            for (i, a) in FAMILIES.iter().enumerate() {
                for (j, b) in FAMILIES.iter().enumerate() {
                    if i != j {
                        assert!(
                            !b.starts_with(a),
                            "{:?} is a prefix of {:?}",
                            String::from_utf8_lossy(a),
                            String::from_utf8_lossy(b)
                        );
                    }
                }
            }
        }

        /// Keys of every family from adversarial parts: ids equal to other families' names,
        /// empty and maximal ids, ids with separators, hashes that spell tags.
        fn sample_keys() -> Vec<(String, Vec<u8>)> {
            let mut ids: Vec<AccountId> = vec![AccountId([0; 32]), AccountId([0xff; 32])];
            let mut spelled = [0u8; 32];
            spelled[..6].copy_from_slice(b"index\0");
            ids.push(AccountId(spelled));
            let hashes: Vec<Hash> = ids.iter().map(|a| Hash(a.0)).collect();
            let dataset_ids = [
                "index",
                "",
                "a",
                "a/b",
                "r/",
                "d",
                "index2",
                "policy",
                "tax.annual_income",
            ];
            let long = "x".repeat(64);
            let mut out: Vec<(String, Vec<u8>)> = Vec::new();
            let mut add = |name: String, key: Vec<u8>| out.push((name, key));
            for (i, a) in ids.iter().enumerate() {
                add(format!("account {i}"), account(a));
                add(format!("contract {i}"), contract(a));
                add(format!("identity_of {i}"), identity_of(a));
                add(format!("consents_of_grantee {i}"), consents_of_grantee(a));
                add(
                    format!("institution_audit_len {i}"),
                    institution_audit_len(a),
                );
                for n in [0u64, 1, u64::MAX] {
                    add(
                        format!("institution_audit {i} {n}"),
                        institution_audit(a, n),
                    );
                }
                for key in [&b""[..], b"k", b"kk", &a.0[..]] {
                    add(format!("storage {i} {key:?}"), storage(a, key));
                }
            }
            for (i, h) in hashes.iter().enumerate() {
                add(format!("code {i}"), code(h));
                add(format!("identity {i}"), identity(h));
                add(format!("code_approval {i}"), code_approval(h));
                add(format!("consents_of_subject {i}"), consents_of_subject(h));
                add(format!("audit_len {i}"), audit_len(h));
                add(format!("disclosure {i}"), disclosure(h));
                add(format!("sealed_outcome {i}"), sealed_outcome(h));
                add(format!("sealed_job {i}"), sealed_job(h));
                for (j, a) in ids.iter().enumerate() {
                    add(
                        format!("sealed_attestation {i} {j}"),
                        sealed_attestation(h, a),
                    );
                }
                for n in [0u64, 1, u64::MAX] {
                    add(format!("audit {i} {n}"), audit(h, n));
                }
                for d in dataset_ids.iter().copied().chain([long.as_str()]) {
                    add(format!("records {i} {d}"), records(h, d));
                }
            }
            for n in [0u64, 1, u64::MAX] {
                add(format!("proposal {n}"), proposal(n));
                add(format!("consent {n}"), consent(n));
            }
            for d in dataset_ids.iter().copied().chain([long.as_str()]) {
                add(format!("dataset {d:?}"), dataset(d));
            }
            for (name, k) in [
                ("DEPLOY_POLICY", DEPLOY_POLICY),
                ("THRESHOLD", THRESHOLD),
                ("NEXT_PROPOSAL", NEXT_PROPOSAL),
                ("VALIDATORS", VALIDATORS),
                ("HEIGHT", HEIGHT),
                ("CHAIN_ID", CHAIN_ID),
                ("RECORD_REWARD", RECORD_REWARD),
                ("FUEL_PRICE", FUEL_PRICE),
                ("DATASET_INDEX", DATASET_INDEX),
                ("NEXT_CONSENT", NEXT_CONSENT),
                ("COMMITTEE", COMMITTEE),
            ] {
                add(name.to_string(), k.to_vec());
            }
            out
        }

        #[test]
        fn distinct_logical_keys_never_share_bytes() {
            let mut seen: BTreeMap<Vec<u8>, String> = BTreeMap::new();
            for (name, key) in sample_keys() {
                assert!(
                    FAMILIES.iter().any(|f| key.starts_with(f)),
                    "{name} is in no listed family"
                );
                if let Some(other) = seen.insert(key, name.clone()) {
                    panic!("{name} and {other} map to the same key");
                }
            }
            // The case that once halted the chain: a dataset called `index`.
            assert_ne!(dataset("index"), DATASET_INDEX.to_vec());
        }
    }
}

pub use civitas_primitives::state::AccountInfo;

/// Stored code.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CodeInfo {
    /// Module bytes.
    pub code: Vec<u8>,
    /// Who uploaded it first.
    pub uploader: AccountId,
    /// Number of contracts running it.
    pub refcount: u64,
}

/// A contract instance.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ContractInfo {
    /// Code it runs.
    pub code_hash: Hash,
    /// Who may upgrade it (the instantiator).
    pub admin: AccountId,
}

/// Which roles may upload and instantiate code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct DeployPolicy {
    /// Roles that may upload code.
    pub upload: RoleSet,
    /// Roles that may instantiate contracts.
    pub instantiate: RoleSet,
}

/// A governance proposal.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Proposal {
    /// Id.
    pub id: u64,
    /// The change.
    pub action: GovernanceAction,
    /// Who filed it.
    pub proposer: AccountId,
    /// Departments that approved (the proposer first), in order.
    pub approvals: Vec<AccountId>,
    /// Whether it has taken effect.
    pub executed: bool,
}

/// A block's writes and the current transaction's writes on top of them.
#[derive(Default)]
struct Layers {
    block: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    tx: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// While a savepoint is open: what each block-layer entry was before [`StateView::commit_tx`]
    /// overwrote it (`None`: the key was not in the block layer), oldest first.
    undo: Option<Vec<UndoEntry>>,
}

/// A block-layer key and its entry before an overwrite.
type UndoEntry = (Vec<u8>, Option<Option<Vec<u8>>>);

/// Reads and writes of one block, layered over the committed state at `base_version`: the
/// current transaction's writes, then the block's, then the store. Shared with the VM during a
/// call; the executor opens and closes transactions between calls.
///
/// Reads that reach the store are kept for the view's life (`BaseReads`): a block reads
/// each committed key from RocksDB once, however many transactions read it.
#[derive(Clone)]
pub struct StateView {
    store: Store,
    base_version: u64,
    layers: Arc<RwLock<Layers>>,
    base: BaseReads,
    /// The executor's values of its newest committed version, consulted when this view reads
    /// that version (see [`CommittedValues`]).
    committed: Option<CommittedValues>,
}

/// The committed values a view has read, by key: a read-through cache of version
/// `base_version`, shared by the view's clones. A committed version never changes, so a kept
/// value is what the store would return again; the block's own writes live in the layers above
/// it and never enter it, and it ends with the view (a block's execution, committed or not).
#[derive(Clone, Default)]
struct BaseReads(Arc<RwLock<ReadValues>>);

/// Values read, by raw key (`None`: the key is absent).
type ReadValues = HashMap<Vec<u8>, Option<Vec<u8>>>;

/// Most values [`CommittedValues`] keeps; past it they are dropped and the store serves them
/// again (a few blocks' worth of a busy chain's reads and writes).
const COMMITTED_VALUES_MAX: usize = 100_000;

/// Values of one committed version, by raw key, shared by an executor's clones and the views
/// it makes: a read-through cache that outlives a block. It holds values of exactly one
/// version, the newest its executor committed: when a block commits on top of that version,
/// the block's writes replace their keys' values and the cache moves to the new version (every
/// other kept value is unchanged by the block, so still that of the new version); a commit on
/// top of any other version starts the cache afresh from that block's writes. A view reads
/// from it only if its base version is the cache's, and adds the values it reads from the
/// store only under the same condition, checked under the cache's lock; so a value is never
/// served for a version it does not belong to, and a proposal's writes (committed or not)
/// never enter it before its block commits.
#[derive(Clone, Default)]
pub(crate) struct CommittedValues(Arc<RwLock<KeptVersion>>);

/// The version kept (`None`: nothing yet) and its values (`None`: the key is absent).
#[derive(Default)]
struct KeptVersion {
    version: Option<u64>,
    values: ReadValues,
}

impl CommittedValues {
    /// The value of `key` at `version`, if kept.
    fn get(&self, version: u64, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let kept = self.0.read().ok()?;
        if kept.version != Some(version) {
            return None;
        }
        kept.values.get(key).cloned()
    }

    /// Keeps `value`, read from the store for `key` at `version`, if `version` is the kept one.
    fn read_through(&self, version: u64, key: &[u8], value: &Option<Vec<u8>>) {
        let Ok(mut kept) = self.0.write() else {
            return;
        };
        if kept.version != Some(version) {
            return;
        }
        if kept.values.len() >= COMMITTED_VALUES_MAX {
            kept.values.clear();
        }
        kept.values.insert(key.to_vec(), value.clone());
    }

    /// Block `version` has committed with `writes`, every state write it made (`None`
    /// deletes): its version becomes the kept one.
    pub(crate) fn block_committed(&self, version: u64, writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>) {
        let Ok(mut kept) = self.0.write() else {
            return;
        };
        let continues = version
            .checked_sub(1)
            .is_some_and(|parent| kept.version == Some(parent));
        if !continues || kept.values.len() + writes.len() > COMMITTED_VALUES_MAX {
            kept.values.clear();
        }
        kept.version = Some(version);
        kept.values.extend(writes);
    }
}

impl StateView {
    /// A view over the committed state at `base_version`.
    pub fn new(store: Store, base_version: u64) -> Self {
        StateView {
            store,
            base_version,
            layers: Arc::new(RwLock::new(Layers::default())),
            base: BaseReads::default(),
            committed: None,
        }
    }

    /// A view over the committed state at `base_version` that reads through `committed`.
    pub(crate) fn with_committed(
        store: Store,
        base_version: u64,
        committed: CommittedValues,
    ) -> Self {
        StateView {
            committed: Some(committed),
            ..StateView::new(store, base_version)
        }
    }

    /// The committed version this view reads under its writes.
    pub fn base_version(&self) -> u64 {
        self.base_version
    }

    /// Raw read.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        {
            let layers = self.layers.read().map_err(|_| poisoned())?;
            if let Some(v) = layers.tx.get(key).or_else(|| layers.block.get(key)) {
                return Ok(v.clone());
            }
        }
        if let Some(v) = self.base.0.read().map_err(|_| poisoned())?.get(key) {
            return Ok(v.clone());
        }
        if let Some(committed) = &self.committed {
            if let Some(v) = committed.get(self.base_version, key) {
                return Ok(v);
            }
        }
        let value = self
            .store
            .value_at(key_hash(key), self.base_version)
            .map_err(|e| StateError::Backend(e.to_string()))?;
        if let Some(committed) = &self.committed {
            committed.read_through(self.base_version, key, &value);
        }
        self.base
            .0
            .write()
            .map_err(|_| poisoned())?
            .insert(key.to_vec(), value.clone());
        Ok(value)
    }

    /// Raw write into the current transaction (`None` deletes).
    pub fn put(&self, key: Vec<u8>, value: Option<Vec<u8>>) -> Result<(), StateError> {
        self.layers
            .write()
            .map_err(|_| poisoned())?
            .tx
            .insert(key, value);
        Ok(())
    }

    /// Typed read.
    pub fn get_decoded<T: Decode>(&self, key: &[u8]) -> Result<Option<T>, StateError> {
        match self.get(key)? {
            None => Ok(None),
            Some(b) => T::decode(&mut &b[..]).map(Some).map_err(|_| {
                StateError::Undecodable(format!(
                    "undecodable state under key prefix {:?}",
                    String::from_utf8_lossy(&key[..key.len().min(2)])
                ))
            }),
        }
    }

    /// Typed write.
    pub fn put_encoded<T: Encode>(&self, key: Vec<u8>, value: &T) -> Result<(), StateError> {
        self.put(key, Some(value.encode()))
    }

    /// An account (default when absent).
    pub fn account(&self, a: &AccountId) -> Result<AccountInfo, StateError> {
        Ok(self.get_decoded(&keys::account(a))?.unwrap_or_default())
    }

    /// Stores an account.
    pub fn set_account(&self, a: &AccountId, info: &AccountInfo) -> Result<(), StateError> {
        self.put_encoded(keys::account(a), info)
    }

    /// Keeps the current transaction's writes: they join the block's. While a savepoint is
    /// open, the block-layer entries they replace are logged so that
    /// [`StateView::rollback_to_savepoint`] can restore them.
    pub fn commit_tx(&self) -> Result<(), StateError> {
        let mut layers = self.layers.write().map_err(|_| poisoned())?;
        let tx = std::mem::take(&mut layers.tx);
        let Layers { block, undo, .. } = &mut *layers;
        match undo {
            None => block.extend(tx),
            Some(log) => {
                for (key, value) in tx {
                    let previous = block.insert(key.clone(), value);
                    log.push((key, previous));
                }
            }
        }
        Ok(())
    }

    /// Opens a savepoint at the current block layer (one level: an open savepoint is
    /// replaced). The current transaction's writes are not part of it: they are dropped on
    /// rollback.
    pub fn savepoint(&self) -> Result<(), StateError> {
        self.layers.write().map_err(|_| poisoned())?.undo = Some(Vec::new());
        Ok(())
    }

    /// Closes the savepoint, keeping everything committed since it was opened.
    pub fn release_savepoint(&self) -> Result<(), StateError> {
        self.layers.write().map_err(|_| poisoned())?.undo = None;
        Ok(())
    }

    /// Restores the block layer to what it was when the savepoint was opened, drops the
    /// current transaction's writes, and closes the savepoint. Without an open savepoint,
    /// only the current transaction's writes are dropped.
    pub fn rollback_to_savepoint(&self) -> Result<(), StateError> {
        let mut layers = self.layers.write().map_err(|_| poisoned())?;
        layers.tx.clear();
        let log = layers.undo.take().unwrap_or_default();
        for (key, previous) in log.into_iter().rev() {
            match previous {
                Some(value) => layers.block.insert(key, value),
                None => layers.block.remove(&key),
            };
        }
        Ok(())
    }

    /// Drops the current transaction's writes.
    pub fn abort_tx(&self) -> Result<(), StateError> {
        self.layers.write().map_err(|_| poisoned())?.tx.clear();
        Ok(())
    }

    /// Takes the block's committed-transaction writes, ordered by key, leaving the block layer
    /// empty: for the end of a block's execution.
    pub(crate) fn take_block_writes(
        &self,
    ) -> Result<BTreeMap<Vec<u8>, Option<Vec<u8>>>, StateError> {
        Ok(std::mem::take(
            &mut self.layers.write().map_err(|_| poisoned())?.block,
        ))
    }

    /// The block's committed-transaction writes, ordered by key.
    pub fn block_writes(&self) -> Result<BTreeMap<Vec<u8>, Option<Vec<u8>>>, StateError> {
        Ok(self.layers.read().map_err(|_| poisoned())?.block.clone())
    }
}

fn poisoned() -> StateError {
    StateError::Backend("state view lock poisoned".into())
}

impl StateBackend for StateView {
    fn storage_get(&self, contract: &AccountId, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.get(&keys::storage(contract, key))
    }
    fn contract_code_hash(&self, contract: &AccountId) -> Result<Option<Hash>, StateError> {
        Ok(self
            .get_decoded::<ContractInfo>(&keys::contract(contract))?
            .map(|c| c.code_hash))
    }
    fn code(&self, code_hash: &Hash) -> Result<Option<Arc<[u8]>>, StateError> {
        Ok(self
            .get_decoded::<CodeInfo>(&keys::code(code_hash))?
            .map(|c| Arc::from(c.code)))
    }
}

//! Named crash points at the node's durable writes, for the crash tests
//! (`node/tests/e2e/crash_points.rs`).
//!
//! `crash_point!("name")` marks a place where a process crash must leave the node's files
//! recoverable. Without the `crash-points` feature it compiles to nothing. With it (test builds
//! only) the process reads `CIVITAS_CRASH_AT=name` or `CIVITAS_CRASH_AT=name:nth` once, and
//! the `nth` time (default 1) the named point is passed it prints `crash point NAME reached`
//! to stderr and calls [`std::process::abort`]: no destructor, flush or `Drop` runs, as after a
//! `kill -9` (what the OS already has, RocksDB's synced log included, survives; this is a
//! process crash, not a power cut).
//!
//! The points, in the order a block, a record upload and a key file reach them:
//!
//! Block commit (ledger/src/store.rs; one RocksDB batch holds the tree nodes, the stale-node
//! index, the pruning deletions, the block, its certificate, receipts, transaction index and
//! the head: a commit makes no second write):
//! - `commit_genesis.before_write`: the genesis batch is built, not written.
//! - `commit_genesis.after_write`: the genesis batch is durable, the node not yet serving.
//! - `commit_block.before_write`: a decided block's batch is built, not written.
//! - `commit_block.after_write`: the batch is durable; nothing (head, receipt, engine) knows.
//!
//! Consensus decision boundary (node/src/service.rs, `Chain::decided`, both engines):
//! - `decided.before_commit`: the engine decided the block (certificate checked, block
//!   executed); the store has not been written. The engine's own write-ahead log (Malachite's
//!   `consensus/wal/`) is written inside the engine before it reports the decision.
//! - `decided.after_commit`: the block is committed and its head and receipts published; the
//!   engine is not yet told (the solo loop's next height, Malachite's `Decided` reply).
//!
//! Malachite proposal store (node/src/consensus/malachite/store.rs):
//! - `proposal_record.before_rename`: a proposal record's temporary file is written, not yet
//!   renamed into place.
//!
//! Vault (ledger/src/vault.rs):
//! - `vault.records.before_write`: uploaded records are sealed, not written.
//! - `vault.records.after_write`: the records are durable; `vault_putRecords` has not
//!   answered.
//! - `vault.sealed_outputs.before_write`: a committed block's sealed results are sealed, not
//!   written.
//! - `vault.sealed_outputs.after_write`: they are durable; none is attested yet.
//!
//! Key files (write a temporary file, sync it, rename it into place, sync the directory):
//! - `vault_key.temp_created`, `vault_key.temp_written`, `vault_key.renamed`: the node's vault
//!   key (`DATA/vault.key`, ledger/src/vault.rs): the empty temporary file exists; it holds the
//!   key, synced, not renamed; it is renamed, the directory not synced.
//! - `sealing_key.temp_created`, `sealing_key.temp_written`, `sealing_key.renamed`: the same
//!   steps for a sealing key handed over to a new committee member (node/src/committee.rs).
//! - `keystore.temp_created`, `keystore.temp_written`, `keystore.renamed`: the same steps for
//!   `civitas key new` and `civitas key dev` (cli/src/keystore.rs).

/// Every crash point, as named at its `crash_point!`; arming another name is refused.
pub const POINTS: &[&str] = &[
    "commit_genesis.before_write",
    "commit_genesis.after_write",
    "commit_block.before_write",
    "commit_block.after_write",
    "decided.before_commit",
    "decided.after_commit",
    "proposal_record.before_rename",
    "vault.records.before_write",
    "vault.records.after_write",
    "vault.sealed_outputs.before_write",
    "vault.sealed_outputs.after_write",
    "vault_key.temp_created",
    "vault_key.temp_written",
    "vault_key.renamed",
    "sealing_key.temp_created",
    "sealing_key.temp_written",
    "sealing_key.renamed",
    "keystore.temp_created",
    "keystore.temp_written",
    "keystore.renamed",
];

/// The environment variable that arms one point: `name` or `name:nth`.
pub const ENV: &str = "CIVITAS_CRASH_AT";

/// Marks a crash point (a string literal from [`POINTS`]; another does not compile). Nothing
/// without the `crash-points` feature.
#[macro_export]
macro_rules! crash_point {
    ($name:literal) => {{
        const _: () = assert!($crate::is_point($name), "not a crash point in POINTS");
        $crate::reached($name)
    }};
}

/// Whether `name` is in [`POINTS`] (a `const fn`, so `crash_point!` checks it at compile time).
pub const fn is_point(name: &str) -> bool {
    let mut i = 0;
    while i < POINTS.len() {
        if same(POINTS[i].as_bytes(), name.as_bytes()) {
            return true;
        }
        i += 1;
    }
    false
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Passes the point `name`; see the crate documentation. Use [`crash_point!`].
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn reached(_name: &'static str) {}

/// Passes the point `name`: aborts the process if it is the armed point's `nth` pass.
#[cfg(feature = "crash-points")]
pub fn reached(name: &'static str) {
    armed::reached(name)
}

#[cfg(feature = "crash-points")]
mod armed {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    /// The armed point and the pass that crashes, read from the environment once.
    fn armed() -> Option<&'static (String, u64)> {
        static ARMED: OnceLock<Option<(String, u64)>> = OnceLock::new();
        ARMED
            .get_or_init(|| {
                let spec = std::env::var(super::ENV).ok()?;
                let (name, nth) = match spec.split_once(':') {
                    Some((name, nth)) => (name.to_string(), nth.parse().unwrap_or(0)),
                    None => (spec.clone(), 1),
                };
                if !super::POINTS.contains(&name.as_str()) || nth == 0 {
                    // A misspelt point would let a crash test pass without crashing.
                    eprintln!("{}={spec}: no such crash point (or pass 0)", super::ENV);
                    std::process::exit(101);
                }
                Some((name, nth))
            })
            .as_ref()
    }

    pub(super) fn reached(name: &'static str) {
        static PASSES: AtomicU64 = AtomicU64::new(0);
        let Some((armed, nth)) = armed() else {
            return;
        };
        if armed == name && PASSES.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
            eprintln!("crash point {name} reached (pass {nth})");
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_names_are_points() {
        assert!(POINTS.iter().all(|p| is_point(p)));
        assert!(!is_point("commit_block.before_writ"));
        assert!(!is_point("commit_block.before_write2"));
        assert!(!is_point(""));
        let mut sorted = POINTS.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), POINTS.len(), "a point listed twice");
    }
}

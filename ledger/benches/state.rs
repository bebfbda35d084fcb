//! Cost as state grows: native transfers per second through the executor (propose + commit of
//! blocks of 1,000 transfers between random funded accounts; signatures are excluded, as the
//! mempool checks them before a block is built) and bytes on disk per committed transfer, with
//! 10^4, 10^5 and 10^6 funded accounts, on a pruning store (the last `BENCH_STATE_RETAINED`
//! heights kept, default 100, so that pruning runs within the measured blocks).
//!
//! Prints one JSON line per figure: `{"bench":"state","name":...,"value":...}`. Bytes on disk
//! are counted after the measured blocks, flushed, and again after a full compaction (the live
//! size: deleted tree nodes and values leave the files only when RocksDB compacts them).
//! Environment: `BENCH_STATE_MAX_ACCOUNTS` caps the sizes (e.g. 100000 for a quick run),
//! `BENCH_STATE_ACCOUNTS` replaces them (comma-separated, e.g. `1000000`),
//! `BENCH_STATE_BLOCKS` the measured blocks per size (default 300), `BENCH_STATE_RETAINED` the
//! retained heights (0: an archive store, nothing pruned), `BENCH_STATE_CACHE_MB` the block
//! cache (default: the store's).
//! Run with `scripts/bench state`.
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use civitas_ledger::store::StoreConfig;
use civitas_ledger::{ChainParams, Executor, Genesis, GenesisAccount, Head, Store};
use civitas_primitives::block::CommitCertificate;
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, SignedTransaction, Transaction};
use civitas_primitives::{sha3_256, AccountId};
use civitas_runtime::{Vm, VmConfig};

const CHAIN: &str = "bench-state";
const BLOCK_TXS: usize = 1_000;
const WARMUP_BLOCKS: usize = 5;
const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn emit(name: &str, value: f64) {
    println!("{{\"bench\":\"state\",\"name\":\"{name}\",\"value\":{value:.1}}}");
}

/// Funded account `i`: an id derived from its number (no key: signatures are not checked here).
fn account(i: usize) -> AccountId {
    AccountId(sha3_256(&(i as u64).to_be_bytes()).0)
}

/// A deterministic xorshift generator, so every run moves the same credits.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read store dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

struct Chain {
    exec: Executor,
    head: Head,
    time_ms: u64,
    nonces: HashMap<usize, u64>,
    rng: Rng,
    accounts: usize,
    proposer: AccountId,
}

impl Chain {
    fn transfers(&mut self) -> Vec<SignedTransaction> {
        (0..BLOCK_TXS)
            .map(|_| {
                let from = self.rng.below(self.accounts);
                let to = self.rng.below(self.accounts);
                let nonce = self.nonces.entry(from).or_insert(0);
                let tx = Transaction {
                    chain_id: CHAIN.into(),
                    signer: account(from),
                    nonce: *nonce,
                    fuel_limit: civitas_ledger::fuel::TRANSFER,
                    call: Call::Transfer {
                        to: account(to),
                        amount: 1,
                    },
                };
                *nonce += 1;
                SignedTransaction {
                    tx,
                    signature: [0; 64],
                }
            })
            .collect()
    }

    /// Proposes and commits one block of `txs`.
    fn block(&mut self, txs: Vec<SignedTransaction>) {
        self.time_ms += 1_000;
        let proposal = self
            .exec
            .propose(&self.head, self.time_ms, self.proposer, txs)
            .expect("propose");
        assert!(proposal.rejected.is_empty(), "{:?}", proposal.rejected);
        assert!(proposal.excluded.is_empty(), "{:?}", proposal.excluded);
        let executed = proposal.executed;
        assert_eq!(executed.block.txs.len(), BLOCK_TXS);
        assert!(executed.receipts.iter().all(|r| r.error.is_none()));
        let cert = CommitCertificate {
            height: executed.block.header.height,
            round: 0,
            block_hash: executed.block.header.hash(),
            signatures: Vec::new(),
        };
        self.head = self.exec.commit(executed, cert).expect("commit");
    }
}

fn genesis(accounts: usize, validator: AccountId) -> Genesis {
    let mut list: Vec<GenesisAccount> = (0..accounts)
        .map(|i| GenesisAccount {
            name: format!("a{i}"),
            account: account(i).to_hex(),
            balance: 1_000_000_000,
            roles: Vec::new(),
        })
        .collect();
    list.push(GenesisAccount {
        name: "validator".into(),
        account: validator.to_hex(),
        balance: 0,
        roles: vec!["validator".into()],
    });
    Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 1_700_000_000_000,
        accounts: list,
        upload_roles: Vec::new(),
        instantiate_roles: Vec::new(),
        governance_threshold: 1,
        record_reward: 10,
        fuel_price: 0,
        datasets: Vec::new(),
        access_key: None,
        sealed_committee: None,
        committee_key: None,
    }
}

fn run(accounts: usize, blocks: usize, retained: Option<u64>) -> f64 {
    let label = format!("{accounts}_accounts");
    let dir = tempfile::tempdir().expect("tmp");
    let mut config = StoreConfig {
        retained_heights: retained,
        ..StoreConfig::default()
    };
    if let Some(mb) = std::env::var("BENCH_STATE_CACHE_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        config.block_cache_bytes = mb << 20;
    }
    let store = Store::open_with(dir.path(), config).expect("store");
    let exec = Executor::new(
        store.clone(),
        Vm::new(VmConfig::default()).expect("vm"),
        ChainParams::new(CHAIN),
    );
    let proposer = Keypair::dev("bench-validator").account();
    let doc = genesis(accounts, proposer);
    let start = Instant::now();
    let head = exec.init_genesis(&doc).expect("genesis");
    emit(
        &format!("genesis_seconds_{label}"),
        start.elapsed().as_secs_f64(),
    );
    drop(doc);
    let mut chain = Chain {
        exec,
        head,
        time_ms: 1_700_000_000_000,
        nonces: HashMap::new(),
        rng: Rng(0x9e37_79b9_7f4a_7c15),
        accounts,
        proposer,
    };
    for _ in 0..WARMUP_BLOCKS {
        let txs = chain.transfers();
        chain.block(txs);
    }
    store.flush().expect("flush");
    let bytes_before = dir_bytes(dir.path());
    let mut busy = std::time::Duration::ZERO;
    let mut first_tenth = std::time::Duration::ZERO;
    let mut last_tenth = std::time::Duration::ZERO;
    let tenth = (blocks / 10).max(1);
    for b in 0..blocks {
        let txs = chain.transfers();
        let t = Instant::now();
        chain.block(txs);
        let spent = t.elapsed();
        busy += spent;
        if b < tenth {
            first_tenth += spent;
        }
        if b >= blocks - tenth {
            last_tenth += spent;
        }
    }
    let txs = (blocks * BLOCK_TXS) as f64;
    let rate = txs / busy.as_secs_f64();
    emit(&format!("transfers_per_second_{label}"), rate);
    let per_tenth = (tenth * BLOCK_TXS) as f64;
    emit(
        &format!("transfers_per_second_first_tenth_{label}"),
        per_tenth / first_tenth.as_secs_f64(),
    );
    emit(
        &format!("transfers_per_second_last_tenth_{label}"),
        per_tenth / last_tenth.as_secs_f64(),
    );
    store.flush().expect("flush");
    let bytes_after = dir_bytes(dir.path());
    emit(
        &format!("disk_bytes_per_transfer_{label}"),
        bytes_after.saturating_sub(bytes_before) as f64 / txs,
    );
    emit(&format!("disk_bytes_{label}"), bytes_after as f64);
    // What stays once RocksDB has compacted the deletions away (it does so on its own as
    // files accumulate; here at once, outside the timed blocks).
    store.compact_for_tests().expect("compact");
    let compacted = dir_bytes(dir.path());
    emit(
        &format!("disk_bytes_per_transfer_compacted_{label}"),
        compacted.saturating_sub(bytes_before) as f64 / txs,
    );
    emit(&format!("disk_bytes_compacted_{label}"), compacted as f64);
    emit(
        &format!("tree_nodes_{label}"),
        store.tree_node_count().expect("count") as f64,
    );
    emit(
        &format!("oldest_retained_height_{label}"),
        store.oldest_version() as f64,
    );
    rate
}

fn main() {
    let max = env_usize("BENCH_STATE_MAX_ACCOUNTS", usize::MAX);
    let blocks = env_usize("BENCH_STATE_BLOCKS", 300).max(1);
    let retained = match env_usize("BENCH_STATE_RETAINED", 100) {
        0 => None,
        n => Some(n as u64),
    };
    let sizes: Vec<usize> = match std::env::var("BENCH_STATE_ACCOUNTS") {
        Ok(list) => list
            .split(',')
            .map(|n| n.trim().parse().expect("BENCH_STATE_ACCOUNTS: numbers"))
            .collect(),
        Err(_) => SIZES.to_vec(),
    };
    let mut rates = Vec::new();
    for accounts in sizes.into_iter().filter(|&n| n <= max) {
        rates.push(run(accounts, blocks, retained));
    }
    if let (Some(first), Some(last)) = (rates.first(), rates.last()) {
        if rates.len() > 1 {
            emit("largest_over_smallest_percent", 100.0 * last / first);
        }
    }
}

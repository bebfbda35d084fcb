//! Sealed loan scoring: scores per second through the executor (consent checks, charges, audit
//! entries, vault decryption, the state tree and the block commit included), and where the time
//! goes: the contract's own execution (the same call in the VM with records served from memory,
//! minus an empty call) against the runtime around it.
//! Run with `scripts/bench sealed` (it builds `target/civitas/loan-scoring.wasm` first).
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use civitas_ledger::genesis::GenesisDataset;
use civitas_ledger::vault::Vault;
use civitas_ledger::{
    ChainParams, Executor, Genesis, GenesisAccount, Head, Store, DEFAULT_BLOCK_SEALED_FUEL_LIMIT,
};
use civitas_primitives::block::{vote_message, CommitCertificate};
use civitas_primitives::crypto::{x25519_public, Keypair};
use civitas_primitives::dev::dev_access_key;
use civitas_primitives::tx::{Call, SignedTransaction, Transaction};
use civitas_primitives::vault::{ConsentAction, ConsentMode, ConsentRequest, DeclaredRead, Record};
use civitas_primitives::{contract_address, selector, sha3_256, AccountId, Hash};
use civitas_runtime::{
    BlockContext, CallRequest, Entry, SealedRead, SealedReadRequest, SealedSource, StateError, Vm,
    VmConfig,
};
use parity_scale_codec::Encode;

const CHAIN: &str = "bench";
const SUBJECTS: usize = 200;
const ROUNDS: usize = 5;
/// Fuel of uploads, instantiations and the VM-only calls.
const FUEL: u64 = 20_000_000;
/// Fuel of setup transactions.
const SETUP_FUEL: u64 = 1_000_000;

struct Chain {
    exec: Executor,
    head: Head,
    time: u64,
    nonces: BTreeMap<AccountId, u64>,
}

impl Chain {
    fn tx(&mut self, k: &Keypair, call: Call) -> SignedTransaction {
        let fuel = match call {
            // One round's sealed calls share the block's sealed fuel.
            Call::SealedCall { .. } => DEFAULT_BLOCK_SEALED_FUEL_LIMIT / SUBJECTS as u64,
            Call::Instantiate { .. } | Call::UploadCode { .. } => FUEL,
            _ => SETUP_FUEL,
        };
        let n = self.nonces.entry(k.account()).or_insert(0);
        let t = k
            .sign_tx_for_chain(
                Transaction {
                    chain_id: CHAIN.into(),
                    signer: k.account(),
                    nonce: *n,
                    fuel_limit: fuel,
                    call,
                },
                &x25519_public(&dev_access_key(CHAIN)),
            )
            .expect("encrypts");
        *n += 1;
        t
    }
    fn block(&mut self, txs: Vec<SignedTransaction>) -> Vec<civitas_primitives::block::Receipt> {
        self.time += 1_000;
        let n = txs.len();
        let p = Keypair::dev("tax");
        let proposal = self
            .exec
            .propose(&self.head, self.time, p.account(), txs)
            .expect("propose");
        assert!(proposal.rejected.is_empty(), "{:?}", proposal.rejected);
        assert!(proposal.excluded.is_empty(), "{:?}", proposal.excluded);
        assert_eq!(
            proposal.executed.block.txs.len(),
            n,
            "the whole round fits one block"
        );
        let ex = proposal.executed;
        let receipts = ex.receipts.clone();
        let hash = ex.block.header.hash();
        let h = ex.block.header.height;
        let cert = CommitCertificate {
            height: h,
            round: 0,
            block_hash: hash,
            signatures: vec![(
                p.account(),
                p.sign_hash(&vote_message(&ex.block.header.chain_id, h, 0, &hash)),
            )],
        };
        self.head = self.exec.commit(ex, cert).expect("commit");
        for r in &receipts {
            assert!(r.error.is_none(), "{:?}", r.error);
        }
        receipts
    }
}

struct MemorySource(BTreeMap<String, Vec<u8>>);

impl SealedSource for MemorySource {
    fn sealed_read(&self, r: &SealedReadRequest) -> Result<SealedRead, StateError> {
        Ok(match self.0.get(&r.dataset) {
            Some(p) => SealedRead::Granted(p.clone()),
            None => SealedRead::Refused,
        })
    }
}

fn payloads(i: usize) -> [(String, Vec<u8>); 3] {
    let income = 30_000 + (i as u64 % 50) * 2_000;
    [
        (
            "tax.annual_income".into(),
            (2025u32, income, income / 5).encode(),
        ),
        (
            "social_security.employment".into(),
            (
                "Employer".to_string(),
                true,
                12 + (i as u32 % 48),
                income / 12,
            )
                .encode(),
        ),
        (
            "real_estate.holdings".into(),
            ((i % 2) as u32, 200_000u64, false).encode(),
        ),
    ]
}

fn main() {
    let wasm_path = std::env::var("CIVITAS_LOAN_WASM").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/civitas/loan-scoring.wasm"
        )
        .into()
    });
    let code = std::fs::read(&wasm_path)
        .unwrap_or_else(|e| panic!("{wasm_path}: {e} (run scripts/bench sealed)"));
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path()).expect("store");
    let names = [
        "tax",
        "social-security",
        "real-estate",
        "civil",
        "bank",
        "reg",
    ];
    let roles: [&[&str]; 6] = [
        &["validator", "custodian"],
        &["custodian"],
        &["custodian"],
        &["identity"],
        &["institution"],
        &["regulator"],
    ];
    let mut accounts: Vec<GenesisAccount> = names
        .iter()
        .zip(roles)
        .map(|(n, r)| GenesisAccount {
            name: n.to_string(),
            account: Keypair::dev(n).account().to_hex(),
            balance: 1_000_000_000,
            roles: r.iter().map(|s| s.to_string()).collect(),
        })
        .collect();
    let citizens: Vec<Keypair> = (0..SUBJECTS)
        .map(|i| Keypair::dev(&format!("citizen-{i}")))
        .collect();
    for (i, c) in citizens.iter().enumerate() {
        accounts.push(GenesisAccount {
            name: format!("citizen-{i}"),
            account: c.account().to_hex(),
            balance: 0,
            roles: vec![],
        });
    }
    let ds = |id: &str, custodian: &str, fields: &[&str]| GenesisDataset {
        id: id.into(),
        custodian: Keypair::dev(custodian).account().to_hex(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        price: 1,
    };
    let genesis = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 1_700_000_000_000,
        accounts,
        upload_roles: vec!["institution".into()],
        instantiate_roles: vec!["institution".into()],
        governance_threshold: 1,
        sealed_committee: None,
        committee_key: None,
        record_reward: 1,
        fuel_price: 0,
        access_key: Some(hex::encode(x25519_public(&dev_access_key(CHAIN)))),
        datasets: vec![
            ds(
                "tax.annual_income",
                "tax",
                &["year:u32", "gross_income:u64", "tax_paid:u64"],
            ),
            ds(
                "social_security.employment",
                "social-security",
                &[
                    "employer:text",
                    "employed:bool",
                    "months_employed:u32",
                    "monthly_salary:u64",
                ],
            ),
            ds(
                "real_estate.holdings",
                "real-estate",
                &["properties:u32", "total_value:u64", "mortgaged:bool"],
            ),
        ],
    };
    let vault = Vault::new(store.clone(), [1; 32]);
    let exec = Executor::new(
        store,
        Vm::new(VmConfig::default()).expect("vm"),
        ChainParams::new(CHAIN),
    )
    .with_vault(vault.clone())
    .with_sealing_key([7; 32])
    .with_access_key(civitas_primitives::dev::dev_access_key(CHAIN));
    let head = exec.init_genesis(&genesis).expect("genesis");
    let mut chain = Chain {
        exec,
        head,
        time: 1_700_000_000_000,
        nonces: BTreeMap::new(),
    };
    let (bank, reg, civil) = (
        Keypair::dev("bank"),
        Keypair::dev("reg"),
        Keypair::dev("civil"),
    );
    let code_hash = sha3_256(&code);
    let contract = contract_address(&bank.account(), &code_hash, b"s");
    let policy = (30_000u64, 5u32, 500_000u64, 12u32, 450u32, 50u32);
    let ctor = [selector("new").to_vec(), policy.encode()].concat();
    let txs = vec![
        chain.tx(&bank, Call::UploadCode { code }),
        chain.tx(
            &bank,
            Call::Instantiate {
                code_hash,
                salt: b"s".to_vec(),
                input: ctor,
            },
        ),
        chain.tx(
            &reg,
            Call::ApproveCode {
                code_hash,
                approved: true,
            },
        ),
    ];
    chain.block(txs);
    let subjects: Vec<Hash> = (0..SUBJECTS)
        .map(|i| sha3_256(format!("s{i}").as_bytes()))
        .collect();
    let mut setup = Vec::new();
    let mut records = Vec::new();
    for (i, s) in subjects.iter().enumerate() {
        setup.push(chain.tx(
            &civil,
            Call::BindIdentity {
                subject: *s,
                account: citizens[i].account(),
            },
        ));
        for (dataset, payload) in payloads(i) {
            let custodian = Keypair::dev(match dataset.as_str() {
                "tax.annual_income" => "tax",
                "social_security.employment" => "social-security",
                _ => "real-estate",
            });
            let mut r = Record {
                subject: *s,
                dataset: dataset.clone(),
                version: 1,
                salt: [i as u8; 32],
                payload,
                custodian: custodian.account(),
                signature: [0; 64],
            };
            r.signature = custodian.sign_hash(&r.hash());
            setup.push(chain.tx(
                &custodian,
                Call::CommitRecord {
                    subject: *s,
                    dataset,
                    version: 1,
                    record_hash: r.hash(),
                    signature: r.signature,
                },
            ));
            records.push(r);
        }
        setup.push(chain.tx(
            &bank,
            Call::RequestConsent {
                request: ConsentRequest {
                    subject: *s,
                    datasets: payloads(0).iter().map(|(d, _)| d.clone()).collect(),
                    purpose: "mortgage".into(),
                    mode: ConsentMode::Compute,
                    code_hash: Some(code_hash),
                    expires_ms: u64::MAX,
                    max_uses: 1_000,
                },
            },
        ));
    }
    vault.put_records(&records).expect("vault");
    chain.block(setup);
    let answers = (0..SUBJECTS)
        .map(|i| {
            chain.tx(
                &citizens[i],
                Call::Consent {
                    id: i as u64 + 1,
                    action: ConsentAction::Approve,
                },
            )
        })
        .collect();
    chain.block(answers);

    let score = |s: &Hash| [selector("score").to_vec(), (s, 250_000u64).encode()].concat();
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    // Every round's transactions are signed (and their bodies encrypted) before any is timed.
    let signed: Vec<Vec<SignedTransaction>> = (0..rounds)
        .map(|_| {
            subjects
                .iter()
                .map(|s| {
                    chain.tx(
                        &bank,
                        Call::SealedCall {
                            contract,
                            input: score(s),
                            reads: payloads(0)
                                .into_iter()
                                .map(|(dataset, _)| DeclaredRead {
                                    subject: *s,
                                    dataset,
                                })
                                .collect(),
                        },
                    )
                })
                .collect()
        })
        .collect();
    // Through the executor: one block of SUBJECTS sealed calls per round.
    // Each round in three timed phases, as a node meets them: admission (the pool's check of
    // each transaction, which opens its private body; signatures are not counted), the block
    // (proposed, executed, committed), then the committee member's run of its sealed calls.
    let zero = std::time::Duration::ZERO;
    let (mut admission, mut blocks, mut committee) = (zero, zero, zero);
    for txs in signed {
        let t = Instant::now();
        let (_, head) = chain.exec.head_view().expect("view");
        for tx in &txs {
            chain
                .exec
                .check_tx_except_nonce(&head, tx, false)
                .expect("checks")
                .expect("admitted");
        }
        admission += t.elapsed();
        let t = Instant::now();
        let receipts = chain.block(txs);
        blocks += t.elapsed();
        let t = Instant::now();
        // The committee member's part: each call over its records, the block's results kept
        // in one durable write (as node/src/committee.rs does).
        let height = chain.head.height;
        let mut outputs = Vec::with_capacity(receipts.len());
        for r in &receipts {
            let (_, stored) = chain
                .exec
                .run_sealed_job(&r.tx_hash, height)
                .expect("runs")
                .expect("a sealed call");
            outputs.push((r.tx_hash, stored));
        }
        chain
            .exec
            .vault()
            .expect("vault")
            .put_sealed_outputs(&outputs)
            .expect("kept");
        committee += t.elapsed();
    }
    let n = (rounds * SUBJECTS) as f64;
    let per_score = (admission + blocks + committee).as_secs_f64() / n;
    let phase_us = |d: std::time::Duration| d.as_secs_f64() / n * 1e6;

    // The contract alone: the same calls in the VM, records from memory, no ledger.
    let vm = chain.exec.vm().clone();
    let (_, view) = chain.exec.head_view().expect("view");
    let view = Arc::new(view);
    let block = BlockContext {
        height: 1,
        time_ms: 1,
    };
    let req = |input: Vec<u8>| CallRequest {
        code_hash,
        contract,
        caller: bank.account(),
        input,
        fuel_limit: FUEL,
        entry: Entry::Call,
        read_only: true,
    };
    let sources: Vec<Arc<MemorySource>> = (0..SUBJECTS)
        .map(|i| Arc::new(MemorySource(payloads(i).into_iter().collect())))
        .collect();
    let t = Instant::now();
    let mut fuel = 0u64;
    for _ in 0..rounds {
        for (i, s) in subjects.iter().enumerate() {
            let out = vm
                .execute_sealed(view.clone(), sources[i].clone(), block, req(score(s)))
                .expect("score");
            fuel += out.fuel_used;
        }
    }
    let vm_per = t.elapsed().as_secs_f64() / n;
    // An empty call (unknown selector → revert) on the same cached module: instantiation cost.
    let t = Instant::now();
    for _ in 0..(rounds * SUBJECTS) {
        let _ = vm.execute_sealed(
            view.clone(),
            sources[0].clone(),
            block,
            req(vec![0, 0, 0, 0]),
        );
    }
    let empty_per = t.elapsed().as_secs_f64() / n;
    let contract_per = (vm_per - empty_per).max(0.0);
    println!("sealed loan scoring, {SUBJECTS} subjects x {rounds} blocks, 3 datasets each");
    println!(
        "  through the executor and a committee member (admission; consent, charges, audit, state tree, commit; then the call over the vault's records): {:.0} scores/s ({:.1} µs each)",
        1.0 / per_score,
        per_score * 1e6
    );
    println!(
        "  phases per score: admission {:.1} µs, block {:.1} µs, committee member {:.1} µs",
        phase_us(admission),
        phase_us(blocks),
        phase_us(committee)
    );
    println!(
        "  contract in the VM, records from memory: {:.1} µs ({} fuel avg); empty call: {:.1} µs",
        vm_per * 1e6,
        fuel / (rounds * SUBJECTS) as u64,
        empty_per * 1e6
    );
    println!(
        "  share of a score: contract {:.0} %, VM instantiation {:.0} %, ledger runtime {:.0} %",
        100.0 * contract_per / per_score,
        100.0 * empty_per / per_score,
        100.0 * (per_score - vm_per).max(0.0) / per_score
    );
    // The same figures, one JSON object a line, for scripts.
    let figures = [
        ("scores_per_s", 1.0 / per_score),
        ("us_per_score", per_score * 1e6),
        ("admission_us_per_score", phase_us(admission)),
        ("block_us_per_score", phase_us(blocks)),
        ("committee_us_per_score", phase_us(committee)),
        ("vm_call_us", vm_per * 1e6),
        ("empty_call_us", empty_per * 1e6),
        ("contract_share_pct", 100.0 * contract_per / per_score),
        ("vm_instantiation_share_pct", 100.0 * empty_per / per_score),
        (
            "contract_and_vm_share_pct",
            100.0 * vm_per.min(per_score) / per_score,
        ),
        (
            "ledger_runtime_share_pct",
            100.0 * (per_score - vm_per).max(0.0) / per_score,
        ),
    ];
    for (name, value) in figures {
        println!(
            "{}",
            serde_json::json!({"bench": "sealed", "name": name, "value": value})
        );
    }
}

//! Golden consensus output: a fixed sequence of blocks over the reference contracts, executed
//! by the real ledger executor on a real RocksDB store, must reproduce pinned state roots and
//! receipts roots block by block.
//!
//! Everything the blocks depend on is fixed: dev keys (`Keypair::dev`), genesis, block times
//! (one second apart from the genesis time), transactions, record salts and payloads. The
//! roots therefore change only when consensus output changes: execution rules, fuel costs,
//! receipt or state encoding, the JMT, or the contract bytes.
//!
//! Updating [`GOLDEN`] is a deliberate consensus change: do it only together with the change
//! that moves the roots, and say so. On a mismatch the test names the blocks that differ and
//! prints the whole table with the actual values, ready to paste.
//!
//! The contract modules are built by `civitas_testkit::contract_wasm` (release, `wasm-opt`)
//! with the workspace's pinned toolchain and flags, so their bytes are reproducible; a toolchain
//! or `wasm-opt` change alters the code hashes, and with them the roots of every block from the
//! first upload on.
use std::path::Path;

use civitas_ledger::genesis::GenesisDataset;
use civitas_ledger::vault::Vault;
use civitas_ledger::{ChainParams, Executor, Genesis, GenesisAccount, Head, Store};
use civitas_primitives::block::{vote_message, CommitCertificate, Receipt, ReceiptStatus};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, GovernanceAction, Role, SignedTransaction, Transaction};
use civitas_primitives::vault::{
    ConsentAction, ConsentMode, ConsentRequest, Field, FieldType, Record, SealedResult, SubjectId,
};
use civitas_primitives::{contract_address, sha3_256, AccountId};
use civitas_runtime::{Vm, VmConfig};
use civitas_testkit::{contract_wasm, message};
use parity_scale_codec::{Decode, Encode};

const CHAIN: &str = "civitas-golden";
const GENESIS_TIME_MS: u64 = 1_700_000_000_000;
const FUEL: u64 = 10_000_000;

/// Per block, in order from genesis (height 0): a label, the state root and the receipts
/// root, in hex. Changing a value here is a deliberate consensus change.
const GOLDEN: &[(&str, &str, &str)] = &[
    (
        "genesis",
        "259e44f97ddbd3c2ceda8775f10871c83c1ed72e16f5c635d8c151e2ecab1f60",
        "",
    ),
    (
        "upload",
        "d0af148f2da78f54e4e2c55b81232023d101153fea7c51f874d915bdc1349a92",
        "38b9a7f9902a75869a4d0e8a00399642872517bdf40630bc32fcef7e344245fe",
    ),
    (
        "instantiate",
        "b9cbe7524ecf8cd438ae963027fec76707bc67a17670dc0f15299855d5dd44e8",
        "8790e7be77ff34ddb8724f7a67fd606b77c345874ddff755dbb9ff90aa1327fa",
    ),
    (
        "token.transfer",
        "4e44a39a6b01f727e2c56b117caae72d613834799086b4ea9a14313478e391f1",
        "06c87024ebbc5b7610a5e16d46155c531ce24184b812509df13229d387209f4f",
    ),
    (
        "coupons.issue",
        "39765b67f86958759d8ee785e3f446d530a6ec3a128599c1f3077a0d406e9901",
        "05b0e57607c3b81c5dca2db7902e2e6964a1a2e58f766c79c29ef0804f7ad349",
    ),
    (
        "coupons.redeem",
        "1c87949e924167d301649cf5caeb48d20bfcbd67d1d7f4de8fffe16e0f91af9c",
        "54a45c10c596178bda3d8554d8932ca5c94e84c39559ed65682c62b9c72f83fe",
    ),
    (
        "flipper.flip",
        "82f7ca1a15c23cec24998b467e4d273fd9aa4da7ae097aa18906c1f216b0e41d",
        "7dea725303fb9a641ff56bf4fd2d7826b358548b83837e5c84240c39716971e3",
    ),
    (
        "identity.datasets",
        "95c3f2361989abe3094d17347de4977a4750392d05148e3c8c2119372a5f93b4",
        "bc62a441a9375caaa6c2ba84468253623f0c40d1c073f48bee6f505aafb54e70",
    ),
    (
        "records",
        "b9dc79a1dbf7c3c743517c4f88f4f98c516c4b8e74df946b46137138926bbed0",
        "aa56b1eb3cce3abf305c1612511148193e50bfc2fd74525848b3b81e99a795a4",
    ),
    (
        "consent.request",
        "c153c266b9af0ec2c7b11b67fbbe19930218e06ed1d8fd2b1ee8a1c8e5bc778b",
        "af1efd33d49e8fd6328aa887fe3ae128f1ef58b51c1a595e7ed31bc804f11ae0",
    ),
    (
        "consent.approve",
        "09c78c70df0b9ec376ddb59fdc6d55ae6b87b34f016ccdd4128ef3fef6b833e2",
        "4d96436534042162ff4902a7f666eaf34b454d54a81f0dd5de215921d7278e97",
    ),
    (
        "regulator.approve_code",
        "d82ffb91212aa39246817c514492fe1e72e135337a64e0e02cf8db36fd1917f6",
        "46dc42e9602b8d6b9c14e95bfce8d41a34dd9881efbd83b21f050c54d4a46877",
    ),
    (
        "sealed.loan_scoring",
        "d2899d614b7c1630d28b3ca24dbd3a591a362e05b97356dcaa8e2398e2c749a2",
        "71122bdbbf0d7c2b4f6f4f49d28c01cf0f78454b796cc9408210ef0747bbed54",
    ),
    (
        "sealed.claims",
        "74914c7f51349dbe3fd24fcf85f8ee88ab8139094db887800f652a7ca926db4a",
        "84e0ee4d745a8b8956737ff4972cdfb485a7fa5a42bf105f7df9cf5c101f5d15",
    ),
    (
        "governance.propose",
        "5a999a9101d1fd26d3afb9f1fcf8c7163d8060ed7a4a9d126f055e959fb2b3d3",
        "5c699b0b45a60df0856281f2b462c631ce8202a08f584366eaa46e52f00a1c60",
    ),
    (
        "governance.approve",
        "144da59013b0133faaa02cc7b582210b91702e5a6d6fe7f0d763593f1530f535",
        "5a3c3d6c8a23a84d8236293f746fd2a8b2b6eb386d6c05e93f3e0b12a0477f66",
    ),
    (
        "consent.pause_resume_revoke",
        "1a736e6a301049ce1e1fe242dbd958e1c57569c9580f30bc51f83381bd031894",
        "dc4e3dba58b9faa85d27d37a0b1bbf4cde6b1312bd023e21da26b6bf47e68b80",
    ),
    (
        "failures",
        "32c95e0af31874726e03ba16f7a14136dc8b2882aa20a59302c79fb70052fdd8",
        "103d48797be95b34162fa387c103941d89b31d9d70e0c4924a1a6fc30de2cdc7",
    ),
];

/// A contract for the VM's failure kinds; input byte 0 picks one: 0 traps (`unreachable`),
/// 1 hands `set_return` a buffer outside its memory (a host error), 2 loops until out of fuel.
const FAILURES: &str = r#"(module
 (import "civitas" "input_read" (func $input_read (param i32)))
 (import "civitas" "set_return" (func $set_return (param i32 i32)))
 (memory (export "memory") 1)
 (func (export "deploy"))
 (func (export "call")
  (local $mode i32)
  (call $input_read (i32.const 0))
  (local.set $mode (i32.load8_u (i32.const 0)))
  (if (i32.eq (local.get $mode) (i32.const 0)) (then unreachable))
  (if (i32.eq (local.get $mode) (i32.const 1))
    (then (call $set_return (i32.const 65500) (i32.const 100))))
  (if (i32.eq (local.get $mode) (i32.const 2)) (then (loop $l (br $l)))))
)"#;

fn key(name: &str) -> Keypair {
    Keypair::dev(name)
}

fn acct(name: &str) -> AccountId {
    key(name).account()
}

fn subject(name: &str) -> SubjectId {
    sha3_256(format!("subject-{name}").as_bytes())
}

/// A sealed call's declaration: `datasets` of `name`'s records.
fn declared(name: &str, datasets: &[&str]) -> Vec<civitas_primitives::vault::DeclaredRead> {
    datasets
        .iter()
        .map(|d| civitas_primitives::vault::DeclaredRead {
            subject: subject(name),
            dataset: d.to_string(),
        })
        .collect()
}

fn contract(name: &str) -> Vec<u8> {
    contract_wasm(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../contracts")
            .join(name),
    )
}

fn genesis() -> Genesis {
    let account = |name: &str, balance: u128, roles: &[&str]| GenesisAccount {
        name: name.into(),
        account: acct(name).to_hex(),
        balance,
        roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: GENESIS_TIME_MS,
        accounts: vec![
            account("tax", 1_000_000, &["validator", "custodian"]),
            account("civil", 1_000_000, &["validator", "custodian", "identity"]),
            account("land", 1_000_000, &["validator", "custodian"]),
            account("bank", 500_000, &["institution"]),
            account("insurer", 500_000, &["institution"]),
            account("reg", 0, &["regulator"]),
            account("alice", 1_000, &[]),
            account("bob", 1_000, &[]),
        ],
        upload_roles: vec!["institution".into()],
        instantiate_roles: vec!["institution".into()],
        governance_threshold: 2,
        sealed_committee: None,
        committee_key: None,
        record_reward: 10,
        fuel_price: 0,
        datasets: vec![GenesisDataset {
            id: loan_scoring::INCOME.into(),
            custodian: acct("tax").to_hex(),
            fields: vec![
                "year:u32".into(),
                "gross_income:u64".into(),
                "tax_paid:u64".into(),
            ],
            price: 7,
        }],
        access_key: Some(
            AccountId(civitas_primitives::crypto::x25519_public(
                &civitas_primitives::dev::dev_access_key(CHAIN),
            ))
            .to_hex(),
        ),
    }
}

/// The outcome a block's transaction must have: the scenario checks it does what it says
/// before the roots are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Ok,
    Fail(&'static str),
}

struct Chain {
    exec: Executor,
    head: Head,
    time_ms: u64,
    /// (label, state root, receipts root) per block, genesis first.
    roots: Vec<(String, String, String)>,
    _dir: tempfile::TempDir,
}

impl Chain {
    fn open() -> Chain {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("open store");
        let exec = Executor::new(
            store.clone(),
            Vm::new(VmConfig::default()).expect("vm"),
            ChainParams::new(CHAIN),
        )
        .with_vault(Vault::new(store, [42; 32]))
        .with_sealing_key([7; 32])
        .with_access_key(civitas_primitives::dev::dev_access_key(CHAIN));
        let head = exec.init_genesis(&genesis()).expect("genesis");
        let roots = vec![(
            "genesis".to_string(),
            head.state_root.to_hex(),
            String::new(),
        )];
        Chain {
            exec,
            head,
            time_ms: GENESIS_TIME_MS,
            roots,
            _dir: dir,
        }
    }

    fn nonce(&self, name: &str) -> u64 {
        let (_, view) = self.exec.head_view().expect("view");
        view.account(&acct(name)).expect("account").nonce
    }

    /// Signs `calls` in order (nonces follow on per signer) with the default fuel.
    fn txs(&self, calls: Vec<(&str, Call)>) -> Vec<SignedTransaction> {
        self.txs_with_fuel(calls.into_iter().map(|(s, c)| (s, c, FUEL)).collect())
    }

    fn txs_with_fuel(&self, calls: Vec<(&str, Call, u64)>) -> Vec<SignedTransaction> {
        let mut next = std::collections::BTreeMap::new();
        calls
            .into_iter()
            .map(|(signer, call, fuel_limit)| {
                let nonce = *next.entry(signer).or_insert_with(|| self.nonce(signer));
                next.insert(signer, nonce + 1);
                let k = key(signer);
                let access_key = civitas_primitives::crypto::x25519_public(
                    &civitas_primitives::dev::dev_access_key(CHAIN),
                );
                k.sign_tx_for_chain(
                    Transaction {
                        chain_id: CHAIN.into(),
                        signer: k.account(),
                        nonce,
                        fuel_limit,
                        call,
                    },
                    &access_key,
                )
                .expect("encrypts")
            })
            .collect()
    }

    /// Proposes and commits one block of `txs`; every transaction must be admitted and end as
    /// `expect` says. Records the block's roots under `label`.
    fn block(
        &mut self,
        label: &str,
        txs: Vec<SignedTransaction>,
        expect: &[Expect],
    ) -> Vec<Receipt> {
        self.time_ms += 1_000;
        let proposer = key("tax");
        let civitas_ledger::BlockProposal {
            executed,
            rejected,
            excluded,
        } = self
            .exec
            .propose(&self.head, self.time_ms, proposer.account(), txs)
            .expect("propose");
        assert!(rejected.is_empty(), "{label}: refused {rejected:?}");
        assert!(excluded.is_empty(), "{label}: excluded {excluded:?}");
        let header = executed.block.header.clone();
        let receipts = executed.receipts.clone();
        let outcomes: Vec<Expect> = receipts
            .iter()
            .map(|r| match (&r.status, &r.error) {
                (ReceiptStatus::Success, None) => Expect::Ok,
                (_, Some(e)) => Expect::Fail(leak(e.code.clone())),
                (ReceiptStatus::Failed, None) => Expect::Fail("failed without a code"),
            })
            .collect();
        assert_eq!(outcomes, expect, "{label}: outcomes");
        let hash = header.hash();
        let cert = CommitCertificate {
            height: header.height,
            round: 0,
            block_hash: hash,
            signatures: vec![(
                proposer.account(),
                proposer.sign_hash(&vote_message(CHAIN, header.height, 0, &hash)),
            )],
        };
        self.head = self.exec.commit(executed, cert).expect("commit");
        assert_eq!(self.head.state_root, header.state_root);
        self.roots.push((
            label.to_string(),
            header.state_root.to_hex(),
            header.receipts_root.to_hex(),
        ));
        receipts
    }

    /// Puts a record's payload in the vault and returns the custodian's commit of it.
    fn record(&self, custodian: &str, who: &str, dataset: &str, payload: Vec<u8>) -> Call {
        let k = key(custodian);
        let mut r = Record {
            subject: subject(who),
            dataset: dataset.into(),
            version: 1,
            salt: sha3_256(format!("salt/{who}/{dataset}").as_bytes()).0,
            payload,
            custodian: k.account(),
            signature: [0; 64],
        };
        r.signature = k.sign_hash(&r.hash());
        self.exec
            .vault()
            .expect("vault")
            .put_records(std::slice::from_ref(&r))
            .expect("vault put");
        Call::CommitRecord {
            subject: r.subject,
            record_hash: r.hash(),
            dataset: r.dataset,
            version: r.version,
            signature: r.signature,
        }
    }

    /// The result a committee member computes for a committed sealed call.
    fn sealed_result(&self, receipt: &Receipt) -> SealedResult {
        let height = self
            .exec
            .store()
            .tx_location(&receipt.tx_hash)
            .expect("read")
            .expect("committed")
            .height;
        let (_, stored) = self
            .exec
            .run_sealed_job(&receipt.tx_hash, height)
            .expect("runs")
            .expect("a sealed call");
        SealedResult::from_padded(&stored.padded).expect("decodes")
    }
}

/// Receipt codes are few and short; leaking them keeps [`Expect`] `Copy`.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn call(contract: AccountId, method: &str, args: impl Encode) -> Call {
    Call::Call {
        contract,
        input: message(method, args),
    }
}

fn instantiate(code: &[u8], salt: &[u8], args: Vec<u8>) -> Call {
    Call::Instantiate {
        code_hash: sha3_256(code),
        salt: salt.to_vec(),
        input: args,
    }
}

fn fields(spec: &[(&str, FieldType)]) -> Vec<Field> {
    spec.iter()
        .map(|(name, ty)| Field {
            name: (*name).into(),
            ty: *ty,
        })
        .collect()
}

fn consent(receipt: &Receipt) -> u64 {
    u64::from_le_bytes(receipt.output[..8].try_into().expect("consent id"))
}

/// Runs the whole scenario and returns its roots, genesis first.
fn run_scenario() -> Vec<(String, String, String)> {
    use Expect::{Fail, Ok};
    let mut chain = Chain::open();
    let codes: Vec<(&str, Vec<u8>)> = ["token", "coupons", "flipper", "loan-scoring", "claims"]
        .into_iter()
        .map(|name| (name, contract(name)))
        .collect();
    let code = |name: &str| -> Vec<u8> {
        codes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c.clone())
            .expect("built")
    };
    let failures = wat::parse_str(FAILURES).expect("wat");
    let addr = |owner: &str, code: &[u8], salt: &[u8]| {
        contract_address(&acct(owner), &sha3_256(code), salt)
    };
    let token = addr("bank", &code("token"), b"token");
    let coupons = addr("bank", &code("coupons"), b"coupons");
    let flipper = addr("bank", &code("flipper"), b"flipper");
    let loans = addr("bank", &code("loan-scoring"), b"loans");
    let claims_addr = addr("insurer", &code("claims"), b"claims");
    let faulty = addr("bank", &failures, b"failures");

    // Code.
    let txs = chain.txs(vec![
        (
            "bank",
            Call::UploadCode {
                code: code("token"),
            },
        ),
        (
            "bank",
            Call::UploadCode {
                code: code("coupons"),
            },
        ),
        (
            "bank",
            Call::UploadCode {
                code: code("flipper"),
            },
        ),
        (
            "bank",
            Call::UploadCode {
                code: code("loan-scoring"),
            },
        ),
        (
            "insurer",
            Call::UploadCode {
                code: code("claims"),
            },
        ),
        (
            "bank",
            Call::UploadCode {
                code: failures.clone(),
            },
        ),
    ]);
    chain.block("upload", txs, &[Ok; 6]);

    let loan_policy = loan_scoring::Policy {
        min_income: 30_000,
        income_multiple: 5,
        max_amount: 400_000,
        min_months_employed: 12,
        base_rate_bps: 450,
        property_discount_bps: 50,
    };
    let claims_policy = claims::Policy {
        covered_prefixes: vec!["S".into(), "I2".into()],
        deductible: 500,
        daily_allowance: 100,
        max_payout: 20_000,
    };
    let ctor = |args: Vec<u8>| {
        let mut input = civitas_primitives::selector("new").to_vec();
        input.extend(args);
        input
    };
    let txs = chain.txs(vec![
        (
            "bank",
            instantiate(
                &code("token"),
                b"token",
                ctor(("Credit".to_string(), "CRD".to_string(), 2u8, 10_000u128).encode()),
            ),
        ),
        (
            "bank",
            instantiate(&code("coupons"), b"coupons", ctor(vec![])),
        ),
        (
            "bank",
            instantiate(&code("flipper"), b"flipper", ctor(false.encode())),
        ),
        (
            "bank",
            instantiate(&code("loan-scoring"), b"loans", ctor(loan_policy.encode())),
        ),
        (
            "insurer",
            instantiate(&code("claims"), b"claims", ctor(claims_policy.encode())),
        ),
        ("bank", instantiate(&failures, b"failures", vec![])),
    ]);
    chain.block("instantiate", txs, &[Ok; 6]);

    // Token: a transfer, then one over the sender's balance that reverts.
    let txs = chain.txs(vec![
        ("bank", call(token, "transfer", (acct("alice"), 2_500u128))),
        ("alice", call(token, "transfer", (acct("bob"), 5_000u128))),
    ]);
    chain.block("token.transfer", txs, &[Ok, Fail("reverted")]);

    // Coupons: issue, then redeem by the holder.
    let txs = chain.txs(vec![(
        "bank",
        call(
            coupons,
            "issue",
            (
                acct("alice"),
                100u128,
                "food".to_string(),
                1_800_000_000_000u64,
            ),
        ),
    )]);
    let issued = chain.block("coupons.issue", txs, &[Ok]);
    assert_eq!(u64::decode(&mut &issued[0].output[..]), Result::Ok(1));
    let txs = chain.txs(vec![("alice", call(coupons, "redeem", (1u64,)))]);
    chain.block("coupons.redeem", txs, &[Ok]);

    let txs = chain.txs(vec![("bob", call(flipper, "flip", ()))]);
    chain.block("flipper.flip", txs, &[Ok]);

    // Identity binding and datasets (income comes from genesis).
    let txs = chain.txs(vec![
        (
            "civil",
            Call::BindIdentity {
                subject: subject("alice"),
                account: acct("alice"),
            },
        ),
        (
            "civil",
            Call::RegisterDataset {
                id: loan_scoring::EMPLOYMENT.into(),
                fields: fields(&[
                    ("employer", FieldType::Text),
                    ("employed", FieldType::Bool),
                    ("months_employed", FieldType::U32),
                    ("monthly_salary", FieldType::U64),
                ]),
                price: 5,
            },
        ),
        (
            "land",
            Call::RegisterDataset {
                id: loan_scoring::HOLDINGS.into(),
                fields: fields(&[
                    ("properties", FieldType::U32),
                    ("total_value", FieldType::U64),
                    ("mortgaged", FieldType::Bool),
                ]),
                price: 3,
            },
        ),
        (
            "land",
            Call::RegisterDataset {
                id: claims::DIAGNOSIS.into(),
                fields: fields(&[
                    ("diagnosis_code", FieldType::Text),
                    ("inpatient_days", FieldType::U32),
                    ("chronic", FieldType::Bool),
                ]),
                price: 4,
            },
        ),
        (
            "land",
            Call::RegisterDataset {
                id: claims::EXPENSES.into(),
                fields: fields(&[
                    ("claim_ref", FieldType::Text),
                    ("total", FieldType::U64),
                    ("publicly_covered", FieldType::U64),
                ]),
                price: 4,
            },
        ),
        (
            "civil",
            Call::RegisterDataset {
                id: claims::COVERAGE.into(),
                fields: fields(&[
                    ("insured", FieldType::Bool),
                    ("plan", FieldType::Text),
                    ("copay_percent", FieldType::U32),
                ]),
                price: 2,
            },
        ),
    ]);
    chain.block("identity.datasets", txs, &[Ok; 6]);

    // Alice's records, payloads in the vault, hashes on chain.
    let commits = vec![
        (
            "tax",
            chain.record(
                "tax",
                "alice",
                loan_scoring::INCOME,
                loan_scoring::Income {
                    year: 2025,
                    gross_income: 80_000,
                    tax_paid: 16_000,
                }
                .encode(),
            ),
        ),
        (
            "civil",
            chain.record(
                "civil",
                "alice",
                loan_scoring::EMPLOYMENT,
                loan_scoring::Employment {
                    employer: "ACME".into(),
                    employed: true,
                    months_employed: 36,
                    monthly_salary: 6_666,
                }
                .encode(),
            ),
        ),
        (
            "land",
            chain.record(
                "land",
                "alice",
                loan_scoring::HOLDINGS,
                loan_scoring::Holdings {
                    properties: 1,
                    total_value: 300_000,
                    mortgaged: false,
                }
                .encode(),
            ),
        ),
        (
            "land",
            chain.record(
                "land",
                "alice",
                claims::DIAGNOSIS,
                claims::Diagnosis {
                    diagnosis_code: "S82.1".into(),
                    inpatient_days: 4,
                    chronic: false,
                }
                .encode(),
            ),
        ),
        (
            "land",
            chain.record(
                "land",
                "alice",
                claims::EXPENSES,
                claims::Expenses {
                    claim_ref: "H-1".into(),
                    total: 9_000,
                    publicly_covered: 4_500,
                }
                .encode(),
            ),
        ),
        (
            "civil",
            chain.record(
                "civil",
                "alice",
                claims::COVERAGE,
                claims::Coverage {
                    insured: true,
                    plan: "basic".into(),
                    copay_percent: 20,
                }
                .encode(),
            ),
        ),
    ];
    let txs = chain.txs(commits);
    chain.block("records", txs, &[Ok; 6]);

    // Consent requests for each sealed contract's code, alice's approvals, the regulator's
    // approval of both codes.
    let expires_ms = GENESIS_TIME_MS + 30 * 86_400_000;
    let request = |datasets: &[&str], code: &[u8]| Call::RequestConsent {
        request: ConsentRequest {
            subject: subject("alice"),
            datasets: datasets.iter().map(|d| d.to_string()).collect(),
            purpose: "golden".into(),
            mode: ConsentMode::Compute,
            code_hash: Some(sha3_256(code)),
            expires_ms,
            max_uses: 3,
        },
    };
    let txs = chain.txs(vec![
        (
            "bank",
            request(
                &[
                    loan_scoring::INCOME,
                    loan_scoring::EMPLOYMENT,
                    loan_scoring::HOLDINGS,
                ],
                &code("loan-scoring"),
            ),
        ),
        (
            "insurer",
            request(
                &[claims::DIAGNOSIS, claims::EXPENSES, claims::COVERAGE],
                &code("claims"),
            ),
        ),
    ]);
    let requested = chain.block("consent.request", txs, &[Ok, Ok]);
    let (loan_consent, claims_consent) = (consent(&requested[0]), consent(&requested[1]));
    let txs = chain.txs(vec![
        (
            "alice",
            Call::Consent {
                id: loan_consent,
                action: ConsentAction::Approve,
            },
        ),
        (
            "alice",
            Call::Consent {
                id: claims_consent,
                action: ConsentAction::Approve,
            },
        ),
    ]);
    chain.block("consent.approve", txs, &[Ok, Ok]);
    let txs = chain.txs(vec![
        (
            "reg",
            Call::ApproveCode {
                code_hash: sha3_256(&code("loan-scoring")),
                approved: true,
            },
        ),
        (
            "reg",
            Call::ApproveCode {
                code_hash: sha3_256(&code("claims")),
                approved: true,
            },
        ),
    ]);
    chain.block("regulator.approve_code", txs, &[Ok, Ok]);

    // Sealed calls over the committed records.
    let txs = chain.txs(vec![(
        "bank",
        Call::SealedCall {
            contract: loans,
            input: message("score", (subject("alice"), 250_000u64)),
            reads: declared(
                "alice",
                &[
                    "tax.annual_income",
                    "social_security.employment",
                    "real_estate.holdings",
                ],
            ),
        },
    )]);
    let scored = chain.block("sealed.loan_scoring", txs, &[Ok]);
    let result = chain.sealed_result(&scored[0]);
    assert!(result.ok, "{result:?}");
    assert_eq!(
        loan_scoring::Offer::decode(&mut &result.output[..]),
        Result::Ok(loan_scoring::Offer {
            approved: true,
            amount: 250_000,
            rate_bps: 400,
        })
    );
    let txs = chain.txs(vec![(
        "insurer",
        Call::SealedCall {
            contract: claims_addr,
            input: message("assess", (subject("alice"),)),
            reads: declared(
                "alice",
                &[
                    "hospital.diagnosis",
                    "hospital.expenses",
                    "social_security.coverage",
                ],
            ),
        },
    )]);
    let assessed = chain.block("sealed.claims", txs, &[Ok]);
    let result = chain.sealed_result(&assessed[0]);
    assert!(result.ok, "{result:?}");
    assert_eq!(
        claims::Payout::decode(&mut &result.output[..]),
        Result::Ok(claims::Payout {
            decision: claims::Decision::Paid,
            amount: 3_500,
        })
    );

    // Governance: a proposal (the proposer's approval counts) and a second department's
    // approval make bob an institution.
    let txs = chain.txs(vec![(
        "tax",
        Call::Propose {
            action: GovernanceAction::GrantRole {
                account: acct("bob"),
                role: Role::Institution,
            },
        },
    )]);
    let proposed = chain.block("governance.propose", txs, &[Ok]);
    let proposal = u64::from_le_bytes(proposed[0].output[..8].try_into().expect("proposal id"));
    let txs = chain.txs(vec![("civil", Call::Approve { proposal })]);
    chain.block("governance.approve", txs, &[Ok]);
    let (_, view) = chain.exec.head_view().expect("view");
    assert!(view
        .account(&acct("bob"))
        .expect("bob")
        .roles
        .has(Role::Institution));

    // The rest of the consent lifecycle.
    let lifecycle = |action| {
        (
            "alice",
            Call::Consent {
                id: loan_consent,
                action,
            },
        )
    };
    let txs = chain.txs(vec![
        lifecycle(ConsentAction::Pause),
        lifecycle(ConsentAction::Resume),
        lifecycle(ConsentAction::Revoke),
    ]);
    chain.block("consent.pause_resume_revoke", txs, &[Ok; 3]);

    // One failing call of each kind.
    let txs = chain.txs_with_fuel(vec![
        ("bank", call_raw(faulty, vec![2]), 200_000),
        ("bank", call_raw(faulty, vec![0]), FUEL),
        ("alice", call(coupons, "redeem", (1u64,)), FUEL),
        ("bank", call_raw(faulty, vec![1]), FUEL),
        (
            "alice",
            Call::Transfer {
                to: acct("bob"),
                amount: 1_000_000,
            },
            FUEL,
        ),
    ]);
    chain.block(
        "failures",
        txs,
        &[
            Fail("out_of_fuel"),
            Fail("trap"),
            Fail("reverted"),
            Fail("memory_access.set_return"),
            Fail("insufficient_balance"),
        ],
    );
    chain.roots
}

fn call_raw(contract: AccountId, input: Vec<u8>) -> Call {
    Call::Call { contract, input }
}

fn table(roots: &[(String, String, String)]) -> String {
    let mut out = String::from("const GOLDEN: &[(&str, &str, &str)] = &[\n");
    for (label, state, receipts) in roots {
        out.push_str(&format!(
            "    (\n        \"{label}\",\n        \"{state}\",\n        \"{receipts}\",\n    ),\n"
        ));
    }
    out.push_str("];\n");
    out
}

#[test]
fn block_roots_match_the_pinned_consensus_output() {
    let actual = run_scenario();
    let mismatched: Vec<String> = (0..actual.len().max(GOLDEN.len()))
        .filter_map(|i| {
            let got = actual.get(i);
            let want = GOLDEN.get(i);
            let same = match (got, want) {
                (Some((l, s, r)), Some((wl, ws, wr))) => l == wl && s == ws && r == wr,
                _ => false,
            };
            (!same).then(|| {
                let label = got
                    .map(|g| g.0.as_str())
                    .or(want.map(|w| w.0))
                    .unwrap_or("?");
                format!("block {i} ({label})")
            })
        })
        .collect();
    assert!(
        mismatched.is_empty(),
        "consensus output changed at {}.\nIf the change is deliberate, replace GOLDEN in \
         tests/all/golden.rs with:\n{}",
        mismatched.join(", "),
        table(&actual)
    );
}

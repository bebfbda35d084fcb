//! The same sequence of calls on fresh VMs, with and without the pooling allocator, gives the
//! same bytes: outputs, storage changes, events and fuel. Sealed contracts are run over the
//! same records through a test [`SealedSource`].
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use civitas_primitives::Hash;
use civitas_runtime::{
    CallOutcome, SealedRead, SealedReadRequest, SealedSource, StateError, VmConfig,
};
use civitas_testkit::{account, contract_wasm, TestChain};
use parity_scale_codec::{Decode, Encode};

fn contract(name: &str) -> Vec<u8> {
    contract_wasm(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../contracts")
            .join(name),
    )
}

fn token_session(config: VmConfig) -> Vec<Result<CallOutcome, String>> {
    let code = contract("token");
    let mut chain = TestChain::with_config(config);
    let (bank, alice, bob) = (account("bank"), account("alice"), account("bob"));
    let addr = chain.deploy(
        bank,
        &code,
        "new",
        ("Credit".to_string(), "CRD".to_string(), 2u8, 10_000u128),
    );
    let mut results = Vec::new();
    let mut record = |r: Result<CallOutcome, civitas_runtime::CallError>| {
        results.push(r.map_err(|e| format!("{e} / fuel {}", e.fuel_used)));
    };
    record(chain.call(addr, bank, "transfer", (alice, 2_500u128)));
    record(chain.call(addr, alice, "approve", (bob, 1_000u128)));
    record(chain.call(addr, bob, "transfer_from", (alice, bob, 700u128)));
    record(chain.call(addr, bob, "transfer_from", (alice, bob, 700u128)));
    record(chain.call(addr, alice, "burn", (100u128,)));
    chain.advance(1_000);
    record(chain.call(addr, bank, "mint", (bob, 5u128)));
    results
}

#[test]
fn token_session_is_identical_on_fresh_vms() {
    let pooled = token_session(VmConfig::default());
    let on_demand = token_session(VmConfig {
        pooling_instances: None,
        ..VmConfig::default()
    });
    assert_eq!(pooled, on_demand);
    let again = token_session(VmConfig::default());
    assert_eq!(pooled, again);
    // The session exercised both successes and a revert.
    assert!(pooled[0].is_ok());
    assert!(
        pooled[3]
            .as_ref()
            .is_err_and(|e| e.contains("InsufficientAllowance")),
        "{:?}",
        pooled[3]
    );
}

#[test]
fn every_reference_contract_passes_the_chain_validator() {
    for name in ["flipper", "token", "coupons", "loan-scoring", "claims"] {
        let code = contract(name);
        let info =
            civitas_contract_build::check_bytes(&code).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(info.size < 64 * 1024, "{name} is {} bytes", info.size);
        assert!(!info.host_imports.is_empty());
    }
}

/// Records served to a sealed call from memory; every request is logged in order.
#[derive(Default)]
struct Records {
    records: BTreeMap<(Hash, String), Vec<u8>>,
    requests: Mutex<Vec<SealedReadRequest>>,
}

impl Records {
    fn put(&mut self, subject: Hash, dataset: &str, record: impl Encode) {
        self.records
            .insert((subject, dataset.to_string()), record.encode());
    }
}

impl SealedSource for Records {
    fn sealed_read(&self, request: &SealedReadRequest) -> Result<SealedRead, StateError> {
        self.requests
            .lock()
            .map_err(|_| StateError::Backend("request log poisoned".into()))?
            .push(request.clone());
        Ok(
            match self
                .records
                .get(&(request.subject, request.dataset.clone()))
            {
                Some(r) => SealedRead::Granted(r.clone()),
                None => SealedRead::Refused,
            },
        )
    }
}

/// What one sealed session produced: each call's result and the reads it made.
type SealedSession = Vec<(Result<CallOutcome, String>, Vec<SealedReadRequest>)>;

/// Deploys `name` with `ctor_args`, then runs `method` with each of `calls` as a sealed call
/// over a fresh copy of `records`.
fn sealed_session<A: Encode + Clone>(
    config: VmConfig,
    name: &str,
    ctor_args: A,
    method: &str,
    calls: &[(Hash, Option<u64>)],
    records: impl Fn() -> Records,
) -> SealedSession {
    let code = contract(name);
    let mut chain = TestChain::with_config(config);
    let bank = account("bank");
    let addr = chain.deploy(bank, &code, "new", ctor_args);
    calls
        .iter()
        .map(|(subject, requested)| {
            let source = Arc::new(records());
            let result = match requested {
                Some(r) => chain.sealed_call(addr, bank, method, (subject, *r), source.clone()),
                None => chain.sealed_call(addr, bank, method, (subject,), source.clone()),
            };
            let reads = source.requests.lock().expect("log").clone();
            (
                result.map_err(|e| format!("{e} / fuel {}", e.fuel_used)),
                reads,
            )
        })
        .collect()
}

fn assert_identical_on_fresh_vms(run: impl Fn(VmConfig) -> SealedSession) -> SealedSession {
    let pooled = run(VmConfig::default());
    let on_demand = run(VmConfig {
        pooling_instances: None,
        ..VmConfig::default()
    });
    assert_eq!(pooled, on_demand, "pooling and on-demand VMs must agree");
    assert_eq!(pooled, run(VmConfig::default()), "a second run must agree");
    pooled
}

fn loan_records() -> Records {
    use loan_scoring::{Employment, Holdings, Income, EMPLOYMENT, HOLDINGS, INCOME};
    let mut r = Records::default();
    for (i, (income, months, property)) in [
        (80_000u64, 36u32, true),
        (50_000, 6, false),
        (20_000, 40, true),
    ]
    .into_iter()
    .enumerate()
    {
        let who = Hash([i as u8 + 1; 32]);
        r.put(
            who,
            INCOME,
            Income {
                year: 2025,
                gross_income: income,
                tax_paid: income / 5,
            },
        );
        r.put(
            who,
            EMPLOYMENT,
            Employment {
                employer: "ACME".into(),
                employed: true,
                months_employed: months,
                monthly_salary: income / 12,
            },
        );
        if property {
            r.put(
                who,
                HOLDINGS,
                Holdings {
                    properties: 1,
                    total_value: 300_000,
                    mortgaged: false,
                },
            );
        }
    }
    // Subject 9 has an income record that does not decode.
    r.put(Hash([9; 32]), INCOME, 7u8);
    r
}

#[test]
fn loan_scoring_sealed_session_is_identical_on_fresh_vms() {
    use loan_scoring::{Offer, Policy};
    let policy = Policy {
        min_income: 30_000,
        income_multiple: 5,
        max_amount: 400_000,
        min_months_employed: 12,
        base_rate_bps: 450,
        property_discount_bps: 50,
    };
    let calls = [
        (Hash([1; 32]), Some(250_000)),
        (Hash([2; 32]), Some(10_000)),
        (Hash([3; 32]), Some(10_000)),
        (Hash([9; 32]), Some(1)),
        (Hash([8; 32]), Some(1)),
    ];
    let session = assert_identical_on_fresh_vms(|config| {
        sealed_session(
            config,
            "loan-scoring",
            (policy.clone(),),
            "score",
            &calls,
            loan_records,
        )
    });
    // The session covers an approval, two declines and two errors, over real reads.
    let offer = |i: usize| {
        let out = session[i].0.as_ref().expect("scored");
        assert!(out.fuel_used > 0);
        Offer::decode(&mut &out.output[..]).expect("an offer")
    };
    assert_eq!(
        offer(0),
        Offer {
            approved: true,
            amount: 250_000,
            rate_bps: 400
        }
    );
    assert!(!offer(1).approved && !offer(2).approved);
    assert_eq!(session[0].1.len(), 3, "income, employment, holdings read");
    let err = |i: usize| session[i].0.as_ref().expect_err("refused").clone();
    assert!(err(3).contains("BadRecord"), "{}", err(3));
    assert!(err(4).contains("DataUnavailable"), "{}", err(4));
}

fn claims_records() -> Records {
    use claims::{Coverage, Diagnosis, Expenses, COVERAGE, DIAGNOSIS, EXPENSES};
    let mut r = Records::default();
    for (i, (code, total, insured)) in [
        ("S82.1", 9_000u64, true),
        ("K35", 4_000, true),
        ("S82.1", 9_000, false),
    ]
    .into_iter()
    .enumerate()
    {
        let who = Hash([i as u8 + 1; 32]);
        r.put(
            who,
            DIAGNOSIS,
            Diagnosis {
                diagnosis_code: code.into(),
                inpatient_days: 4,
                chronic: false,
            },
        );
        r.put(
            who,
            EXPENSES,
            Expenses {
                claim_ref: format!("H-{i}"),
                total,
                publicly_covered: total / 2,
            },
        );
        r.put(
            who,
            COVERAGE,
            Coverage {
                insured,
                plan: "basic".into(),
                copay_percent: 20,
            },
        );
    }
    r
}

#[test]
fn claims_sealed_session_is_identical_on_fresh_vms() {
    use claims::{Decision, Payout, Policy};
    let policy = Policy {
        covered_prefixes: vec!["S".into(), "I2".into()],
        deductible: 500,
        daily_allowance: 100,
        max_payout: 20_000,
    };
    let calls = [
        (Hash([1; 32]), None),
        (Hash([2; 32]), None),
        (Hash([3; 32]), None),
        (Hash([8; 32]), None),
    ];
    let session = assert_identical_on_fresh_vms(|config| {
        sealed_session(
            config,
            "claims",
            (policy.clone(),),
            "assess",
            &calls,
            claims_records,
        )
    });
    let payout = |i: usize| {
        let out = session[i].0.as_ref().expect("assessed");
        assert!(out.fuel_used > 0);
        Payout::decode(&mut &out.output[..]).expect("a payout")
    };
    // Own share 9 000 - 4 500 = 4 500, less 20 % co-pay (900) and the deductible (500), plus
    // 4 days × 100: 3 500.
    assert_eq!(
        payout(0),
        Payout {
            decision: Decision::Paid,
            amount: 3_500
        }
    );
    assert_eq!(payout(1).decision, Decision::NotCovered);
    assert_eq!(payout(2).decision, Decision::NotInsured);
    assert_eq!(session[0].1.len(), 3, "diagnosis, expenses, coverage read");
    let err = session[3].0.as_ref().expect_err("no records");
    assert!(err.contains("DataUnavailable"), "{err}");
}

//! The same sequence of calls on fresh VMs, with and without the pooling allocator, gives the
//! same bytes: outputs, storage changes, events and fuel.
use std::path::Path;

use civitas_runtime::{CallOutcome, VmConfig};
use civitas_testkit::{account, contract_wasm, TestChain};

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
    for name in ["flipper", "token", "coupons"] {
        let code = contract(name);
        let info =
            civitas_contract_build::check_bytes(&code).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(info.size < 64 * 1024, "{name} is {} bytes", info.size);
        assert!(!info.host_imports.is_empty());
    }
}

//! The token built to wasm and run in the real VM.
use civitas_testkit::{account, contract_wasm, events, revert_message, TestChain};
use token::{Approval, Transfer};

fn setup() -> (TestChain, civitas_sdk::AccountId) {
    let code = contract_wasm(env!("CARGO_MANIFEST_DIR"));
    let mut chain = TestChain::new();
    let addr = chain.deploy(
        account("bank"),
        &code,
        "new",
        ("Credit".to_string(), "CRD".to_string(), 6u8, 1_000_000u128),
    );
    (chain, addr)
}

#[test]
fn transfers_and_allowances_in_the_vm() {
    let (mut chain, addr) = setup();
    let (bank, alice, bob) = (account("bank"), account("alice"), account("bob"));
    let out = chain
        .call(addr, bank, "transfer", (alice, 400_000u128))
        .expect("transfer");
    assert_eq!(
        events::<Transfer>(&out, "Transfer"),
        vec![Transfer {
            from: Some(bank),
            to: Some(alice),
            value: 400_000
        }]
    );
    assert_eq!(
        chain
            .query::<_, u128>(addr, "balance_of", (alice,))
            .unwrap(),
        400_000
    );
    assert_eq!(
        chain.query::<_, u128>(addr, "balance_of", (bank,)).unwrap(),
        600_000
    );

    let out = chain
        .call(addr, alice, "approve", (bob, 1_000u128))
        .expect("approve");
    assert_eq!(events::<Approval>(&out, "Approval")[0].value, 1_000);
    chain
        .call(addr, bob, "transfer_from", (alice, bob, 600u128))
        .expect("delegated");
    assert_eq!(
        chain
            .query::<_, u128>(addr, "allowance", (alice, bob))
            .unwrap(),
        400
    );
    let err = chain
        .call(addr, bob, "transfer_from", (alice, bob, 401u128))
        .expect_err("over allowance");
    assert_eq!(
        revert_message(&err).as_deref(),
        Some("InsufficientAllowance")
    );
    assert_eq!(
        chain.query::<_, u128>(addr, "balance_of", (bob,)).unwrap(),
        600
    );
}

#[test]
fn a_failed_transfer_changes_nothing_but_costs_fuel() {
    let (mut chain, addr) = setup();
    let before = chain.state().clone();
    let err = chain
        .call(
            addr,
            account("nobody"),
            "transfer",
            (account("alice"), 1u128),
        )
        .expect_err("no balance");
    assert_eq!(revert_message(&err).as_deref(), Some("InsufficientBalance"));
    assert!(err.fuel_used > 0);
    assert_eq!(format!("{:?}", chain.state()), format!("{before:?}"));
}

#[test]
fn bad_arguments_revert_with_a_clear_message() {
    let (mut chain, addr) = setup();
    let err = chain
        .call(addr, account("bank"), "transfer", (7u8,))
        .expect_err("bad args");
    assert_eq!(
        revert_message(&err).as_deref(),
        Some("arguments do not decode")
    );
}

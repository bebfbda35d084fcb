//! The token built to wasm and run in the real VM.
use civitas_testkit::{account, contract_wasm, events, message, revert_message, TestChain};
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

/// A relay contract. Given `p` ‖ inner relay (32) ‖ query length (1) ‖ query ‖ inner input,
/// it calls the inner relay with the inner input, then calls the token (whose address starts
/// the inner input's payload) with the query, and returns both call statuses, the inner
/// relay's result and the query's output. Given `x` or `c` ‖ token (32) ‖ message, it calls
/// the token with the message; `x` then reverts, `c` returns; either way with the status byte.
const RELAY: &str = r#"(module
    (import "civitas" "input_len" (func $input_len (result i32)))
    (import "civitas" "input_read" (func $input_read (param i32)))
    (import "civitas" "set_return" (func $ret (param i32 i32)))
    (import "civitas" "revert" (func $revert (param i32 i32)))
    (import "civitas" "call_contract" (func $call (param i32 i32 i32) (result i32)))
    (import "civitas" "result_len" (func $rlen (result i32)))
    (import "civitas" "result_read" (func $rread (param i32)))
    (memory (export "memory") 1)
    (func (export "deploy"))
    (func (export "call")
        (local $off i32)
        (local $len i32)
        (local.set $len (call $input_len))
        (call $input_read (i32.const 0))
        (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 112))
          (then
            (local.set $off (i32.add (i32.const 34) (i32.load8_u (i32.const 33))))
            (i32.store8 (i32.const 2000)
                (call $call (i32.const 1) (local.get $off) (i32.sub (local.get $len) (local.get $off))))
            (call $rread (i32.const 2001))
            (i32.store8 (i32.const 2002)
                (call $call (i32.add (local.get $off) (i32.const 1)) (i32.const 34) (i32.load8_u (i32.const 33))))
            (call $rread (i32.const 2003))
            (call $ret (i32.const 2000) (i32.add (i32.const 3) (call $rlen)))
            (return)))
        (i32.store8 (i32.const 2000)
            (call $call (i32.const 1) (i32.const 33) (i32.sub (local.get $len) (i32.const 33))))
        (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 120))
          (then (call $revert (i32.const 2000) (i32.const 1))))
        (call $ret (i32.const 2000) (i32.const 1))))"#;

/// Runs a transfer of 300 from a relay holding 1 000 inside a relay call that reverts (`x`)
/// or returns (`c`); returns (statuses and balance seen by the later query in the same
/// transaction, the transaction's storage changes to the token, the relay's balance after).
fn transfer_inside_a_relay(mode: u8) -> (Vec<u8>, usize, u128) {
    let (mut chain, token) = setup();
    let code = wat::parse_str(RELAY).expect("relay WAT parses");
    let hash = chain.upload(&code).expect("relay accepted");
    let bank = account("bank");
    let outer = chain
        .instantiate(bank, hash, "new", (), b"outer")
        .expect("outer relay");
    let inner = chain
        .instantiate(bank, hash, "new", (), b"inner")
        .expect("inner relay");
    chain
        .call(token, bank, "transfer", (inner, 1_000u128))
        .expect("fund the inner relay");

    let query = message("balance_of", (inner,));
    let mut input = vec![b'p'];
    input.extend_from_slice(&inner.0);
    input.push(u8::try_from(query.len()).expect("short query"));
    input.extend_from_slice(&query);
    input.push(mode);
    input.extend_from_slice(&token.0);
    input.extend_from_slice(&message("transfer", (account("alice"), 300u128)));
    let out = chain
        .call_raw(outer, bank, input)
        .expect("the outer relay returns");
    let token_changes = out
        .storage_changes
        .iter()
        .filter(|c| c.contract == token)
        .count();
    let after = chain
        .query::<_, u128>(token, "balance_of", (inner,))
        .expect("balance");
    (out.output, token_changes, after)
}

#[test]
fn a_transfer_inside_a_reverted_call_is_undone_for_later_calls() {
    // Control: when the relay returns, the later query in the same transaction sees the
    // transfer, and it is committed.
    let (seen, changes, after) = transfer_inside_a_relay(b'c');
    let mut expected = vec![0, 0, 0];
    expected.extend_from_slice(&700u128.to_le_bytes());
    assert_eq!(seen, expected, "statuses OK, OK, OK and balance 700");
    assert_eq!(changes, 2, "both balances written");
    assert_eq!(after, 700);

    // The transfer itself succeeds (inner status OK) but the relay that made it reverts.
    let (seen, changes, after) = transfer_inside_a_relay(b'x');
    let mut expected = vec![1, 0, 0];
    expected.extend_from_slice(&1_000u128.to_le_bytes());
    assert_eq!(
        seen, expected,
        "statuses REVERTED, OK, OK and balance 1 000"
    );
    assert_eq!(changes, 0, "nothing of the transfer reaches the ledger");
    assert_eq!(after, 1_000);
}

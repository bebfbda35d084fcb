//! The host ABI through real modules: storage, events, return and revert, nested calls,
//! re-entrancy, read-only calls, fuel charged by bytes.
use civitas_primitives::abi::call_status;
use civitas_runtime::{HostError, VmError};

use crate::common::*;

const IMPORTS: &str = r#"
    (import "civitas" "input_len" (func $input_len (result i32)))
    (import "civitas" "input_read" (func $input_read (param i32)))
    (import "civitas" "set_return" (func $ret (param i32 i32)))
    (import "civitas" "revert" (func $revert (param i32 i32)))
    (import "civitas" "storage_read" (func $sget (param i32 i32 i32 i32) (result i32)))
    (import "civitas" "storage_write" (func $sset (param i32 i32 i32 i32)))
    (import "civitas" "emit_event" (func $emit (param i32 i32 i32 i32)))
    (import "civitas" "call_contract" (func $call (param i32 i32 i32) (result i32)))
    (import "civitas" "result_len" (func $rlen (result i32)))
    (import "civitas" "result_read" (func $rread (param i32)))
    (import "civitas" "block_height" (func $height (result i64)))
    (import "civitas" "caller" (func $caller (param i32)))
    (import "civitas" "sealed_read" (func $sealed (param i32 i32 i32) (result i32)))
"#;

/// Copies input to 0x100, writes it to storage key "k" (at 0x0) and returns it.
const ECHO_STORE: &str = r#"
    (i32.store8 (i32.const 0) (i32.const 107))
    (call $input_read (i32.const 256))
    (call $sset (i32.const 0) (i32.const 1) (i32.const 256) (call $input_len))
    (call $emit (i32.const 0) (i32.const 1) (i32.const 256) (call $input_len))
    (call $ret (i32.const 256) (call $input_len))
"#;

#[test]
fn storage_events_and_output_come_back_from_a_call() {
    let mut chain = Chain::new();
    let (addr, _) = chain.deploy(&contract(IMPORTS, "", ECHO_STORE), 1);
    let out = chain.call(addr, b"hello").expect("call succeeds");
    assert_eq!(out.output, b"hello");
    assert_eq!(out.storage_changes.len(), 1);
    assert_eq!(out.storage_changes[0].key, b"k");
    assert_eq!(out.storage_changes[0].value.as_deref(), Some(&b"hello"[..]));
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].topic, b"k");
    assert_eq!(out.events[0].data, b"hello");
    assert!(out.fuel_used > 0);
}

#[test]
fn storage_read_returns_length_and_absent_marker() {
    let mut chain = Chain::new();
    let (addr, _) = chain.deploy(&contract(IMPORTS, "", ECHO_STORE), 1);
    chain.call(addr, b"stored value").expect("write");
    // Reader: returns the i32 result of storage_read for key "k" with cap 4, then the bytes.
    let reader = contract(
        IMPORTS,
        "",
        r#"(i32.store8 (i32.const 0) (i32.const 107))
           (i32.store (i32.const 16) (call $sget (i32.const 0) (i32.const 1) (i32.const 20) (i32.const 4)))
           (i32.store (i32.const 24) (call $sget (i32.const 1) (i32.const 1) (i32.const 28) (i32.const 4)))
           (call $ret (i32.const 16) (i32.const 12))"#,
    );
    // Same address space: put the reader's code at the writer's address to read its storage.
    let info = chain.vm.prepare(&reader).expect("reader accepted");
    chain
        .state
        .put_code(info.code_hash, std::sync::Arc::from(reader.as_slice()));
    chain.state.put_contract(addr, info.code_hash);
    let out = chain.call(addr, b"").expect("read");
    assert_eq!(i32::from_le_bytes(out.output[0..4].try_into().unwrap()), 12);
    assert_eq!(&out.output[4..8], b"stor", "copies at most cap bytes");
    assert_eq!(
        i32::from_le_bytes(out.output[8..12].try_into().unwrap()),
        -1,
        "absent key"
    );
}

#[test]
fn revert_undoes_writes_and_carries_the_message() {
    let mut chain = Chain::new();
    let body = format!("{ECHO_STORE} (call $revert (i32.const 256) (call $input_len))");
    let (addr, _) = chain.deploy(&contract(IMPORTS, "", &body), 1);
    let err = chain
        .call(addr, b"insufficient balance")
        .expect_err("reverts");
    assert_eq!(
        err.error,
        VmError::Reverted {
            message: b"insufficient balance".to_vec()
        }
    );
    assert_eq!(
        err.error.to_string(),
        "contract reverted: insufficient balance"
    );
    assert!(err.fuel_used > 0);
}

#[test]
fn a_write_before_a_revert_is_invisible_to_later_calls() {
    // Control: the same write without the failure is seen by the later read.
    let kept = probe_undo(b'c', Some(b"orig"));
    assert_eq!(kept.status, call_status::OK);
    assert_eq!(kept.seen.as_deref(), Some(&b"leak"[..]));
    assert_eq!(kept.changes_to_victim.len(), 1);

    let reverted = probe_undo(b'r', Some(b"orig"));
    assert_eq!(reverted.status, call_status::REVERTED);
    assert_eq!(
        reverted.seen.as_deref(),
        Some(&b"orig"[..]),
        "the committed value shows through again"
    );
    assert_eq!(
        reverted.changes_to_victim,
        vec![],
        "nothing reaches the ledger"
    );

    let fresh = probe_undo(b'r', None);
    assert_eq!(fresh.status, call_status::REVERTED);
    assert_eq!(
        fresh.seen, None,
        "a key first written by the reverted call is absent"
    );
    assert_eq!(fresh.changes_to_victim, vec![]);
}

#[test]
fn read_only_calls_cannot_write_or_emit() {
    let mut chain = Chain::new();
    let (addr, _) = chain.deploy(&contract(IMPORTS, "", ECHO_STORE), 1);
    let err = chain
        .call_with(addr, b"x", FUEL, true)
        .expect_err("read-only");
    assert_eq!(
        err.error,
        VmError::Host(HostError::ReadOnly {
            function: "storage_write"
        })
    );
}

#[test]
fn storage_writes_charge_fuel_by_bytes() {
    let mut chain = Chain::new();
    let (addr, _) = chain.deploy(&contract(IMPORTS, "", ECHO_STORE), 1);
    let small = chain.call(addr, &[1u8; 10]).expect("small").fuel_used;
    let large = chain.call(addr, &[1u8; 1010]).expect("large").fuel_used;
    let costs = chain.vm.config().costs.clone();
    // 1000 more bytes: copied in (input_read), out to storage (read + per-byte write cost),
    // into the event (read + per-byte event cost) and the return value (read).
    let per_byte = 4 * costs.per_byte + costs.storage_write.per_byte + costs.event.per_byte;
    assert_eq!(large - small, 1000 * per_byte);
}

#[test]
fn sealed_read_is_reserved_and_traps() {
    let mut chain = Chain::new();
    let (addr, _) = chain.deploy(
        &contract(
            IMPORTS,
            "",
            "(drop (call $sealed (i32.const 0) (i32.const 0) (i32.const 4)))",
        ),
        1,
    );
    let err = chain.call(addr, b"").expect_err("not enabled");
    assert_eq!(err.error, VmError::Host(HostError::SealedReadUnavailable));
}

/// A caller contract: input = 32-byte callee address followed by the callee's input. Stores
/// "c" = status, returns status byte + result buffer.
const FORWARDER: &str = r#"
    (local $status i32)
    (call $input_read (i32.const 256))
    (local.set $status (call $call (i32.const 256) (i32.const 288) (i32.sub (call $input_len) (i32.const 32))))
    (i32.store8 (i32.const 0) (i32.const 99))
    (i32.store8 (i32.const 1) (local.get $status))
    (call $sset (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 1))
    (call $rread (i32.const 2))
    (call $ret (i32.const 1) (i32.add (i32.const 1) (call $rlen)))
"#;

#[test]
fn nested_call_returns_callee_output_and_keeps_its_writes() {
    let mut chain = Chain::new();
    let (callee, _) = chain.deploy(&contract(IMPORTS, "", ECHO_STORE), 1);
    let (caller, _) = chain.deploy(&contract(IMPORTS, "", FORWARDER), 2);
    let mut input = callee.0.to_vec();
    input.extend_from_slice(b"ping");
    let out = chain.call(caller, &input).expect("nested call");
    assert_eq!(out.output[0] as i32, call_status::OK);
    assert_eq!(&out.output[1..], b"ping");
    let touched: Vec<_> = out.storage_changes.iter().map(|c| c.contract).collect();
    assert!(touched.contains(&callee) && touched.contains(&caller));
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].contract, callee);
}

#[test]
fn reverted_nested_call_is_undone_but_the_caller_continues() {
    let mut chain = Chain::new();
    let body = format!("{ECHO_STORE} (call $revert (i32.const 256) (call $input_len))");
    let (callee, _) = chain.deploy(&contract(IMPORTS, "", &body), 1);
    let (caller, _) = chain.deploy(&contract(IMPORTS, "", FORWARDER), 2);
    let mut input = callee.0.to_vec();
    input.extend_from_slice(b"no");
    let out = chain.call(caller, &input).expect("caller survives");
    assert_eq!(out.output[0] as i32, call_status::REVERTED);
    assert_eq!(&out.output[1..], b"no");
    assert!(
        out.storage_changes.iter().all(|c| c.contract == caller),
        "callee writes undone"
    );
    assert!(out.events.is_empty(), "callee events undone");
}

#[test]
fn re_entrancy_is_refused_unless_the_callee_opts_in() {
    let mut chain = Chain::new();
    // A contract that calls the address given as input with that same address as input:
    // calling it with its own address re-enters it.
    let recurse = r#"
        (call $input_read (i32.const 256))
        (drop (call $call (i32.const 256) (i32.const 256) (i32.const 32)))"#;
    let (plain, _) = chain.deploy(&contract(IMPORTS, "", recurse), 1);
    let err = chain.call(plain, &plain.0).expect_err("re-entry refused");
    assert_eq!(
        err.error,
        VmError::Host(HostError::Reentrancy { contract: plain })
    );

    let opted_in = contract(IMPORTS, r#"(func (export "civitas_reentrant"))"#, recurse);
    let (reentrant, _) = chain.deploy(&opted_in, 2);
    // It re-enters until the depth limit stops the innermost attempt; that attempt fails
    // inside its caller (which ignores the status), so the outer call succeeds after
    // `max_call_depth` call_contract charges.
    let out = chain
        .call(reentrant, &reentrant.0)
        .expect("re-entry allowed");
    let max = chain.vm.config().limits.max_call_depth as u64;
    assert!(
        out.fuel_used >= max * chain.vm.config().costs.call.base,
        "{}",
        out.fuel_used
    );
}

#[test]
fn calling_a_missing_contract_is_a_typed_error() {
    let mut chain = Chain::new();
    let (caller, _) = chain.deploy(&contract(IMPORTS, "", FORWARDER), 2);
    let mut input = [0x77u8; 32].to_vec();
    input.extend_from_slice(b"x");
    let err = chain.call(caller, &input).expect_err("no callee");
    assert!(matches!(
        err.error,
        VmError::Host(HostError::ContractNotFound(_))
    ));
}

#[test]
fn block_context_and_caller_are_visible() {
    let mut chain = Chain::new();
    let body = r#"
        (i64.store (i32.const 0) (call $height))
        (call $caller (i32.const 8))
        (call $ret (i32.const 0) (i32.const 40))"#;
    let (addr, _) = chain.deploy(&contract(IMPORTS, "", body), 1);
    let out = chain.call(addr, b"").expect("call");
    assert_eq!(u64::from_le_bytes(out.output[..8].try_into().unwrap()), 7);
    assert_eq!(&out.output[8..], &ALICE.0);
}

/// One call of each host function in the list below, with the bytes each reads from memory.
const EVERY_CLASS: &str = r#"
    (import "civitas" "input_len" (func $input_len (result i32)))
    (import "civitas" "block_height" (func $height (result i64)))
    (import "civitas" "set_return" (func $ret (param i32 i32)))
    (import "civitas" "sha3_256" (func $sha3 (param i32 i32 i32)))
    (import "civitas" "storage_read" (func $sget (param i32 i32 i32 i32) (result i32)))
    (import "civitas" "storage_write" (func $sset (param i32 i32 i32 i32)))
    (import "civitas" "storage_remove" (func $sdel (param i32 i32)))
    (import "civitas" "emit_event" (func $emit (param i32 i32 i32 i32)))
    (import "civitas" "ed25519_verify" (func $verify (param i32 i32 i32 i32) (result i32)))
"#;
const EVERY_CLASS_BODY: &str = r#"
    (drop (call $input_len))
    (drop (call $height))
    (call $sha3 (i32.const 0) (i32.const 10) (i32.const 64))
    (drop (call $sget (i32.const 0) (i32.const 1) (i32.const 128) (i32.const 0)))
    (call $sset (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 4))
    (call $sdel (i32.const 1) (i32.const 1))
    (call $emit (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 4))
    (drop (call $verify (i32.const 0) (i32.const 0) (i32.const 10) (i32.const 0)))
    (call $ret (i32.const 0) (i32.const 4))
"#;
/// (function, bytes it reads from the contract's memory) for each call of [`EVERY_CLASS_BODY`].
const EVERY_CLASS_CALLS: &[(&str, u64)] = &[
    ("input_len", 0),
    ("block_height", 0),
    ("sha3_256", 10),
    ("storage_read", 1),
    ("storage_write", 5),
    ("storage_remove", 1),
    ("emit_event", 5),
    ("ed25519_verify", 32 + 10 + 64),
    ("set_return", 4),
];

fn every_class_fuel(costs: civitas_runtime::vm::FuelCosts) -> u64 {
    let mut chain = Chain::with_config(civitas_runtime::VmConfig {
        costs,
        ..Default::default()
    });
    let (addr, _) = chain.deploy(&contract(EVERY_CLASS, "", EVERY_CLASS_BODY), 1);
    chain.call(addr, b"").expect("call").fuel_used
}

/// Each host call is charged the base and per-byte cost of the class its entry in the ABI
/// table declares: raising one class's costs raises the fuel by exactly the calls (and bytes
/// read) of the functions the table puts in that class.
#[test]
fn every_host_call_is_charged_by_its_abi_cost_class() {
    use civitas_primitives::abi::{host_fn, CostClass};
    use civitas_runtime::vm::{ClassCost, FuelCosts};
    let base = every_class_fuel(FuelCosts::default());
    let classes = [
        CostClass::Context,
        CostClass::StorageRead,
        CostClass::StorageWrite,
        CostClass::StorageRemove,
        CostClass::Event,
        CostClass::Hash,
        CostClass::Signature,
    ];
    for class in classes {
        let mut costs = FuelCosts::default();
        let slot: &mut ClassCost = match class {
            CostClass::Context => &mut costs.context,
            CostClass::StorageRead => &mut costs.storage_read,
            CostClass::StorageWrite => &mut costs.storage_write,
            CostClass::StorageRemove => &mut costs.storage_remove,
            CostClass::Event => &mut costs.event,
            CostClass::Call => &mut costs.call,
            CostClass::Hash => &mut costs.hash,
            CostClass::Signature => &mut costs.signature,
            CostClass::Sealed => &mut costs.sealed,
        };
        slot.base += 1_000_000;
        slot.per_byte += 1_000;
        let in_class: Vec<_> = EVERY_CLASS_CALLS
            .iter()
            .filter(|(name, _)| host_fn(name).expect("declared").cost == class)
            .collect();
        assert!(!in_class.is_empty(), "{class:?} is exercised");
        let calls = in_class.len() as u64;
        let bytes: u64 = in_class.iter().map(|(_, b)| b).sum();
        assert_eq!(
            every_class_fuel(costs) - base,
            calls * 1_000_000 + bytes * 1_000,
            "{class:?}: {in_class:?}"
        );
    }
}

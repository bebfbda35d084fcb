//! Reused pooled instance slots: every call starts from the module's pristine image, whatever
//! the previous call in the same slot wrote to memory or globals, grew, or how it ended; fuel
//! does not depend on which slot, or which call before it, a call follows.
//!
//! A pool of one or two slots forces reuse: every call lands in a slot a previous call (of the
//! same module, or of another one with a different image) has just dirtied.
use civitas_runtime::{VmConfig, VmError};

use crate::common::*;

const IMPORTS: &str = r#"
    (import "civitas" "input_len" (func $input_len (result i32)))
    (import "civitas" "input_read" (func $input_read (param i32)))
    (import "civitas" "set_return" (func $ret (param i32 i32)))
    (import "civitas" "revert" (func $revert (param i32 i32)))
    (import "civitas" "call_contract" (func $call (param i32 i32 i32) (result i32)))
    (import "civitas" "result_read" (func $rread (param i32)))
"#;

/// A module with a data segment ("pristine" at 1024), a mutable global (7) and one page.
fn stateful(call_body: &str, extra: &str) -> Vec<u8> {
    wasm(&format!(
        r#"(module
            {IMPORTS}
            (memory (export "memory") 1)
            (global $g (mut i32) (i32.const 7))
            (data (i32.const 1024) "pristine")
            (func (export "deploy"))
            (func (export "call") {call_body})
            {extra}
        )"#
    ))
}

/// Writes what the instance looks like at entry to 2048..2066: the 8 bytes at 1024, the
/// global, `memory.size`, the byte at 40000 and, after growing by 40 pages (past the 1 MiB
/// the pool resets in place), the bytes at 70000 and 2_000_000.
const OBSERVE: &str = r#"
    (i64.store (i32.const 2048) (i64.load (i32.const 1024)))
    (i32.store (i32.const 2056) (global.get $g))
    (i32.store (i32.const 2060) (memory.size))
    (i32.store8 (i32.const 2064) (i32.load8_u (i32.const 40000)))
    (drop (memory.grow (i32.const 40)))
    (i32.store8 (i32.const 2065) (i32.load8_u (i32.const 70000)))
    (i32.store8 (i32.const 2066) (i32.load8_u (i32.const 2000000)))
"#;

/// Overwrites everything [`OBSERVE`] looks at.
const SCRIBBLE: &str = r#"
    (i64.store (i32.const 1024) (i64.const -1))
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.store8 (i32.const 40000) (i32.const 0xff))
    (i32.store8 (i32.const 70000) (i32.const 0xff))
    (i32.store8 (i32.const 2000000) (i32.const 0xff))
"#;

/// What [`OBSERVE`] reports on a pristine instance.
fn pristine_view() -> Vec<u8> {
    let mut v = b"pristine".to_vec();
    v.extend_from_slice(&7i32.to_le_bytes());
    v.extend_from_slice(&1i32.to_le_bytes());
    v.extend_from_slice(&[0, 0, 0]);
    v
}

/// Observes, scribbles, returns the observation.
fn observer() -> Vec<u8> {
    stateful(
        &format!("{OBSERVE} {SCRIBBLE} (call $ret (i32.const 2048) (i32.const 19))"),
        "",
    )
}

#[test]
fn a_call_after_calls_that_wrote_memory_and_globals_sees_the_pristine_image() {
    let mut chain = Chain::with_config(VmConfig {
        pooling_instances: Some(1),
        ..VmConfig::default()
    });
    let (watcher, _) = chain.deploy(&observer(), 1);
    // Another module with another image: taking the single slot replaces the image.
    let other = wasm(&format!(
        r#"(module {IMPORTS}
            (memory (export "memory") 1)
            (global $g (mut i32) (i32.const 99))
            (data (i32.const 1024) "otherimg")
            (func (export "deploy"))
            (func (export "call")
                (drop (memory.grow (i32.const 40)))
                {SCRIBBLE}))"#
    ));
    let (scribbler, _) = chain.deploy(&other, 2);
    let expected = pristine_view();
    let mut fuel = None;
    for round in 0..6 {
        let out = chain.call(watcher, b"").expect("observer runs");
        assert_eq!(
            out.output, expected,
            "round {round}: state leaked into the slot"
        );
        assert_eq!(*fuel.get_or_insert(out.fuel_used), out.fuel_used);
        if round % 2 == 1 {
            chain.call(scribbler, b"").expect("scribbler runs");
        }
    }
}

/// Input byte: `u` unreachable, `f` out of fuel, `s` stack overflow, `r` revert, `m` memory
/// growth past the limit, `d` division by zero; each after scribbling. Anything else:
/// observe, scribble, return.
fn failing_modes() -> Vec<u8> {
    let body = format!(
        r#"
        (local $mode i32)
        (call $input_read (i32.const 4096))
        (local.set $mode (i32.load8_u (i32.const 4096)))
        (if (i32.eq (local.get $mode) (i32.const 0x6f)) (then
            {OBSERVE} {SCRIBBLE}
            (call $ret (i32.const 2048) (i32.const 19))
            (return)))
        (drop (memory.grow (i32.const 40)))
        {SCRIBBLE}
        (if (i32.eq (local.get $mode) (i32.const 0x75)) (then unreachable))
        (if (i32.eq (local.get $mode) (i32.const 0x66)) (then (loop $l (br $l))))
        (if (i32.eq (local.get $mode) (i32.const 0x73)) (then (drop (call $rec (i64.const 0)))))
        (if (i32.eq (local.get $mode) (i32.const 0x72)) (then
            (call $revert (i32.const 1024) (i32.const 8))))
        (if (i32.eq (local.get $mode) (i32.const 0x6d)) (then
            (drop (memory.grow (i32.const 1024)))))
        (if (i32.eq (local.get $mode) (i32.const 0x64)) (then
            (drop (i32.div_u (i32.const 1) (i32.load8_u (i32.const 3000))))))
        "#
    );
    stateful(
        &body,
        "(func $rec (param i64) (result i64) (call $rec (i64.add (local.get 0) (i64.const 1))))",
    )
}

#[test]
fn a_trap_mid_call_neither_poisons_the_next_call_nor_leaks_its_slot() {
    // Two slots, 7 rounds of 6 failures: a slot kept by a failed call would exhaust the pool.
    let mut chain = Chain::with_config(VmConfig {
        pooling_instances: Some(2),
        ..VmConfig::default()
    });
    let (addr, _) = chain.deploy(&failing_modes(), 1);
    let first = chain.call(addr, b"o").expect("observe");
    assert_eq!(first.output, pristine_view());
    for round in 0..7 {
        for mode in *b"ufsrmd" {
            let err = chain
                .call_with(addr, &[mode], 1_000_000, false)
                .expect_err("this mode fails");
            let expected = match mode {
                b'u' | b'd' => matches!(err.error, VmError::Trap(_)),
                b'f' => err.error == VmError::OutOfFuel,
                b's' => err.error == VmError::StackOverflow,
                b'r' => {
                    matches!(&err.error, VmError::Reverted { message } if message == &[0xff; 8])
                }
                _ => matches!(err.error, VmError::MemoryLimit { .. }),
            };
            assert!(
                expected,
                "round {round} mode {}: {:?}",
                mode as char, err.error
            );
            let after = chain.call(addr, b"o").expect("the next call runs");
            assert_eq!(
                after, first,
                "round {round}: after mode {} the next call differs",
                mode as char
            );
        }
    }
}

/// A counter in memory (at 512, initially 3 from a data segment): loops that many times,
/// stores the count plus one, returns the count. A leaked memory makes every call loop longer.
fn memory_driven_work() -> Vec<u8> {
    wasm(&format!(
        r#"(module {IMPORTS}
            (memory (export "memory") 1)
            (data (i32.const 512) "\03")
            (func (export "deploy"))
            (func (export "call") (local $i i32) (local $n i32)
                (local.set $n (i32.load8_u (i32.const 512)))
                (loop $l
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
                (i32.store8 (i32.const 512) (i32.add (local.get $n) (i32.const 1)))
                (call $ret (i32.const 512) (i32.const 1))))"#
    ))
}

#[test]
fn fuel_and_output_are_identical_on_every_call_and_match_an_unpooled_vm() {
    let code = memory_driven_work();
    let mut unpooled = Chain::with_config(VmConfig {
        pooling_instances: None,
        ..VmConfig::default()
    });
    let (addr, _) = unpooled.deploy(&code, 1);
    let reference = unpooled.call(addr, b"").expect("unpooled call");
    // The data segment's count plus one: the loop ran from the pristine count.
    assert_eq!(reference.output, vec![4]);

    let mut pooled = Chain::with_config(VmConfig {
        pooling_instances: Some(1),
        ..VmConfig::default()
    });
    let (addr, _) = pooled.deploy(&code, 1);
    for call in 0..20 {
        let out = pooled.call(addr, b"").expect("pooled call");
        assert_eq!(
            out, reference,
            "call {call} differs from a fresh unpooled VM"
        );
    }
}

/// The callee of [`each_nested_call_gets_a_fresh_callee_instance`]: bumps the global and the
/// byte at 1024 and returns both (global as one byte).
fn bumping_callee() -> Vec<u8> {
    stateful(
        r#"
        (global.set $g (i32.add (global.get $g) (i32.const 1)))
        (i32.store8 (i32.const 1024) (i32.add (i32.load8_u (i32.const 1024)) (i32.const 1)))
        (i32.store8 (i32.const 1025) (global.get $g))
        (call $ret (i32.const 1024) (i32.const 2))
        "#,
        "",
    )
}

#[test]
fn each_nested_call_gets_a_fresh_callee_instance() {
    let mut chain = Chain::with_config(VmConfig {
        pooling_instances: Some(3),
        ..VmConfig::default()
    });
    let (callee, _) = chain.deploy(&bumping_callee(), 1);
    // Input: the callee's address. Calls it three times, returns the three 2-byte results.
    let caller = stateful(
        r#"
        (local $i i32)
        (call $input_read (i32.const 4096))
        (loop $l
            (drop (call $call (i32.const 4096) (i32.const 0) (i32.const 0)))
            (call $rread (i32.add (i32.const 8192) (i32.mul (local.get $i) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get $i) (i32.const 3))))
        (call $ret (i32.const 8192) (i32.const 6))
        "#,
        "",
    );
    let (caller, _) = chain.deploy(&caller, 2);
    // 'p' + 1 and the global 7 + 1, every time.
    let once = [b'p' + 1, 8];
    for round in 0..3 {
        let out = chain.call(caller, &callee.0).expect("nested calls");
        assert_eq!(out.output, once.repeat(3), "round {round}");
    }
}

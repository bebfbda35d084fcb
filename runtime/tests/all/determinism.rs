//! The same call on two fresh VMs gives the same bytes: output, storage changes, events, fuel.
use civitas_runtime::{Vm, VmConfig};

use crate::common::*;

const IMPORTS: &str = r#"
    (import "civitas" "input_len" (func $input_len (result i32)))
    (import "civitas" "input_read" (func $input_read (param i32)))
    (import "civitas" "set_return" (func $ret (param i32 i32)))
    (import "civitas" "storage_write" (func $sset (param i32 i32 i32 i32)))
    (import "civitas" "emit_event" (func $emit (param i32 i32 i32 i32)))
    (import "civitas" "sha3_256" (func $sha3 (param i32 i32 i32)))
"#;

/// Hashes the input 100 times, storing every intermediate digest under its index.
const WORK: &str = r#"
    (local $i i32)
    (call $input_read (i32.const 1024))
    (call $sha3 (i32.const 1024) (call $input_len) (i32.const 0))
    (loop $l
        (i32.store8 (i32.const 64) (local.get $i))
        (call $sset (i32.const 64) (i32.const 1) (i32.const 0) (i32.const 32))
        (call $sha3 (i32.const 0) (i32.const 32) (i32.const 0))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
    (call $emit (i32.const 64) (i32.const 1) (i32.const 0) (i32.const 32))
    (call $ret (i32.const 0) (i32.const 32))
"#;

#[test]
fn same_call_on_two_fresh_vms_is_identical() {
    let code = contract(IMPORTS, "", WORK);
    let run = |pooling: Option<u32>| {
        let mut chain = Chain::with_config(VmConfig {
            pooling_instances: pooling,
            ..VmConfig::default()
        });
        let (addr, _) = chain.deploy(&code, 9);
        chain.call(addr, b"determinism").expect("call")
    };
    let a = run(Some(8));
    let b = run(None);
    assert_eq!(a, b, "pooling and on-demand VMs must agree byte for byte");
    assert_eq!(a.storage_changes.len(), 100);
    assert!(a.fuel_used > 0);
    let c = run(Some(8));
    assert_eq!(a, c);
}

#[test]
fn cached_and_fresh_compilations_agree() {
    let code = contract(IMPORTS, "", WORK);
    let mut chain = Chain::new();
    let (addr, _) = chain.deploy(&code, 9);
    let first = chain.call(addr, b"x").expect("first");
    let second = chain.call(addr, b"x").expect("from cache");
    assert_eq!(first, second);
    // A new VM has to recompile from the stored bytes.
    chain.vm = Vm::new(VmConfig::default()).expect("vm");
    assert_eq!(chain.vm.cached_modules(), 0);
    let third = chain.call(addr, b"x").expect("recompiled from state");
    assert_eq!(first, third);
    assert_eq!(chain.vm.cached_modules(), 1);
}

/// Golden values for the WORK module: a change here means fuel metering or host costs changed,
/// which changes consensus output. Update them only with a deliberate, announced change.
#[test]
fn golden_fuel_and_output() {
    let code = contract(IMPORTS, "", WORK);
    let mut chain = Chain::new();
    let (addr, _) = chain.deploy(&code, 9);
    let out = chain.call(addr, b"golden").expect("call");
    let mut digest_input = out.output.clone();
    for c in &out.storage_changes {
        digest_input.extend_from_slice(&c.key);
        digest_input.extend_from_slice(c.value.as_deref().unwrap_or_default());
    }
    let digest = civitas_primitives::sha3_256(&digest_input).to_hex();
    assert_eq!((out.fuel_used, digest.as_str()), GOLDEN);
}

const GOLDEN: (u64, &str) = (
    589_263,
    "4159bee38373e9b96ee4a7acb233f8bc2a13db68e7b0e2881ed1af904118601f",
);

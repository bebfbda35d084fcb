//! Hostile and malformed modules: each is stopped with a typed error and leaves state as it was.
use civitas_runtime::{validate_module, HostError, ValidationError, ValidationLimits, VmError};

use crate::common::*;

fn rejected(code: &[u8]) -> ValidationError {
    validate_module(code, &ValidationLimits::default()).expect_err("module must be rejected")
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let mut chain = Chain::new();
    let (addr, _) = chain.deploy(&contract("", "", "(loop $l (br $l))"), 1);
    let err = chain
        .call_with(addr, b"", 1_000_000, false)
        .expect_err("must not finish");
    assert_eq!(err.error, VmError::OutOfFuel);
    assert_eq!(err.fuel_used, 1_000_000, "the whole budget is spent");
}

#[test]
fn memory_growth_past_the_limit_is_stopped() {
    let mut chain = Chain::new();
    // 1024 pages = 64 MiB against the 16 MiB default limit.
    let (addr, _) = chain.deploy(
        &contract("", "", "(drop (memory.grow (i32.const 1024)))"),
        1,
    );
    let err = chain.call(addr, b"").expect_err("must not grow");
    assert!(
        matches!(err.error, VmError::MemoryLimit { limit, .. } if limit == 16 * 1024 * 1024),
        "{:?}",
        err.error
    );
}

#[test]
fn memory_growth_in_small_steps_is_stopped_too() {
    let mut chain = Chain::new();
    let body = "(loop $l (drop (memory.grow (i32.const 1))) (br $l))";
    let (addr, _) = chain.deploy(&contract("", "", body), 1);
    let err = chain.call(addr, b"").expect_err("must not grow forever");
    assert!(
        matches!(err.error, VmError::MemoryLimit { .. }),
        "{:?}",
        err.error
    );
}

#[test]
fn unbounded_recursion_overflows_the_stack() {
    let mut chain = Chain::new();
    let extra =
        "(func $r (param i64) (result i64) (call $r (i64.add (local.get 0) (i64.const 1))))";
    let (addr, _) = chain.deploy(&contract("", extra, "(drop (call $r (i64.const 0)))"), 1);
    let err = chain.call(addr, b"").expect_err("must overflow");
    assert_eq!(err.error, VmError::StackOverflow);
}

#[test]
fn module_over_the_size_cap_is_rejected() {
    let limits = ValidationLimits::default();
    let big_data = format!(
        r#"(data (i32.const 0) "{}")"#,
        "\\00".repeat(limits.max_module_bytes)
    );
    let code = contract("", &big_data, "");
    match rejected(&code) {
        ValidationError::TooLarge { size, max } => {
            assert_eq!(max, limits.max_module_bytes);
            assert!(size > max);
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn float_instruction_is_rejected_with_its_name_and_function() {
    let extra = "(func $f (param i64) (result i64) (i64.reinterpret_f64 (f64.add (f64.const 1) (f64.const 2))))";
    let err = rejected(&contract("", extra, ""));
    assert_eq!(
        err,
        ValidationError::FloatInstruction {
            function: 2,
            op: "f64.const".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "function 2 uses f64.const: floats are not allowed"
    );
}

#[test]
fn float_types_in_locals_and_signatures_are_rejected() {
    let local = rejected(&contract("", "(func (local i32 f32))", ""));
    assert!(
        matches!(local, ValidationError::FloatType { ty: "f32", .. }),
        "{local}"
    );
    assert_eq!(
        local.to_string(),
        "function 2 local 1 has type f32: floats are not allowed"
    );
    let sig = rejected(&contract("", "(func (param f64))", ""));
    assert!(
        matches!(sig, ValidationError::FloatType { ty: "f64", .. }),
        "{sig}"
    );
}

#[test]
fn unknown_import_is_rejected() {
    let imports = r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#;
    let err = rejected(&contract(imports, "", ""));
    assert_eq!(
        err,
        ValidationError::ImportNotAllowed {
            module: "wasi_snapshot_preview1".into(),
            name: "fd_write".into()
        }
    );
    let unknown_host = rejected(&contract(
        r#"(import "civitas" "spawn_thread" (func))"#,
        "",
        "",
    ));
    assert!(matches!(
        unknown_host,
        ValidationError::ImportNotAllowed { .. }
    ));
}

#[test]
fn host_import_with_wrong_signature_is_rejected() {
    let err = rejected(&contract(
        r#"(import "civitas" "caller" (func (param i64)))"#,
        "",
        "",
    ));
    assert_eq!(
        err,
        ValidationError::ImportSignature {
            name: "caller".into(),
            expected: "(i32) -> ()".into(),
            found: "(i64) -> ()".into()
        }
    );
}

#[test]
fn compile_bomb_with_many_locals_is_rejected() {
    // One local declaration entry of 100 000 i64s: a few bytes on the wire, slow to compile.
    let bomb = wasm(&format!(
        r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call") (local {})))"#,
        "i64 ".repeat(100_000)
    ));
    match rejected(&bomb) {
        ValidationError::TooManyLocals {
            function,
            count,
            max,
        } => {
            assert_eq!(function, 1);
            assert_eq!(max, 1024);
            assert!(count > u64::from(max));
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn compile_bomb_with_a_huge_br_table_is_rejected() {
    let targets = "0 ".repeat(20_000);
    let body = format!("(block (br_table {targets} (i32.const 0)))");
    match rejected(&contract("", "", &body)) {
        ValidationError::BrTableTooLarge {
            targets,
            max,
            function,
        } => {
            assert_eq!(targets, 20_000);
            assert_eq!(max, 1024);
            assert_eq!(function, 1);
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn compile_bomb_with_a_huge_function_body_is_rejected() {
    let body = "(drop (i64.add (i64.const 1) (i64.const 2)))".repeat(30_000);
    assert!(matches!(
        rejected(&contract("", "", &body)),
        ValidationError::FunctionTooLarge { function: 1, .. }
    ));
}

#[test]
fn the_largest_accepted_function_compiles() {
    // Just under the body cap: accepted, and the compiler copes (its time is in `scripts/bench vm`).
    let body = "(drop (i64.add (i64.const 1) (i64.const 2)))".repeat(14_000);
    let code = contract("", "", &body);
    let chain = Chain::new();
    chain.vm.prepare(&code).expect("accepted and compiled");
}

#[test]
fn post_mvp_features_are_rejected() {
    let bulk = rejected(&contract(
        "",
        "",
        "(memory.copy (i32.const 0) (i32.const 1) (i32.const 1))",
    ));
    assert!(matches!(bulk, ValidationError::Invalid { .. }), "{bulk}");
    let sign_ext = rejected(&contract("", "", "(drop (i32.extend8_s (i32.const 1)))"));
    assert!(
        matches!(sign_ext, ValidationError::Invalid { .. }),
        "{sign_ext}"
    );
    let simd = rejected(&contract("", "", "(drop (v128.const i64x2 0 0))"));
    assert!(matches!(simd, ValidationError::Invalid { .. }), "{simd}");
}

#[test]
fn structural_rules_are_enforced() {
    assert_eq!(
        rejected(&contract("", "(func $s) (start $s)", "")),
        ValidationError::StartFunction
    );
    let no_call = wasm(r#"(module (memory (export "memory") 1) (func (export "deploy")))"#);
    assert!(matches!(
        rejected(&no_call),
        ValidationError::MissingExport { name: "call", .. }
    ));
    let bad_sig = wasm(
        r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call") (param i32)))"#,
    );
    assert!(matches!(
        rejected(&bad_sig),
        ValidationError::MissingExport { name: "call", .. }
    ));
    let big_mem = wasm(
        r#"(module (memory (export "memory") 1000) (func (export "deploy")) (func (export "call")))"#,
    );
    assert!(matches!(
        rejected(&big_mem),
        ValidationError::MemoryTooLarge { pages: 1000, .. }
    ));
    let big_table = contract("", "(table 100000 funcref)", "");
    assert!(matches!(
        rejected(&big_table),
        ValidationError::TableTooLarge { .. }
    ));
    assert!(matches!(
        rejected(b"\0asm\x0d\0\x01\0"),
        ValidationError::NotAModule | ValidationError::Invalid { .. }
    ));
    assert_eq!(rejected(b"not wasm"), ValidationError::NotWasm);
    let imported_memory = wasm(
        r#"(module (import "civitas" "memory" (memory 1)) (func (export "deploy")) (func (export "call")))"#,
    );
    assert!(matches!(
        rejected(&imported_memory),
        ValidationError::ImportKind { kind: "memory", .. }
    ));
}

#[test]
fn out_of_bounds_buffers_are_a_typed_host_error() {
    let mut chain = Chain::new();
    let imports = r#"(import "civitas" "set_return" (func $ret (param i32 i32)))"#;
    let (addr, _) = chain.deploy(
        &contract(imports, "", "(call $ret (i32.const 65500) (i32.const 100))"),
        1,
    );
    let err = chain.call(addr, b"").expect_err("out of bounds");
    assert_eq!(
        err.error,
        VmError::Host(HostError::MemoryAccess {
            function: "set_return",
            ptr: 65500,
            len: 100
        })
    );
}

#[test]
fn oversized_values_are_refused_before_copying() {
    let mut chain = Chain::new();
    let imports = r#"(import "civitas" "storage_write" (func $w (param i32 i32 i32 i32)))"#;
    let (addr, _) = chain.deploy(
        &contract(
            imports,
            "",
            "(call $w (i32.const 0) (i32.const 4) (i32.const 0) (i32.const -1))",
        ),
        1,
    );
    let err = chain.call(addr, b"").expect_err("too large");
    assert!(
        matches!(
            err.error,
            VmError::Host(HostError::TooLarge {
                what: "storage value",
                ..
            })
        ),
        "{:?}",
        err.error
    );
}

#[test]
fn a_write_before_a_host_error_or_trap_is_invisible_to_later_calls() {
    use civitas_primitives::abi::call_status;
    // Oversized value (a host error), `unreachable` and memory past the limit: each undoes the
    // write made just before it, back to the committed value or to absence.
    for mode in [b'o', b't', b'm'] {
        for prior in [Some(&b"orig"[..]), None] {
            let p = probe_undo(mode, prior);
            let what = (mode as char, prior);
            assert_eq!(p.status, call_status::TRAPPED, "{what:?}");
            assert_eq!(p.seen.as_deref(), prior, "{what:?}");
            assert_eq!(p.changes_to_victim, vec![], "{what:?}");
        }
    }
}

//! Every deploy-time cap and execution limit, at the cap (accepted) and one past it (refused
//! with its exact typed error). The caps are the ones README promises.
use civitas_primitives::abi::call_status;
use civitas_runtime::{
    validate_module, HostError, ValidationError, ValidationLimits, VmConfig, VmError,
};

use crate::common::*;

fn limits() -> ValidationLimits {
    ValidationLimits::default()
}

fn check(code: &[u8]) -> Result<(), ValidationError> {
    validate_module(code, &limits()).map(|_| ())
}

#[test]
fn the_defaults_are_the_caps_readme_promises() {
    let l = limits();
    assert_eq!(l.max_module_bytes, 512 * 1024);
    assert_eq!(l.max_functions, 4096);
    assert_eq!(l.max_locals_per_function, 1024);
    assert_eq!(l.max_function_body_bytes, 128 * 1024);
    assert_eq!(l.max_br_table_targets, 1024);
    assert_eq!(l.max_table_elements, 4096);
    assert_eq!(l.max_initial_memory_pages, 128);
    let vm = VmConfig::default();
    assert_eq!(vm.memory_limit, 16 * 1024 * 1024);
    assert_eq!(vm.limits.max_call_depth, 4);
}

/// Appends a custom section so that the module is exactly `total` bytes long.
fn padded_to(mut code: Vec<u8>, total: usize) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"pad";
    // Section: id 0, size (LEB), name length, name, payload. Try each size-field width.
    for size_width in 1..=5 {
        let overhead = 1 + size_width + 1 + name.len();
        let Some(payload) = total.checked_sub(code.len() + overhead) else {
            continue;
        };
        let mut size = Vec::new();
        leb(1 + name.len() + payload, &mut size);
        if size.len() == size_width {
            code.push(0);
            code.extend_from_slice(&size);
            code.push(name.len() as u8);
            code.extend_from_slice(name);
            code.resize(total, 0);
            return code;
        }
    }
    panic!("cannot pad to {total}");
}

#[test]
fn module_size_cap() {
    let max = limits().max_module_bytes;
    let base = contract("", "", "");
    let at = padded_to(base.clone(), max);
    assert_eq!(at.len(), max);
    check(&at).expect("a module of exactly the cap is accepted");
    let past = padded_to(base, max + 1);
    assert_eq!(
        check(&past),
        Err(ValidationError::TooLarge { size: max + 1, max })
    );
}

/// A module with `total` functions: `deploy`, `call` and `total - 2` empty ones.
fn with_functions(total: u32) -> Vec<u8> {
    contract("", &"(func)".repeat(total as usize - 2), "")
}

#[test]
fn function_count_cap() {
    let max = limits().max_functions;
    check(&with_functions(max)).expect("exactly the cap");
    assert_eq!(
        check(&with_functions(max + 1)),
        Err(ValidationError::TooManyFunctions {
            count: u64::from(max) + 1,
            max
        })
    );
    // Imported host functions count too.
    let imports = r#"(import "civitas" "input_len" (func (result i32)))"#;
    assert_eq!(
        check(&contract(imports, &"(func)".repeat(max as usize - 2), "")),
        Err(ValidationError::TooManyFunctions {
            count: u64::from(max) + 1,
            max
        })
    );
}

#[test]
fn locals_per_function_cap() {
    let max = limits().max_locals_per_function;
    let with_locals = |n: u32| contract("", "", &format!("(local {})", "i64 ".repeat(n as usize)));
    check(&with_locals(max)).expect("exactly the cap");
    assert_eq!(
        check(&with_locals(max + 1)),
        Err(ValidationError::TooManyLocals {
            function: 1,
            count: u64::from(max) + 1,
            max
        })
    );
    // Split over several declarations the count is the same.
    let split = contract(
        "",
        "",
        &format!("(local {}) (local {})", "i32 ".repeat(max as usize), "i64"),
    );
    assert!(matches!(
        check(&split),
        Err(ValidationError::TooManyLocals { function: 1, max: m, .. }) if m == max
    ));
}

#[test]
fn function_body_size_cap() {
    let max = limits().max_function_body_bytes;
    // The body of `call` is: one byte of local declarations (none), `nop`s, and `end`.
    let with_body = |size: usize| contract("", "", &"nop ".repeat(size - 2));
    check(&with_body(max)).expect("a body of exactly the cap is accepted");
    assert_eq!(
        check(&with_body(max + 1)),
        Err(ValidationError::FunctionTooLarge {
            function: 1,
            size: max + 1,
            max
        })
    );
}

#[test]
fn br_table_targets_cap() {
    let max = limits().max_br_table_targets;
    // `br_table` with n labels: n - 1 targets plus the default, counted together.
    let with_targets = |n: u32| {
        contract(
            "",
            "",
            &format!(
                "(block (br_table {} (i32.const 0)))",
                "0 ".repeat(n as usize)
            ),
        )
    };
    check(&with_targets(max)).expect("exactly the cap");
    assert_eq!(
        check(&with_targets(max + 1)),
        Err(ValidationError::BrTableTooLarge {
            function: 1,
            targets: max + 1,
            max
        })
    );
}

#[test]
fn table_elements_cap() {
    let max = limits().max_table_elements;
    check(&contract("", &format!("(table {max} funcref)"), "")).expect("exactly the cap");
    assert_eq!(
        check(&contract("", &format!("(table {} funcref)", max + 1), "")),
        Err(ValidationError::TableTooLarge {
            elements: max + 1,
            max
        })
    );
    // A declared maximum over the cap is refused even if the initial size is small.
    assert_eq!(
        check(&contract("", &format!("(table 1 {} funcref)", max + 1), "")),
        Err(ValidationError::TableTooLarge {
            elements: max + 1,
            max
        })
    );
}

fn with_initial_pages(pages: u64) -> Vec<u8> {
    wasm(&format!(
        r#"(module (memory (export "memory") {pages}) (func (export "deploy")) (func (export "call")))"#
    ))
}

#[test]
fn initial_memory_pages_cap() {
    let max = limits().max_initial_memory_pages;
    let at = with_initial_pages(max);
    check(&at).expect("exactly the cap");
    // It also instantiates and runs.
    let mut chain = Chain::new();
    let (addr, _) = chain.deploy(&at, 1);
    chain
        .call(addr, b"")
        .expect("runs with the largest initial memory");
    assert_eq!(
        check(&with_initial_pages(max + 1)),
        Err(ValidationError::MemoryTooLarge {
            pages: max + 1,
            max
        })
    );
}

#[test]
fn memory_limit_per_instance() {
    let limit = VmConfig::default().memory_limit;
    let page = 64 * 1024;
    let imports = r#"(import "civitas" "set_return" (func $ret (param i32 i32)))"#;
    // Grows from 1 page by `by` pages and returns memory.grow's result.
    let grow = |by: usize| {
        let body = format!(
            "(i32.store (i32.const 0) (memory.grow (i32.const {by}))) (call $ret (i32.const 0) (i32.const 4))"
        );
        let mut chain = Chain::new();
        let (addr, _) = chain.deploy(&contract(imports, "", &body), 1);
        chain.call(addr, b"")
    };
    let to_limit = limit / page - 1;
    let out = grow(to_limit).expect("growing to exactly the limit succeeds");
    assert_eq!(
        out.output,
        1i32.to_le_bytes(),
        "memory.grow returns the old size"
    );
    let err = grow(to_limit + 1).expect_err("one page past the limit");
    assert_eq!(
        err.error,
        VmError::MemoryLimit {
            requested: limit + page,
            limit
        }
    );
}

/// Input: a list of 32-byte addresses. Calls the first with the rest; returns the call's
/// status byte followed by its result buffer, or "leaf" when the list is empty.
const CHAIN_LINK: &str = r#"
    (call $input_read (i32.const 1024))
    (if (i32.eqz (call $input_len))
      (then
        (i32.store (i32.const 0) (i32.const 0x6661656c))
        (call $ret (i32.const 0) (i32.const 4))
        (return)))
    (i32.store8 (i32.const 0)
        (call $call (i32.const 1024) (i32.const 1056) (i32.sub (call $input_len) (i32.const 32))))
    (call $rread (i32.const 1))
    (call $ret (i32.const 0) (i32.add (i32.const 1) (call $rlen)))
"#;

#[test]
fn call_depth_cap() {
    let max = VmConfig::default().limits.max_call_depth;
    let mut chain = Chain::new();
    let code = contract(PROBE_IMPORTS, "", CHAIN_LINK);
    // Distinct contracts, so re-entrancy plays no part.
    let links: Vec<_> = (0..=max as u8)
        .map(|i| chain.deploy(&code, 10 + i).0)
        .collect();
    // The top-level call is depth 1; `path` lists the contracts it reaches, nested.
    let run = |chain: &mut Chain, depth: usize| {
        let input: Vec<u8> = links[1..depth].iter().flat_map(|a| a.0).collect();
        chain
            .call(links[0], &input)
            .expect("the top-level call returns")
    };
    let at = run(&mut chain, max);
    let mut expected = vec![call_status::OK as u8; max - 1];
    expected.extend_from_slice(b"leaf");
    assert_eq!(at.output, expected, "{max} nested levels all run");

    let past = run(&mut chain, max + 1);
    // Levels 1..max-1 return OK; the call made at depth `max` fails with the typed error, and
    // the contract at that depth traps, so its caller sees TRAPPED and, as the ABI says, an
    // empty result buffer: no VM text ever reaches a contract (it could differ between nodes).
    let mut expected = vec![call_status::OK as u8; max - 2];
    expected.push(call_status::TRAPPED as u8);
    assert_eq!(
        String::from_utf8_lossy(&past.output),
        String::from_utf8_lossy(&expected)
    );
}

#[test]
fn call_depth_error_is_typed_at_the_top_level_with_a_lower_cap() {
    // With a cap of 1 the top-level contract is the one refused, so the error reaches the
    // caller as a typed `CallError`.
    let mut config = VmConfig::default();
    config.limits.max_call_depth = 1;
    let mut chain = Chain::with_config(config);
    let code = contract(PROBE_IMPORTS, "", CHAIN_LINK);
    let (a, _) = chain.deploy(&code, 1);
    let (b, _) = chain.deploy(&code, 2);
    assert_eq!(chain.call(a, b"").expect("no nested call").output, b"leaf");
    let err = chain
        .call(a, &b.0)
        .expect_err("one nested call is past the cap");
    assert_eq!(err.error, VmError::Host(HostError::CallDepth { max: 1 }));
}

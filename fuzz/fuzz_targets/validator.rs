//! The deploy-time validator (`civitas_runtime::validate_module`, the chain's acceptance rule
//! for contract code) on arbitrary bytes and on `wasm-smith` modules shaped like contracts:
//! WebAssembly 1.0 without floats, importing only host functions of module `civitas` with
//! their ABI signatures, exporting `memory`, `deploy` and `call`.
//!
//! Properties: never a panic; the verdict is deterministic; an accepted module's info is
//! consistent (its code hash is the sha3 of its bytes, its size its length, each host import is
//! in the ABI table) and wasmparser accepts it under the chain's feature set; a generated
//! contract-shaped module is never refused as malformed, for floats, or for its imports or
//! exports, only (if at all) for a size cap.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Unstructured;
use civitas_primitives::abi::{host_fn, AbiType, HOST_FUNCTIONS, HOST_MODULE};
use civitas_primitives::sha3_256;
use civitas_runtime::validate::accepted_features;
use civitas_runtime::{validate_module, ValidationError, ValidationLimits};
use libfuzzer_sys::fuzz_target;

/// A module importing every host function, for wasm-smith's `available_imports`.
fn host_imports() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let ty = |t: &AbiType| match t {
            AbiType::I32 => "i32",
            AbiType::I64 => "i64",
        };
        let mut text = String::from("(module\n");
        for f in HOST_FUNCTIONS {
            let params: Vec<&str> = f.params.iter().map(ty).collect();
            let results: Vec<&str> = f.results.iter().map(ty).collect();
            text.push_str(&format!(
                "  (import \"{HOST_MODULE}\" \"{}\" (func (param {}) (result {})))\n",
                f.name,
                params.join(" "),
                results.join(" ")
            ));
        }
        text.push(')');
        wat::parse_str(&text).expect("the host import module parses")
    })
}

/// The exports every contract must have, for wasm-smith's `exports`.
fn contract_exports() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        wat::parse_str(
            r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call")))"#,
        )
        .expect("the export module parses")
    })
}

fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        available_imports: Some(host_imports().to_vec()),
        exports: Some(contract_exports().to_vec()),
        allow_floats: false,
        allow_start_export: false,
        bulk_memory_enabled: false,
        exceptions_enabled: false,
        extended_const_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        multi_value_enabled: false,
        reference_types_enabled: false,
        relaxed_simd_enabled: false,
        saturating_float_to_int_enabled: false,
        sign_extension_ops_enabled: false,
        simd_enabled: false,
        tail_call_enabled: false,
        threads_enabled: false,
        // The one memory is the exported `memory` that `exports` adds on top of these.
        max_memories: 0,
        max_tables: 1,
        max_memory32_bytes: 128 * 65536,
        max_imports: 64,
        ..wasm_smith::Config::default()
    }
}

fn check(bytes: &[u8], generated: bool) {
    let limits = ValidationLimits::default();
    let verdict = validate_module(bytes, &limits);
    assert_eq!(
        validate_module(bytes, &limits),
        verdict,
        "the verdict is deterministic"
    );
    match verdict {
        Ok(info) => {
            assert_eq!(info.code_hash, sha3_256(bytes));
            assert_eq!(info.size, bytes.len());
            assert!(info.functions as usize >= info.host_imports.len());
            for name in &info.host_imports {
                assert!(
                    host_fn(name).is_some(),
                    "accepted an import outside the ABI: {name}"
                );
            }
            wasmparser::Validator::new_with_features(accepted_features())
                .validate_all(bytes)
                .expect("an accepted module is valid WebAssembly 1.0");
        }
        Err(e) if generated => match e {
            ValidationError::Invalid { .. }
            | ValidationError::NotWasm
            | ValidationError::NotAModule
            | ValidationError::FloatInstruction { .. }
            | ValidationError::FloatType { .. }
            | ValidationError::ImportNotAllowed { .. }
            | ValidationError::ImportSignature { .. }
            | ValidationError::ImportKind { .. }
            | ValidationError::MissingExport { .. } => {
                panic!("a contract-shaped module was refused: {e}")
            }
            _ => {}
        },
        Err(_) => {}
    }
}

// The first byte picks the mode (seeds in corpus/validator/ start with it): 0, module bytes;
// 1, wasm-smith's randomness.
fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        check(bytes, false);
    } else if let Ok(module) =
        wasm_smith::Module::new(smith_config(), &mut Unstructured::new(bytes))
    {
        check(&module.to_bytes(), true);
    }
});

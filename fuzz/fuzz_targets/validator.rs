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

use arbitrary::Unstructured;
use civitas_fuzz::contract_smith_config;
use civitas_primitives::abi::host_fn;
use civitas_primitives::sha3_256;
use civitas_runtime::validate::accepted_features;
use civitas_runtime::{validate_module, ValidationError, ValidationLimits};
use libfuzzer_sys::fuzz_target;

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
        wasm_smith::Module::new(contract_smith_config(), &mut Unstructured::new(bytes))
    {
        check(&module.to_bytes(), true);
    }
});

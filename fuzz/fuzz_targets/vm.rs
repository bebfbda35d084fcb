//! Contract execution in the real VM (`civitas_runtime::Vm`, wasmtime) with the chain's memory,
//! stack, host and fuel limits (`VmConfig::default()`), against an in-memory state: modules
//! that pass the deploy-time validator, either `wasm-smith` modules shaped like contracts (the
//! `validator` target's configuration) or module bytes (the seeds hold hand-written contracts
//! that use storage, events, nested calls, hashing and sealed reads), run at `deploy` or
//! `call` with fuzzed input, fuel limit, read-only flag and plain or sealed execution.
//!
//! Properties: never a panic; a failure is a contract failure (a trap, out of fuel, a host
//! error, ...), never a node failure (`VmError::Internal`/`State`: a module the chain accepts
//! must not stop block execution); fuel used never exceeds the limit; a read-only call writes
//! and emits nothing; the same call gives the identical result (output, storage changes,
//! events, fuel, error) three times: on a pooling VM that compiles the module, on the same VM
//! again (cached module, a reused pool slot reset from the previous call), and on a fresh VM
//! with the on-demand allocator.
//!
//! Input layout: byte 0 flags (bit 0: wasm-smith randomness rather than module bytes; bit 1:
//! the `deploy` entry; bit 2: read only; bit 3: sealed call), bytes 1–2 the fuel limit
//! (`1_000 + 32 × u16`, at most ~2.1M: room for one sealed read, and a
//! run stays in the milliseconds), bytes 3–4 the
//! call input length, then the input, then the module bytes or wasm-smith's randomness.
#![no_main]

use std::sync::{Arc, OnceLock};

use arbitrary::Unstructured;
use civitas_fuzz::contract_smith_config;
use civitas_primitives::{sha3_256, AccountId};
use civitas_runtime::{
    BlockContext, CallError, CallOutcome, CallRequest, Entry, MemoryState, SealedRead,
    SealedReadRequest, SealedSource, StateBackend, StateError, Vm, VmConfig, VmError,
};
use libfuzzer_sys::fuzz_target;

/// The contract the top-level call runs.
const CONTRACT: AccountId = AccountId([0xc0; 32]);
/// A second instance of the same code at the zero address: a `call_contract` whose address is
/// read from untouched (zeroed) memory reaches it.
const ZERO: AccountId = AccountId([0; 32]);
const CALLER: AccountId = AccountId([0xa1; 32]);
const BLOCK: BlockContext = BlockContext {
    height: 7,
    time_ms: 1_764_000_000_000,
};

/// The chain's VM configuration with a small module cache (the cache changes cost only).
fn config(pooling: bool) -> VmConfig {
    let chain = VmConfig::default();
    VmConfig {
        pooling_instances: if pooling {
            chain.pooling_instances
        } else {
            None
        },
        cache_capacity: 16,
        ..chain
    }
}

/// The long-lived pooling VM (the chain keeps one per execution lane).
fn pooled() -> &'static Vm {
    static VM: OnceLock<Vm> = OnceLock::new();
    VM.get_or_init(|| Vm::new(config(true)).expect("the pooling VM builds"))
}

/// Answers sealed reads from the request alone, so every run sees the same records: granted
/// (a payload derived from the request) when the subject's first byte is even, else refused.
struct Records;

impl SealedSource for Records {
    fn sealed_read(&self, request: &SealedReadRequest) -> Result<SealedRead, StateError> {
        if request.subject.0[0].is_multiple_of(2) {
            let mut seed = request.subject.0.to_vec();
            seed.extend_from_slice(request.dataset.as_bytes());
            Ok(SealedRead::Granted(sha3_256(&seed).0.to_vec()))
        } else {
            Ok(SealedRead::Refused)
        }
    }
}

/// The code at both addresses, and a few entries under the keys zeroed memory spells.
fn state(code: &[u8], code_hash: civitas_primitives::Hash) -> Arc<dyn StateBackend> {
    let mut state = MemoryState::new();
    state.put_code(code_hash, Arc::from(code));
    for address in [CONTRACT, ZERO] {
        state.put_contract(address, code_hash);
        let changes: Vec<_> = [0usize, 1, 4, 32]
            .iter()
            .map(|&n| civitas_runtime::StorageChange {
                contract: address,
                key: vec![0; n],
                value: Some(vec![n as u8; n + 1]),
            })
            .collect();
        state.apply(&changes);
    }
    Arc::new(state)
}

fn run(
    vm: &Vm,
    backend: &Arc<dyn StateBackend>,
    sealed: bool,
    request: &CallRequest,
) -> Result<CallOutcome, CallError> {
    if sealed {
        vm.execute_sealed(backend.clone(), Arc::new(Records), BLOCK, request.clone())
    } else {
        vm.execute(backend.clone(), BLOCK, request.clone())
    }
}

fn check(code: &[u8], flags: u8, fuel_limit: u64, input: &[u8]) {
    let vm = pooled();
    // Only what the chain would deploy runs.
    let Ok(info) = vm.prepare(code) else {
        return;
    };
    let backend = state(code, info.code_hash);
    let read_only = flags & 4 != 0;
    let sealed = flags & 8 != 0;
    let request = CallRequest {
        code_hash: info.code_hash,
        contract: CONTRACT,
        caller: CALLER,
        input: input.to_vec(),
        fuel_limit,
        entry: if flags & 2 != 0 {
            Entry::Deploy
        } else {
            Entry::Call
        },
        read_only,
    };

    let first = run(vm, &backend, sealed, &request);
    // To turn a crash into a regression test: `CIVITAS_FUZZ_PRINT=1 cargo fuzz run vm CRASH`
    // prints the module (hex), the request and the first run's result.
    if std::env::var_os("CIVITAS_FUZZ_PRINT").is_some() {
        eprintln!(
            "module: {}\nrequest: {request:?} sealed: {sealed}\nresult: {first:?}",
            hex::encode(code)
        );
    }
    match &first {
        Ok(outcome) => {
            assert!(outcome.fuel_used <= fuel_limit, "fuel used past the limit");
            if read_only {
                assert!(
                    outcome.storage_changes.is_empty() && outcome.events.is_empty(),
                    "a read-only call wrote or emitted"
                );
            }
        }
        Err(e) => {
            assert!(e.fuel_used <= fuel_limit, "fuel used past the limit");
            assert!(
                !matches!(e.error, VmError::Internal(_) | VmError::State(_)),
                "an accepted module failed the node: {}",
                e.error
            );
        }
    }

    let again = run(vm, &backend, sealed, &request);
    assert_eq!(
        first, again,
        "a second run on the same pooling VM (cached module, reused slot) differs"
    );
    let fresh = Vm::new(config(false)).expect("the on-demand VM builds");
    let on_demand = run(&fresh, &backend, sealed, &request);
    assert_eq!(
        first, on_demand,
        "the pooling and the on-demand VM disagree"
    );
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let flags = data[0];
    let fuel_limit = 1_000 + 32 * u64::from(u16::from_le_bytes([data[1], data[2]]));
    let rest = &data[5..];
    let input_len = usize::from(u16::from_le_bytes([data[3], data[4]])).min(rest.len());
    let (input, module) = rest.split_at(input_len);
    if flags & 1 == 0 {
        check(module, flags, fuel_limit, input);
    } else if let Ok(m) =
        wasm_smith::Module::new(contract_smith_config(), &mut Unstructured::new(module))
    {
        check(&m.to_bytes(), flags, fuel_limit, input);
    }
});

//! `scripts/bench vm`: module compile time, instantiate-from-cache + tiny call latency, and the
//! same operations on bare wasmtime with the same module in the same run, reported as ratios.
//!
//! Bare wasmtime uses the same engine settings (fuel, pooling allocator, WebAssembly 1.0) but
//! none of our layers: no validation, no host state, no overlay, no limiter.
//!
//! Last, the fuel rate: how much fuel a tight loop burns per second in our VM, the figure the
//! chain's sealed fuel caps are calibrated against (README, "Block times").
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use civitas_primitives::AccountId;
use civitas_runtime::{BlockContext, CallRequest, Entry, MemoryState, Vm, VmConfig};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig, Store,
    WasmFeatures,
};

const TINY: &str = r#"(module
    (import "civitas" "input_len" (func $input_len (result i32)))
    (import "civitas" "set_return" (func $ret (param i32 i32)))
    (memory (export "memory") 1)
    (func (export "deploy"))
    (func (export "call") (drop (call $input_len)) (call $ret (i32.const 0) (i32.const 1))))"#;

/// Median time of `f` over `samples` samples of `iters` iterations each.
fn measure(samples: usize, iters: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..iters.min(100) {
        f();
    }
    let mut times: Vec<Duration> = (0..samples)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed() / iters
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn bare_engine(pooling: bool) -> Engine {
    let mut c = Config::new();
    c.consume_fuel(true)
        .wasm_features(WasmFeatures::all(), false)
        .wasm_features(WasmFeatures::WASM1.difference(WasmFeatures::GC_TYPES), true)
        .parallel_compilation(false);
    if pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_core_instances(64)
            .total_memories(64)
            .total_tables(64)
            .max_memory_size(16 << 20);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&c).expect("engine")
}

fn fmt(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns >= 1_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else if ns >= 1_000 {
        format!("{:.2} µs", ns as f64 / 1e3)
    } else {
        format!("{ns} ns")
    }
}

fn row(name: &str, ours: Duration, bare: Duration) {
    println!(
        "{name:<44} civitas {:>10}   bare wasmtime {:>10}   ratio {:.2}x",
        fmt(ours),
        fmt(bare),
        ours.as_secs_f64() / bare.as_secs_f64()
    );
}

fn contract_module() -> (String, Vec<u8>) {
    let path = std::env::var("CIVITAS_BENCH_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/civitas/token.wasm")
        });
    match std::fs::read(&path) {
        Ok(code) => (path.display().to_string(), code),
        Err(_) => (
            "tiny WAT module (build contracts for a real one)".into(),
            wat::parse_str(TINY).expect("wat"),
        ),
    }
}

fn main() {
    let tiny = wat::parse_str(TINY).expect("wat");
    let (contract_name, contract) = contract_module();
    println!("scripts/bench vm  (median of samples; one core; lower is better)\n");

    // Compile: validation + compilation + InstancePre vs bare Module::new.
    let vm = Vm::new(VmConfig::default()).expect("vm");
    let bare = bare_engine(true);
    for (label, code) in [("tiny module", &tiny), (contract_name.as_str(), &contract)] {
        let ours = measure(7, 5, || {
            black_box(vm.prepare(code).expect("prepare"));
        });
        let theirs = measure(7, 5, || {
            black_box(Module::new(&bare, code).expect("compile"));
        });
        row(
            &format!("compile {} ({} B)", short(label), code.len()),
            ours,
            theirs,
        );
    }

    // Worst case the validator accepts: one function at the body-size cap.
    let body = "(drop (i64.add (i64.const 1) (i64.const 2)))".repeat(14_000);
    let big = wat::parse_str(format!(
        r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call") {body}))"#
    ))
    .expect("wat");
    let ours = measure(3, 1, || {
        black_box(vm.prepare(&big).expect("prepare"));
    });
    let theirs = measure(3, 1, || {
        black_box(Module::new(&bare, &big).expect("compile"));
    });
    row(
        &format!("compile largest accepted body ({} B)", big.len()),
        ours,
        theirs,
    );

    // Instantiate from cache + tiny call.
    let info = vm.prepare(&tiny).expect("prepare");
    let mut state = MemoryState::new();
    let addr = AccountId([1; 32]);
    state.put_code(info.code_hash, Arc::from(tiny.as_slice()));
    state.put_contract(addr, info.code_hash);
    let backend: Arc<dyn civitas_runtime::StateBackend> = Arc::new(state);
    let request = CallRequest {
        code_hash: info.code_hash,
        contract: addr,
        caller: AccountId([2; 32]),
        input: vec![0; 8],
        fuel_limit: 1_000_000,
        entry: Entry::Call,
        read_only: false,
    };
    let ours = measure(21, 2_000, || {
        black_box(
            vm.execute(backend.clone(), BlockContext::default(), request.clone())
                .expect("call"),
        );
    });
    for pooling in [true, false] {
        let engine = bare_engine(pooling);
        let module = Module::new(&engine, &tiny).expect("compile");
        let mut linker: Linker<()> = Linker::new(&engine);
        linker
            .func_wrap("civitas", "input_len", || 8i32)
            .expect("link");
        linker
            .func_wrap("civitas", "set_return", |_: i32, _: i32| {})
            .expect("link");
        let pre = linker.instantiate_pre(&module).expect("pre");
        let theirs = measure(21, 2_000, || {
            let mut store = Store::new(&engine, ());
            store.set_fuel(1_000_000).expect("fuel");
            let instance = pre.instantiate(&mut store).expect("instantiate");
            let f = instance
                .get_typed_func::<(), ()>(&mut store, "call")
                .expect("export");
            f.call(&mut store, ()).expect("call");
        });
        let label = if pooling { "pooling" } else { "on-demand" };
        row(
            &format!("instantiate from cache + tiny call (bare {label})"),
            ours,
            theirs,
        );
    }
    println!();
    fuel_rate();
}

/// A loop of four instructions per iteration that never ends: it runs until its fuel is gone.
const SPIN: &str = r#"(module
    (memory (export "memory") 1)
    (func (export "deploy"))
    (func (export "call") (local $i i32)
        (loop $l
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l))))"#;

/// A slower loop: a division and a load and store per iteration, striding over 8 MiB so
/// most accesses miss the cache (more time per unit of fuel than [`SPIN`]).
const STRIDE: &str = r#"(module
    (memory (export "memory") 128 128)
    (func (export "deploy"))
    (func (export "call") (local $i i32) (local $a i32)
        (loop $l
            (local.set $a (i32.and (i32.mul (local.get $i) (i32.const 4099)) (i32.const 0x7ffff8)))
            (i64.store (local.get $a)
                (i64.div_u (i64.add (i64.load (local.get $a)) (i64.const 7919)) (i64.const 3)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $l))))"#;

/// Fuel per second of the two loops through the VM (a fresh instance per call, as in a
/// block).
fn fuel_rate() {
    for (label, wat) in [
        ("a tight loop", SPIN),
        ("a cache-missing division loop", STRIDE),
    ] {
        fuel_rate_of(label, wat);
    }
}

fn fuel_rate_of(label: &str, wat: &str) {
    let vm = Vm::new(VmConfig::default()).expect("vm");
    let spin = wat::parse_str(wat).expect("wat");
    let info = vm.prepare(&spin).expect("prepare");
    let mut state = MemoryState::new();
    let addr = AccountId([3; 32]);
    state.put_code(info.code_hash, Arc::from(spin.as_slice()));
    state.put_contract(addr, info.code_hash);
    let backend: Arc<dyn civitas_runtime::StateBackend> = Arc::new(state);
    let fuel = 200_000_000;
    let request = CallRequest {
        code_hash: info.code_hash,
        contract: addr,
        caller: AccountId([2; 32]),
        input: Vec::new(),
        fuel_limit: fuel,
        entry: Entry::Call,
        read_only: true,
    };
    let run = measure(7, 1, || {
        let out = vm.execute(backend.clone(), BlockContext::default(), request.clone());
        assert!(out.is_err(), "the loop ends only when its fuel runs out");
    });
    let per_second = fuel as f64 / run.as_secs_f64();
    println!(
        "fuel rate: {label} burns {fuel} fuel in {} = {:.0} million fuel per second",
        fmt(run),
        per_second / 1e6
    );
}

fn short(label: &str) -> String {
    label.rsplit('/').next().unwrap_or(label).to_string()
}

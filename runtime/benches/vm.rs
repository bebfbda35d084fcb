//! `scripts/bench vm`: module compile time, instantiate-from-cache + call latency (a tiny
//! module, and an empty call on the token contract), and the same operations on bare wasmtime
//! with the same module in the same run, reported as ratios.
//!
//! "Bare tuned" is wasmtime configured exactly as our VM configures it
//! ([`civitas_runtime::vm_engine_config`]: fuel, WebAssembly 1.0, the pooling allocator with
//! copy-on-write images reset in place) but with none of our layers: no validation, no host
//! state, no overlay, no limiter, stub imports. "Bare default pooling" and "bare on-demand" are
//! wasmtime's own defaults for reference.
//!
//! Last, the fuel rate: how much fuel a tight loop burns per second in our VM, the figure the
//! chain's sealed fuel caps are calibrated against (README, "Block times").
//!
//! Every figure is printed twice: a line for people, then one JSON line per number
//! (`{"bench":"vm","name":…,"value":…,"unit":…,"bound":…}`) for comparisons across commits.
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use civitas_primitives::AccountId;
use civitas_runtime::{BlockContext, CallRequest, Entry, MemoryState, Vm, VmConfig};
use wasmtime::{
    Caller, Config, Engine, Extern, InstanceAllocationStrategy, Linker, Module,
    PoolingAllocationConfig, Store, WasmFeatures,
};

const TINY: &str = r#"(module
    (import "civitas" "input_len" (func $input_len (result i32)))
    (import "civitas" "set_return" (func $ret (param i32 i32)))
    (memory (export "memory") 1)
    (func (export "deploy"))
    (func (export "call") (drop (call $input_len)) (call $ret (i32.const 0) (i32.const 1))))"#;

/// Issue 13's bound on an empty call on the token contract (fresh store, instance from the
/// module cache, call), in µs.
const TOKEN_EMPTY_CALL_BOUND_US: f64 = 3.0;
/// Issue 13's bound on that call against bare tuned wasmtime doing the same on the same module.
const TOKEN_EMPTY_CALL_RATIO_BOUND: f64 = 1.5;

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

/// The bare wasmtime engines compared against.
#[derive(Clone, Copy)]
enum Bare {
    /// Our VM's engine configuration.
    Tuned,
    /// Fuel and WebAssembly 1.0 as ours, wasmtime's default pooling allocator settings.
    DefaultPooling,
    /// Fuel and WebAssembly 1.0 as ours, on-demand allocation.
    OnDemand,
}

impl Bare {
    fn label(self) -> &'static str {
        match self {
            Bare::Tuned => "bare tuned",
            Bare::DefaultPooling => "bare default pooling",
            Bare::OnDemand => "bare on-demand",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Bare::Tuned => "bare_tuned",
            Bare::DefaultPooling => "bare_default_pooling",
            Bare::OnDemand => "bare_on_demand",
        }
    }

    fn engine(self) -> Engine {
        if let Bare::Tuned = self {
            return Engine::new(&civitas_runtime::vm_engine_config(&VmConfig::default()))
                .expect("engine");
        }
        let mut c = Config::new();
        c.consume_fuel(true)
            .wasm_features(WasmFeatures::all(), false)
            .wasm_features(WasmFeatures::WASM1.difference(WasmFeatures::GC_TYPES), true)
            .parallel_compilation(false);
        if let Bare::DefaultPooling = self {
            let mut pool = PoolingAllocationConfig::new();
            pool.total_core_instances(64)
                .total_memories(64)
                .total_tables(64)
                .max_memory_size(16 << 20);
            c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        Engine::new(&c).expect("engine")
    }
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

/// One JSON line: `bound` is `None` where the figure has none.
fn figure(name: &str, value: f64, unit: &str, bound: Option<f64>) {
    let bound = bound.map_or_else(|| "null".to_string(), |b| b.to_string());
    println!(
        r#"{{"bench":"vm","name":"{name}","value":{value:.3},"unit":"{unit}","bound":{bound}}}"#
    );
}

/// A comparison: the line for people, then `<slug>_<bare>_us` and `<slug>_vs_<bare>_ratio` as
/// JSON (`ratio_bound` on the ratio). Our own figure, `<slug>_us`, is printed once per slug by
/// [`ours`].
fn row(
    label: &str,
    slug: &str,
    ours: Duration,
    bare: Bare,
    theirs: Duration,
    ratio_bound: Option<f64>,
) {
    let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
    println!(
        "{label:<44} civitas {:>10}   {} {:>10}   ratio {ratio:.2}x",
        fmt(ours),
        bare.label(),
        fmt(theirs),
    );
    figure(
        &format!("{slug}_{}_us", bare.slug()),
        micros(theirs),
        "us",
        None,
    );
    figure(
        &format!("{slug}_vs_{}_ratio", bare.slug()),
        ratio,
        "x",
        ratio_bound,
    );
}

/// Our figure `<slug>_us`, with its bound if it has one.
fn ours(slug: &str, ours: Duration, bound: Option<f64>) {
    figure(&format!("{slug}_us"), micros(ours), "us", bound);
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
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

/// Deploys `code` into a fresh in-memory state for `vm` and returns the state and a call
/// request for it with `input`.
fn deployed(
    vm: &Vm,
    code: &[u8],
    input: Vec<u8>,
) -> (Arc<dyn civitas_runtime::StateBackend>, CallRequest) {
    let info = vm.prepare(code).expect("prepare");
    let mut state = MemoryState::new();
    let addr = AccountId([1; 32]);
    state.put_code(info.code_hash, Arc::from(code));
    state.put_contract(addr, info.code_hash);
    let request = CallRequest {
        code_hash: info.code_hash,
        contract: addr,
        caller: AccountId([2; 32]),
        input,
        fuel_limit: 1_000_000,
        entry: Entry::Call,
        read_only: false,
    };
    (Arc::new(state), request)
}

/// Bare wasmtime: `code` in a fresh store from an `InstancePre` per iteration, `call` run once,
/// imports stubbed as an empty call needs them (the input is `input_len` zero bytes; `revert`
/// traps; `set_return` does nothing; anything else traps).
fn bare_call(bare: Bare, code: &[u8], input_len: i32) -> Duration {
    let engine = bare.engine();
    let module = Module::new(&engine, code).expect("compile");
    let mut linker: Linker<()> = Linker::new(&engine);
    linker
        .func_wrap("civitas", "input_len", move || input_len)
        .expect("link");
    linker
        .func_wrap(
            "civitas",
            "input_read",
            move |mut caller: Caller<'_, ()>, dst: i32| -> wasmtime::Result<()> {
                let Some(Extern::Memory(m)) = caller.get_export("memory") else {
                    return Err(wasmtime::Error::msg("no memory"));
                };
                let zeros = vec![0; input_len as usize];
                m.write(&mut caller, dst as u32 as usize, &zeros)?;
                Ok(())
            },
        )
        .expect("link");
    linker
        .func_wrap("civitas", "set_return", |_: i32, _: i32| {})
        .expect("link");
    linker
        .func_wrap(
            "civitas",
            "revert",
            |_: i32, _: i32| -> wasmtime::Result<()> { Err(wasmtime::Error::msg("revert")) },
        )
        .expect("link");
    linker
        .define_unknown_imports_as_traps(&module)
        .expect("link");
    let pre = linker.instantiate_pre(&module).expect("pre");
    measure(21, 2_000, || {
        let mut store = Store::new(&engine, ());
        store.set_fuel(1_000_000).expect("fuel");
        let instance = pre.instantiate(&mut store).expect("instantiate");
        let f = instance
            .get_typed_func::<(), ()>(&mut store, "call")
            .expect("export");
        black_box(f.call(&mut store, ()).is_ok());
    })
}

fn main() {
    let tiny = wat::parse_str(TINY).expect("wat");
    let (contract_name, contract) = contract_module();
    let contract_slug = short(&contract_name)
        .trim_end_matches(".wasm")
        .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
    println!("scripts/bench vm  (median of samples; one core; lower is better)\n");

    // Compile: validation + compilation + InstancePre vs bare Module::new.
    let vm = Vm::new(VmConfig::default()).expect("vm");
    let bare = Bare::Tuned.engine();
    for (label, slug, code) in [
        ("tiny module", "tiny".to_string(), &tiny),
        (contract_name.as_str(), contract_slug.clone(), &contract),
    ] {
        let t = measure(7, 5, || {
            black_box(vm.prepare(code).expect("prepare"));
        });
        let theirs = measure(7, 5, || {
            black_box(Module::new(&bare, code).expect("compile"));
        });
        let slug = format!("compile_{slug}");
        row(
            &format!("compile {} ({} B)", short(label), code.len()),
            &slug,
            t,
            Bare::Tuned,
            theirs,
            None,
        );
        ours(&slug, t, None);
    }

    // Worst case the validator accepts: one function at the body-size cap.
    let body = "(drop (i64.add (i64.const 1) (i64.const 2)))".repeat(14_000);
    let big = wat::parse_str(format!(
        r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call") {body}))"#
    ))
    .expect("wat");
    let t = measure(3, 1, || {
        black_box(vm.prepare(&big).expect("prepare"));
    });
    let theirs = measure(3, 1, || {
        black_box(Module::new(&bare, &big).expect("compile"));
    });
    row(
        &format!("compile largest accepted body ({} B)", big.len()),
        "compile_largest_body",
        t,
        Bare::Tuned,
        theirs,
        None,
    );
    ours("compile_largest_body", t, None);
    println!();

    // Instantiate from cache + tiny call.
    let (backend, request) = deployed(&vm, &tiny, vec![0; 8]);
    let t = measure(21, 2_000, || {
        black_box(
            vm.execute(backend.clone(), BlockContext::default(), request.clone())
                .expect("call"),
        );
    });
    ours("tiny_call", t, None);
    for b in [Bare::Tuned, Bare::DefaultPooling, Bare::OnDemand] {
        row(
            &format!("instantiate from cache + tiny call ({})", b.label()),
            "tiny_call",
            t,
            b,
            bare_call(b, &tiny, 8),
            None,
        );
    }
    println!();

    // An empty call (an unknown selector: the contract reads its input and reverts) on the
    // contract, in a fresh store from the module cache as a block runs it.
    let (backend, request) = deployed(&vm, &contract, vec![0; 4]);
    let first = vm.execute(backend.clone(), BlockContext::default(), request.clone());
    let (fuel, how) = match &first {
        Ok(o) => (o.fuel_used, "returns".to_string()),
        Err(e) => (e.fuel_used, format!("fails: {}", e.error)),
    };
    let t = measure(21, 2_000, || {
        let out = vm.execute(backend.clone(), BlockContext::default(), request.clone());
        black_box(out.map(|o| o.fuel_used).unwrap_or_else(|e| e.fuel_used));
    });
    let label = format!(
        "empty call on {} ({} B)",
        short(&contract_name),
        contract.len()
    );
    println!("{label}: {fuel} fuel, {how}");
    // The bounds are issue 13's, set for the token contract.
    let is_token = contract_slug == "token";
    let slug = format!("{contract_slug}_empty_call");
    ours(&slug, t, is_token.then_some(TOKEN_EMPTY_CALL_BOUND_US));
    for b in [Bare::Tuned, Bare::DefaultPooling] {
        let ratio_bound = match b {
            Bare::Tuned if is_token => Some(TOKEN_EMPTY_CALL_RATIO_BOUND),
            _ => None,
        };
        row(
            &format!("{label} ({})", b.label()),
            &slug,
            t,
            b,
            bare_call(b, &contract, 4),
            ratio_bound,
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
    for (label, slug, wat) in [
        ("a tight loop", "tight_loop", SPIN),
        ("a cache-missing division loop", "division_loop", STRIDE),
    ] {
        fuel_rate_of(label, slug, wat);
    }
}

fn fuel_rate_of(label: &str, slug: &str, wat: &str) {
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
    figure(
        &format!("fuel_rate_{slug}_mfuel_per_s"),
        per_second / 1e6,
        "Mfuel/s",
        None,
    );
}

fn short(label: &str) -> String {
    label.rsplit('/').next().unwrap_or(label).to_string()
}

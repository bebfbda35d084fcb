//! The contract VM: one wasmtime [`Engine`] with fuel metering, memory and stack limits and NaN
//! canonicalisation; compiled modules cached by code hash as [`InstancePre`]s with their exports
//! resolved and their memory image prepared; calls that return output, fuel used, events and
//! storage changes, or a typed [`VmError`].
//!
//! A call runs in a fresh `Store` (the unit of isolation) on an instance slot of the pooling
//! allocator, which resets the slot to the module's pristine image when the call ends
//! ([`pooling_config`]); a nested `call_contract` runs the callee in a store of its own that
//! shares the caller's fuel, storage overlay and event list.
//! Everything a call produces is a pure function of (code, input, state, block context, fuel
//! limit): no wall clock, no randomness, no hash-map order.
mod host;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use civitas_primitives::abi::CostClass;
use civitas_primitives::{AccountId, Hash};
use wasmtime::{
    Config, Engine, Extern, InstanceAllocationStrategy, InstancePre, Linker, Memory, Module,
    ModuleExport, OptLevel, PoolingAllocationConfig, ResourceLimiter, Store, Trap, WasmFeatures,
};

use crate::error::VmError;
use crate::state::{Overlay, SealedSource, StateBackend, StorageChange};
use crate::validate::{validate_module, ModuleInfo, ValidationError, ValidationLimits};

/// The fuel of one [`CostClass`]: `base` on every call of a function in the class, `per_byte`
/// for every byte such a function reads from the contract's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassCost {
    /// Charged on entry.
    pub base: u64,
    /// Charged per byte read from the contract's memory.
    pub per_byte: u64,
}

/// Fuel charged by host functions, on top of the one unit per wasm instruction that wasmtime
/// meters. Part of consensus: every node must use the same table.
///
/// A host call pays `host_call + class.base` on entry, where the class is the one its entry in
/// the ABI table (`civitas_primitives::for_each_host_fn!`) declares, then `per_byte` for every
/// byte copied between the contract's memory and the host and `class.per_byte` for every byte
/// read from the contract's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuelCosts {
    /// Every host call.
    pub host_call: u64,
    /// Every byte copied between the contract's memory and the host.
    pub per_byte: u64,
    /// [`CostClass::Context`]: input, output, call context, result buffer, debug log.
    pub context: ClassCost,
    /// [`CostClass::StorageRead`].
    pub storage_read: ClassCost,
    /// [`CostClass::StorageWrite`]: per byte of key and value written.
    pub storage_write: ClassCost,
    /// [`CostClass::StorageRemove`].
    pub storage_remove: ClassCost,
    /// [`CostClass::Event`]: per byte of topic and data.
    pub event: ClassCost,
    /// [`CostClass::Call`]: a call into another contract (instantiation).
    pub call: ClassCost,
    /// [`CostClass::Hash`]: per byte hashed.
    pub hash: ClassCost,
    /// [`CostClass::Signature`]: an ed25519 verification.
    pub signature: ClassCost,
    /// [`CostClass::Sealed`]: a store lookup and a decryption, priced by time (the fuel a
    /// tight loop burns in ~100 µs), so that the reads a call can afford fit in the share of
    /// a block interval its fuel stands for.
    pub sealed: ClassCost,
}

impl FuelCosts {
    /// The cost of a class. Exhaustive: a class added to the ABI without a cost here does not
    /// compile.
    pub fn class(&self, class: CostClass) -> ClassCost {
        match class {
            CostClass::Context => self.context,
            CostClass::StorageRead => self.storage_read,
            CostClass::StorageWrite => self.storage_write,
            CostClass::StorageRemove => self.storage_remove,
            CostClass::Event => self.event,
            CostClass::Call => self.call,
            CostClass::Hash => self.hash,
            CostClass::Signature => self.signature,
            CostClass::Sealed => self.sealed,
        }
    }
}

impl Default for FuelCosts {
    fn default() -> Self {
        let cost = |base, per_byte| ClassCost { base, per_byte };
        FuelCosts {
            host_call: 50,
            per_byte: 1,
            context: cost(0, 0),
            storage_read: cost(2_000, 0),
            storage_write: cost(5_000, 10),
            storage_remove: cost(5_000, 0),
            event: cost(1_000, 5),
            call: cost(20_000, 0),
            hash: cost(200, 4),
            signature: cost(60_000, 0),
            sealed: cost(1_000_000, 0),
        }
    }
}

/// Size caps on what a contract hands to the host. Part of consensus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostLimits {
    /// Call input bytes.
    pub max_input: usize,
    /// Call output (and revert message) bytes.
    pub max_output: usize,
    /// Storage key bytes.
    pub max_key: usize,
    /// Storage value bytes.
    pub max_value: usize,
    /// Event topic bytes.
    pub max_topic: usize,
    /// Event data bytes.
    pub max_event_data: usize,
    /// Events per call tree.
    pub max_events: usize,
    /// Nested contract calls (the outermost call is depth 1).
    pub max_call_depth: usize,
    /// Bytes of one debug log message.
    pub max_log: usize,
}

impl Default for HostLimits {
    fn default() -> Self {
        HostLimits {
            max_input: 64 * 1024,
            max_output: 64 * 1024,
            max_key: 128,
            max_value: 64 * 1024,
            max_topic: 64,
            max_event_data: 16 * 1024,
            max_events: 256,
            max_call_depth: 4,
            max_log: 4 * 1024,
        }
    }
}

/// The whole policy surface of the VM.
#[derive(Clone, Debug)]
pub struct VmConfig {
    /// Linear memory limit per instance, in bytes.
    pub memory_limit: usize,
    /// Wasm stack per call frame, in bytes. A call tree uses at most
    /// `max_call_depth × max_wasm_stack` of native stack: run execution on a thread with room.
    pub max_wasm_stack: usize,
    /// Pre-allocated instance slots (pooling allocator); `None` allocates on demand.
    pub pooling_instances: Option<u32>,
    /// Compiled modules kept in memory.
    pub cache_capacity: usize,
    /// Deploy-time validation caps.
    pub validation: ValidationLimits,
    /// Host-call size caps.
    pub limits: HostLimits,
    /// Host-call fuel costs.
    pub costs: FuelCosts,
}

impl Default for VmConfig {
    fn default() -> Self {
        VmConfig {
            memory_limit: 16 * 1024 * 1024,
            max_wasm_stack: 256 * 1024,
            pooling_instances: Some(64),
            cache_capacity: 256,
            validation: ValidationLimits::default(),
            limits: HostLimits::default(),
            costs: FuelCosts::default(),
        }
    }
}

/// Which entry point to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The constructor, run once when a contract is instantiated.
    Deploy,
    /// A message.
    Call,
}

impl Entry {
    fn export(self) -> &'static str {
        match self {
            Entry::Deploy => "deploy",
            Entry::Call => "call",
        }
    }
}

/// The block a call executes in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockContext {
    /// Block height.
    pub height: u64,
    /// Block time in milliseconds since the Unix epoch, from the header.
    pub time_ms: u64,
}

/// One top-level call.
#[derive(Clone, Debug)]
pub struct CallRequest {
    /// Code the contract runs (for `Deploy`, the contract may not be registered yet).
    pub code_hash: Hash,
    /// The contract's address.
    pub contract: AccountId,
    /// Who calls.
    pub caller: AccountId,
    /// Selector + SCALE-encoded arguments.
    pub input: Vec<u8>,
    /// Fuel available.
    pub fuel_limit: u64,
    /// Entry point.
    pub entry: Entry,
    /// Queries and views: storage writes and events trap.
    pub read_only: bool,
}

/// An event emitted by a contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Emitting contract.
    pub contract: AccountId,
    /// Topic (the SDK uses the event's name).
    pub topic: Vec<u8>,
    /// SCALE-encoded event data.
    pub data: Vec<u8>,
}

/// A successful call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    /// The output set with `set_return`.
    pub output: Vec<u8>,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// Events, in emission order.
    pub events: Vec<Event>,
    /// Net storage writes, ordered by contract then key.
    pub storage_changes: Vec<StorageChange>,
    /// Debug messages (off-consensus).
    pub debug_log: Vec<String>,
}

/// A failed call: nothing it wrote survives, but its fuel is spent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct CallError {
    /// Why it failed.
    pub error: VmError,
    /// Fuel consumed up to the failure.
    pub fuel_used: u64,
    /// Debug messages (off-consensus).
    pub debug_log: Vec<String>,
}

/// A module ready to run: linked once ([`InstancePre`]), its exports resolved once, so that a
/// call only allocates a pooled slot and runs.
struct Compiled {
    pre: InstancePre<HostState>,
    memory: ModuleExport,
    deploy: ModuleExport,
    call: ModuleExport,
    info: ModuleInfo,
}

impl Compiled {
    fn entry(&self, entry: Entry) -> &ModuleExport {
        match entry {
            Entry::Deploy => &self.deploy,
            Entry::Call => &self.call,
        }
    }
}

struct VmInner {
    engine: Engine,
    linker: Linker<HostState>,
    cache: Mutex<HashMap<Hash, Arc<Compiled>>>,
    config: VmConfig,
}

/// The contract VM. Cheap to clone; share one per execution lane (block execution, queries).
#[derive(Clone)]
pub struct Vm {
    inner: Arc<VmInner>,
}

/// Per-store memory limiter that reports the limit as a typed error.
struct MemoryLimiter {
    limit: usize,
    max_table: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("memory limit exceeded")]
struct MemoryLimitHit {
    requested: usize,
    limit: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            return Err(wasmtime::Error::new(MemoryLimitHit {
                requested: desired,
                limit: self.limit,
            }));
        }
        Ok(true)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.max_table)
    }
}

/// State shared by every frame of one call tree.
struct Shared {
    backend: Arc<dyn StateBackend>,
    /// Set for a sealed call: where `sealed_read` goes.
    sealed: Option<Arc<dyn SealedSource>>,
    /// Successful sealed reads so far: after the first, side effects trap.
    sealed_reads: u32,
    block: BlockContext,
    overlay: Overlay,
    events: Vec<Event>,
    logs: Vec<String>,
    stack: Vec<AccountId>,
}

/// One frame: a contract executing.
struct Frame {
    contract: AccountId,
    code_hash: Hash,
    caller: AccountId,
    input: Vec<u8>,
    output: Vec<u8>,
    result_buf: Vec<u8>,
    read_only: bool,
}

/// A store's data.
pub(crate) struct HostState {
    shared: Option<Box<Shared>>,
    frame: Frame,
    memory: Option<Memory>,
    limiter: MemoryLimiter,
    vm: Vm,
}

/// Errors raised inside host functions and carried through wasm as traps.
#[derive(Debug, thiserror::Error)]
enum HostTrap {
    #[error("revert")]
    Revert(Vec<u8>),
    #[error(transparent)]
    Host(#[from] crate::error::HostError),
    #[error("node failure: {0}")]
    Node(VmError),
}

impl Vm {
    /// Builds the engine and linker.
    pub fn new(config: VmConfig) -> Result<Vm, VmError> {
        let engine = Engine::new(&engine_config(&config))
            .map_err(|e| VmError::Internal(format!("engine: {e}")))?;
        let mut linker = Linker::new(&engine);
        host::link(&mut linker).map_err(|e| VmError::Internal(format!("linker: {e}")))?;
        Ok(Vm {
            inner: Arc::new(VmInner {
                engine,
                linker,
                cache: Mutex::new(HashMap::new()),
                config,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &VmConfig {
        &self.inner.config
    }

    /// Validates module bytes exactly as deploy does.
    pub fn validate(&self, code: &[u8]) -> Result<ModuleInfo, ValidationError> {
        validate_module(code, &self.inner.config.validation)
    }

    /// Validates, compiles and caches a module; returns what the chain records about it.
    pub fn prepare(&self, code: &[u8]) -> Result<ModuleInfo, VmError> {
        let info = self.validate(code)?;
        self.compile_and_cache(code, info.clone())?;
        Ok(info)
    }

    /// Number of compiled modules in the cache.
    pub fn cached_modules(&self) -> usize {
        self.inner.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    fn compile_and_cache(&self, code: &[u8], info: ModuleInfo) -> Result<Arc<Compiled>, VmError> {
        let module = Module::new(&self.inner.engine, code)
            .map_err(|e| VmError::Internal(format!("compile: {e}")))?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&module)
            .map_err(|e| VmError::Internal(format!("link: {e}")))?;
        let export = |name: &str| {
            module
                .get_export_index(name)
                .ok_or_else(|| VmError::Internal(format!("validated module lacks export {name}")))
        };
        let compiled = Arc::new(Compiled {
            memory: export("memory")?,
            deploy: export(Entry::Deploy.export())?,
            call: export(Entry::Call.export())?,
            pre,
            info,
        });
        let mut cache = self
            .inner
            .cache
            .lock()
            .map_err(|_| VmError::Internal("module cache poisoned".into()))?;
        if cache.len() >= self.inner.config.cache_capacity {
            // Any entry will do: eviction only costs a recompilation, never a different result.
            if let Some(k) = cache.keys().next().copied() {
                cache.remove(&k);
            }
        }
        cache.insert(compiled.info.code_hash, compiled.clone());
        Ok(compiled)
    }

    fn compiled(
        &self,
        code_hash: &Hash,
        backend: &dyn StateBackend,
    ) -> Result<Arc<Compiled>, VmError> {
        if let Some(c) = self
            .inner
            .cache
            .lock()
            .map_err(|_| VmError::Internal("module cache poisoned".into()))?
            .get(code_hash)
        {
            return Ok(c.clone());
        }
        let code = backend
            .code(code_hash)?
            .ok_or(VmError::CodeNotFound(*code_hash))?;
        let info = self.validate(&code)?;
        self.compile_and_cache(&code, info)
    }

    /// Runs one top-level call against `backend` in `block`.
    pub fn execute(
        &self,
        backend: Arc<dyn StateBackend>,
        block: BlockContext,
        request: CallRequest,
    ) -> Result<CallOutcome, CallError> {
        self.execute_with(backend, None, block, request)
    }

    /// Runs a sealed call: the top-level contract may read records through `source`; after
    /// the first successful read, storage writes, events and outgoing calls trap; the return
    /// value is capped at [`civitas_primitives::vault::SEALED_OUTPUT_MAX`] bytes and debug
    /// messages are dropped.
    pub fn execute_sealed(
        &self,
        backend: Arc<dyn StateBackend>,
        source: Arc<dyn SealedSource>,
        block: BlockContext,
        request: CallRequest,
    ) -> Result<CallOutcome, CallError> {
        self.execute_with(backend, Some(source), block, request)
    }

    fn execute_with(
        &self,
        backend: Arc<dyn StateBackend>,
        sealed: Option<Arc<dyn SealedSource>>,
        block: BlockContext,
        request: CallRequest,
    ) -> Result<CallOutcome, CallError> {
        let shared = Box::new(Shared {
            backend,
            sealed,
            sealed_reads: 0,
            block,
            overlay: Overlay::default(),
            events: Vec::new(),
            logs: Vec::new(),
            stack: Vec::new(),
        });
        if request.input.len() > self.inner.config.limits.max_input {
            return Err(CallError {
                error: crate::error::HostError::TooLarge {
                    what: "call input",
                    size: request.input.len(),
                    max: self.inner.config.limits.max_input,
                }
                .into(),
                fuel_used: 0,
                debug_log: Vec::new(),
            });
        }
        let frame = Frame {
            contract: request.contract,
            code_hash: request.code_hash,
            caller: request.caller,
            input: request.input,
            output: Vec::new(),
            result_buf: Vec::new(),
            read_only: request.read_only,
        };
        let run = self.run_frame(
            shared,
            frame,
            request.code_hash,
            request.entry,
            request.fuel_limit,
        );
        let fuel_used = request.fuel_limit.saturating_sub(run.fuel_left);
        let shared = run.shared;
        match run.result {
            Ok(output) => Ok(CallOutcome {
                output,
                fuel_used,
                events: shared.events,
                storage_changes: shared.overlay.into_changes(),
                debug_log: shared.logs,
            }),
            Err(error) => Err(CallError {
                error,
                fuel_used,
                debug_log: shared.logs,
            }),
        }
    }

    /// Runs one frame. On failure the frame's storage writes and events are undone.
    fn run_frame(
        &self,
        mut shared: Box<Shared>,
        frame: Frame,
        code_hash: Hash,
        entry: Entry,
        fuel: u64,
    ) -> FrameRun {
        let checkpoint = shared.overlay.checkpoint();
        let events_before = shared.events.len();
        let contract = frame.contract;
        let compiled = match self.compiled(&code_hash, shared.backend.as_ref()) {
            Ok(c) => c,
            Err(e) => {
                return FrameRun {
                    shared,
                    result: Err(e),
                    fuel_left: fuel,
                }
            }
        };
        shared.stack.push(contract);
        let state = HostState {
            shared: Some(shared),
            frame,
            memory: None,
            limiter: MemoryLimiter {
                limit: self.inner.config.memory_limit,
                max_table: self.inner.config.validation.max_table_elements as usize,
            },
            vm: self.clone(),
        };
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limiter);
        let result = store
            .set_fuel(fuel)
            .map_err(|e| VmError::Internal(format!("fuel: {e}")))
            .and_then(|_| self.instantiate_and_call(&mut store, &compiled, entry));
        let fuel_left = store.get_fuel().unwrap_or(0);
        let state = store.into_data();
        let Some(mut shared) = state.shared else {
            // Only reachable if a host function lost the shared state: a bug, not contract input.
            return FrameRun {
                shared: Box::new(Shared {
                    backend: Arc::new(crate::state::MemoryState::new()),
                    sealed: None,
                    sealed_reads: 0,
                    block: BlockContext::default(),
                    overlay: Overlay::default(),
                    events: Vec::new(),
                    logs: Vec::new(),
                    stack: Vec::new(),
                }),
                result: Err(VmError::Internal("call state lost".into())),
                fuel_left: 0,
            };
        };
        shared.stack.pop();
        let result = result.map(|()| state.frame.output);
        if result.is_err() {
            shared.overlay.revert_to(checkpoint);
            shared.events.truncate(events_before);
        }
        FrameRun {
            shared,
            result,
            fuel_left,
        }
    }

    fn instantiate_and_call(
        &self,
        store: &mut Store<HostState>,
        compiled: &Compiled,
        entry: Entry,
    ) -> Result<(), VmError> {
        let instance = compiled
            .pre
            .instantiate(&mut *store)
            .map_err(|e| classify(e, true))?;
        let Some(Extern::Memory(memory)) =
            instance.get_module_export(&mut *store, &compiled.memory)
        else {
            return Err(VmError::Internal(
                "validated module lacks memory export".into(),
            ));
        };
        store.data_mut().memory = Some(memory);
        let func = instance
            .get_module_export(&mut *store, compiled.entry(entry))
            .and_then(Extern::into_func)
            .ok_or_else(|| VmError::Internal(format!("entry point {} missing", entry.export())))?
            .typed::<(), ()>(&*store)
            .map_err(|e| VmError::Internal(format!("entry point: {e}")))?;
        func.call(&mut *store, ()).map_err(|e| classify(e, false))
    }
}

/// The wasmtime configuration of a VM with `config` (public so that benchmarks can compare
/// against bare wasmtime configured alike): fuel, NaN canonicalisation, WebAssembly 1.0 only,
/// the stack limit, no debug info, address maps or backtraces (a trap's text is a diagnostic,
/// never consensus; capturing a backtrace would cost every failing call a stack walk),
/// copy-on-write memory images built once per module, and the [`pooling_config`] allocator
/// when `pooling_instances` is set.
pub fn engine_config(config: &VmConfig) -> Config {
    let mut c = Config::new();
    c.consume_fuel(true)
        .cranelift_nan_canonicalization(true)
        .cranelift_opt_level(OptLevel::Speed)
        .max_wasm_stack(config.max_wasm_stack)
        .wasm_features(WasmFeatures::all(), false)
        .wasm_features(WasmFeatures::WASM1.difference(WasmFeatures::GC_TYPES), true)
        .parallel_compilation(false)
        .generate_address_map(false)
        .wasm_backtrace_max_frames(None)
        .debug_info(false)
        .memory_init_cow(true);
    if config.pooling_instances.is_some() {
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config(config)));
    }
    c
}

/// The pooling allocator behind a VM configured with `pooling_instances` (public so that
/// benchmarks can compare against bare wasmtime on the same allocator).
///
/// Each slot keeps the copy-on-write image of the module it last held mapped and, on release,
/// resets the pages the call dirtied in place instead of returning them to the kernel: the
/// next call on the same module then starts from the pristine image without an `mmap`, an
/// `madvise` or page faults. Linux 6.7+ finds the dirtied pages with `PAGEMAP_SCAN` (the token
/// contract's empty call: ~3 µs); older kernels reset the low `MEMORY_KEEP_RESIDENT` bytes by
/// `memset` (~4.4 µs for the reference contracts' 128 KiB memories, against ~13 µs when the
/// slot is decommitted). What lies beyond those bytes is decommitted as before.
/// Contents after a reset are the module's initial memory either way, so this changes cost,
/// never results.
pub fn pooling_config(config: &VmConfig) -> PoolingAllocationConfig {
    let instances = config.pooling_instances.unwrap_or(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(instances)
        .total_memories(instances)
        .total_tables(instances)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .max_memory_size(config.memory_limit)
        .table_elements(config.validation.max_table_elements as usize)
        .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT.min(config.memory_limit))
        .table_keep_resident(TABLE_KEEP_RESIDENT)
        .pagemap_scan(wasmtime::Enabled::Auto);
    pool
}

/// Bytes of each pooled linear memory reset in place rather than decommitted after a call.
const MEMORY_KEEP_RESIDENT: usize = 1 << 20;
/// Bytes of each pooled table reset in place rather than decommitted after a call.
const TABLE_KEEP_RESIDENT: usize = 64 << 10;

struct FrameRun {
    shared: Box<Shared>,
    result: Result<Vec<u8>, VmError>,
    fuel_left: u64,
}

/// Maps a wasmtime error to a typed VM error.
fn classify(e: wasmtime::Error, instantiating: bool) -> VmError {
    if let Some(hit) = e.downcast_ref::<MemoryLimitHit>() {
        return VmError::MemoryLimit {
            requested: hit.requested,
            limit: hit.limit,
        };
    }
    let e = match e.downcast::<HostTrap>() {
        Ok(HostTrap::Revert(message)) => return VmError::Reverted { message },
        Ok(HostTrap::Host(h)) => return VmError::Host(h),
        Ok(HostTrap::Node(n)) => return n,
        Err(e) => e,
    };
    if let Some(t) = e.downcast_ref::<Trap>() {
        return match t {
            Trap::OutOfFuel => VmError::OutOfFuel,
            Trap::StackOverflow => VmError::StackOverflow,
            other => VmError::Trap(other.to_string()),
        };
    }
    if instantiating {
        // Instance pool exhausted or a similar resource failure of this node.
        return VmError::Internal(format!("instantiate: {e}"));
    }
    VmError::Trap(e.to_string())
}

/// The pool configuration in effect: what the allocator keeps of a slot after a call.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryState;

    /// Writes one byte into each of pages 0, 1 and 3 of a 4-page memory.
    const DIRTY_THREE_PAGES: &str = r#"(module
        (memory (export "memory") 4)
        (func (export "deploy"))
        (func (export "call")
            (i32.store8 (i32.const 100) (i32.const 1))
            (i32.store8 (i32.const 70000) (i32.const 1))
            (i32.store8 (i32.const 200000) (i32.const 1))))"#;

    #[test]
    fn a_released_slot_keeps_the_pages_its_call_dirtied_resident_and_warm() {
        let vm = Vm::new(VmConfig::default()).expect("vm");
        let code = wat::parse_str(DIRTY_THREE_PAGES).expect("wat");
        let info = vm.prepare(&code).expect("prepare");
        let mut state = MemoryState::new();
        let contract = AccountId([1; 32]);
        state.put_code(info.code_hash, Arc::from(code.as_slice()));
        state.put_contract(contract, info.code_hash);
        let backend: Arc<dyn StateBackend> = Arc::new(state);
        let request = CallRequest {
            code_hash: info.code_hash,
            contract,
            caller: AccountId([2; 32]),
            input: Vec::new(),
            fuel_limit: 1_000_000,
            entry: Entry::Call,
            read_only: false,
        };
        for _ in 0..2 {
            vm.execute(backend.clone(), BlockContext::default(), request.clone())
                .expect("call");
        }
        let metrics = vm
            .inner
            .engine
            .pooling_allocator_metrics()
            .expect("the default VM pools its instances");
        assert_eq!(metrics.memories(), 0, "no memory is in use between calls");
        assert!(metrics.unused_warm_memories() >= 1);
        // Decommitting the slot (wasmtime's default) would leave nothing resident.
        assert!(
            metrics.unused_memory_bytes_resident() >= 3 * 4096,
            "{} bytes resident",
            metrics.unused_memory_bytes_resident()
        );
    }
}

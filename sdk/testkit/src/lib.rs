//! Integration testing for contracts: build a contract crate to `.wasm` with the same tooling as
//! `civitas contract build`, then deploy, instantiate, call and query it in the real VM against
//! an in-memory chain ([`TestChain`]).
//!
//! This is the in-process chain of the contract author's toolbox: real wasmtime, real fuel,
//! real host ABI; no node, no consensus, no disk.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use civitas_contract_build::{build, BuildOptions};
use civitas_primitives::{contract_address, AccountId, Hash};
use civitas_runtime::{
    BlockContext, CallError, CallOutcome, CallRequest, Entry, MemoryState, SealedSource, Vm,
    VmConfig, VmError,
};
use parity_scale_codec::{Decode, Encode};

pub use civitas_runtime::Event;

/// Fuel given to each call unless a test says otherwise.
pub const DEFAULT_FUEL: u64 = 50_000_000;

/// Builds the contract crate at `crate_dir` (release, as deployed) once per test process and
/// returns the module bytes.
pub fn contract_wasm(crate_dir: impl AsRef<Path>) -> Vec<u8> {
    static BUILT: OnceLock<Mutex<BTreeMap<PathBuf, Vec<u8>>>> = OnceLock::new();
    let dir = crate_dir.as_ref().to_path_buf();
    let cache = BUILT.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(code) = cache.get(&dir) {
        return code.clone();
    }
    let artifact = build(&BuildOptions {
        crate_dir: dir.clone(),
        release: true,
        wasm_opt: true,
        out_dir: None,
        verbose: false,
    })
    .unwrap_or_else(|e| panic!("building the contract in {} failed: {e}", dir.display()));
    let code = std::fs::read(&artifact.wasm)
        .unwrap_or_else(|e| panic!("reading {}: {e}", artifact.wasm.display()));
    cache.insert(dir, code.clone());
    code
}

/// Encodes a message: selector of `method` + SCALE-encoded `args` tuple.
pub fn message<A: Encode>(method: &str, args: A) -> Vec<u8> {
    let mut out = civitas_primitives::selector(method).to_vec();
    args.encode_to(&mut out);
    out
}

/// A well-known test account derived from a name.
pub fn account(name: &str) -> AccountId {
    AccountId(civitas_primitives::sha3_256(format!("testkit/{name}").as_bytes()).0)
}

/// An in-memory chain running contracts in the real VM.
pub struct TestChain {
    vm: Vm,
    state: MemoryState,
    block: BlockContext,
    /// Fuel per call.
    pub fuel: u64,
}

impl Default for TestChain {
    fn default() -> Self {
        Self::new()
    }
}

impl TestChain {
    /// A chain at height 1 with the default VM configuration.
    pub fn new() -> Self {
        Self::with_config(VmConfig::default())
    }

    /// A chain with a custom VM configuration.
    pub fn with_config(config: VmConfig) -> Self {
        TestChain {
            vm: Vm::new(config).expect("the VM configuration is valid"),
            state: MemoryState::new(),
            block: BlockContext {
                height: 1,
                time_ms: 1_700_000_000_000,
            },
            fuel: DEFAULT_FUEL,
        }
    }

    /// The VM.
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The state.
    pub fn state(&self) -> &MemoryState {
        &self.state
    }

    /// The current block.
    pub fn block(&self) -> BlockContext {
        self.block
    }

    /// Moves to the next block, `millis` later.
    pub fn advance(&mut self, millis: u64) {
        self.block.height += 1;
        self.block.time_ms += millis;
    }

    /// Validates and stores code; returns its hash.
    pub fn upload(&mut self, code: &[u8]) -> Result<Hash, VmError> {
        let info = self.vm.prepare(code)?;
        self.state.put_code(info.code_hash, Arc::from(code));
        Ok(info.code_hash)
    }

    /// Instantiates `code_hash` by running constructor `ctor` with `args`; returns the address.
    pub fn instantiate<A: Encode>(
        &mut self,
        deployer: AccountId,
        code_hash: Hash,
        ctor: &str,
        args: A,
        salt: &[u8],
    ) -> Result<AccountId, CallError> {
        let address = contract_address(&deployer, &code_hash, salt);
        let outcome = self.vm.execute(
            Arc::new(self.state.clone()),
            self.block,
            CallRequest {
                code_hash,
                contract: address,
                caller: deployer,
                input: message(ctor, args),
                fuel_limit: self.fuel,
                entry: Entry::Deploy,
                read_only: false,
            },
        )?;
        self.state.apply(&outcome.storage_changes);
        self.state.put_contract(address, code_hash);
        Ok(address)
    }

    /// Uploads `code` and instantiates it in one step.
    pub fn deploy<A: Encode>(
        &mut self,
        deployer: AccountId,
        code: &[u8],
        ctor: &str,
        args: A,
    ) -> AccountId {
        let hash = self.upload(code).expect("code accepted");
        self.instantiate(deployer, hash, ctor, args, b"")
            .unwrap_or_else(|e| panic!("constructor `{ctor}` failed: {e}"))
    }

    fn code_hash_of(&self, contract: AccountId) -> Result<Hash, CallError> {
        use civitas_runtime::StateBackend;
        self.state
            .contract_code_hash(&contract)
            .ok()
            .flatten()
            .ok_or(CallError {
                error: VmError::Host(civitas_runtime::HostError::ContractNotFound(contract)),
                fuel_used: 0,
                debug_log: Vec::new(),
            })
    }

    fn run(
        &self,
        contract: AccountId,
        caller: AccountId,
        input: Vec<u8>,
        read_only: bool,
    ) -> Result<CallOutcome, CallError> {
        let code_hash = self.code_hash_of(contract)?;
        self.vm.execute(
            Arc::new(self.state.clone()),
            self.block,
            CallRequest {
                code_hash,
                contract,
                caller,
                input,
                fuel_limit: self.fuel,
                entry: Entry::Call,
                read_only,
            },
        )
    }

    /// Calls `method` with `args` as `caller`; on success the storage changes are applied.
    pub fn call<A: Encode>(
        &mut self,
        contract: AccountId,
        caller: AccountId,
        method: &str,
        args: A,
    ) -> Result<CallOutcome, CallError> {
        let outcome = self.run(contract, caller, message(method, args), false)?;
        self.state.apply(&outcome.storage_changes);
        Ok(outcome)
    }

    /// Calls with raw `input` bytes (no selector added) as `caller`; on success the storage
    /// changes are applied. For hand-written modules that read their input as they please.
    pub fn call_raw(
        &mut self,
        contract: AccountId,
        caller: AccountId,
        input: Vec<u8>,
    ) -> Result<CallOutcome, CallError> {
        let outcome = self.run(contract, caller, input, false)?;
        self.state.apply(&outcome.storage_changes);
        Ok(outcome)
    }

    /// Runs `method` as a sealed call by `caller`: the contract's `sealed_read`s go to
    /// `source`. Nothing is applied (a sealed call writes no state).
    pub fn sealed_call<A: Encode>(
        &self,
        contract: AccountId,
        caller: AccountId,
        method: &str,
        args: A,
        source: Arc<dyn SealedSource>,
    ) -> Result<CallOutcome, CallError> {
        let code_hash = self.code_hash_of(contract)?;
        self.vm.execute_sealed(
            Arc::new(self.state.clone()),
            source,
            self.block,
            CallRequest {
                code_hash,
                contract,
                caller,
                input: message(method, args),
                fuel_limit: self.fuel,
                entry: Entry::Call,
                read_only: true,
            },
        )
    }

    /// Calls `method` and decodes its output as `R`.
    pub fn call_decode<A: Encode, R: Decode>(
        &mut self,
        contract: AccountId,
        caller: AccountId,
        method: &str,
        args: A,
    ) -> Result<R, CallError> {
        let out = self.call(contract, caller, method, args)?;
        Ok(R::decode(&mut &out.output[..]).expect("output decodes as the expected type"))
    }

    /// A read-only query: nothing is written, writes trap.
    pub fn query<A: Encode, R: Decode>(
        &self,
        contract: AccountId,
        method: &str,
        args: A,
    ) -> Result<R, CallError> {
        let out = self.run(contract, AccountId::default(), message(method, args), true)?;
        Ok(R::decode(&mut &out.output[..]).expect("output decodes as the expected type"))
    }
}

/// The revert message of a failed call, as text.
pub fn revert_message(err: &CallError) -> Option<String> {
    match &err.error {
        VmError::Reverted { message } => Some(String::from_utf8_lossy(message).into_owned()),
        _ => None,
    }
}

/// The events of `outcome` with `topic`, decoded as `E`.
pub fn events<E: Decode>(outcome: &CallOutcome, topic: &str) -> Vec<E> {
    outcome
        .events
        .iter()
        .filter(|e| e.topic == topic.as_bytes())
        .map(|e| E::decode(&mut &e.data[..]).expect("event decodes"))
        .collect()
}

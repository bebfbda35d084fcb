//! Shared helpers: compile WAT, deploy into an in-memory state, call.
use std::sync::Arc;

use civitas_primitives::{AccountId, Hash};
use civitas_runtime::{
    BlockContext, CallError, CallOutcome, CallRequest, Entry, MemoryState, Vm, VmConfig,
};

pub const FUEL: u64 = 10_000_000;
pub const ALICE: AccountId = AccountId([0xa1; 32]);

pub fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("test WAT parses")
}

/// A module with the required exports around `body` (which may define more functions) and
/// `call` running `call_body`.
pub fn contract(imports: &str, extra: &str, call_body: &str) -> Vec<u8> {
    wasm(&format!(
        r#"(module
            {imports}
            (memory (export "memory") 1)
            (func (export "deploy"))
            (func (export "call") {call_body})
            {extra}
        )"#
    ))
}

pub struct Chain {
    pub vm: Vm,
    pub state: MemoryState,
}

impl Chain {
    pub fn new() -> Self {
        Self::with_config(VmConfig::default())
    }

    pub fn with_config(config: VmConfig) -> Self {
        Chain {
            vm: Vm::new(config).expect("vm"),
            state: MemoryState::new(),
        }
    }

    /// Validates, compiles and registers `code` at an address derived from `tag`.
    pub fn deploy(&mut self, code: &[u8], tag: u8) -> (AccountId, Hash) {
        let info = self.vm.prepare(code).expect("module accepted");
        let address = AccountId([tag; 32]);
        self.state.put_code(info.code_hash, Arc::from(code));
        self.state.put_contract(address, info.code_hash);
        (address, info.code_hash)
    }

    pub fn call_with(
        &mut self,
        address: AccountId,
        input: &[u8],
        fuel: u64,
        read_only: bool,
    ) -> Result<CallOutcome, CallError> {
        let code_hash = self
            .state
            .contract_code_hash_of(&address)
            .expect("contract registered");
        let outcome = self.vm.execute(
            Arc::new(self.state.clone()),
            BlockContext {
                height: 7,
                time_ms: 1_700_000_000_000,
            },
            CallRequest {
                code_hash,
                contract: address,
                caller: ALICE,
                input: input.to_vec(),
                fuel_limit: fuel,
                entry: Entry::Call,
                read_only,
            },
        );
        if let Ok(o) = &outcome {
            self.state.apply(&o.storage_changes);
        }
        outcome
    }

    pub fn call(&mut self, address: AccountId, input: &[u8]) -> Result<CallOutcome, CallError> {
        self.call_with(address, input, FUEL, false)
    }
}

trait CodeHashOf {
    fn contract_code_hash_of(&self, a: &AccountId) -> Option<Hash>;
}

impl CodeHashOf for MemoryState {
    fn contract_code_hash_of(&self, a: &AccountId) -> Option<Hash> {
        use civitas_runtime::StateBackend;
        self.contract_code_hash(a).ok().flatten()
    }
}

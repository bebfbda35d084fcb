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

/// Every host import the undo probes use.
pub const PROBE_IMPORTS: &str = r#"
    (import "civitas" "input_len" (func $input_len (result i32)))
    (import "civitas" "input_read" (func $input_read (param i32)))
    (import "civitas" "set_return" (func $ret (param i32 i32)))
    (import "civitas" "revert" (func $revert (param i32 i32)))
    (import "civitas" "storage_read" (func $sget (param i32 i32 i32 i32) (result i32)))
    (import "civitas" "storage_write" (func $sset (param i32 i32 i32 i32)))
    (import "civitas" "call_contract" (func $call (param i32 i32 i32) (result i32)))
    (import "civitas" "result_len" (func $rlen (result i32)))
    (import "civitas" "result_read" (func $rread (param i32)))
"#;

/// A contract that, given `w` and a mode byte, writes "leak" under key "k" and then fails in
/// that mode (`r` reverts, `o` writes an oversized value, `t` traps, `m` grows memory past the
/// limit; any other mode returns normally and keeps the write). Given anything else it reads
/// "k" and returns the `storage_read` result (i32 LE) followed by the value.
pub const WRITE_THEN_FAIL: &str = r#"
    (local $n i32)
    (local $mode i32)
    (call $input_read (i32.const 256))
    (i32.store8 (i32.const 0) (i32.const 107))
    (if (i32.eq (i32.load8_u (i32.const 256)) (i32.const 119))
      (then
        (i32.store (i32.const 16) (i32.const 0x6b61656c))
        (call $sset (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 4))
        (local.set $mode (i32.load8_u (i32.const 257)))
        (if (i32.eq (local.get $mode) (i32.const 114))
          (then (call $revert (i32.const 16) (i32.const 4))))
        (if (i32.eq (local.get $mode) (i32.const 111))
          (then (call $sset (i32.const 0) (i32.const 1) (i32.const 0) (i32.const -1))))
        (if (i32.eq (local.get $mode) (i32.const 116))
          (then unreachable))
        (if (i32.eq (local.get $mode) (i32.const 109))
          (then (drop (memory.grow (i32.const 1024)))))
        (return)))
    (local.set $n (call $sget (i32.const 0) (i32.const 1) (i32.const 36) (i32.const 16)))
    (i32.store (i32.const 32) (local.get $n))
    (call $ret (i32.const 32)
        (i32.add (i32.const 4)
            (select (i32.const 0) (local.get $n) (i32.lt_s (local.get $n) (i32.const 0)))))
"#;

/// The caller side of the probe. Input: the 32-byte address of a [`WRITE_THEN_FAIL`] contract
/// and a mode byte. It calls that contract with `w` + mode, then again to read "k", and
/// returns the first call's status byte followed by what the read returned: what a later
/// call in the same transaction sees of the failed call's write.
pub const PROBE: &str = r#"
    (local $s i32)
    (call $input_read (i32.const 256))
    (i32.store8 (i32.const 300) (i32.const 119))
    (i32.store8 (i32.const 301) (i32.load8_u (i32.const 288)))
    (local.set $s (call $call (i32.const 256) (i32.const 300) (i32.const 2)))
    (i32.store8 (i32.const 302) (i32.const 114))
    (drop (call $call (i32.const 256) (i32.const 302) (i32.const 1)))
    (i32.store8 (i32.const 400) (local.get $s))
    (call $rread (i32.const 401))
    (call $ret (i32.const 400) (i32.add (i32.const 1) (call $rlen)))
"#;

/// What the probe saw.
#[derive(Debug, PartialEq, Eq)]
pub struct Probed {
    /// `call_status` of the failing call.
    pub status: i32,
    /// The later read of "k": `None` if absent.
    pub seen: Option<Vec<u8>>,
    /// Storage changes of the whole transaction to the failing contract.
    pub changes_to_victim: Vec<civitas_runtime::StorageChange>,
}

/// Deploys a [`WRITE_THEN_FAIL`] contract (with `k = prior` in committed state if given) and a
/// [`PROBE`], runs the probe with `mode` and reports what it saw.
pub fn probe_undo(mode: u8, prior: Option<&[u8]>) -> Probed {
    let mut chain = Chain::new();
    let (victim, _) = chain.deploy(&contract(PROBE_IMPORTS, "", WRITE_THEN_FAIL), 1);
    let (probe, _) = chain.deploy(&contract(PROBE_IMPORTS, "", PROBE), 2);
    if let Some(v) = prior {
        chain.state.apply(&[civitas_runtime::StorageChange {
            contract: victim,
            key: b"k".to_vec(),
            value: Some(v.to_vec()),
        }]);
    }
    let mut input = victim.0.to_vec();
    input.push(mode);
    let out = chain
        .call(probe, &input)
        .expect("the probe itself succeeds");
    let n = i32::from_le_bytes(out.output[1..5].try_into().expect("read length"));
    Probed {
        status: i32::from(out.output[0]),
        seen: (n >= 0).then(|| out.output[5..].to_vec()),
        changes_to_victim: out
            .storage_changes
            .into_iter()
            .filter(|c| c.contract == victim)
            .collect(),
    }
}

//! The off-chain test environment: a mock host that runs contract code natively, so a contract's
//! unit tests are plain `cargo test`. Each test thread has its own environment.
//!
//! Differences from the chain, on purpose: a revert panics (use [`expect_revert`]) and does not
//! undo writes, fuel is not metered, and cross-contract calls reach only handlers registered
//! with [`register_contract`]. Use `civitas-testkit` to run the built `.wasm` in the real VM.
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use parity_scale_codec::Decode;

use crate::env::CallFailure;
use crate::{AccountId, Event, Hash};

/// An event recorded by the mock host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Emitting contract.
    pub contract: AccountId,
    /// Topic.
    pub topic: Vec<u8>,
    /// SCALE-encoded data.
    pub data: Vec<u8>,
}

type Handler = Box<dyn FnMut(AccountId, &[u8]) -> Result<Vec<u8>, CallFailure>>;

struct MockHost {
    storage: BTreeMap<(AccountId, Vec<u8>), Vec<u8>>,
    caller: AccountId,
    self_address: AccountId,
    height: u64,
    time_ms: u64,
    input: Vec<u8>,
    output: Option<Vec<u8>>,
    events: Vec<RecordedEvent>,
    logs: Vec<String>,
    contracts: BTreeMap<AccountId, Handler>,
    sealed: BTreeMap<(Hash, String), Vec<u8>>,
    sealed_reads: Vec<(Hash, String)>,
}

impl Default for MockHost {
    fn default() -> Self {
        let a = accounts();
        MockHost {
            storage: BTreeMap::new(),
            caller: a.alice,
            self_address: AccountId([0xc0; 32]),
            height: 1,
            time_ms: 1_700_000_000_000,
            input: Vec::new(),
            output: None,
            events: Vec::new(),
            logs: Vec::new(),
            contracts: BTreeMap::new(),
            sealed: BTreeMap::new(),
            sealed_reads: Vec::new(),
        }
    }
}

thread_local! {
    static HOST: RefCell<MockHost> = RefCell::new(MockHost::default());
}

fn with<R>(f: impl FnOnce(&mut MockHost) -> R) -> R {
    HOST.with(|h| f(&mut h.borrow_mut()))
}

/// Makes `payload` the record of `subject` in `dataset` for `sealed_read` (a record without an
/// entry is refused).
pub fn set_sealed_record(subject: Hash, dataset: &str, payload: Vec<u8>) {
    with(|h| {
        h.sealed.insert((subject, dataset.to_string()), payload);
    });
}

/// The (subject, dataset) pairs read so far, granted or refused, in order.
pub fn sealed_reads() -> Vec<(Hash, String)> {
    with(|h| h.sealed_reads.clone())
}

/// Named test accounts with fixed ids.
#[derive(Clone, Copy, Debug)]
pub struct Accounts {
    /// The default caller.
    pub alice: AccountId,
    /// Second account.
    pub bob: AccountId,
    /// Third account.
    pub charlie: AccountId,
    /// Fourth account.
    pub dave: AccountId,
    /// Fifth account.
    pub eve: AccountId,
}

/// The named test accounts.
pub fn accounts() -> Accounts {
    Accounts {
        alice: AccountId([1; 32]),
        bob: AccountId([2; 32]),
        charlie: AccountId([3; 32]),
        dave: AccountId([4; 32]),
        eve: AccountId([5; 32]),
    }
}

/// Starts a fresh environment on this thread: empty storage, Alice calling, block 1.
pub fn reset() {
    with(|h| *h = MockHost::default());
}

/// Sets the caller.
pub fn set_caller(who: AccountId) {
    with(|h| h.caller = who);
}

/// Sets the executing contract's address (storage is per address).
pub fn set_self_address(addr: AccountId) {
    with(|h| h.self_address = addr);
}

/// Sets the block height and time.
pub fn set_block(height: u64, time_ms: u64) {
    with(|h| {
        h.height = height;
        h.time_ms = time_ms;
    });
}

/// Sets the raw input `env::input` returns.
pub fn set_input(input: Vec<u8>) {
    with(|h| h.input = input);
}

/// The output last set with `env::set_return`.
pub fn output() -> Option<Vec<u8>> {
    with(|h| h.output.clone())
}

/// Every event recorded since the last reset.
pub fn events() -> Vec<RecordedEvent> {
    with(|h| h.events.clone())
}

/// The events with `E`'s topic, decoded.
pub fn events_of<E: Event + Decode>() -> Vec<E> {
    events()
        .into_iter()
        .filter(|e| e.topic == E::TOPIC.as_bytes())
        .filter_map(|e| E::decode(&mut &e.data[..]).ok())
        .collect()
}

/// Debug messages logged since the last reset.
pub fn logs() -> Vec<String> {
    with(|h| h.logs.clone())
}

/// Registers a handler that answers calls to `addr` (arguments: caller, raw input).
pub fn register_contract(
    addr: AccountId,
    handler: impl FnMut(AccountId, &[u8]) -> Result<Vec<u8>, CallFailure> + 'static,
) {
    with(|h| {
        h.contracts.insert(addr, Box::new(handler));
    });
}

/// Runs `f`, expecting it to revert; returns the revert message.
pub fn expect_revert<R>(f: impl FnOnce() -> R) -> String {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    match result {
        Ok(_) => panic!("expected the call to revert, but it returned"),
        Err(payload) => {
            let text = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            text.strip_prefix("contract reverted: ")
                .map(str::to_string)
                .unwrap_or(text)
        }
    }
}

/// The mock host functions behind `env` on native targets.
pub(crate) mod host {
    use super::*;
    use crate::Hash;

    pub fn input() -> Vec<u8> {
        with(|h| h.input.clone())
    }
    pub fn set_return(data: &[u8]) {
        with(|h| h.output = Some(data.to_vec()));
    }
    pub fn revert(message: &[u8]) -> ! {
        panic!("contract reverted: {}", String::from_utf8_lossy(message))
    }
    pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
        with(|h| h.storage.get(&(h.self_address, key.to_vec())).cloned())
    }
    pub fn storage_set(key: &[u8], value: &[u8]) {
        with(|h| {
            h.storage
                .insert((h.self_address, key.to_vec()), value.to_vec());
        });
    }
    pub fn storage_remove(key: &[u8]) {
        with(|h| {
            h.storage.remove(&(h.self_address, key.to_vec()));
        });
    }
    pub fn caller() -> AccountId {
        with(|h| h.caller)
    }
    pub fn self_address() -> AccountId {
        with(|h| h.self_address)
    }
    pub fn block_height() -> u64 {
        with(|h| h.height)
    }
    pub fn block_time() -> u64 {
        with(|h| h.time_ms)
    }
    pub fn emit_raw(topic: &[u8], data: &[u8]) {
        with(|h| {
            let contract = h.self_address;
            h.events.push(RecordedEvent {
                contract,
                topic: topic.to_vec(),
                data: data.to_vec(),
            })
        });
    }
    pub fn call_raw(contract: &AccountId, input: &[u8]) -> Result<Vec<u8>, CallFailure> {
        // Take the handler out while it runs so it may itself use the environment.
        let (me, handler) = with(|h| (h.self_address, h.contracts.remove(contract)));
        let Some(mut handler) = handler else {
            return Err(CallFailure::Trapped(
                b"no contract registered at this address".to_vec(),
            ));
        };
        let result = handler(me, input);
        with(|h| {
            h.contracts.insert(*contract, handler);
        });
        result
    }
    pub fn sealed_read_raw(subject: &Hash, dataset: &str) -> Option<Vec<u8>> {
        with(|h| {
            h.sealed_reads.push((*subject, dataset.to_string()));
            h.sealed.get(&(*subject, dataset.to_string())).cloned()
        })
    }
    pub fn sha3_256(data: &[u8]) -> Hash {
        civitas_primitives::sha3_256(data)
    }
    pub fn ed25519_verify(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(pk) else {
            return false;
        };
        key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig))
            .is_ok()
    }
    pub fn debug(message: &str) {
        with(|h| h.logs.push(message.to_string()));
    }
}

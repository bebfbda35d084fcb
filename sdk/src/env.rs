//! The contract's view of the chain. On wasm32 every function is a host call; natively the
//! same functions act on the off-chain mock host in [`crate::test`].
use alloc::vec::Vec;
use parity_scale_codec::{Decode, Encode};

use crate::{AccountId, Event, Hash};

/// Why a call into another contract failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallFailure {
    /// The callee reverted with this message.
    Reverted(Vec<u8>),
    /// The callee trapped; the host's description.
    Trapped(Vec<u8>),
    /// The callee's output did not decode as the expected type.
    Decode,
}

/// The call's input: selector followed by SCALE-encoded arguments.
pub fn input() -> Vec<u8> {
    backend::input()
}

/// Sets the call's output.
pub fn set_return(data: &[u8]) {
    backend::set_return(data)
}

/// Aborts the call, undoing its state changes, with `message` as the revert message.
pub fn revert(message: &[u8]) -> ! {
    backend::revert(message)
}

/// Reads raw bytes under `key` in this contract's storage.
pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
    backend::storage_get(key)
}

/// Writes raw bytes under `key` in this contract's storage.
pub fn storage_set(key: &[u8], value: &[u8]) {
    backend::storage_set(key, value)
}

/// Removes `key` from this contract's storage.
pub fn storage_remove(key: &[u8]) {
    backend::storage_remove(key)
}

/// The immediate caller: a person's account, or the calling contract.
pub fn caller() -> AccountId {
    backend::caller()
}

/// This contract's address.
pub fn self_address() -> AccountId {
    backend::self_address()
}

/// Height of the block being executed.
pub fn block_height() -> u64 {
    backend::block_height()
}

/// Block time in milliseconds since the Unix epoch (from the block header).
pub fn block_time() -> u64 {
    backend::block_time()
}

/// Emits a raw event.
pub fn emit_raw(topic: &[u8], data: &[u8]) {
    backend::emit_raw(topic, data)
}

/// Emits a typed event under its topic.
pub fn emit<E: Event>(event: &E) {
    emit_raw(E::TOPIC.as_bytes(), &event.encode())
}

/// Calls another contract with raw input and returns its raw output.
pub fn call_raw(contract: &AccountId, input: &[u8]) -> Result<Vec<u8>, CallFailure> {
    backend::call_raw(contract, input)
}

/// Calls `method` of another contract with `args` and decodes its output as `R`.
pub fn call<A: Encode, R: Decode>(
    contract: &AccountId,
    method: &str,
    args: A,
) -> Result<R, CallFailure> {
    let out = call_raw(contract, &crate::message(method, args))?;
    R::decode(&mut &out[..]).map_err(|_| CallFailure::Decode)
}

/// Reads the latest record of `subject` in `dataset` inside a sealed call: its payload (the
/// fields SCALE-encoded in schema order), or `None` when refused (no approval, no usable
/// consent, no record, …; the audit trail records why). After the first successful read,
/// storage writes, events and calls to other contracts trap.
pub fn sealed_read_raw(subject: &Hash, dataset: &str) -> Option<Vec<u8>> {
    backend::sealed_read_raw(subject, dataset)
}

/// sha3-256 of `data`.
pub fn sha3_256(data: &[u8]) -> Hash {
    backend::sha3_256(data)
}

/// Strict ed25519 verification of `signature` over `message` by `public_key`.
pub fn ed25519_verify(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    backend::ed25519_verify(public_key, message, signature)
}

/// Writes a message to the node's debug log (off-consensus; dry-runs show it).
pub fn debug(message: &str) {
    backend::debug(message)
}

#[cfg(target_arch = "wasm32")]
mod backend {
    use super::CallFailure;
    use crate::wasm::sys;
    use crate::{AccountId, Hash};
    use alloc::vec;
    use alloc::vec::Vec;
    use civitas_primitives::abi::{call_status, STORAGE_ABSENT};

    fn ptr(b: &[u8]) -> i32 {
        b.as_ptr() as i32
    }
    fn len(b: &[u8]) -> i32 {
        b.len() as i32
    }

    pub fn input() -> Vec<u8> {
        unsafe {
            let mut buf = vec![0u8; sys::input_len() as usize];
            sys::input_read(buf.as_mut_ptr() as i32);
            buf
        }
    }
    pub fn set_return(data: &[u8]) {
        unsafe { sys::set_return(ptr(data), len(data)) }
    }
    pub fn revert(message: &[u8]) -> ! {
        unsafe {
            sys::revert(ptr(message), len(message));
            core::arch::wasm32::unreachable()
        }
    }
    pub fn storage_get(key: &[u8]) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 128];
        let n = unsafe { sys::storage_read(ptr(key), len(key), buf.as_mut_ptr() as i32, 128) };
        if n == STORAGE_ABSENT {
            return None;
        }
        let n = n as usize;
        if n > buf.len() {
            buf = vec![0u8; n];
            unsafe { sys::storage_read(ptr(key), len(key), buf.as_mut_ptr() as i32, n as i32) };
        }
        buf.truncate(n);
        Some(buf)
    }
    pub fn storage_set(key: &[u8], value: &[u8]) {
        unsafe { sys::storage_write(ptr(key), len(key), ptr(value), len(value)) }
    }
    pub fn storage_remove(key: &[u8]) {
        unsafe { sys::storage_remove(ptr(key), len(key)) }
    }
    pub fn caller() -> AccountId {
        let mut out = [0u8; 32];
        unsafe { sys::caller(out.as_mut_ptr() as i32) };
        AccountId(out)
    }
    pub fn self_address() -> AccountId {
        let mut out = [0u8; 32];
        unsafe { sys::self_address(out.as_mut_ptr() as i32) };
        AccountId(out)
    }
    pub fn block_height() -> u64 {
        unsafe { sys::block_height() as u64 }
    }
    pub fn block_time() -> u64 {
        unsafe { sys::block_time() as u64 }
    }
    pub fn emit_raw(topic: &[u8], data: &[u8]) {
        unsafe { sys::emit_event(ptr(topic), len(topic), ptr(data), len(data)) }
    }
    pub fn call_raw(contract: &AccountId, input: &[u8]) -> Result<Vec<u8>, CallFailure> {
        let status = unsafe { sys::call_contract(ptr(&contract.0), ptr(input), len(input)) };
        let mut out = vec![0u8; unsafe { sys::result_len() } as usize];
        unsafe { sys::result_read(out.as_mut_ptr() as i32) };
        match status {
            call_status::OK => Ok(out),
            call_status::REVERTED => Err(CallFailure::Reverted(out)),
            _ => Err(CallFailure::Trapped(out)),
        }
    }
    pub fn sealed_read_raw(subject: &Hash, dataset: &str) -> Option<Vec<u8>> {
        let d = dataset.as_bytes();
        let status = unsafe { sys::sealed_read(ptr(&subject.0), ptr(d), len(d)) };
        if status != civitas_primitives::abi::sealed_status::OK {
            return None;
        }
        let mut out = vec![0u8; unsafe { sys::result_len() } as usize];
        unsafe { sys::result_read(out.as_mut_ptr() as i32) };
        Some(out)
    }
    pub fn sha3_256(data: &[u8]) -> Hash {
        let mut out = [0u8; 32];
        unsafe { sys::sha3_256(ptr(data), len(data), out.as_mut_ptr() as i32) };
        Hash(out)
    }
    pub fn ed25519_verify(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
        unsafe { sys::ed25519_verify(ptr(pk), ptr(msg), len(msg), ptr(sig)) == 1 }
    }
    pub fn debug(message: &str) {
        unsafe { sys::debug_log(ptr(message.as_bytes()), len(message.as_bytes())) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod backend {
    pub use crate::test::host::*;
}

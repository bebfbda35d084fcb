//! The host ABI: the one declaration of every function the runtime offers to contracts under the
//! import module `civitas`.
//!
//! [`for_each_host_fn!`] hands the whole table to a callback macro. The SDK generates its
//! `extern "C"` imports from it, the runtime generates its linker and its dispatch trait from
//! it, and the deploy-time validator checks imports against [`HOST_FUNCTIONS`], which is
//! generated from it here. Changing the ABI is therefore one diff in this file.
//!
//! Conventions: pointers and lengths are `i32` offsets into the contract's linear memory;
//! 32-byte values (account ids, hashes) are written to or read from a 32-byte buffer; functions
//! that return data of unknown size write it into the host's *result buffer*, which the contract
//! copies out with `result_len` / `result_read`.

/// The import module name every host function lives under.
pub const HOST_MODULE: &str = "civitas";

/// Exports every contract module must have.
pub const REQUIRED_EXPORTS: &[&str] = &["memory", "deploy", "call"];

/// A function export that marks a contract as accepting re-entrant calls.
pub const REENTRANT_MARKER_EXPORT: &str = "civitas_reentrant";

/// `storage_read` returns this when the key is absent.
pub const STORAGE_ABSENT: i32 = -1;

/// Status codes returned by `sealed_read`.
pub mod sealed_status {
    /// The record's payload is in the result buffer.
    pub const OK: i32 = 0;
    /// Refused (no approval, no usable consent, no record, …: the audit trail says which).
    pub const REFUSED: i32 = 1;
}

/// Status codes returned by `call_contract`.
pub mod call_status {
    /// The callee returned normally; its output is in the result buffer.
    pub const OK: i32 = 0;
    /// The callee reverted; its revert message is in the result buffer.
    pub const REVERTED: i32 = 1;
    /// The callee trapped (unreachable, out-of-bounds access, …); the result buffer is empty.
    pub const TRAPPED: i32 = 2;
}

/// Calls `$callback! { … }` with the host function table.
///
/// Each entry is `fn name(arg: i32|i64, …) [-> i32|i64] [cost = Class];` with doc comments,
/// where `Class` names a [`CostClass`] variant: the fuel the runtime charges for the call. The
/// cost is part of the entry's syntax, so an entry without one matches no callback and does not
/// compile. The callback decides what to generate.
#[macro_export]
macro_rules! for_each_host_fn {
    ($callback:ident) => {
        $callback! {
            /// Length in bytes of the call's input (selector + SCALE-encoded arguments).
            fn input_len() -> i32 [cost = Context];
            /// Copies the whole input to `dst`.
            fn input_read(dst: i32) [cost = Context];
            /// Sets the call's output. A later call replaces it.
            fn set_return(ptr: i32, len: i32) [cost = Context];
            /// Aborts the call: every state change of this call is undone and `ptr..ptr+len` becomes the revert message. Never returns.
            fn revert(ptr: i32, len: i32) [cost = Context];
            /// Reads the value under a key of this contract's storage: copies at most `cap` bytes to `dst` and returns the value's full length, or -1 when absent.
            fn storage_read(key_ptr: i32, key_len: i32, dst: i32, cap: i32) -> i32 [cost = StorageRead];
            /// Writes a value under a key of this contract's storage.
            fn storage_write(key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32) [cost = StorageWrite];
            /// Removes a key from this contract's storage.
            fn storage_remove(key_ptr: i32, key_len: i32) [cost = StorageRemove];
            /// Writes the 32-byte account id of the immediate caller to `dst`.
            fn caller(dst: i32) [cost = Context];
            /// Writes the 32-byte address of the executing contract to `dst`.
            fn self_address(dst: i32) [cost = Context];
            /// Height of the block being executed.
            fn block_height() -> i64 [cost = Context];
            /// Time of the block being executed, in milliseconds since the Unix epoch (set by the proposer, never the wall clock).
            fn block_time() -> i64 [cost = Context];
            /// Emits an event with a topic (e.g. its name) and SCALE-encoded data.
            fn emit_event(topic_ptr: i32, topic_len: i32, data_ptr: i32, data_len: i32) [cost = Event];
            /// Calls another contract synchronously with `input`; returns a `call_status` code and leaves the output or revert message in the result buffer.
            fn call_contract(addr_ptr: i32, input_ptr: i32, input_len: i32) -> i32 [cost = Call];
            /// Length of the result buffer.
            fn result_len() -> i32 [cost = Context];
            /// Copies the result buffer to `dst`.
            fn result_read(dst: i32) [cost = Context];
            /// Writes sha3-256 of `ptr..ptr+len` to the 32 bytes at `dst`.
            fn sha3_256(ptr: i32, len: i32, dst: i32) [cost = Hash];
            /// Verifies an ed25519 signature (strict): public key 32 bytes at `pk_ptr`, signature 64 bytes at `sig_ptr`. Returns 1 if valid, 0 if not.
            fn ed25519_verify(pk_ptr: i32, msg_ptr: i32, msg_len: i32, sig_ptr: i32) -> i32 [cost = Signature];
            /// Writes a UTF-8 message to the node's debug log. Off-consensus: never affects state or receipts.
            fn debug_log(ptr: i32, len: i32) [cost = Context];
            /// Reads the latest record of a citizen (32-byte subject id at `subject_ptr`) in a dataset (UTF-8 id at `dataset_ptr`) inside a sealed call; returns a `sealed_status` code and leaves the payload in the result buffer. After the first successful read, storage writes, events and outgoing calls trap.
            fn sealed_read(subject_ptr: i32, dataset_ptr: i32, dataset_len: i32) -> i32 [cost = Sealed];
        }
    };
}

/// How the runtime meters a host function. Each class has a base cost, charged on entry on top
/// of the fee every host call pays, and a per-byte cost, charged for every byte the function
/// reads from the contract's memory (on top of the copy cost every byte moved in either
/// direction pays). The numbers live in the runtime's fuel table, one entry per class.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum CostClass {
    /// Call context, input, output and result buffer: nothing beyond the call fee and copies.
    Context,
    /// A lookup in the contract's storage.
    StorageRead,
    /// A write to the contract's storage; key and value bytes are charged.
    StorageWrite,
    /// A removal from the contract's storage; no bytes are stored.
    StorageRemove,
    /// An event; topic and data bytes are charged.
    Event,
    /// A call into another contract (an instantiation).
    Call,
    /// A hash; hashed bytes are charged.
    Hash,
    /// A signature verification.
    Signature,
    /// A sealed read of a granted record: a store lookup and a decryption (its consent,
    /// charge and audit entry were settled before the call ran).
    Sealed,
}

/// A WebAssembly value type used by the host ABI.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AbiType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
}

/// The signature of one host function.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HostFnSig {
    /// Import name under [`HOST_MODULE`].
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [AbiType],
    /// Result types (empty or one).
    pub results: &'static [AbiType],
    /// How the runtime charges fuel for it.
    pub cost: CostClass,
}

#[doc(hidden)]
#[macro_export]
macro_rules! __abi_type {
    (i32) => {
        $crate::abi::AbiType::I32
    };
    (i64) => {
        $crate::abi::AbiType::I64
    };
}

macro_rules! host_fn_table {
    ($( $(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:tt),* ) $(-> $ret:tt)? [cost = $class:ident]; )*) => {
        /// Every host function's name, signature and cost class, in declaration order.
        pub const HOST_FUNCTIONS: &[HostFnSig] = &[
            $( HostFnSig {
                name: stringify!($name),
                params: &[$( $crate::__abi_type!($ty) ),*],
                results: &[$( $crate::__abi_type!($ret) )?],
                cost: CostClass::$class,
            }, )*
        ];
    };
}
for_each_host_fn!(host_fn_table);

/// Looks up a host function by import name.
pub fn host_fn(name: &str) -> Option<&'static HostFnSig> {
    HOST_FUNCTIONS.iter().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_unique_names_and_known_entries() {
        let mut names: alloc::vec::Vec<_> = HOST_FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate host function names");
        let sr = host_fn("storage_read").expect("storage_read declared");
        assert_eq!(sr.params, &[AbiType::I32; 4]);
        assert_eq!(sr.results, &[AbiType::I32]);
        assert_eq!(
            host_fn("block_height").map(|f| f.results),
            Some(&[AbiType::I64][..])
        );
        assert!(host_fn("sealed_read").is_some());
        assert!(host_fn("fd_write").is_none());
        assert_eq!(sr.cost, CostClass::StorageRead);
        assert_eq!(
            host_fn("storage_write").map(|f| f.cost),
            Some(CostClass::StorageWrite)
        );
    }
}

//! The Civitas contract SDK: what a contract author writes against.
//!
//! - [`contract`], [`storage`], [`Event`] and [`ContractError`] macros turn an ordinary Rust
//!   type into a contract with SCALE-encoded messages, selectors and metadata.
//! - [`storage`] types ([`storage::Value`], [`storage::Mapping`]) keep typed values in the
//!   contract's key-value store.
//! - [`env`] is the contract's view of the chain: caller, block, events, calls, hashing,
//!   signatures.
//! - On `wasm32` the SDK talks to the host through the imports generated from the ABI table in
//!   `civitas_primitives::abi`, and brings a small bump allocator and a panic handler that
//!   reverts. Natively it runs contract code against [`test`], an off-chain mock host, so unit
//!   tests need no VM.
//!
//! The SDK is `no_std` + `alloc` on wasm and depends only on `civitas-primitives`.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod dispatch;
pub mod env;
pub mod sealed;
pub mod storage;

#[cfg(target_arch = "wasm32")]
mod wasm;

#[cfg(not(target_arch = "wasm32"))]
pub mod metadata;
#[cfg(not(target_arch = "wasm32"))]
pub mod test;

pub use alloc::string::String;
pub use alloc::vec::Vec;
pub use civitas_primitives::{selector, AccountId, Decimal, DecimalError, Hash, Selector};
pub use civitas_sdk_macros::{contract, storage, ContractError, Event};
pub use parity_scale_codec as codec;
pub use scale_info;

/// An event: a SCALE-encodable type with a topic (its name, via `#[derive(Event)]`).
pub trait Event: codec::Encode {
    /// The topic the event is emitted under.
    const TOPIC: &'static str;
}

/// An error a contract returns from an entry point; its reason becomes the revert message.
pub trait ContractError {
    /// A short, stable reason (the variant name, via `#[derive(ContractError)]`).
    fn reason(&self) -> &'static str;
}

/// Everything a contract usually imports.
pub mod prelude {
    pub use crate::env;
    pub use crate::sealed;
    pub use crate::storage::{Mapping, Value};
    pub use crate::{contract, storage, AccountId, ContractError, Decimal, Event, Hash};
    pub use alloc::string::String;
    pub use alloc::vec::Vec;
    pub use parity_scale_codec::{Decode, Encode};
    pub use scale_info::TypeInfo;
}

/// Encodes a message: the method's selector followed by its SCALE-encoded arguments tuple.
pub fn message<A: codec::Encode>(method: &str, args: A) -> Vec<u8> {
    let mut out = selector(method).to_vec();
    args.encode_to(&mut out);
    out
}

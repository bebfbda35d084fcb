//! Types every Civitas crate shares: 32-byte hashes and account ids, the host ABI table that both
//! the contract SDK and the runtime are generated from, message selectors, a fixed-point
//! decimal, transactions, blocks, receipts, Merkle roots and (with `std`) ed25519 signing.
//!
//! This crate is `no_std` + `alloc` so that contracts can use it; it holds data and pure
//! functions only, never I/O or chain logic.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod abi;
pub mod block;
#[cfg(feature = "verify")]
pub mod certificate;
#[cfg(feature = "std")]
pub mod clock;
pub mod committee;
#[cfg(feature = "std")]
pub mod crypto;
pub mod decimal;
#[cfg(feature = "std")]
pub mod dev;
pub mod hash;
#[cfg(feature = "verify")]
pub mod light;
pub mod merkle;
#[cfg(feature = "std")]
pub mod proof;
pub mod state;
pub mod tx;
pub mod vault;

pub use decimal::{Decimal, DecimalError};
pub use hash::{contract_address, selector, sha3_256, AccountId, Hash, Selector};

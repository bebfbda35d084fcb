//! The Civitas runtime: everything that decides what a contract may be and what a call does.
//!
//! - [`validate`]: deploy-time checks of contract modules (the chain's acceptance rule).
//! - `vm` (cargo feature `vm`, on by default): the wasmtime VM, its limits and fuel table, and the host ABI behind import module
//!   `civitas`.
//! - [`state`]: the [`state::StateBackend`] trait through which the VM reads committed state,
//!   and the overlay that collects a call's writes.
//! - [`error`]: typed call failures.
//!
//! The runtime never touches disk or network itself: the ledger supplies state through
//! [`state::StateBackend`] and applies the storage changes a call returns.

pub mod error;
pub mod state;
pub mod validate;
#[cfg(feature = "vm")]
pub mod vm;

pub use error::{HostError, VmError};
pub use state::{
    MemoryState, SealedRead, SealedReadRequest, SealedSource, StateBackend, StateError,
    StorageChange,
};
pub use validate::{validate_module, ModuleInfo, ValidationError, ValidationLimits};
#[cfg(feature = "vm")]
pub use vm::{
    engine_config as vm_engine_config, pooling_config as vm_pooling_config, BlockContext,
    CallError, CallOutcome, CallRequest, Entry, Event, Vm, VmConfig,
};

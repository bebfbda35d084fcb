//! The Civitas ledger: the state machine around the contract VM.
//!
//! - [`store`]: RocksDB column families, the Jellyfish Merkle tree's storage, blocks, receipts,
//!   certificates, the head pointer, atomic block commits.
//! - [`state`]: the state layout and [`state::StateView`], a block's writes over committed state.
//! - [`executor`]: transaction checks, calls, governance, block proposal and validation.
//! - [`genesis`]: the genesis document.
//! - [`proof`]: state proofs and their client-side verification.
//! - [`access`]: identities, datasets, records, consents, code approvals, the audit trail and
//!   the sealed-read decision.
//! - [`vault`]: this node's encrypted record and sealed-result store (off the state root).
//!
//! The ledger knows nothing of networking or consensus: a consensus adapter drives
//! [`executor::Executor::propose`], [`executor::Executor::validate`] and
//! [`executor::Executor::commit`].

pub mod access;
pub mod executor;
pub mod genesis;
pub mod proof;
pub mod secret_file;
pub mod state;
pub mod store;
pub mod vault;

pub use executor::fuel;
pub use executor::{
    is_sealed_call, BlockProposal, BlockRuleError, ChainParams, DryRun, ExecError, ExecutedBlock,
    Executor, SealedJob, TxError, DEFAULT_BLOCK_SEALED_FUEL_LIMIT, DEFAULT_BLOCK_TIME_MS,
    DEFAULT_SEALED_FUEL_CAP,
};
pub use genesis::{Genesis, GenesisAccount};
pub use store::{Head, Store, StoreConfig, StoreError};

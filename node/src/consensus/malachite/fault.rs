//! Test-only Byzantine behaviour of a proposer, for end-to-end tests of a department network
//! with one faulty validator. Compiled only in debug builds (`cfg(debug_assertions)`): a
//! release binary contains none of it, and the environment variable below means nothing to it.
//!
//! `CIVITAS_FAULT_PROPOSER=wrong_state_root`: whenever this validator proposes, the block it
//! streams claims a state root other than the one its transactions execute to (its header is
//! re-hashed, the block still signed by this proposer). Honest validators re-execute every
//! proposal and refuse to vote for it; the height is decided in a later round with another
//! proposer's block. Any other value is refused at start, so a typo never runs an honest node
//! where a test expects a faulty one.
use civitas_primitives::block::Block;
use civitas_primitives::sha3_256;
use thiserror::Error;

/// The environment variable that turns a fault on.
pub const FAULT_ENV: &str = "CIVITAS_FAULT_PROPOSER";

/// A fault this node's proposals carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProposerFault {
    /// The header's state root is not the executed one.
    WrongStateRoot,
}

/// [`FAULT_ENV`] names no known fault.
#[derive(Debug, Error)]
#[error("{FAULT_ENV}={0:?} is no known fault (known: wrong_state_root)")]
pub struct UnknownFault(String);

impl ProposerFault {
    /// The fault [`FAULT_ENV`] asks for, if any.
    pub fn from_env() -> Result<Option<Self>, UnknownFault> {
        match std::env::var(FAULT_ENV) {
            Err(_) => Ok(None),
            Ok(v) if v.is_empty() => Ok(None),
            Ok(v) if v == "wrong_state_root" => Ok(Some(ProposerFault::WrongStateRoot)),
            Ok(v) => Err(UnknownFault(v)),
        }
    }

    /// Corrupts this node's own block before it is signed and streamed.
    pub fn corrupt(self, block: &mut Block) {
        match self {
            ProposerFault::WrongStateRoot => {
                let mut bytes = block.header.state_root.0.to_vec();
                bytes.extend_from_slice(b"civitas/fault/wrong-state-root");
                block.header.state_root = sha3_256(&bytes);
            }
        }
    }
}

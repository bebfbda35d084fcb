//! The light-client rule shared by the CLI (`civitas audit --verify`) and the browser wallet:
//! starting from a pinned trust root (a chain id and a validator set), a header is believed
//! when its commit certificate carries a quorum of a set the client already trusts, or of a set
//! announced, through `next_validators_hash`, by a header believed before it.
//!
//! A client proves one height with a short list of [`LightStep`]s, oldest first: the last
//! header of each validator set on the way (the one that announces the next set), then the
//! header wanted. Heights where the set did not change are skipped. Like every skipping light
//! client, this trusts that a validator set which once held a quorum does not later sign a
//! conflicting history.
use alloc::vec::Vec;
use core::fmt;

use crate::block::{validators_hash, CommitCertificate, Header};
use crate::certificate::{verify_certificate, CertificateError};
use crate::{AccountId, Hash};

/// One header on the way from the trust root, with its certificate and the validator set of
/// its height.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LightStep {
    /// The header.
    pub header: Header,
    /// Its commit certificate.
    pub certificate: CommitCertificate,
    /// The validators of its height.
    pub validators: Vec<AccountId>,
}

/// Why a list of steps does not prove its last header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LightError {
    /// No steps were given.
    Empty,
    /// A header is of another chain.
    WrongChain {
        /// Its height.
        height: u64,
    },
    /// The first step's validator set is none the client trusts.
    UntrustedSet {
        /// The step's height.
        height: u64,
        /// The hash of the set given.
        set_hash: Hash,
    },
    /// A step's validator set is not the one announced by the header before it.
    UnannouncedSet {
        /// The step's height.
        height: u64,
    },
    /// Steps are not in increasing height order.
    OutOfOrder {
        /// The offending height.
        height: u64,
    },
    /// A certificate does not prove its header.
    Certificate {
        /// The header's height.
        height: u64,
        /// Why.
        error: CertificateError,
    },
}

impl fmt::Display for LightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no headers to verify"),
            Self::WrongChain { height } => write!(f, "the header of height {height} is of another chain"),
            Self::UntrustedSet { height, set_hash } => write!(
                f,
                "the validators of height {height} (set hash {}) are not a set the trust root vouches for",
                hex::encode(set_hash.0)
            ),
            Self::UnannouncedSet { height } => write!(
                f,
                "the validator set of height {height} is not the one announced before it"
            ),
            Self::OutOfOrder { height } => write!(f, "height {height} does not follow the header before it"),
            Self::Certificate { height, error } => {
                write!(f, "block {height}'s certificate does not prove it: {error}")
            }
        }
    }
}

impl core::error::Error for LightError {}

/// Verifies `steps` (oldest first) of chain `chain_id`: the first step's validator set must be
/// one of `trusted_sets` (set hashes), each later step's set the one the header before it
/// announced, every header in the chain and every certificate a quorum of its set. Returns the
/// headers proven, in order (the last is the one asked for).
pub fn verify_steps(
    chain_id: &str,
    trusted_sets: &[Hash],
    steps: &[LightStep],
) -> Result<Vec<Header>, LightError> {
    let first = steps.first().ok_or(LightError::Empty)?;
    let first_set = validators_hash(&first.validators);
    if !trusted_sets.contains(&first_set) {
        return Err(LightError::UntrustedSet {
            height: first.header.height,
            set_hash: first_set,
        });
    }
    let mut proven: Vec<Header> = Vec::with_capacity(steps.len());
    for step in steps {
        let h = &step.header;
        if h.chain_id != chain_id {
            return Err(LightError::WrongChain { height: h.height });
        }
        if let Some(prev) = proven.last() {
            if h.height <= prev.height {
                return Err(LightError::OutOfOrder { height: h.height });
            }
            if validators_hash(&step.validators) != prev.next_validators_hash {
                return Err(LightError::UnannouncedSet { height: h.height });
            }
        }
        verify_certificate(h, &step.certificate, &step.validators).map_err(|error| {
            LightError::Certificate {
                height: h.height,
                error,
            }
        })?;
        proven.push(h.clone());
    }
    Ok(proven)
}

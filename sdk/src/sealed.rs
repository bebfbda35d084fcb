//! Reading citizens' records inside a sealed call. A record's payload is the SCALE encoding of
//! its dataset's fields in schema order, so a contract reads it into a
//! `#[derive(Decode)]` struct with the same fields.
use parity_scale_codec::Decode;

use crate::Hash;

/// Why a sealed read gave nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealedError {
    /// The chain refused: no approval, no usable consent, no record, … (one uniform answer;
    /// the citizen's audit trail records the reason).
    Refused,
    /// The payload does not decode as the requested type.
    Decode,
}

/// Reads the latest record of `subject` in `dataset` and decodes it as `T`.
pub fn read<T: Decode>(subject: &Hash, dataset: &str) -> Result<T, SealedError> {
    let bytes = crate::env::sealed_read_raw(subject, dataset).ok_or(SealedError::Refused)?;
    T::decode(&mut &bytes[..]).map_err(|_| SealedError::Decode)
}

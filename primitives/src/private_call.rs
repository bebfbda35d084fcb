//! Private calls: the kinds of call that concern a person's data travel as
//! [`Call::Private`], their body ([`PrivateBody`]) bound to its transaction and encrypted to
//! the chain access key; this module names those kinds and opens a body's plaintext.
use alloc::string::String;
use parity_scale_codec::{Decode, DecodeAll, Encode};
use scale_info::TypeInfo;

use crate::tx::{check_call_limits, Call, Transaction, TxFormatError};
use crate::AccountId;

/// The kinds of call that concern a person's data (who is bound to which key, whose record
/// was committed, who asked for or gave consent, who computed over or received whose data):
/// their bodies travel encrypted ([`Call::Private`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum PrivateKind {
    /// [`Call::BindIdentity`].
    BindIdentity,
    /// [`Call::CommitRecord`].
    CommitRecord,
    /// [`Call::RequestConsent`].
    RequestConsent,
    /// [`Call::Consent`].
    Consent,
    /// [`Call::SealedCall`].
    SealedCall,
    /// [`Call::Disclose`].
    Disclose,
}

impl PrivateKind {
    /// The private kind of a plain call, if it is one.
    pub fn of(call: &Call) -> Option<Self> {
        Some(match call {
            Call::BindIdentity { .. } => PrivateKind::BindIdentity,
            Call::CommitRecord { .. } => PrivateKind::CommitRecord,
            Call::RequestConsent { .. } => PrivateKind::RequestConsent,
            Call::Consent { .. } => PrivateKind::Consent,
            Call::SealedCall { .. } => PrivateKind::SealedCall,
            Call::Disclose { .. } => PrivateKind::Disclose,
            _ => return None,
        })
    }

    /// The kind's name, as [`Call::kind`] gives it.
    pub const fn name(self) -> &'static str {
        match self {
            PrivateKind::BindIdentity => "bind_identity",
            PrivateKind::CommitRecord => "commit_record",
            PrivateKind::RequestConsent => "request_consent",
            PrivateKind::Consent => "consent",
            PrivateKind::SealedCall => "sealed_call",
            PrivateKind::Disclose => "disclose",
        }
    }
}

/// Signing-free binding of a private body to its transaction: the plaintext of
/// [`Call::Private`]'s envelope. A body copied into another account's transaction, or replayed
/// under another nonce or chain, does not open as that transaction's call.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct PrivateBody {
    /// The transaction's chain.
    pub chain_id: String,
    /// The transaction's signer.
    pub signer: AccountId,
    /// The transaction's nonce.
    pub nonce: u64,
    /// The plain call, of the envelope's kind.
    pub call: Call,
}

/// Why a private call does not open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivateCallError {
    /// The envelope does not decrypt with the chain access key.
    Undecryptable,
    /// The plaintext is not a SCALE-encoded [`PrivateBody`].
    Malformed,
    /// The body is bound to another chain, signer or nonce.
    NotThisTransaction,
    /// The body's call is not of the declared kind.
    KindMismatch {
        /// The declared kind.
        declared: &'static str,
    },
    /// The body's call breaks a field limit.
    Format(TxFormatError),
}

impl core::fmt::Display for PrivateCallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PrivateCallError::Undecryptable => {
                f.write_str("the private body does not decrypt with the chain access key")
            }
            PrivateCallError::Malformed => f.write_str("the private body does not decode"),
            PrivateCallError::NotThisTransaction => f.write_str(
                "the private body is bound to another chain, signer or nonce than its transaction",
            ),
            PrivateCallError::KindMismatch { declared } => {
                write!(f, "the private body is not a {declared} call")
            }
            PrivateCallError::Format(e) => write!(f, "the private body: {e}"),
        }
    }
}

impl PrivateBody {
    /// Decodes an opened envelope's plaintext as the body of `tx`'s private call of `kind`,
    /// checking the binding, the kind and the field limits.
    pub fn decode_for(
        plaintext: &[u8],
        tx: &Transaction,
        kind: PrivateKind,
    ) -> Result<Call, PrivateCallError> {
        let body = PrivateBody::decode_all(&mut &plaintext[..])
            .map_err(|_| PrivateCallError::Malformed)?;
        if body.chain_id != tx.chain_id || body.signer != tx.signer || body.nonce != tx.nonce {
            return Err(PrivateCallError::NotThisTransaction);
        }
        if PrivateKind::of(&body.call) != Some(kind) {
            return Err(PrivateCallError::KindMismatch {
                declared: kind.name(),
            });
        }
        check_call_limits(&body.call).map_err(PrivateCallError::Format)?;
        Ok(body.call)
    }
}

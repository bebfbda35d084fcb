//! The one check applied to a block that this node (or client) did not decide itself: its commit
//! certificate carries valid signatures of more than two thirds of the validators of its height,
//! each signer in the set and none twice, over this header, and the header commits to that set.
//! `no_std`: the browser wallet runs the same code as the node and the CLI.
use core::fmt;

use ed25519_dalek::{Signature, VerifyingKey};

use crate::block::{
    canonical_set, quorum, validators_hash, vote_message, CommitCertificate, Header,
};
use crate::{AccountId, Hash};

/// Why a certificate does not prove its header was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateError {
    /// The certificate is for another height.
    HeightMismatch {
        /// The header's height.
        header: u64,
        /// The certificate's height.
        certificate: u64,
    },
    /// The certificate signs another block.
    BlockHashMismatch,
    /// The validator set given is not the one the header commits to.
    ValidatorSetMismatch,
    /// The validator set is empty.
    NoValidators,
    /// A signer is not in the validator set.
    UnknownSigner(AccountId),
    /// A validator signed twice.
    DuplicateSigner(AccountId),
    /// A signature does not verify (wrong key, chain, height, round or block).
    BadSignature(AccountId),
    /// Too few distinct validators signed.
    NoQuorum {
        /// Distinct valid signers.
        signed: usize,
        /// Signers needed: more than two thirds of the set.
        needed: usize,
        /// Size of the set.
        validators: usize,
    },
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HeightMismatch {
                header,
                certificate,
            } => write!(
                f,
                "the certificate is for height {certificate}, the header for height {header}"
            ),
            Self::BlockHashMismatch => write!(f, "the certificate signs another block"),
            Self::ValidatorSetMismatch => {
                write!(f, "the validator set is not the one the header commits to")
            }
            Self::NoValidators => write!(f, "the validator set is empty"),
            Self::UnknownSigner(a) => write!(f, "signer {a} is not a validator of this height"),
            Self::DuplicateSigner(a) => write!(f, "validator {a} signed twice"),
            Self::BadSignature(a) => write!(f, "the signature of {a} does not verify"),
            Self::NoQuorum {
                signed,
                needed,
                validators,
            } => write!(
                f,
                "{signed} of {validators} validators signed; more than two thirds ({needed}) must"
            ),
        }
    }
}

impl core::error::Error for CertificateError {}

/// Strict ed25519 verification of `signature` by `signer` over the 32-byte `hash`.
pub fn verify_signature(signer: &AccountId, hash: &Hash, signature: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(&signer.0) else {
        return false;
    };
    key.verify_strict(&hash.0, &Signature::from_bytes(signature))
        .is_ok()
}

/// Checks that `certificate` proves `header` was decided by `validators`, the validator set of
/// the header's height: the header commits to the set, every signer is in it and signed once,
/// every signature is valid over ([`vote_message`]) this chain, height, round and block, and
/// more than two thirds of the set signed.
pub fn verify_certificate(
    header: &Header,
    certificate: &CommitCertificate,
    validators: &[AccountId],
) -> Result<(), CertificateError> {
    if certificate.height != header.height {
        return Err(CertificateError::HeightMismatch {
            header: header.height,
            certificate: certificate.height,
        });
    }
    let block_hash = header.hash();
    if certificate.block_hash != block_hash {
        return Err(CertificateError::BlockHashMismatch);
    }
    let set = canonical_set(validators);
    if set.is_empty() {
        return Err(CertificateError::NoValidators);
    }
    if validators_hash(&set) != header.validators_hash {
        return Err(CertificateError::ValidatorSetMismatch);
    }
    let message = vote_message(
        &header.chain_id,
        header.height,
        certificate.round,
        &block_hash,
    );
    let mut seen: alloc::vec::Vec<AccountId> =
        alloc::vec::Vec::with_capacity(certificate.signatures.len());
    for (signer, signature) in &certificate.signatures {
        if set.binary_search(signer).is_err() {
            return Err(CertificateError::UnknownSigner(*signer));
        }
        if seen.contains(signer) {
            return Err(CertificateError::DuplicateSigner(*signer));
        }
        if !verify_signature(signer, &message, signature) {
            return Err(CertificateError::BadSignature(*signer));
        }
        seen.push(*signer);
    }
    let needed = quorum(set.len());
    if seen.len() < needed {
        return Err(CertificateError::NoQuorum {
            signed: seen.len(),
            needed,
            validators: set.len(),
        });
    }
    Ok(())
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::crypto::Keypair;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    fn keys(n: usize) -> Vec<Keypair> {
        (0..n)
            .map(|i| Keypair::dev(&alloc::format!("validator-{i}")))
            .collect()
    }

    fn set(keys: &[Keypair]) -> Vec<AccountId> {
        keys.iter().map(|k| k.account()).collect()
    }

    fn header(validators: &[AccountId]) -> Header {
        Header {
            chain_id: "test-chain".into(),
            height: 7,
            parent_hash: Hash([1; 32]),
            time_ms: 1_000,
            proposer: validators[0],
            tx_root: Hash([2; 32]),
            state_root: Hash([3; 32]),
            receipts_root: Hash([4; 32]),
            validators_hash: validators_hash(validators),
            next_validators_hash: validators_hash(validators),
        }
    }

    fn vote(k: &Keypair, chain: &str, h: &Header, round: u32) -> (AccountId, [u8; 64]) {
        let msg = vote_message(chain, h.height, round, &h.hash());
        (k.account(), k.sign_hash(&msg))
    }

    fn certificate(h: &Header, signers: &[&Keypair], round: u32) -> CommitCertificate {
        CommitCertificate {
            height: h.height,
            round,
            block_hash: h.hash(),
            signatures: signers
                .iter()
                .map(|k| vote(k, &h.chain_id, h, round))
                .collect(),
        }
    }

    #[test]
    fn quorum_is_more_than_two_thirds() {
        // n = 3f + 1 needs 2f + 1; other sizes need the next integer above 2n/3.
        let expected = [
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 3),
            (5, 4),
            (6, 5),
            (7, 5),
            (10, 7),
        ];
        for (n, q) in expected {
            assert_eq!(quorum(n), q, "n = {n}");
            assert!(3 * quorum(n) > 2 * n && 3 * (quorum(n) - 1) <= 2 * n);
        }
    }

    #[test]
    fn exactly_a_quorum_passes_and_one_below_fails() {
        let ks = keys(4);
        let vs = set(&ks);
        let h = header(&vs);
        let three = certificate(&h, &[&ks[0], &ks[1], &ks[2]], 0);
        assert_eq!(verify_certificate(&h, &three, &vs), Ok(()));
        let all = certificate(&h, &[&ks[3], &ks[1], &ks[0], &ks[2]], 2);
        assert_eq!(verify_certificate(&h, &all, &vs), Ok(()));
        let two = certificate(&h, &[&ks[0], &ks[1]], 0);
        assert_eq!(
            verify_certificate(&h, &two, &vs),
            Err(CertificateError::NoQuorum {
                signed: 2,
                needed: 3,
                validators: 4
            })
        );
        // The order in which the set is given does not matter.
        let mut reversed = vs.clone();
        reversed.reverse();
        assert_eq!(verify_certificate(&h, &three, &reversed), Ok(()));
    }

    #[test]
    fn a_duplicate_signer_does_not_count_twice() {
        let ks = keys(4);
        let vs = set(&ks);
        let h = header(&vs);
        let mut cert = certificate(&h, &[&ks[0], &ks[1]], 0);
        cert.signatures.push(cert.signatures[1]);
        assert_eq!(
            verify_certificate(&h, &cert, &vs),
            Err(CertificateError::DuplicateSigner(ks[1].account()))
        );
    }

    #[test]
    fn an_unknown_signer_is_refused_even_with_a_quorum_beside_it() {
        let ks = keys(4);
        let vs = set(&ks);
        let h = header(&vs);
        let stranger = Keypair::dev("stranger");
        let cert = certificate(&h, &[&ks[0], &ks[1], &ks[2], &stranger], 0);
        assert_eq!(
            verify_certificate(&h, &cert, &vs),
            Err(CertificateError::UnknownSigner(stranger.account()))
        );
    }

    #[test]
    fn votes_are_bound_to_round_chain_height_and_block() {
        let ks = keys(4);
        let vs = set(&ks);
        let h = header(&vs);
        // Signed for round 1, presented as round 0.
        let mut cert = certificate(&h, &[&ks[0], &ks[1], &ks[2]], 1);
        cert.round = 0;
        assert_eq!(
            verify_certificate(&h, &cert, &vs),
            Err(CertificateError::BadSignature(ks[0].account()))
        );
        // Signed for round 0, presented as round 3.
        let mut cert = certificate(&h, &[&ks[0], &ks[1], &ks[2]], 0);
        cert.round = 3;
        assert_eq!(
            verify_certificate(&h, &cert, &vs),
            Err(CertificateError::BadSignature(ks[0].account()))
        );
        // Signed for another chain id.
        let cert = CommitCertificate {
            height: h.height,
            round: 0,
            block_hash: h.hash(),
            signatures: ks[..3]
                .iter()
                .map(|k| vote(k, "other-chain", &h, 0))
                .collect(),
        };
        assert_eq!(
            verify_certificate(&h, &cert, &vs),
            Err(CertificateError::BadSignature(ks[0].account()))
        );
        // A certificate of this header presented for a different header.
        let cert = certificate(&h, &[&ks[0], &ks[1], &ks[2]], 0);
        let mut other = h.clone();
        other.state_root = Hash([9; 32]);
        assert_eq!(
            verify_certificate(&other, &cert, &vs),
            Err(CertificateError::BlockHashMismatch)
        );
        let mut wrong_height = cert.clone();
        wrong_height.height = 8;
        assert_eq!(
            verify_certificate(&h, &wrong_height, &vs),
            Err(CertificateError::HeightMismatch {
                header: 7,
                certificate: 8
            })
        );
    }

    #[test]
    fn the_set_must_be_the_one_the_header_commits_to() {
        let ks = keys(4);
        let vs = set(&ks);
        let h = header(&vs);
        // A forged set of three keys the attacker holds, all of whom sign.
        let forged = keys(7)[4..].to_vec();
        let cert = certificate(&h, &[&forged[0], &forged[1], &forged[2]], 0);
        assert_eq!(
            verify_certificate(&h, &cert, &set(&forged)),
            Err(CertificateError::ValidatorSetMismatch)
        );
        assert_eq!(
            verify_certificate(&h, &cert, &[]),
            Err(CertificateError::NoValidators)
        );
        assert!(CertificateError::ValidatorSetMismatch
            .to_string()
            .contains("validator set"));
    }
}

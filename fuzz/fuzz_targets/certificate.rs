//! Block and certificate checking. The first byte picks one of three kinds of input:
//!
//! - raw bytes decoded as a `Block` or as a `(Header, CommitCertificate)` pair and checked with
//!   `verify_certificate` against the dev validator set: never a panic, decoded values
//!   re-encode to the input;
//! - a structured header and certificate built from real dev validator keys (some signatures
//!   over another round, some tampered, unknown and repeated signers, another height or block),
//!   where `verify_certificate`'s verdict must equal an independent reading of its rule: the
//!   first failing check in order (height, block hash, set, then per signature: unknown,
//!   repeated, bad), else a quorum of more than two thirds of distinct signers; and the light
//!   client that trusts the dev set (`light::verify_steps`) believes the header exactly when
//!   it is of the dev chain and the certificate holds.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use civitas_fuzz::{certificate, header, validator_keys, validator_set};
use civitas_primitives::block::{
    quorum, tx_root, validators_hash, vote_message, Block, CommitCertificate, Header,
};
use civitas_primitives::certificate::{verify_certificate, CertificateError};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::dev::DEV_CHAIN_ID;
use civitas_primitives::light::{verify_steps, LightError, LightStep};
use civitas_primitives::Hash;
use libfuzzer_sys::fuzz_target;
use parity_scale_codec::{DecodeAll, Encode};

#[derive(Arbitrary, Debug)]
struct Vote {
    /// Modulo 5: 0..4 a dev validator, 4 a key outside the set.
    signer: u8,
    /// Signs another round than the certificate's.
    other_round: bool,
    /// Flips a bit of the signature (byte, bit).
    tamper: Option<(u8, u8)>,
}

#[derive(Arbitrary, Debug)]
struct Structured {
    height: u64,
    time_ms: u64,
    roots: [u8; 32],
    chain_id: Option<String>,
    /// Commits the header to another validator set.
    foreign_set: bool,
    round: u32,
    /// The certificate names another height (height + delta).
    height_delta: u8,
    /// The certificate names another block.
    wrong_block: bool,
    votes: Vec<Vote>,
    /// Rotation of the validator list handed to the check (order must not matter).
    rotate: u8,
}

fn expected(header: &Header, cert: &CommitCertificate) -> Result<(), CertificateError> {
    if cert.height != header.height {
        return Err(CertificateError::HeightMismatch {
            header: header.height,
            certificate: cert.height,
        });
    }
    if cert.block_hash != header.hash() {
        return Err(CertificateError::BlockHashMismatch);
    }
    let set = validator_set();
    if header.validators_hash != validators_hash(&civitas_primitives::block::canonical_set(&set)) {
        return Err(CertificateError::ValidatorSetMismatch);
    }
    let keys = validator_keys();
    let message = vote_message(&header.chain_id, header.height, cert.round, &header.hash());
    let mut seen = Vec::new();
    for (signer, signature) in &cert.signatures {
        if !set.contains(signer) {
            return Err(CertificateError::UnknownSigner(*signer));
        }
        if seen.contains(signer) {
            return Err(CertificateError::DuplicateSigner(*signer));
        }
        // ed25519 signatures are deterministic: a valid one is exactly the key's own.
        let key = keys
            .iter()
            .find(|k| k.account() == *signer)
            .expect("in the set");
        if key.sign_hash(&message) != *signature {
            return Err(CertificateError::BadSignature(*signer));
        }
        seen.push(*signer);
    }
    if seen.len() < quorum(set.len()) {
        return Err(CertificateError::NoQuorum {
            signed: seen.len(),
            needed: quorum(set.len()),
            validators: set.len(),
        });
    }
    Ok(())
}

fn structured(s: Structured) {
    let mut h = header(s.height);
    h.time_ms = s.time_ms;
    h.state_root = Hash(s.roots);
    if let Some(chain) = s.chain_id {
        h.chain_id = chain;
    }
    if s.foreign_set {
        h.validators_hash = Hash(s.roots);
    }
    let keys = validator_keys();
    let outsider = Keypair::dev("bank-a");
    let block_hash = h.hash();
    let mut cert = certificate(&h, &[], s.round);
    cert.height = h.height.wrapping_add(u64::from(s.height_delta));
    if s.wrong_block {
        cert.block_hash = Hash(s.roots);
    }
    for v in s.votes.iter().take(8) {
        let key = keys.get(usize::from(v.signer % 5)).unwrap_or(&outsider);
        let round = if v.other_round {
            s.round.wrapping_add(1)
        } else {
            s.round
        };
        let mut sig = key.sign_hash(&vote_message(&h.chain_id, h.height, round, &block_hash));
        if let Some((byte, bit)) = v.tamper {
            sig[usize::from(byte) % 64] ^= 1 << (bit % 8);
        }
        cert.signatures.push((key.account(), sig));
    }
    let mut set = validator_set();
    let n = set.len();
    set.rotate_left(usize::from(s.rotate) % n);
    let verdict = verify_certificate(&h, &cert, &set);
    assert_eq!(verdict, expected(&h, &cert));

    // The light client trusting the dev set believes this header exactly when it is of the
    // dev chain and its certificate holds.
    let light = verify_steps(
        DEV_CHAIN_ID,
        &[validators_hash(&set)],
        &[LightStep {
            header: h.clone(),
            certificate: cert,
            validators: set,
        }],
    );
    let believed = if h.chain_id != DEV_CHAIN_ID {
        Err(LightError::WrongChain { height: h.height })
    } else {
        verdict
            .map(|()| vec![h.clone()])
            .map_err(|error| LightError::Certificate {
                height: h.height,
                error,
            })
    };
    assert_eq!(light, believed);
}

// The first byte picks the mode (seeds in corpus/certificate/ start with it).
fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(block) = Block::decode_all(&mut &bytes[..]) {
                assert_eq!(block.encode(), bytes, "a block has one encoding");
                let _ = tx_root(&block.txs);
                let _ = block.header.hash();
            }
        }
        1 => {
            if let Ok((h, cert)) = <(Header, CommitCertificate)>::decode_all(&mut &bytes[..]) {
                assert_eq!(
                    (&h, &cert).encode(),
                    bytes,
                    "a header and certificate have one encoding"
                );
                assert_eq!(
                    verify_certificate(&h, &cert, &validator_set()),
                    expected(&h, &cert)
                );
            }
        }
        _ => {
            if let Ok(s) = Structured::arbitrary(&mut Unstructured::new(bytes)) {
                structured(s);
            }
        }
    }
});

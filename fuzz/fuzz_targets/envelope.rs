//! Envelopes and signed requests, the two wrappers of the personal-data RPC methods. The first
//! byte picks the input:
//!
//! - an `Envelope` decoded from arbitrary bytes and opened with a fixed x25519 key: never a
//!   panic, the value re-encodes to the input, both openers agree;
//! - a fuzzed plaintext sealed to the fixed key opens to itself, and with any one bit of the
//!   ciphertext, nonce or sender key flipped does not open;
//! - a `SignedRequest` decoded from arbitrary bytes and verified: never a panic, it re-encodes
//!   to the input, and a request that verifies stops verifying when any field changes;
//! - the SCALE request bodies and replies (`SealedFetch`, the audit queries, the disclosed
//!   records, the sealed output reply) decoded from arbitrary bytes re-encode to the input.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use civitas_fuzz::{envelope, envelope_secret};
use civitas_primitives::crypto::{open_sealed, verify_request};
use civitas_primitives::vault::{
    DisclosedRecords, Envelope, InstitutionAuditQuery, SealedFetch, SealedOutputReply,
    SignedRequest, SubjectAuditQuery,
};
use libfuzzer_sys::fuzz_target;
use parity_scale_codec::{Decode, DecodeAll, Encode};

#[derive(Arbitrary, Debug)]
struct Seal {
    plaintext: Vec<u8>,
    /// Which of ciphertext (0), nonce (1), sender key (2); byte; bit.
    flip: (u8, u16, u8),
}

fn round_trip<T: Decode + Encode + PartialEq + core::fmt::Debug>(bytes: &[u8]) {
    if let Ok(v) = T::decode_all(&mut &bytes[..]) {
        assert_eq!(v.encode(), bytes, "one value, one encoding");
    }
}

// The first byte picks the mode (seeds in corpus/envelope/ start with it).
fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let secret = envelope_secret();
    match mode % 8 {
        0 => {
            if let Ok(env) = Envelope::decode_all(&mut &bytes[..]) {
                assert_eq!(env.encode(), bytes);
                let once = open_sealed(&secret, &env);
                assert_eq!(open_sealed(&secret, &env), once, "opening is deterministic");
            }
        }
        1 => {
            let Ok(Seal { plaintext, flip }) = Seal::arbitrary(&mut Unstructured::new(bytes))
            else {
                return;
            };
            let env = envelope(&plaintext);
            assert_eq!(open_sealed(&secret, &env).as_deref(), Some(&plaintext[..]));
            let mut bad = env.clone();
            let bit = 1 << (flip.2 % 8);
            match flip.0 % 3 {
                0 => {
                    let n = bad.ciphertext.len();
                    bad.ciphertext[usize::from(flip.1) % n] ^= bit;
                }
                1 => bad.nonce[usize::from(flip.1) % 24] ^= bit,
                _ => {
                    let at = usize::from(flip.1) % 32;
                    // X25519 ignores the top bit of a public key (RFC 7748, section 5): that
                    // flip names the same key.
                    if at == 31 && bit == 0x80 {
                        return;
                    }
                    bad.sender_key[at] ^= bit;
                }
            }
            assert_eq!(
                open_sealed(&secret, &bad),
                None,
                "a tampered envelope opens"
            );
        }
        2 => {
            if let Ok(req) = SignedRequest::decode_all(&mut &bytes[..]) {
                assert_eq!(req.encode(), bytes);
                if verify_request(&req) {
                    let mut changed = req.clone();
                    changed.nonce = changed.nonce.wrapping_add(1);
                    assert!(!verify_request(&changed), "the nonce is not signed");
                    let mut changed = req.clone();
                    changed.issued_ms = changed.issued_ms.wrapping_add(1);
                    assert!(!verify_request(&changed), "the time is not signed");
                    let mut changed = req.clone();
                    changed.method.push('x');
                    assert!(!verify_request(&changed), "the method is not signed");
                    let mut changed = req;
                    changed.body.push(0);
                    assert!(!verify_request(&changed), "the body is not signed");
                }
            }
        }
        3 => round_trip::<SealedFetch>(bytes),
        4 => round_trip::<SubjectAuditQuery>(bytes),
        5 => round_trip::<InstitutionAuditQuery>(bytes),
        6 => round_trip::<DisclosedRecords>(bytes),
        _ => round_trip::<SealedOutputReply>(bytes),
    }
});

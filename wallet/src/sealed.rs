//! A sealed result addressed to her: the signed `vault_getSealedOutput` request with a one-time
//! reply key (made here, with the browser's randomness), the reply decrypted here, and checked
//! against the output hash the sealed-compute committee attested, which is itself proven
//! against a verified header (the public outcome at `o/` + tx hash, SCALE
//! `primitives::committee::SealedOutcome`). The same check as the CLI's `civitas sealed output`.
use civitas_primitives::committee::SealedOutcome;
use civitas_primitives::crypto::{Keypair, ReplyKey};
use civitas_primitives::vault::{sealed_output_hash, Envelope, SealedFetch, SealedOutputReply};
use civitas_primitives::Hash;
use parity_scale_codec::{DecodeAll, Encode};
use serde::Serialize;

use crate::light::{LightClient, ServedProof};
use crate::requests::signed_request;
use crate::{from_hex, malformed, to_hex, WalletError};

/// The state key of a sealed call's public outcome (`ledger::state::keys::sealed_outcome`:
/// `o/` and the transaction hash).
pub fn outcome_key(tx_hash: &Hash) -> Vec<u8> {
    let mut key = b"o/".to_vec();
    key.extend_from_slice(&tx_hash.0);
    key
}

/// A signed `vault_getSealedOutput` request for `tx_hash` with a fresh reply key; returns the
/// request (hex) and the key that opens the reply.
pub fn output_request(
    key: &Keypair,
    tx_hash: Hash,
    issued_ms: u64,
) -> Result<(String, ReplyKey), WalletError> {
    let reply = ReplyKey::generate();
    let body = SealedFetch {
        tx_hash,
        reply_key: reply.public(),
    }
    .encode();
    let request = signed_request(key, "vault_getSealedOutput", body, issued_ms)?;
    Ok((request, reply))
}

/// Checks a served proof of sealed call `tx_hash`'s outcome against the verified header of its
/// height. The outcome must be present (a sealed call's block writes it).
pub fn proven_outcome(
    light: &LightClient,
    tx_hash: &Hash,
    served: &ServedProof,
) -> Result<SealedOutcome, WalletError> {
    let value = light
        .proven_value(served, &outcome_key(tx_hash), "the attested output hash")?
        .ok_or_else(|| {
            WalletError::NotVerified(format!(
                "no sealed call {} is on chain at block {}",
                to_hex(&tx_hash.0),
                served.height
            ))
        })?;
    SealedOutcome::decode_all(&mut &value[..]).map_err(|e| malformed("sealed outcome", e))
}

/// Decrypts the served envelope (hex) with `reply`.
pub fn open_reply(reply: &ReplyKey, envelope: &str) -> Result<SealedOutputReply, WalletError> {
    let bytes = from_hex("envelope", envelope)?;
    let env = Envelope::decode_all(&mut &bytes[..]).map_err(|e| malformed("envelope", e))?;
    let plain = reply.open(&env).ok_or_else(|| {
        WalletError::NotVerified("the reply does not decrypt with this request's key".into())
    })?;
    SealedOutputReply::decode_all(&mut &plain[..]).map_err(|e| malformed("sealed result", e))
}

/// Whether `reply` is the result whose hash the committee attested.
pub fn check_result(reply: &SealedOutputReply, attested: &Hash) -> Result<(), WalletError> {
    if sealed_output_hash(&reply.salt, &reply.result.padded()) != *attested {
        return Err(WalletError::NotVerified(
            "the sealed result does not match the output hash the committee attested: the node served something else".into(),
        ));
    }
    Ok(())
}

/// A sealed result as the page shows it, checked against the committee's attestation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckedResult {
    /// Whether the contract returned normally.
    pub ok: bool,
    /// Its output (or revert data), hex.
    pub output: String,
    /// Its error code when it failed.
    pub error_code: String,
    /// The attested output hash it matches.
    pub output_hash: String,
    /// The verified height the attestation is proven at.
    pub height: u64,
}

/// The whole check: the outcome proven against a verified header, attested (else
/// [`WalletError::NotAttested`]), and the decrypted reply matching the attested hash.
pub fn check(
    light: &LightClient,
    tx_hash: &Hash,
    outcome: &ServedProof,
    reply: &ReplyKey,
    envelope: &str,
) -> Result<CheckedResult, WalletError> {
    let proven = proven_outcome(light, tx_hash, outcome)?;
    let attested = proven.output_hash.ok_or(WalletError::NotAttested)?;
    let out = open_reply(reply, envelope)?;
    check_result(&out, &attested)?;
    Ok(CheckedResult {
        ok: out.result.ok,
        output: to_hex(&out.result.output),
        error_code: out.result.error_code,
        output_hash: to_hex(&attested.0),
        height: outcome.height,
    })
}

#[cfg(test)]
mod tests {
    //! The check refuses a result whose salt, bytes or attested hash differ from what the
    //! committee attested, and a reply not sealed to this request's key.
    use super::*;
    use civitas_primitives::crypto::seal_to;
    use civitas_primitives::vault::SealedResult;

    fn reply_of(ok: bool, output: &[u8], salt: [u8; 32]) -> SealedOutputReply {
        SealedOutputReply {
            result: SealedResult {
                ok,
                output: output.to_vec(),
                error_code: if ok { String::new() } else { "revert".into() },
            },
            salt: Hash(salt),
        }
    }

    fn attested_of(r: &SealedOutputReply) -> Hash {
        sealed_output_hash(&r.salt, &r.result.padded())
    }

    #[test]
    fn the_attested_result_passes() {
        let r = reply_of(true, b"offer", [3; 32]);
        check_result(&r, &attested_of(&r)).expect("the attested result passes");
    }

    #[test]
    fn a_wrong_salt_result_or_hash_is_refused() {
        let good = reply_of(true, b"offer", [3; 32]);
        let attested = attested_of(&good);
        let wrong_salt = reply_of(true, b"offer", [4; 32]);
        let wrong_bytes = reply_of(true, b"offeR", [3; 32]);
        let wrong_ok = reply_of(false, b"offer", [3; 32]);
        for bad in [&wrong_salt, &wrong_bytes, &wrong_ok] {
            let e = check_result(bad, &attested).expect_err("refused");
            assert!(
                e.to_string().contains("does not match the output hash"),
                "{e}"
            );
        }
        let mut other = attested;
        other.0[0] ^= 1;
        assert!(
            check_result(&good, &other).is_err(),
            "another attested hash"
        );
    }

    #[test]
    fn the_request_carries_its_reply_key_and_another_keys_reply_does_not_open() {
        let alice = Keypair::dev("alice");
        let (request, reply) = output_request(&alice, Hash([9; 32]), 1).expect("request");
        let req = civitas_primitives::vault::SignedRequest::decode_all(
            &mut &from_hex("request", &request).expect("hex")[..],
        )
        .expect("a signed request");
        assert!(civitas_primitives::crypto::verify_request(&req));
        assert_eq!(req.method, "vault_getSealedOutput");
        let body = SealedFetch::decode_all(&mut &req.body[..]).expect("body");
        assert_eq!(
            (body.tx_hash, body.reply_key),
            (Hash([9; 32]), reply.public()),
            "the request carries the key that opens the reply"
        );
        let plain = reply_of(true, b"offer", [3; 32]).encode();
        let mine = seal_to(&reply.public(), &plain).expect("seal");
        let opened = open_reply(&reply, &to_hex(&mine.encode())).expect("opens");
        assert_eq!(opened, reply_of(true, b"offer", [3; 32]));
        let other = ReplyKey::generate();
        let theirs = seal_to(&other.public(), &plain).expect("seal");
        assert!(open_reply(&reply, &to_hex(&theirs.encode())).is_err());
    }
}

//! What the wallet signs: requests for her own data (`consent_list`, `audit_listBySubject`),
//! and her consent answers as transactions whose body is encrypted to the chain access key
//! (`Keypair::sign_tx_for_chain`), exactly as the CLI sends them.
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, Transaction};
use civitas_primitives::vault::{
    ConsentAction, ConsentListQuery, SignedRequest, SubjectAuditQuery, SubjectId, MAX_CONSENT_PAGE,
};
use parity_scale_codec::Encode;

use crate::{random, to_hex, WalletError};

/// Fuel for a consent answer (the CLI's `ADMIN_FUEL`).
pub const ANSWER_FUEL: u64 = 1_000_000;

/// `method` with SCALE `body`, signed by `key` at `issued_ms` with a random nonce: the hex the
/// node's signed-request methods take.
pub fn signed_request(
    key: &Keypair,
    method: &str,
    body: Vec<u8>,
    issued_ms: u64,
) -> Result<String, WalletError> {
    let mut nonce = [0u8; 8];
    random(&mut nonce)?;
    let mut req = SignedRequest {
        method: method.into(),
        body,
        signer: key.account(),
        issued_ms,
        nonce: u64::from_le_bytes(nonce),
        signature: [0; 64],
    };
    req.signature = key.sign_hash(&req.signing_hash());
    Ok(to_hex(&req.encode()))
}

/// A signed `consent_list` request for the page of her consents after consent `after` (from
/// the first when `None`), [`MAX_CONSENT_PAGE`] at most.
pub fn consent_list(
    key: &Keypair,
    after: Option<u64>,
    issued_ms: u64,
) -> Result<String, WalletError> {
    let query = ConsentListQuery {
        after,
        limit: MAX_CONSENT_PAGE,
    };
    signed_request(key, "consent_list", query.encode(), issued_ms)
}

/// A signed `audit_listBySubject` request for `subject`'s entries `from..from + limit`.
pub fn audit_by_subject(
    key: &Keypair,
    subject: SubjectId,
    from: u64,
    limit: u32,
    issued_ms: u64,
) -> Result<String, WalletError> {
    let body = SubjectAuditQuery {
        subject,
        from,
        limit,
    }
    .encode();
    signed_request(key, "audit_listBySubject", body, issued_ms)
}

/// The consent action named `name` (`approve`, `reject`, `pause`, `resume`, `revoke`).
pub fn action_of(name: &str) -> Option<ConsentAction> {
    [
        ConsentAction::Approve,
        ConsentAction::Reject,
        ConsentAction::Pause,
        ConsentAction::Resume,
        ConsentAction::Revoke,
    ]
    .into_iter()
    .find(|a| a.name() == name)
}

/// Her answer `action` to consent `id` as her transaction `nonce` on `chain_id`, the body
/// encrypted to the chain access key `access_key`: hex for `tx_submit`.
pub fn consent_answer(
    key: &Keypair,
    chain_id: &str,
    nonce: u64,
    id: u64,
    action: ConsentAction,
    access_key: &[u8; 32],
) -> Result<String, WalletError> {
    let tx = Transaction {
        chain_id: chain_id.into(),
        signer: key.account(),
        nonce,
        fuel_limit: ANSWER_FUEL,
        call: Call::Consent { id, action },
    };
    let signed = key
        .sign_tx_for_chain(tx, access_key)
        .ok_or(WalletError::Encryption)?;
    Ok(to_hex(&signed.encode()))
}

#[cfg(test)]
mod tests {
    //! Requests verify for the wallet's key, and a consent answer travels encrypted.
    use super::*;
    use civitas_primitives::crypto::{open_private_call, verify_request, x25519_public};
    use civitas_primitives::tx::SignedTransaction;
    use parity_scale_codec::DecodeAll;

    fn bytes(hex_str: &str) -> Vec<u8> {
        hex::decode(hex_str.trim_start_matches("0x")).expect("hex")
    }

    #[test]
    fn signed_requests_verify_and_carry_the_query() {
        let alice = Keypair::dev("alice");
        let hexed =
            audit_by_subject(&alice, civitas_primitives::Hash([7; 32]), 3, 50, 99).expect("sign");
        let req = SignedRequest::decode_all(&mut &bytes(&hexed)[..]).expect("decode");
        assert!(verify_request(&req));
        assert_eq!(req.method, "audit_listBySubject");
        let q = SubjectAuditQuery::decode_all(&mut &req.body[..]).expect("body");
        assert_eq!((q.subject.0, q.from, q.limit), ([7; 32], 3, 50));
    }

    #[test]
    fn a_consent_answer_is_encrypted_to_the_access_key() {
        let alice = Keypair::dev("alice");
        let secret = [5u8; 32];
        let public = x25519_public(&secret);
        let hexed = consent_answer(
            &alice,
            "civitas-dev",
            4,
            17,
            ConsentAction::Approve,
            &public,
        )
        .expect("sign");
        let stx = SignedTransaction::decode_all(&mut &bytes(&hexed)[..]).expect("decode");
        assert!(
            matches!(stx.tx.call, Call::Private { .. }),
            "the body is sealed"
        );
        let opened = open_private_call(&stx.tx, &secret)
            .expect("opens")
            .expect("private");
        assert_eq!(
            opened,
            Call::Consent {
                id: 17,
                action: ConsentAction::Approve
            }
        );
        assert_eq!(action_of("revoke"), Some(ConsentAction::Revoke));
        assert_eq!(action_of("delete"), None);
    }
}

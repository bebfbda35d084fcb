//! Transaction admission on arbitrary bytes: `SignedTransaction::decode_checked` (size cap,
//! SCALE decode without trailing bytes, every field limit), then the stateless checks the node
//! applies before a transaction reaches the pool: the signature (single and batch) and the
//! opening of a private call with the dev chain's access key (both openers).
//!
//! Properties: never a panic; a decoded transaction re-encodes to exactly the input (SCALE is
//! canonical here, so one transaction has one encoding and one hash) and decodes equal; a
//! signature that verifies singly verifies in a batch; the caching opener opens exactly what
//! `open_private_call` opens, and an opened call passes the field limits.
#![no_main]

use civitas_primitives::crypto::{open_private_call, verify_tx, verify_tx_batch, PrivateOpener};
use civitas_primitives::dev::{dev_access_key, DEV_CHAIN_ID};
use civitas_primitives::tx::SignedTransaction;
use libfuzzer_sys::fuzz_target;
use parity_scale_codec::Encode;

fuzz_target!(|data: &[u8]| {
    let Ok(stx) = SignedTransaction::decode_checked(data) else {
        return;
    };
    let encoded = stx.encode();
    assert_eq!(encoded, data, "a transaction has one encoding");
    let again =
        SignedTransaction::decode_checked(&encoded).expect("a re-encoded transaction decodes");
    assert_eq!(again, stx);
    assert_eq!(again.hash(), stx.hash());

    if verify_tx(&stx) {
        assert!(
            verify_tx_batch(&[&stx]),
            "a valid signature fails batch verification"
        );
    }

    let secret = dev_access_key(DEV_CHAIN_ID);
    let opened = open_private_call(&stx.tx, &secret);
    assert_eq!(PrivateOpener::new(&secret).open(&stx.tx), opened);
    if let Ok(Some(call)) = opened {
        let mut plain = stx.clone();
        plain.tx.call = call;
        plain
            .check_limits()
            .expect("an opened private call passes the field limits");
    }
});

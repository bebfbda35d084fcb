//! The parameters of every JSON-RPC method that takes any, decoded from arbitrary JSON the way
//! the jsonrpsee server stubs of `civitas_rpc::api` decode them (`jsonrpsee::types::Params`:
//! a by-name object into a struct whose fields carry the parameter's name with its snake- and
//! camel-case aliases, else a positional array read with `next`, or `optional_next` for an
//! `Option`), then each string parameter through the parser the node's handler applies to it
//! (`from_hex`, `hex32`, `parse_hash`, `Hash::from_hex`, `topic_from_text`, the SCALE decoders
//! of transactions, records, envelopes and signed requests, and each signed request's body).
//!
//! The wire types and hex helpers are `civitas-rpc`'s own source (`rpc/src/types.rs` and
//! `errors.rs`, included as modules), so that the fuzz build does not instrument the jsonrpsee
//! server and clients the crate also pulls in.
//!
//! Properties: never a panic; a value that decodes serialises (as an array and as an object)
//! and decodes again to an equal value; every parser gives a typed error or a value consistent
//! with its input (hex that parses re-encodes to the same bytes, a 32-byte parse is 32 bytes,
//! a SCALE decode re-encodes to exactly its input).
//!
//! Input layout: byte 0 picks the method (modulo `civitas_fuzz::RPC_METHODS`), the rest is the
//! `params` member of a request.
#![no_main]

use std::fmt::Debug;

use civitas_fuzz::RPC_METHODS;
use civitas_primitives::committee::{RecordsFetch, SealingKeyFetch};
use civitas_primitives::crypto::verify_request;
use civitas_primitives::tx::{SignedTransaction, Transaction};
use civitas_primitives::vault::{
    ConsentListQuery, Envelope, InstitutionAuditQuery, Record, SealedFetch, SignedRequest,
    SubjectAuditQuery,
};
use civitas_primitives::{AccountId, Hash};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use libfuzzer_sys::fuzz_target;
use parity_scale_codec::{Decode, DecodeAll, Encode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

#[path = "../../rpc/src/errors.rs"]
#[allow(dead_code)]
mod errors;
#[path = "../../rpc/src/types.rs"]
#[allow(dead_code)]
mod types;

use types::{from_hex, hex32, parse_hash, to_hex, topic_from_text, EventQuery, QueryRequest};

/// One method's parameters, decodable as jsonrpsee's generated server code decodes them.
trait Args: DeserializeOwned + Serialize + PartialEq + Debug {
    /// The positional form.
    fn from_seq(params: &Params) -> Result<Self, ErrorObjectOwned>;
    /// The values in positional order, for the array form.
    fn to_array(&self) -> Value;
}

/// A struct of one method's parameters: the by-name form (field = parameter name, alias = its
/// camel-case spelling, as jsonrpsee's `ParamsObject`), and the positional form.
macro_rules! args {
    ($s:ident { $($f:ident : $ty:ty => $next:ident, $camel:literal;)* }) => {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct $s {
            $(
                #[serde(alias = $camel)]
                $f: $ty,
            )*
        }
        impl Args for $s {
            fn from_seq(params: &Params) -> Result<Self, ErrorObjectOwned> {
                let mut seq = params.sequence();
                $( let $f: $ty = seq.$next()?; )*
                Ok($s { $($f),* })
            }
            fn to_array(&self) -> Value {
                Value::Array(vec![$(
                    serde_json::to_value(&self.$f).expect("a decoded parameter serialises")
                ),*])
            }
        }
    };
}

args!(Height { height: Option<u64> => optional_next, "height"; });
args!(Account { account: String => next, "account"; });
args!(Events { query: EventQuery => next, "query"; });
args!(Tx { tx: String => next, "tx"; });
args!(Txs { txs: Vec<String> => next, "txs"; });
args!(TxHash { tx_hash: String => next, "txHash"; });
args!(TxHashes { tx_hashes: Vec<String> => next, "txHashes"; });
args!(Query { request: QueryRequest => next, "request"; });
args!(AddressOrCodeHash { address_or_code_hash: String => next, "addressOrCodeHash"; });
args!(Proof { key: String => next, "key"; height: Option<u64> => optional_next, "height"; });
args!(Records { records: Vec<String> => next, "records"; });
args!(EnvelopeArg { envelope: String => next, "envelope"; });
args!(Id { id: String => next, "id"; });
args!(LatestVersions { dataset: String => next, "dataset"; subjects: Vec<String> => next, "subjects"; });
args!(Commitments { subject: String => next, "subject"; dataset: String => next, "dataset"; });
args!(Request { request: String => next, "request"; });

/// Decodes `raw` as the server stub does, and checks the round trip of what decodes.
fn decode<A: Args>(raw: &str) -> Option<A> {
    let parse = |raw: &str| -> Result<A, ErrorObjectOwned> {
        let params = Params::new(Some(raw));
        if params.is_object() {
            params.parse()
        } else {
            A::from_seq(&params)
        }
    };
    let value = parse(raw);
    // `CIVITAS_FUZZ_PRINT=1 cargo fuzz run rpc_params INPUT` prints what the input decodes to.
    if std::env::var_os("CIVITAS_FUZZ_PRINT").is_some() {
        eprintln!("params: {raw}\ndecoded: {value:?}");
    }
    let value = value.ok()?;
    let array = value.to_array().to_string();
    assert_eq!(
        parse(&array).as_ref().ok(),
        Some(&value),
        "the array form {array} decodes differently"
    );
    let object = serde_json::to_string(&value).expect("decoded parameters serialise");
    assert_eq!(
        parse(&object).as_ref().ok(),
        Some(&value),
        "the object form {object} decodes differently"
    );
    Some(value)
}

/// `from_hex` gives bytes that `to_hex` spells back to an equivalent string.
fn hex(s: &str) -> Option<Vec<u8>> {
    let bytes = from_hex(s).ok()?;
    assert_eq!(from_hex(&to_hex(&bytes)).ok().as_ref(), Some(&bytes));
    Some(bytes)
}

/// The 32-byte parsers agree: `hex32`, `parse_hash` and `Hash::from_hex`.
fn id32(s: &str) -> Option<[u8; 32]> {
    let parsed = hex32(s).ok();
    assert_eq!(parse_hash("p", s).ok().map(|h| h.0), parsed);
    assert_eq!(Hash::from_hex(s).map(|h| h.0), parsed);
    assert_eq!(AccountId::from_hex(s).map(|a| a.0), parsed);
    if let Some(b) = parsed {
        assert_eq!(hex(s).as_deref(), Some(&b[..]));
    }
    parsed
}

/// A SCALE decode of the whole input that, when it succeeds, re-encodes to exactly its input
/// (decoded values that encode differently would have two encodings, so two hashes).
fn scale<T: Decode + Encode>(bytes: &[u8]) -> Option<T> {
    let v = T::decode_all(&mut &bytes[..]).ok()?;
    assert_eq!(v.encode(), bytes, "a decoded value re-encodes differently");
    Some(v)
}

fn signed_transaction(s: &str) {
    if let Some(b) = hex(s) {
        if let Ok(stx) = SignedTransaction::decode_checked(&b) {
            assert_eq!(stx.encode(), b);
        }
    }
}

/// A signed request as `ReplayGuard::check` takes it apart, then its body as `T`.
fn signed_request<T: Decode + Encode>(s: &str, empty_body_allowed: bool) {
    let Some(req) = hex(s).and_then(|b| scale::<SignedRequest>(&b)) else {
        return;
    };
    let _ = verify_request(&req);
    if !(empty_body_allowed && req.body.is_empty()) {
        let _ = scale::<T>(&req.body);
    }
}

/// Decodes `raw` as the parameters of `method` and runs the node's parsers on them.
fn parse(method: &str, raw: &str) {
    match method {
        "chain_getBlock" => {
            let _ = decode::<Height>(raw);
        }
        "chain_getValidators" => {
            let _ = decode::<Height>(raw);
        }
        "chain_getAccount" => account(raw),
        "chain_getEvents" => events(raw),
        "chain_subscribeEvents" => events(raw),
        "tx_submit" => {
            if let Some(a) = decode::<Tx>(raw) {
                signed_transaction(&a.tx);
            }
        }
        "tx_submitBatch" => {
            if let Some(a) = decode::<Txs>(raw) {
                a.txs.iter().for_each(|t| signed_transaction(t));
            }
        }
        "tx_status" => tx_hash(raw),
        "tx_getReceipt" => tx_hash(raw),
        "tx_getReceipts" => {
            if let Some(a) = decode::<TxHashes>(raw) {
                a.tx_hashes.iter().for_each(|h| {
                    let _ = id32(h);
                });
            }
        }
        "contract_query" => {
            if let Some(a) = decode::<Query>(raw) {
                let _ = id32(&a.request.contract);
                let _ = hex(&a.request.input);
                if let Some(c) = &a.request.caller {
                    let _ = id32(c);
                }
            }
        }
        "contract_dryRun" => {
            if let Some(a) = decode::<Tx>(raw) {
                let _ = hex(&a.tx).and_then(|b| scale::<Transaction>(&b));
            }
        }
        "contract_getMetadata" => {
            if let Some(a) = decode::<AddressOrCodeHash>(raw) {
                let _ = id32(&a.address_or_code_hash);
            }
        }
        "state_getProof" => {
            if let Some(a) = decode::<Proof>(raw) {
                let _ = hex(&a.key);
            }
        }
        "vault_putRecords" => {
            if let Some(a) = decode::<Records>(raw) {
                a.records.iter().for_each(|r| {
                    let _ = hex(r).and_then(|b| scale::<Record>(&b));
                });
            }
        }
        "vault_putSealedRecords" => {
            if let Some(a) = decode::<EnvelopeArg>(raw) {
                if let Some(b) = hex(&a.envelope) {
                    let _ = scale::<Envelope>(&b);
                    // What the envelope holds once opened: hex records, SCALE-encoded.
                    let _ = scale::<Vec<String>>(&b);
                }
            }
        }
        "vault_getDataset" => {
            let _ = decode::<Id>(raw);
        }
        "vault_getLatestVersions" => {
            if let Some(a) = decode::<LatestVersions>(raw) {
                a.subjects.iter().for_each(|s| {
                    let _ = id32(s);
                });
            }
        }
        "vault_getCommitments" => {
            if let Some(a) = decode::<Commitments>(raw) {
                let _ = id32(&a.subject);
            }
        }
        "vault_fetchDisclosed" => request::<SealedFetch>(raw, false),
        "vault_getSealedOutput" => request::<SealedFetch>(raw, false),
        "vault_getSealedOutcome" => tx_hash(raw),
        "vault_committeeRecords" => request::<RecordsFetch>(raw, false),
        "vault_committeeSealingKey" => request::<SealingKeyFetch>(raw, false),
        "consent_list" => request::<ConsentListQuery>(raw, true),
        "audit_listBySubject" => request::<SubjectAuditQuery>(raw, false),
        "audit_listByInstitution" => request::<InstitutionAuditQuery>(raw, false),
        "credits_getBalance" => account(raw),
        other => panic!("no parser for {other}: add it here"),
    }
}

fn account(raw: &str) {
    if let Some(a) = decode::<Account>(raw) {
        let _ = id32(&a.account);
    }
}

fn tx_hash(raw: &str) {
    if let Some(a) = decode::<TxHash>(raw) {
        let _ = id32(&a.tx_hash);
    }
}

fn request<T: Decode + Encode>(raw: &str, empty_body_allowed: bool) {
    if let Some(a) = decode::<Request>(raw) {
        signed_request::<T>(&a.request, empty_body_allowed);
    }
}

/// `chain_getEvents`: the contract as an account, the topic as receipts write it, the cursor
/// as the 16 bytes of an event position.
fn events(raw: &str) {
    let Some(a) = decode::<Events>(raw) else {
        return;
    };
    let q = a.query;
    if let Some(c) = &q.contract {
        let _ = id32(c);
    }
    if let Some(t) = &q.topic {
        let topic = topic_from_text(t);
        // A topic written as receipts show it is found again from that text.
        let shown = types::topic_text(&topic);
        assert_eq!(
            topic_from_text(&shown),
            topic,
            "topic {t:?} shown as {shown:?}"
        );
    }
    if let Some(c) = &q.cursor {
        let _ = hex(c).filter(|b| b.len() == 16);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, json)) = data.split_first() else {
        return;
    };
    // The server hands a handler the `params` member as raw JSON text: only well-formed JSON
    // gets this far.
    let Ok(raw) = serde_json::from_slice::<&RawValue>(json) else {
        return;
    };
    parse(
        RPC_METHODS[usize::from(pick) % RPC_METHODS.len()],
        raw.get(),
    );
});

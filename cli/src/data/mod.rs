//! Commands for every role around citizens' data, one module per command group: `identity`,
//! `dataset`, `vault`, `consent`, `code`, `sealed`, `disclose`, `audit` and `credits`; this
//! module holds what they share (argument resolution, signed requests, envelopes).
pub mod audit;
pub mod code;
pub mod consent;
pub mod credits;
pub mod dataset;
pub mod disclose;
pub mod identity;
pub mod sealed;
pub mod upload;
pub mod vault;

use anyhow::{anyhow, bail, Result};
use civitas_primitives::crypto::{Keypair, ReplyKey};
use civitas_primitives::vault::{Envelope, Field, SubjectId};
use civitas_primitives::Hash;
use civitas_rpc::{from_hex, hex32, to_hex, ContractApiClient, ReceiptInfo, VaultApiClient};
use parity_scale_codec::{DecodeAll, Encode};

use crate::client::{account_arg, now_ms, print_receipt, Client, Output};
use civitas_primitives::dev;

/// Fuel for registry transactions.
pub(crate) const ADMIN_FUEL: u64 = 1_000_000;

/// Resolves a subject: 64 hex digits or a dev citizen name.
pub fn subject_arg(s: &str) -> Result<SubjectId> {
    if let Ok(b) = hex32(s) {
        return Ok(Hash(b));
    }
    if matches!(s, "alice" | "bob") {
        return Ok(dev::dev_subject(s));
    }
    bail!("`{s}` is neither a 64-hex-digit subject id nor a dev citizen (alice, bob); compute one with `civitas identity subject --national-id ID`")
}

pub(crate) fn expect_success(r: &ReceiptInfo, out: Output) -> Result<()> {
    if out.json {
        println!("{}", serde_json::to_string(r)?);
    } else {
        print_receipt(r);
    }
    if r.status != "success" {
        bail!(
            "transaction failed [{}]: {}",
            r.error_code.clone().unwrap_or_default(),
            r.error.clone().unwrap_or_default()
        );
    }
    Ok(())
}

pub(crate) fn parse_duration(s: &str) -> Result<u64> {
    let (num, unit) = s.split_at(s.trim_end_matches(char::is_alphabetic).len());
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow!("`{s}` is not a duration like 90s, 12h or 30d"))?;
    let secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => bail!("`{s}`: unit must be s, m, h or d"),
    };
    Ok(n.saturating_mul(secs).saturating_mul(1000))
}

pub(crate) fn code_hash_arg(client: &Client, s: &str) -> Result<Hash> {
    let meta = client.call(client.rpc().get_metadata(resolve_address(s)?))?;
    Ok(Hash(hex32(&meta.code_hash).map_err(|e| anyhow!(e))?))
}

pub(crate) fn resolve_address(s: &str) -> Result<String> {
    Ok(to_hex(&account_arg(s)?.0))
}

pub(crate) fn dataset_fields(client: &Client, id: &str) -> Result<Vec<Field>> {
    let ds = client.call(client.rpc().get_dataset(id.into()))?;
    ds.fields
        .iter()
        .map(|f| civitas_primitives::vault::parse_field(f).map_err(|e| anyhow!(e)))
        .collect()
}

pub(crate) fn signed(key: &Keypair, method: &str, body: Vec<u8>) -> String {
    to_hex(&key.sign_request(method, body, now_ms()).encode())
}

pub(crate) fn open_envelope(reply: &ReplyKey, hex: &str) -> Result<Vec<u8>> {
    let bytes = from_hex(hex).map_err(|e| anyhow!(e))?;
    let env = Envelope::decode_all(&mut &bytes[..]).map_err(|_| anyhow!("malformed envelope"))?;
    reply
        .open(&env)
        .ok_or_else(|| anyhow!("the reply does not decrypt with this request's key"))
}

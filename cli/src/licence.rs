//! `civitas licence`: electronic licences kept by a `licences` registry contract. An issuing
//! department writes and signs a licence document and records its hash on chain (`issue`); the
//! holder presents the document as a self-contained file, signed by her wallet key for one
//! verifier (`present`); any verifier checks it against the chain alone (`verify`): the
//! issuer's signature, the on-chain entry read with a state proof against a header whose
//! commit certificate this CLI verified, the current status and validity, and, for a
//! presentation, the holder's signature and her key's identity binding to the licence's
//! subject (also proven). A verifier that is a chain member may record its check on chain.
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use civitas_primitives::block::Header;
use civitas_primitives::crypto::verify_hash;
use civitas_primitives::proof::{verify_state_proof, StateProof};
use civitas_primitives::tx::Call;
use civitas_primitives::{sha3_256, AccountId, Hash};
use civitas_rpc::{from_hex, hex32, to_hex, ChainApiClient, StateApiClient};
use clap::{Args, Subcommand};
use parity_scale_codec::{DecodeAll, Encode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::client::{account_arg, now_ms, receipt_output, send, signing_key, Client, Output};
use crate::contract::chain_metadata;
use crate::data::{expect_success, parse_duration, subject_arg};
use crate::scale_json::{decode_output, encode_message};
use crate::time::date;
use crate::verified::HeaderVerifier;

/// Fuel for registry calls.
const LICENCE_FUEL: u64 = 20_000_000;
/// Domain of the issuer's signature over a document.
const DOCUMENT_DOMAIN: &[u8] = b"civitas/licence-document/v1\0";
/// Domain of the holder's signature over a presentation.
const PRESENTATION_DOMAIN: &[u8] = b"civitas/licence-presentation/v1\0";
/// The registry contract's storage field of licences (its `#[storage]` field name).
const LICENCES_FIELD: &[u8] = b"licences";

/// Licence commands.
#[derive(Subcommand, Debug)]
pub enum LicenceCommand {
    /// Write, sign and record a licence (issuing departments); writes the licence file.
    Issue(IssueArgs),
    /// Present a licence file to one verifier, signed with the holder's wallet key.
    Present(PresentArgs),
    /// Check a licence or presentation file against the chain; exits 1 unless it is in force.
    Verify(VerifyArgs),
}

/// `civitas licence issue`.
#[derive(Args, Debug)]
pub struct IssueArgs {
    /// The licences registry contract (address, hex).
    #[arg(long)]
    pub registry: String,
    /// The subject (64 hex digits or a dev citizen name).
    #[arg(long)]
    pub subject: String,
    /// Kind, e.g. business-licence, property-certificate, residence-registration.
    #[arg(long)]
    pub kind: String,
    /// A field of the document, `name=value` (repeatable).
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// How long it is valid, e.g. 365d.
    #[arg(long, default_value = "365d")]
    pub valid_for: String,
    /// The issuing department's key.
    #[arg(long)]
    pub from: String,
    /// Where to write the licence file.
    #[arg(long)]
    pub out: PathBuf,
}

/// `civitas licence present`.
#[derive(Args, Debug)]
pub struct PresentArgs {
    /// The licence file (from `issue`).
    pub licence: PathBuf,
    /// The holder's wallet key (bound to the licence's subject).
    #[arg(long)]
    pub from: String,
    /// The verifier it is presented to (account id or dev name).
    #[arg(long)]
    pub to: String,
    /// Where to write the presentation file.
    #[arg(long)]
    pub out: PathBuf,
}

/// `civitas licence verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A licence file or a presentation file.
    pub file: PathBuf,
    /// The verifier's key: a presentation must be addressed to it; with `--record`, it
    /// records the check on chain.
    #[arg(long)]
    pub from: Option<String>,
    /// Record the check on chain (needs `--from`), when the licence is in force.
    #[arg(long, requires = "from")]
    pub record: bool,
}

/// A licence file: the issuer's signed document and where it is recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LicenceFile {
    /// `civitas-licence/1`.
    pub format: String,
    /// The document, as signed: chain_id, registry, kind, subject, issuer, fields,
    /// issued_at_ms, valid_until_ms.
    pub document: Value,
    /// sha3-256 of the domain and the document's canonical JSON (keys sorted, no spaces).
    pub document_hash: String,
    /// The issuer's signature over `document_hash`.
    pub issuer_signature: String,
    /// The licence id in the registry.
    pub licence: u64,
}

/// A presentation file: a licence file signed by its holder for one verifier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresentationFile {
    /// `civitas-licence-presentation/1`.
    pub format: String,
    /// The licence.
    pub licence: LicenceFile,
    /// The holder's wallet account.
    pub holder: String,
    /// The verifier it is for.
    pub verifier: String,
    /// When it was made.
    pub presented_at_ms: u64,
    /// The holder's signature over the presentation hash.
    pub holder_signature: String,
}

/// Runs a licence command.
pub fn run_licence(cmd: LicenceCommand, client: &Client, out: Output) -> Result<()> {
    match cmd {
        LicenceCommand::Issue(a) => issue(a, client, out),
        LicenceCommand::Present(a) => present(a, out),
        LicenceCommand::Verify(a) => verify(a, client, out),
    }
}

/// The hash the issuer signs: the domain and the document's canonical JSON.
pub fn document_hash(document: &Value) -> Result<Hash> {
    // serde_json's maps are sorted by key (no `preserve_order`), so the bytes are canonical.
    let mut bytes = DOCUMENT_DOMAIN.to_vec();
    bytes.extend(serde_json::to_vec(document)?);
    Ok(sha3_256(&bytes))
}

/// The hash the holder signs: the document, the verifier and the time.
fn presentation_hash(document_hash: &Hash, verifier: &AccountId, at_ms: u64) -> Hash {
    let mut bytes = PRESENTATION_DOMAIN.to_vec();
    bytes.extend_from_slice(&document_hash.0);
    bytes.extend_from_slice(&verifier.0);
    bytes.extend_from_slice(&at_ms.to_le_bytes());
    sha3_256(&bytes)
}

fn issue(a: IssueArgs, client: &Client, out: Output) -> Result<()> {
    let registry = account_arg(&a.registry)?;
    let key = signing_key(&a.from)?;
    let subject = subject_arg(&a.subject)?;
    let mut fields = Map::new();
    for f in &a.fields {
        let (name, value) = f
            .split_once('=')
            .ok_or_else(|| anyhow!("--field `{f}` is not NAME=VALUE"))?;
        fields.insert(name.to_string(), json!(value));
    }
    let issued_at_ms = now_ms();
    let valid_until_ms = issued_at_ms.saturating_add(parse_duration(&a.valid_for)?);
    let document = json!({
        "chain_id": client.chain_id()?,
        "registry": to_hex(&registry.0),
        "kind": a.kind,
        "subject": to_hex(&subject.0),
        "issuer": to_hex(&key.account().0),
        "fields": fields,
        "issued_at_ms": issued_at_ms,
        "valid_until_ms": valid_until_ms,
    });
    let hash = document_hash(&document)?;
    let metadata = chain_metadata(client, &to_hex(&registry.0))?;
    let input = encode_message(
        &metadata,
        "issue",
        &json!([to_hex(&subject.0), a.kind, to_hex(&hash.0), valid_until_ms]),
    )?;
    let r = send(
        client,
        &key,
        Call::Call {
            contract: registry,
            input,
        },
        LICENCE_FUEL,
    )?;
    if r.status != "success" {
        return expect_success(&r, out);
    }
    let id = decode_output(&metadata, "issue", &receipt_output(&r)?)?
        .as_u64()
        .ok_or_else(|| anyhow!("the registry returned no licence id"))?;
    let file = LicenceFile {
        format: "civitas-licence/1".into(),
        document,
        document_hash: to_hex(&hash.0),
        issuer_signature: to_hex(&key.sign_hash(&hash)),
        licence: id,
    };
    write_json(&a.out, &file)?;
    if out.json {
        println!(
            "{}",
            json!({ "licence": id, "document_hash": file.document_hash, "file": a.out, "tx_hash": r.tx_hash })
        );
    } else {
        println!(
            "licence {id} recorded (document {}), valid until {}; written to {}",
            file.document_hash,
            date(valid_until_ms),
            a.out.display()
        );
    }
    Ok(())
}

fn present(a: PresentArgs, out: Output) -> Result<()> {
    let licence: LicenceFile = read_json(&a.licence)?;
    let key = signing_key(&a.from)?;
    let verifier = account_arg(&a.to)?;
    let hash = Hash(hex32(&licence.document_hash).map_err(|e| anyhow!("document_hash: {e}"))?);
    let at = now_ms();
    let file = PresentationFile {
        format: "civitas-licence-presentation/1".into(),
        licence,
        holder: to_hex(&key.account().0),
        verifier: to_hex(&verifier.0),
        presented_at_ms: at,
        holder_signature: to_hex(&key.sign_hash(&presentation_hash(&hash, &verifier, at))),
    };
    write_json(&a.out, &file)?;
    if out.json {
        println!("{}", json!({ "file": a.out, "verifier": file.verifier }));
    } else {
        println!(
            "presentation for {} written to {}",
            file.verifier,
            a.out.display()
        );
    }
    Ok(())
}

/// One verification step and its outcome.
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

fn verify(a: VerifyArgs, client: &Client, out: Output) -> Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let (licence, presentation): (LicenceFile, Option<PresentationFile>) =
        match serde_json::from_str::<PresentationFile>(&text) {
            Ok(p) => (p.licence.clone(), Some(p)),
            Err(_) => (
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{} is neither a licence nor a presentation",
                        a.file.display()
                    )
                })?,
                None,
            ),
        };
    let verifier_key = a.from.as_deref().map(signing_key).transpose()?;
    let mut checks = Vec::new();
    let mut check = |name: &'static str, ok: bool, detail: String| {
        checks.push(Check { name, ok, detail });
        ok
    };

    // 1. The document is the issuer's.
    let doc = &licence.document;
    let field = |k: &str| doc[k].as_str().unwrap_or_default().to_string();
    let hash = document_hash(doc)?;
    let issuer = hex32(&field("issuer")).map(AccountId);
    let signature: Option<[u8; 64]> = from_hex(&licence.issuer_signature)
        .ok()
        .and_then(|b| b.try_into().ok());
    let signed = to_hex(&hash.0) == licence.document_hash
        && matches!((&issuer, signature), (Ok(i), Some(s)) if verify_hash(i, &hash, &s));
    check(
        "issuer signature",
        signed,
        format!("document {} signed by {}", to_hex(&hash.0), field("issuer")),
    );

    // 2. The on-chain entry at a verified header, with its proof.
    let registry = account_arg(&field("registry"))?;
    let head = client.call(client.rpc().get_head())?.height;
    let header = HeaderVerifier::new(client)?.verified_header(head)?;
    check(
        "chain",
        header.chain_id == field("chain_id"),
        format!(
            "document for {}, node on {}",
            field("chain_id"),
            header.chain_id
        ),
    );
    let mut slot = LICENCES_FIELD.to_vec();
    slot.push(b':');
    licence.licence.encode_to(&mut slot);
    let entry_key = [b"s/".as_slice(), &registry.0, &slot].concat();
    let entry = proven(client, &header, &entry_key)
        .with_context(|| format!("reading licence {} from the registry", licence.licence))?;
    let Some(entry) = entry else {
        check(
            "on-chain entry",
            false,
            format!("the registry holds no licence {}", licence.licence),
        );
        return finish(&checks, Value::Null, head, out);
    };
    let metadata = chain_metadata(client, &to_hex(&registry.0))?;
    let recorded = decode_output(&metadata, "licence", &[&[1u8][..], &entry].concat())?;
    let recorded = recorded.get("Some").cloned().unwrap_or(recorded);
    let r = |k: &str| recorded[k].as_str().unwrap_or_default().to_string();
    check(
        "on-chain entry",
        r("document_hash") == licence.document_hash
            && r("issuer") == field("issuer")
            && r("subject") == field("subject")
            && r("kind") == field("kind"),
        format!(
            "licence {} version {} proven at height {head}",
            licence.licence, recorded["version"]
        ),
    );

    // 3. In force now: recorded valid and not past its validity.
    let status = recorded["status"].as_str().unwrap_or("unknown").to_string();
    let valid_until = recorded["valid_until"].as_u64().unwrap_or(0);
    let reason = r("reason");
    let in_force = status == "Valid" && header.time_ms < valid_until;
    let detail = match (status.as_str(), in_force) {
        ("Valid", true) => format!("valid until {}", date(valid_until)),
        ("Valid", false) => format!("expired at {}", date(valid_until)),
        (s, _) if reason.is_empty() => s.to_lowercase(),
        (s, _) => format!("{}: {reason}", s.to_lowercase()),
    };
    check("status", in_force, detail);

    // 4. A presentation: signed by the holder for this verifier, and her key bound to the subject.
    if let Some(p) = &presentation {
        let holder = hex32(&p.holder).map(AccountId);
        let verifier = hex32(&p.verifier).map(AccountId);
        let sig: Option<[u8; 64]> = from_hex(&p.holder_signature)
            .ok()
            .and_then(|b| b.try_into().ok());
        let holder_signed = match (&holder, &verifier, sig) {
            (Ok(h), Ok(v), Some(s)) => {
                verify_hash(h, &presentation_hash(&hash, v, p.presented_at_ms), &s)
            }
            _ => false,
        };
        check(
            "holder signature",
            holder_signed,
            format!("presented by {} at {}", p.holder, date(p.presented_at_ms)),
        );
        if let Some(k) = &verifier_key {
            check(
                "addressed to this verifier",
                p.verifier == to_hex(&k.account().0),
                format!("presented to {}", p.verifier),
            );
        }
        let subject =
            hex32(&field("subject")).map_err(|e| anyhow!("the document's subject: {e}"))?;
        let binding_key = [b"i/s/".as_slice(), &subject].concat();
        let bound = proven(client, &header, &binding_key)?
            .map(|v| AccountId::decode_all(&mut &v[..]))
            .transpose()
            .map_err(|_| anyhow!("the identity binding does not decode"))?;
        check(
            "holder bound to the subject",
            bound.is_some() && bound.map(|b| to_hex(&b.0)) == Some(p.holder.clone()),
            format!("subject {} (proven at height {head})", field("subject")),
        );
    }

    let all_ok = checks.iter().all(|c| c.ok);
    if all_ok && a.record {
        if let Some(k) = &verifier_key {
            let input = encode_message(&metadata, "presented", &json!([licence.licence]))?;
            let receipt = send(
                client,
                k,
                Call::Call {
                    contract: registry,
                    input,
                },
                LICENCE_FUEL,
            )?;
            checks.push(Check {
                name: "check recorded",
                ok: receipt.status == "success",
                detail: format!("transaction {}", receipt.tx_hash),
            });
        }
    }
    finish(&checks, recorded, head, out)
}

/// Prints the checks; an error unless every one passed.
fn finish(checks: &[Check], recorded: Value, height: u64, out: Output) -> Result<()> {
    let failed: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
    if out.json {
        let list: Vec<Value> = checks
            .iter()
            .map(|c| json!({ "check": c.name, "ok": c.ok, "detail": c.detail }))
            .collect();
        println!(
            "{}",
            json!({ "in_force": failed.is_empty(), "height": height, "checks": list, "licence": recorded })
        );
    } else {
        for c in checks {
            let mark = if c.ok { "ok  " } else { "FAIL" };
            println!("{mark} {:<28} {}", c.name, c.detail);
        }
    }
    match failed.first() {
        None => Ok(()),
        Some(c) => bail!("the licence does not verify: {}: {}", c.name, c.detail),
    }
}

/// The value at `key` in the state of `header`'s height, checked against its state root.
fn proven(client: &Client, header: &Header, key: &[u8]) -> Result<Option<Vec<u8>>> {
    let served = client.call(client.rpc().get_proof(to_hex(key), Some(header.height)))?;
    let value = served
        .value
        .as_deref()
        .map(from_hex)
        .transpose()
        .map_err(|e| anyhow!("proof value: {e}"))?;
    let proof = StateProof {
        key: key.to_vec(),
        value: value.clone(),
        version: header.height,
        proof: from_hex(&served.proof).map_err(|e| anyhow!("proof: {e}"))?,
    };
    verify_state_proof(&header.state_root, &proof)
        .map_err(|e| anyhow!("the state proof of {} fails: {e}", to_hex(key)))?;
    Ok(value)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a licence file", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_hash_ignores_key_order_and_changes_with_any_value() {
        let a: Value = serde_json::from_str(r#"{"kind":"k","fields":{"a":"1","b":"2"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"fields":{"b":"2","a":"1"},"kind":"k"}"#).unwrap();
        let c: Value = serde_json::from_str(r#"{"kind":"k","fields":{"a":"1","b":"3"}}"#).unwrap();
        assert_eq!(document_hash(&a).unwrap(), document_hash(&b).unwrap());
        assert_ne!(document_hash(&a).unwrap(), document_hash(&c).unwrap());
    }
}

//! `civitas disclose`: use a disclose consent, download the records and check each against
//! its on-chain commitment and the department's signature.
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use civitas_primitives::crypto::{verify_hash, Keypair, ReplyKey};
use civitas_primitives::tx::Call;
use civitas_primitives::vault::{DisclosedRecords, SealedFetch};
use civitas_primitives::Hash;
use civitas_rpc::{hex32, to_hex, VaultApiClient};
use clap::Args;
use parity_scale_codec::{DecodeAll, Encode};
use serde_json::json;

use crate::client::{send, signing_key, Client, Output};
use crate::records;

use super::{dataset_fields, expect_success, open_envelope, signed, ADMIN_FUEL};

/// Downloads a committed disclosure and checks every record against its on-chain commitment
/// and the department's signature.
pub fn fetch_disclosure(client: &Client, key: &Keypair, tx_hash: Hash) -> Result<DisclosedRecords> {
    let reply = ReplyKey::generate();
    let body = SealedFetch {
        tx_hash,
        reply_key: reply.public(),
    }
    .encode();
    let env = client.call(client.rpc().fetch_disclosed(signed(
        key,
        "vault_fetchDisclosed",
        body,
    )))?;
    let plain = open_envelope(&reply, &env)?;
    let d = DisclosedRecords::decode_all(&mut &plain[..])
        .map_err(|_| anyhow!("malformed disclosure"))?;
    for r in &d.records {
        if !verify_hash(&r.custodian, &r.hash(), &r.signature) {
            bail!(
                "record of {} does not carry a valid department signature",
                r.dataset
            );
        }
        let on_chain = client.call(
            client
                .rpc()
                .get_commitments(r.subject.to_hex(), r.dataset.clone()),
        )?;
        if !on_chain
            .iter()
            .any(|c| c.version == r.version && c.record_hash == to_hex(&r.hash().0))
        {
            bail!(
                "record {} v{} does not match its on-chain commitment",
                r.dataset,
                r.version
            );
        }
    }
    Ok(d)
}

/// `civitas disclose`
#[derive(Args, Debug)]
pub struct DiscloseArgs {
    /// Consent id.
    pub consent: u64,
    /// Institution key.
    #[arg(long)]
    pub from: String,
    /// Also write each record (SCALE, verbatim with its signature) into this directory.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
}

/// `civitas disclose`
pub fn run_disclose(
    consent: u64,
    from: &str,
    out_dir: Option<PathBuf>,
    client: &Client,
    out: Output,
) -> Result<()> {
    let key = signing_key(from)?;
    let r = send(client, &key, Call::Disclose { consent }, ADMIN_FUEL)?;
    if r.status != "success" {
        return expect_success(&r, out);
    }
    if !out.json {
        println!(
            "disclosure {} committed in block {} (the audit entry exists before any byte leaves)",
            r.tx_hash, r.height
        );
    }
    let tx = Hash(hex32(&r.tx_hash).map_err(|e| anyhow!(e))?);
    let d = fetch_disclosure(client, &key, tx)?;
    let mut shown = Vec::new();
    for rec in &d.records {
        let fields = dataset_fields(client, &rec.dataset)?;
        let value = records::decode_payload(&fields, &rec.payload)?;
        if let Some(dir) = &out_dir {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("{}.v{}.scale", rec.dataset, rec.version));
            std::fs::write(&path, rec.encode())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        shown.push(json!({
            "dataset": rec.dataset, "version": rec.version, "custodian": rec.custodian.to_hex(),
            "signature_valid": true, "matches_commitment": true, "fields": value,
        }));
    }
    if out.json {
        println!(
            "{}",
            json!({ "tx_hash": r.tx_hash, "consent": d.consent, "records": shown })
        );
    } else {
        for s in &shown {
            println!(
                "  {} v{}  signed by {}…  signature ok, matches on-chain commitment  {}",
                s["dataset"].as_str().unwrap_or_default(),
                s["version"],
                &s["custodian"].as_str().unwrap_or_default()[..16],
                s["fields"]
            );
        }
    }
    Ok(())
}

//! `civitas audit`: a citizen's (or an institution's) audit trail, with Merkle proofs checked
//! against a validator-signed header.
use anyhow::{anyhow, bail, Result};
use civitas_primitives::proof::verify_audit_entry;
use civitas_primitives::vault::{InstitutionAuditQuery, SubjectAuditQuery};
use civitas_primitives::Hash;
use civitas_rpc::{from_hex, hex32, AuditApiClient, AuditPage};
use clap::Args;
use parity_scale_codec::Encode;
use serde_json::Value;

use crate::client::{account_arg, signing_key, Client, Output};
use civitas_primitives::dev;

use super::{signed, subject_arg};

/// `civitas audit`
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Your key: the citizen's wallet, or a regulator / institution with `--institution`.
    #[arg(long)]
    pub from: String,
    /// The citizen (default: the one bound to `--from`; hex or dev citizen name).
    #[arg(long)]
    pub subject: Option<String>,
    /// List an institution's entries instead (regulators, or the institution itself).
    #[arg(long)]
    pub institution: Option<String>,
    /// Check every entry's Merkle proof against the committed, validator-signed header.
    #[arg(long)]
    pub verify: bool,
    /// First entry.
    #[arg(long, default_value_t = 0)]
    pub start: u64,
    /// Most entries.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// Checks every entry of a page: its proof against the page's state root, and that root against
/// a header signed by the validators.
pub fn verify_page(client: &Client, page: &AuditPage) -> Result<()> {
    let root = Hash(hex32(&page.state_root).map_err(|e| anyhow!(e))?);
    if page.height > 0 {
        let header = crate::verified::HeaderVerifier::new(client)?.verified_header(page.height)?;
        if header.state_root != root {
            bail!(
                "the page's state root is not the state root of block {}",
                page.height
            );
        }
    }
    for e in &page.entries {
        let key = from_hex(&e.key).map_err(|e| anyhow!(e))?;
        let value = from_hex(&e.value).map_err(|e| anyhow!(e))?;
        let proof = from_hex(&e.proof).map_err(|e| anyhow!(e))?;
        let decoded = verify_audit_entry(&root, page.height, &key, &value, &proof)
            .map_err(|err| anyhow!("audit entry {} fails its proof: {err}", e.seq))?;
        // Every listed field (what the user reads) must be the proven entry's.
        if civitas_rpc::audit_info(&decoded, &key, &value, &proof) != *e {
            bail!(
                "audit entry {} as listed differs from the proven entry",
                e.seq
            );
        }
    }
    Ok(())
}

/// `civitas audit`
pub fn run_audit(a: AuditArgs, client: &Client, out: Output) -> Result<()> {
    let key = signing_key(&a.from)?;
    let page = if let Some(inst) = &a.institution {
        let body = InstitutionAuditQuery {
            institution: account_arg(inst)?,
            from: a.start,
            limit: a.limit,
        }
        .encode();
        client.call(client.rpc().list_by_institution(signed(
            &key,
            "audit_listByInstitution",
            body,
        )))?
    } else {
        let subject = match &a.subject {
            Some(s) => subject_arg(s)?,
            None if matches!(a.from.as_str(), "alice" | "bob") => dev::dev_subject(&a.from),
            None => bail!("pass --subject (the citizen bound to --from)"),
        };
        let body = SubjectAuditQuery {
            subject,
            from: a.start,
            limit: a.limit,
        }
        .encode();
        client.call(
            client
                .rpc()
                .list_by_subject(signed(&key, "audit_listBySubject", body)),
        )?
    };
    if a.verify {
        verify_page(client, &page)?;
    }
    if out.json {
        let mut v = serde_json::to_value(&page)?;
        v["verified"] = Value::from(a.verify);
        println!("{v}");
        return Ok(());
    }
    println!(
        "{} of {} audit entries (proven against block {}{})",
        page.entries.len(),
        page.total,
        page.height,
        if a.verify {
            ", every proof and the header's validator signatures checked"
        } else {
            "; add --verify to check the proofs"
        }
    );
    for e in &page.entries {
        println!(
            "  #{:<3} block {:<5} {:<11} {:<28} by {}…  {:<34} consent {}  purpose \"{}\"",
            e.seq,
            e.height,
            e.kind,
            e.dataset,
            &e.accessor[..14],
            e.outcome,
            e.consent
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            e.purpose
        );
    }
    Ok(())
}

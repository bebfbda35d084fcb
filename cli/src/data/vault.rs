//! `civitas vault …`: upload signed records (custodians) and read their public commitments.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::Call;
use civitas_primitives::vault::{Field, Record, SubjectId};
use civitas_rpc::{to_hex, TxApiClient, VaultApiClient};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use parity_scale_codec::Encode;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Map, Value};

use crate::client::{signing_key, Client, Output};
use crate::records;

use super::{dataset_fields, subject_arg, ADMIN_FUEL};

/// `civitas vault …`
#[derive(Subcommand, Debug)]
pub enum VaultCommand {
    /// Upload signed records: one (`--subject` + `--set name=value`…) or a whole file
    /// (`--file`, CSV with a header row or JSON lines; a `subject` column plus the fields).
    /// The payload goes encrypted to this custodian node; only its salted hash and the
    /// department's signature go on chain.
    Upload {
        /// Dataset id.
        #[arg(long)]
        dataset: String,
        /// Custodian key (the dataset's department).
        #[arg(long)]
        from: String,
        /// Subject of a single record (hex or dev citizen name).
        #[arg(long, conflicts_with = "file")]
        subject: Option<String>,
        /// A field of a single record, `name=value`.
        #[arg(long = "set", conflicts_with = "file")]
        set: Vec<String>,
        /// A CSV (`.csv`) or JSON-lines file of records.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Public commitments of a subject's records in a dataset.
    Commitments {
        /// Subject (hex or dev citizen name).
        #[arg(long)]
        subject: String,
        /// Dataset id.
        #[arg(long)]
        dataset: String,
    },
}

/// Rows of a CSV or JSON-lines file as JSON objects.
fn read_rows(path: &PathBuf) -> Result<Vec<Map<String, Value>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "csv") {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers()?.clone();
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
            rows.push(
                headers
                    .iter()
                    .zip(rec.iter())
                    .map(|(h, v)| (h.trim().to_string(), Value::from(v.trim())))
                    .collect(),
            );
        }
        Ok(rows)
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| match serde_json::from_str::<Value>(l) {
                Ok(Value::Object(m)) => Ok(m),
                Ok(_) => bail!("{} line {}: not a JSON object", path.display(), i + 1),
                Err(e) => bail!("{} line {}: {e}", path.display(), i + 1),
            })
            .collect()
    }
}

/// Builds and signs a record.
pub fn make_record(
    key: &Keypair,
    subject: SubjectId,
    dataset: &str,
    version: u32,
    payload: Vec<u8>,
) -> Record {
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    let mut r = Record {
        subject,
        dataset: dataset.into(),
        version,
        salt,
        payload,
        custodian: key.account(),
        signature: [0; 64],
    };
    r.signature = key.sign_hash(&r.hash());
    r
}

/// `civitas vault …`
pub fn run_vault(cmd: VaultCommand, client: &Client, out: Output) -> Result<()> {
    match cmd {
        VaultCommand::Upload {
            dataset,
            from,
            subject,
            set,
            file,
        } => {
            let key = signing_key(&from)?;
            let fields = dataset_fields(client, &dataset)?;
            let rows: Vec<Map<String, Value>> = match (&file, &subject) {
                (Some(path), _) => read_rows(path)?,
                (None, Some(s)) => {
                    let mut row = Map::new();
                    row.insert("subject".into(), Value::from(s.clone()));
                    for kv in &set {
                        let (k, v) = kv
                            .split_once('=')
                            .ok_or_else(|| anyhow!("`--set {kv}`: expected name=value"))?;
                        row.insert(k.trim().into(), Value::from(v));
                    }
                    vec![row]
                }
                (None, None) => bail!("pass --subject with --set name=value…, or --file"),
            };
            upload_rows(client, &key, &dataset, &fields, rows, out)
        }
        VaultCommand::Commitments { subject, dataset } => {
            let list = client.call(
                client
                    .rpc()
                    .get_commitments(subject_arg(&subject)?.to_hex(), dataset),
            )?;
            println!("{}", serde_json::to_string_pretty(&list)?);
            Ok(())
        }
    }
}

fn upload_rows(
    client: &Client,
    key: &Keypair,
    dataset: &str,
    fields: &[Field],
    rows: Vec<Map<String, Value>>,
    out: Output,
) -> Result<()> {
    let chain_id = client.chain_id()?;
    let mut next_version: std::collections::BTreeMap<SubjectId, u32> = Default::default();
    let mut recs = Vec::with_capacity(rows.len());
    for (i, mut row) in rows.into_iter().enumerate() {
        let line = i + 1;
        let subject = match row.remove("subject") {
            Some(Value::String(s)) => subject_arg(&s).with_context(|| format!("record {line}"))?,
            _ => bail!("record {line}: no `subject` column"),
        };
        let payload =
            records::encode_payload(fields, &row).with_context(|| format!("record {line}"))?;
        let version = match next_version.get(&subject) {
            Some(v) => *v,
            None => {
                let committed = client.call(
                    client
                        .rpc()
                        .get_commitments(subject.to_hex(), dataset.into()),
                )?;
                committed.last().map_or(1, |c| c.version + 1)
            }
        };
        next_version.insert(subject, version + 1);
        recs.push(make_record(key, subject, dataset, version, payload));
    }
    let bar = if out.json || recs.len() < 2 {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(recs.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:12} [{bar:40}] {pos}/{len} records ({per_sec}, eta {eta})",
        )
        .map_err(|e| anyhow!(e))?
        .progress_chars("=> "),
    );
    let mut nonce = client.nonce(&key.account())?;
    let mut hashes = Vec::with_capacity(recs.len());
    for chunk in recs.chunks(500) {
        bar.set_message("sending");
        let encoded = chunk.iter().map(|r| to_hex(&r.encode())).collect();
        client.call(client.rpc().put_records(encoded))?;
        let txs: Vec<String> = chunk
            .iter()
            .map(|r| {
                let tx = civitas_primitives::tx::Transaction {
                    chain_id: chain_id.clone(),
                    signer: key.account(),
                    nonce,
                    fuel_limit: ADMIN_FUEL,
                    call: Call::CommitRecord {
                        subject: r.subject,
                        dataset: r.dataset.clone(),
                        version: r.version,
                        record_hash: r.hash(),
                        signature: r.signature,
                    },
                };
                nonce += 1;
                Ok(to_hex(&client.sign(key, tx)?.encode()))
            })
            .collect::<Result<_>>()?;
        for (i, o) in client
            .call(client.rpc().submit_batch(txs))?
            .into_iter()
            .enumerate()
        {
            match o.tx_hash {
                Some(h) => hashes.push(h),
                None => bail!(
                    "record {} refused: {}",
                    hashes.len() + i + 1,
                    o.message.unwrap_or_default()
                ),
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.set_message("committing");
    let mut failed = Vec::new();
    if let Some(last) = hashes.last() {
        crate::client::wait_receipt(client, last, Duration::from_secs(120))?;
    }
    for (i, h) in hashes.iter().enumerate() {
        let r = crate::client::wait_receipt(client, h, Duration::from_secs(60))?;
        if r.status != "success" {
            failed.push(format!("record {}: {}", i + 1, r.error.unwrap_or_default()));
        }
    }
    bar.finish_and_clear();
    if out.json {
        println!(
            "{}",
            json!({ "uploaded": hashes.len() - failed.len(), "failed": failed, "record_hashes": recs.iter().map(|r| r.hash().to_hex()).collect::<Vec<_>>() })
        );
    } else {
        println!(
            "uploaded {} record(s) of {dataset}; payloads stay encrypted on this custodian node, commitments are on chain",
            hashes.len() - failed.len()
        );
        for f in &failed {
            println!("  FAILED {f}");
        }
    }
    if !failed.is_empty() {
        bail!("{} record(s) failed", failed.len());
    }
    Ok(())
}

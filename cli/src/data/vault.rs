//! `civitas vault …`: upload signed records (custodians) and read their public commitments.
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use civitas_rpc::VaultApiClient;
use clap::Subcommand;
use serde_json::{Map, Value};

use crate::client::{signing_key, Client, Output};

use super::upload::{upload, Source};
use super::{dataset_fields, subject_arg};

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
        /// A CSV (`.csv`) or JSON-lines file of records, streamed: every row is checked before
        /// any is sent, then the records go in chunks of 1000, with a progress bar.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Chunks of 1000 records sent and awaiting commitment at once (1-10; memory stays
        /// bounded by it whatever the file's size).
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=10))]
        in_flight: u8,
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

/// `civitas vault …`
pub fn run_vault(cmd: VaultCommand, client: &Client, out: Output) -> Result<()> {
    match cmd {
        VaultCommand::Upload {
            dataset,
            from,
            subject,
            set,
            file,
            in_flight,
        } => {
            let key = signing_key(&from)?;
            let fields = dataset_fields(client, &dataset)?;
            let source = match (file, subject) {
                (Some(path), _) => Source::File(path),
                (None, Some(s)) => {
                    let mut row = Map::new();
                    row.insert("subject".into(), Value::from(s));
                    for kv in &set {
                        let (k, v) = kv
                            .split_once('=')
                            .ok_or_else(|| anyhow!("`--set {kv}`: expected name=value"))?;
                        row.insert(k.trim().into(), Value::from(v));
                    }
                    Source::One(row)
                }
                (None, None) => bail!("pass --subject with --set name=value…, or --file"),
            };
            upload(
                client,
                &key,
                &dataset,
                &fields,
                &source,
                usize::from(in_flight),
                out,
            )
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

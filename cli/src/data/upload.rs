//! `civitas vault upload`: a custodian's records, one or a whole register, streamed. The file is
//! read twice, a row at a time: first to check every row (subject, fields, schema) so that a
//! bad row stops the upload before anything is sent, then to sign and send the records in
//! chunks of [`CHUNK`], with at most `in_flight` chunks awaiting commitment (the node's pool
//! takes 10,000 pending transactions per account). Memory stays bounded
//! by the window, whatever the file's size: versions come from the node per chunk
//! (`vault_getLatestVersions`), commitment is followed per chunk (`tx_getReceipts`), and the
//! record hashes of `--json` are written out as each chunk is confirmed.
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use civitas_primitives::crypto::{Keypair, PrivateSealer};
use civitas_primitives::tx::{Call, Transaction};
use civitas_primitives::vault::{Field, Record, SubjectId};
use civitas_rpc::{to_hex, TxApiClient, TxStatus, VaultApiClient};
use indicatif::{ProgressBar, ProgressStyle};
use parity_scale_codec::Encode;
use rand_core::{OsRng, RngCore};
use serde_json::{Map, Value};

use crate::client::{Client, Output};
use crate::records;

use super::{subject_arg, ADMIN_FUEL};

/// Records per `vault_putRecords` / `tx_submitBatch` call (the node's limit for both).
pub const CHUNK: usize = 1_000;
/// How long a chunk may take to commit once sent.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(120);
/// Failures listed by line; beyond it only counted.
const FAILURES_LISTED: usize = 100;

/// Where the records come from.
pub enum Source {
    /// One record given on the command line.
    One(Map<String, Value>),
    /// A CSV (`.csv`, header row) or JSON-lines file.
    File(PathBuf),
}

/// The rows of a source, one at a time, each with its line number.
enum Rows {
    One(Option<Map<String, Value>>),
    Csv {
        reader: csv::Reader<File>,
        headers: Vec<String>,
        path: PathBuf,
    },
    Lines {
        lines: std::io::Lines<BufReader<File>>,
        line: usize,
        path: PathBuf,
    },
}

impl Rows {
    fn open(source: &Source) -> Result<Rows> {
        match source {
            Source::One(row) => Ok(Rows::One(Some(row.clone()))),
            Source::File(path) => {
                let file =
                    File::open(path).with_context(|| format!("reading {}", path.display()))?;
                if path.extension().is_some_and(|e| e == "csv") {
                    let mut reader = csv::Reader::from_reader(file);
                    let headers = reader
                        .headers()
                        .with_context(|| format!("{}: header row", path.display()))?
                        .iter()
                        .map(|h| h.trim().to_string())
                        .collect();
                    Ok(Rows::Csv {
                        reader,
                        headers,
                        path: path.clone(),
                    })
                } else {
                    Ok(Rows::Lines {
                        lines: BufReader::new(file).lines(),
                        line: 0,
                        path: path.clone(),
                    })
                }
            }
        }
    }
}

impl Iterator for Rows {
    /// `(line, row)`.
    type Item = Result<(usize, Map<String, Value>)>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Rows::One(row) => row.take().map(|r| Ok((1, r))),
            Rows::Csv {
                reader,
                headers,
                path,
            } => {
                let mut rec = csv::StringRecord::new();
                match reader.read_record(&mut rec) {
                    Ok(false) => None,
                    Ok(true) => {
                        let line = rec.position().map_or(0, |p| p.line() as usize);
                        Some(Ok((
                            line,
                            headers
                                .iter()
                                .zip(rec.iter())
                                .map(|(h, v)| (h.clone(), Value::from(v.trim())))
                                .collect(),
                        )))
                    }
                    Err(e) => Some(Err(anyhow!("{}: {e}", path.display()))),
                }
            }
            Rows::Lines { lines, line, path } => loop {
                *line += 1;
                let text = match lines.next()? {
                    Ok(t) => t,
                    Err(e) => return Some(Err(anyhow!("{} line {line}: {e}", path.display()))),
                };
                if text.trim().is_empty() {
                    continue;
                }
                return Some(match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(m)) => Ok((*line, m)),
                    Ok(_) => Err(anyhow!("{} line {line}: not a JSON object", path.display())),
                    Err(e) => Err(anyhow!("{} line {line}: {e}", path.display())),
                });
            },
        }
    }
}

/// A row checked against the schema: its subject and encoded payload.
fn checked_row(
    fields: &[Field],
    line: usize,
    mut row: Map<String, Value>,
) -> Result<(usize, SubjectId, Vec<u8>)> {
    let subject = match row.remove("subject") {
        Some(Value::String(s)) => {
            subject_arg(&s).with_context(|| format!("record on line {line}"))?
        }
        _ => bail!("record on line {line}: no `subject` column"),
    };
    let payload =
        records::encode_payload(fields, &row).with_context(|| format!("record on line {line}"))?;
    Ok((line, subject, payload))
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

/// A chunk sent and not yet confirmed.
struct InFlight {
    /// Its position among the chunks.
    index: usize,
    /// `(line, transaction hash, record hash)` of each record.
    records: Vec<(usize, String, String)>,
    sent: Instant,
}

/// What the upload did.
#[derive(Default)]
struct Tally {
    uploaded: u64,
    failed: u64,
    failures: Vec<String>,
}

/// Writes `--json`'s record hashes (every record's, in file order) as chunks are confirmed: one
/// JSON object on one line, its totals last, so the output does not wait in memory.
struct JsonOut {
    first: bool,
}

impl JsonOut {
    fn start() -> Result<JsonOut> {
        print!("{{\"record_hashes\":[");
        Ok(JsonOut { first: true })
    }

    fn hashes<'a>(&mut self, hashes: impl Iterator<Item = &'a str>) -> Result<()> {
        let mut out = std::io::stdout().lock();
        for h in hashes {
            if !self.first {
                out.write_all(b",")?;
            }
            self.first = false;
            write!(out, "\"{h}\"")?;
        }
        out.flush()?;
        Ok(())
    }

    fn finish(self, t: &Tally, error: Option<&str>) -> Result<()> {
        let error = match error {
            Some(e) => format!(",\"error\":{}", serde_json::to_string(e)?),
            None => String::new(),
        };
        println!(
            "],\"uploaded\":{},\"failed\":{}{error}}}",
            t.uploaded,
            serde_json::to_string(&t.failures)?
        );
        Ok(())
    }
}

/// Uploads every record of `source` to `dataset` as custodian `key`.
pub fn upload(
    client: &Client,
    key: &Keypair,
    dataset: &str,
    fields: &[Field],
    source: &Source,
    in_flight: usize,
    out: Output,
) -> Result<()> {
    // Pass 1: every row checked before anything is sent.
    let mut total = 0u64;
    for row in Rows::open(source)? {
        let (line, row) = row?;
        checked_row(fields, line, row)?;
        total += 1;
    }
    if total == 0 {
        bail!("{}: no records", source_name(source));
    }

    let bar = if out.json || total < 2 {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:10} [{bar:40}] {pos}/{len} records committed ({per_sec}, eta {eta})",
        )
        .map_err(|e| anyhow!(e))?
        .progress_chars("=> "),
    );
    bar.set_message("uploading");

    let chain_id = client.chain_id()?;
    let mut nonce = client.nonce(&key.account())?;
    let mut json = if out.json {
        Some(JsonOut::start()?)
    } else {
        None
    };
    let mut tally = Tally::default();
    let mut window: VecDeque<InFlight> = VecDeque::new();
    // The versions given to records not yet confirmed, by the chunk that carries them; a
    // subject's next version is the node's latest committed one otherwise.
    let mut unconfirmed: BTreeMap<SubjectId, (u32, usize)> = BTreeMap::new();
    // The streaming pass; on an error, what was sent and not yet confirmed is said, and the JSON
    // output is closed.
    let streamed = (|| -> Result<()> {
        let mut rows = Rows::open(source)?;
        let mut index = 0usize;
        loop {
            let mut chunk = Vec::with_capacity(CHUNK);
            for row in rows.by_ref().take(CHUNK) {
                let (line, row) = row?;
                chunk.push(checked_row(fields, line, row)?);
            }
            if chunk.is_empty() {
                break;
            }
            let latest = latest_versions(client, dataset, &chunk, &unconfirmed)?;
            let mut recs = Vec::with_capacity(chunk.len());
            let mut lines = Vec::with_capacity(chunk.len());
            for (line, subject, payload) in chunk {
                let version = match unconfirmed.get(&subject) {
                    Some((v, _)) => v.checked_add(1),
                    None => latest.get(&subject).copied().unwrap_or(0).checked_add(1),
                }
                .ok_or_else(|| anyhow!("record on line {line}: its subject has no next version"))?;
                unconfirmed.insert(subject, (version, index));
                recs.push(make_record(key, subject, dataset, version, payload));
                lines.push(line);
            }
            if window.len() >= in_flight {
                if let Some(oldest) = window.pop_front() {
                    confirm(
                        client,
                        oldest,
                        &mut unconfirmed,
                        &mut tally,
                        json.as_mut(),
                        &bar,
                    )?;
                }
            }
            window.push_back(send(
                client, key, &chain_id, &mut nonce, index, &recs, &lines,
            )?);
            index += 1;
        }
        bar.set_message("committing");
        while let Some(oldest) = window.pop_front() {
            confirm(
                client,
                oldest,
                &mut unconfirmed,
                &mut tally,
                json.as_mut(),
                &bar,
            )?;
        }
        Ok(())
    })();
    let sent_unconfirmed: usize = window.iter().map(|c| c.records.len()).sum();
    let error = streamed.err().map(|e| {
        if sent_unconfirmed > 0 {
            anyhow!(
                "{e:#}; {sent_unconfirmed} record(s) were sent and not confirmed: their commitments may still land (`civitas vault commitments` shows them; a new upload continues each subject's versions)"
            )
        } else {
            e
        }
    });
    bar.finish_and_clear();
    let error_text = error.as_ref().map(|e| format!("{e:#}"));
    match json {
        Some(j) => j.finish(&tally, error_text.as_deref())?,
        None => {
            println!(
                "uploaded {} record(s) of {dataset}; payloads stay encrypted on this custodian node, commitments are on chain",
                tally.uploaded
            );
            for f in &tally.failures {
                println!("  FAILED {f}");
            }
            if tally.failed > tally.failures.len() as u64 {
                println!(
                    "  … and {} more",
                    tally.failed - tally.failures.len() as u64
                );
            }
        }
    }
    if let Some(e) = error {
        return Err(e);
    }
    if tally.failed > 0 {
        bail!("{} record(s) failed", tally.failed);
    }
    Ok(())
}

fn source_name(source: &Source) -> String {
    match source {
        Source::One(_) => "the record".into(),
        Source::File(p) => Path::new(p).display().to_string(),
    }
}

/// The node's latest committed version of each subject of `chunk` that no unconfirmed record
/// numbers already.
fn latest_versions(
    client: &Client,
    dataset: &str,
    chunk: &[(usize, SubjectId, Vec<u8>)],
    unconfirmed: &BTreeMap<SubjectId, (u32, usize)>,
) -> Result<BTreeMap<SubjectId, u32>> {
    let ask: Vec<SubjectId> = chunk
        .iter()
        .map(|(_, s, _)| *s)
        .filter(|s| !unconfirmed.contains_key(s))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if ask.is_empty() {
        return Ok(BTreeMap::new());
    }
    let versions = client.call(
        client
            .rpc()
            .get_latest_versions(dataset.into(), ask.iter().map(|s| s.to_hex()).collect()),
    )?;
    if versions.len() != ask.len() {
        bail!(
            "the node answered {} versions for {} subjects",
            versions.len(),
            ask.len()
        );
    }
    Ok(ask.into_iter().zip(versions).collect())
}

/// Hands the chunk's payloads to the node and submits their commitments.
fn send(
    client: &Client,
    key: &Keypair,
    chain_id: &str,
    nonce: &mut u64,
    index: usize,
    recs: &[Record],
    lines: &[usize],
) -> Result<InFlight> {
    client.call(
        client
            .rpc()
            .put_records(recs.iter().map(|r| to_hex(&r.encode())).collect()),
    )?;
    // One sender key for the chunk's private bodies: the node opens them with one key exchange.
    let access_key = client.access_key()?;
    let session = format!("vault upload/{chain_id}/{nonce}");
    let sealer = PrivateSealer::new(&access_key, key, session.as_bytes());
    let txs = recs
        .iter()
        .map(|r| {
            let tx = Transaction {
                chain_id: chain_id.into(),
                signer: key.account(),
                nonce: *nonce,
                fuel_limit: ADMIN_FUEL,
                call: Call::CommitRecord {
                    subject: r.subject,
                    dataset: r.dataset.clone(),
                    version: r.version,
                    record_hash: r.hash(),
                    signature: r.signature,
                },
            };
            *nonce += 1;
            let sealed = sealer
                .seal(tx)
                .ok_or_else(|| anyhow!("encrypting the record commitment failed"))?;
            Ok(to_hex(&key.sign_tx(sealed).encode()))
        })
        .collect::<Result<Vec<_>>>()?;
    let outcomes = client.call(client.rpc().submit_batch(txs))?;
    let mut records = Vec::with_capacity(recs.len());
    for ((o, r), line) in outcomes.into_iter().zip(recs).zip(lines) {
        match o.tx_hash {
            Some(h) => records.push((*line, h, r.hash().to_hex())),
            None => bail!(
                "record on line {line} refused: {}",
                o.message.unwrap_or_default()
            ),
        }
    }
    Ok(InFlight {
        index,
        records,
        sent: Instant::now(),
    })
}

/// Waits until every record of `chunk` is committed and counts the outcomes.
fn confirm(
    client: &Client,
    chunk: InFlight,
    unconfirmed: &mut BTreeMap<SubjectId, (u32, usize)>,
    tally: &mut Tally,
    json: Option<&mut JsonOut>,
    bar: &ProgressBar,
) -> Result<()> {
    let mut waiting: Vec<usize> = (0..chunk.records.len()).collect();
    while !waiting.is_empty() {
        let hashes = waiting
            .iter()
            .map(|&i| chunk.records[i].1.clone())
            .collect();
        let receipts = client.call(client.rpc().get_receipts(hashes))?;
        let mut still = Vec::new();
        for (&i, r) in waiting.iter().zip(receipts) {
            match r {
                None => still.push(i),
                Some(r) if r.status == "success" => tally.uploaded += 1,
                Some(r) => {
                    tally.failed += 1;
                    if tally.failures.len() < FAILURES_LISTED {
                        tally.failures.push(format!(
                            "record on line {}: {}",
                            chunk.records[i].0,
                            r.error.unwrap_or_default()
                        ));
                    }
                }
            }
        }
        bar.inc((waiting.len() - still.len()) as u64);
        waiting = still;
        if waiting.is_empty() {
            break;
        }
        if chunk.sent.elapsed() > COMMIT_TIMEOUT {
            let (line, hash, _) = &chunk.records[waiting[0]];
            let status = client.call(client.rpc().status(hash.clone()))?;
            bail!(
                "record on line {line} (transaction {hash}) not committed after {COMMIT_TIMEOUT:?}: {}",
                match status {
                    TxStatus::Unknown => "the node dropped it from its pool",
                    _ => "still pending",
                }
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    unconfirmed.retain(|_, (_, c)| *c != chunk.index);
    if let Some(j) = json {
        j.hashes(chunk.records.iter().map(|(_, _, h)| h.as_str()))?;
    }
    Ok(())
}

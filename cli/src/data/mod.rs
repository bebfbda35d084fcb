//! Commands for every role around citizens' data: `identity`, `dataset`, `vault`, `consent`,
//! `code`, `sealed`, `disclose`, `audit` and `credits`.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use civitas_ledger::proof::{verify_state_proof, StateProof};
use civitas_primitives::crypto::{verify_hash, Keypair, ReplyKey};
use civitas_primitives::tx::Call;
use civitas_primitives::vault::{
    sealed_output_hash, subject_id, AuditEntry, ConsentAction, ConsentMode, ConsentRequest,
    DisclosedRecords, Envelope, Field, InstitutionAuditQuery, Record, SealedFetch,
    SealedOutputReply, SubjectAuditQuery, SubjectId,
};
use civitas_primitives::Hash;
use civitas_rpc::{
    from_hex, hex32, to_hex, AuditApiClient, AuditPage, ConsentApiClient, ContractApiClient,
    CreditsApiClient, ReceiptInfo, TxApiClient, VaultApiClient,
};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use parity_scale_codec::{Decode, DecodeAll, Encode};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Map, Value};

use crate::client::{account_arg, now_ms, print_receipt, send, signing_key, Client, Output};
use crate::contract_cmd::chain_metadata;
use crate::{dev, records, scale_json};

/// Fuel for registry transactions.
const ADMIN_FUEL: u64 = 1_000_000;

/// `civitas identity …`
#[derive(Subcommand, Debug)]
pub enum IdentityCommand {
    /// Print a citizen's subject id: from a dev citizen name (alice, bob) or `--national-id`.
    Subject {
        /// Dev citizen name, or the national id with `--national-id`.
        name: String,
        /// Treat NAME as a national id (salted with the chain id).
        #[arg(long)]
        national_id: bool,
    },
    /// Bind a citizen's wallet key to her subject id (identity departments).
    Bind {
        /// Subject: 64 hex digits or a dev citizen name.
        #[arg(long)]
        subject: String,
        /// Her wallet account (hex or dev name).
        #[arg(long)]
        account: String,
        /// Signing key of the identity department.
        #[arg(long, default_value = "civil-affairs")]
        from: String,
    },
}

/// `civitas dataset …`
#[derive(Subcommand, Debug)]
pub enum DatasetCommand {
    /// Register a dataset held by the signing custodian.
    Register {
        /// Id such as `tax.annual_income`.
        id: String,
        /// Fields as `name:type` (u32, u64, u128, i64, bool, text); repeat in schema order.
        #[arg(long = "field", required = true)]
        fields: Vec<String>,
        /// Credits per sealed read or disclosure.
        #[arg(long, default_value_t = 1)]
        price: u128,
        /// Custodian key.
        #[arg(long)]
        from: String,
    },
    /// List registered datasets.
    List,
}

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

/// Consent mode on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModeArg {
    /// A contract computes over the records in a sealed call.
    Compute,
    /// The institution downloads the records.
    Disclose,
}

/// `civitas consent …`
#[derive(Subcommand, Debug)]
pub enum ConsentCommand {
    /// File a consent request (institutions).
    Request {
        /// Institution key.
        #[arg(long)]
        from: String,
        /// The citizen (hex or dev citizen name).
        #[arg(long)]
        subject: String,
        /// Datasets; repeat for several.
        #[arg(long = "dataset", required = true)]
        datasets: Vec<String>,
        /// Purpose, in words the citizen reads.
        #[arg(long)]
        purpose: String,
        /// compute or disclose.
        #[arg(long, value_enum)]
        mode: ModeArg,
        /// The contract (address or dev name) whose code may compute (compute mode).
        #[arg(long)]
        contract: Option<String>,
        /// Or the code hash directly (compute mode).
        #[arg(long, conflicts_with = "contract")]
        code_hash: Option<String>,
        /// How long it stays valid: `90s`, `12h`, `30d`.
        #[arg(long, default_value = "30d")]
        expires_in: String,
        /// Uses allowed.
        #[arg(long, default_value_t = 1)]
        max_uses: u32,
    },
    /// List your consents (as the citizen or as the institution).
    List {
        /// Your key.
        #[arg(long)]
        from: String,
    },
    /// Approve a pending request.
    Approve(ConsentAnswer),
    /// Reject a pending request.
    Reject(ConsentAnswer),
    /// Pause an active consent.
    Pause(ConsentAnswer),
    /// Resume a paused consent.
    Resume(ConsentAnswer),
    /// Revoke a consent.
    Revoke(ConsentAnswer),
}

/// A citizen's answer.
#[derive(Args, Debug)]
pub struct ConsentAnswer {
    /// Consent id.
    pub id: u64,
    /// The citizen's wallet key.
    #[arg(long)]
    pub from: String,
}

/// `civitas code …`
#[derive(Subcommand, Debug)]
pub enum CodeCommand {
    /// Approve a code hash for sealed data access (regulators).
    Approve {
        /// Code hash, or a contract address / dev name whose code to approve.
        code: String,
        /// Regulator key.
        #[arg(long, default_value = "regulator")]
        from: String,
    },
    /// Withdraw an approval.
    Withdraw {
        /// Code hash or contract address.
        code: String,
        /// Regulator key.
        #[arg(long, default_value = "regulator")]
        from: String,
    },
}

/// `civitas sealed …`
#[derive(Subcommand, Debug)]
pub enum SealedCommand {
    /// Run a contract method as a sealed call over consented records; prints the result,
    /// fetched encrypted and checked against the receipt's hash.
    Call {
        /// Contract address.
        address: String,
        /// Method name.
        method: String,
        /// Arguments as a JSON array or object.
        #[arg(default_value = "[]")]
        args: String,
        /// Institution key.
        #[arg(long)]
        from: String,
        /// Fuel budget (the receipt reports all of it, whatever was used).
        #[arg(long, default_value_t = 50_000_000)]
        fuel: u64,
    },
    /// Fetch the result of an earlier sealed call (the institution or a citizen it read).
    Output {
        /// Transaction hash.
        tx: String,
        /// Your key.
        #[arg(long)]
        from: String,
        /// Contract address and method, to decode the output.
        #[arg(long, num_args = 2, value_names = ["ADDRESS", "METHOD"])]
        decode: Option<Vec<String>>,
    },
}

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

/// `civitas credits …`
#[derive(Subcommand, Debug)]
pub enum CreditsCommand {
    /// An account's credits.
    Balance {
        /// Account (hex or dev name).
        account: String,
    },
    /// Move credits.
    Transfer {
        /// Recipient (hex or dev name).
        to: String,
        /// Amount.
        amount: u128,
        /// Sender key.
        #[arg(long)]
        from: String,
    },
}

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

fn expect_success(r: &ReceiptInfo, out: Output) -> Result<()> {
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

fn parse_duration(s: &str) -> Result<u64> {
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

fn code_hash_arg(client: &Client, s: &str) -> Result<Hash> {
    let meta = client.call(client.rpc().get_metadata(resolve_address(s)?))?;
    Ok(Hash(hex32(&meta.code_hash).map_err(|e| anyhow!(e))?))
}

fn resolve_address(s: &str) -> Result<String> {
    Ok(to_hex(&account_arg(s)?.0))
}

fn dataset_fields(client: &Client, id: &str) -> Result<Vec<Field>> {
    let ds = client.call(client.rpc().get_dataset(id.into()))?;
    ds.fields
        .iter()
        .map(|f| civitas_ledger::genesis::parse_field(f).map_err(|e| anyhow!(e)))
        .collect()
}

fn signed(key: &Keypair, method: &str, body: Vec<u8>) -> String {
    to_hex(&key.sign_request(method, body, now_ms()).encode())
}

fn open_envelope(reply: &ReplyKey, hex: &str) -> Result<Vec<u8>> {
    let bytes = from_hex(hex).map_err(|e| anyhow!(e))?;
    let env = Envelope::decode_all(&mut &bytes[..]).map_err(|_| anyhow!("malformed envelope"))?;
    reply
        .open(&env)
        .ok_or_else(|| anyhow!("the reply does not decrypt with this request's key"))
}

/// `civitas identity …`
pub fn run_identity(cmd: IdentityCommand, client: &Client, out: Output) -> Result<()> {
    match cmd {
        IdentityCommand::Subject { name, national_id } => {
            let s = if national_id {
                subject_id(&client.chain_id()?, &name)
            } else {
                subject_arg(&name)?
            };
            if out.json {
                println!("{}", json!({ "subject": s.to_hex() }));
            } else {
                println!("{}", s.to_hex());
            }
            Ok(())
        }
        IdentityCommand::Bind {
            subject,
            account,
            from,
        } => {
            let call = Call::BindIdentity {
                subject: subject_arg(&subject)?,
                account: account_arg(&account)?,
            };
            expect_success(&send(client, &signing_key(&from)?, call, ADMIN_FUEL)?, out)
        }
    }
}

/// `civitas dataset …`
pub fn run_dataset(cmd: DatasetCommand, client: &Client, out: Output) -> Result<()> {
    match cmd {
        DatasetCommand::Register {
            id,
            fields,
            price,
            from,
        } => {
            let fields = fields
                .iter()
                .map(|f| civitas_ledger::genesis::parse_field(f).map_err(|e| anyhow!(e)))
                .collect::<Result<Vec<_>>>()?;
            let call = Call::RegisterDataset { id, fields, price };
            expect_success(&send(client, &signing_key(&from)?, call, ADMIN_FUEL)?, out)
        }
        DatasetCommand::List => {
            let list = client.call(client.rpc().list_datasets())?;
            if out.json {
                println!("{}", serde_json::to_string(&list)?);
            } else {
                for d in list {
                    println!(
                        "{:<28} price {:>4}  custodian {}  fields {}",
                        d.id,
                        d.price,
                        &d.custodian[..18],
                        d.fields.join(", ")
                    );
                }
            }
            Ok(())
        }
    }
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
                to_hex(&key.sign_tx(tx).encode())
            })
            .collect();
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

/// `civitas consent …`
pub fn run_consent(cmd: ConsentCommand, client: &Client, out: Output) -> Result<()> {
    let answer = |a: ConsentAnswer, action: ConsentAction| -> Result<()> {
        let r = send(
            client,
            &signing_key(&a.from)?,
            Call::Consent { id: a.id, action },
            ADMIN_FUEL,
        )?;
        expect_success(&r, out)
    };
    match cmd {
        ConsentCommand::Request {
            from,
            subject,
            datasets,
            purpose,
            mode,
            contract,
            code_hash,
            expires_in,
            max_uses,
        } => {
            let (mode, code_hash) = match mode {
                ModeArg::Compute => {
                    let h = match (contract, code_hash) {
                        (Some(c), _) => code_hash_arg(client, &c)?,
                        (None, Some(h)) => Hash(hex32(&h).map_err(|e| anyhow!(e))?),
                        (None, None) => bail!("a compute consent needs --contract or --code-hash"),
                    };
                    (ConsentMode::Compute, Some(h))
                }
                ModeArg::Disclose => (ConsentMode::Disclose, None),
            };
            let request = ConsentRequest {
                subject: subject_arg(&subject)?,
                datasets,
                purpose,
                mode,
                code_hash,
                expires_ms: now_ms().saturating_add(parse_duration(&expires_in)?),
                max_uses,
            };
            let r = send(
                client,
                &signing_key(&from)?,
                Call::RequestConsent { request },
                ADMIN_FUEL,
            )?;
            expect_success(&r, out)?;
            let bytes = from_hex(&r.output).map_err(|e| anyhow!(e))?;
            let id = u64::decode(&mut &bytes[..])
                .map_err(|_| anyhow!("no consent id in the receipt"))?;
            if !out.json {
                println!("consent request {id} filed; the citizen answers with `civitas consent approve {id} --from <her key>`");
            }
            Ok(())
        }
        ConsentCommand::List { from } => {
            let key = signing_key(&from)?;
            let list = client.call(client.rpc().list(signed(&key, "consent_list", Vec::new())))?;
            if out.json {
                println!("{}", serde_json::to_string(&list)?);
            } else if list.is_empty() {
                println!("no consents");
            } else {
                for c in list {
                    println!(
                        "#{:<4} {:<9} {:<8} uses {}/{}  grantee {}  datasets {}  purpose \"{}\"",
                        c.id,
                        c.status,
                        c.mode,
                        c.uses,
                        c.max_uses,
                        &c.grantee[..18],
                        c.datasets.join(","),
                        c.purpose
                    );
                }
            }
            Ok(())
        }
        ConsentCommand::Approve(a) => answer(a, ConsentAction::Approve),
        ConsentCommand::Reject(a) => answer(a, ConsentAction::Reject),
        ConsentCommand::Pause(a) => answer(a, ConsentAction::Pause),
        ConsentCommand::Resume(a) => answer(a, ConsentAction::Resume),
        ConsentCommand::Revoke(a) => answer(a, ConsentAction::Revoke),
    }
}

/// `civitas code …`
pub fn run_code(cmd: CodeCommand, client: &Client, out: Output) -> Result<()> {
    let (code, from, approved) = match cmd {
        CodeCommand::Approve { code, from } => (code, from, true),
        CodeCommand::Withdraw { code, from } => (code, from, false),
    };
    let code_hash = match hex32(&code) {
        Ok(h)
            if client
                .call(client.rpc().get_metadata(to_hex(&h)))
                .is_ok_and(|m| m.code_hash == to_hex(&h)) =>
        {
            Hash(h)
        }
        _ => code_hash_arg(client, &code)?,
    };
    let r = send(
        client,
        &signing_key(&from)?,
        Call::ApproveCode {
            code_hash,
            approved,
        },
        ADMIN_FUEL,
    )?;
    expect_success(&r, out)?;
    if !out.json {
        println!(
            "code {code_hash} {} for sealed data access",
            if approved { "approved" } else { "withdrawn" }
        );
    }
    Ok(())
}

/// Fetches, decrypts and checks a sealed call's result against its receipt.
pub fn fetch_sealed_output(
    client: &Client,
    key: &Keypair,
    tx_hash: Hash,
) -> Result<(SealedOutputReply, ReceiptInfo)> {
    let receipt = client.call(client.rpc().get_receipt(tx_hash.to_hex()))?;
    let reply = ReplyKey::generate();
    let body = SealedFetch {
        tx_hash,
        reply_key: reply.public(),
    }
    .encode();
    let env = client.call(client.rpc().get_sealed_output(signed(
        key,
        "vault_getSealedOutput",
        body,
    )))?;
    let plain = open_envelope(&reply, &env)?;
    let out = SealedOutputReply::decode_all(&mut &plain[..])
        .map_err(|_| anyhow!("malformed sealed result"))?;
    let expected = sealed_output_hash(&out.salt, &out.result.padded());
    if to_hex(&expected.0) != receipt.output_hash {
        bail!("the sealed result does not match the receipt's output hash: the node served something else");
    }
    Ok((out, receipt))
}

fn show_sealed(
    client: &Client,
    reply: &SealedOutputReply,
    decode: Option<(&str, &str)>,
    out: Output,
) -> Result<()> {
    let r = &reply.result;
    let value = match (r.ok, decode) {
        (true, Some((address, method))) => {
            let metadata = chain_metadata(client, &resolve_address(address)?)?;
            scale_json::decode_output(&metadata, method, &r.output)?
        }
        (true, None) => Value::from(to_hex(&r.output)),
        (false, _) => Value::Null,
    };
    if out.json {
        println!(
            "{}",
            json!({ "ok": r.ok, "result": value, "output": to_hex(&r.output), "error_code": r.error_code, "error": (!r.ok).then(|| civitas_rpc::errors::describe_failure(&r.error_code, &r.output)), "verified_against_receipt": true })
        );
    } else if r.ok {
        println!("sealed result (checked against the receipt's hash): {value}");
    } else {
        println!(
            "sealed call failed: {} (checked against the receipt's hash)",
            civitas_rpc::errors::describe_failure(&r.error_code, &r.output)
        );
    }
    Ok(())
}

/// `civitas sealed …`
pub fn run_sealed(cmd: SealedCommand, client: &Client, out: Output) -> Result<()> {
    match cmd {
        SealedCommand::Call {
            address,
            method,
            args,
            from,
            fuel,
        } => {
            let key = signing_key(&from)?;
            let contract = account_arg(&address)?;
            let metadata = chain_metadata(client, &to_hex(&contract.0))?;
            let args: Value =
                serde_json::from_str(&args).map_err(|e| anyhow!("arguments are not JSON: {e}"))?;
            let input = scale_json::encode_message(&metadata, &method, &args)?;
            let r = send(client, &key, Call::SealedCall { contract, input }, fuel)?;
            if !out.json {
                println!(
                    "sealed call {} in block {}: public receipt shows fuel {} (the budget) and output hash {}",
                    r.tx_hash, r.height, r.fuel_used, r.output_hash
                );
            }
            let tx = Hash(hex32(&r.tx_hash).map_err(|e| anyhow!(e))?);
            let (reply, _) = fetch_sealed_output(client, &key, tx)?;
            show_sealed(client, &reply, Some((&address, &method)), out)
        }
        SealedCommand::Output { tx, from, decode } => {
            let key = signing_key(&from)?;
            let tx = Hash(hex32(&tx).map_err(|e| anyhow!(e))?);
            let (reply, _) = fetch_sealed_output(client, &key, tx)?;
            let decode = decode
                .as_ref()
                .and_then(|d| Some((d.first()?.as_str(), d.get(1)?.as_str())));
            show_sealed(client, &reply, decode, out)
        }
    }
}

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
        let proof = StateProof {
            key: from_hex(&e.key).map_err(|e| anyhow!(e))?,
            value: Some(from_hex(&e.value).map_err(|e| anyhow!(e))?),
            version: page.height,
            proof: from_hex(&e.proof).map_err(|e| anyhow!(e))?,
        };
        verify_state_proof(&root, &proof)
            .map_err(|err| anyhow!("audit entry {} fails its proof: {err}", e.seq))?;
        let value = proof.value.clone().unwrap_or_default();
        let decoded = AuditEntry::decode_all(&mut &value[..])
            .map_err(|_| anyhow!("audit entry {} does not decode", e.seq))?;
        // Every listed field (what the user reads) must be the proven entry's.
        if crate::rpc_vault::audit_info(&decoded, &proof.key, &value, &proof.proof) != *e {
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

/// `civitas credits …`
pub fn run_credits(cmd: CreditsCommand, client: &Client, out: Output) -> Result<()> {
    match cmd {
        CreditsCommand::Balance { account } => {
            let id = account_arg(&account)?;
            let b = client.call(client.rpc().get_balance(to_hex(&id.0)))?;
            if out.json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!("{}", b.balance);
            }
            Ok(())
        }
        CreditsCommand::Transfer { to, amount, from } => {
            let r = send(
                client,
                &signing_key(&from)?,
                Call::Transfer {
                    to: account_arg(&to)?,
                    amount,
                },
                ADMIN_FUEL,
            )?;
            expect_success(&r, out)
        }
    }
}

//! `civitas sealed …`: run contracts over consented records without seeing them.
use anyhow::{anyhow, bail, Result};
use civitas_primitives::crypto::{Keypair, ReplyKey};
use civitas_primitives::tx::Call;
use civitas_primitives::vault::{sealed_output_hash, DeclaredRead, SealedFetch, SealedOutputReply};
use civitas_primitives::Hash;
use civitas_rpc::{hex32, to_hex, ReceiptInfo, TxApiClient, VaultApiClient};
use clap::Subcommand;
use parity_scale_codec::{DecodeAll, Encode};
use serde_json::{json, Value};

use crate::client::{account_arg, send, signing_key, Client, Output};
use crate::contract::chain_metadata;
use crate::scale_json;

use super::{open_envelope, resolve_address, signed, subject_arg};

/// `civitas sealed …`
#[derive(Subcommand, Debug)]
pub enum SealedCommand {
    /// Run a contract method as a sealed call over consented records; prints the result,
    /// fetched encrypted and checked against the output hash the committee attested.
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
        /// Records the call may read, as SUBJECT:DATASET[,DATASET...] (a subject id in hex or
        /// a dev name); repeat for more subjects. Each declared record is charged, counted
        /// against its consent and audited whether or not the contract reads it; a read
        /// outside the declaration is refused.
        #[arg(long = "read", value_name = "SUBJECT:DATASETS", required = true)]
        reads: Vec<String>,
        /// Fuel budget (the receipt reports all of it, whatever was used).
        #[arg(long, default_value_t = 50_000_000)]
        fuel: u64,
    },
    /// Fetch the result of an earlier sealed call (the institution, or the citizen of a
    /// single-subject call).
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

/// Parses `--read SUBJECT:DATASET[,DATASET...]` arguments into a declaration.
fn declared_reads(args: &[String]) -> Result<Vec<DeclaredRead>> {
    let mut reads = Vec::new();
    for arg in args {
        let (subject, datasets) = arg
            .split_once(':')
            .ok_or_else(|| anyhow!("--read {arg:?}: expected SUBJECT:DATASET[,DATASET...]"))?;
        let subject = subject_arg(subject)?;
        for dataset in datasets.split(',').filter(|d| !d.is_empty()) {
            let read = DeclaredRead {
                subject,
                dataset: dataset.to_string(),
            };
            if reads.contains(&read) {
                bail!("--read declares {dataset} of the same subject twice");
            }
            reads.push(read);
        }
    }
    if reads.is_empty() {
        bail!("--read names no dataset");
    }
    Ok(reads)
}

/// How long to wait for the sealed-compute committee to attest a result.
const ATTESTATION_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Waits until the committee attested sealed call `tx_hash`'s output hash; returns it (hex).
fn attested_output_hash(client: &Client, tx_hash: &Hash) -> Result<String> {
    let started = std::time::Instant::now();
    let mut told = false;
    loop {
        let o = client.call(client.rpc().get_sealed_outcome(tx_hash.to_hex()))?;
        if o.disputed {
            eprintln!("warning: members of the sealed-compute committee attested different results of this call");
        }
        if let Some(hash) = o.output_hash {
            return Ok(hash);
        }
        if started.elapsed() > ATTESTATION_WAIT {
            bail!(
                "the sealed-compute committee has not attested the result of {} after {} s ({} attestation(s) so far); retry with `civitas sealed output`",
                tx_hash,
                ATTESTATION_WAIT.as_secs(),
                o.attestations
            );
        }
        if !told {
            eprintln!("waiting for the sealed-compute committee to attest the result…");
            told = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Fetches, decrypts and checks a sealed call's result against the output hash the
/// sealed-compute committee attested on chain.
pub fn fetch_sealed_output(
    client: &Client,
    key: &Keypair,
    tx_hash: Hash,
) -> Result<(SealedOutputReply, ReceiptInfo)> {
    let receipt = client.call(client.rpc().get_receipt(tx_hash.to_hex()))?;
    let attested = attested_output_hash(client, &tx_hash)?;
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
    if to_hex(&expected.0) != attested {
        bail!("the sealed result does not match the output hash the committee attested: the node served something else");
    }
    Ok((out, receipt))
}

fn show_sealed(
    client: &Client,
    tx: &Hash,
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
            json!({ "tx_hash": tx.to_hex(), "ok": r.ok, "result": value, "output": to_hex(&r.output), "error_code": r.error_code, "error": (!r.ok).then(|| civitas_rpc::errors::describe_failure(&r.error_code, &r.output)), "verified_against_attestation": true })
        );
    } else if r.ok {
        println!("sealed result (checked against the attested output hash): {value}");
    } else {
        println!(
            "sealed call failed: {} (checked against the attested output hash)",
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
            reads,
            fuel,
        } => {
            let reads = declared_reads(&reads)?;
            let key = signing_key(&from)?;
            let contract = account_arg(&address)?;
            let metadata = chain_metadata(client, &to_hex(&contract.0))?;
            let args: Value =
                serde_json::from_str(&args).map_err(|e| anyhow!("arguments are not JSON: {e}"))?;
            let input = scale_json::encode_message(&metadata, &method, &args)?;
            let r = send(
                client,
                &key,
                Call::SealedCall {
                    contract,
                    input,
                    reads,
                },
                fuel,
            )?;
            if !out.json {
                println!(
                    "sealed call {} in block {}: public receipt shows fuel {} (the budget); the committee attests its output hash",
                    r.tx_hash, r.height, r.fuel_used
                );
            }
            let tx = Hash(hex32(&r.tx_hash).map_err(|e| anyhow!(e))?);
            let (reply, _) = fetch_sealed_output(client, &key, tx)?;
            show_sealed(client, &tx, &reply, Some((&address, &method)), out)
        }
        SealedCommand::Output { tx, from, decode } => {
            let key = signing_key(&from)?;
            let tx = Hash(hex32(&tx).map_err(|e| anyhow!(e))?);
            let (reply, _) = fetch_sealed_output(client, &key, tx)?;
            let decode = decode
                .as_ref()
                .and_then(|d| Some((d.first()?.as_str(), d.get(1)?.as_str())));
            show_sealed(client, &tx, &reply, decode, out)
        }
    }
}

//! `civitas consent …`: consent requests (institutions) and answers (citizens).
use anyhow::{anyhow, bail, Result};
use civitas_primitives::tx::Call;
use civitas_primitives::vault::{
    ConsentAction, ConsentListQuery, ConsentMode, ConsentRequest, MAX_CONSENT_PAGE,
};
use civitas_primitives::Hash;
use civitas_rpc::{from_hex, hex32, ConsentApiClient};
use clap::{Args, Subcommand, ValueEnum};
use parity_scale_codec::{Decode, Encode};

use crate::client::{now_ms, send, signing_key, Client, Output};

use super::{code_hash_arg, expect_success, parse_duration, signed, subject_arg, ADMIN_FUEL};

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
            let mut list = Vec::new();
            let mut after = None;
            loop {
                let query = ConsentListQuery {
                    after,
                    limit: MAX_CONSENT_PAGE,
                };
                let page = client.call(client.rpc().list(signed(
                    &key,
                    "consent_list",
                    query.encode(),
                )))?;
                let full = page.len() == MAX_CONSENT_PAGE as usize;
                after = page.last().map(|c| c.id);
                list.extend(page);
                if !full {
                    break;
                }
            }
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

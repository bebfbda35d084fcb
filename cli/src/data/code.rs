//! `civitas code …`: approve contract code for sealed data access (regulators).
use anyhow::Result;
use civitas_primitives::tx::Call;
use civitas_primitives::Hash;
use civitas_rpc::{hex32, to_hex, ContractApiClient};
use clap::Subcommand;

use crate::client::{send, signing_key, Client, Output};

use super::{code_hash_arg, expect_success, ADMIN_FUEL};

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

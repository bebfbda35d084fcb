//! `civitas identity …`: citizens' subject ids and wallet bindings.
use anyhow::Result;
use civitas_primitives::tx::Call;
use civitas_primitives::vault::subject_id;
use clap::Subcommand;
use serde_json::json;

use crate::client::{account_arg, send, signing_key, Client, Output};

use super::{expect_success, subject_arg, ADMIN_FUEL};

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

//! `civitas credits …`: credit balances and transfers.
use anyhow::Result;
use civitas_primitives::tx::Call;
use civitas_rpc::{to_hex, CreditsApiClient};
use clap::Subcommand;

use crate::client::{account_arg, send, signing_key, Client, Output};

use super::{expect_success, ADMIN_FUEL};

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

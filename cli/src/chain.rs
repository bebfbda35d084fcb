//! `civitas tx …`, `civitas block`, `civitas account`: transactions, blocks and accounts over RPC.
use anyhow::Result;
use civitas_primitives::tx::Call;
use civitas_rpc::{to_hex, ChainApiClient, TxApiClient};
use clap::Subcommand;

use crate::client::{account_arg, print_receipt, signing_key, transact, Client, Output, Send};

#[derive(Subcommand, Debug)]
pub enum TxCommand {
    /// Transfer credits (dry-run unless --send).
    Transfer {
        /// Signing key (keystore name or dev account name).
        #[arg(long)]
        from: String,
        /// Recipient: account id or dev account name.
        #[arg(long)]
        to: String,
        /// Amount of credits.
        #[arg(long)]
        amount: u128,
        /// Submit and wait for the receipt.
        #[arg(long)]
        send: bool,
        /// With --send: submit even when the dry run fails.
        #[arg(long, requires = "send")]
        force: bool,
    },
    /// Pending, committed or unknown.
    Status {
        /// Transaction hash.
        hash: String,
    },
    /// The receipt of a committed transaction.
    Receipt {
        /// Transaction hash.
        hash: String,
    },
}

pub fn run_tx(cmd: TxCommand, client: &Client, out: Output) -> Result<()> {
    match cmd {
        TxCommand::Transfer {
            from,
            to,
            amount,
            send,
            force,
        } => {
            let key = signing_key(&from)?;
            let to = account_arg(&to)?;
            transact(
                client,
                &key,
                Call::Transfer { to, amount },
                100_000,
                Send { send, force },
                out,
            )?;
        }
        TxCommand::Status { hash } => {
            let s = client.call(client.rpc().status(hash))?;
            println!("{}", serde_json::to_string(&s)?);
        }
        TxCommand::Receipt { hash } => {
            let r = client.call(client.rpc().get_receipt(hash))?;
            if out.json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                print_receipt(&r);
            }
        }
    }
    Ok(())
}

pub fn run_block(height: Option<u64>, client: &Client, out: Output) -> Result<()> {
    let b = client.call(client.rpc().get_block(height))?;
    if out.json {
        println!("{}", serde_json::to_string(&b)?);
    } else {
        let h = &b.header;
        println!("block {}  {}", h.height, h.hash);
        println!(
            "  parent   {}\n  time     {} ms\n  proposer {}",
            h.parent_hash, h.time_ms, h.proposer
        );
        println!(
            "  roots    tx {}  state {}  receipts {}",
            h.tx_root, h.state_root, h.receipts_root
        );
        println!("  signed by {}", b.signed_by.join(", "));
        for t in &b.transactions {
            println!("  tx {t}");
        }
    }
    Ok(())
}

pub fn run_account(who: &str, client: &Client, out: Output) -> Result<()> {
    let id = account_arg(who)?;
    let a = client.call(client.rpc().get_account(to_hex(&id.0)))?;
    if out.json {
        println!("{}", serde_json::to_string(&a)?);
    } else {
        println!(
            "account {}\n  nonce {}  balance {}  roles {}",
            a.account,
            a.nonce,
            a.balance,
            a.roles.join(",")
        );
    }
    Ok(())
}

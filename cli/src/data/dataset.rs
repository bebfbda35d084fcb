//! `civitas dataset …`: register and list datasets.
use anyhow::{anyhow, Result};
use civitas_primitives::tx::Call;
use civitas_rpc::VaultApiClient;
use clap::Subcommand;

use crate::client::{send, signing_key, Client, Output};

use super::{expect_success, ADMIN_FUEL};

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
                .map(|f| civitas_primitives::vault::parse_field(f).map_err(|e| anyhow!(e)))
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

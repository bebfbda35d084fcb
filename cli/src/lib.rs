//! The Civitas client: every command that speaks JSON-RPC to a node (transactions, blocks,
//! accounts, contracts, citizens' data, consent, sealed calls, disclosure, audit, credits), the
//! encrypted keystore and the contract tooling. It depends on `civitas-rpc` and
//! `civitas-primitives` (state proofs and certificates are checked with primitives' verifiers),
//! never on the ledger or the node.
//!
//! [`Command`] is the command line of every client command; the `civitas` binary flattens it
//! next to `civitas node …`, and this crate's own binary, `civitas-client`, is the client alone.
pub mod chain;
pub mod client;
pub mod contract;
pub mod data;
pub mod keystore;
pub mod records;
pub mod scale_json;
pub mod verified;

use clap::{Args, Subcommand};

use crate::client::{Client, Output};
use crate::data::{audit, code, consent, credits, dataset, disclose, identity, sealed, vault};

/// Options every command takes.
#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// Log filter, e.g. `info` or `civitas=debug` (also read from RUST_LOG).
    #[arg(long, global = true, env = "RUST_LOG", default_value = "info")]
    pub log: String,

    /// Print results as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(flatten)]
    pub rpc: client::RpcArgs,
}

impl GlobalArgs {
    /// Sends logs to stderr with this filter (`warn` if the filter does not parse).
    pub fn init_logging(&self) {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_new(&self.log).unwrap_or_else(|_| "warn".into()),
            )
            .with_writer(std::io::stderr)
            .init();
    }
}

/// Every client command.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Manage signing keys in the encrypted keystore.
    #[command(subcommand)]
    Key(keystore::KeyCommand),
    /// Transfer credits, and follow transactions.
    #[command(subcommand)]
    Tx(chain::TxCommand),
    /// Show a block (default: the head).
    Block {
        /// Height.
        height: Option<u64>,
    },
    /// Show an account's nonce, credits and roles.
    Account {
        /// Account id or dev account name.
        account: String,
    },
    /// Write, build and check WebAssembly contracts.
    #[command(subcommand)]
    Contract(contract::ContractCommand),
    /// Citizens' subject ids and wallet bindings.
    #[command(subcommand)]
    Identity(identity::IdentityCommand),
    /// Register and list datasets.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    /// Upload signed records (custodians) and read their public commitments.
    #[command(subcommand)]
    Vault(vault::VaultCommand),
    /// Consent requests (institutions) and answers (citizens).
    #[command(subcommand)]
    Consent(consent::ConsentCommand),
    /// Approve contract code for sealed data access (regulators).
    #[command(subcommand)]
    Code(code::CodeCommand),
    /// Run contracts over consented records without seeing them (institutions).
    #[command(subcommand)]
    Sealed(sealed::SealedCommand),
    /// Use a disclose consent: commit the disclosure, download and verify the records.
    Disclose(disclose::DiscloseArgs),
    /// A citizen's audit trail (or an institution's, for regulators), with Merkle proofs.
    Audit(audit::AuditArgs),
    /// Credit balances and transfers.
    #[command(subcommand)]
    Credits(credits::CreditsCommand),
}

fn with_client(
    global: &GlobalArgs,
    f: impl FnOnce(&Client, Output) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    f(&Client::new(&global.rpc.rpc)?, Output { json: global.json })
}

/// Runs a client command.
pub fn run(command: Command, global: &GlobalArgs) -> anyhow::Result<()> {
    match command {
        Command::Key(cmd) => keystore::run(cmd, global.json),
        Command::Contract(cmd) => contract::run(cmd, &global.rpc.rpc, global.json),
        Command::Tx(cmd) => with_client(global, |c, o| chain::run_tx(cmd, c, o)),
        Command::Block { height } => with_client(global, |c, o| chain::run_block(height, c, o)),
        Command::Account { account } => {
            with_client(global, |c, o| chain::run_account(&account, c, o))
        }
        Command::Identity(cmd) => with_client(global, |c, o| identity::run_identity(cmd, c, o)),
        Command::Dataset(cmd) => with_client(global, |c, o| dataset::run_dataset(cmd, c, o)),
        Command::Vault(cmd) => with_client(global, |c, o| vault::run_vault(cmd, c, o)),
        Command::Consent(cmd) => with_client(global, |c, o| consent::run_consent(cmd, c, o)),
        Command::Code(cmd) => with_client(global, |c, o| code::run_code(cmd, c, o)),
        Command::Sealed(cmd) => with_client(global, |c, o| sealed::run_sealed(cmd, c, o)),
        Command::Disclose(a) => with_client(global, |c, o| {
            disclose::run_disclose(a.consent, &a.from, a.out_dir, c, o)
        }),
        Command::Audit(args) => with_client(global, |c, o| audit::run_audit(args, c, o)),
        Command::Credits(cmd) => with_client(global, |c, o| credits::run_credits(cmd, c, o)),
    }
}

/// Prints `result`'s error the way every command reports failure, and gives the exit code.
pub fn exit_code(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

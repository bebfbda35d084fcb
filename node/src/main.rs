//! The `civitas` binary: the node daemon, contract tooling, keys, and client commands that
//! speak JSON-RPC to a node.
mod chain_cmd;
mod client;
mod consensus;
mod contract_cmd;
mod data_cmd;
mod dev;
mod keystore;
mod mempool;
mod metrics;
mod node_cmd;
mod records;
mod rpc_server;
mod rpc_vault;
mod scale_json;
mod service;
mod verified;

use clap::{Parser, Subcommand};

/// Civitas: a permissioned ledger for consented, audited computation over citizens' records.
#[derive(Parser, Debug)]
#[command(name = "civitas", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log filter, e.g. `info` or `civitas=debug` (also read from RUST_LOG).
    #[arg(long, global = true, env = "RUST_LOG", default_value = "info")]
    log: String,

    /// Print results as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,

    #[command(flatten)]
    rpc: client::RpcArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a node: `--dev` for a local single-validator chain, `--config FILE` for deployments.
    Node(node_cmd::NodeArgs),
    /// Manage signing keys in the encrypted keystore.
    #[command(subcommand)]
    Key(keystore::KeyCommand),
    /// Transfer credits, and follow transactions.
    #[command(subcommand)]
    Tx(chain_cmd::TxCommand),
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
    Contract(contract_cmd::ContractCommand),
    /// Citizens' subject ids and wallet bindings.
    #[command(subcommand)]
    Identity(data_cmd::IdentityCommand),
    /// Register and list datasets.
    #[command(subcommand)]
    Dataset(data_cmd::DatasetCommand),
    /// Upload signed records (custodians) and read their public commitments.
    #[command(subcommand)]
    Vault(data_cmd::VaultCommand),
    /// Consent requests (institutions) and answers (citizens).
    #[command(subcommand)]
    Consent(data_cmd::ConsentCommand),
    /// Approve contract code for sealed data access (regulators).
    #[command(subcommand)]
    Code(data_cmd::CodeCommand),
    /// Run contracts over consented records without seeing them (institutions).
    #[command(subcommand)]
    Sealed(data_cmd::SealedCommand),
    /// Use a disclose consent: commit the disclosure, download and verify the records.
    Disclose {
        /// Consent id.
        consent: u64,
        /// Institution key.
        #[arg(long)]
        from: String,
        /// Also write each record (SCALE, verbatim with its signature) into this directory.
        #[arg(long)]
        out_dir: Option<std::path::PathBuf>,
    },
    /// A citizen's audit trail (or an institution's, for regulators), with Merkle proofs.
    Audit(data_cmd::AuditArgs),
    /// Credit balances and transfers.
    #[command(subcommand)]
    Credits(data_cmd::CreditsCommand),
}

fn with_client(
    url: &str,
    json: bool,
    f: impl FnOnce(&client::Client, client::Output) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    f(&client::Client::new(url)?, client::Output { json })
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Node(args) => node_cmd::run(args),
        Command::Key(cmd) => keystore::run(cmd, cli.json),
        Command::Tx(cmd) => client::Client::new(&cli.rpc.rpc)
            .and_then(|c| chain_cmd::run_tx(cmd, &c, client::Output { json: cli.json })),
        Command::Block { height } => client::Client::new(&cli.rpc.rpc)
            .and_then(|c| chain_cmd::run_block(height, &c, client::Output { json: cli.json })),
        Command::Account { account } => client::Client::new(&cli.rpc.rpc)
            .and_then(|c| chain_cmd::run_account(&account, &c, client::Output { json: cli.json })),
        Command::Contract(cmd) => contract_cmd::run(cmd, &cli.rpc.rpc, cli.json),
        Command::Identity(cmd) => with_client(&cli.rpc.rpc, cli.json, |c, o| {
            data_cmd::run_identity(cmd, c, o)
        }),
        Command::Dataset(cmd) => with_client(&cli.rpc.rpc, cli.json, |c, o| {
            data_cmd::run_dataset(cmd, c, o)
        }),
        Command::Vault(cmd) => with_client(&cli.rpc.rpc, cli.json, |c, o| {
            data_cmd::run_vault(cmd, c, o)
        }),
        Command::Consent(cmd) => with_client(&cli.rpc.rpc, cli.json, |c, o| {
            data_cmd::run_consent(cmd, c, o)
        }),
        Command::Code(cmd) => {
            with_client(&cli.rpc.rpc, cli.json, |c, o| data_cmd::run_code(cmd, c, o))
        }
        Command::Sealed(cmd) => with_client(&cli.rpc.rpc, cli.json, |c, o| {
            data_cmd::run_sealed(cmd, c, o)
        }),
        Command::Disclose {
            consent,
            from,
            out_dir,
        } => with_client(&cli.rpc.rpc, cli.json, |c, o| {
            data_cmd::run_disclose(consent, &from, out_dir, c, o)
        }),
        Command::Audit(args) => with_client(&cli.rpc.rpc, cli.json, |c, o| {
            data_cmd::run_audit(args, c, o)
        }),
        Command::Credits(cmd) => with_client(&cli.rpc.rpc, cli.json, |c, o| {
            data_cmd::run_credits(cmd, c, o)
        }),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

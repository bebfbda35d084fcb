//! The `civitas` binary: the node daemon, contract tooling, keys, and client commands that
//! speak JSON-RPC to a node.
mod chain_cmd;
mod client;
mod consensus;
mod contract_cmd;
mod dev;
mod keystore;
mod mempool;
mod metrics;
mod node_cmd;
mod rpc_server;
mod scale_json;
mod service;

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
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! The `civitas` binary: `civitas node …` runs a node (the `civitas-node` library); every other
//! command is a client command of `civitas-cli`.
use clap::{Parser, Subcommand};

/// Civitas: a permissioned ledger for consented, audited computation over citizens' records.
#[derive(Parser, Debug)]
#[command(name = "civitas", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: civitas_cli::GlobalArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a node: `--dev` for a local single-validator chain, `--config FILE` for deployments.
    Node(civitas_node::NodeArgs),
    /// Set up a local network of department validators on 127.0.0.1.
    #[command(subcommand)]
    Devnet(civitas_node::devnet::DevnetCommand),
    #[command(flatten)]
    Client(civitas_cli::Command),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.global.init_logging();
    civitas_cli::exit_code(match cli.command {
        Command::Node(args) => civitas_node::run(args),
        Command::Devnet(cmd) => civitas_node::devnet::run(cmd),
        Command::Client(command) => civitas_cli::run(command, &cli.global),
    })
}

//! `civitas-client`: the Civitas client commands without the node (`civitas` is the same plus
//! `civitas node`).
use clap::Parser;

/// Civitas client: keys, transactions, contracts, citizens' data, consent, audit.
#[derive(Parser, Debug)]
#[command(name = "civitas-client", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: civitas_cli::GlobalArgs,

    #[command(subcommand)]
    command: civitas_cli::Command,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.global.init_logging();
    civitas_cli::exit_code(civitas_cli::run(cli.command, &cli.global))
}

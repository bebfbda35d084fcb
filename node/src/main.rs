//! The `civitas` binary: contract tooling and an in-memory demo chain; the node daemon and the
//! rest of the CLI build on the same entry point.
mod contract_cmd;
mod demo;

use clap::{Parser, Subcommand};

/// Civitas: a permissioned ledger for consented, audited computation over citizens' records.
#[derive(Parser, Debug)]
#[command(name = "civitas", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log filter, e.g. `info` or `civitas=debug` (also read from RUST_LOG).
    #[arg(long, global = true, env = "RUST_LOG", default_value = "warn")]
    log: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write, build and check WebAssembly contracts.
    #[command(subcommand)]
    Contract(contract_cmd::ContractCommand),
    /// Deploy the example contracts on an in-memory chain (real VM) and walk through them.
    Demo {
        /// Directory holding flipper.wasm, token.wasm and coupons.wasm.
        #[arg(long, default_value = "target/civitas")]
        wasm_dir: std::path::PathBuf,
    },
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
        Command::Contract(cmd) => contract_cmd::run(cmd),
        Command::Demo { wasm_dir } => demo::run(wasm_dir),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

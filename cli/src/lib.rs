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
pub mod events;
pub mod keystore;
pub mod licence;
pub mod records;
pub mod scale_json;
pub mod supervision;
pub mod time;
pub mod trace;
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
    /// Sends logs to stderr with this filter (`warn` if the filter does not parse), colours only
    /// on a terminal, and every target of [`DATA_CARRYING_TARGETS`] capped by [`data_cap`].
    pub fn init_logging(&self) {
        use std::io::IsTerminal;
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let user = tracing_subscriber::EnvFilter::try_new(&self.log)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        tracing_subscriber::registry()
            .with(user)
            .with(data_cap())
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .init();
    }
}

/// Target prefixes whose debug and trace output carries data: the JSON-RPC server and client
/// log whole request and response bodies (at trace, `jsonrpsee-http: HTTP body: …` holds the
/// plaintext records of a `vault_putRecords` call), the HTTP and WebSocket layers below them
/// (hyper, h2, tower, soketto, reqwest) can log frames and headers, and the Merkle tree (`jmt`,
/// at debug) and the store log state keys, which name subjects and records.
pub const DATA_CARRYING_TARGETS: &[&str] = &[
    "jsonrpsee",
    "hyper",
    "h2",
    "http_body",
    "tower",
    "soketto",
    "reqwest",
    "jmt",
    "rocksdb",
];

/// A global filter that lets every target through at every level except
/// [`DATA_CARRYING_TARGETS`] (each a prefix: `jsonrpsee` covers `jsonrpsee-http`,
/// `jsonrpsee_server::…`), which it caps at `info`.
///
/// Logs never hold data: no record, payload, result, key or decrypted body at any level, even
/// with `RUST_LOG=trace`. Our own code never logs those; these dependencies do at debug and
/// trace. The cap is a filter of its own, combined with the user's filter (an event is logged
/// only if both let it through), so no directive of the user's (a more specific target, a span
/// filter) can lift it.
pub fn data_cap() -> tracing_subscriber::filter::Targets {
    DATA_CARRYING_TARGETS.iter().fold(
        tracing_subscriber::filter::Targets::new()
            .with_default(tracing_subscriber::filter::LevelFilter::TRACE),
        |cap, target| cap.with_target(*target, tracing_subscriber::filter::LevelFilter::INFO),
    )
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
    /// Committed events by contract, topic and heights, decoded with the contract's metadata.
    Events(events::EventsArgs),
    /// Follow a welfare fund, a repair ticket or any numbered thing of a contract through its
    /// events, with dates and a summary (a fund's balances and whether they add up).
    Trace(trace::TraceArgs),
    /// Supervised entities' compliance: records on time, late records and gaps in their schedule.
    #[command(subcommand)]
    Supervision(supervision::SupervisionCommand),
    /// Electronic licences: issue (departments), present (holders), verify (anyone).
    #[command(subcommand)]
    Licence(licence::LicenceCommand),
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
        Command::Events(args) => with_client(global, |c, o| events::run_events(args, c, o)),
        Command::Trace(args) => with_client(global, |c, o| trace::run_trace(args, c, o)),
        Command::Licence(cmd) => with_client(global, |c, o| licence::run_licence(cmd, c, o)),
        Command::Supervision(cmd) => {
            with_client(global, |c, o| supervision::run_supervision(cmd, c, o))
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn data_cap_stops_debug_and_trace_of_the_rpc_and_store_layers_and_lets_the_rest_through() {
        let cap = data_cap();
        for target in [
            "jsonrpsee-http",
            "jsonrpsee_server::transport::http",
            "jsonrpsee_core",
            "hyper_util::client",
            "h2::codec",
            "tower_http::trace",
            "soketto::connection",
            "jmt",
            "rocksdb",
        ] {
            assert!(
                !cap.would_enable(target, &Level::TRACE),
                "{target} at trace"
            );
            assert!(
                !cap.would_enable(target, &Level::DEBUG),
                "{target} at debug"
            );
            assert!(cap.would_enable(target, &Level::INFO), "{target} at info");
        }
        for target in ["civitas_node::service", "civitas::contract", "wasmtime"] {
            assert!(cap.would_enable(target, &Level::TRACE), "{target} at trace");
        }
    }
}

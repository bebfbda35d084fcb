//! `civitas contract …`: scaffold, build and check contracts.
use std::path::PathBuf;

use anyhow::{Context, Result};
use civitas_contract_build::{build, check_file, default_sdk_path, new_contract, BuildOptions};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ContractCommand {
    /// Create a contract crate at PATH that builds and tests as it is.
    ///
    /// The crate is named after the last component of PATH and depends on the SDK by path
    /// (this source tree's `sdk/`, or CIVITAS_SDK_PATH).
    New {
        /// Directory to create (must not exist, or be empty).
        path: PathBuf,
        /// The SDK crate directory to depend on.
        #[arg(long, env = "CIVITAS_SDK_PATH")]
        sdk_path: Option<PathBuf>,
    },
    /// Compile a contract for wasm32v1-none, optimise, validate as the chain does, and write
    /// NAME.wasm and NAME.json.
    ///
    /// Outputs go to `<target dir>/civitas/` unless --out-dir is given. Prints the size and the
    /// sha3-256 code hash; --json prints {"wasm", "metadata", "code_hash", "size"} on stdout.
    Build {
        /// The contract crate's directory.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Optimised build (opt-level z, LTO, wasm-opt when on PATH). Use this for deployment.
        #[arg(long)]
        release: bool,
        /// Skip wasm-opt even when it is available (the code hash then depends only on rustc).
        #[arg(long)]
        no_wasm_opt: bool,
        /// Directory for NAME.wasm and NAME.json.
        #[arg(long)]
        out_dir: Option<PathBuf>,
        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run the chain's deploy-time validator on a .wasm file.
    Check {
        /// The module to check.
        file: PathBuf,
        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: ContractCommand) -> Result<()> {
    match cmd {
        ContractCommand::New { path, sdk_path } => {
            let sdk = sdk_path.unwrap_or_else(default_sdk_path);
            let name = new_contract(&path, &sdk)?;
            println!("Created contract `{name}` in {}", path.display());
            println!("Next: civitas contract build {} --release", path.display());
            Ok(())
        }
        ContractCommand::Build {
            path,
            release,
            no_wasm_opt,
            out_dir,
            json,
        } => {
            let opts = BuildOptions {
                crate_dir: path.clone(),
                release,
                wasm_opt: !no_wasm_opt,
                out_dir,
                verbose: true,
            };
            let artifact = build(&opts)
                .with_context(|| format!("building the contract in {}", path.display()))?;
            if json {
                println!("{}", serde_json::to_string(&artifact)?);
            } else {
                println!("Contract `{}` built", artifact.name);
                println!("  wasm:      {}", artifact.wasm.display());
                println!("  metadata:  {}", artifact.metadata.display());
                println!("  size:      {} bytes", artifact.size);
                println!("  code hash: {}", artifact.code_hash);
            }
            Ok(())
        }
        ContractCommand::Check { file, json } => {
            let info = check_file(&file).with_context(|| format!("checking {}", file.display()))?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "valid": true,
                        "code_hash": info.code_hash.to_hex(),
                        "size": info.size,
                        "functions": info.functions,
                        "reentrant": info.reentrant,
                        "host_imports": info.host_imports,
                    })
                );
            } else {
                println!("{}: accepted by the chain's validator", file.display());
                println!("  size:      {} bytes", info.size);
                println!("  code hash: {}", info.code_hash);
                println!("  functions: {}", info.functions);
                println!("  imports:   {}", info.host_imports.join(", "));
            }
            Ok(())
        }
    }
}

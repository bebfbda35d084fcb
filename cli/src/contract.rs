//! `civitas contract …`: scaffold, build and check contracts.
use std::path::PathBuf;

use anyhow::{Context, Result};
use civitas_contract_build::{build, check_file, default_sdk_path, new_contract, BuildOptions};
use civitas_primitives::tx::Call;
use clap::Subcommand;

use crate::client::{account_arg, receipt_output, signing_key, transact, Client, Output, Send};
use crate::scale_json;

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
    /// Upload a built .wasm to the chain (dry-run unless --send).
    Deploy {
        /// The module (from `civitas contract build`).
        wasm: PathBuf,
        /// Signing key (keystore name or dev account name).
        #[arg(long)]
        from: String,
        /// Submit and wait for the receipt.
        #[arg(long)]
        send: bool,
        /// With --send: submit even when the dry run fails.
        #[arg(long, requires = "send")]
        force: bool,
    },
    /// Create a contract from uploaded code by running a constructor (dry-run unless --send).
    Instantiate {
        /// Code hash (hex), or a .wasm file whose hash to use.
        code: String,
        /// Signing key.
        #[arg(long)]
        from: String,
        /// Constructor name.
        #[arg(long, default_value = "new")]
        ctor: String,
        /// Arguments as a JSON array, encoded with the contract's metadata.
        #[arg(long, default_value = "[]")]
        args: String,
        /// Salt for the contract address.
        #[arg(long, default_value = "")]
        salt: String,
        /// Fuel limit.
        #[arg(long, default_value_t = 50_000_000)]
        fuel: u64,
        /// Submit and wait for the receipt.
        #[arg(long)]
        send: bool,
        /// With --send: submit even when the dry run fails.
        #[arg(long, requires = "send")]
        force: bool,
    },
    /// Call a contract method in a transaction (dry-run unless --send).
    Call {
        /// Contract address.
        address: String,
        /// Method name.
        method: String,
        /// Arguments as a JSON array.
        #[arg(long, default_value = "[]")]
        args: String,
        /// Signing key.
        #[arg(long)]
        from: String,
        /// Fuel limit.
        #[arg(long, default_value_t = 50_000_000)]
        fuel: u64,
        /// Submit and wait for the receipt.
        #[arg(long)]
        send: bool,
        /// With --send: submit even when the dry run fails.
        #[arg(long, requires = "send")]
        force: bool,
    },
    /// Read-only call: free, changes nothing; prints the decoded output.
    Query {
        /// Contract address.
        address: String,
        /// Method name.
        method: String,
        /// Arguments as a JSON array.
        #[arg(long, default_value = "[]")]
        args: String,
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

/// Fetches the metadata the chain holds for a contract or code hash.
pub fn chain_metadata(client: &Client, id: &str) -> Result<serde_json::Value> {
    let info = client.call(civitas_rpc::ContractApiClient::get_metadata(
        client.rpc(),
        id.to_string(),
    ))?;
    info.metadata.ok_or_else(|| {
        anyhow::anyhow!(
            "the code behind {id} carries no metadata: build it with `civitas contract build`"
        )
    })
}

fn parse_args(args: &str) -> Result<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_str(args).with_context(|| format!("--args is not JSON: {args}"))?;
    anyhow::ensure!(
        v.is_array(),
        "--args must be a JSON array, e.g. '[\"0x…\", 100]'"
    );
    Ok(v)
}

pub fn run(cmd: ContractCommand, rpc: &str, json: bool) -> Result<()> {
    let out = Output { json };
    match cmd {
        ContractCommand::Deploy {
            wasm,
            from,
            send,
            force,
        } => {
            let code =
                std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
            let info = civitas_contract_build::check_bytes(&code)?;
            let client = Client::new(rpc)?;
            let key = signing_key(&from)?;
            let fuel = 20 * code.len() as u64 + 1_000_000;
            if !json {
                println!("code hash {}", info.code_hash);
            }
            transact(
                &client,
                &key,
                Call::UploadCode { code },
                fuel,
                Send { send, force },
                out,
            )?;
            Ok(())
        }
        ContractCommand::Instantiate {
            code,
            from,
            ctor,
            args,
            salt,
            fuel,
            send,
            force,
        } => {
            let code_hash = if code.ends_with(".wasm") {
                civitas_contract_build::code_hash(
                    &std::fs::read(&code).with_context(|| format!("reading {code}"))?,
                )
            } else {
                civitas_primitives::Hash(
                    civitas_rpc::hex32(&code).map_err(|e| anyhow::anyhow!("code hash: {e}"))?,
                )
            };
            let client = Client::new(rpc)?;
            let metadata = chain_metadata(&client, &code_hash.to_hex())?;
            let input = scale_json::encode_message(&metadata, &ctor, &parse_args(&args)?)?;
            let key = signing_key(&from)?;
            let address =
                civitas_primitives::contract_address(&key.account(), &code_hash, salt.as_bytes());
            if !json {
                println!("contract address {address}");
            }
            transact(
                &client,
                &key,
                Call::Instantiate {
                    code_hash,
                    salt: salt.into_bytes(),
                    input,
                },
                fuel,
                Send { send, force },
                out,
            )?;
            Ok(())
        }
        ContractCommand::Call {
            address,
            method,
            args,
            from,
            fuel,
            send,
            force,
        } => {
            let client = Client::new(rpc)?;
            let contract = account_arg(&address)?;
            let metadata = chain_metadata(&client, &address)?;
            let input = scale_json::encode_message(&metadata, &method, &parse_args(&args)?)?;
            let key = signing_key(&from)?;
            if let Some(r) = transact(
                &client,
                &key,
                Call::Call { contract, input },
                fuel,
                Send { send, force },
                out,
            )? {
                if r.status == "success" && !json {
                    let value =
                        scale_json::decode_output(&metadata, &method, &receipt_output(&r)?)?;
                    if !value.is_null() {
                        println!("  result {value}");
                    }
                }
            }
            Ok(())
        }
        ContractCommand::Query {
            address,
            method,
            args,
        } => {
            let client = Client::new(rpc)?;
            let metadata = chain_metadata(&client, &address)?;
            let input = scale_json::encode_message(&metadata, &method, &parse_args(&args)?)?;
            let result = client.call(civitas_rpc::ContractApiClient::query(
                client.rpc(),
                civitas_rpc::QueryRequest {
                    contract: address.clone(),
                    input: civitas_rpc::to_hex(&input),
                    caller: None,
                },
            ))?;
            let bytes = civitas_rpc::from_hex(&result.output).map_err(|e| anyhow::anyhow!(e))?;
            let value = scale_json::decode_output(&metadata, &method, &bytes)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "result": value, "output": result.output, "fuel_used": result.fuel_used })
                );
            } else {
                println!("{value}");
            }
            Ok(())
        }
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
            json: build_json,
        } => {
            let json = json || build_json;
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
        ContractCommand::Check {
            file,
            json: check_json,
        } => {
            let json = json || check_json;
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

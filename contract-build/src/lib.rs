//! Contract tooling behind `civitas contract new | build | check`: scaffold a contract crate,
//! compile it for `wasm32v1-none` with pinned flags, optimise it with `wasm-opt` when present,
//! validate it exactly as the chain does, and write `NAME.wasm` and `NAME.json` (metadata).
//!
//! This crate drives `cargo` and files on disk; it never talks to a node.
mod scaffold;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use civitas_primitives::Hash;
use civitas_runtime::{validate_module, ModuleInfo, ValidationError, ValidationLimits};
use serde::Serialize;
use thiserror::Error;

pub use scaffold::{default_sdk_path, new_contract};

/// The only target contracts are built for: WebAssembly 1.0, so a compiler release cannot change
/// which instructions reach the chain.
pub const CONTRACT_TARGET: &str = "wasm32v1-none";

/// Flags every contract build uses, in release and debug alike.
const RUSTFLAGS: &str = "-C link-arg=-zstack-size=65536";

/// What can go wrong while building or checking a contract.
#[derive(Debug, Error)]
pub enum BuildError {
    /// No Cargo.toml where the contract should be.
    #[error("no Cargo.toml in {0}: pass the path of a contract crate")]
    NoManifest(PathBuf),
    /// A tool could not be started.
    #[error("could not run `{tool}`: {source}")]
    Spawn {
        /// Tool.
        tool: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The wasm target is not installed.
    #[error(
        "the {CONTRACT_TARGET} target is not installed: run `rustup target add {CONTRACT_TARGET}`"
    )]
    TargetMissing,
    /// cargo failed; its diagnostics were printed above.
    #[error("cargo build failed (see the compiler output above)")]
    Compile,
    /// cargo metadata failed or said something unexpected.
    #[error("reading the crate's manifest failed: {0}")]
    Manifest(String),
    /// The crate builds no wasm (not a `cdylib`).
    #[error(
        "the build produced no {0}: the contract crate needs `crate-type = [\"cdylib\", \"rlib\"]`"
    )]
    NoArtifact(PathBuf),
    /// The module does not pass the chain's validation.
    #[error("the chain would reject this module: {0}")]
    Invalid(ValidationError),
    /// Metadata generation failed.
    #[error("generating metadata failed: {0}")]
    Metadata(String),
    /// File I/O.
    #[error("{}", path.display())]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Scaffolding refused.
    #[error("{0}")]
    Scaffold(String),
}

impl From<ValidationError> for BuildError {
    fn from(e: ValidationError) -> Self {
        BuildError::Invalid(e)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// How to build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The contract crate's directory.
    pub crate_dir: PathBuf,
    /// Optimised release profile (`opt-level = "z"`, LTO, one codegen unit); otherwise a
    /// debug profile with overflow checks.
    pub release: bool,
    /// Run `wasm-opt` when it is on PATH.
    pub wasm_opt: bool,
    /// Where to write `NAME.wasm` and `NAME.json`; default `<target dir>/civitas`.
    pub out_dir: Option<PathBuf>,
    /// Print step lines and let cargo's own progress through to stderr.
    pub verbose: bool,
}

impl BuildOptions {
    /// Release build of the crate at `dir`, with wasm-opt, printing progress.
    pub fn release(dir: impl Into<PathBuf>) -> Self {
        BuildOptions {
            crate_dir: dir.into(),
            release: true,
            wasm_opt: true,
            out_dir: None,
            verbose: true,
        }
    }
}

/// What a build produced.
#[derive(Clone, Debug, Serialize)]
pub struct BuildArtifact {
    /// Crate name.
    #[serde(skip)]
    pub name: String,
    /// Path of `NAME.wasm`.
    pub wasm: PathBuf,
    /// Path of `NAME.json`.
    pub metadata: PathBuf,
    /// sha3-256 of the module, hex.
    pub code_hash: String,
    /// Module size in bytes.
    pub size: usize,
    /// Whether wasm-opt ran.
    #[serde(skip)]
    pub optimised: bool,
}

struct CrateInfo {
    name: String,
    lib_name: String,
    manifest: PathBuf,
    target_dir: PathBuf,
    workspace_root: PathBuf,
}

fn read_crate(dir: &Path) -> Result<CrateInfo, BuildError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(BuildError::NoManifest(dir.to_path_buf()));
    }
    let manifest = manifest.canonicalize().map_err(io(&manifest))?;
    let out = Command::new(cargo())
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(&manifest)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| BuildError::Spawn {
            tool: "cargo metadata".into(),
            source,
        })?;
    if !out.status.success() {
        return Err(BuildError::Manifest(
            "cargo metadata failed (see above)".into(),
        ));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| BuildError::Manifest(e.to_string()))?;
    let str_field =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let package = meta
        .get("packages")
        .and_then(|p| p.as_array())
        .and_then(|ps| {
            ps.iter().find(|p| {
                str_field(p, "manifest_path").map(PathBuf::from).as_deref()
                    == Some(manifest.as_path())
            })
        })
        .ok_or_else(|| {
            BuildError::Manifest(format!("no package with manifest {}", manifest.display()))
        })?;
    let name = str_field(package, "name")
        .ok_or_else(|| BuildError::Manifest("package without a name".into()))?;
    let lib_name = package
        .get("targets")
        .and_then(|t| t.as_array())
        .and_then(|ts| {
            ts.iter().find(|t| {
                t.get("kind")
                    .and_then(|k| k.as_array())
                    .is_some_and(|k| k.iter().any(|x| x == "cdylib"))
            })
        })
        .and_then(|t| str_field(t, "name"))
        .map(|n| n.replace('-', "_"))
        .ok_or_else(|| BuildError::NoArtifact(PathBuf::from(format!("{name}.wasm"))))?;
    let target_dir = str_field(&meta, "target_directory")
        .map(PathBuf::from)
        .ok_or_else(|| BuildError::Manifest("no target directory".into()))?;
    let workspace_root = str_field(&meta, "workspace_root")
        .map(PathBuf::from)
        .ok_or_else(|| BuildError::Manifest("no workspace root".into()))?;
    Ok(CrateInfo {
        name,
        lib_name,
        manifest,
        target_dir,
        workspace_root,
    })
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn target_installed() -> bool {
    let Ok(out) = Command::new("rustc").args(["--print", "sysroot"]).output() else {
        // Without rustc on PATH, let cargo report the problem itself.
        return true;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(CONTRACT_TARGET)
        .is_dir()
}

fn step(opts: &BuildOptions, n: u32, text: &str) {
    if opts.verbose {
        eprintln!("[{n}/4] {text}");
    }
}

/// Builds a contract crate: compile, optimise, validate, write wasm and metadata.
pub fn build(opts: &BuildOptions) -> Result<BuildArtifact, BuildError> {
    let info = read_crate(&opts.crate_dir)?;
    if !target_installed() {
        return Err(BuildError::TargetMissing);
    }
    let build_dir = info.target_dir.join("civitas").join("build");
    let out_dir = opts
        .out_dir
        .clone()
        .unwrap_or_else(|| info.target_dir.join("civitas"));
    fs::create_dir_all(&out_dir).map_err(io(&out_dir))?;

    step(
        opts,
        1,
        &format!(
            "Compiling {} for {CONTRACT_TARGET} ({})",
            info.name,
            if opts.release { "release" } else { "debug" }
        ),
    );
    let profile = if opts.release { "release" } else { "dev" };
    let mut cmd = Command::new(cargo());
    cmd.args([
        "build",
        "--lib",
        "--target",
        CONTRACT_TARGET,
        "--manifest-path",
    ])
    .arg(&info.manifest)
    .arg("--target-dir")
    .arg(&build_dir)
    .env(
        format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            CONTRACT_TARGET.to_uppercase().replace('-', "_")
        ),
        RUSTFLAGS,
    )
    .env_remove("RUSTFLAGS")
    .env_remove("CARGO_ENCODED_RUSTFLAGS")
    .stdout(Stdio::null())
    .stderr(if opts.verbose {
        Stdio::inherit()
    } else {
        Stdio::piped()
    });
    if opts.release {
        cmd.arg("--release");
        for (k, v) in [
            ("opt-level", "\"z\""),
            ("lto", "true"),
            ("codegen-units", "1"),
            ("panic", "\"abort\""),
            ("strip", "true"),
            ("debug", "false"),
            ("overflow-checks", "false"),
        ] {
            cmd.arg("--config").arg(format!("profile.release.{k}={v}"));
        }
    } else {
        for (k, v) in [
            ("opt-level", "\"s\""),
            ("panic", "\"abort\""),
            ("debug", "false"),
            ("overflow-checks", "true"),
        ] {
            cmd.arg("--config").arg(format!("profile.dev.{k}={v}"));
        }
    }
    let out = cmd.output().map_err(|source| BuildError::Spawn {
        tool: "cargo build".into(),
        source,
    })?;
    if !out.status.success() {
        if !opts.verbose {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
        }
        return Err(BuildError::Compile);
    }
    let profile_dir = if profile == "dev" { "debug" } else { "release" };
    let built = build_dir
        .join(CONTRACT_TARGET)
        .join(profile_dir)
        .join(format!("{}.wasm", info.lib_name));
    let mut code = fs::read(&built).map_err(|_| BuildError::NoArtifact(built.clone()))?;

    let mut optimised = false;
    if opts.wasm_opt && opts.release {
        if let Some(smaller) = run_wasm_opt(&built, &build_dir) {
            // Keep the optimised module only if the chain still accepts it.
            if validate_module(&smaller, &ValidationLimits::default()).is_ok()
                && smaller.len() < code.len()
            {
                step(
                    opts,
                    2,
                    &format!(
                        "Optimised with wasm-opt: {} -> {} bytes",
                        code.len(),
                        smaller.len()
                    ),
                );
                code = smaller;
                optimised = true;
            }
        }
    }
    if !optimised {
        step(
            opts,
            2,
            "wasm-opt not used (not on PATH, not a release build, or no gain)",
        );
    }

    step(
        opts,
        3,
        "Generating metadata and embedding it in the module",
    );
    let metadata = generate_metadata(&info, &build_dir, opts.verbose)?;
    let compact: serde_json::Value = serde_json::from_str(&metadata)
        .map_err(|e| BuildError::Metadata(format!("not JSON: {e}")))?;
    code = embed_metadata(&code, &compact.to_string());

    step(opts, 4, "Validating as the chain does");
    let module = check_bytes(&code)?;
    let metadata = with_build_facts(&metadata, &module, optimised)?;

    let wasm_path = out_dir.join(format!("{}.wasm", info.name));
    let json_path = out_dir.join(format!("{}.json", info.name));
    fs::write(&wasm_path, &code).map_err(io(&wasm_path))?;
    fs::write(&json_path, metadata).map_err(io(&json_path))?;
    Ok(BuildArtifact {
        name: info.name,
        wasm: wasm_path,
        metadata: json_path,
        code_hash: module.code_hash.to_hex(),
        size: module.size,
        optimised,
    })
}

fn run_wasm_opt(input: &Path, scratch: &Path) -> Option<Vec<u8>> {
    let output = scratch.join("wasm-opt.out.wasm");
    let status = Command::new("wasm-opt")
        .arg(input)
        .args([
            "-Oz",
            "--mvp-features",
            "--strip-debug",
            "--strip-producers",
            "-o",
        ])
        .arg(&output)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    fs::read(&output).ok()
}

/// Validates module bytes exactly as the chain does on deploy.
pub fn check_bytes(code: &[u8]) -> Result<ModuleInfo, BuildError> {
    Ok(validate_module(code, &ValidationLimits::default())?)
}

/// Validates a `.wasm` file exactly as the chain does on deploy.
pub fn check_file(path: &Path) -> Result<ModuleInfo, BuildError> {
    let code = fs::read(path).map_err(io(path))?;
    check_bytes(&code)
}

/// Builds and runs a small host program that links the contract crate and prints its metadata.
fn generate_metadata(
    info: &CrateInfo,
    build_dir: &Path,
    verbose: bool,
) -> Result<String, BuildError> {
    let gen_dir = build_dir.join("metadata-gen").join(&info.name);
    let src = gen_dir.join("src");
    fs::create_dir_all(&src).map_err(io(&src))?;
    let crate_dir = info
        .manifest
        .parent()
        .ok_or_else(|| BuildError::Manifest("manifest has no parent".into()))?;
    let manifest = format!(
        "[package]\nname = \"civitas-metadata-gen\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\ncontract = {{ path = {:?}, package = {:?} }}\n\n[workspace]\n",
        crate_dir.display().to_string(),
        info.name
    );
    write_if_changed(&gen_dir.join("Cargo.toml"), manifest.as_bytes())?;
    write_if_changed(
        &src.join("main.rs"),
        b"fn main() {\n    print!(\"{}\", contract::__civitas_contract_metadata().to_json());\n}\n",
    )?;
    // Resolve to the same dependency versions as the contract's own workspace.
    let lock = info.workspace_root.join("Cargo.lock");
    let gen_lock = gen_dir.join("Cargo.lock");
    if lock.is_file() && !gen_lock.is_file() {
        fs::copy(&lock, &gen_lock).map_err(io(&gen_lock))?;
    }
    let out = Command::new(cargo())
        .args(["run", "--quiet", "--manifest-path"])
        .arg(gen_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(build_dir)
        .env_remove("RUSTFLAGS")
        .stderr(if verbose {
            Stdio::inherit()
        } else {
            Stdio::piped()
        })
        .output()
        .map_err(|source| BuildError::Spawn {
            tool: "cargo run (metadata)".into(),
            source,
        })?;
    if !out.status.success() {
        let detail = String::from_utf8_lossy(&out.stderr).into_owned();
        return Err(BuildError::Metadata(if detail.is_empty() {
            "the metadata program failed (see above); does the crate use #[civitas_sdk::contract] at its root?".into()
        } else {
            detail
        }));
    }
    String::from_utf8(out.stdout).map_err(|e| BuildError::Metadata(e.to_string()))
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    if fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(io(path))
}

/// Adds the code hash, size and build facts to the SDK's metadata JSON.
fn with_build_facts(
    metadata: &str,
    module: &ModuleInfo,
    optimised: bool,
) -> Result<String, BuildError> {
    let mut value: serde_json::Value = serde_json::from_str(metadata)
        .map_err(|e| BuildError::Metadata(format!("not JSON: {e}")))?;
    let obj = value
        .as_object_mut()
        .ok_or_else(|| BuildError::Metadata("metadata is not a JSON object".into()))?;
    obj.insert(
        "code_hash".into(),
        serde_json::Value::String(module.code_hash.to_hex()),
    );
    obj.insert("wasm_size".into(), serde_json::Value::from(module.size));
    obj.insert(
        "build".into(),
        serde_json::json!({
            "target": CONTRACT_TARGET,
            "rustflags": RUSTFLAGS,
            "wasm_opt": optimised,
            "host_imports": module.host_imports,
        }),
    );
    serde_json::to_string_pretty(&value).map_err(|e| BuildError::Metadata(e.to_string()))
}

/// The code hash of module bytes (sha3-256).
pub fn code_hash(code: &[u8]) -> Hash {
    civitas_primitives::sha3_256(code)
}

/// Name of the custom section that carries a contract's metadata inside its module.
pub const METADATA_SECTION: &str = "civitas:metadata";

fn leb128(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends `metadata_json` to `code` as a custom section (ignored by execution, covered by the
/// code hash, so the chain can serve a contract's interface with its code).
pub fn embed_metadata(code: &[u8], metadata_json: &str) -> Vec<u8> {
    let mut payload = Vec::new();
    leb128(METADATA_SECTION.len(), &mut payload);
    payload.extend_from_slice(METADATA_SECTION.as_bytes());
    payload.extend_from_slice(metadata_json.as_bytes());
    let mut out = code.to_vec();
    out.push(0);
    leb128(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

/// The metadata embedded by [`embed_metadata`], if present and JSON.
pub fn embedded_metadata(code: &[u8]) -> Option<serde_json::Value> {
    for payload in wasmparser::Parser::new(0).parse_all(code) {
        if let Ok(wasmparser::Payload::CustomSection(section)) = payload {
            if section.name() == METADATA_SECTION {
                return serde_json::from_slice(section.data()).ok();
            }
        }
    }
    None
}

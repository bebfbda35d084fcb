//! The `civitas` binary as a user runs it: scaffold a contract outside the repository, build it,
//! check modules, and get readable errors.
use std::process::Command;

fn civitas() -> Command {
    Command::new(env!("CARGO_BIN_EXE_civitas"))
}

#[test]
fn new_then_build_works_outside_the_repository() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("loan_offer");
    let out = civitas()
        .args(["contract", "new"])
        .arg(&path)
        .output()
        .expect("run new");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(path.join("Cargo.toml").is_file());

    let out = civitas()
        .args(["contract", "build"])
        .arg(&path)
        .args(["--release", "--json"])
        .output()
        .expect("run build");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let wasm = report["wasm"].as_str().expect("wasm path");
    let code = std::fs::read(wasm).expect("wasm written");
    assert_eq!(report["size"].as_u64(), Some(code.len() as u64));
    let hash = civitas_primitives::sha3_256(&code).to_hex();
    assert_eq!(report["code_hash"].as_str(), Some(hash.as_str()));
    let metadata: serde_json::Value = serde_json::from_slice(
        &std::fs::read(report["metadata"].as_str().expect("metadata path"))
            .expect("metadata written"),
    )
    .expect("metadata is JSON");
    assert_eq!(metadata["name"], "loan_offer");
    assert_eq!(metadata["code_hash"].as_str(), Some(hash.as_str()));
    assert!(metadata["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|e| e["name"] == "increment")));

    // The built module passes `contract check` too.
    let out = civitas()
        .args(["contract", "check", wasm, "--json"])
        .output()
        .expect("run check");
    assert!(out.status.success());
    let checked: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(checked["code_hash"].as_str(), Some(hash.as_str()));
}

#[test]
fn new_refuses_a_non_empty_directory_and_bad_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("keep.txt"), "x").expect("write");
    let out = civitas()
        .args(["contract", "new"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists and is not empty"));
    let out = civitas()
        .args(["contract", "new"])
        .arg(dir.path().join("9lives"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid crate name"));
}

#[test]
fn check_names_the_offending_instruction() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("float.wasm");
    let code = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "deploy"))
           (func (export "call") (drop (f32.const 1))))"#,
    )
    .expect("wat");
    std::fs::write(&file, code).expect("write");
    let out = civitas()
        .args(["contract", "check"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("function 1 uses f32.const: floats are not allowed"),
        "{err}"
    );
}

#[test]
fn build_reports_compiler_errors_readably() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken");
    assert!(civitas()
        .args(["contract", "new"])
        .arg(&path)
        .status()
        .expect("new")
        .success());
    let lib = path.join("src/lib.rs");
    let text =
        std::fs::read_to_string(&lib).expect("read") + "\nfn oops() -> u32 { \"not a number\" }\n";
    std::fs::write(&lib, text).expect("write");
    let out = civitas()
        .args(["contract", "build"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mismatched types"),
        "compiler diagnostics pass through: {err}"
    );
    assert!(err.contains("cargo build failed"), "{err}");
}

#[test]
fn help_explains_the_commands() {
    let out = civitas()
        .args(["contract", "build", "--help"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("wasm32v1-none") && text.contains("--json") && text.contains("--release"),
        "{text}"
    );
}

#[test]
fn keys_are_created_encrypted_listed_and_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str], password: &str| {
        civitas()
            .args(args)
            .env("CIVITAS_KEYSTORE", dir.path())
            .env("CIVITAS_KEY_PASSWORD", password)
            .output()
            .expect("run")
    };
    let out = run(&["key", "new", "treasury", "--json"], "correct horse");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let account = created["account"].as_str().expect("account").to_string();
    let file = std::fs::read_to_string(dir.path().join("treasury.json")).expect("key file");
    assert!(file.contains("argon2id") && file.contains(&account));
    assert!(
        !run(&["key", "new", "treasury"], "x").status.success(),
        "no overwrite"
    );
    let listed = String::from_utf8(run(&["key", "list"], "").stdout).expect("utf8");
    assert!(
        listed.contains("treasury") && listed.contains(&account),
        "{listed}"
    );
    let shown = String::from_utf8(run(&["key", "show", "treasury"], "").stdout).expect("utf8");
    assert_eq!(shown.trim(), account);
    // Signing with a wrong password fails clearly (before any network use).
    let out = run(
        &[
            "tx",
            "transfer",
            "--from",
            "treasury",
            "--to",
            "alice",
            "--amount",
            "1",
            "--rpc",
            "http://127.0.0.1:9",
        ],
        "wrong",
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wrong password"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn node_without_dev_or_config_explains_itself() {
    let out = civitas().args(["node"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dev"));
    let out = civitas()
        .args(["node", "--config", "/nonexistent/node.toml"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/node.toml"));
}

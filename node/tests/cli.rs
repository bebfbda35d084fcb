//! The `civitas` binary as a user runs it: scaffold a contract outside the repository, build it,
//! check modules, keep keys in the encrypted keystore, and get readable errors.
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

/// Runs `civitas ARGS` with the keystore in `dir` and `password` in `CIVITAS_KEY_PASSWORD`.
fn with_keystore(dir: &std::path::Path, args: &[&str], password: &str) -> std::process::Output {
    civitas()
        .args(args)
        .env("CIVITAS_KEYSTORE", dir)
        .env("CIVITAS_KEY_PASSWORD", password)
        .output()
        .expect("run")
}

/// The seed in a key file, decrypted the way the file says (Argon2id over the password and
/// salt, then XChaCha20-Poly1305); `None` when the password does not open it.
fn decrypt_seed(file: &serde_json::Value, password: &str) -> Option<Vec<u8>> {
    use chacha20poly1305::aead::{Aead, KeyInit};
    let field = |name: &str| hex::decode(file[name].as_str().expect(name)).expect("hex");
    let mut key = [0u8; 32];
    argon2::Argon2::default()
        .hash_password_into(password.as_bytes(), &field("salt"), &mut key)
        .expect("argon2");
    chacha20poly1305::XChaCha20Poly1305::new(&key.into())
        .decrypt(
            field("nonce").as_slice().into(),
            field("ciphertext").as_slice(),
        )
        .ok()
}

#[test]
fn a_new_key_is_owner_only_encrypted_under_its_password_listed_and_shown() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A keystore directory the CLI creates itself.
    let dir = tmp.path().join("keys");
    let out = with_keystore(&dir, &["key", "new", "treasury", "--json"], "correct horse");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let account = created["account"].as_str().expect("account").to_string();
    let path = dir.join("treasury.json");
    assert_eq!(created["file"].as_str(), path.to_str());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
        };
        assert_eq!(mode(&path), 0o600, "key file readable by its owner only");
        assert_eq!(mode(&dir), 0o700, "keystore directory private to its owner");
    }

    let bytes = std::fs::read(&path).expect("key file");
    let file: serde_json::Value = serde_json::from_slice(&bytes).expect("key file is JSON");
    assert_eq!(file["account"].as_str(), Some(account.as_str()));
    let seed = decrypt_seed(&file, "correct horse").expect("the password opens the key");
    let seed: [u8; 32] = seed.try_into().expect("a 32-byte seed");
    assert_eq!(
        civitas_primitives::crypto::Keypair::from_seed(seed)
            .account()
            .to_hex(),
        account,
        "the encrypted seed is the key of the account shown"
    );
    assert!(
        decrypt_seed(&file, "correct horsE").is_none(),
        "another password does not open it"
    );
    let text = String::from_utf8_lossy(&bytes).to_lowercase();
    assert!(
        !text.contains(&hex::encode(seed)) && !bytes.windows(32).any(|w| w == seed),
        "the seed is not in the file in clear: {text}"
    );

    let out = with_keystore(&dir, &["key", "new", "treasury"], "x");
    assert!(!out.status.success(), "no overwrite");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a key named `treasury` already exists"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&path).expect("key file"), bytes, "file kept");

    let listed: serde_json::Value =
        serde_json::from_slice(&with_keystore(&dir, &["key", "list", "--json"], "").stdout)
            .expect("JSON");
    assert_eq!(
        listed,
        serde_json::json!([{ "name": "treasury", "account": account }])
    );
    let shown = String::from_utf8(with_keystore(&dir, &["key", "show", "treasury"], "").stdout)
        .expect("utf8");
    assert_eq!(shown.trim(), account);
}

#[test]
fn a_wrong_password_is_refused_before_any_network_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(
        with_keystore(dir.path(), &["key", "new", "treasury"], "correct horse")
            .status
            .success()
    );
    // Port 9 (discard) has no node: the refusal must come from the keystore, first.
    let out = with_keystore(
        dir.path(),
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
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong password for key `treasury`"), "{err}");
    assert!(!err.contains("cannot reach the node"), "{err}");
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

//! Keys from the encrypted keystore sign real transactions, and only with their password.
use crate::common::*;

/// Runs the CLI against `url` with the keystore in `dir` and `password`.
fn with_keystore(url: &str, dir: &Path, password: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(args)
        .env("CIVITAS_RPC", url)
        .env("CIVITAS_KEYSTORE", dir)
        .env("CIVITAS_KEY_PASSWORD", password)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run civitas");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_key_signs_a_transfer_with_its_password_and_not_without() {
    let tmp = tempfile::tempdir().expect("tmp");
    let keys = tmp.path().join("keys");
    let node = DevNode::start(&tmp.path().join("data"));
    let (url, c) = (node.url.clone(), node.client());
    let pw = "correct horse";
    let (ok, out, err) = with_keystore(&url, &keys, pw, &["key", "new", "treasury", "--json"]);
    assert!(ok, "{err}");
    let created: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    let treasury = created["account"].as_str().expect("account").to_string();
    let (ok, shown, err) = with_keystore(&url, &keys, "", &["key", "show", "treasury"]);
    assert!(ok, "{err}");
    assert_eq!(shown.trim(), treasury, "show prints the created account");

    let (ok, _, err) = with_keystore(
        &url,
        &keys,
        pw,
        &[
            "tx", "transfer", "--from", "bank-a", "--to", &treasury, "--amount", "1000", "--send",
        ],
    );
    assert!(ok, "funding: {err}");
    let alice = key("alice").account();
    let alice_before: u128 = c
        .get_account(to_hex(&alice.0))
        .await
        .expect("account")
        .balance
        .parse()
        .expect("balance");

    let (ok, out, err) = with_keystore(
        &url,
        &keys,
        pw,
        &[
            "tx", "transfer", "--from", "treasury", "--to", "alice", "--amount", "250", "--send",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let receipt: serde_json::Value = serde_json::from_str(out.trim()).expect("receipt json");
    assert_eq!(receipt["status"], "success", "{receipt}");
    // The committed transaction is signed by the stored key's account.
    let height = receipt["height"].as_u64().expect("height");
    let block = c.get_block(Some(height)).await.expect("block");
    let raw = from_hex(&block.raw).expect("hex");
    let block = civitas_primitives::block::Block::decode(&mut &raw[..]).expect("block");
    let tx = block
        .txs
        .iter()
        .find(|t| to_hex(&t.hash().0) == receipt["tx_hash"].as_str().expect("tx hash"))
        .expect("the transfer is in its block");
    assert_eq!(tx.tx.signer.to_hex(), treasury);
    assert!(civitas_primitives::crypto::verify_tx(tx));
    let account = |who: String| {
        let c = c.clone();
        async move { c.get_account(who).await.expect("account") }
    };
    let t = account(format!("0x{treasury}")).await;
    assert_eq!((t.nonce, t.balance.as_str()), (1, "750"));
    let a = account(to_hex(&alice.0)).await;
    assert_eq!(a.balance, (alice_before + 250).to_string());

    // A wrong password: refused by name, nothing submitted.
    let (ok, _, err) = with_keystore(
        &url,
        &keys,
        "Correct horse",
        &[
            "tx", "transfer", "--from", "treasury", "--to", "alice", "--amount", "1", "--send",
        ],
    );
    assert!(!ok);
    assert!(err.contains("wrong password for key `treasury`"), "{err}");
    assert_eq!(account(format!("0x{treasury}")).await.nonce, 1);
    assert_eq!(c.health().await.expect("health").pending, 0);
    node.terminate();
}

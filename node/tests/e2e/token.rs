//! Token flow over JSON-RPC: deploy, transfer, query, receipts, verified state proofs.
use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_transfer_query_receipt_and_verified_state_proof() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let token = deploy_token(&c).await;
    let (bank, alice) = (key("bank-a"), key("alice"));

    let input = message("transfer", (alice.account(), 2_500u128));
    let r = send(
        &c,
        &bank,
        50_000_000,
        Call::Call {
            contract: token,
            input,
        },
    )
    .await;
    assert_eq!(r.status, "success");
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].topic, "Transfer");
    assert_eq!(balance(&c, token, alice.account()).await, 2_500);
    assert_eq!(balance(&c, token, bank.account()).await, 997_500);

    // A failed call: its receipt says why, and balances stay.
    let input = message("transfer", (bank.account(), 1_000_000u128));
    let r = send(
        &c,
        &alice,
        50_000_000,
        Call::Call {
            contract: token,
            input,
        },
    )
    .await;
    assert_eq!(r.status, "failed");
    assert_eq!(r.error_code.as_deref(), Some("reverted"));
    assert!(r
        .error
        .as_deref()
        .is_some_and(|e| e.contains("InsufficientBalance")));
    assert_eq!(balance(&c, token, alice.account()).await, 2_500);

    // Proof of Alice's token balance against a header the client fetched itself.
    let mut slot = b"balances:".to_vec();
    alice.account().encode_to(&mut slot);
    let state_key = keys::storage(&token, &slot);
    let proof = c.get_proof(to_hex(&state_key), None).await.expect("proof");
    let header = c.get_block(Some(proof.height)).await.expect("block").header;
    let root = Hash(hex32(&header.state_root).expect("root"));
    let value = proof.value.as_ref().map(|v| from_hex(v).expect("hex"));
    assert_eq!(
        value
            .as_deref()
            .map(|v| u128::decode(&mut &v[..]).expect("u128")),
        Some(2_500)
    );
    let state_proof = StateProof {
        key: state_key.clone(),
        value: value.clone(),
        version: proof.height,
        proof: from_hex(&proof.proof).expect("hex"),
    };
    verify_state_proof(&root, &state_proof).expect("proof verifies against the header");
    let tampered = StateProof {
        value: Some(1_000_000u128.encode()),
        ..state_proof.clone()
    };
    assert!(
        verify_state_proof(&root, &tampered).is_err(),
        "a tampered value must not verify"
    );

    // Metadata embedded by the build is served with the code.
    let meta = c.get_metadata(to_hex(&token.0)).await.expect("metadata");
    assert_eq!(
        meta.metadata.as_ref().and_then(|m| m["name"].as_str()),
        Some("token")
    );

    // Dry-run: what a transfer would do, without doing it.
    let n = nonce(&c, &bank).await;
    let tx = Transaction {
        chain_id: CHAIN.into(),
        signer: bank.account(),
        nonce: n,
        fuel_limit: 50_000_000,
        call: Call::Call {
            contract: token,
            input: message("transfer", (alice.account(), 1u128)),
        },
    };
    let dry = c.dry_run(to_hex(&tx.encode())).await.expect("dry run");
    assert!(dry.success && dry.fuel_used > 0 && !dry.storage_delta.is_empty());
    assert_eq!(
        balance(&c, token, alice.account()).await,
        2_500,
        "dry run changed nothing"
    );
    assert_eq!(nonce(&c, &bank).await, n);

    // rpc.discover lists the methods.
    let doc: serde_json::Value =
        jsonrpsee::core::client::ClientT::request(&c, "rpc.discover", jsonrpsee::rpc_params![])
            .await
            .expect("discover");
    let names: Vec<&str> = doc["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(names.contains(&"state_getProof") && names.contains(&"tx_submit"));
    node.terminate();
}

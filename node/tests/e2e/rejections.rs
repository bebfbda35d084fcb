//! Every kind of bad transaction gets a typed error and changes nothing.
use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_transactions_get_typed_errors_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let (bank, alice) = (key("bank-a"), key("alice"));
    let r = send(
        &c,
        &bank,
        100_000,
        Call::Transfer {
            to: alice.account(),
            amount: 10,
        },
    )
    .await;
    assert_eq!(r.status, "success");
    let head = c.get_head().await.expect("head");
    let transfer = Call::Transfer {
        to: alice.account(),
        amount: 1,
    };

    let mut forged = sign(&bank, 1, 100_000, transfer.clone());
    forged.tx.call = Call::Transfer {
        to: alice.account(),
        amount: 999_999,
    };
    let other_chain = bank.sign_tx(Transaction {
        chain_id: "elsewhere".into(),
        signer: bank.account(),
        nonce: 1,
        fuel_limit: 100_000,
        call: transfer.clone(),
    });
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (forged.encode(), "bad_signature"),
        (other_chain.encode(), "wrong_chain_id"),
        (
            sign(&bank, 0, 100_000, transfer.clone()).encode(),
            "stale_nonce",
        ),
        (
            sign(&bank, 7, 100_000, transfer.clone()).encode(),
            "nonce_gap",
        ),
        (
            sign(&bank, 1, u64::MAX, transfer.clone()).encode(),
            "fuel_limit_too_high",
        ),
        (
            sign(
                &bank,
                1,
                1_000_000,
                Call::Call {
                    contract: key("nobody").account(),
                    input: vec![],
                },
            )
            .encode(),
            "unknown_contract",
        ),
        (
            sign(
                &alice,
                0,
                1_000_000,
                Call::UploadCode { code: token_wasm() },
            )
            .encode(),
            "not_permitted",
        ),
        (
            // A key the chain does not know (no role, identity or credits), moving nothing.
            sign(
                &key("stranger"),
                0,
                100_000,
                Call::Transfer {
                    to: alice.account(),
                    amount: 0,
                },
            )
            .encode(),
            "unknown_account",
        ),
        (b"definitely not a transaction".to_vec(), "malformed"),
        (vec![0u8; MAX_TX_BYTES + 1], "malformed"),
    ];
    for (bytes, reason) in cases {
        let err = c.submit(to_hex(&bytes)).await.expect_err(reason);
        let (code, message, data) = rejection(err);
        assert_eq!(code, errors::TX_REJECTED, "{reason}: {message}");
        assert_eq!(data.as_deref(), Some(reason), "{message}");
    }
    // A duplicate of a pending transaction, and parameters that are not hex.
    let (code, _, _) = rejection(c.submit("0xzz".into()).await.expect_err("bad hex"));
    assert_eq!(code, errors::INVALID_PARAMS);
    let (code, message, _) = rejection(c.status("0x1234".into()).await.expect_err("short hash"));
    assert_eq!(code, errors::INVALID_PARAMS);
    assert!(message.contains("tx_hash"), "{message}");

    // Nothing of the refused transactions reached a block: the head did not move, and the
    // next good transaction lands in the very next block, alone, on top of the same head.
    assert_eq!(c.get_head().await.expect("head"), head, "no block");
    assert_eq!(nonce(&c, &bank).await, 1);
    assert_eq!(nonce(&c, &alice).await, 0);
    assert_eq!(c.health().await.expect("health").pending, 0);
    let r = send(&c, &bank, 100_000, transfer.clone()).await;
    assert_eq!(r.status, "success", "{r:?}");
    assert_eq!(r.height, head.height + 1, "no block in between");
    let block = c.get_block(Some(r.height)).await.expect("block");
    assert_eq!(block.header.parent_hash, head.block_hash);
    assert_eq!(block.transactions, vec![r.tx_hash.clone()]);
    assert_eq!(nonce(&c, &alice).await, 0);
    let account = c
        .get_account(to_hex(&alice.account().0))
        .await
        .expect("account");
    assert_eq!(
        account.balance,
        (1_000_000_000u128 + 10 + 1).to_string(),
        "dev genesis balance (node/src/dev.rs) plus the two good transfers"
    );
    node.terminate();
}

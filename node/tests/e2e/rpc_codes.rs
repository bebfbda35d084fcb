//! The README's error codes beyond 1001: 1002 not found, 1004 pool full, 1005 duplicate. Each
//! refusal changes nothing: no nonce moves, no credits move, no transaction is pending.
use crate::common::*;
use serde_json::json;

/// Credits every dev account starts with (node/src/dev.rs `DEV_BALANCE`).
const DEV_BALANCE: u128 = 1_000_000_000;

fn transfer(from: &str, nonce: u64, amount: u128) -> SignedTransaction {
    sign(
        &key(from),
        nonce,
        100_000,
        Call::Transfer {
            to: key("alice").account(),
            amount,
        },
    )
}

async fn credits(c: &HttpClient, who: &str) -> u128 {
    c.get_account(to_hex(&key(who).account().0))
        .await
        .expect("account")
        .balance
        .parse()
        .expect("decimal")
}

fn assert_code(err: ClientError, code: i32, reason: &str) {
    assert_eq!(refusal(err), (code, json!({ "code": reason })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_blocks_transactions_code_and_datasets_are_1002() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let r = send(
        &c,
        &key("bank-a"),
        100_000,
        Call::Transfer {
            to: key("alice").account(),
            amount: 1,
        },
    )
    .await;
    assert_eq!(r.status, "success");
    let head = c.get_head().await.expect("head");
    let nowhere = to_hex(&sha3_256(b"never submitted").0);

    ChainApiClient::get_block(&c, Some(head.height))
        .await
        .expect("the head's block exists");
    for height in [head.height + 1, u64::MAX] {
        let err = ChainApiClient::get_block(&c, Some(height))
            .await
            .expect_err("beyond the head");
        assert_code(err, errors::NOT_FOUND, "unknown_block");
    }
    TxApiClient::get_receipt(&c, r.tx_hash.clone())
        .await
        .expect("a committed receipt exists");
    let err = TxApiClient::get_receipt(&c, nowhere.clone())
        .await
        .expect_err("unknown transaction");
    assert_code(err, errors::NOT_FOUND, "unknown_tx");
    assert_eq!(
        TxApiClient::status(&c, nowhere.clone())
            .await
            .expect("status"),
        TxStatus::Unknown
    );
    let err = ContractApiClient::get_metadata(&c, nowhere)
        .await
        .expect_err("unknown code");
    assert_code(err, errors::NOT_FOUND, "unknown_code");
    let err = VaultApiClient::get_dataset(&c, "no.such.dataset".into())
        .await
        .expect_err("unknown dataset");
    assert_code(err, errors::NOT_FOUND, "unknown_dataset");

    assert_eq!(c.get_head().await.expect("head"), head, "no state change");
    assert_eq!(nonce(&c, &key("bank-a")).await, 1);
    node.terminate();
}

/// A node whose pool holds `pool` transactions and which proposes `interval_ms` after the
/// first one arrives: long enough to fill the pool before the block.
fn slow_node(dir: &Path, interval_ms: &str, pool: Option<&str>) -> DevNode {
    let dir = dir.to_str().expect("utf-8");
    let mut args = vec![
        "node",
        "--dev",
        "--rpc-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--block-interval-ms",
        interval_ms,
        "--data-dir",
        dir,
    ];
    if let Some(n) = pool {
        args.extend(["--pool-max-txs", n]);
    }
    DevNode::spawn(&args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_refuses_with_1004_and_admits_again_once_a_block_empties_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = slow_node(dir.path(), "5000", Some("2"));
    let c = node.client();
    submit(&c, &transfer("bank-a", 0, 10))
        .await
        .expect("first fits");
    let second = submit(&c, &transfer("bank-a", 1, 20))
        .await
        .expect("second fits");
    let bob = transfer("bob", 0, 5);
    let err = submit(&c, &bob).await.expect_err("the pool holds two");
    assert_code(err, errors::POOL_FULL, "pool_full");
    let out = c
        .submit_batch(vec![to_hex(&bob.encode())])
        .await
        .expect("batch");
    assert_eq!(
        (out[0].error_code, out[0].reason.as_deref(), &out[0].tx_hash),
        (Some(errors::POOL_FULL), Some("pool_full"), &None)
    );
    let bob_hash = to_hex(&bob.hash().0);
    assert_eq!(
        c.status(bob_hash.clone()).await.expect("status"),
        TxStatus::Unknown
    );
    assert_eq!(c.health().await.expect("health").pending, 2);

    wait(&c, &second).await;
    assert_eq!(
        nonce(&c, &key("bob")).await,
        0,
        "bob's refused transfer ran"
    );
    assert_eq!(credits(&c, "bob").await, DEV_BALANCE);
    assert_eq!(credits(&c, "alice").await, DEV_BALANCE + 30);
    assert_eq!(c.health().await.expect("health").pending, 0);

    // The block emptied the pool: the same transaction is admitted now.
    let hash = submit(&c, &bob).await.expect("room again");
    assert_eq!(hash, bob_hash);
    let r = wait(&c, &hash).await;
    assert_eq!(r.status, "success");
    assert_eq!(credits(&c, "alice").await, DEV_BALANCE + 35);
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_transaction_submitted_again_is_1005_and_runs_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = slow_node(dir.path(), "5000", None);
    let c = node.client();
    let first = transfer("bank-a", 0, 3);
    let hash = submit(&c, &first).await.expect("admitted");
    let err = submit(&c, &first).await.expect_err("already pending");
    assert_code(err, errors::DUPLICATE, "duplicate");
    let err = c
        .get_receipt(hash.clone())
        .await
        .expect_err("no receipt yet");
    assert_code(err, errors::NOT_FOUND, "pending");

    // In a batch: the pending one again, and one transaction twice.
    let next = transfer("bank-a", 1, 4);
    let out = c
        .submit_batch(vec![
            to_hex(&first.encode()),
            to_hex(&next.encode()),
            to_hex(&next.encode()),
        ])
        .await
        .expect("batch");
    let codes: Vec<(Option<i32>, Option<&str>, bool)> = out
        .iter()
        .map(|o| (o.error_code, o.reason.as_deref(), o.tx_hash.is_some()))
        .collect();
    assert_eq!(
        codes,
        vec![
            (Some(errors::DUPLICATE), Some("duplicate"), false),
            (None, None, true),
            (Some(errors::DUPLICATE), Some("duplicate"), false),
        ]
    );
    assert_eq!(c.health().await.expect("health").pending, 2);

    let r = wait(&c, out[1].tx_hash.as_deref().expect("hash")).await;
    assert_eq!(r.status, "success");
    assert_eq!(nonce(&c, &key("bank-a")).await, 2);
    assert_eq!(credits(&c, "alice").await, DEV_BALANCE + 7, "each ran once");
    // Once committed it is no longer a duplicate but a spent nonce.
    let err = submit(&c, &first).await.expect_err("committed");
    assert_code(err, errors::TX_REJECTED, "stale_nonce");
    node.terminate();
}

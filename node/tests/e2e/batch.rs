//! Batch submission reports each transaction.
use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_submission_reports_each_transaction_and_admits_the_good_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let (bank, alice) = (key("bank-b"), key("alice"));
    let pay = |nonce| {
        sign(
            &bank,
            nonce,
            100_000,
            Call::Transfer {
                to: alice.account(),
                amount: 7,
            },
        )
    };
    let mut forged = pay(1);
    forged.tx.call = Call::Transfer {
        to: alice.account(),
        amount: 7_000_000,
    };
    let batch = vec![
        to_hex(&pay(0).encode()),
        to_hex(&forged.encode()),
        to_hex(&pay(1).encode()),
        "0x00".into(),
    ];
    let out = c.submit_batch(batch).await.expect("batch");
    let reasons: Vec<Option<&str>> = out.iter().map(|o| o.reason.as_deref()).collect();
    assert_eq!(
        reasons,
        vec![None, Some("bad_signature"), None, Some("malformed")]
    );
    assert!(out[0].tx_hash.is_some() && out[2].tx_hash.is_some());
    let r = wait(&c, out[2].tx_hash.as_deref().expect("hash")).await;
    assert_eq!(r.status, "success");
    let account = c
        .get_account(to_hex(&alice.account().0))
        .await
        .expect("account");
    assert_eq!(account.balance, (1_000_000_000u128 + 14).to_string());
    let too_many = vec!["0x00".to_string(); MAX_SUBMIT_BATCH + 1];
    let (code, _, _) = rejection(c.submit_batch(too_many).await.expect_err("over the limit"));
    assert_eq!(code, errors::INVALID_PARAMS);
    node.terminate();
}

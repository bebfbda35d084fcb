//! The pool's bounds on a node that can decide no block (one validator of four, its peers
//! down), so whatever it admits stays pending: an account at `--pool-max-per-account` is
//! refused with 1004 `account_pool_full` while other accounts are admitted, and a transaction
//! pending longer than `--pool-max-age-ms` is evicted with its signer's later ones, reported
//! unknown, and can be submitted again.
use crate::common::*;
use crate::net::*;

fn transfer_tx(from: &str, nonce: u64) -> SignedTransaction {
    sign(
        &key(from),
        nonce,
        10_000,
        Call::Transfer {
            to: key("bob").account(),
            amount: 1,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_at_its_pending_cap_is_refused_and_other_accounts_are_admitted() {
    let net = write_network();
    let node = net.start_with(0, &[], &["--pool-max-per-account", "3"]);
    let c = node.client();
    for n in 0..3 {
        submit(&c, &transfer_tx("alice", n))
            .await
            .expect("within the cap");
    }
    let refused = submit(&c, &transfer_tx("alice", 3))
        .await
        .expect_err("a fourth pending one");
    let (code, message, reason) = rejection(refused);
    assert_eq!(code, civitas_rpc::errors::POOL_FULL, "{message}");
    assert_eq!(reason.as_deref(), Some("account_pool_full"), "{message}");
    assert!(message.contains("3 pending"), "{message}");
    let other = submit(&c, &transfer_tx("bank-a", 0))
        .await
        .expect("another account is admitted");
    assert_eq!(
        c.status(other).await.expect("status"),
        TxStatus::Pending,
        "nothing commits on this node"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_pending_past_the_age_limit_is_evicted_with_its_successors() {
    let net = write_network();
    let node = net.start_with(0, &[], &["--pool-max-age-ms", "1000"]);
    let c = node.client();
    let first = submit(&c, &transfer_tx("alice", 0))
        .await
        .expect("admitted");
    let second = submit(&c, &transfer_tx("alice", 1))
        .await
        .expect("admitted");
    // Polled, not timed: gone once the age has passed and the next sweep ran.
    let start = Instant::now();
    while c.status(first.clone()).await.expect("status") == TxStatus::Pending {
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "still pending after {POLL_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        c.status(first.clone()).await.expect("status"),
        TxStatus::Unknown
    );
    assert_eq!(
        c.status(second.clone()).await.expect("status"),
        TxStatus::Unknown,
        "its successor goes with it"
    );
    let (code, message, reason) = rejection(
        c.get_receipt(first.clone())
            .await
            .expect_err("no receipt for an evicted transaction"),
    );
    assert_eq!(code, civitas_rpc::errors::NOT_FOUND, "{message}");
    assert_eq!(reason.as_deref(), Some("unknown_tx"), "{message}");
    // The node still serves: the evicted nonce is free, the transaction is admitted again.
    let again = submit(&c, &transfer_tx("alice", 0))
        .await
        .expect("resubmitted");
    assert_eq!(again, first);
    node.terminate();
}

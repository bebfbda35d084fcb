//! Restart and crash: the head is always a complete, replayable block.
use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_resumes_from_the_stored_head() {
    let dir = tempfile::tempdir().expect("tmp");
    let (bank, alice) = (key("bank-a"), key("alice"));
    let node = DevNode::start(dir.path());
    let c = node.client();
    for _ in 0..3 {
        send(
            &c,
            &bank,
            100_000,
            Call::Transfer {
                to: alice.account(),
                amount: 5,
            },
        )
        .await;
    }
    let head = c.get_head().await.expect("head");
    let account = c
        .get_account(to_hex(&alice.account().0))
        .await
        .expect("account");
    node.terminate();

    let node = DevNode::start(dir.path());
    let c = node.client();
    assert_eq!(
        c.get_head().await.expect("head"),
        head,
        "same head and state root after restart"
    );
    assert_eq!(
        c.get_account(to_hex(&alice.account().0))
            .await
            .expect("account"),
        account
    );
    let r = send(
        &c,
        &alice,
        100_000,
        Call::Transfer {
            to: bank.account(),
            amount: 1,
        },
    )
    .await;
    assert_eq!(
        r.height,
        head.height + 1,
        "new blocks continue from the stored head"
    );
    let block = c.get_block(Some(r.height)).await.expect("block");
    assert_eq!(block.header.parent_hash, head.block_hash);
    // The receipt is out, so the head and the metrics already count its block (the node
    // publishes them before it reports the transaction committed).
    let now = c.get_head().await.expect("head");
    assert_eq!(now.height, r.height, "the head is the receipt's block");
    let m = metrics(&node.metrics);
    assert_eq!(sample(&m, "civitas_height"), now.height as f64);
    assert_eq!(
        sample(&m, "civitas_blocks_total"),
        1.0,
        "this process committed one block"
    );
    assert_eq!(
        sample(&m, "civitas_txs_committed_total"),
        block.transactions.len() as f64
    );
    assert_eq!(block.transactions.len(), 1);
    assert_eq!(sample(&m, "civitas_txs_admitted_total"), 1.0);
    assert_eq!(sample(&m, "civitas_txs_refused_total"), 0.0);
    assert_eq!(
        sample(&m, "civitas_block_commit_seconds_count"),
        1.0,
        "one commit timed"
    );
    // A single-validator node has no network to follow: always in sync, no peers, no lag.
    assert_eq!(sample(&m, "civitas_in_sync"), 1.0);
    assert_eq!(sample(&m, "civitas_sync_lag"), 0.0);
    assert_eq!(sample(&m, "civitas_peers"), 0.0);
    let health = c.health().await.expect("health");
    assert!(health.in_sync, "a dev node is in sync: {health:?}");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_under_load_the_head_is_always_a_complete_replayable_block() {
    let dir = tempfile::tempdir().expect("tmp");
    let alice = key("alice");
    let senders: Vec<Keypair> = ["bank-a", "bank-b", "insurer"]
        .iter()
        .map(|n| key(n))
        .collect();
    let mut last_height = 0;
    for round in 0..4u64 {
        let node = DevNode::start(dir.path());
        let c = node.client();
        let mut nonces = Vec::new();
        for s in &senders {
            nonces.push(nonce(&c, s).await);
        }
        // Load: keep every sender's next transfer in flight until the kill, which comes once
        // the node has committed `round + 1` blocks of it (later rounds cut deeper in).
        let target = last_height + round + 1;
        let started = Instant::now();
        loop {
            for (i, s) in senders.iter().enumerate() {
                if submit(
                    &c,
                    &sign(
                        s,
                        nonces[i],
                        100_000,
                        Call::Transfer {
                            to: alice.account(),
                            amount: 1,
                        },
                    ),
                )
                .await
                .is_ok()
                {
                    nonces[i] += 1;
                }
            }
            if c.get_head().await.expect("head").height >= target {
                break;
            }
            assert!(
                started.elapsed() < POLL_TIMEOUT,
                "round {round}: no block {target} in {POLL_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        node.crash();
        let (head, replayed) = tokio::task::spawn_blocking({
            let d = dir.path().to_path_buf();
            move || replay_with_stored_genesis(&d)
        })
        .await
        .expect("replay");
        assert_eq!(
            head.state_root, replayed.state_root,
            "round {round}: the stored head matches a replay of its blocks"
        );
        assert_eq!(head.block_hash, replayed.block_hash);
        assert!(
            head.height >= target,
            "round {round}: the stored head {} lost blocks the node had reported (>= {target})",
            head.height
        );
        last_height = head.height;
    }
    let node = DevNode::start(dir.path());
    let c = node.client();
    let health = c.health().await.expect("restarts after the last crash");
    assert!(health.height > 0);
    node.terminate();
}

/// Replays every stored block of the (crashed) node in `dir` into a fresh store, from the
/// genesis document stored beside the chain, with the dev chain's access key; returns (stored
/// head, replayed head).
pub(crate) fn replay_with_stored_genesis(
    dir: &Path,
) -> (civitas_ledger::Head, civitas_ledger::Head) {
    use civitas_ledger::{ChainParams, Executor, Store};
    let crashed = Store::open(dir).expect("open crashed store");
    let doc = crashed
        .genesis_doc()
        .expect("read")
        .expect("genesis stored");
    let genesis: civitas_ledger::Genesis = serde_json::from_slice(&doc).expect("genesis JSON");
    let head = crashed.head().expect("read").expect("head");
    let fresh_dir = tempfile::tempdir().expect("tmp");
    let fresh = Executor::new(
        Store::open(fresh_dir.path()).expect("fresh"),
        civitas_runtime::Vm::new(civitas_runtime::VmConfig::default()).expect("vm"),
        ChainParams::new(CHAIN),
    )
    // Private calls (identities, records, consents, sealed calls) open with the chain's key.
    .with_access_key(civitas_primitives::dev::dev_access_key(CHAIN));
    let mut replayed = fresh.init_genesis(&genesis).expect("genesis");
    for h in 1..=head.height {
        let block = crashed
            .block(h)
            .expect("read")
            .expect("every block up to the head is stored");
        let cert = crashed
            .certificate(h)
            .expect("read")
            .expect("certificate stored");
        assert!(
            crashed.receipts(h).expect("read").is_some(),
            "receipts of block {h} stored"
        );
        let executed = fresh
            .validate(&replayed, &block)
            .expect("stored block re-executes");
        replayed = fresh.commit(executed, cert).expect("commit");
    }
    (head, replayed)
}

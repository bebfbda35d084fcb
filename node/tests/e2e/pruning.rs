//! A node that keeps only its last heights (`--state-retained-heights 2`): `state_getProof`
//! proves the retained heights against their headers, refuses older ones with 1002
//! `pruned_height`, and does both again after a restart.
use crate::common::*;

fn start(dir: &Path) -> DevNode {
    let dir = dir.to_str().expect("utf-8 path");
    DevNode::spawn(&[
        "node",
        "--dev",
        "--rpc-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--block-interval-ms",
        "20",
        "--state-retained-heights",
        "2",
        "--data-dir",
        dir,
    ])
}

/// Proves alice's account at `height` and checks the proof against that height's header.
async fn proven_at(c: &HttpClient, height: u64) -> Result<(), ClientError> {
    let alice_key = keys::account(&key("alice").account());
    let proof = c.get_proof(to_hex(&alice_key), Some(height)).await?;
    // The header as the client decodes it from the raw block, not the node's summary of it.
    let (block, _) = crate::net::block_at(c, height).await;
    verify_state_proof(
        &block.header.state_root,
        &StateProof {
            key: alice_key,
            value: proof.value.as_ref().map(|v| from_hex(v).expect("hex")),
            version: height,
            proof: from_hex(&proof.proof).expect("hex"),
        },
    )
    .expect("a retained height's proof verifies against its header");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pruning_node_proves_recent_heights_and_refuses_pruned_ones_across_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let bank = key("bank-a");
    let node = start(dir.path());
    let c = node.client();
    for _ in 0..4 {
        send(
            &c,
            &bank,
            100_000,
            Call::Transfer {
                to: key("alice").account(),
                amount: 1,
            },
        )
        .await;
    }
    let head = c.get_head().await.expect("head").height;
    assert!(head >= 4, "one block per transfer at least");
    check_window(&c, head, "before the restart").await;
    node.terminate();

    let node = start(dir.path());
    let c = node.client();
    assert_eq!(c.get_head().await.expect("head").height, head);
    check_window(&c, head, "after the restart").await;
}

/// The head and its parent are proven; height 1 is refused as pruned, naming the window.
async fn check_window(c: &HttpClient, head: u64, when: &str) {
    proven_at(c, head).await.expect("the head is proven");
    proven_at(c, head - 1).await.expect("its parent is proven");
    let (code, message, reason) = rejection(proven_at(c, 1).await.expect_err("pruned"));
    assert_eq!(
        (code, reason.as_deref()),
        (1002, Some("pruned_height")),
        "{when}: {message}"
    );
    assert!(
        message.contains(&format!("heights {} and above", head - 1)),
        "{when}: {message}"
    );
}

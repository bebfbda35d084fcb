//! Four department validators, two of them killed (SIGKILL): with half the votes gone no block
//! is decided, the two survivors hold the same blocks hash for hash and still admit
//! transactions; once one killed validator is back, blocks are decided again and every
//! admitted transaction (before, during and after the stall) commits exactly once.
use std::collections::BTreeMap;

use crate::common::*;
use crate::net::*;

/// How long the survivors' heads must stand still to count as stalled. The two killed
/// validators are never next to each other in the proposer rotation, so in every height the
/// proposer of round 0 or of round 1 is a survivor: were two votes of four a quorum, a block
/// would be decided within one round-0 timeout (propose 3 s, prevote and precommit 0.5 s each,
/// `consensus::malachite::config::timeouts`) plus a block.
const STALL: Duration = Duration::from_secs(5);

/// Waits until the heads of `clients` are equal (same height and block) twice in a row,
/// half a second apart: their height.
async fn settled_common_head(clients: &[HttpClient]) -> u64 {
    let start = Instant::now();
    loop {
        let mut heads = Vec::new();
        for c in clients {
            heads.push(c.get_head().await.expect("head"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        for c in clients {
            heads.push(c.get_head().await.expect("head"));
        }
        if heads
            .windows(2)
            .all(|w| (w[0].height, &w[0].block_hash) == (w[1].height, &w[1].block_hash))
        {
            return heads[0].height;
        }
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "the survivors' heads do not settle: {heads:?}"
        );
    }
}

/// The raw blocks `1..=upto` on `c`.
async fn raw_blocks(c: &HttpClient, upto: u64) -> Vec<String> {
    let mut out = Vec::new();
    for h in 1..=upto {
        out.push(c.get_block(Some(h)).await.expect("block").raw);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_four_down_stalls_without_loss() {
    let net = write_network();
    let mut nodes: Vec<Option<DevNode>> =
        (0..VALIDATORS.len()).map(|i| Some(net.start(i))).collect();
    let mut clients: Vec<HttpClient> = nodes
        .iter()
        .map(|n| n.as_ref().expect("running").client())
        .collect();
    // The proposer of (height, round) is validator (height + round) mod 4 of the sorted set:
    // the nodes at sorted positions 1 and 3 are killed, those at 0 and 2 survive.
    let mut sorted = validators();
    sorted.sort();
    let node_at = |position: usize| {
        VALIDATORS
            .iter()
            .position(|n| key(n).account() == sorted[position])
            .expect("a validator")
    };
    let (a, b) = (node_at(0), node_at(2));
    let (back, gone) = (node_at(1), node_at(3));
    // Each signer's transactions go through one node (a pool refuses a nonce that skips
    // ahead of what it has seen): (signer, node) -> hashes in nonce order.
    let mut sent: BTreeMap<(&str, usize), Vec<String>> = BTreeMap::new();

    // Before: transfers commit on four validators.
    for n in 0..4 {
        let h = transfer(&clients[a], &key("alice"), n).await;
        sent.entry(("alice", a)).or_default().push(h);
    }
    for h in &sent[&("alice", a)] {
        assert_eq!(wait(&clients[a], h).await.status, "success");
    }

    // Two validators killed: no quorum.
    nodes[back].take().expect("running").crash();
    nodes[gone].take().expect("running").crash();
    let survivors = [clients[a].clone(), clients[b].clone()];
    let stalled = settled_common_head(&survivors).await;

    // During the stall both survivors admit transactions.
    for n in 0..3 {
        let h = transfer(&clients[a], &key("bank-a"), n).await;
        sent.entry(("bank-a", a)).or_default().push(h);
        let h = transfer(&clients[b], &key("bank-b"), n).await;
        sent.entry(("bank-b", b)).or_default().push(h);
    }
    tokio::time::sleep(STALL).await;
    for (i, c) in survivors.iter().enumerate() {
        let head = c.get_head().await.expect("head").height;
        assert_eq!(
            head, stalled,
            "survivor {i} decided a block with two of four validators down"
        );
    }
    let held = raw_blocks(&survivors[0], stalled).await;
    assert_eq!(
        raw_blocks(&survivors[1], stalled).await,
        held,
        "the survivors hold different blocks"
    );
    for ((who, node), hashes) in &sent {
        if *who == "alice" {
            continue;
        }
        for h in hashes {
            let status = clients[*node].status(h.clone()).await.expect("status");
            assert!(
                !matches!(status, TxStatus::Committed { .. }),
                "{who}'s {h} committed during the stall: {status:?}"
            );
        }
    }

    // One killed validator back: three of four decide again.
    nodes[back] = Some(net.start(back));
    clients[back] = nodes[back].as_ref().expect("running").client();
    head_until(&clients[a], "blocks are decided again", |h| {
        h.height > stalled
    })
    .await;
    for n in 0..3 {
        let h = transfer(&clients[back], &key("insurer"), n).await;
        sent.entry(("insurer", back)).or_default().push(h);
    }
    for n in 4..6 {
        let h = transfer(&clients[a], &key("alice"), n).await;
        sent.entry(("alice", a)).or_default().push(h);
    }

    // Every admitted transaction commits, once, with the nonces and credits to match.
    let mut top = 0;
    for ((who, node), hashes) in &sent {
        for h in hashes {
            let r = wait(&clients[*node], h).await;
            assert_eq!(r.status, "success", "{who}: {r:?}");
            top = top.max(r.height);
        }
    }
    let running = [
        clients[a].clone(),
        clients[b].clone(),
        clients[back].clone(),
    ];
    all_reach(&running, top, "every running node holds the last transfer").await;
    let mut in_blocks: BTreeMap<String, u32> = BTreeMap::new();
    for h in 1..=top {
        for tx in running[0]
            .get_block(Some(h))
            .await
            .expect("block")
            .transactions
        {
            *in_blocks.entry(tx).or_default() += 1;
        }
    }
    let mut total = 0u128;
    for ((who, _), hashes) in &sent {
        for h in hashes {
            assert_eq!(
                in_blocks.get(h),
                Some(&1),
                "{who}'s {h} is in {:?} blocks",
                in_blocks.get(h)
            );
        }
        total += hashes.len() as u128;
        for (i, c) in running.iter().enumerate() {
            assert_eq!(
                nonce(c, &key(who)).await,
                hashes.len() as u64,
                "{who}'s nonce on running node {i}"
            );
        }
    }
    for (i, c) in running.iter().enumerate() {
        let bob = c
            .get_account(to_hex(&key("bob").account().0))
            .await
            .expect("account");
        assert_eq!(
            bob.balance.parse::<u128>().expect("credits"),
            civitas_node::dev::DEV_BALANCE + total,
            "bob's credits on running node {i}: one credit per admitted transfer"
        );
    }
    same_chain_with_quorum_certificates(&running, top).await;
    for n in nodes.into_iter().flatten() {
        n.terminate();
    }
}

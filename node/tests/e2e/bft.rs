//! Four department validators, each its own `civitas node --config` process with a
//! `p2p_addr`, decide blocks by BFT consensus (the Malachite engine) over loopback: transfers
//! commit, every node holds the same blocks and state roots, every certificate carries at least
//! three valid signatures of the genesis validators; with one validator killed the other three
//! go on, and the restarted one catches up through sync and signs again; while it catches up
//! `system_health.in_sync` never claims it is at the head, at the end it does, and every node's
//! metrics show its consensus (height, peers, rounds, votes, sync lag).
use crate::common::*;
use crate::net::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_decide_the_same_chain_and_a_killed_one_catches_up_and_signs_again() {
    let net = write_network();
    let mut nodes: Vec<Option<DevNode>> =
        (0..VALIDATORS.len()).map(|i| Some(net.start(i))).collect();
    let clients: Vec<HttpClient> = nodes
        .iter()
        .map(|n| n.as_ref().expect("running").client())
        .collect();

    // Transfers submitted to one node commit (it proposes them in its rounds).
    let alice = key("alice");
    let started = Instant::now();
    let mut hashes = Vec::new();
    for n in 0..6 {
        hashes.push(transfer(&clients[0], &alice, n).await);
    }
    let mut last = 0;
    for h in &hashes {
        let r = wait(&clients[0], h).await;
        assert_eq!(r.status, "success");
        last = last.max(r.height);
    }
    let upto = last + 2;
    all_reach(&clients, upto, "all four nodes reach the common height").await;
    let rate = upto as f64 / started.elapsed().as_secs_f64();
    eprintln!(
        "4 validators: {upto} heights in {:?} ({rate:.1} heights/s)",
        started.elapsed()
    );
    same_chain_with_quorum_certificates(&clients, upto).await;

    // One validator killed: the other three (a quorum) go on.
    let stored = clients[3].get_head().await.expect("head").height;
    nodes[3].take().expect("running").crash();
    let before = clients[0].get_head().await.expect("head").height;
    let h = transfer(&clients[0], &alice, 6).await;
    assert_eq!(wait(&clients[0], &h).await.status, "success");
    // Enough heights for the restarted node to need sync, including one the killed node
    // would have proposed (its round times out and the next proposer's block is decided).
    all_reach(&clients[..3], before + 6, "three validators go on").await;
    let head = clients[0].get_head().await.expect("head").height;
    same_chain_with_quorum_certificates(&clients[..3], head).await;

    // Restarted, it catches up to the head through sync, with the same blocks, and signs
    // again.
    nodes[3] = Some(net.start(3));
    let c3 = nodes[3].as_ref().expect("running").client();
    let target = clients[0].get_head().await.expect("head").height + 2;
    head_until(&c3, "the restarted validator catches up", |h| {
        h.height >= target
    })
    .await;
    let restart_height = net.last_start_height(3).expect("the engine started");
    assert!(
        restart_height > stored,
        "the restarted engine starts at its stored height + 1 ({stored} + 1 or more), not at {restart_height}"
    );
    let restarted = key(VALIDATORS[3]).account();
    let start = Instant::now();
    let signed_at = loop {
        let top = c3.get_head().await.expect("head").height;
        let mut found = None;
        for h in target..=top {
            let (_, cert) = block_at(&c3, h).await;
            if cert.signatures.iter().any(|(a, _)| *a == restarted) {
                found = Some(h);
                break;
            }
        }
        if let Some(h) = found {
            break h;
        }
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "the restarted validator signs no certificate up to height {top}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    all_reach(
        &clients[..3],
        signed_at,
        "the others hold the signed height",
    )
    .await;
    let all = [
        clients[0].clone(),
        clients[1].clone(),
        clients[2].clone(),
        c3,
    ];
    same_chain_with_quorum_certificates(&all, signed_at).await;
    eprintln!("whole test: {:?}", started.elapsed());
    for n in nodes.into_iter().flatten() {
        n.terminate();
    }
}

/// One moment at which node `c`'s health and node `reference`'s head agree: the reference's
/// head read before and after the health is the same.
async fn health_against(c: &HttpClient, reference: &HttpClient) -> (u64, Health, u64) {
    let before = reference.get_head().await.expect("head").height;
    let health = c.health().await.expect("health");
    let after = reference.get_head().await.expect("head").height;
    (before, health, after)
}

/// The metrics of `m`'s node at a moment its RPC head is `height` (read before and after).
async fn metrics_at_stable_head(node: &DevNode) -> (u64, std::collections::BTreeMap<String, f64>) {
    let c = node.client();
    let start = Instant::now();
    loop {
        let before = c.get_head().await.expect("head").height;
        let m = metrics(&node.metrics);
        let after = c.get_head().await.expect("head").height;
        if before == after {
            return (before, m);
        }
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "the head never held still for a scrape"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_validator_is_not_in_sync_until_it_is_back_at_the_head_and_metrics_show_consensus(
) {
    let net = write_network();
    let mut nodes: Vec<Option<DevNode>> =
        (0..VALIDATORS.len()).map(|i| Some(net.start(i))).collect();
    let clients: Vec<HttpClient> = nodes
        .iter()
        .map(|n| n.as_ref().expect("running").client())
        .collect();
    all_reach(&clients, 3, "the network decides its first heights").await;

    // Validator 3 down while the others decide 12 more heights (every fourth of them was
    // its turn to propose: decided in a later round).
    let stored = clients[3].get_head().await.expect("head").height;
    nodes[3].take().expect("running").crash();
    let gap = 12;
    all_reach(&clients[..3], stored + gap, "three validators go on").await;

    // Restarted: whenever it says it is in sync it is within a few heights of validator 0
    // (one height of slack, one of gossip delay, the rest for the heights decided between the
    // reads); it ends in sync at validator 0's height.
    nodes[3] = Some(net.start(3));
    let c3 = nodes[3].as_ref().expect("running").client();
    let start = Instant::now();
    let mut behind_readings = 0;
    let mut readings = 0;
    loop {
        let (before, health, after) = health_against(&c3, &clients[0]).await;
        readings += 1;
        if health.in_sync {
            assert!(
                health.height + 4 >= before,
                "in sync at height {} while validator 0 is at {before}",
                health.height
            );
            if before == after && health.height == before {
                break;
            }
        } else {
            behind_readings += 1;
        }
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "the restarted validator is not back in sync: {health:?}, validator 0 at {after}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "restarted validator: {behind_readings} of {readings} health readings not in sync while it caught up from {stored}"
    );

    // Every node: the metrics height is its RPC head, three peers, the height being decided
    // is the next, the rounds are counted; the network's head is known and nobody lags.
    for (i, node) in nodes.iter().enumerate() {
        let node = node.as_ref().expect("running");
        let start = Instant::now();
        let (head, m) = loop {
            let (head, m) = metrics_at_stable_head(node).await;
            // Peers are polled each second, the height gauge moves on an event, and the
            // restarted validator signs only once it is back at the head: retry until the
            // scrape caught all three.
            let signed = m
                .get("civitas_consensus_votes_signed_total{kind=\"precommit\"}")
                .copied()
                .unwrap_or(0.0);
            if sample(&m, "civitas_peers") == 3.0
                && sample(&m, "civitas_consensus_height") == (head + 1) as f64
                && signed >= 1.0
            {
                break (head, m);
            }
            assert!(
                start.elapsed() < POLL_TIMEOUT,
                "node {i}: at head {head}, peers {}, consensus height {}, precommits signed {signed}",
                sample(&m, "civitas_peers"),
                sample(&m, "civitas_consensus_height")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(sample(&m, "civitas_height"), head as f64, "node {i}");
        assert!(sample(&m, "civitas_consensus_round") >= 0.0);
        assert!(
            sample(&m, "civitas_sync_lag") <= 1.0,
            "node {i} lags: {}",
            sample(&m, "civitas_sync_lag")
        );
        assert_eq!(sample(&m, "civitas_in_sync"), 1.0, "node {i}");
        assert!(sample(&m, "civitas_peer_height") >= head as f64, "node {i}");
        let decided = sample(&m, "civitas_consensus_decided_round_count");
        assert!(decided >= 1.0, "node {i} counted no decided height");
        assert!(
            sample(&m, "civitas_consensus_certificate_precommits_total") >= 3.0 * decided,
            "node {i}: fewer than three precommits per decided height"
        );
        assert!(
            sample(&m, "civitas_consensus_votes_signed_total{kind=\"prevote\"}") >= 1.0,
            "node {i} signed no prevote"
        );
        assert!(
            sample(
                &m,
                "civitas_consensus_votes_received_total{kind=\"prevote\"}"
            ) >= 1.0,
            "node {i} received no prevote"
        );
        assert!(sample(&m, "civitas_consensus_vote_wait_seconds_count") >= 1.0);
        // While validator 3 was down, its turns to propose were decided in round 1 or later
        // (the others decided them so; validator 3 synced them with their certificates).
        assert!(
            sample(&m, "civitas_consensus_decided_late_total") >= 1.0,
            "node {i}: no height decided in a later round while a proposer was down"
        );
    }
    for n in nodes.into_iter().flatten() {
        n.terminate();
    }
}

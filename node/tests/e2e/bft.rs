//! Four department validators, each its own `civitas node --config` process with a
//! `p2p_addr`, decide blocks by BFT consensus (the Malachite engine) over loopback: transfers
//! commit, every node holds the same blocks and state roots, every certificate carries at least
//! three valid signatures of the genesis validators; with one validator killed the other three
//! go on, and the restarted one catches up through sync and signs again.
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

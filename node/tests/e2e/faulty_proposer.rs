//! A faulty proposer among four department validators: one node runs with the debug-build
//! test fault `CIVITAS_FAULT_PROPOSER=wrong_state_root` (every block it proposes claims a state
//! root its transactions do not execute to). The honest validators re-execute its proposals
//! and refuse them, so each height it should propose is decided in a later round with another
//! proposer's block; no block of the faulty node is ever committed, every node (the faulty one
//! too) holds the same blocks and state roots, and the chain goes on.
use civitas_primitives::block::canonical_set;
use civitas_primitives::certificate::verify_certificate;

use crate::common::*;
use crate::net::*;

/// The faulty validator (by genesis order).
const FAULTY: usize = 1;

/// Heights the test follows: every validator's round-0 turn comes up three times or more.
const HEIGHTS: u64 = 14;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_validators_refuse_a_wrong_state_root_and_decide_another_proposers_block() {
    let net = write_network();
    let nodes: Vec<DevNode> = (0..VALIDATORS.len())
        .map(|i| {
            if i == FAULTY {
                net.start_with_env(i, &[("CIVITAS_FAULT_PROPOSER", "wrong_state_root")])
            } else {
                net.start(i)
            }
        })
        .collect();
    let clients: Vec<HttpClient> = nodes.iter().map(|n| n.client()).collect();
    let honest: Vec<usize> = (0..VALIDATORS.len()).filter(|i| *i != FAULTY).collect();

    // Transfers through the honest nodes (each signer through one), so blocks change the
    // state while the faulty node takes its turns.
    let signers = ["alice", "bank-a", "bank-b"];
    let mut hashes = Vec::new();
    let mut top = 0;
    for round in 0..4u64 {
        for (k, who) in signers.iter().enumerate() {
            let node = honest[k];
            hashes.push((node, transfer(&clients[node], &key(who), round).await));
        }
        for (node, h) in &hashes {
            let r = wait(&clients[*node], h).await;
            assert_eq!(r.status, "success", "{r:?}");
            top = top.max(r.height);
        }
    }
    let top = top.max(HEIGHTS);
    all_reach(
        &clients,
        top,
        "every node, the faulty one too, reaches the height",
    )
    .await;

    let set = canonical_set(&validators());
    let faulty = key(VALIDATORS[FAULTY]).account();
    let mut faulty_turns = 0;
    for h in 1..=top {
        let mut reference = None;
        for (i, c) in clients.iter().enumerate() {
            let (block, cert) = block_at(c, h).await;
            verify_certificate(&block.header, &cert, &set)
                .unwrap_or_else(|e| panic!("height {h} on node {i}: {e}"));
            let raw = block.encode();
            match &reference {
                None => reference = Some(raw),
                Some(r) => assert_eq!(
                    r, &raw,
                    "node {i} holds another block at height {h} than node {}",
                    0
                ),
            }
            assert_ne!(
                block.header.proposer, faulty,
                "height {h} on node {i}: the faulty validator's block was committed"
            );
            // Whose turn round 0 was: the faulty validator's heights need a later round.
            let round0 = set[(h % set.len() as u64) as usize];
            if round0 == faulty {
                assert!(
                    cert.round >= 1,
                    "height {h} on node {i}: decided in round 0 of the faulty proposer"
                );
            }
        }
        if set[(h % set.len() as u64) as usize] == faulty {
            faulty_turns += 1;
        }
    }
    assert!(
        faulty_turns >= 3,
        "the faulty validator had {faulty_turns} turns in {top} heights"
    );
    // The fault was exercised, and the honest validators said why they refused.
    let faulty_log = net.log(FAULTY);
    assert!(
        faulty_log.contains("proposing a corrupted block"),
        "the faulty node never proposed"
    );
    for i in &honest {
        let log = net.log(*i);
        assert!(
            log.contains("invalid block") && log.contains("state root"),
            "honest node {i} logs no refusal of a wrong state root"
        );
    }
    // The engine never decided a faulty block (which the ledger would then refuse to commit,
    // restarting the height), and no validator signed two votes for one round.
    for i in 0..VALIDATORS.len() {
        let log = net.log(i);
        assert!(
            !log.contains("the decided block was not committed"),
            "node {i}: the engine decided a block that does not execute to its roots"
        );
        assert!(
            !log.contains("Equivocation evidence"),
            "node {i}: a validator voted twice in one round"
        );
    }
    // The committed state roots are the state the nodes hold: on every node (the faulty one
    // too) bob's account, credited by every transfer, proves against the root of the block
    // the proof names.
    let bob_key = keys::account(&key("bob").account());
    for (i, c) in clients.iter().enumerate() {
        let proof = c.get_proof(to_hex(&bob_key), None).await.expect("proof");
        let (block, _) = block_at(c, proof.height).await;
        let value = proof.value.as_ref().map(|v| from_hex(v).expect("hex"));
        let account = civitas_ledger::state::AccountInfo::decode(
            &mut value.as_deref().expect("bob's account exists"),
        )
        .expect("account");
        assert_eq!(
            account.balance,
            civitas_node::dev::DEV_BALANCE + (hashes.len() as u128),
            "node {i}: bob holds one credit per transfer"
        );
        verify_state_proof(
            &block.header.state_root,
            &StateProof {
                key: bob_key.clone(),
                value,
                version: proof.height,
                proof: from_hex(&proof.proof).expect("hex"),
            },
        )
        .unwrap_or_else(|e| panic!("node {i}: bob's account against the committed root: {e}"));
    }
    for n in nodes {
        n.terminate();
    }
}

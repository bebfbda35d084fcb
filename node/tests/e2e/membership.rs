//! The validator set changes by governance on a running department network. A fifth
//! department (`labour`, a custodian in the genesis, no validator) runs a node with its own
//! key from the start: it follows the chain without voting (`system_health` says `standby`). Three departments grant it the
//! validator role (the governance threshold); from two blocks after the change on, headers
//! commit to the five-validator set, certificates verify against it and the fifth department
//! signs and proposes (with one old validator down, four of five are a quorum only with its
//! signature). Then the departments revoke `real-estate`'s role: from its activation height on
//! its signature is in no certificate although its node runs, and blocks are still decided.
use civitas_ledger::GenesisAccount;
use civitas_primitives::certificate::verify_certificate;
use civitas_primitives::tx::{GovernanceAction, Role};

use crate::common::*;
use crate::net::*;

/// The fifth department.
const NEW: &str = "labour";

/// Nodes: the four dev validators, then the fifth department.
const NODES: [&str; 5] = [
    "tax",
    "social-security",
    "civil-affairs",
    "real-estate",
    NEW,
];
const LABOUR: usize = 4;
const REAL_ESTATE: usize = 3;

/// A governance `action` proposed by tax and approved by social-security and civil-affairs
/// (three departments, the dev genesis threshold), each through its own node: the height of
/// the block in which it took effect.
async fn govern(clients: &[HttpClient], action: GovernanceAction) -> u64 {
    let r = send(
        &clients[0],
        &key("tax"),
        ADMIN_FUEL,
        Call::Propose { action },
    )
    .await;
    assert_eq!(r.status, "success", "propose: {r:?}");
    let id = u64::decode(&mut &from_hex(&r.output).expect("hex")[..]).expect("proposal id");
    let mut height = 0;
    for (node, who) in [(1, "social-security"), (2, "civil-affairs")] {
        let r = send(
            &clients[node],
            &key(who),
            ADMIN_FUEL,
            Call::Approve { proposal: id },
        )
        .await;
        assert_eq!(r.status, "success", "{who} approves: {r:?}");
        height = r.height;
    }
    height
}

/// Every height in `from..=to` on every client: the same block, its certificate valid for
/// the set that `chain_getValidators` reports for the height (the set its header commits to,
/// which must be `expected`); the signers per height (as node 0 holds them) and per node.
async fn check_heights(
    clients: &[HttpClient],
    from: u64,
    to: u64,
    expected: &[AccountId],
) -> Vec<Vec<std::collections::BTreeSet<AccountId>>> {
    let mut expected = expected.to_vec();
    expected.sort();
    let mut out = Vec::new();
    for h in from..=to {
        let set = set_at(&clients[0], h).await;
        assert_eq!(set, expected, "the validator set of height {h}");
        let mut reference = None;
        let mut per_node = Vec::new();
        for (i, c) in clients.iter().enumerate() {
            let (block, cert) = block_at(c, h).await;
            verify_certificate(&block.header, &cert, &set)
                .unwrap_or_else(|e| panic!("height {h} on node {i}: {e}"));
            let id = block.header.hash();
            match reference {
                None => reference = Some(id),
                Some(r) => assert_eq!(r, id, "node {i} holds another block at height {h}"),
            }
            per_node.push(signers(&cert));
        }
        out.push(per_node);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifth_department_joins_by_governance_and_a_removed_one_stops_signing() {
    let mut genesis = civitas_node::dev::dev_genesis();
    genesis.accounts.push(GenesisAccount {
        name: NEW.into(),
        account: key(NEW).account().to_hex(),
        balance: civitas_node::dev::DEV_BALANCE,
        roles: vec!["custodian".into()],
    });
    let net = write_network_of(&NODES, &genesis);
    let mut nodes: Vec<Option<DevNode>> = (0..NODES.len()).map(|i| Some(net.start(i))).collect();
    let clients: Vec<HttpClient> = nodes
        .iter()
        .map(|n| n.as_ref().expect("running").client())
        .collect();
    let account = |i: usize| key(NODES[i]).account();
    let old: Vec<AccountId> = (0..4).map(account).collect();
    let mut five = old.clone();
    five.push(account(LABOUR));

    // Not a validator, the fifth node follows the chain.
    let h = transfer(&clients[0], &key("alice"), 0).await;
    let r = wait(&clients[0], &h).await;
    assert_eq!(r.status, "success");
    head_until(&clients[LABOUR], "the fifth node follows", |h| {
        h.height >= r.height
    })
    .await;
    assert_eq!(
        wait(&clients[LABOUR], &h).await.status,
        "success",
        "the fifth node holds the transfer"
    );
    assert_eq!(
        clients[LABOUR].health().await.expect("health").role,
        "standby"
    );

    // Granted the validator role at `added`, it is one of five from `added + 2` on.
    let added = govern(
        &clients,
        GovernanceAction::GrantRole {
            account: account(LABOUR),
            role: Role::Validator,
        },
    )
    .await;
    let joined = added + 2;
    // The approval was seen committed on one node; node 0 may be a block behind.
    all_reach(&clients, added, "every node holds the change").await;
    let info = clients[0]
        .get_validators(Some(joined))
        .await
        .expect("validators");
    assert_eq!(info.since, joined, "the change takes effect two blocks on");
    // Heights with the five; then one old validator down, so that each quorum (four of
    // five) needs the fifth department's signature.
    all_reach(&clients, joined + 3, "five validators decide").await;
    nodes[REAL_ESTATE].take().expect("running").crash();
    let up: Vec<HttpClient> = (0..NODES.len())
        .filter(|i| *i != REAL_ESTATE)
        .map(|i| clients[i].clone())
        .collect();
    let mut at_crash = 0;
    for c in &up {
        at_crash = at_crash.max(c.get_head().await.expect("head").height);
    }
    let checked = at_crash + 4;
    all_reach(&up, checked, "four of five validators decide").await;

    let before = check_heights(&up, 1, joined - 1, &old).await;
    for (k, per_node) in before.iter().enumerate() {
        for s in per_node {
            assert!(
                !s.contains(&account(LABOUR)),
                "height {}: the fifth department signs before it is a validator",
                k + 1
            );
        }
    }
    assert_eq!(
        clients[LABOUR].health().await.expect("health").role,
        "validator"
    );
    let with_five = check_heights(&up, joined, checked, &five).await;
    let mut labour_signed = 0;
    for (k, per_node) in with_five.iter().enumerate() {
        let h = joined + k as u64;
        // Each node's certificate holds the first quorum of precommits it saw (a node that
        // took the block by sync holds its peer's), so while all five are up any of them may
        // lack the fifth department's signature; with one of the old four down, every
        // quorum needs it.
        if per_node[0].contains(&account(LABOUR)) {
            labour_signed += 1;
        }
        if h >= at_crash + 2 {
            for (i, s) in per_node.iter().enumerate() {
                assert!(
                    s.contains(&account(LABOUR)),
                    "height {h} on node {i}: decided by four of five without the fifth department's signature"
                );
            }
        }
    }
    eprintln!(
        "the fifth department signed {labour_signed} of node 0's {} certificates from height {joined}",
        with_five.len()
    );
    let mut proposed_by_labour = false;
    for h in joined..=checked {
        proposed_by_labour |= block_at(&clients[0], h).await.0.header.proposer == account(LABOUR);
    }
    assert!(
        proposed_by_labour,
        "the fifth department proposed no block in {joined}..={checked}"
    );

    // real-estate back: it catches up and signs again.
    nodes[REAL_ESTATE] = Some(net.start(REAL_ESTATE));
    let mut clients = clients;
    clients[REAL_ESTATE] = nodes[REAL_ESTATE].as_ref().expect("running").client();
    let start = Instant::now();
    let resigned = loop {
        let top = clients[0].get_head().await.expect("head").height;
        let mut found = None;
        for h in (checked + 1)..=top {
            if signers(&block_at(&clients[0], h).await.1).contains(&account(REAL_ESTATE)) {
                found = Some(h);
            }
        }
        if let Some(h) = found {
            break h;
        }
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "the restarted real-estate validator signs nothing up to {top}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // Revoked at `removed`: not a validator from `removed + 2` on, while its node runs.
    let removed = govern(
        &clients,
        GovernanceAction::RevokeRole {
            account: account(REAL_ESTATE),
            role: Role::Validator,
        },
    )
    .await;
    let left = removed + 2;
    assert!(left > resigned, "real-estate signed before it was removed");
    let four: Vec<AccountId> = five
        .iter()
        .copied()
        .filter(|a| *a != account(REAL_ESTATE))
        .collect();
    let last = left + 6;
    all_reach(&clients, last, "the four remaining validators decide").await;
    let after = check_heights(&clients, left, last, &four).await;
    assert_eq!(
        clients[REAL_ESTATE].health().await.expect("health").role,
        "standby",
        "the removed validator's node follows without voting"
    );
    for (k, per_node) in after.iter().enumerate() {
        for (i, s) in per_node.iter().enumerate() {
            assert!(
                !s.contains(&account(REAL_ESTATE)),
                "height {} on node {i}: the removed validator's signature",
                left + k as u64
            );
        }
    }
    for n in nodes.into_iter().flatten() {
        n.terminate();
    }
}

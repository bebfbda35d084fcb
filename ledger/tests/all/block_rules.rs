//! Block rules that keep block times from betraying execution: a block's time is its parent's
//! plus whole intervals of the chain's cadence (proposer and validator refuse anything else,
//! with typed errors), one sealed call reserves at most the sealed fuel cap (refused at
//! admission above it), and a block's sealed calls reserve at most the block's sealed fuel
//! (the proposer defers the rest; a validator refuses a block over it).
use civitas_ledger::{BlockRuleError, ChainParams, ExecError, TxError};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, SignedTransaction, Transaction};
use civitas_primitives::{contract_address, sha3_256, AccountId};

use crate::common::*;

/// A contract whose call does nothing (sealed calls to it succeed without reading).
const NOOP: &str =
    r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call")))"#;

fn signed(k: &Keypair, nonce: u64, fuel_limit: u64, call: Call) -> SignedTransaction {
    sign(
        k,
        Transaction {
            chain_id: CHAIN.into(),
            signer: k.account(),
            nonce,
            fuel_limit,
            call,
        },
    )
}

/// Uploads and instantiates [`NOOP`] as `bank` in block 1; its address.
fn deploy_noop(node: &mut Node) -> AccountId {
    let code = wat::parse_str(NOOP).expect("wat");
    let hash = sha3_256(&code);
    let rejected = node.produce(vec![
        tx("bank", 0, Call::UploadCode { code }),
        tx(
            "bank",
            1,
            Call::Instantiate {
                code_hash: hash,
                salt: b"noop".to_vec(),
                input: vec![],
            },
        ),
    ]);
    assert!(rejected.is_empty(), "{rejected:?}");
    contract_address(&key("bank").account(), &hash, b"noop")
}

fn sealed(nonce: u64, fuel: u64, contract: AccountId) -> SignedTransaction {
    signed(
        &key("bank"),
        nonce,
        fuel,
        Call::SealedCall {
            contract,
            input: vec![],
            reads: vec![],
        },
    )
}

#[test]
fn the_slot_is_the_whole_interval_the_clock_is_in_and_never_the_parent_time() {
    let p = ChainParams::new(CHAIN);
    let (parent, i) = (1_700_000_000_000, p.block_time_ms);
    assert!(i > 1, "a cadence of {i} ms");
    // A clock at or behind the parent: one interval (times never run backwards).
    assert_eq!(p.block_time_slot(parent, parent - 5), parent + i);
    assert_eq!(p.block_time_slot(parent, parent), parent + i);
    assert_eq!(p.block_time_slot(parent, parent + i), parent + i);
    // A clock past a slot: the slot it is in, never an instant in between.
    assert_eq!(p.block_time_slot(parent, parent + i + 1), parent + i);
    assert_eq!(p.block_time_slot(parent, parent + 2 * i - 1), parent + i);
    assert_eq!(p.block_time_slot(parent, parent + 2 * i), parent + 2 * i);
    assert_eq!(
        p.block_time_slot(parent, parent + 7 * i - 1),
        parent + 6 * i
    );
    for now in parent..parent + 3 * i {
        let slot = p.block_time_slot(parent, now);
        assert!(slot + i > now, "within an interval of the clock");
        assert_eq!(p.check_block_time(parent, slot), Ok(()));
    }
}

#[test]
fn a_block_time_off_the_cadence_is_refused_by_the_proposer_and_by_a_validator() {
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let mut proposer = Node::open(dir_a.path());
    let validator = Node::open(dir_b.path());
    let cadence = proposer.exec.params().block_time_ms;
    let parent_ms = proposer
        .exec
        .parent_time(&proposer.head)
        .expect("parent time");

    let off = proposer.time_ms + 1_000 + cadence / 2;
    let refused = proposer.exec.propose(
        &proposer.head,
        off,
        key("tax").account(),
        vec![transfer("bank", 0, "alice", 5)],
    );
    assert!(
        matches!(
            refused,
            Err(ExecError::BlockRule(BlockRuleError::TimeOffCadence { time_ms, cadence_ms, .. }))
                if time_ms == off && cadence_ms == cadence
        ),
        "{:?}",
        refused.err()
    );

    let block = proposer
        .propose(vec![transfer("bank", 0, "alice", 5)])
        .executed
        .block;
    assert_eq!((block.header.time_ms - parent_ms) % cadence, 0);
    validator
        .exec
        .validate(&validator.head, &block)
        .expect("a block on the cadence is valid");
    for shift in [1, cadence / 2, cadence - 1] {
        let mut moved = block.clone();
        moved.header.time_ms += shift;
        let err = validator.exec.validate(&validator.head, &moved).err();
        assert!(
            matches!(
                err,
                Some(ExecError::BlockRule(BlockRuleError::TimeOffCadence { .. }))
            ),
            "shifted by {shift} ms: {err:?}"
        );
        assert!(!err.expect("refused").is_node_local());
    }
}

#[test]
fn a_sealed_call_over_the_sealed_cap_is_refused_at_admission() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let contract = deploy_noop(&mut node);
    let params = ChainParams::new(CHAIN);
    assert!(params.sealed_fuel_cap < params.vm_fuel_cap);
    let (_, view) = node.exec.head_view().expect("view");
    let check = |stx: &SignedTransaction| {
        node.exec
            .check_tx(&view, stx, true)
            .expect("no node failure")
    };
    assert_eq!(check(&sealed(2, params.sealed_fuel_cap, contract)), Ok(()));
    let over = check(&sealed(2, params.sealed_fuel_cap + 1, contract));
    assert_eq!(
        over,
        Err(TxError::SealedFuelTooHigh {
            limit: params.sealed_fuel_cap + 1,
            max: params.sealed_fuel_cap
        })
    );
    let over = over.expect_err("refused");
    assert_eq!(over.code(), "fuel_limit_too_high");
    assert!(over.to_string().contains("sealed call cap"), "{over}");
    // A public call may still reserve up to the VM cap.
    let public = signed(
        &key("bank"),
        2,
        params.sealed_fuel_cap + 1,
        Call::Call {
            contract,
            input: vec![],
        },
    );
    assert_eq!(check(&public), Ok(()));
}

#[test]
fn sealed_calls_beyond_the_block_sealed_fuel_wait_and_a_validator_refuses_a_block_over_it() {
    let (dir_a, dir_b, dir_c) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let params = ChainParams::new(CHAIN);
    let cap = params.sealed_fuel_cap;
    let per_block = (params.block_sealed_fuel_limit / cap) as usize;
    assert!(per_block >= 1);
    let mut node = Node::open(dir_a.path());
    let contract = deploy_noop(&mut node);

    // One more sealed call at the cap than a block holds, and a transfer from someone else.
    let mut txs: Vec<SignedTransaction> = (0..=per_block as u64)
        .map(|n| sealed(2 + n, cap, contract))
        .collect();
    txs.push(transfer("alice", 0, "bob", 1));
    let proposal = node.propose(txs.clone());
    assert!(proposal.rejected.is_empty(), "{:?}", proposal.rejected);
    let included: Vec<_> = proposal
        .executed
        .block
        .txs
        .iter()
        .map(|t| t.hash())
        .collect();
    let mut expected: Vec<_> = txs[..per_block].iter().map(|t| t.hash()).collect();
    expected.push(txs[per_block + 1].hash());
    assert_eq!(included, expected, "the sealed call past the budget waits");
    node.commit(proposal.executed);
    let next = node.propose(vec![txs[per_block].clone()]);
    assert_eq!(
        next.executed.block.txs.len(),
        1,
        "it goes into the next block"
    );

    // A proposer with a larger sealed budget builds a block the chain's rule refuses.
    let mut generous = ChainParams::new(CHAIN);
    generous.block_sealed_fuel_limit = cap * (per_block as u64 + 1);
    let mut lax = Node::open_with(dir_b.path(), generous);
    let mut validator = Node::open(dir_c.path());
    let contract_lax = deploy_noop(&mut lax);
    let _ = deploy_noop(&mut validator);
    assert_eq!(lax.head, validator.head);
    let over = lax.propose(txs[..=per_block].to_vec()).executed.block;
    assert_eq!(over.txs.len(), per_block + 1);
    assert_eq!(contract_lax, contract);
    let err = validator.exec.validate(&validator.head, &over).err();
    assert!(
        matches!(
            err,
            Some(ExecError::BlockRule(BlockRuleError::SealedFuelOverBlockLimit { fuel, limit }))
                if fuel == u128::from(cap) * (per_block as u128 + 1)
                    && limit == params.block_sealed_fuel_limit
        ),
        "{err:?}"
    );
}

//! Members only and bounded work: strangers are refused at admission, fuel limits are capped
//! per kind of transaction, large transactions never crowd out small ones, dry runs stop at
//! the node's cap.
use civitas_ledger::{ChainParams, TxError};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, SignedTransaction, Transaction};

use crate::common::*;

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

fn check(node: &Node, stx: &SignedTransaction) -> Result<(), TxError> {
    let (_, view) = node.exec.head_view().expect("view");
    node.exec
        .check_tx(&view, stx, true)
        .expect("no node failure")
}

#[test]
fn a_stranger_is_refused_and_a_bound_citizen_without_credits_is_a_member() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let stranger = key("stranger");
    let zero = signed(
        &stranger,
        0,
        10_000,
        Call::Transfer {
            to: key("alice").account(),
            amount: 0,
        },
    );
    assert_eq!(
        check(&node, &zero),
        Err(TxError::UnknownAccount(stranger.account()))
    );
    assert_eq!(
        TxError::UnknownAccount(stranger.account()).code(),
        "unknown_account"
    );
    let rejected = node.produce(vec![zero.clone()]);
    assert_eq!(rejected, vec![TxError::UnknownAccount(stranger.account())]);
    assert!(node
        .exec
        .store()
        .block(1)
        .expect("read")
        .expect("block")
        .txs
        .is_empty());
    assert_eq!(
        node.nonce("stranger"),
        0,
        "nothing about the stranger was written"
    );

    // Bound by the identity department, the same key holds no credits and no role but is a
    // citizen of the chain: she may answer consents, so she is admitted.
    node.produce(vec![tx(
        "civil",
        0,
        Call::BindIdentity {
            subject: civitas_primitives::sha3_256(b"stranger-subject"),
            account: stranger.account(),
        },
    )]);
    assert_eq!(check(&node, &zero), Ok(()));
}

#[test]
fn fuel_limits_are_capped_per_kind_of_transaction() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = Node::open(dir.path());
    let params = ChainParams::new(CHAIN);
    let bank = key("bank");
    let transfer = |fuel| {
        signed(
            &bank,
            0,
            fuel,
            Call::Transfer {
                to: key("alice").account(),
                amount: 1,
            },
        )
    };
    assert_eq!(check(&node, &transfer(params.native_fuel_cap)), Ok(()));
    assert_eq!(
        check(&node, &transfer(params.native_fuel_cap + 1)),
        Err(TxError::FuelLimitTooHigh {
            limit: params.native_fuel_cap + 1,
            max: params.native_fuel_cap
        })
    );
    let upload = |fuel| signed(&bank, 0, fuel, Call::UploadCode { code: vec![0; 8] });
    assert_eq!(check(&node, &upload(params.vm_fuel_cap)), Ok(()));
    assert_eq!(
        check(&node, &upload(params.vm_fuel_cap + 1)),
        Err(TxError::FuelLimitTooHigh {
            limit: params.vm_fuel_cap + 1,
            max: params.vm_fuel_cap
        })
    );
    assert!(params.vm_fuel_cap < params.block_fuel_limit);
}

#[test]
fn a_flood_of_maximum_fuel_transactions_leaves_room_for_a_transfer() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let params = ChainParams::new(CHAIN);
    let code = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call")))"#,
    )
    .expect("wat");
    // Twenty uploads at the cap from one institution, then an honest transfer.
    let bank = key("bank");
    let mut txs: Vec<SignedTransaction> = (0..20)
        .map(|n| {
            signed(
                &bank,
                n,
                params.vm_fuel_cap,
                Call::UploadCode { code: code.clone() },
            )
        })
        .collect();
    txs.push(transfer("alice", 0, "bob", 5));
    let proposal = node.propose(txs);
    assert!(proposal.rejected.is_empty(), "{:?}", proposal.rejected);
    let block = &proposal.executed.block;
    let large: u64 = block
        .txs
        .iter()
        .filter(|t| t.tx.fuel_limit == params.vm_fuel_cap)
        .map(|t| t.tx.fuel_limit)
        .sum();
    assert!(
        large <= params.block_fuel_limit / 2,
        "large ones fill at most half"
    );
    assert!(large > 0, "large ones still make progress");
    assert_eq!(
        block.txs.last().map(|t| t.tx.signer),
        Some(key("alice").account()),
        "the transfer is in the first block"
    );
}

#[test]
fn a_dry_run_stops_at_the_nodes_fuel_cap() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let code = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "deploy"))
             (func (export "call") (loop $l (br $l))))"#,
    )
    .expect("wat");
    let hash = civitas_primitives::sha3_256(&code);
    node.produce(vec![
        tx("bank", 0, Call::UploadCode { code }),
        tx(
            "bank",
            1,
            Call::Instantiate {
                code_hash: hash,
                salt: b"loop".to_vec(),
                input: vec![],
            },
        ),
    ]);
    let contract = civitas_primitives::contract_address(&key("bank").account(), &hash, b"loop");
    let params = ChainParams::new(CHAIN);
    let call = Transaction {
        chain_id: CHAIN.into(),
        signer: key("bank").account(),
        nonce: 2,
        fuel_limit: params.vm_fuel_cap,
        call: Call::Call {
            contract,
            input: vec![],
        },
    };
    let run = node
        .exec
        .dry_run(&call, node.time_ms + 1, 1_000_000)
        .expect("no node failure")
        .expect("admitted");
    let error = run.receipt.error.expect("an endless loop fails");
    assert_eq!(error.code, "out_of_fuel");
    assert!(
        run.receipt.fuel_used <= 1_000_000,
        "{}",
        run.receipt.fuel_used
    );
    assert!(
        run.diagnostic
            .as_deref()
            .unwrap_or_default()
            .contains("cap of 1000000"),
        "{:?}",
        run.diagnostic
    );
}

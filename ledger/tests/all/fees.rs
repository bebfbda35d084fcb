//! Fees in credits: none at the genesis price of 0; once governance sets a price, the signer
//! pays for the fuel each transaction used (failed ones too), and a signer who cannot pay for
//! its whole fuel limit is refused before execution and changes nothing.
use civitas_ledger::TxError;
use civitas_primitives::tx::{Call, GovernanceAction, SignedTransaction, Transaction};

use crate::common::*;

/// Credits per 10^6 fuel: a tenth of a credit a fuel unit.
const PRICE: u128 = 100_000;

fn with_fuel(signer: &str, nonce: u64, fuel_limit: u64, call: Call) -> SignedTransaction {
    let k = key(signer);
    sign(
        &k,
        Transaction {
            chain_id: CHAIN.into(),
            signer: k.account(),
            nonce,
            fuel_limit,
            call,
        },
    )
}

fn send(to: &str, amount: u128) -> Call {
    Call::Transfer {
        to: key(to).account(),
        amount,
    }
}

/// The fee of `fuel` at [`PRICE`], rounded up (what the chain documents).
fn fee(fuel: u64) -> u128 {
    (u128::from(fuel) * PRICE).div_ceil(1_000_000)
}

fn set_price(node: &mut Node, price: u128, tax_nonce: u64, civil_nonce: u64) {
    let action = GovernanceAction::SetFuelPrice {
        credits_per_million_fuel: price,
    };
    let refused = node.produce(vec![with_fuel(
        "tax",
        tax_nonce,
        100_000,
        Call::Propose { action },
    )]);
    assert!(refused.is_empty(), "{refused:?}");
    let id = u64::from_le_bytes(
        node.receipts(node.head.height)[0].output[..8]
            .try_into()
            .expect("a proposal id"),
    );
    assert!(node
        .produce(vec![tx(
            "civil",
            civil_nonce,
            Call::Approve { proposal: id }
        )])
        .is_empty());
}

#[test]
fn signers_pay_for_the_fuel_they_use_at_the_governed_price_and_cannot_overdraw() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());

    // Price 0: a transfer costs its amount alone.
    assert!(node
        .produce(vec![with_fuel("bob", 0, 10_000, send("alice", 10))])
        .is_empty());
    assert_eq!((node.balance("bob"), node.balance("alice")), (990, 1_010));

    set_price(&mut node, PRICE, 0, 0);

    // bob pays the amount and the fee of the fuel his transfer used; the unused part of his
    // limit's fee comes back.
    let (bob, alice) = (node.balance("bob"), node.balance("alice"));
    assert!(node
        .produce(vec![with_fuel("bob", 1, 9_000, send("alice", 5))])
        .is_empty());
    let r = &node.receipts(node.head.height)[0];
    assert!(r.error.is_none(), "{r:?}");
    assert!(r.fuel_used > 0 && fee(r.fuel_used) > 0, "{r:?}");
    assert_eq!(node.balance("bob"), bob - 5 - fee(r.fuel_used));
    assert_eq!(node.balance("alice"), alice + 5);

    // A call that fails still pays for its fuel, and consumes its nonce.
    let bob = node.balance("bob");
    // (The transfer is within what bob holds, so admission lets it through, but not within
    // what he holds once the fee of his whole limit is set aside.)
    let short = send("alice", bob - fee(5_000) + 1);
    let refused = node.produce(vec![with_fuel("bob", 2, 5_000, short)]);
    assert!(refused.is_empty(), "{refused:?}");
    let r = &node.receipts(node.head.height)[0];
    assert!(
        r.error.is_some(),
        "more than bob holds after the fee: {r:?}"
    );
    assert_eq!(node.balance("bob"), bob - fee(r.fuel_used));
    assert_eq!(node.nonce("bob"), 3);

    // A limit whose fee is more than the signer holds is refused before execution: no fee,
    // no nonce, no transfer.
    let (bob, alice, height) = (node.balance("bob"), node.balance("alice"), node.head.height);
    let limit = u64::try_from(bob * 10 + 10).expect("fits"); // fee(limit) > bob
    assert!(fee(limit) > bob);
    let refused = node.produce(vec![with_fuel("bob", 3, limit, send("alice", 1))]);
    assert!(
        matches!(refused.as_slice(), [TxError::CannotPayFees { fee: f, balance, .. }] if *f == fee(limit) && *balance == bob),
        "{refused:?}"
    );
    assert_eq!(refused[0].code(), "cannot_pay_fees");
    assert_eq!(node.head.height, height + 1, "the block goes on without it");
    assert_eq!(
        (
            node.balance("bob"),
            node.balance("alice"),
            node.nonce("bob")
        ),
        (bob, alice, 3)
    );

    // Governance takes fees away again.
    set_price(&mut node, 0, 1, 1);
    let (bob, alice) = (node.balance("bob"), node.balance("alice"));
    assert!(node
        .produce(vec![with_fuel("bob", 3, 9_000, send("alice", 1))])
        .is_empty());
    assert_eq!(
        (node.balance("bob"), node.balance("alice")),
        (bob - 1, alice + 1)
    );
}

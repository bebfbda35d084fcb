//! Coupons built to wasm and run in the real VM, with block time driving expiry.
use civitas_testkit::{account, contract_wasm, events, revert_message, TestChain};
use coupons::{Coupon, Issued, Redeemed, Status, Transferred};

const DAY: u64 = 86_400_000;

#[test]
fn coupon_lifecycle_in_the_vm() {
    let code = contract_wasm(env!("CARGO_MANIFEST_DIR"));
    let mut chain = TestChain::new();
    let (ministry, tax, acme, beta) = (
        account("ministry"),
        account("tax"),
        account("acme"),
        account("beta"),
    );
    let addr = chain.deploy(ministry, &code, "new", ());
    chain
        .call(addr, ministry, "add_issuer", (tax,))
        .expect("add issuer");

    let expires = chain.block().time_ms + 30 * DAY;
    let out = chain
        .call(
            addr,
            tax,
            "issue",
            (acme, 10_000u128, "green-tech-2026".to_string(), expires),
        )
        .expect("issue");
    let id: u64 = parity_scale_codec::Decode::decode(&mut &out.output[..]).expect("id");
    assert_eq!(events::<Issued>(&out, "Issued")[0].holder, acme);

    let out = chain
        .call(addr, acme, "transfer", (id, beta))
        .expect("transfer");
    assert_eq!(
        events::<Transferred>(&out, "Transferred"),
        vec![Transferred {
            id,
            from: acme,
            to: beta
        }]
    );
    assert_eq!(
        chain.query::<_, u128>(addr, "holdings", (beta,)).unwrap(),
        10_000
    );

    chain.advance(DAY);
    let out = chain.call(addr, beta, "redeem", (id,)).expect("redeem");
    assert_eq!(events::<Redeemed>(&out, "Redeemed")[0].value, 10_000);
    let coupon: Option<Coupon> = chain.query(addr, "coupon", (id,)).unwrap();
    assert_eq!(coupon.map(|c| c.status), Some(Status::Redeemed));
}

#[test]
fn expiry_follows_block_time() {
    let code = contract_wasm(env!("CARGO_MANIFEST_DIR"));
    let mut chain = TestChain::new();
    let (ministry, acme) = (account("ministry"), account("acme"));
    let addr = chain.deploy(ministry, &code, "new", ());
    let expires = chain.block().time_ms + DAY;
    let id: u64 = chain
        .call_decode(
            addr,
            ministry,
            "issue",
            (acme, 5u128, "p".to_string(), expires),
        )
        .expect("issue");
    chain.advance(DAY);
    let err = chain
        .call(addr, acme, "redeem", (id,))
        .expect_err("expired");
    assert_eq!(revert_message(&err).as_deref(), Some("Expired"));
    let err = chain
        .call(
            addr,
            acme,
            "issue",
            (acme, 5u128, "p".to_string(), expires + 2 * DAY),
        )
        .expect_err("not issuer");
    assert_eq!(revert_message(&err).as_deref(), Some("NotIssuer"));
}

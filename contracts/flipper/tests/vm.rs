//! Flipper built to wasm and run in the real VM.
use civitas_testkit::{account, contract_wasm, events, revert_message, TestChain};
use flipper::Flipped;

#[test]
fn flipper_runs_in_the_vm() {
    let code = contract_wasm(env!("CARGO_MANIFEST_DIR"));
    let mut chain = TestChain::new();
    let alice = account("alice");
    let addr = chain.deploy(alice, &code, "new", (false,));
    assert!(!chain.query::<_, bool>(addr, "get", ()).expect("get"));

    let out = chain.call(addr, alice, "flip", ()).expect("flip");
    assert_eq!(
        events::<Flipped>(&out, "Flipped"),
        vec![Flipped {
            by: alice,
            value: true
        }]
    );
    assert!(chain.query::<_, bool>(addr, "get", ()).expect("get"));
    assert_eq!(chain.query::<_, u64>(addr, "flips", ()).expect("flips"), 1);

    let err = chain
        .call(addr, alice, "set", (true,))
        .expect_err("unchanged");
    assert_eq!(revert_message(&err).as_deref(), Some("Unchanged"));
    let err = chain.call(addr, alice, "nope", ()).expect_err("unknown");
    assert!(revert_message(&err).is_some_and(|m| m.starts_with("unknown selector 0x")));
}

#[test]
fn views_cannot_write_when_queried() {
    let code = contract_wasm(env!("CARGO_MANIFEST_DIR"));
    let mut chain = TestChain::new();
    let addr = chain.deploy(account("alice"), &code, "new", (false,));
    let err = chain
        .query::<_, ()>(addr, "flip", ())
        .expect_err("flip writes");
    assert!(
        err.to_string().contains("not allowed in a read-only call"),
        "{err}"
    );
}

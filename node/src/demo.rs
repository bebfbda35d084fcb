//! `civitas demo`: deploys the example contracts on an in-memory chain running the real VM and
//! walks through them, printing each call's outcome, fuel and events.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use civitas_primitives::AccountId;
use civitas_runtime::{CallError, CallOutcome};
use civitas_testkit::{account, TestChain};
use parity_scale_codec::{Decode, Encode};

fn load(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(format!("{name}.wasm"));
    std::fs::read(&path).with_context(|| {
        format!(
            "reading {}: build the examples first with `civitas contract build contracts/{name} --release`",
            path.display()
        )
    })
}

fn short(a: &AccountId) -> String {
    a.to_hex()[..10].to_string()
}

fn show(step: &str, result: &Result<CallOutcome, CallError>) {
    match result {
        Ok(out) => {
            let topics: Vec<String> = out
                .events
                .iter()
                .map(|e| String::from_utf8_lossy(&e.topic).into_owned())
                .collect();
            println!(
                "  ok    {step:<56} fuel {:>8}  writes {:>2}  events [{}]",
                out.fuel_used,
                out.storage_changes.len(),
                topics.join(", ")
            );
        }
        Err(e) => println!("  fail  {step:<56} fuel {:>8}  {}", e.fuel_used, e.error),
    }
}

fn query<R: Decode>(
    chain: &TestChain,
    addr: AccountId,
    method: &str,
    args: impl Encode,
) -> Result<R> {
    chain
        .query(addr, method, args)
        .map_err(|e| anyhow::anyhow!("query {method}: {e}"))
}

/// Runs the walkthrough with modules from `wasm_dir`.
pub fn run(wasm_dir: PathBuf) -> Result<()> {
    let mut chain = TestChain::new();
    let (treasury, bank, alice, bob) = (
        account("treasury"),
        account("bank-a"),
        account("alice"),
        account("bob"),
    );
    let (ministry, acme) = (account("ministry-of-industry"), account("acme-robotics"));
    println!(
        "Accounts: treasury {}, bank {}, alice {}, bob {}",
        short(&treasury),
        short(&bank),
        short(&alice),
        short(&bob)
    );

    println!("\nflipper");
    let flipper = chain.deploy(alice, &load(&wasm_dir, "flipper")?, "new", (false,));
    show("flip()", &chain.call(flipper, alice, "flip", ()));
    show(
        "set(true) -> reverts: Unchanged",
        &chain.call(flipper, alice, "set", (true,)),
    );
    println!(
        "  value is now {}",
        query::<bool>(&chain, flipper, "get", ())?
    );

    println!("\ntoken");
    let token = chain.deploy(
        treasury,
        &load(&wasm_dir, "token")?,
        "new",
        (
            "Civitas Credit".to_string(),
            "CRD".to_string(),
            2u8,
            1_000_000u128,
        ),
    );
    show(
        "transfer(bank, 250000)",
        &chain.call(token, treasury, "transfer", (bank, 250_000u128)),
    );
    show(
        "approve(alice, 1000) by bank",
        &chain.call(token, bank, "approve", (alice, 1_000u128)),
    );
    show(
        "transfer_from(bank, bob, 600) by alice",
        &chain.call(token, alice, "transfer_from", (bank, bob, 600u128)),
    );
    show(
        "transfer_from(bank, bob, 600) again -> over allowance",
        &chain.call(token, alice, "transfer_from", (bank, bob, 600u128)),
    );
    for (name, who) in [("treasury", treasury), ("bank", bank), ("bob", bob)] {
        println!(
            "  balance of {name:<9} {}",
            query::<u128>(&chain, token, "balance_of", (who,))?
        );
    }

    println!("\ncoupons (innovation rewards)");
    let coupons = chain.deploy(ministry, &load(&wasm_dir, "coupons")?, "new", ());
    let expires = chain.block().time_ms + 90 * 86_400_000;
    let issued = chain.call(
        coupons,
        ministry,
        "issue",
        (acme, 50_000u128, "green-tech-2026".to_string(), expires),
    );
    show("issue(acme, 50000, green-tech-2026)", &issued);
    let id = issued
        .as_ref()
        .ok()
        .and_then(|o| u64::decode(&mut &o.output[..]).ok())
        .context("issue returned no coupon id")?;
    chain.advance(86_400_000);
    show(
        &format!("transfer({id}, bob) by acme"),
        &chain.call(coupons, acme, "transfer", (id, bob)),
    );
    show(
        &format!("redeem({id}) by bob"),
        &chain.call(coupons, bob, "redeem", (id,)),
    );
    show(
        &format!("redeem({id}) again -> NotActive"),
        &chain.call(coupons, bob, "redeem", (id,)),
    );

    println!(
        "\nDone: {} contracts, {} storage entries, block {}.",
        3,
        chain.state().storage_len(),
        chain.block().height
    );
    Ok(())
}

//! Genesis documents: duplicate accounts are refused wherever they appear in a long list.
use civitas_ledger::genesis::GenesisError;
use civitas_ledger::GenesisAccount;

use crate::common::*;

#[test]
fn a_genesis_naming_an_account_twice_is_refused() {
    let mut g = genesis();
    let filler = |i: u32| GenesisAccount {
        name: format!("filler-{i}"),
        account: hex::encode(civitas_primitives::sha3_256(&i.to_be_bytes()).0),
        balance: 1,
        roles: Vec::new(),
    };
    g.accounts.extend((0..1_000).map(filler));
    g.validate().expect("distinct accounts are accepted");
    // The first account again, far down the list.
    let first = g.accounts[0].clone();
    g.accounts.push(GenesisAccount {
        name: "again".into(),
        ..first.clone()
    });
    assert_eq!(
        g.validate(),
        Err(GenesisError::Duplicate(first.account.clone()))
    );
    assert_eq!(
        g.parsed_accounts().map(|a| a.len()),
        Err(GenesisError::Duplicate(first.account))
    );
}

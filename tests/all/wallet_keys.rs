//! The state keys the browser wallet builds for the proofs it asks for are the ledger's own
//! (the wallet core cannot link the ledger: it is compiled to WebAssembly), so a change of the
//! ledger's layout cannot silently leave the wallet proving absent keys.
use civitas_ledger::state::keys;
use civitas_primitives::{AccountId, Hash};
use civitas_wallet::{light, proven, sealed};

#[test]
fn the_wallet_asks_for_the_ledgers_keys() {
    let account = AccountId([0xa1; 32]);
    let hash = Hash([0x5e; 32]);
    assert_eq!(proven::account_key(&account), keys::account(&account));
    assert_eq!(proven::approval_key(&hash), keys::code_approval(&hash));
    for id in [0, 1, 258, u64::MAX] {
        assert_eq!(proven::consent_key(id), keys::consent(id));
    }
    assert_eq!(light::identity_key(&hash), keys::identity(&hash));
    assert_eq!(sealed::outcome_key(&hash), keys::sealed_outcome(&hash));
}

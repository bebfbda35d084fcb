//! Flipper, the tutorial contract: one boolean that its callers flip.
//!
//! It shows the whole shape of a Civitas contract: a `#[storage]` struct, a `#[contract]` impl
//! with a constructor, a call and a view, an event and an error enum.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;

/// The contract's storage: each field is stored under its own name.
#[storage]
pub struct Flipper {
    value: Value<bool>,
    flips: Value<u64>,
}

/// Emitted on every flip.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Flipped {
    /// Who flipped.
    pub by: AccountId,
    /// The new value.
    pub value: bool,
}

/// Why a call failed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {
    /// `set` was asked for the value already stored.
    Unchanged,
}

#[contract(events(Flipped))]
impl Flipper {
    /// Starts with `init`.
    #[constructor]
    pub fn new(&mut self, init: bool) {
        self.value.set(&init);
    }

    /// Inverts the value.
    #[call]
    pub fn flip(&mut self) {
        let value = !self.value.get_or_default();
        self.value.set(&value);
        self.flips.set(&(self.flips.get_or_default() + 1));
        env::emit(&Flipped {
            by: env::caller(),
            value,
        });
    }

    /// Sets the value; fails if it would not change.
    #[call]
    pub fn set(&mut self, value: bool) -> Result<(), Error> {
        if self.value.get_or_default() == value {
            return Err(Error::Unchanged);
        }
        self.value.set(&value);
        Ok(())
    }

    /// The current value.
    #[view]
    pub fn get(&self) -> bool {
        self.value.get_or_default()
    }

    /// How many times it was flipped.
    #[view]
    pub fn flips(&self) -> u64 {
        self.flips.get_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_sdk::test;

    #[test]
    fn flip_inverts_and_counts() {
        test::reset();
        let mut f = Flipper::default();
        f.new(false);
        assert!(!f.get());
        f.flip();
        assert!(f.get());
        f.flip();
        assert!(!f.get());
        assert_eq!(f.flips(), 2);
        let events = test::events_of::<Flipped>();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0],
            Flipped {
                by: test::accounts().alice,
                value: true
            }
        );
    }

    #[test]
    fn set_to_the_same_value_is_an_error() {
        test::reset();
        let mut f = Flipper::default();
        f.new(true);
        assert_eq!(f.set(true), Err(Error::Unchanged));
        assert_eq!(f.set(false), Ok(()));
        assert!(!f.get());
    }

    #[test]
    fn dispatch_decodes_selectors_and_reverts_with_the_error_reason() {
        test::reset();
        Flipper::__civitas_deploy(&civitas_sdk::message("new", (true,))).expect("constructor");
        let out = Flipper::__civitas_call(&civitas_sdk::message("get", ())).expect("get");
        assert_eq!(out, true.encode());
        let err =
            Flipper::__civitas_call(&civitas_sdk::message("set", (true,))).expect_err("unchanged");
        assert_eq!(err, b"Unchanged");
        // The macro's dispatch uses the rule `sha3_256(name)[..4]` (golden bytes from Python:
        // hashlib.sha3_256(b"get").hexdigest()[:8] == "f19d7634").
        let out = Flipper::__civitas_call(&[0xf1, 0x9d, 0x76, 0x34]).expect("get by raw selector");
        assert_eq!(out, true.encode());
        let err = Flipper::__civitas_call(b"\x00\x00\x00\x00").expect_err("unknown");
        assert_eq!(err, b"unknown selector 0x00000000");
        let err = Flipper::__civitas_call(&civitas_sdk::message("set", (true, 5u8)))
            .expect_err("trailing");
        assert_eq!(err, b"arguments do not decode");
    }

    #[test]
    fn metadata_lists_entries_types_and_events() {
        let m = __civitas_contract_metadata();
        assert_eq!(m.name, "flipper");
        assert_eq!(m.constructors.len(), 1);
        let set = m.entry("set").expect("set listed");
        assert_eq!(set.args.len(), 1);
        assert!(set.error.is_some());
        let s = civitas_sdk::selector("set");
        assert_eq!(
            set.selector,
            format!("0x{:02x}{:02x}{:02x}{:02x}", s[0], s[1], s[2], s[3])
        );
        // Golden value from Python: hashlib.sha3_256(b"set").hexdigest()[:8].
        assert_eq!(set.selector, "0x8755b971");
        assert_eq!(m.events.len(), 1);
        let json = m.to_json();
        assert!(json.contains("\"Flipped\""), "{json}");
        assert!(json.contains("Unchanged"), "{json}");
    }
}

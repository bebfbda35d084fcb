//! 32-byte hashes (sha3-256), account ids (ed25519 public keys and contract addresses) and
//! message selectors.
use core::fmt;
use parity_scale_codec::{Decode, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sha3::{Digest, Sha3_256};

/// A sha3-256 digest.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Encode,
    Decode,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct Hash(pub [u8; 32]);

/// An account: an ed25519 public key for people and institutions, a derived address for contracts.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Encode,
    Decode,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct AccountId(pub [u8; 32]);

/// The first four bytes of `sha3_256(method name)`, prefixed to every contract message.
pub type Selector = [u8; 4];

/// sha3-256 of `data`.
pub fn sha3_256(data: &[u8]) -> Hash {
    let mut h = Sha3_256::new();
    h.update(data);
    Hash(h.finalize().into())
}

/// The selector of a contract method or constructor named `name`.
pub fn selector(name: &str) -> Selector {
    let h = sha3_256(name.as_bytes());
    [h.0[0], h.0[1], h.0[2], h.0[3]]
}

/// The address of a contract instantiated by `deployer` from `code_hash` with `salt`:
/// predictable before the instantiation is sent.
pub fn contract_address(deployer: &AccountId, code_hash: &Hash, salt: &[u8]) -> AccountId {
    let mut h = Sha3_256::new();
    h.update(b"civitas/contract-address/v1");
    h.update(deployer.0);
    h.update(code_hash.0);
    h.update(salt);
    AccountId(h.finalize().into())
}

macro_rules! bytes32_impls {
    ($t:ident) => {
        impl $t {
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
            /// Lower-case hex of the 32 bytes, without a prefix.
            pub fn to_hex(&self) -> alloc::string::String {
                hex::encode(self.0)
            }
            /// Parses 64 hex digits, with or without a `0x` prefix.
            pub fn from_hex(s: &str) -> Option<Self> {
                let s = s.strip_prefix("0x").unwrap_or(s);
                let mut out = [0u8; 32];
                hex::decode_to_slice(s, &mut out).ok()?;
                Some(Self(out))
            }
        }
        impl From<[u8; 32]> for $t {
            fn from(b: [u8; 32]) -> Self {
                Self(b)
            }
        }
        impl AsRef<[u8]> for $t {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($t))?;
                for b in &self.0[..6] {
                    write!(f, "{b:02x}")?;
                }
                write!(f, "…)")
            }
        }
    };
}
bytes32_impls!(Hash);
bytes32_impls!(AccountId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha3_matches_the_standard_empty_digest() {
        assert_eq!(
            sha3_256(b"").to_hex(),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_bad_input() {
        let h = sha3_256(b"civitas");
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex(&format!("0x{}", h.to_hex())), Some(h));
        assert_eq!(Hash::from_hex("abc"), None);
        assert_eq!(Hash::from_hex(&"zz".repeat(32)), None);
    }

    #[test]
    fn contract_addresses_depend_on_every_input() {
        let d = AccountId([1; 32]);
        let c = sha3_256(b"code");
        let a = contract_address(&d, &c, b"salt");
        assert_eq!(a, contract_address(&d, &c, b"salt"));
        assert_ne!(a, contract_address(&AccountId([2; 32]), &c, b"salt"));
        assert_ne!(a, contract_address(&d, &sha3_256(b"other"), b"salt"));
        assert_ne!(a, contract_address(&d, &c, b"pepper"));
    }

    #[test]
    fn selectors_differ_by_name() {
        assert_ne!(selector("flip"), selector("get"));
        assert_eq!(selector("flip"), selector("flip"));
    }

    #[test]
    fn selector_is_the_first_four_bytes_of_sha3_256_of_the_name() {
        // Computed here with the sha3 crate directly, not through `sha3_256`.
        for name in ["flip", "get", "set", "new", "transfer", "score", ""] {
            let digest: [u8; 32] = Sha3_256::digest(name.as_bytes()).into();
            assert_eq!(selector(name), digest[..4], "{name}");
        }
        // Golden values from Python: hashlib.sha3_256(name.encode()).hexdigest()[:8].
        assert_eq!(selector("flip"), [0xf4, 0xa4, 0xcc, 0x29]);
        assert_eq!(selector("get"), [0xf1, 0x9d, 0x76, 0x34]);
        assert_eq!(selector("set"), [0x87, 0x55, 0xb9, 0x71]);
        assert_eq!(selector("new"), [0x94, 0xf4, 0x1c, 0xc8]);
    }
}

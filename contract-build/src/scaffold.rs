//! `civitas contract new`: writes a contract crate that builds and tests as it is.
use std::fs;
use std::path::{Path, PathBuf};

use crate::BuildError;

/// Where the SDK lives, for the new crate's path dependency: `CIVITAS_SDK_PATH`, else the SDK
/// beside this tool's source tree.
pub fn default_sdk_path() -> PathBuf {
    if let Ok(p) = std::env::var("CIVITAS_SDK_PATH") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("sdk")
}

fn valid_crate_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Creates a contract crate at `path` (which must not exist or be empty), named after its last
/// component, depending on the SDK at `sdk_path`.
pub fn new_contract(path: &Path, sdk_path: &Path) -> Result<String, BuildError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            BuildError::Scaffold(format!(
                "{} has no usable last component for a crate name",
                path.display()
            ))
        })?
        .to_string();
    if path.exists()
        && fs::read_dir(path)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(BuildError::Scaffold(format!(
            "{} exists and is not empty",
            path.display()
        )));
    }
    if !valid_crate_name(&name) {
        return Err(BuildError::Scaffold(format!(
            "`{name}` is not a valid crate name: start with a letter, then letters, digits, - or _"
        )));
    }
    let sdk = sdk_path.canonicalize().map_err(|_| {
        BuildError::Scaffold(format!(
            "SDK not found at {}: set CIVITAS_SDK_PATH",
            sdk_path.display()
        ))
    })?;
    let src = path.join("src");
    fs::create_dir_all(&src).map_err(|source| BuildError::Io {
        path: src.clone(),
        source,
    })?;
    let type_name: String = name
        .split(['-', '_'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let files = [
        (path.join("Cargo.toml"), cargo_toml(&name, &sdk)),
        (src.join("lib.rs"), lib_rs(&type_name)),
        (path.join(".gitignore"), "target/\n".to_string()),
    ];
    for (file, text) in files {
        fs::write(&file, text).map_err(|source| BuildError::Io {
            path: file.clone(),
            source,
        })?;
    }
    // Pin the dependency versions the SDK is tested with.
    let lock = sdk.join("..").join("Cargo.lock");
    if lock.is_file() {
        let dest = path.join("Cargo.lock");
        fs::copy(&lock, &dest).map_err(|source| BuildError::Io { path: dest, source })?;
    }
    Ok(name)
}

fn cargo_toml(name: &str, sdk: &Path) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
civitas-sdk = {{ path = {sdk:?} }}
parity-scale-codec = {{ version = "3.7", default-features = false, features = ["derive", "max-encoded-len"] }}
scale-info = {{ version = "2", default-features = false, features = ["derive"] }}

# A contract is its own workspace.
[workspace]
"#,
        sdk = sdk.display().to_string()
    )
}

fn lib_rs(ty: &str) -> String {
    format!(
        r#"//! A Civitas contract. Build it with `civitas contract build --release`; test it with
//! `cargo test` (off-chain, against the SDK's mock host).
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use civitas_sdk::prelude::*;

/// Storage: each field is stored under its own name.
#[storage]
pub struct {ty} {{
    owner: Value<AccountId>,
    counter: Value<u64>,
}}

/// Emitted when the counter changes.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, Event)]
pub struct Incremented {{
    /// Who incremented.
    pub by: AccountId,
    /// The new value.
    pub value: u64,
}}

/// Why a call failed.
#[derive(Debug, PartialEq, Eq, Encode, Decode, TypeInfo, ContractError)]
pub enum Error {{
    /// Only the owner may reset.
    NotOwner,
    /// The counter would overflow.
    Overflow,
}}

#[contract(events(Incremented))]
impl {ty} {{
    /// The caller becomes the owner; the counter starts at `start`.
    #[constructor]
    pub fn new(&mut self, start: u64) {{
        self.owner.set(&env::caller());
        self.counter.set(&start);
    }}

    /// Adds `by` to the counter.
    #[call]
    pub fn increment(&mut self, by: u64) -> Result<u64, Error> {{
        let value = self.counter.get_or_default().checked_add(by).ok_or(Error::Overflow)?;
        self.counter.set(&value);
        env::emit(&Incremented {{ by: env::caller(), value }});
        Ok(value)
    }}

    /// Sets the counter to zero (owner only).
    #[call]
    pub fn reset(&mut self) -> Result<(), Error> {{
        if self.owner.get() != Some(env::caller()) {{
            return Err(Error::NotOwner);
        }}
        self.counter.set(&0);
        Ok(())
    }}

    /// The counter.
    #[view]
    pub fn get(&self) -> u64 {{
        self.counter.get_or_default()
    }}
}}

#[cfg(test)]
mod tests {{
    use super::*;
    use civitas_sdk::test;

    #[test]
    fn increments_and_only_the_owner_resets() {{
        test::reset();
        let mut c = {ty}::default();
        c.new(1);
        assert_eq!(c.increment(2), Ok(3));
        assert_eq!(test::events_of::<Incremented>().len(), 1);
        test::set_caller(test::accounts().bob);
        assert_eq!(c.reset(), Err(Error::NotOwner));
        test::set_caller(test::accounts().alice);
        assert_eq!(c.reset(), Ok(()));
        assert_eq!(c.get(), 0);
    }}
}}
"#
    )
}

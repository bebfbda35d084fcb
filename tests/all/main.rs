//! Cross-crate tests: reference contracts built by the real tooling, run in the real VM.
mod determinism;
mod golden;
mod wallet_keys;

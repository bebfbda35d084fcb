//! Fuel charged for work outside the VM.
/// A credit transfer.
pub const TRANSFER: u64 = 1_000;
/// A governance proposal or approval.
pub const GOVERNANCE: u64 = 5_000;
/// Upload, per byte of code (validation and compilation).
pub const UPLOAD_PER_BYTE: u64 = 20;
/// Instantiation, before the constructor runs.
pub const INSTANTIATE: u64 = 20_000;
/// Upgrade.
pub const UPGRADE: u64 = 10_000;
/// Identity binding, dataset registration, code approval, consent filing and answers.
pub const REGISTRY: u64 = 5_000;
/// A record commitment (includes verifying the department's signature).
pub const RECORD: u64 = 70_000;
/// A disclosure, before per-dataset work.
pub const DISCLOSE: u64 = 20_000;
/// One attestation of a sealed output.
pub const ATTESTATION: u64 = 2_000;

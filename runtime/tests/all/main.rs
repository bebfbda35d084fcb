//! Runtime integration tests, one binary: validation rules, hostile modules, the host ABI,
//! determinism and the reuse of pooled instance slots, all through the real wasmtime VM.
mod common;
mod determinism;
mod host_abi;
mod hostile;
mod limits;
mod pooled_reuse;

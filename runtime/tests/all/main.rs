//! Runtime integration tests, one binary: validation rules, hostile modules, the host ABI and
//! determinism, all through the real wasmtime VM.
mod common;
mod determinism;
mod host_abi;
mod hostile;
mod limits;

//! The fault-injection soak (`soak.rs`), in a test binary of its own so that it runs alone:
//! its five nodes, their links and its load never share the machine with another test's
//! network (`scripts/soak MINUTES` runs it longer).
// The e2e suite's helpers: this binary uses some of them.
#[allow(unused_imports)]
#[path = "../e2e/common.rs"]
mod common;
#[path = "../e2e/devnet_setup.rs"]
mod devnet_setup;
mod fault_link;
mod soak;

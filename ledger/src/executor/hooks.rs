//! Failure injection for tests (feature `test-hooks`, off by default): transactions whose
//! application fails as if their state were undecodable, or with a chosen state error.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use civitas_primitives::Hash;
use civitas_runtime::StateError;

use super::Executor;

/// Transactions a test poisoned, shared by an executor's clones.
#[derive(Clone, Default)]
pub(super) struct TestHooks {
    poisoned: Arc<Mutex<BTreeMap<Hash, StateError>>>,
}

impl TestHooks {
    /// The injected failure for `tx`, if a test poisoned it.
    pub(super) fn check(&self, tx: &Hash) -> Result<(), StateError> {
        let poisoned = self
            .poisoned
            .lock()
            .map_err(|_| StateError::Backend("test hooks lock poisoned".into()))?;
        match poisoned.get(tx) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

impl Executor {
    /// Makes applying transaction `tx` fail with [`StateError::Undecodable`], after its writes
    /// were made (so they must be rolled back), as committed bytes every node fails to decode
    /// would.
    pub fn poison_for_tests(&self, tx: Hash) {
        self.fail_apply_for_tests(
            tx,
            StateError::Undecodable("poisoned by a test hook".into()),
        );
    }

    /// Makes applying transaction `tx` fail with `error`, after its writes were made.
    pub fn fail_apply_for_tests(&self, tx: Hash, error: StateError) {
        if let Ok(mut poisoned) = self.hooks.poisoned.lock() {
            poisoned.insert(tx, error);
        }
    }

    /// Removes every injected transaction failure.
    pub fn clear_poison_for_tests(&self) {
        if let Ok(mut poisoned) = self.hooks.poisoned.lock() {
            poisoned.clear();
        }
    }
}

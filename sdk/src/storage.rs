//! Typed storage: a [`Value`] under one key, a [`Mapping`] under a prefix. Values are
//! SCALE-encoded; a mapping's key is `prefix ++ b":" ++ scale(key)`. Reads and writes go to the
//! host on every access: nothing is cached, so there is nothing to flush or forget.
use alloc::vec::Vec;
use core::marker::PhantomData;
use parity_scale_codec::{Decode, Encode};

use crate::env;

/// A storage field that takes its key from the `#[storage]` macro.
pub trait StorageField {
    /// A handle for `key`.
    fn with_key(key: &'static [u8]) -> Self;
}

/// One value of type `T`.
pub struct Value<T> {
    key: &'static [u8],
    _t: PhantomData<T>,
}

impl<T: Encode + Decode> Value<T> {
    /// A handle for `key`.
    pub const fn new(key: &'static [u8]) -> Self {
        Value {
            key,
            _t: PhantomData,
        }
    }
    /// The stored value; `None` when unset or undecodable.
    pub fn get(&self) -> Option<T> {
        env::storage_get(self.key).and_then(|b| T::decode(&mut &b[..]).ok())
    }
    /// Stores `value`.
    pub fn set(&mut self, value: &T) {
        env::storage_set(self.key, &value.encode())
    }
    /// Removes the value.
    pub fn clear(&mut self) {
        env::storage_remove(self.key)
    }
}

impl<T: Encode + Decode + Default> Value<T> {
    /// The stored value or `T::default()`.
    pub fn get_or_default(&self) -> T {
        self.get().unwrap_or_default()
    }
}

impl<T> StorageField for Value<T> {
    fn with_key(key: &'static [u8]) -> Self {
        Value {
            key,
            _t: PhantomData,
        }
    }
}

/// A map from `K` to `V`.
pub struct Mapping<K, V> {
    prefix: &'static [u8],
    _kv: PhantomData<(K, V)>,
}

impl<K: Encode, V: Encode + Decode> Mapping<K, V> {
    /// A handle for `prefix`.
    pub const fn new(prefix: &'static [u8]) -> Self {
        Mapping {
            prefix,
            _kv: PhantomData,
        }
    }
    fn slot(&self, key: &K) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.prefix.len() + 1 + key.size_hint());
        out.extend_from_slice(self.prefix);
        out.push(b':');
        key.encode_to(&mut out);
        out
    }
    /// The value for `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        env::storage_get(&self.slot(key)).and_then(|b| V::decode(&mut &b[..]).ok())
    }
    /// Stores `value` for `key`.
    pub fn insert(&mut self, key: &K, value: &V) {
        env::storage_set(&self.slot(key), &value.encode())
    }
    /// Removes `key`.
    pub fn remove(&mut self, key: &K) {
        env::storage_remove(&self.slot(key))
    }
    /// Whether `key` has a value.
    pub fn contains(&self, key: &K) -> bool {
        env::storage_get(&self.slot(key)).is_some()
    }
}

impl<K: Encode, V: Encode + Decode + Default> Mapping<K, V> {
    /// The value for `key` or `V::default()`.
    pub fn get_or_default(&self, key: &K) -> V {
        self.get(key).unwrap_or_default()
    }
}

impl<K, V> StorageField for Mapping<K, V> {
    fn with_key(prefix: &'static [u8]) -> Self {
        Mapping {
            prefix,
            _kv: PhantomData,
        }
    }
}

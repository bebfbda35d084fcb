//! The event index: every event of every committed receipt, kept by its position (height,
//! transaction, event) and findable by contract, by topic, or by both, so that a filtered
//! query reads one key range in chain order instead of every block's receipts.
//!
//! A block's entries go into the block's own commit batch, so the index never lags or leads
//! the chain. A store that predates the index gets it built from its receipts when opened.
//! Keys (column family `event_index`), each ending in the 16-byte position:
//! `a` (the event itself, as the value), `c`‖contract, `t`‖sha3(topic), `b`‖contract‖sha3(topic)
//! (empty values, pointing at the `a` entry of the same position).
use civitas_primitives::block::{EventRecord, Receipt};
use civitas_primitives::{sha3_256, AccountId, Hash};
use parity_scale_codec::{Decode, Encode};
use rocksdb::{Direction, IteratorMode, WriteBatch};

use super::{corrupt, Store, StoreError, CF_EVENTS, CF_META};

/// Marks a store whose event index covers every committed block.
const EVENTS_INDEXED_KEY: &[u8] = b"events_indexed";
/// Blocks indexed per write while building the index of an older store.
const BACKFILL_BLOCKS_PER_WRITE: u64 = 1_000;

/// Where an event sits in the chain; orders events as the chain does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Encode, Decode)]
pub struct EventPosition {
    /// Block height.
    pub height: u64,
    /// The transaction's index in its block.
    pub tx_index: u32,
    /// The event's index among its transaction's events.
    pub event_index: u32,
}

impl EventPosition {
    /// The position as 16 big-endian bytes (keys sort as positions do).
    pub fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.height.to_be_bytes());
        b[8..12].copy_from_slice(&self.tx_index.to_be_bytes());
        b[12..].copy_from_slice(&self.event_index.to_be_bytes());
        b
    }

    /// The position from 16 big-endian bytes.
    pub fn from_bytes(b: &[u8]) -> Option<EventPosition> {
        if b.len() != 16 {
            return None;
        }
        Some(EventPosition {
            height: u64::from_be_bytes(b[..8].try_into().ok()?),
            tx_index: u32::from_be_bytes(b[8..12].try_into().ok()?),
            event_index: u32::from_be_bytes(b[12..].try_into().ok()?),
        })
    }
}

/// An event with where it was emitted.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct IndexedEvent {
    /// Its position.
    pub position: EventPosition,
    /// The emitting transaction.
    pub tx_hash: Hash,
    /// The event.
    pub event: EventRecord,
}

/// Which events a query wants: all of `from_height..=to_height`, narrowed by contract and
/// topic when given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFilter {
    /// Only this contract's events.
    pub contract: Option<AccountId>,
    /// Only events with exactly this topic.
    pub topic: Option<Vec<u8>>,
    /// First height.
    pub from_height: u64,
    /// Last height.
    pub to_height: u64,
}

/// The key prefix of the index a filter reads.
fn prefix(contract: Option<&AccountId>, topic: Option<&[u8]>) -> Vec<u8> {
    match (contract, topic) {
        (None, None) => b"a".to_vec(),
        (Some(c), None) => [&b"c"[..], &c.0].concat(),
        (None, Some(t)) => [&b"t"[..], &sha3_256(t).0].concat(),
        (Some(c), Some(t)) => [&b"b"[..], &c.0, &sha3_256(t).0].concat(),
    }
}

/// Adds the entries of block `height`'s `receipts` to `batch`.
fn index_receipts(
    batch: &mut WriteBatch,
    cf: &rocksdb::ColumnFamily,
    height: u64,
    receipts: &[Receipt],
) {
    for (tx_index, r) in receipts.iter().enumerate() {
        for (event_index, event) in r.events.iter().enumerate() {
            let position = EventPosition {
                height,
                tx_index: tx_index as u32,
                event_index: event_index as u32,
            };
            let pos = position.to_bytes();
            let entry = IndexedEvent {
                position,
                tx_hash: r.tx_hash,
                event: event.clone(),
            };
            batch.put_cf(cf, [&b"a"[..], &pos].concat(), entry.encode());
            for key in [
                prefix(Some(&event.contract), None),
                prefix(None, Some(&event.topic)),
                prefix(Some(&event.contract), Some(&event.topic)),
            ] {
                batch.put_cf(cf, [&key[..], &pos].concat(), []);
            }
        }
    }
}

impl Store {
    /// Adds block `height`'s events to the commit batch of that block.
    pub(super) fn index_events(
        &self,
        batch: &mut WriteBatch,
        height: u64,
        receipts: &[Receipt],
    ) -> Result<(), StoreError> {
        index_receipts(batch, self.cf(CF_EVENTS)?, height, receipts);
        Ok(())
    }

    /// Builds the index of every committed block's events if this store predates it.
    pub(super) fn backfill_event_index(&self) -> Result<(), StoreError> {
        if self
            .db
            .get_cf(self.cf(CF_META)?, EVENTS_INDEXED_KEY)?
            .is_some()
        {
            return Ok(());
        }
        let head = self.head()?.map_or(0, |h| h.height);
        let mut from = 1;
        while from <= head {
            let to = head.min(from + BACKFILL_BLOCKS_PER_WRITE - 1);
            let mut batch = WriteBatch::default();
            for h in from..=to {
                let receipts = self.receipts(h)?.unwrap_or_default();
                index_receipts(&mut batch, self.cf(CF_EVENTS)?, h, &receipts);
            }
            self.write_synced(batch)?;
            from = to + 1;
        }
        if head > 0 {
            tracing::info!(head, "built the event index of the stored blocks");
        }
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_META)?, EVENTS_INDEXED_KEY, [1]);
        self.write_synced(batch)
    }

    /// Up to `limit` events matching `filter` in chain order, from `cursor` (a position a
    /// previous page returned as its next) or the filter's first height; and the position
    /// of the next matching event, if there is one.
    pub fn events(
        &self,
        filter: &EventFilter,
        cursor: Option<EventPosition>,
        limit: usize,
    ) -> Result<(Vec<IndexedEvent>, Option<EventPosition>), StoreError> {
        let cf = self.cf(CF_EVENTS)?;
        let prefix = prefix(filter.contract.as_ref(), filter.topic.as_deref());
        let first = EventPosition {
            height: filter.from_height,
            tx_index: 0,
            event_index: 0,
        };
        let start = cursor.map_or(first, |c| c.max(first));
        let from = [&prefix[..], &start.to_bytes()].concat();
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(cf, IteratorMode::From(&from, Direction::Forward))
        {
            let (key, value) = item?;
            let Some(pos) = key.strip_prefix(&prefix[..]) else {
                break;
            };
            let position = EventPosition::from_bytes(pos).ok_or(corrupt("event index key"))?;
            if position.height > filter.to_height {
                break;
            }
            if out.len() == limit {
                return Ok((out, Some(position)));
            }
            let entry = if prefix == b"a" {
                value.to_vec()
            } else {
                self.db
                    .get_cf(cf, [&b"a"[..], pos].concat())?
                    .ok_or(corrupt("event index entry"))?
            };
            out.push(IndexedEvent::decode(&mut &entry[..]).map_err(|_| corrupt("event"))?);
        }
        Ok((out, None))
    }
}

#[cfg(test)]
mod tests {
    //! The index against a scan of the receipts it was built from, on a real store.
    use super::*;
    use civitas_primitives::block::ReceiptStatus;

    fn receipt(n: u8, events: Vec<EventRecord>) -> Receipt {
        Receipt {
            tx_hash: Hash([n; 32]),
            status: ReceiptStatus::Success,
            fuel_used: 1,
            events,
            output_hash: Hash([0; 32]),
            output: vec![],
            error: None,
        }
    }

    fn event(contract: u8, topic: &str, data: u8) -> EventRecord {
        EventRecord {
            contract: AccountId([contract; 32]),
            topic: topic.as_bytes().to_vec(),
            data: vec![data],
        }
    }

    /// Heights 1..=20: in block h, transaction 0 emits (contract h%3, "a"), (contract 1, "b"),
    /// transaction 1 emits nothing, transaction 2 emits (contract 2, "a").
    fn blocks() -> Vec<Vec<Receipt>> {
        (1..=20u8)
            .map(|h| {
                vec![
                    receipt(h, vec![event(h % 3, "a", h), event(1, "b", h)]),
                    receipt(100 + h, vec![]),
                    receipt(200 + h, vec![event(2, "a", h)]),
                ]
            })
            .collect()
    }

    /// What a scan of the receipts gives for `filter`.
    fn scan(filter: &EventFilter) -> Vec<IndexedEvent> {
        let mut out = Vec::new();
        for (i, receipts) in blocks().into_iter().enumerate() {
            let height = i as u64 + 1;
            if height < filter.from_height || height > filter.to_height {
                continue;
            }
            for (t, r) in receipts.iter().enumerate() {
                for (e, ev) in r.events.iter().enumerate() {
                    let wanted = filter.contract.is_none_or(|c| c == ev.contract)
                        && filter.topic.as_ref().is_none_or(|t| *t == ev.topic);
                    if wanted {
                        out.push(IndexedEvent {
                            position: EventPosition {
                                height,
                                tx_index: t as u32,
                                event_index: e as u32,
                            },
                            tx_hash: r.tx_hash,
                            event: ev.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    fn indexed_store(dir: &std::path::Path) -> Store {
        let store = Store::open(dir).expect("store");
        let mut batch = WriteBatch::default();
        for (i, receipts) in blocks().iter().enumerate() {
            store
                .index_events(&mut batch, i as u64 + 1, receipts)
                .expect("index");
        }
        store.write_synced(batch).expect("write");
        store
    }

    /// Every page of `limit` events from the store, following the cursors.
    fn pages(store: &Store, filter: &EventFilter, limit: usize) -> Vec<IndexedEvent> {
        let (mut all, mut cursor) = (Vec::new(), None);
        loop {
            let (page, next) = store.events(filter, cursor, limit).expect("events");
            assert!(page.len() <= limit);
            all.extend(page);
            match next {
                Some(n) => cursor = Some(n),
                None => return all,
            }
        }
    }

    #[test]
    fn every_filter_and_page_size_gives_what_a_scan_of_the_receipts_gives() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = indexed_store(dir.path());
        for contract in [None, Some(AccountId([1; 32])), Some(AccountId([2; 32]))] {
            for topic in [
                None,
                Some(b"a".to_vec()),
                Some(b"b".to_vec()),
                Some(b"z".to_vec()),
            ] {
                for (from_height, to_height) in [(0, u64::MAX), (5, 9), (20, 20), (21, 30)] {
                    let filter = EventFilter {
                        contract,
                        topic: topic.clone(),
                        from_height,
                        to_height,
                    };
                    let expected = scan(&filter);
                    for limit in [1, 2, 7, 1_000] {
                        assert_eq!(
                            pages(&store, &filter, limit),
                            expected,
                            "{filter:?} {limit}"
                        );
                    }
                }
            }
        }
        // A filter on contract 1 and topic "a" finds exactly heights 1, 4, 7, ... (h % 3 == 1).
        let ones = pages(
            &store,
            &EventFilter {
                contract: Some(AccountId([1; 32])),
                topic: Some(b"a".to_vec()),
                from_height: 0,
                to_height: u64::MAX,
            },
            3,
        );
        let heights: Vec<u64> = ones.iter().map(|e| e.position.height).collect();
        assert_eq!(heights, (1..=20).filter(|h| h % 3 == 1).collect::<Vec<_>>());
    }

    #[test]
    fn a_store_from_before_the_index_gets_it_built_from_its_receipts_when_opened() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            // Receipts and a head as an older store holds them: no index, no marker.
            let store = Store::open(dir.path()).expect("store");
            let mut batch = WriteBatch::default();
            for (i, receipts) in blocks().iter().enumerate() {
                let h = (i as u64 + 1).to_be_bytes();
                batch.put_cf(
                    store.cf(super::super::CF_RECEIPTS).expect("cf"),
                    h,
                    receipts.encode(),
                );
            }
            let head = super::super::Head {
                height: 20,
                block_hash: Hash([9; 32]),
                state_root: Hash([8; 32]),
            };
            let meta = store.cf(CF_META).expect("cf");
            batch.put_cf(meta, super::super::HEAD_KEY, head.encode());
            batch.delete_cf(meta, EVENTS_INDEXED_KEY);
            store.write_synced(batch).expect("write");
            let all = EventFilter {
                contract: None,
                topic: None,
                from_height: 0,
                to_height: u64::MAX,
            };
            assert!(store.events(&all, None, 10).expect("events").0.is_empty());
        }
        let store = Store::open(dir.path()).expect("reopened");
        for topic in [None, Some(b"a".to_vec())] {
            let filter = EventFilter {
                contract: None,
                topic,
                from_height: 0,
                to_height: u64::MAX,
            };
            assert_eq!(pages(&store, &filter, 5), scan(&filter), "{filter:?}");
        }
    }
}

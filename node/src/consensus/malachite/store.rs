//! The blocks of heights not yet decided, as this node proposed, validated or synced them,
//! kept in memory and in `data_dir/consensus/proposals/` (one file each), so that after a crash
//! the engine's WAL replay finds the block behind every value it already voted for
//! (`StartedRound`), a decision finds its block (`Decided`), and a proposal can be streamed
//! again (`RestreamProposal`). Files of decided heights are deleted.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_core_types::Round;
use thiserror::Error;

use super::types::{Address, BlockId, ProposalPart};

/// What this node concluded about a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Verdict {
    /// Not checked yet: received for a height above this node's (its parent is not
    /// committed here yet).
    Pending,
    /// Executes to the roots in its header (or was decided, when it came by sync).
    Valid,
    /// Invalid on every honest node.
    Invalid,
}

/// A block of an undecided height.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub struct Record {
    /// Height.
    pub height: u64,
    /// The round it was proposed in.
    pub round: Round,
    /// The round of the polka behind a re-proposal (nil for a new block).
    pub pol_round: Round,
    /// The proposer.
    pub proposer: Address,
    /// The block hash.
    pub id: BlockId,
    /// The verdict.
    pub verdict: Verdict,
    /// The proposer's signed part (the SCALE block inside); a synced block has an unsigned
    /// one (its certificate proves it).
    pub part: ProposalPart,
}

/// The proposal store failed to read or write its directory.
#[derive(Debug, Error)]
#[error("proposal store {path}: {source}")]
pub struct StoreError {
    path: PathBuf,
    source: std::io::Error,
}

/// The blocks of undecided heights.
pub struct ProposalStore {
    dir: PathBuf,
    records: BTreeMap<(u64, u32, BlockId), Record>,
}

fn round_key(r: Round) -> u32 {
    r.as_u32().unwrap_or(u32::MAX)
}

impl ProposalStore {
    /// Opens (creating) the store in `dir`, with the records of heights above `decided`.
    pub fn open(dir: &Path, decided: u64) -> Result<Self, StoreError> {
        let err = |source| StoreError {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(err)?;
        let mut store = ProposalStore {
            dir: dir.to_path_buf(),
            records: BTreeMap::new(),
        };
        for entry in std::fs::read_dir(dir).map_err(err)? {
            let path = entry.map_err(err)?.path();
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            match Record::try_from_slice(&bytes) {
                Ok(r) if r.height > decided => {
                    store
                        .records
                        .insert((r.height, round_key(r.round), r.id), r);
                }
                Ok(_) => {
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "unreadable proposal record; removed");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        Ok(store)
    }

    fn file(&self, r: &Record) -> PathBuf {
        self.dir
            .join(format!("{}-{}-{}.rec", r.height, round_key(r.round), r.id))
    }

    /// Keeps `record` (replacing one of the same height, round and block).
    pub fn put(&mut self, record: Record) -> Result<(), StoreError> {
        let path = self.file(&record);
        let err = |source| StoreError {
            path: path.clone(),
            source,
        };
        let bytes = borsh::to_vec(&record).map_err(err)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes).map_err(err)?;
        civitas_crash::crash_point!("proposal_record.before_rename");
        std::fs::rename(&tmp, &path).map_err(err)?;
        self.records
            .insert((record.height, round_key(record.round), record.id), record);
        Ok(())
    }

    /// The record of `id` proposed at `(height, round)`.
    pub fn get(&self, height: u64, round: Round, id: BlockId) -> Option<&Record> {
        self.records.get(&(height, round_key(round), id))
    }

    /// A record of block `id` at `height`, whatever its round (a signed one first).
    pub fn find(&self, height: u64, id: BlockId) -> Option<&Record> {
        let mut found = self
            .records
            .range((height, 0, BlockId([0; 32]))..=(height, u32::MAX, BlockId([0xff; 32])))
            .map(|(_, r)| r)
            .filter(|r| r.id == id);
        let first = found.next()?;
        if first.part.signature.0 != [0; 64] {
            return Some(first);
        }
        found
            .find(|r| r.part.signature.0 != [0; 64])
            .or(Some(first))
    }

    /// This node's own proposal at `(height, round)`, if it made one.
    pub fn own(&self, height: u64, round: Round, me: Address) -> Option<&Record> {
        let r = round_key(round);
        self.records
            .range((height, r, BlockId([0; 32]))..=(height, r, BlockId([0xff; 32])))
            .map(|(_, rec)| rec)
            .find(|rec| rec.proposer == me && rec.part.signature.0 != [0; 64])
    }

    /// The records at `height` (any round).
    pub fn at_height(&self, height: u64) -> Vec<Record> {
        self.records
            .range((height, 0, BlockId([0; 32]))..=(height, u32::MAX, BlockId([0xff; 32])))
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Forgets (and deletes) the records of heights up to `decided`.
    pub fn prune(&mut self, decided: u64) {
        let keep = self.records.split_off(&(decided + 1, 0, BlockId([0; 32])));
        let gone = std::mem::replace(&mut self.records, keep);
        for r in gone.values() {
            let _ = std::fs::remove_file(self.file(r));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::malachite::signing::Signature;
    use crate::consensus::malachite::types::Height;

    fn record(height: u64, round: u32, id: u8) -> Record {
        Record {
            height,
            round: Round::new(round),
            pol_round: Round::Nil,
            proposer: Address([1; 32]),
            id: BlockId([id; 32]),
            verdict: Verdict::Valid,
            part: ProposalPart {
                height: Height(height),
                round: Round::new(round),
                pol_round: Round::Nil,
                proposer: Address([1; 32]),
                block: vec![id],
                signature: Signature([7; 64]),
            },
        }
    }

    #[test]
    fn records_survive_a_reopen_and_decided_heights_are_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = ProposalStore::open(dir.path(), 0).expect("open");
        s.put(record(3, 0, 1)).expect("put");
        s.put(record(4, 1, 2)).expect("put");
        drop(s);
        let mut s = ProposalStore::open(dir.path(), 3).expect("reopen");
        assert!(
            s.find(3, BlockId([1; 32])).is_none(),
            "height 3 was decided"
        );
        let r = s.find(4, BlockId([2; 32])).expect("height 4 kept");
        assert_eq!(r.part.block, vec![2]);
        assert!(s.own(4, Round::new(1), Address([1; 32])).is_some());
        s.prune(4);
        assert!(s.at_height(4).is_empty());
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }
}

//! The observer's chain: the blocks and commit certificates it followed, each believed only
//! after its certificate carries a quorum of a validator set the observer trusts (the
//! genesis set, or a set the previous believed header announced through
//! `next_validators_hash`), its body matches its header's transaction root and it extends the
//! previous block. Kept in `data_dir/observer/blocks.log` (length-prefixed SCALE, fsynced),
//! re-checked from genesis at start.
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use civitas_primitives::block::{tx_root, validators_hash, Block, CommitCertificate};
use civitas_primitives::certificate::verify_certificate;
use civitas_primitives::{AccountId, Hash};
use parity_scale_codec::{Decode, Encode};
use thiserror::Error;

/// Why a followed block is not believed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FollowError {
    /// Another chain's block.
    #[error("block {height} is of chain `{got}`, not `{expected}`")]
    WrongChain {
        /// Height.
        height: u64,
        /// This chain.
        expected: String,
        /// The block's.
        got: String,
    },
    /// Not the next height.
    #[error("expected block {expected}, got {got}")]
    WrongHeight {
        /// Next height.
        expected: u64,
        /// Given.
        got: u64,
    },
    /// Its parent is not the block believed before it.
    #[error("block {0} does not extend the believed chain")]
    WrongParent(u64),
    /// Its body is not the one its header commits to.
    #[error("block {0}'s transactions do not match its header")]
    WrongBody(u64),
    /// Its validator set is neither the trusted one nor the one announced before it.
    #[error("block {0} names a validator set no believed header announced")]
    UnannouncedSet(u64),
    /// The set the source gave for a change does not hash to the announced one.
    #[error("the validator set given for block {0} does not match its header")]
    WrongSet(u64),
    /// Its certificate does not carry a quorum of its set.
    #[error("block {height}'s certificate: {why}")]
    Certificate {
        /// Height.
        height: u64,
        /// Why.
        why: String,
    },
}

struct Inner {
    blocks: Vec<(Block, CommitCertificate)>,
    /// Validator sets by first height, oldest first.
    sets: Vec<(u64, Vec<AccountId>)>,
}

/// The believed chain.
pub struct ObservedChain {
    chain_id: String,
    log: PathBuf,
    inner: RwLock<Inner>,
}

impl ObservedChain {
    /// Opens the chain of `chain_id` whose trust root is `genesis_validators`, re-checking
    /// every block of the log in `dir`.
    pub fn open(
        dir: &Path,
        chain_id: &str,
        mut genesis_validators: Vec<AccountId>,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        genesis_validators.sort();
        let chain = ObservedChain {
            chain_id: chain_id.into(),
            log: dir.join("blocks.log"),
            inner: RwLock::new(Inner {
                blocks: Vec::new(),
                sets: vec![(1, genesis_validators)],
            }),
        };
        let mut bytes = Vec::new();
        if let Ok(mut f) = std::fs::File::open(&chain.log) {
            f.read_to_end(&mut bytes)?;
        }
        let mut rest = &bytes[..];
        let mut kept = 0usize;
        while rest.len() >= 4 {
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if rest.len() < 4 + len {
                break;
            }
            let mut entry = &rest[4..4 + len];
            let Ok((block, cert)) = <(Block, CommitCertificate)>::decode(&mut entry) else {
                break;
            };
            // Blocks of the log were believed once; a set change needs its set, which the
            // log keeps with the block that first uses it.
            let Ok(set) = Vec::<AccountId>::decode(&mut entry) else {
                break;
            };
            if chain.admit(block, cert, Some(set)).is_err() {
                break;
            }
            kept += 4 + len;
            rest = &rest[4 + len..];
        }
        if kept < bytes.len() {
            tracing::warn!(
                kept,
                dropped = bytes.len() - kept,
                "the observer's block log ended in a partial or unbelievable entry; it is cut there"
            );
            let f = std::fs::OpenOptions::new().write(true).open(&chain.log)?;
            f.set_len(kept as u64)?;
            f.sync_all()?;
        }
        Ok(chain)
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The height of the newest believed block (0: none yet).
    pub fn height(&self) -> u64 {
        self.read().blocks.len() as u64
    }

    /// Block `height` and its certificate.
    pub fn block(&self, height: u64) -> Option<(Block, CommitCertificate)> {
        let i = usize::try_from(height.checked_sub(1)?).ok()?;
        self.read().blocks.get(i).cloned()
    }

    /// The validator set of `height` and the height it took effect, as far as believed.
    pub fn validators(&self, height: u64) -> Option<(u64, Vec<AccountId>)> {
        let inner = self.read();
        if height == 0 || height > inner.blocks.len() as u64 + 1 {
            return None;
        }
        inner
            .sets
            .iter()
            .rev()
            .find(|(since, _)| *since <= height)
            .cloned()
    }

    /// The set the next block must be signed by: the newest set, unless the newest believed
    /// header announced another (`Err(hash)`: the announced set's hash, to be fetched).
    pub fn next_set(&self) -> Result<Vec<AccountId>, Hash> {
        let inner = self.read();
        let current = inner
            .sets
            .last()
            .map(|(_, s)| s.clone())
            .unwrap_or_default();
        match inner.blocks.last() {
            Some((b, _)) if b.header.next_validators_hash != validators_hash(&current) => {
                Err(b.header.next_validators_hash)
            }
            _ => Ok(current),
        }
    }

    /// Checks block `block` with certificate `cert` (and, when the previous header announced a
    /// new validator set, `set`, which must hash to the announcement), believes it and
    /// appends it to the log.
    pub fn append(
        &self,
        block: Block,
        cert: CommitCertificate,
        set: Option<Vec<AccountId>>,
    ) -> Result<(), FollowError> {
        let entry = (block.clone(), cert.clone());
        let used = self.admit(block, cert, set)?;
        let mut bytes = entry.encode();
        bytes.extend(used.encode());
        let mut framed = (bytes.len() as u32).to_le_bytes().to_vec();
        framed.extend(bytes);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .and_then(|mut f| f.write_all(&framed).and_then(|_| f.sync_data()));
        if let Err(e) = written {
            tracing::error!(error = %e, "writing the observer's block log failed");
        }
        Ok(())
    }

    /// Believes a block (see [`Self::append`]); returns the set that signed it.
    fn admit(
        &self,
        block: Block,
        cert: CommitCertificate,
        set: Option<Vec<AccountId>>,
    ) -> Result<Vec<AccountId>, FollowError> {
        let h = &block.header;
        let expected = self.height() + 1;
        if h.chain_id != self.chain_id {
            return Err(FollowError::WrongChain {
                height: h.height,
                expected: self.chain_id.clone(),
                got: h.chain_id.clone(),
            });
        }
        if h.height != expected {
            return Err(FollowError::WrongHeight {
                expected,
                got: h.height,
            });
        }
        if let Some((parent, _)) = self.block(expected - 1) {
            if h.parent_hash != parent.header.hash() {
                return Err(FollowError::WrongParent(h.height));
            }
        }
        if tx_root(&block.txs) != h.tx_root {
            return Err(FollowError::WrongBody(h.height));
        }
        let (signers, changed) = match self.next_set() {
            Ok(current) if validators_hash(&current) == h.validators_hash => (current, false),
            Ok(_) => return Err(FollowError::UnannouncedSet(h.height)),
            Err(announced) => {
                let set = set.ok_or(FollowError::UnannouncedSet(h.height))?;
                if validators_hash(&set) != announced || announced != h.validators_hash {
                    return Err(FollowError::WrongSet(h.height));
                }
                (set, true)
            }
        };
        verify_certificate(h, &cert, &signers).map_err(|e| FollowError::Certificate {
            height: h.height,
            why: format!("{e:?}"),
        })?;
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if changed {
            inner.sets.push((h.height, signers.clone()));
        }
        inner.blocks.push((block, cert));
        Ok(signers)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_primitives::block::{vote_message, Header};
    use civitas_primitives::crypto::Keypair;

    const CHAIN: &str = "civitas-observer-test";

    fn keys(names: &[&str]) -> Vec<Keypair> {
        names.iter().map(|n| Keypair::dev(n)).collect()
    }

    fn set(keys: &[Keypair]) -> Vec<AccountId> {
        let mut s: Vec<AccountId> = keys.iter().map(|k| k.account()).collect();
        s.sort();
        s
    }

    /// Block `height` on `parent`, decided by `signers` of set `now`, announcing `next`.
    fn block(
        height: u64,
        parent: Option<&Block>,
        now: &[Keypair],
        next: &[Keypair],
        signers: usize,
    ) -> (Block, CommitCertificate) {
        let header = Header {
            chain_id: CHAIN.into(),
            height,
            parent_hash: parent.map(|p| p.header.hash()).unwrap_or_default(),
            time_ms: height * 50,
            proposer: now[0].account(),
            tx_root: tx_root(&[]),
            state_root: Hash([height as u8; 32]),
            receipts_root: Hash::default(),
            validators_hash: validators_hash(&set(now)),
            next_validators_hash: validators_hash(&set(next)),
        };
        let hash = header.hash();
        let certificate = CommitCertificate {
            height,
            round: 0,
            block_hash: hash,
            signatures: now
                .iter()
                .take(signers)
                .map(|k| {
                    (
                        k.account(),
                        k.sign_hash(&vote_message(CHAIN, height, 0, &hash)),
                    )
                })
                .collect(),
        };
        (
            Block {
                header,
                txs: Vec::new(),
            },
            certificate,
        )
    }

    #[test]
    fn only_certified_blocks_that_extend_the_chain_are_believed() {
        let dir = tempfile::tempdir().expect("tmp");
        let four = keys(&["a", "b", "c", "d"]);
        let chain = ObservedChain::open(dir.path(), CHAIN, set(&four)).expect("open");
        let (b1, c1) = block(1, None, &four, &four, 3);
        // Two signatures of four are no quorum.
        let (_, weak) = block(1, None, &four, &four, 2);
        assert!(matches!(
            chain.append(b1.clone(), weak, None),
            Err(FollowError::Certificate { height: 1, .. })
        ));
        // Signed by strangers.
        let strangers = keys(&["w", "x", "y", "z"]);
        let (forged, forged_cert) = block(1, None, &strangers, &strangers, 4);
        assert_eq!(
            chain.append(forged, forged_cert, None),
            Err(FollowError::UnannouncedSet(1))
        );
        chain.append(b1.clone(), c1, None).expect("believed");
        // Height 3 before 2, and a block 2 on another parent.
        let (b2, c2) = block(2, Some(&b1), &four, &four, 3);
        let (b3, c3) = block(3, Some(&b2), &four, &four, 3);
        assert_eq!(
            chain.append(b3, c3, None),
            Err(FollowError::WrongHeight {
                expected: 2,
                got: 3
            })
        );
        let (other, other_cert) = block(2, Some(&b2), &four, &four, 3);
        assert_eq!(
            chain.append(other, other_cert, None),
            Err(FollowError::WrongParent(2))
        );
        // A body that is not the header's.
        let (mut stuffed, stuffed_cert) = block(2, Some(&b1), &four, &four, 3);
        stuffed.txs.push(
            Keypair::dev("a").sign_tx(civitas_primitives::tx::Transaction {
                chain_id: CHAIN.into(),
                signer: Keypair::dev("a").account(),
                nonce: 0,
                fuel_limit: 1,
                call: civitas_primitives::tx::Call::Transfer {
                    to: AccountId::default(),
                    amount: 1,
                },
            }),
        );
        assert_eq!(
            chain.append(stuffed, stuffed_cert, None),
            Err(FollowError::WrongBody(2))
        );
        chain.append(b2, c2, None).expect("believed");
        assert_eq!(chain.height(), 2);
    }

    #[test]
    fn a_set_change_is_followed_only_as_announced_and_the_log_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tmp");
        let four = keys(&["a", "b", "c", "d"]);
        let five = keys(&["a", "b", "c", "d", "e"]);
        {
            let chain = ObservedChain::open(dir.path(), CHAIN, set(&four)).expect("open");
            let (b1, c1) = block(1, None, &four, &five, 3);
            chain.append(b1.clone(), c1, None).expect("announces five");
            let (b2, c2) = block(2, Some(&b1), &five, &five, 4);
            assert_eq!(
                chain.append(b2.clone(), c2.clone(), None),
                Err(FollowError::UnannouncedSet(2)),
                "the new set must be given"
            );
            assert_eq!(
                chain.append(
                    b2.clone(),
                    c2.clone(),
                    Some(set(&keys(&["a", "b", "c", "x", "y"])))
                ),
                Err(FollowError::WrongSet(2))
            );
            chain.append(b2, c2, Some(set(&five))).expect("believed");
            assert_eq!(
                chain.validators(2).map(|(since, s)| (since, s.len())),
                Some((2, 5))
            );
        }
        // Reopened, it re-checks the log; a torn last entry is cut.
        let log = dir.path().join("blocks.log");
        let mut bytes = std::fs::read(&log).expect("log");
        bytes.extend_from_slice(&[9, 0, 0, 0, 1, 2]);
        std::fs::write(&log, &bytes).expect("write");
        let chain = ObservedChain::open(dir.path(), CHAIN, set(&four)).expect("reopen");
        assert_eq!(chain.height(), 2);
        assert_eq!(chain.validators(3).map(|(_, s)| s.len()), Some(5));
        assert_eq!(
            std::fs::read(&log).expect("log").len(),
            bytes.len() - 6,
            "the torn entry is gone"
        );
    }
}

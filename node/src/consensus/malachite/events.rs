//! The engine's event stream, told in the boundary's engine-neutral [`ConsensusEvent`]s: the
//! round it is in, the votes it signs and receives, each decision's round and certificate size,
//! how long each decision took after this node held the block, and the highest height a
//! validator of the network is seen deciding (for the sync lag and `system_health.in_sync`).
//!
//! The engine reports received votes and proposals before it checks them, so a height counts
//! as a peer's only from a message signed by a validator of this node's current set: a
//! connected non-validator cannot make a node think it is behind.
use std::collections::BTreeMap;
use std::time::Instant;

use civitas_primitives::AccountId;
use malachitebft_core_consensus::SignedConsensusMsg;
use malachitebft_core_types::{ValueOrigin, VoteType};
use malachitebft_engine::util::events::Event;

use super::signing::Ed25519Verifier;
use super::types::{Address, CivitasContext};
use crate::consensus::{ConsensusEvent, VoteKind};

/// Turns engine events into [`ConsensusEvent`]s.
pub struct EventTally {
    verifier: Ed25519Verifier,
    me: Address,
    validators: Vec<AccountId>,
    peer_height: u64,
    /// When this node first held a block of each undecided height.
    held: BTreeMap<u64, Instant>,
}

fn kind(t: VoteType) -> VoteKind {
    match t {
        VoteType::Prevote => VoteKind::Prevote,
        VoteType::Precommit => VoteKind::Precommit,
    }
}

impl EventTally {
    /// A tally for validator `me` of chain `chain_id`.
    pub fn new(chain_id: &str, me: Address) -> Self {
        EventTally {
            verifier: Ed25519Verifier::new(chain_id),
            me,
            validators: Vec::new(),
            peer_height: 0,
            held: BTreeMap::new(),
        }
    }

    /// The validator set whose signatures count for peers' heights.
    pub fn set_validators(&mut self, validators: Vec<AccountId>) {
        self.validators = validators;
    }

    /// A height some validator `from` works on, if it is above what is known and the
    /// message is `from`'s.
    fn peer_at(
        &mut self,
        height: u64,
        from: Address,
        signed: impl FnOnce(&Ed25519Verifier) -> bool,
    ) -> bool {
        if height <= self.peer_height
            || from == self.me
            || !self.validators.contains(&from.account())
            || !signed(&self.verifier)
        {
            return false;
        }
        self.peer_height = height;
        true
    }

    /// What `event`, seen at `now`, reports.
    pub fn tally(&mut self, event: &Event<CivitasContext>, now: Instant) -> Vec<ConsensusEvent> {
        let mut out = Vec::new();
        match event {
            Event::StartedRound(height, round, _, _) => out.push(ConsensusEvent::StartedRound {
                height: height.0,
                round: round.as_u32().unwrap_or(0),
            }),
            Event::Published(SignedConsensusMsg::Vote(v)) => {
                out.push(ConsensusEvent::SignedVote(kind(v.message.vote_type)));
            }
            Event::Received(SignedConsensusMsg::Vote(v)) => {
                out.push(ConsensusEvent::ReceivedVote(kind(v.message.vote_type)));
                if self.peer_at(v.message.height.0, v.message.validator, |verifier| {
                    verifier.vote_is_signed(&v.message, &v.signature)
                }) {
                    out.push(ConsensusEvent::PeerAt {
                        height: self.peer_height,
                    });
                }
            }
            Event::Received(SignedConsensusMsg::Proposal(p))
                if self.peer_at(p.message.height.0, p.message.proposer, |verifier| {
                    verifier.proposal_is_signed(&p.message, &p.signature)
                }) =>
            {
                out.push(ConsensusEvent::PeerAt {
                    height: self.peer_height,
                });
            }
            Event::ProposedValue(v) => {
                self.held.entry(v.height.0).or_insert(now);
            }
            // A block that came by sync was decided before it arrived: no vote to wait for.
            Event::ReceivedProposedValue(v, ValueOrigin::Consensus) => {
                self.held.entry(v.height.0).or_insert(now);
            }
            Event::Decided { commit_certificate } => {
                let height = commit_certificate.height.0;
                let vote_wait = self
                    .held
                    .get(&height)
                    .map(|at| now.saturating_duration_since(*at));
                self.held = self.held.split_off(&(height + 1));
                out.push(ConsensusEvent::Decided {
                    height,
                    round: commit_certificate.round.as_u32().unwrap_or(0),
                    precommits: commit_certificate.commit_signatures.len(),
                    vote_wait,
                });
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::malachite::signing::Ed25519Signer;
    use crate::consensus::malachite::types::{BlockId, Height};
    use civitas_primitives::crypto::Keypair;
    use civitas_primitives::Hash;
    use malachitebft_core_types::{CommitCertificate, Context, NilOrVal, Round};
    use malachitebft_signing::Signer;
    use std::time::Duration;

    fn keys() -> Vec<Keypair> {
        (0..4u8).map(|i| Keypair::from_seed([i + 1; 32])).collect()
    }

    async fn precommit(
        k: &Keypair,
        height: u64,
    ) -> malachitebft_core_types::SignedVote<CivitasContext> {
        let signer = Ed25519Signer::new(k.clone(), "c");
        let vote = CivitasContext::new("c").new_precommit(
            Height(height),
            Round::new(0),
            NilOrVal::Val(BlockId::from(Hash([7; 32]))),
            signer.address(),
        );
        signer.sign_vote(vote).await.expect("signs")
    }

    fn tally_of(keys: &[Keypair]) -> EventTally {
        let mut t = EventTally::new("c", Address::from(keys[0].account()));
        t.set_validators(keys.iter().map(|k| k.account()).collect());
        t
    }

    #[tokio::test]
    async fn a_validators_signed_vote_raises_the_peer_height_once() {
        let keys = keys();
        let mut t = tally_of(&keys);
        let v = precommit(&keys[1], 30).await;
        let out = t.tally(
            &Event::Received(SignedConsensusMsg::Vote(v.clone())),
            Instant::now(),
        );
        assert_eq!(
            out,
            vec![
                ConsensusEvent::ReceivedVote(VoteKind::Precommit),
                ConsensusEvent::PeerAt { height: 30 }
            ]
        );
        // The same height again, or a lower one, changes nothing.
        let lower = precommit(&keys[2], 12).await;
        for v in [v, lower] {
            let out = t.tally(
                &Event::Received(SignedConsensusMsg::Vote(v)),
                Instant::now(),
            );
            assert_eq!(out, vec![ConsensusEvent::ReceivedVote(VoteKind::Precommit)]);
        }
    }

    #[tokio::test]
    async fn votes_of_strangers_forgeries_and_our_own_do_not_count_as_peer_heights() {
        let keys = keys();
        let mut t = tally_of(&keys[..3]);
        // Not in the set.
        let stranger = precommit(&keys[3], 50).await;
        // In the set, but its signature is another vote's.
        let mut forged = precommit(&keys[1], 60).await;
        forged.signature = precommit(&keys[1], 61).await.signature;
        // This node's own vote.
        let own = precommit(&keys[0], 70).await;
        for v in [stranger, forged, own] {
            let out = t.tally(
                &Event::Received(SignedConsensusMsg::Vote(v)),
                Instant::now(),
            );
            assert_eq!(out, vec![ConsensusEvent::ReceivedVote(VoteKind::Precommit)]);
        }
    }

    #[tokio::test]
    async fn a_decision_reports_its_round_precommits_and_the_wait_since_the_block_was_held() {
        let keys = keys();
        let mut t = tally_of(&keys);
        let id = BlockId::from(Hash([7; 32]));
        let held = Instant::now();
        t.tally(
            &Event::ProposedValue(malachitebft_core_consensus::LocallyProposedValue::new(
                Height(9),
                Round::new(2),
                id,
            )),
            held,
        );
        let mut votes = Vec::new();
        for k in &keys[..3] {
            let mut v = precommit(k, 9).await;
            v.message.round = Round::new(2);
            votes.push(v);
        }
        let cert = CommitCertificate::new(Height(9), Round::new(2), id, votes);
        let out = t.tally(
            &Event::Decided {
                commit_certificate: cert.clone(),
            },
            held + Duration::from_millis(40),
        );
        assert_eq!(
            out,
            vec![ConsensusEvent::Decided {
                height: 9,
                round: 2,
                precommits: 3,
                vote_wait: Some(Duration::from_millis(40)),
            }]
        );
        // Once decided, the height's holding time is gone.
        let out = t.tally(
            &Event::Decided {
                commit_certificate: cert,
            },
            held,
        );
        assert!(matches!(
            out[..],
            [ConsensusEvent::Decided {
                vote_wait: None,
                ..
            }]
        ));
    }

    #[tokio::test]
    async fn a_block_that_came_by_sync_has_no_vote_wait() {
        let keys = keys();
        let id = BlockId::from(Hash([7; 32]));
        let mut votes = Vec::new();
        for k in &keys[..3] {
            votes.push(precommit(k, 4).await);
        }
        let cert = CommitCertificate::new(Height(4), Round::new(0), id, votes);
        for (origin, expect_wait) in [(ValueOrigin::Sync, false), (ValueOrigin::Consensus, true)] {
            let mut t = tally_of(&keys);
            let value = malachitebft_core_consensus::ProposedValue {
                height: Height(4),
                round: Round::new(0),
                valid_round: Round::Nil,
                proposer: Address::from(keys[1].account()),
                value: id,
                validity: malachitebft_core_types::Validity::Valid,
            };
            let at = Instant::now();
            t.tally(&Event::ReceivedProposedValue(value, origin), at);
            let out = t.tally(
                &Event::Decided {
                    commit_certificate: cert.clone(),
                },
                at,
            );
            let ConsensusEvent::Decided { vote_wait, .. } = &out[0] else {
                panic!("no decision in {out:?}");
            };
            assert_eq!(vote_wait.is_some(), expect_wait, "{origin:?}");
        }
    }
}

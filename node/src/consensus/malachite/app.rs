//! The application loop: answers every message the engine sends over its channel by calling
//! the engine-neutral [`Application`] (the ledger), so consensus never stalls on an unanswered
//! request.
//!
//! - `ConsensusReady` / `Finalized`: start at the stored head + 1 with that height's validator
//!   set.
//! - `StartedRound`: checks the parts that arrived early for the height and returns every
//!   block already known for the round (this is how a restarted validator gets back the
//!   blocks its WAL replays votes for).
//! - `GetValue`: the same block again for a repeated `(height, round)`; otherwise waits
//!   (briefly) for transactions, then for its time slot, proposes and streams the block.
//! - `ReceivedProposalPart`: checks the part's signature and proposer, then executes the block
//!   ([`Application::validate`]); valid only if it executes to the same roots; a node failure
//!   gives no answer, so this node does not vote for or against it.
//! - `Decided`: converts the certificate (our signatures already, see `signing`), waits until
//!   [`Application::announce_not_before`] like the solo engine, and commits.
//! - `GetDecidedValues` (range clamped to what is stored, and bounded), `ProcessSyncedValue`,
//!   `GetHistoryMinHeight`, `RestreamProposal`; vote extensions are not used.
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use civitas_primitives::block::{Block, CommitCertificate};
use civitas_primitives::clock::now_ms;
use malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::{LocallyProposedValue, ProposedValue};
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use malachitebft_core_types::{
    CommitCertificate as EngineCertificate, ExtendedCommitCertificate, ExtendedCommitSignature,
    Round, Validity,
};
use malachitebft_engine::util::streaming::{StreamContent, StreamId, StreamMessage};
use parity_scale_codec::{Decode, Encode};
use thiserror::Error;

use super::config::timeouts;
use super::signing::{Ed25519Signer, Ed25519Verifier, Signature};
use super::store::{ProposalStore, Record, StoreError, Verdict};
use super::types::{proposer_index, Address, BlockId, CivitasContext, Height, ProposalPart};
use crate::consensus::solo::SoloWork;
use crate::consensus::{AppError, Application};

/// The longest an idle proposer waits for transactions before it proposes an empty block
/// (so an idle chain makes about one block per this interval, not one per cadence slot).
pub const IDLE_PROPOSE_WAIT: Duration = Duration::from_millis(500);

/// Most decided blocks served in one sync reply.
pub const MAX_SYNC_BATCH: u64 = 50;

/// Why the application loop stopped.
#[derive(Debug, Error)]
pub enum LoopError {
    /// The engine's channel closed (the engine stopped).
    #[error("the consensus engine closed its channel")]
    EngineGone,
    /// The ledger failed in a way the loop cannot answer around.
    #[error("ledger: {0}")]
    Ledger(#[from] AppError),
    /// The proposal store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The loop's state.
pub struct AppLoop<A> {
    app: Arc<A>,
    signer: Arc<Ed25519Signer>,
    verifier: Ed25519Verifier,
    store: ProposalStore,
    me: Address,
    current: u64,
    streams: u64,
    /// The height last committed through `Decided` (checked at `Finalized`).
    committed: Option<u64>,
    /// Hears, at each height this node starts, whether it is one of the height's validators.
    on_voting: Box<dyn Fn(bool) + Send + Sync>,
    /// A test fault this node's proposals carry (debug builds only, see [`super::fault`]).
    #[cfg(debug_assertions)]
    fault: Option<super::fault::ProposerFault>,
}

/// The engine certificate as ours: the same height, round, block and signatures.
pub fn to_ledger_certificate(c: &EngineCertificate<CivitasContext>) -> CommitCertificate {
    CommitCertificate {
        height: c.height.0,
        round: c.round.as_u32().unwrap_or(0),
        block_hash: c.value_id.hash(),
        signatures: c
            .commit_signatures
            .iter()
            .map(|s| (s.address.account(), s.signature.0))
            .collect(),
    }
}

/// Our certificate as the engine's (for a syncing peer).
pub fn to_engine_certificate(c: &CommitCertificate) -> ExtendedCommitCertificate<CivitasContext> {
    ExtendedCommitCertificate {
        height: Height(c.height),
        round: Round::new(c.round),
        value_id: BlockId::from(c.block_hash),
        commit_signatures: c
            .signatures
            .iter()
            .map(|(a, s)| ExtendedCommitSignature::new(Address::from(*a), Signature(*s), None))
            .collect(),
    }
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

impl<A: Application + SoloWork + 'static> AppLoop<A> {
    /// A loop over `app`, signing with `signer`, keeping undecided blocks in `store`;
    /// `on_voting` hears at each height it starts whether this node votes in it (a node
    /// outside the height's validator set follows the chain without voting).
    pub fn new(
        app: Arc<A>,
        ctx: CivitasContext,
        signer: Arc<Ed25519Signer>,
        store: ProposalStore,
        on_voting: impl Fn(bool) + Send + Sync + 'static,
    ) -> Self {
        let verifier = Ed25519Verifier::new(ctx.chain_id());
        let me = signer.address();
        AppLoop {
            app,
            signer,
            verifier,
            store,
            me,
            current: 0,
            streams: 0,
            committed: None,
            on_voting: Box::new(on_voting),
            #[cfg(debug_assertions)]
            fault: None,
        }
    }

    /// The same loop, its proposals corrupted by `fault` (debug builds only).
    #[cfg(debug_assertions)]
    pub fn with_fault(mut self, fault: super::fault::ProposerFault) -> Self {
        self.fault = Some(fault);
        self
    }

    fn params(&self, height: u64) -> Result<HeightParams<CivitasContext>, AppError> {
        let accounts = blocking(|| self.app.validator_set(height))?;
        let set = super::types::ValidatorSet::new(&accounts);
        if set.is_empty() {
            return Err(AppError::Node(format!("no validators at height {height}")));
        }
        (self.on_voting)(accounts.contains(&self.me.account()));
        Ok(HeightParams::new(set, timeouts(), None))
    }

    /// Runs until the engine closes its channel.
    pub async fn run(mut self, channels: &mut Channels<CivitasContext>) -> Result<(), LoopError> {
        while let Some(msg) = channels.consensus.recv().await {
            self.handle(msg, channels).await?;
        }
        Err(LoopError::EngineGone)
    }

    async fn handle(
        &mut self,
        msg: AppMsg<CivitasContext>,
        channels: &mut Channels<CivitasContext>,
    ) -> Result<(), LoopError> {
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let height = blocking(|| self.app.start_height())?;
                self.current = height;
                self.store.prune(height.saturating_sub(1));
                let params = self.params(height)?;
                tracing::info!(height, "consensus ready");
                let _ = reply.send((Height(height), params));
            }
            AppMsg::StartedRound {
                height,
                round,
                proposer,
                role,
                reply_value,
            } => {
                tracing::debug!(%height, %round, %proposer, ?role, "started round");
                self.current = height.0;
                self.check_pending(height.0);
                let values: Vec<ProposedValue<CivitasContext>> = self
                    .store
                    .at_height(height.0)
                    .into_iter()
                    .filter(|r| r.round == round && r.verdict != Verdict::Pending)
                    .map(|r| proposed_value(&r))
                    .collect();
                let _ = reply_value.send(values);
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                let value = match self.store.own(height.0, round, self.me) {
                    Some(r) => Some(r.clone()),
                    None => self.build(height.0, round, timeout).await?,
                };
                if let Some(r) = value {
                    let _ = reply.send(LocallyProposedValue::new(height, round, r.id));
                    self.publish(&r.part, channels).await;
                }
            }
            AppMsg::ReceivedProposalPart { part, reply, .. } => {
                let value = match part.content {
                    StreamContent::Data(p) => self.received(p)?,
                    StreamContent::Fin => None,
                };
                let _ = reply.send(value);
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => {
                self.decided(&certificate).await;
                let _ = reply.send(());
            }
            AppMsg::Finalized {
                certificate, reply, ..
            } => {
                let height = certificate.height.0;
                let head = blocking(|| self.app.start_height())?.saturating_sub(1);
                let next = if self.committed == Some(height) || head >= height {
                    self.store.prune(height);
                    self.current = height + 1;
                    Next::Start(Height(height + 1), self.params(height + 1)?)
                } else {
                    tracing::error!(
                        height,
                        "the decided block was not committed; restarting the height"
                    );
                    Next::Restart(Height(height), self.params(height)?)
                };
                let _ = reply.send(next);
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let head = blocking(|| self.app.start_height())?.saturating_sub(1);
                let start = range.start().0.max(1);
                let end = range
                    .end()
                    .0
                    .min(head)
                    .min(start.saturating_add(MAX_SYNC_BATCH - 1));
                let mut values = Vec::new();
                for h in start..=end {
                    match blocking(|| self.app.sync_serve(h)) {
                        Ok(Some((block, cert))) => values.push(RawDecidedValue {
                            value_bytes: Bytes::from(block.encode()),
                            certificate: to_engine_certificate(&cert),
                        }),
                        Ok(None) => break,
                        Err(e) => {
                            tracing::warn!(height = h, error = %e, "cannot serve a decided block");
                            break;
                        }
                    }
                }
                let _ = reply.send(values);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = self.synced(height.0, round, proposer, &value_bytes)?;
                let _ = reply.send(outcome);
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                // Every decided block is kept.
                let _ = reply.send(Height(1));
            }
            AppMsg::RestreamProposal {
                height, value_id, ..
            } => {
                let part = self
                    .store
                    .find(height.0, value_id)
                    .filter(|r| r.part.signature.0 != [0; 64])
                    .map(|r| r.part.clone());
                match part {
                    Some(p) => self.publish(&p, channels).await,
                    None => {
                        tracing::debug!(%height, %value_id, "no signed block to restream")
                    }
                }
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtensions {
                extensions, reply, ..
            } => {
                let _ = reply.send(extensions.into_iter().map(|(a, _)| (a, Ok(()))).collect());
            }
        }
        Ok(())
    }

    /// Builds this node's block for `(height, round)`; `None` (no answer, the round times
    /// out) if the ledger cannot.
    async fn build(
        &mut self,
        height: u64,
        round: Round,
        timeout: Duration,
    ) -> Result<Option<Record>, LoopError> {
        let started = Instant::now();
        let idle_wait = IDLE_PROPOSE_WAIT.min(timeout / 3);
        while !self.app.pending_work().0 && started.elapsed() < idle_wait {
            let app = self.app.clone();
            let step = idle_wait.saturating_sub(started.elapsed());
            tokio::task::spawn_blocking(move || {
                app.wait_for_work(step.min(Duration::from_millis(50)))
            })
            .await
            .ok();
        }
        let slot = match blocking(|| self.app.block_time_slot(height, now_ms())) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(height, error = %e, "no time slot; not proposing");
                return Ok(None);
            }
        };
        let wait = slot.saturating_sub(now_ms());
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let r = round.as_u32().unwrap_or(0);
        #[allow(unused_mut)]
        let mut block = match blocking(|| self.app.propose(height, r, slot, self.me.account())) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(height, round = r, error = %e, "could not build a block; not proposing");
                return Ok(None);
            }
        };
        #[cfg(debug_assertions)]
        if let Some(fault) = self.fault {
            fault.corrupt(&mut block);
            tracing::warn!(
                height,
                round = r,
                ?fault,
                "proposing a corrupted block (test fault)"
            );
        }
        let mut part = ProposalPart {
            height: Height(height),
            round,
            pol_round: Round::Nil,
            proposer: self.me,
            block: block.encode(),
            signature: Signature([0; 64]),
        };
        self.signer.sign_part(&mut part);
        let record = Record {
            height,
            round,
            pol_round: Round::Nil,
            proposer: self.me,
            id: BlockId::from(block.header.hash()),
            verdict: Verdict::Valid,
            part,
        };
        self.store.put(record.clone())?;
        tracing::debug!(height, round = r, txs = block.txs.len(), "proposing");
        Ok(Some(record))
    }

    async fn publish(&mut self, part: &ProposalPart, channels: &mut Channels<CivitasContext>) {
        self.streams += 1;
        let mut id = part.height.0.to_be_bytes().to_vec();
        id.extend_from_slice(&part.round.as_i64().to_be_bytes());
        id.extend_from_slice(&self.streams.to_be_bytes());
        let stream = StreamId::new(Bytes::from(id));
        for (seq, content) in [
            (0, StreamContent::Data(part.clone())),
            (1, StreamContent::Fin),
        ] {
            let msg = StreamMessage::new(stream.clone(), seq, content);
            if channels
                .network
                .send(NetworkMsg::PublishProposalPart(msg))
                .await
                .is_err()
            {
                tracing::warn!("the network closed its channel; proposal not streamed");
                return;
            }
        }
    }

    fn expected_proposer(&self, height: u64, round: Round) -> Option<Address> {
        let set = blocking(|| self.app.validator_set(height)).ok()?;
        let set = civitas_primitives::block::canonical_set(&set);
        set.get(proposer_index(height, round, set.len()))
            .map(|a| Address::from(*a))
    }

    /// A streamed block: kept for later if its height is ahead of this node, checked and
    /// executed if it is this node's height.
    fn received(
        &mut self,
        part: ProposalPart,
    ) -> Result<Option<ProposedValue<CivitasContext>>, LoopError> {
        let height = part.height.0;
        if height < self.current || !self.verifier.part_is_signed(&part) {
            return Ok(None);
        }
        let Ok(block) = Block::decode(&mut part.block.as_slice()) else {
            tracing::warn!(height, proposer = %part.proposer, "undecodable block in a signed proposal part");
            return Ok(None);
        };
        let id = BlockId::from(block.header.hash());
        if self
            .store
            .get(height, part.round, id)
            .is_some_and(|r| r.verdict != Verdict::Pending)
        {
            return Ok(self.store.get(height, part.round, id).map(proposed_value));
        }
        let mut record = Record {
            height,
            round: part.round,
            pol_round: part.pol_round,
            proposer: part.proposer,
            id,
            verdict: Verdict::Pending,
            part,
        };
        if height > self.current {
            self.store.put(record)?;
            return Ok(None);
        }
        match self.check(&record, &block) {
            Some(v) => record.verdict = v,
            None => return Ok(None),
        }
        let value = proposed_value(&record);
        self.store.put(record)?;
        Ok(Some(value))
    }

    /// The verdict on a block of this node's height; `None` if this node failed.
    fn check(&self, record: &Record, block: &Block) -> Option<Verdict> {
        let round = record.round.as_u32().unwrap_or(0);
        if self.expected_proposer(record.height, record.round) != Some(record.proposer)
            || block.header.proposer != record.proposer.account()
            || block.header.height != record.height
        {
            tracing::warn!(height = record.height, round, proposer = %record.proposer, "a block from the wrong proposer or for another height");
            return Some(Verdict::Invalid);
        }
        match blocking(|| self.app.validate(block, round)) {
            Ok(()) => Some(Verdict::Valid),
            Err(e) if e.is_node_failure() => {
                tracing::error!(height = record.height, round, error = %e, "this node could not check the block; not voting on it");
                None
            }
            Err(e) => {
                tracing::warn!(height = record.height, round, error = %e, "invalid block");
                Some(Verdict::Invalid)
            }
        }
    }

    /// Checks the blocks that arrived for `height` before this node reached it.
    fn check_pending(&mut self, height: u64) {
        for mut r in self.store.at_height(height) {
            if r.verdict != Verdict::Pending {
                continue;
            }
            let Ok(block) = Block::decode(&mut r.part.block.as_slice()) else {
                continue;
            };
            if let Some(v) = self.check(&r, &block) {
                r.verdict = v;
                if let Err(e) = self.store.put(r) {
                    tracing::error!(error = %e, "cannot keep a checked block");
                }
            }
        }
    }

    async fn decided(&mut self, certificate: &EngineCertificate<CivitasContext>) {
        let height = certificate.height.0;
        let Some(record) = self.store.find(height, certificate.value_id).cloned() else {
            tracing::error!(height, block = %certificate.value_id, "decided a block this node does not hold");
            return;
        };
        let block = match Block::decode(&mut record.part.block.as_slice()) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(height, error = %e, "the decided block does not decode");
                return;
            }
        };
        let not_before = self.app.announce_not_before(&block);
        let wait = not_before.saturating_sub(now_ms());
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        let cert = to_ledger_certificate(certificate);
        match blocking(|| self.app.decided(block, cert)) {
            Ok(()) => self.committed = Some(height),
            Err(e) => tracing::error!(height, error = %e, "could not commit the decided block"),
        }
    }

    fn synced(
        &mut self,
        height: u64,
        round: Round,
        proposer: Address,
        bytes: &[u8],
    ) -> Result<SyncedValueOutcome<CivitasContext>, LoopError> {
        let Ok(block) = Block::decode(&mut &bytes[..]) else {
            return Ok(SyncedValueOutcome::PeerFault);
        };
        if block.header.height != height {
            return Ok(SyncedValueOutcome::PeerFault);
        }
        // The engine checks the certificate that came with it before deciding, and
        // `Application::decided` checks it again against the height's validator set.
        let record = Record {
            height,
            round,
            pol_round: Round::Nil,
            proposer,
            id: BlockId::from(block.header.hash()),
            verdict: Verdict::Valid,
            part: ProposalPart {
                height: Height(height),
                round,
                pol_round: Round::Nil,
                proposer,
                block: bytes.to_vec(),
                signature: Signature([0; 64]),
            },
        };
        let value = proposed_value(&record);
        match self.store.put(record) {
            Ok(()) => Ok(SyncedValueOutcome::Verdict(value)),
            Err(e) => {
                tracing::error!(error = %e, "cannot keep a synced block");
                Ok(SyncedValueOutcome::LocalTransientError)
            }
        }
    }
}

fn proposed_value(r: &Record) -> ProposedValue<CivitasContext> {
    ProposedValue {
        height: Height(r.height),
        round: r.round,
        valid_round: r.pol_round,
        proposer: r.proposer,
        value: r.id,
        validity: Validity::from_bool(r.verdict == Verdict::Valid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_primitives::block::{validators_hash, Header};
    use civitas_primitives::certificate::verify_certificate;
    use civitas_primitives::{AccountId, Hash};
    use malachitebft_core_types::{Context, NilOrVal};
    use malachitebft_signing::Signer;

    fn header(validators: &[AccountId]) -> Header {
        Header {
            chain_id: "c".into(),
            height: 5,
            parent_hash: Hash([1; 32]),
            time_ms: 1,
            proposer: validators[0],
            tx_root: Hash([2; 32]),
            state_root: Hash([3; 32]),
            receipts_root: Hash([4; 32]),
            validators_hash: validators_hash(validators),
            next_validators_hash: validators_hash(validators),
        }
    }

    #[tokio::test]
    async fn the_engines_precommits_make_a_certificate_the_ledger_verifies() {
        let keys: Vec<_> = (0..4u8)
            .map(|i| civitas_primitives::crypto::Keypair::from_seed([i + 1; 32]))
            .collect();
        let set: Vec<AccountId> = keys.iter().map(|k| k.account()).collect();
        let header = header(&set);
        let id = BlockId::from(header.hash());
        let ctx = CivitasContext::new("c");
        let mut votes = Vec::new();
        for k in &keys[..3] {
            let signer = Ed25519Signer::new(k.clone(), "c");
            let vote = ctx.new_precommit(
                Height(5),
                Round::new(1),
                NilOrVal::Val(id),
                signer.address(),
            );
            votes.push(signer.sign_vote(vote).await.expect("signs"));
        }
        let engine = EngineCertificate::new(Height(5), Round::new(1), id, votes);
        let ours = to_ledger_certificate(&engine);
        assert_eq!(ours.signatures.len(), 3);
        verify_certificate(&header, &ours, &set).expect("a ledger certificate");
        // Served to a syncing peer and back: the same certificate.
        let back = to_ledger_certificate(&to_engine_certificate(&ours).trim_vote_extensions());
        assert_eq!(back, ours);
    }
}

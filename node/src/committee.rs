//! This node's part in the sealed-compute committee. After each block commits, a member runs
//! the block's sealed calls over the granted records (it holds the payloads and the chain
//! sealing key), keeps each result in its vault for the institution to fetch, and one block
//! later submits its attestations of the output hashes, so they land [`ATTESTATION_DELAY`]
//! blocks after the call whatever the call did and however long it ran. Nodes outside the
//! committee run none of this: they validate sealed calls' public effects alone.
//!
//! After a restart the worker goes back [`ATTESTATION_DELAY`] + 1 blocks, so a member that
//! stopped between computing and attesting still attests; it skips what it attested before.
//! A member that lacks a granted record's payload (it was down when the record was forwarded)
//! asks the committee's other nodes for it with a request signed by its validator key, checks
//! it against the committed record hash and keeps it; a call it still cannot run is skipped
//! (logged), and the other members' attestations carry it. A department named to the
//! committee by governance whose node lacks the chain sealing key obtains it the same way
//! (`vault_committeeSealingKey`, checked against the genesis `committee_key`) and keeps it in
//! `data_dir/sealing.key`.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use civitas_ledger::state::StateView;
use civitas_ledger::{is_sealed_call, Executor};
use civitas_primitives::committee::{SealedAttestation, ATTESTATION_DELAY, MAX_ATTESTATIONS};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, Transaction};
use tokio::sync::broadcast::error::RecvError;

use crate::service::Chain;

/// Where a node that joins the committee keeps the sealing key it was handed.
pub fn adopted_key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("sealing.key")
}

/// Starts the committee worker on its own thread if this node can be a member (a department
/// node with a vault); it acts for each of `keys` the committee names. `committee_key` is the
/// genesis committee transport key, which a sealing key handed over must match.
pub fn start(
    chain: Arc<Chain>,
    keys: Vec<Keypair>,
    runtime: tokio::runtime::Handle,
    data_dir: &Path,
    committee_key: Option<[u8; 32]>,
) -> anyhow::Result<()> {
    if chain.block_exec.vault().is_none() || keys.is_empty() {
        return Ok(());
    }
    let heads = chain.subscribe_heads();
    let mut worker = Worker::new(chain, keys, runtime);
    worker.key_file = adopted_key_file(data_dir);
    worker.committee_key = committee_key;
    std::thread::Builder::new()
        .name("sealed-committee".into())
        .spawn(move || worker.run(heads))?;
    Ok(())
}

struct Worker {
    chain: Arc<Chain>,
    keys: Vec<Keypair>,
    /// Runs the requests to other committee nodes.
    runtime: tokio::runtime::Handle,
    /// Output hashes computed, by the height of their calls' block, waiting to be attested.
    computed: BTreeMap<u64, Vec<SealedAttestation>>,
    /// The last height worked on.
    done: u64,
    /// Where a sealing key handed over is kept.
    key_file: PathBuf,
    /// The genesis committee transport key.
    committee_key: Option<[u8; 32]>,
}

impl Worker {
    fn new(chain: Arc<Chain>, keys: Vec<Keypair>, runtime: tokio::runtime::Handle) -> Self {
        let done = chain.head().height.saturating_sub(ATTESTATION_DELAY + 1);
        Worker {
            chain,
            keys,
            runtime,
            computed: BTreeMap::new(),
            done,
            key_file: PathBuf::new(),
            committee_key: None,
        }
    }

    fn run(mut self, mut heads: tokio::sync::broadcast::Receiver<civitas_rpc::HeadInfo>) {
        loop {
            self.catch_up();
            match heads.blocking_recv() {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    }

    /// Works through every height committed since the last one.
    fn catch_up(&mut self) {
        let head = self.chain.head().height;
        while self.done < head {
            let height = self.done + 1;
            if let Err(e) = self.step(height) {
                tracing::error!(height, error = %e, "the sealed-compute committee's work failed; retrying at the next block");
                return;
            }
            self.done = height;
        }
        self.chain.want_block(!self.computed.is_empty());
    }

    /// Runs block `height`'s sealed calls, and attests those of the block before.
    fn step(&mut self, height: u64) -> Result<(), civitas_ledger::ExecError> {
        let exec = &self.chain.block_exec;
        let view = StateView::new(exec.store().clone(), height);
        let committee = Executor::committee(&view)?;
        let members: Vec<&Keypair> = self
            .keys
            .iter()
            .filter(|k| committee.contains(&k.account()))
            .collect();
        if members.is_empty() {
            self.computed.clear();
            return Ok(());
        }
        if !exec.has_sealing_key() && !self.obtain_sealing_key(members[0]) {
            tracing::warn!(height, "this node is a committee member without the sealing key; its sealed calls wait for the key");
            return Ok(());
        }
        let block = exec.store().block(height)?;
        let mut outputs = Vec::new();
        let mut stored_outputs = Vec::new();
        for stx in block.iter().flat_map(|b| &b.txs) {
            if !is_sealed_call(&stx.tx.call) {
                continue;
            }
            let call = stx.hash();
            if let Some(job) = exec.sealed_job(&call, height)? {
                self.fetch_missing_payloads(members[0], &job);
            }
            match exec.run_sealed_job(&call, height) {
                Ok(Some((output_hash, stored))) => {
                    stored_outputs.push((call, stored));
                    outputs.push(SealedAttestation { call, output_hash });
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(call = %call, error = %e, "this member cannot run a committed sealed call; the other members' attestations must carry it")
                }
            }
        }
        // The block's results are kept in one durable write, before any of them is attested.
        if let Some(vault) = exec.vault() {
            vault
                .put_sealed_outputs(&stored_outputs)
                .map_err(|e| civitas_ledger::ExecError::Vm(e.to_string()))?;
        }
        if !outputs.is_empty() {
            tracing::debug!(height, calls = outputs.len(), "ran committed sealed calls");
            self.computed.insert(height, outputs);
        }
        let due = (height + 1).saturating_sub(ATTESTATION_DELAY);
        let ready: Vec<u64> = self.computed.range(..=due).map(|(h, _)| *h).collect();
        for h in ready {
            if let Some(list) = self.computed.remove(&h) {
                for key in &members {
                    self.attest(key, &list);
                }
            }
        }
        Ok(())
    }

    /// Obtains the chain sealing key from the committee's other nodes, checks it against the
    /// genesis committee key, keeps it in the key file and starts using it.
    fn obtain_sealing_key(&self, key: &Keypair) -> bool {
        use civitas_primitives::committee::SealingKeyFetch;
        use civitas_primitives::crypto::{committee_transport_secret, x25519_public, ReplyKey};
        use civitas_primitives::vault::Envelope;
        use parity_scale_codec::{DecodeAll, Encode};
        let Some(relay) = self.chain.relay() else {
            return false;
        };
        let reply = ReplyKey::generate();
        let request = key.sign_request(
            "vault_committeeSealingKey",
            SealingKeyFetch {
                reply_key: reply.public(),
            }
            .encode(),
            civitas_primitives::clock::now_ms(),
        );
        let request = civitas_rpc::to_hex(&request.encode());
        let Some(answer) = self.runtime.block_on(relay.committee_sealing_key(&request)) else {
            return false;
        };
        let Some(sealing) = civitas_rpc::from_hex(&answer)
            .ok()
            .and_then(|b| Envelope::decode_all(&mut &b[..]).ok())
            .and_then(|env| reply.open(&env))
            .and_then(|plain| <[u8; 32]>::try_from(plain.as_slice()).ok())
        else {
            tracing::error!("a committee node's answer with the sealing key does not open");
            return false;
        };
        if let Some(public) = self.committee_key {
            if x25519_public(&committee_transport_secret(&sealing)) != public {
                tracing::error!("a committee node handed over a sealing key that does not match the genesis committee_key; refused");
                return false;
            }
        }
        if let Err(e) = write_key_file(&self.key_file, &sealing) {
            tracing::error!(error = %e, file = %self.key_file.display(), "keeping the sealing key failed");
            return false;
        }
        self.chain.block_exec.adopt_sealing_key(sealing);
        tracing::info!(
            "joined the sealed-compute committee: the chain sealing key was handed over"
        );
        true
    }

    /// Copies the payloads of `job`'s granted records that this node lacks from the
    /// committee's other nodes, keeping those that match their committed hashes.
    fn fetch_missing_payloads(&self, key: &Keypair, job: &civitas_ledger::SealedJob) {
        use civitas_primitives::committee::RecordsFetch;
        use civitas_primitives::crypto::ReplyKey;
        use civitas_primitives::vault::{Envelope, Record};
        use parity_scale_codec::{Decode, DecodeAll, Encode};
        let (Some(vault), Some(relay)) = (self.chain.block_exec.vault(), self.chain.relay()) else {
            return;
        };
        let missing: Vec<civitas_primitives::Hash> = job
            .grants
            .iter()
            .map(|(_, h)| *h)
            .filter(|h| matches!(vault.has_record(h), Ok(false)))
            .collect();
        if missing.is_empty() {
            return;
        }
        let reply = ReplyKey::generate();
        let body = RecordsFetch {
            records: missing.clone(),
            reply_key: reply.public(),
        }
        .encode();
        let request = key.sign_request(
            "vault_committeeRecords",
            body,
            civitas_primitives::clock::now_ms(),
        );
        let request = civitas_rpc::to_hex(&request.encode());
        let Some(answer) = self.runtime.block_on(relay.committee_records(&request)) else {
            return;
        };
        let records = civitas_rpc::from_hex(&answer)
            .ok()
            .and_then(|b| Envelope::decode_all(&mut &b[..]).ok())
            .and_then(|env| reply.open(&env))
            .and_then(|plain| Vec::<Record>::decode(&mut &plain[..]).ok())
            .unwrap_or_default();
        let wanted: Vec<Record> = records
            .into_iter()
            .filter(|r| missing.contains(&r.hash()))
            .collect();
        tracing::info!(
            missing = missing.len(),
            copied = wanted.len(),
            "copied record payloads this member lacked from the committee"
        );
        if let Err(e) = vault.put_records(&wanted) {
            tracing::error!(error = %e, "keeping copied record payloads failed");
        }
    }

    /// Submits `key`'s attestations of `list` (those it has not made yet) to the pool and
    /// forwards them to the peers.
    fn attest(&self, key: &Keypair, list: &[SealedAttestation]) {
        let account = key.account();
        let Ok((_, view)) = self.chain.block_exec.head_view() else {
            return;
        };
        let fresh: Vec<SealedAttestation> = list
            .iter()
            .filter(|a| {
                view.get(&civitas_ledger::state::keys::sealed_attestation(
                    &a.call, &account,
                ))
                .map(|v| v.is_none())
                .unwrap_or(false)
            })
            .cloned()
            .collect();
        for chunk in fresh.chunks(MAX_ATTESTATIONS) {
            let tx = key.sign_tx(Transaction {
                chain_id: self.chain.block_exec.params().chain_id.clone(),
                signer: account,
                nonce: self.chain.next_nonce(&account),
                fuel_limit: civitas_ledger::fuel::ATTESTATION * chunk.len() as u64,
                call: Call::AttestSealedOutputs {
                    attestations: chunk.to_vec(),
                },
            });
            let encoded = civitas_rpc::to_hex(&parity_scale_codec::Encode::encode(&tx));
            match self.chain.submit(tx) {
                Ok(hash) => {
                    tracing::debug!(tx = %hash, attestations = chunk.len(), "attested sealed outputs");
                    if let Some(relay) = self.chain.relay() {
                        relay.transactions(vec![encoded]);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "an attestation of sealed outputs was refused")
                }
            }
        }
    }
}

/// Writes a 32-byte key as hex, readable by its owner only, durably; a crash leaves the old
/// file or the whole new one, never a truncated key the next start cannot read.
fn write_key_file(path: &Path, key: &[u8; 32]) -> std::io::Result<()> {
    use civitas_ledger::secret_file::{write, Existing, Step};
    write(
        path,
        hex::encode(key).as_bytes(),
        Existing::Replace,
        |step| match step {
            Step::TempCreated => civitas_crash::crash_point!("sealing_key.temp_created"),
            Step::TempWritten => civitas_crash::crash_point!("sealing_key.temp_written"),
            Step::Renamed => civitas_crash::crash_point!("sealing_key.renamed"),
        },
    )
}

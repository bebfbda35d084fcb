//! Headers the CLI believes: a trust root (the chain id and the validator set of its first
//! block) pinned on first use, each header's commit certificate checked against the validators
//! of its height, and validator-set changes followed through the `next_validators_hash` of the
//! header that announced them, by the light-client rule the browser wallet runs too
//! (`primitives::light::verify_steps`).
//!
//! Like every skipping light client, this trusts that a validator set which once held a quorum
//! does not later sign a conflicting history.
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use civitas_primitives::block::{validators_hash, Block, CommitCertificate, Header};
use civitas_primitives::light::{verify_steps, LightStep};
use civitas_primitives::{AccountId, Hash};
use civitas_rpc::{from_hex, hex32, to_hex, ChainApiClient, SystemApiClient};
use parity_scale_codec::DecodeAll;
use serde::{Deserialize, Serialize};

use crate::client::Client;

/// The most validator-set changes followed back to the trust root for one header.
const MAX_SET_CHANGES: usize = 10_000;

/// What the CLI trusts about a chain without asking a node: its id and first validator set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustRoot {
    /// Chain id.
    pub chain_id: String,
    /// The validators of height 1 (the genesis set), hex, sorted.
    pub validators: Vec<String>,
    /// Their hash, as headers commit to it.
    pub hash: String,
}

/// The directory of pinned trust roots: `CIVITAS_TRUST_DIR`, else `~/.civitas/trust`.
pub fn trust_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CIVITAS_TRUST_DIR") {
        return PathBuf::from(d);
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".civitas")
        .join("trust")
}

fn parse_set(hexes: &[String]) -> Result<Vec<AccountId>> {
    hexes
        .iter()
        .map(|h| {
            hex32(h)
                .map(AccountId)
                .map_err(|e| anyhow!("validator id: {e}"))
        })
        .collect()
}

/// Checks headers of one chain against its pinned trust root.
pub struct HeaderVerifier<'a> {
    client: &'a Client,
    root_hash: Hash,
    chain_id: String,
    file: PathBuf,
}

impl<'a> HeaderVerifier<'a> {
    /// Loads the trust root of the node's chain, pinning it on first use (and saying so on
    /// stderr, with the hash to compare).
    pub fn new(client: &'a Client) -> Result<Self> {
        let chain_id = client.call(client.rpc().health())?.chain_id;
        let file = trust_dir().join(format!("{}.json", sanitize(&chain_id)));
        let root = if file.exists() {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            serde_json::from_str::<TrustRoot>(&text)
                .with_context(|| format!("parsing the trust root {}", file.display()))?
        } else {
            let info = client.call(client.rpc().get_validators(Some(1)))?;
            let set = parse_set(&info.validators)?;
            let root = TrustRoot {
                chain_id: chain_id.clone(),
                validators: info.validators.clone(),
                hash: to_hex(&validators_hash(&set).0),
            };
            std::fs::create_dir_all(trust_dir())
                .with_context(|| format!("creating {}", trust_dir().display()))?;
            // Written whole and renamed into place, so a concurrent reader never sees half.
            let tmp = file.with_extension(format!("json.{}", std::process::id()));
            std::fs::write(&tmp, serde_json::to_string_pretty(&root)?)
                .with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, &file).with_context(|| format!("writing {}", file.display()))?;
            eprintln!(
                "pinned the trust root of chain `{chain_id}`: {} validators, set hash {} ({}); compare the hash with the one your department publishes",
                root.validators.len(),
                root.hash,
                file.display()
            );
            root
        };
        if root.chain_id != chain_id {
            bail!(
                "the trust root in {} is for chain `{}`, the node serves `{chain_id}`",
                file.display(),
                root.chain_id
            );
        }
        let set = parse_set(&root.validators)?;
        let root_hash = validators_hash(&set);
        if to_hex(&root_hash.0) != root.hash {
            bail!(
                "the trust root in {} does not match its own validator list",
                file.display()
            );
        }
        Ok(HeaderVerifier {
            client,
            root_hash,
            chain_id,
            file,
        })
    }

    /// The block at `height` with its certificate checked: signed by a quorum of the validators
    /// of that height, a set that follows from the trust root.
    pub fn verified_block(&self, height: u64) -> Result<Block> {
        let mut pending = vec![height];
        // Walk back through the set changes to a set the trust root vouches for; the shared
        // light-client rule ([`verify_steps`]) then checks forward: each change must be
        // announced by an already verified header.
        let mut chain: Vec<(Block, LightStep)> = Vec::new();
        while let Some(h) = pending.pop() {
            if chain.len() > MAX_SET_CHANGES {
                bail!("more than {MAX_SET_CHANGES} validator-set changes to follow");
            }
            let (block, certificate) = self.block_and_certificate(h)?;
            let info = self
                .client
                .call(self.client.rpc().get_validators(Some(h)))?;
            let validators = parse_set(&info.validators)?;
            let trusted = validators_hash(&validators) == self.root_hash;
            if !trusted {
                if info.since < 2 {
                    bail!(
                        "the chain's first validator set ({}) is not the pinned trust root in {}: this node serves another chain under the id `{}`, or the chain was created anew (then delete that file)",
                        info.hash,
                        self.file.display(),
                        self.chain_id
                    );
                }
                if info.since > h {
                    bail!(
                        "the node says the validators of height {h} took effect at height {}, which cannot be",
                        info.since
                    );
                }
                pending.push(info.since - 1);
            }
            let step = LightStep {
                header: block.header.clone(),
                certificate,
                validators,
            };
            chain.push((block, step));
        }
        chain.reverse();
        let steps: Vec<LightStep> = chain.iter().map(|(_, s)| s.clone()).collect();
        verify_steps(&self.chain_id, &[self.root_hash], &steps).map_err(|e| anyhow!("{e}"))?;
        chain
            .pop()
            .filter(|(b, _)| b.header.height == height)
            .map(|(b, _)| b)
            .ok_or_else(|| anyhow!("block {height} was not verified"))
    }

    /// The verified header at `height`.
    pub fn verified_header(&self, height: u64) -> Result<Header> {
        Ok(self.verified_block(height)?.header)
    }

    fn block_and_certificate(&self, height: u64) -> Result<(Block, CommitCertificate)> {
        let info = self
            .client
            .call(self.client.rpc().get_block(Some(height)))?;
        let raw = from_hex(&info.raw).map_err(|e| anyhow!(e))?;
        let block = Block::decode_all(&mut &raw[..])
            .map_err(|_| anyhow!("block {height} does not decode"))?;
        if block.header.height != height || block.header.chain_id != self.chain_id {
            bail!("the node returned another block for height {height}");
        }
        let cert_hex = info
            .certificate
            .ok_or_else(|| anyhow!("block {height} has no certificate"))?;
        let cert_bytes = from_hex(&cert_hex).map_err(|e| anyhow!(e))?;
        let cert = CommitCertificate::decode_all(&mut &cert_bytes[..])
            .map_err(|_| anyhow!("block {height}'s certificate does not decode"))?;
        Ok((block, cert))
    }
}

/// A chain id as a file name.
fn sanitize(chain_id: &str) -> String {
    chain_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

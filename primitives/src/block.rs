//! Blocks, headers, receipts and commit certificates.
use alloc::string::String;
use alloc::vec::Vec;
use parity_scale_codec::{Decode, Encode};
use scale_info::TypeInfo;

use crate::merkle::merkle_root;
use crate::tx::SignedTransaction;
use crate::{sha3_256, AccountId, Hash};

/// Signing domain of block votes (commit signatures).
pub const VOTE_DOMAIN: &[u8] = b"civitas/vote/v2";

/// Hashing domain of a validator set.
pub const VALIDATORS_DOMAIN: &[u8] = b"civitas/validators/v1";

/// A block header: everything a light client needs to check proofs against.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Header {
    /// Chain id.
    pub chain_id: String,
    /// Height; the genesis state is height 0, the first block height 1.
    pub height: u64,
    /// Hash of the parent header (zeros for height 1).
    pub parent_hash: Hash,
    /// Proposer's block time, milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Proposing validator.
    pub proposer: AccountId,
    /// Merkle root of the transaction hashes.
    pub tx_root: Hash,
    /// Root of the authenticated state after this block.
    pub state_root: Hash,
    /// Merkle root of the encoded receipts.
    pub receipts_root: Hash,
    /// [`validators_hash`] of the validators who decide this height.
    pub validators_hash: Hash,
    /// [`validators_hash`] of the validators who decide the next height, so a client that
    /// trusts this header can follow a change of the set.
    pub next_validators_hash: Hash,
}

impl Header {
    /// The block hash: sha3-256 of the encoded header.
    pub fn hash(&self) -> Hash {
        sha3_256(&self.encode())
    }
}

/// A block: header and transactions.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Block {
    /// Header.
    pub header: Header,
    /// Transactions in execution order.
    pub txs: Vec<SignedTransaction>,
}

/// The transaction root of `txs`.
pub fn tx_root(txs: &[SignedTransaction]) -> Hash {
    let hashes: Vec<Hash> = txs.iter().map(|t| t.hash()).collect();
    merkle_root(&hashes)
}

/// An event topic as people read it: the text when it is printable UTF-8, else `0x` hex.
pub fn topic_text(topic: &[u8]) -> String {
    match core::str::from_utf8(topic) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => s.into(),
        _ => {
            let mut out = String::from("0x");
            for b in topic {
                out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
                out.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
            }
            out
        }
    }
}

/// The topic bytes that [`topic_text`] shows as `text`: the hex it shows for a topic that is
/// not plain text, else the text's own bytes. (A text topic spelled like such hex, e.g.
/// `0xab`, reads as the bytes; event names never are.)
pub fn topic_from_text(text: &str) -> Vec<u8> {
    if let Some(hex) = text.strip_prefix("0x") {
        if hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                .collect();
            if topic_text(&bytes) == text {
                return bytes;
            }
        }
    }
    text.as_bytes().to_vec()
}

/// The receipts root of `receipts`.
pub fn receipts_root(receipts: &[Receipt]) -> Hash {
    let encoded: Vec<Vec<u8>> = receipts.iter().map(|r| r.encode()).collect();
    merkle_root(&encoded)
}

/// The message a validator signs to commit a block:
/// `sha3_256(VOTE_DOMAIN || chain_id || height || round || hash)` (SCALE-encoded fields).
pub fn vote_message(chain_id: &str, height: u64, round: u32, block_hash: &Hash) -> Hash {
    let mut bytes = VOTE_DOMAIN.to_vec();
    chain_id.encode_to(&mut bytes);
    height.encode_to(&mut bytes);
    round.encode_to(&mut bytes);
    bytes.extend_from_slice(&block_hash.0);
    sha3_256(&bytes)
}

/// The hash a header commits to for a validator set: `sha3_256(VALIDATORS_DOMAIN || set)`
/// over the set sorted and without repeats, so the order a caller holds it in does not matter.
pub fn validators_hash(validators: &[AccountId]) -> Hash {
    let set = canonical_set(validators);
    let mut bytes = VALIDATORS_DOMAIN.to_vec();
    set.encode_to(&mut bytes);
    sha3_256(&bytes)
}

/// `validators` sorted, without repeats.
pub fn canonical_set(validators: &[AccountId]) -> Vec<AccountId> {
    let mut set = validators.to_vec();
    set.sort();
    set.dedup();
    set
}

/// The smallest number of distinct validators of a set of `n` that is more than two thirds.
pub fn quorum(n: usize) -> usize {
    n * 2 / 3 + 1
}

/// Signatures of validators on a block: the proof it was decided.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct CommitCertificate {
    /// Height.
    pub height: u64,
    /// Consensus round in which the block was decided.
    pub round: u32,
    /// Hash of the committed header.
    pub block_hash: Hash,
    /// (validator, signature over [`vote_message`]).
    pub signatures: Vec<(AccountId, [u8; 64])>,
}

/// An event as recorded in a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct EventRecord {
    /// Emitting contract (or the zero account for chain events).
    pub contract: AccountId,
    /// Topic.
    pub topic: Vec<u8>,
    /// SCALE-encoded data.
    pub data: Vec<u8>,
}

/// Whether a transaction's call succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum ReceiptStatus {
    /// The call's effects were applied.
    Success,
    /// The call failed: its effects were undone, its nonce and fuel consumed.
    Failed,
}

/// Why a call failed, as consensus records it: a stable code and, for `reverted`, the
/// contract's own revert data. Never text produced by the node or a dependency (a wasmtime or
/// wasmparser message could differ between two honest nodes); people get messages made
/// off-consensus from the code.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ReceiptError {
    /// Stable code, e.g. `out_of_fuel`, `reverted`, `not_permitted`.
    pub code: String,
    /// The contract's revert data when `code` is `reverted` (empty otherwise).
    pub revert_data: Vec<u8>,
}

/// The outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct Receipt {
    /// Transaction hash.
    pub tx_hash: Hash,
    /// Success or failure.
    pub status: ReceiptStatus,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// Events (empty on failure).
    pub events: Vec<EventRecord>,
    /// sha3-256 of the call output (zeros when there is none).
    pub output_hash: Hash,
    /// The call output, for non-sealed calls.
    pub output: Vec<u8>,
    /// Why it failed.
    pub error: Option<ReceiptError>,
}

#[cfg(test)]
mod tests {
    //! Topics as receipts show them, and back.
    use super::*;

    #[test]
    fn a_topic_shown_as_text_or_hex_reads_back_as_the_same_bytes() {
        let topics: [&[u8]; 6] = [
            b"Transfer",
            b"",
            &[0xff, 0x00, 0x10],
            b"0xnot hex",
            b"0x41",
            &[0x30, 0x78, 0x0a],
        ];
        for topic in topics {
            let shown = topic_text(topic);
            assert_eq!(topic_from_text(&shown), topic.to_vec(), "{shown}");
        }
        assert_eq!(topic_text(&[0xff, 0x00]), "0xff00");
        assert_eq!(topic_from_text("0xff00"), vec![0xff, 0x00]);
        // Text that reads as the hex of a topic that is not text is that topic.
        assert_eq!(topic_from_text("0xab"), vec![0xab]);
    }
}

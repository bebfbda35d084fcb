//! The wire and WAL encoding of everything the engine sends, stores or syncs: borsh, through
//! the engine's own `borsh` implementations of its generic messages and ours of the
//! [`CivitasContext`] types. Blocks inside proposal parts and synced values stay SCALE, the
//! ledger's encoding.
use bytes::Bytes;
use malachitebft_codec::{Codec, HasEncodedLen};
use malachitebft_core_consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_core_types::{
    ExtendedCommitCertificate, ExtendedCommitSignature, PolkaCertificate, Round, SignedMessage,
    ValidatorProof,
};
use malachitebft_engine::util::streaming::StreamMessage;
use malachitebft_sync::{RawDecidedValue, Request, Response, Status, ValueResponse};
use thiserror::Error;

use super::signing::Signature;
use super::types::{Address, BlockId, CivitasContext, Height, ProposalPart};

/// Bytes that do not decode as the message expected.
#[derive(Debug, Error)]
#[error("consensus message encoding: {0}")]
pub struct CodecError(#[from] std::io::Error);

/// The borsh codec of the Civitas consensus messages.
#[derive(Clone, Copy, Debug, Default)]
pub struct BorshCodec;

macro_rules! borsh_codec {
    ($($t:ty),* $(,)?) => {$(
        impl Codec<$t> for BorshCodec {
            type Error = CodecError;

            fn decode(&self, bytes: Bytes) -> Result<$t, CodecError> {
                Ok(borsh::from_slice(&bytes)?)
            }

            fn encode(&self, msg: &$t) -> Result<Bytes, CodecError> {
                Ok(Bytes::from(borsh::to_vec(msg)?))
            }
        }
    )*};
}

borsh_codec!(
    ProposalPart,
    SignedConsensusMsg<CivitasContext>,
    LivenessMsg<CivitasContext>,
    StreamMessage<ProposalPart>,
    ProposedValue<CivitasContext>,
    PolkaCertificate<CivitasContext>,
    Status<CivitasContext>,
    Request<CivitasContext>,
);

/// A commit signature on the wire: (validator, signature, vote extension).
type WireSignature = (
    Address,
    Signature,
    Option<SignedMessage<CivitasContext, Vec<u8>>>,
);
/// A decided value on the wire: (SCALE block, (height, round, block, signatures)).
type WireDecided = (Vec<u8>, (Height, Round, BlockId, Vec<WireSignature>));
/// A sync response on the wire: (first height, decided values).
type WireResponse = (Height, Vec<WireDecided>);

/// The engine implements no `borsh` for its extended certificates in 0.8.2, so a sync
/// response goes through the tuple form above.
fn wire_response(msg: &Response<CivitasContext>) -> WireResponse {
    let Response::ValueResponse(r) = msg;
    (
        r.start_height,
        r.values
            .iter()
            .map(|v| {
                let c = &v.certificate;
                (
                    v.value_bytes.to_vec(),
                    (
                        c.height,
                        c.round,
                        c.value_id,
                        c.commit_signatures
                            .iter()
                            .map(|s| (s.address, s.signature, s.extension.clone()))
                            .collect(),
                    ),
                )
            })
            .collect(),
    )
}

impl Codec<Response<CivitasContext>> for BorshCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<Response<CivitasContext>, CodecError> {
        let (start_height, values): WireResponse = borsh::from_slice(&bytes)?;
        Ok(Response::ValueResponse(ValueResponse {
            start_height,
            values: values
                .into_iter()
                .map(
                    |(value_bytes, (height, round, value_id, sigs))| RawDecidedValue {
                        value_bytes: Bytes::from(value_bytes),
                        certificate: ExtendedCommitCertificate {
                            height,
                            round,
                            value_id,
                            commit_signatures: sigs
                                .into_iter()
                                .map(|(a, s, e)| ExtendedCommitSignature::new(a, s, e))
                                .collect(),
                        },
                    },
                )
                .collect(),
        }))
    }

    fn encode(&self, msg: &Response<CivitasContext>) -> Result<Bytes, CodecError> {
        Ok(Bytes::from(borsh::to_vec(&wire_response(msg))?))
    }
}

impl HasEncodedLen<Response<CivitasContext>> for BorshCodec {
    fn encoded_len(&self, msg: &Response<CivitasContext>) -> Result<usize, CodecError> {
        Ok(borsh::object_length(&wire_response(msg))?)
    }
}

/// The validator proof as (public key, peer id, signature).
impl Codec<ValidatorProof<CivitasContext>> for BorshCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ValidatorProof<CivitasContext>, CodecError> {
        let (public_key, peer_id, signature): (Vec<u8>, Vec<u8>, Signature) =
            borsh::from_slice(&bytes)?;
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }

    fn encode(&self, msg: &ValidatorProof<CivitasContext>) -> Result<Bytes, CodecError> {
        Ok(Bytes::from(borsh::to_vec(&(
            &msg.public_key,
            &msg.peer_id,
            &msg.signature,
        ))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::malachite::types::Vote;
    use malachitebft_core_types::{NilOrVal, VoteType};

    #[test]
    fn votes_and_sync_responses_survive_the_wire() {
        let vote = SignedMessage::new(
            Vote {
                vote_type: VoteType::Precommit,
                height: Height(3),
                round: Round::new(2),
                value: NilOrVal::Val(BlockId([5; 32])),
                validator: Address([6; 32]),
            },
            Signature([7; 64]),
        );
        let msg = SignedConsensusMsg::<CivitasContext>::Vote(vote);
        let bytes = BorshCodec.encode(&msg).expect("encodes");
        let decoded: SignedConsensusMsg<CivitasContext> =
            BorshCodec.decode(bytes).expect("decodes");
        assert_eq!(decoded, msg);

        let response = Response::<CivitasContext>::ValueResponse(ValueResponse {
            start_height: Height(3),
            values: vec![RawDecidedValue {
                value_bytes: Bytes::from_static(b"block"),
                certificate: ExtendedCommitCertificate {
                    height: Height(3),
                    round: Round::new(0),
                    value_id: BlockId([5; 32]),
                    commit_signatures: vec![ExtendedCommitSignature::new(
                        Address([6; 32]),
                        Signature([7; 64]),
                        None,
                    )],
                },
            }],
        });
        let bytes = BorshCodec.encode(&response).expect("encodes");
        assert_eq!(BorshCodec.encoded_len(&response).expect("len"), bytes.len());
        let decoded: Response<CivitasContext> = BorshCodec.decode(bytes).expect("decodes");
        assert_eq!(decoded, response);
    }
}

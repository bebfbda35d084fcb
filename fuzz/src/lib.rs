//! Fixtures the fuzz targets and the seed generator share: a fixed dev validator set, real
//! signed transactions, headers with real commit certificates, real Jellyfish Merkle proofs
//! from an in-memory tree, envelopes and signed requests under fixed keys. Everything is
//! deterministic, so the committed seed corpora regenerate byte for byte
//! (`cargo run --bin seeds` in `fuzz/`).
use std::sync::OnceLock;

use civitas_primitives::abi::{AbiType, HOST_FUNCTIONS, HOST_MODULE};
use civitas_primitives::block::{validators_hash, vote_message, CommitCertificate, Header};
use civitas_primitives::crypto::{seal_private_call, x25519_public, Keypair};
use civitas_primitives::dev::{dev_access_key, DEV_CHAIN_ID};
use civitas_primitives::proof::{key_hash, Sha3Hasher, StateProof};
use civitas_primitives::tx::{Call, SignedTransaction, Transaction};
use civitas_primitives::vault::{DeclaredRead, Envelope, Field, FieldType, SignedRequest};
use civitas_primitives::{sha3_256, AccountId, Hash};
use jmt::mock::MockTreeStore;
use jmt::JellyfishMerkleTree;

/// The dev chain's validators (the dev accounts with the validator role).
pub const VALIDATOR_NAMES: [&str; 4] = ["tax", "social-security", "civil-affairs", "real-estate"];

/// The validators' keys, in [`VALIDATOR_NAMES`] order.
pub fn validator_keys() -> Vec<Keypair> {
    VALIDATOR_NAMES.iter().map(|n| Keypair::dev(n)).collect()
}

/// The validators' account ids, in [`VALIDATOR_NAMES`] order.
pub fn validator_set() -> Vec<AccountId> {
    validator_keys().iter().map(Keypair::account).collect()
}

/// A header of the dev chain at `height`, committing to the dev validator set.
pub fn header(height: u64) -> Header {
    let set = validator_set();
    Header {
        chain_id: DEV_CHAIN_ID.into(),
        height,
        parent_hash: Hash([1; 32]),
        time_ms: 1_764_000_000_000,
        proposer: set[0],
        tx_root: Hash([2; 32]),
        state_root: Hash([3; 32]),
        receipts_root: Hash([4; 32]),
        validators_hash: validators_hash(&set),
        next_validators_hash: validators_hash(&set),
    }
}

/// The certificate `signers` (indices into [`validator_keys`]) give `header` in `round`.
pub fn certificate(header: &Header, signers: &[usize], round: u32) -> CommitCertificate {
    let keys = validator_keys();
    let block_hash = header.hash();
    let message = vote_message(&header.chain_id, header.height, round, &block_hash);
    CommitCertificate {
        height: header.height,
        round,
        block_hash,
        signatures: signers
            .iter()
            .filter_map(|i| keys.get(*i))
            .map(|k| (k.account(), k.sign_hash(&message)))
            .collect(),
    }
}

/// The secret of the fixed x25519 key the envelope target opens with.
pub fn envelope_secret() -> [u8; 32] {
    sha3_256(b"civitas/fuzz/envelope-key").0
}

/// A fixed envelope to [`envelope_secret`]'s public key, sealed with a fixed sender key and
/// nonce (so it is deterministic), holding `plaintext`.
pub fn envelope(plaintext: &[u8]) -> Envelope {
    use crypto_box::aead::Aead;
    let sender_secret = crypto_box::SecretKey::from(sha3_256(b"civitas/fuzz/envelope-sender").0);
    let recipient = crypto_box::PublicKey::from(x25519_public(&envelope_secret()));
    let nonce = [7u8; 24];
    let ciphertext = crypto_box::ChaChaBox::new(&recipient, &sender_secret)
        .encrypt(&nonce.into(), plaintext)
        .expect("sealing a fixed plaintext");
    Envelope {
        sender_key: *sender_secret.public_key().as_bytes(),
        nonce,
        ciphertext,
    }
}

/// A signed request by the dev account `alice`, with a fixed nonce.
pub fn signed_request(method: &str, body: Vec<u8>) -> SignedRequest {
    let key = Keypair::dev("alice");
    let mut req = SignedRequest {
        method: method.into(),
        body,
        signer: key.account(),
        issued_ms: 1_764_000_000_000,
        nonce: 42,
        signature: [0; 64],
    };
    req.signature = key.sign_hash(&req.signing_hash());
    req
}

/// Real signed transactions of several call kinds, one of them private (sealed to the dev
/// chain's access key).
pub fn sample_transactions() -> Vec<SignedTransaction> {
    let bank = Keypair::dev("bank-a");
    let tax = Keypair::dev("tax");
    let tx = |signer: &Keypair, nonce: u64, call: Call| Transaction {
        chain_id: DEV_CHAIN_ID.into(),
        signer: signer.account(),
        nonce,
        fuel_limit: 1_000_000,
        call,
    };
    let mut out = vec![
        bank.sign_tx(tx(
            &bank,
            0,
            Call::Transfer {
                to: tax.account(),
                amount: 5,
            },
        )),
        bank.sign_tx(tx(
            &bank,
            1,
            Call::Call {
                contract: AccountId([9; 32]),
                input: vec![1, 2, 3, 4, 5],
            },
        )),
        tax.sign_tx(tx(
            &tax,
            0,
            Call::RegisterDataset {
                id: "tax.annual_income".into(),
                fields: vec![
                    Field {
                        name: "year".into(),
                        ty: FieldType::U32,
                    },
                    Field {
                        name: "income".into(),
                        ty: FieldType::U128,
                    },
                ],
                price: 10,
            },
        )),
        bank.sign_tx(tx(
            &bank,
            2,
            Call::SealedCall {
                contract: AccountId([9; 32]),
                input: vec![0xaa; 8],
                reads: vec![DeclaredRead {
                    subject: Hash([5; 32]),
                    dataset: "tax.annual_income".into(),
                }],
            },
        )),
    ];
    let access = x25519_public(&dev_access_key(DEV_CHAIN_ID));
    let private = tx(&bank, 3, Call::Disclose { consent: 1 });
    if let Some(sealed) = seal_private_call(private, &access, &bank) {
        out.push(bank.sign_tx(sealed));
    }
    out
}

/// The root of an in-memory Jellyfish Merkle tree holding `entries` at version 0, and a
/// proof for each of `queries` (present or absent) against it.
pub fn prove(entries: &[(Vec<u8>, Vec<u8>)], queries: &[Vec<u8>]) -> (Hash, Vec<StateProof>) {
    let store = MockTreeStore::default();
    let tree = JellyfishMerkleTree::<_, Sha3Hasher>::new(&store);
    let (root, batch) = tree
        .put_value_set(
            entries.iter().map(|(k, v)| (key_hash(k), Some(v.clone()))),
            0,
        )
        .expect("in-memory tree write");
    store
        .write_tree_update_batch(batch)
        .expect("in-memory tree write");
    let proofs = queries
        .iter()
        .map(|key| {
            let (value, proof) = tree
                .get_with_proof(key_hash(key), 0)
                .expect("in-memory proof");
            StateProof {
                key: key.clone(),
                value,
                version: 0,
                proof: borsh::to_vec(&proof).expect("borsh encoding of a proof"),
            }
        })
        .collect();
    (Hash(root.0), proofs)
}

/// A module importing every host function with its ABI signature, for wasm-smith's
/// `available_imports`.
fn host_imports() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let ty = |t: &AbiType| match t {
            AbiType::I32 => "i32",
            AbiType::I64 => "i64",
        };
        let mut text = String::from("(module\n");
        for f in HOST_FUNCTIONS {
            let params: Vec<&str> = f.params.iter().map(ty).collect();
            let results: Vec<&str> = f.results.iter().map(ty).collect();
            text.push_str(&format!(
                "  (import \"{HOST_MODULE}\" \"{}\" (func (param {}) (result {})))\n",
                f.name,
                params.join(" "),
                results.join(" ")
            ));
        }
        text.push(')');
        wat::parse_str(&text).expect("the host import module parses")
    })
}

/// The exports every contract must have, for wasm-smith's `exports`.
fn contract_exports() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        wat::parse_str(
            r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call")))"#,
        )
        .expect("the export module parses")
    })
}

/// wasm-smith generating modules shaped like contracts: WebAssembly 1.0 without floats,
/// importing only host functions of module `civitas` with their ABI signatures, exporting
/// `memory`, `deploy` and `call`.
pub fn contract_smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        available_imports: Some(host_imports().to_vec()),
        exports: Some(contract_exports().to_vec()),
        allow_floats: false,
        allow_start_export: false,
        bulk_memory_enabled: false,
        exceptions_enabled: false,
        extended_const_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        multi_value_enabled: false,
        reference_types_enabled: false,
        relaxed_simd_enabled: false,
        saturating_float_to_int_enabled: false,
        sign_extension_ops_enabled: false,
        simd_enabled: false,
        tail_call_enabled: false,
        threads_enabled: false,
        // The one memory is the exported `memory` that `exports` adds on top of these.
        max_memories: 0,
        max_tables: 1,
        max_memory32_bytes: 128 * 65536,
        max_imports: 64,
        ..wasm_smith::Config::default()
    }
}

/// The JSON-RPC methods that take parameters (every one in `civitas_rpc::api` but
/// `chain_getHead`, `chain_getAccessKey`, `chain_subscribeNewHeads`, `system_*` and
/// `vault_listDatasets`), in the order the `rpc_params` target's first byte picks them.
pub const RPC_METHODS: &[&str] = &[
    "chain_getBlock",
    "chain_getValidators",
    "chain_getAccount",
    "chain_getEvents",
    "chain_subscribeEvents",
    "tx_submit",
    "tx_submitBatch",
    "tx_status",
    "tx_getReceipt",
    "tx_getReceipts",
    "contract_query",
    "contract_dryRun",
    "contract_getMetadata",
    "state_getProof",
    "vault_putRecords",
    "vault_putSealedRecords",
    "vault_getDataset",
    "vault_getLatestVersions",
    "vault_getCommitments",
    "vault_fetchDisclosed",
    "vault_getSealedOutput",
    "vault_getSealedOutcome",
    "vault_committeeRecords",
    "vault_committeeSealingKey",
    "consent_list",
    "audit_listBySubject",
    "audit_listByInstitution",
    "credits_getBalance",
];

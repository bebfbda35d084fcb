//! Writes the seed corpora under `fuzz/corpus/TARGET/` from real encodings: signed
//! transactions, a block and a header with a quorum certificate of the dev validators, real
//! Jellyfish Merkle proofs, an envelope and a signed request under the fixed keys, record
//! payloads, contract modules, metadata-guided encoding inputs. Deterministic: running it again rewrites the same bytes.
//!
//! Run from `fuzz/`: `cargo run --bin seeds` (any toolchain; no instrumentation needed).
use std::fs;
use std::path::Path;

use civitas_fuzz::{certificate, envelope, header, prove, sample_transactions, signed_request};
use civitas_primitives::block::Block;
use civitas_primitives::vault::{Dataset, Field, FieldType, SealedFetch};
use civitas_primitives::{AccountId, Hash};
use parity_scale_codec::Encode;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("create the corpus directory");
    fs::write(dir.join(name), bytes).expect("write a seed");
}

fn with_mode(mode: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![mode];
    out.extend_from_slice(bytes);
    out
}

/// A `vm` input: flags, fuel limit (`1_000 + 32 × fuel`), call input, module bytes (or
/// wasm-smith randomness).
fn vm_input(flags: u8, fuel: u16, input: &[u8], module: &[u8]) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&fuel.to_le_bytes());
    let len = u16::try_from(input.len()).expect("a short seed input");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(input);
    out.extend_from_slice(module);
    out
}

/// Contracts for the `vm` target that reach each host path: storage, events, hashing,
/// signatures, nested and re-entrant calls, sealed reads, and each way a call fails.
fn vm_seeds() {
    const IMPORTS: &str = r#"
  (import "civitas" "input_len" (func $input_len (result i32)))
  (import "civitas" "input_read" (func $input_read (param i32)))
  (import "civitas" "set_return" (func $ret (param i32 i32)))
  (import "civitas" "revert" (func $revert (param i32 i32)))
  (import "civitas" "storage_read" (func $sget (param i32 i32 i32 i32) (result i32)))
  (import "civitas" "storage_write" (func $sset (param i32 i32 i32 i32)))
  (import "civitas" "storage_remove" (func $sdel (param i32 i32)))
  (import "civitas" "caller" (func $caller (param i32)))
  (import "civitas" "self_address" (func $self (param i32)))
  (import "civitas" "block_height" (func $height (result i64)))
  (import "civitas" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "civitas" "call_contract" (func $call (param i32 i32 i32) (result i32)))
  (import "civitas" "result_len" (func $result_len (result i32)))
  (import "civitas" "result_read" (func $result_read (param i32)))
  (import "civitas" "sha3_256" (func $sha3 (param i32 i32 i32)))
  (import "civitas" "ed25519_verify" (func $verify (param i32 i32 i32 i32) (result i32)))
  (import "civitas" "debug_log" (func $log (param i32 i32)))
  (import "civitas" "sealed_read" (func $sealed (param i32 i32 i32) (result i32)))"#;
    let contract = |extra: &str, call: &str| {
        wat::parse_str(format!(
            r#"(module {IMPORTS}
  (memory (export "memory") 1)
  (data (i32.const 512) "tax.annual_income")
  (func (export "deploy") (call $sset (i32.const 0) (i32.const 4) (i32.const 512) (i32.const 17)))
  (func (export "call") {call})
  {extra})"#
        ))
        .expect("a vm seed contract parses")
    };
    // Input into memory at 1024; the zeroed bytes at 0..32 are the zero address and key.
    let read_input = "(call $input_read (i32.const 1024))";
    let seeds: Vec<(&str, u8, Vec<u8>)> = vec![
        (
            "storage_events",
            0,
            contract(
                "",
                &format!(
                    r#"{read_input}
    (drop (call $sget (i32.const 0) (i32.const 4) (i32.const 2048) (i32.const 64)))
    (call $sset (i32.const 1024) (i32.const 1) (i32.const 1024) (call $input_len))
    (call $sdel (i32.const 0) (i32.const 32))
    (call $sha3 (i32.const 1024) (call $input_len) (i32.const 4096))
    (call $emit (i32.const 512) (i32.const 3) (i32.const 4096) (i32.const 32))
    (call $caller (i32.const 4200))
    (call $self (i32.const 4232))
    (i64.store (i32.const 4264) (call $height))
    (call $log (i32.const 512) (i32.const 17))
    (call $ret (i32.const 4096) (i32.const 32))"#
                ),
            ),
        ),
        (
            "nested_call",
            0,
            contract(
                "",
                &format!(
                    r#"{read_input}
    (if (i32.eq (call $call (i32.const 0) (i32.const 1024) (call $input_len)) (i32.const 0))
      (then (call $result_read (i32.const 3000))
            (call $ret (i32.const 3000) (call $result_len))))"#
                ),
            ),
        ),
        (
            "reentrant_call",
            0,
            contract(
                r#"(func (export "civitas_reentrant"))"#,
                &format!(
                    r#"{read_input}
    (call $self (i32.const 64))
    (drop (call $call (i32.const 64) (i32.const 1024) (call $input_len)))
    (call $sset (i32.const 1024) (i32.const 2) (i32.const 64) (i32.const 32))"#
                ),
            ),
        ),
        (
            "sealed_read",
            8,
            contract(
                "",
                r#"
    (if (i32.eqz (call $sealed (i32.const 0) (i32.const 512) (i32.const 17)))
      (then (call $result_read (i32.const 3000))
            (call $ret (i32.const 3000) (call $result_len))))
    (call $sset (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))"#,
            ),
        ),
        (
            "verify_revert",
            0,
            contract(
                "",
                &format!(
                    r#"{read_input}
    (if (call $verify (i32.const 0) (i32.const 1024) (call $input_len) (i32.const 64))
      (then (call $ret (i32.const 0) (i32.const 1))))
    (call $revert (i32.const 512) (i32.const 17))"#
                ),
            ),
        ),
        (
            "out_of_fuel",
            0,
            contract("", "(loop $l (br $l))"),
        ),
        (
            "memory_limit",
            0,
            contract("", "(drop (memory.grow (i32.const 300)))"),
        ),
        (
            "stack_overflow",
            0,
            contract("(func $f (call $f))", "(call $f)"),
        ),
        (
            "trap",
            0,
            contract(
                "",
                "(call $sset (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1)) (unreachable)",
            ),
        ),
    ];
    for (name, flags, module) in seeds {
        write("vm", name, &vm_input(flags, u16::MAX, b"civitas", &module));
    }
    // A deploy, a read-only call, and wasm-smith modules.
    let plain = contract("", "(nop)");
    write("vm", "deploy", &vm_input(2, 1_000, b"", &plain));
    write("vm", "read_only", &vm_input(6, 1_000, b"", &plain));
    write(
        "vm",
        "smith",
        &vm_input(1, 10_000, b"\x01\x02", &[0x99; 256]),
    );
    write(
        "vm",
        "smith_sealed",
        &vm_input(9, 10_000, b"", &[0x5c; 512]),
    );
}

/// Parameters for the `rpc_params` target: one well-formed call of each method (real signed
/// transactions, records, envelopes and signed requests in hex), some by name, some by
/// position.
fn rpc_seeds() {
    use civitas_fuzz::RPC_METHODS;
    use civitas_primitives::committee::{RecordsFetch, SealingKeyFetch};
    use civitas_primitives::crypto::Keypair;
    use civitas_primitives::vault::{
        ConsentListQuery, InstitutionAuditQuery, Record, SubjectAuditQuery,
    };
    use serde_json::json;

    let hex = |b: &[u8]| format!("0x{}", hex::encode(b));
    let id = hex(&[0x2a; 32]);
    let txs: Vec<String> = sample_transactions()
        .iter()
        .map(|t| hex(&t.encode()))
        .collect();
    let tax = Keypair::dev("tax");
    let mut record = Record {
        subject: Hash([5; 32]),
        dataset: "tax.annual_income".into(),
        version: 1,
        salt: [6; 32],
        payload: (2025u32, 48_000u128).encode(),
        custodian: tax.account(),
        signature: [0; 64],
    };
    record.signature = tax.sign_hash(&record.hash());
    let fetch = SealedFetch {
        tx_hash: Hash([8; 32]),
        reply_key: [9; 32],
    }
    .encode();
    let request = |method: &str, body: Vec<u8>| hex(&signed_request(method, body).encode());
    let seeds: Vec<(&str, &str, serde_json::Value)> = vec![
        ("chain_getBlock", "position", json!([7])),
        ("chain_getValidators", "by_name", json!({ "height": null })),
        ("chain_getAccount", "position", json!([id])),
        (
            "chain_getEvents",
            "by_name",
            json!({ "query": {
                "contract": id, "topic": "Transfer", "from_height": 1, "to_height": 9,
                "cursor": hex(&[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0]), "limit": 10
            } }),
        ),
        (
            "chain_subscribeEvents",
            "position",
            json!([{ "topic": "0xff00" }]),
        ),
        ("tx_submit", "position", json!([txs[0]])),
        ("tx_submitBatch", "by_name", json!({ "txs": txs })),
        ("tx_status", "camel_case", json!({ "txHash": id })),
        ("tx_getReceipt", "position", json!([id])),
        ("tx_getReceipts", "position", json!([[id, hex(&[1; 32])]])),
        (
            "contract_query",
            "position",
            json!([{ "contract": id, "input": "0x0102", "caller": null }]),
        ),
        (
            "contract_dryRun",
            "position",
            json!([hex(&sample_transactions()[1].tx.encode())]),
        ),
        (
            "contract_getMetadata",
            "camel_case",
            json!({ "addressOrCodeHash": id }),
        ),
        (
            "state_getProof",
            "position",
            json!(["0x6d2f6163636573735f6b6579", 3]),
        ),
        (
            "vault_putRecords",
            "position",
            json!([[hex(&record.encode())]]),
        ),
        (
            "vault_putSealedRecords",
            "position",
            json!([hex(
                &envelope(&vec![hex(&record.encode())].encode()).encode()
            )]),
        ),
        ("vault_getDataset", "position", json!(["tax.annual_income"])),
        (
            "vault_getLatestVersions",
            "by_name",
            json!({ "dataset": "tax.annual_income", "subjects": [id] }),
        ),
        (
            "vault_getCommitments",
            "position",
            json!([id, "tax.annual_income"]),
        ),
        (
            "vault_fetchDisclosed",
            "position",
            json!([request("vault_fetchDisclosed", fetch.clone())]),
        ),
        (
            "vault_getSealedOutput",
            "by_name",
            json!({ "request": request("vault_getSealedOutput", fetch.clone()) }),
        ),
        ("vault_getSealedOutcome", "position", json!([id])),
        (
            "vault_committeeRecords",
            "position",
            json!([request(
                "vault_committeeRecords",
                RecordsFetch {
                    records: vec![Hash([3; 32])],
                    reply_key: [9; 32]
                }
                .encode()
            )]),
        ),
        (
            "vault_committeeSealingKey",
            "position",
            json!([request(
                "vault_committeeSealingKey",
                SealingKeyFetch { reply_key: [9; 32] }.encode()
            )]),
        ),
        (
            "consent_list",
            "first_page",
            json!([request("consent_list", Vec::new())]),
        ),
        (
            "consent_list",
            "next_page",
            json!([request(
                "consent_list",
                ConsentListQuery {
                    after: Some(4),
                    limit: 20
                }
                .encode()
            )]),
        ),
        (
            "audit_listBySubject",
            "position",
            json!([request(
                "audit_listBySubject",
                SubjectAuditQuery {
                    subject: Hash([5; 32]),
                    from: 0,
                    limit: 50
                }
                .encode()
            )]),
        ),
        (
            "audit_listByInstitution",
            "position",
            json!([request(
                "audit_listByInstitution",
                InstitutionAuditQuery {
                    institution: tax.account(),
                    from: 0,
                    limit: 50
                }
                .encode()
            )]),
        ),
        ("credits_getBalance", "by_name", json!({ "account": id })),
    ];
    for (method, form, params) in seeds {
        let index = RPC_METHODS
            .iter()
            .position(|m| *m == method)
            .expect("a seed for a listed method");
        let mut bytes = vec![u8::try_from(index).expect("fewer than 256 methods")];
        bytes.extend_from_slice(params.to_string().as_bytes());
        write("rpc_params", &format!("{method}.{form}"), &bytes);
    }
}

fn main() {
    let txs = sample_transactions();
    let names = [
        "transfer",
        "call",
        "register_dataset",
        "sealed_call",
        "private_disclose",
    ];
    for (stx, name) in txs.iter().zip(names) {
        write("tx", name, &stx.encode());
    }

    let h = header(7);
    let block = Block {
        header: h.clone(),
        txs: txs[..2].to_vec(),
    };
    write("certificate", "block", &with_mode(0, &block.encode()));
    write(
        "certificate",
        "quorum",
        &with_mode(1, &(&h, &certificate(&h, &[0, 1, 2], 0)).encode()),
    );
    write(
        "certificate",
        "no_quorum",
        &with_mode(1, &(&h, &certificate(&h, &[3, 1], 2)).encode()),
    );
    write("certificate", "structured", &with_mode(2, &[0x5a; 96]));

    let entries: Vec<(Vec<u8>, Vec<u8>)> = (0u8..8)
        .map(|i| (vec![b'k', i], vec![i; usize::from(i) + 1]))
        .collect();
    let (root, proofs) = prove(&entries, &[b"k\x03".to_vec(), b"absent".to_vec()]);
    for (p, name) in proofs.iter().zip(["present", "absent"]) {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&root.0);
        bytes.extend_from_slice(&p.encode());
        write("state_proof", name, &bytes);
    }
    write("state_proof", "tree", &with_mode(1, &[0x33; 128]));

    let fetch = SealedFetch {
        tx_hash: Hash([8; 32]),
        reply_key: [9; 32],
    };
    write(
        "envelope",
        "envelope",
        &with_mode(0, &envelope(b"disclosed records").encode()),
    );
    write("envelope", "seal", &with_mode(1, &[0x41; 48]));
    write(
        "envelope",
        "request",
        &with_mode(
            2,
            &signed_request("vault_fetchDisclosed", fetch.encode()).encode(),
        ),
    );
    write("envelope", "sealed_fetch", &with_mode(3, &fetch.encode()));

    let fields = vec![
        Field {
            name: "year".into(),
            ty: FieldType::U32,
        },
        Field {
            name: "income".into(),
            ty: FieldType::U128,
        },
        Field {
            name: "employer".into(),
            ty: FieldType::Text,
        },
    ];
    let payload = (2025u32, 48_000u128, String::from("acme")).encode();
    let mut raw = vec![0, 3, 0, 2, 5];
    raw.extend_from_slice(&payload);
    write("record", "raw", &raw);
    write("record", "values", &with_mode(1, &[0x07; 64]));
    write("record", "spec", &with_mode(2, b"income:u128"));
    let ds = Dataset {
        id: "tax.annual_income".into(),
        custodian: AccountId([1; 32]),
        fields,
        price: 10,
    };
    let mut dataset = with_mode(3, &ds.encode());
    dataset.extend_from_slice(&payload);
    write("record", "dataset", &dataset);

    let contract = wat::parse_str(
        r#"(module
  (import "civitas" "input_len" (func $input_len (result i32)))
  (memory (export "memory") 1)
  (func (export "deploy"))
  (func (export "call") (drop (call $input_len))))"#,
    )
    .expect("the seed contract parses");
    write("validator", "contract", &with_mode(0, &contract));
    write("validator", "smith", &with_mode(1, &[0x99; 256]));

    vm_seeds();
    rpc_seeds();

    // The registries the target builds from these bytes (print them with CIVITAS_FUZZ_PRINT=1):
    // a message taking a one-field struct of an i8, and the crash the target found, an array of
    // itself (refused since as too deep), kept as a seed.
    write(
        "scale_json",
        "struct_of_i8",
        &[
            0x01, 0x01, 0x01, 0x01, 0x01, 0xfe, 0xff, 0x75, 0x31, 0x36, 0x2c, 0x01, 0x00, 0x00,
            0x00, 0x28, 0xff, 0xff, 0xff,
        ],
    );
    write(
        "scale_json",
        "recursive_array",
        &[
            0x69, 0x36, 0x34, 0x03, 0x72, 0x65, 0x74, 0x75, 0x02, 0x00, 0x0b,
        ],
    );
}

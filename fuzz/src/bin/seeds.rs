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

//! Who receives a sealed call's result (`vault_getSealedOutput`): the institution that made
//! the call always; a citizen only when the call declared that citizen's records alone. A result
//! computed over two citizens' records is refused to each of them with the very refusal a
//! stranger gets, so it neither leaks the other's record nor says that another was read.
use crate::common::*;
use civitas_primitives::crypto::ReplyKey;
use civitas_primitives::vault::{DeclaredRead, Envelope, SealedOutputReply};
use serde_json::json;

/// Input: a count byte (1 or 2), then that many 32-byte subject ids. Reads
/// `tax.annual_income` of each and returns the records' payloads concatenated, or the single
/// byte 0xff when a read is refused.
const READ_SUBJECTS: &str = r#"(module
 (import "civitas" "input_read" (func $input_read (param i32)))
 (import "civitas" "set_return" (func $set_return (param i32 i32)))
 (import "civitas" "sealed_read" (func $sealed_read (param i32 i32 i32) (result i32)))
 (import "civitas" "result_len" (func $result_len (result i32)))
 (import "civitas" "result_read" (func $result_read (param i32)))
 (memory (export "memory") 1)
 (data (i32.const 1024) "tax.annual_income")
 (func (export "deploy"))
 (func $refused (i32.store8 (i32.const 4000) (i32.const 255))
   (call $set_return (i32.const 4000) (i32.const 1)))
 (func (export "call")
  (local $len i32)
  (call $input_read (i32.const 0))
  (if (i32.ne (call $sealed_read (i32.const 1) (i32.const 1024) (i32.const 17)) (i32.const 0))
    (then (call $refused) (return)))
  (call $result_read (i32.const 2048))
  (local.set $len (call $result_len))
  (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 2))
    (then
      (if (i32.ne (call $sealed_read (i32.const 33) (i32.const 1024) (i32.const 17)) (i32.const 0))
        (then (call $refused) (return)))
      (call $result_read (i32.add (i32.const 2048) (local.get $len)))
      (local.set $len (i32.add (local.get $len) (call $result_len)))))
  (call $set_return (i32.const 2048) (local.get $len)))
)"#;

/// Fuel of each sealed call (the CLI's default budget).
const SEALED_FUEL: u64 = 50_000_000;

/// `vault_getSealedOutput` of `tx` as `who`, decrypted.
async fn fetch_output(
    c: &HttpClient,
    who: &str,
    tx: Hash,
) -> Result<SealedOutputReply, ClientError> {
    wait_attested(c, &tx).await;
    let reply = ReplyKey::generate();
    let body = SealedFetch {
        tx_hash: tx,
        reply_key: reply.public(),
    }
    .encode();
    let hex = VaultApiClient::get_sealed_output(
        c,
        signed_request(&key(who), "vault_getSealedOutput", body, now_ms()),
    )
    .await?;
    let env = Envelope::decode(&mut &from_hex(&hex).expect("hex")[..]).expect("envelope");
    let plain = reply.open(&env).expect("decrypts with the request's key");
    Ok(SealedOutputReply::decode(&mut &plain[..]).expect("sealed output reply"))
}

/// The refusal `who` gets for `tx`: the JSON-RPC code and the whole `data` member.
async fn refusal_of(c: &HttpClient, who: &str, tx: Hash) -> (i32, serde_json::Value) {
    match fetch_output(c, who, tx).await {
        Ok(r) => panic!("{who} was served the result: {:?}", r.result),
        Err(e) => refusal(e),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_subject_result_goes_to_the_institution_only_and_a_single_subject_one_to_its_citizen(
) {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let (alice, bob) = (dev_subject("alice"), dev_subject("bob"));

    let code = wat::parse_str(READ_SUBJECTS).expect("wat");
    let code_hash = sha3_256(&code);
    let bank = key("bank-a");
    let r = send(&c, &bank, ADMIN_FUEL, Call::UploadCode { code }).await;
    assert_eq!(r.status, "success", "upload: {r:?}");
    let r = send(
        &c,
        &bank,
        ADMIN_FUEL,
        Call::Instantiate {
            code_hash,
            salt: b"two".to_vec(),
            input: vec![],
        },
    )
    .await;
    assert_eq!(r.status, "success", "instantiate: {r:?}");
    let contract = contract_address(&bank.account(), &code_hash, b"two");
    let r = send(
        &c,
        &key("regulator"),
        ADMIN_FUEL,
        Call::ApproveCode {
            code_hash,
            approved: true,
        },
    )
    .await;
    assert_eq!(r.status, "success", "approve code: {r:?}");

    let mut payloads = Vec::new();
    for (name, subject, income) in [("alice", alice, 73_200), ("bob", bob, 51_900)] {
        bind_identity(&c, name, subject).await;
        let record = tax_record(subject, 1, income);
        VaultApiClient::put_records(&c, vec![to_hex(&record.encode())])
            .await
            .expect("put record");
        let r = send(&c, &key("tax"), ADMIN_FUEL, commit_call(&record)).await;
        assert_eq!(r.status, "success", "commit {name}: {r:?}");
        payloads.push(record.payload.clone());
        approved_income_consent(&c, &bank, name, subject, code_hash, "joint mortgage").await;
    }

    let sealed = |subjects: &[Hash]| {
        let mut input = vec![subjects.len() as u8];
        for s in subjects {
            input.extend_from_slice(&s.0);
        }
        let reads = subjects
            .iter()
            .map(|s| DeclaredRead {
                subject: *s,
                dataset: "tax.annual_income".into(),
            })
            .collect();
        Call::SealedCall {
            contract,
            input,
            reads,
        }
    };
    let joint = send(&c, &bank, SEALED_FUEL, sealed(&[alice, bob])).await;
    let joint = Hash(hex32(&joint.tx_hash).expect("tx hash"));
    let single = send(&c, &bank, SEALED_FUEL, sealed(&[alice])).await;
    let single = Hash(hex32(&single.tx_hash).expect("tx hash"));

    // The institution gets the joint result, and it holds both citizens' records.
    let out = fetch_output(&c, "bank-a", joint)
        .await
        .expect("institution");
    assert!(out.result.ok, "{:?}", out.result);
    assert_eq!(
        out.result.output,
        [payloads[0].clone(), payloads[1].clone()].concat()
    );

    // Each citizen it read is refused exactly as a stranger (another bank, a citizen it did
    // not read) is.
    let stranger = refusal_of(&c, "bank-b", joint).await;
    assert_eq!(
        stranger,
        (errors::UNAUTHORIZED, json!({ "code": "not_party" }))
    );
    assert_eq!(refusal_of(&c, "carol", joint).await, stranger, "carol");
    for who in ["alice", "bob"] {
        assert_eq!(refusal_of(&c, who, joint).await, stranger, "{who}");
    }

    // A call that read alice alone: she and the institution get it; bob does not.
    let mine = fetch_output(&c, "alice", single)
        .await
        .expect("alice, single");
    assert!(mine.result.ok, "{:?}", mine.result);
    assert_eq!(mine.result.output, payloads[0]);
    let theirs = fetch_output(&c, "bank-a", single)
        .await
        .expect("bank, single");
    assert_eq!(theirs.result, mine.result);
    assert_eq!(refusal_of(&c, "bob", single).await, stranger, "bob, single");
    node.terminate();
}

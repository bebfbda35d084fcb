//! Block times that do not betray execution: a sealed call whose running time depends on a
//! citizen's record (a loop as long as her income) must not show in the next header's time.
//! Blocks holding calls that run out of fuel at the sealed cap and blocks holding calls that
//! finish at once are each followed by the next block exactly one cadence interval later.
use crate::common::*;
use civitas_ledger::{DEFAULT_BLOCK_TIME_MS, DEFAULT_SEALED_FUEL_CAP};
use civitas_primitives::crypto::ReplyKey;
use civitas_primitives::vault::{DeclaredRead, Envelope, SealedOutputReply};

/// Input: a 32-byte subject id. Reads the subject's `tax.annual_income` record and counts to
/// its `gross_income` (the u64 after `year: u32`), returning the count; 9 fuel an iteration.
const COUNT_TO_INCOME: &str = r#"(module
 (import "civitas" "input_read" (func $input_read (param i32)))
 (import "civitas" "set_return" (func $set_return (param i32 i32)))
 (import "civitas" "sealed_read" (func $sealed_read (param i32 i32 i32) (result i32)))
 (import "civitas" "result_read" (func $result_read (param i32)))
 (memory (export "memory") 1)
 (data (i32.const 1024) "tax.annual_income")
 (func (export "deploy"))
 (func (export "call")
  (local $n i64) (local $i i64)
  (call $input_read (i32.const 0))
  (if (i32.ne (call $sealed_read (i32.const 0) (i32.const 1024) (i32.const 17)) (i32.const 0))
    (then (unreachable)))
  (call $result_read (i32.const 2048))
  (local.set $n (i64.load (i32.const 2052)))
  (block $done
   (loop $next
    (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
    (local.set $i (i64.add (local.get $i) (i64.const 1)))
    (br $next)))
  (i64.store (i32.const 3000) (local.get $i))
  (call $set_return (i32.const 3000) (i32.const 8)))
)"#;

/// Alice's income: 10^9 iterations, 9·10^9 fuel, far past the sealed cap.
const LONG: u64 = 1_000_000_000;
/// Bob's: 10^6 iterations, about 9·10^6 fuel, well inside it.
const SHORT: u64 = 1_000_000;

/// The sealed call of `contract` about `subject`, signed by `bank` at `nonce` with `fuel`.
/// The one place this test builds a `SealedCall`.
fn sealed_call(
    bank: &Keypair,
    nonce: u64,
    fuel: u64,
    contract: AccountId,
    subject: Hash,
) -> SignedTransaction {
    sign(
        bank,
        nonce,
        fuel,
        Call::SealedCall {
            contract,
            input: subject.0.to_vec(),
            reads: vec![DeclaredRead {
                subject,
                dataset: "tax.annual_income".into(),
            }],
        },
    )
}

/// bank-a's decrypted result of sealed call `tx`.
async fn result_of(c: &HttpClient, tx: &str) -> SealedOutputReply {
    let tx_hash = Hash(hex32(tx).expect("tx hash"));
    wait_attested(c, &tx_hash).await;
    let reply = ReplyKey::generate();
    let body = SealedFetch {
        tx_hash,
        reply_key: reply.public(),
    }
    .encode();
    let hex = VaultApiClient::get_sealed_output(
        c,
        signed_request(&key("bank-a"), "vault_getSealedOutput", body, now_ms()),
    )
    .await
    .expect("bank-a gets its result");
    let env = Envelope::decode(&mut &from_hex(&hex).expect("hex")[..]).expect("envelope");
    let plain = reply.open(&env).expect("decrypts");
    SealedOutputReply::decode(&mut &plain[..]).expect("sealed output reply")
}

async fn block_time(c: &HttpClient, height: u64) -> u64 {
    c.get_block(Some(height))
        .await
        .expect("block")
        .header
        .time_ms
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_block_after_a_sealed_call_comes_one_cadence_later_whether_the_call_ran_long_or_short()
{
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let bank = key("bank-a");

    let code = wat::parse_str(COUNT_TO_INCOME).expect("wat");
    let code_hash = sha3_256(&code);
    let r = send(&c, &bank, ADMIN_FUEL, Call::UploadCode { code }).await;
    assert_eq!(r.status, "success", "upload: {r:?}");
    let r = send(
        &c,
        &bank,
        ADMIN_FUEL,
        Call::Instantiate {
            code_hash,
            salt: b"count".to_vec(),
            input: vec![],
        },
    )
    .await;
    assert_eq!(r.status, "success", "instantiate: {r:?}");
    let contract = contract_address(&bank.account(), &code_hash, b"count");
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

    let (alice, bob) = (dev_subject("alice"), dev_subject("bob"));
    for (name, subject, income) in [("alice", alice, LONG), ("bob", bob, SHORT)] {
        bind_identity(&c, name, subject).await;
        let record = tax_record(subject, 1, income);
        VaultApiClient::put_records(&c, vec![to_hex(&record.encode())])
            .await
            .expect("put record");
        let r = send(&c, &key("tax"), ADMIN_FUEL, commit_call(&record)).await;
        assert_eq!(r.status, "success", "commit {name}: {r:?}");
        approved_income_consent(&c, &bank, name, subject, code_hash, "timing").await;
    }

    // A sealed call may not reserve more than the sealed cap.
    let first = nonce(&c, &bank).await;
    let over = sealed_call(&bank, first, DEFAULT_SEALED_FUEL_CAP + 1, contract, bob);
    let (code, message, reason) = rejection(submit(&c, &over).await.expect_err("over the cap"));
    assert_eq!(
        (code, reason.as_deref()),
        (1001, Some("fuel_limit_too_high")),
        "{message}"
    );
    assert!(message.contains("sealed call cap"), "{message}");

    // When each head first reaches a subscriber (the local clock is the node's: same
    // machine). A subscription delivers every head, however quickly the next one follows.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    let ws = jsonrpsee::ws_client::WsClientBuilder::default()
        .build(node.url.replacen("http://", "ws://", 1))
        .await
        .expect("websocket connection");
    let mut heads = ChainApiClient::subscribe_new_heads(&ws)
        .await
        .expect("subscribe");
    let watcher = {
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Some(Ok(h)) = heads.next().await {
                let now = now_ms();
                seen.lock().expect("lock").entry(h.height).or_insert(now);
            }
        })
    };

    // Two calls at the cap fill a block's sealed fuel, so the five calls make three blocks
    // back to back: two long calls (alice), two short ones (bob), and one more that makes
    // the block after the short ones.
    // One batch, so all five wait in the pool before the first of their blocks is proposed.
    let subjects = [alice, alice, bob, bob, bob];
    let batch = subjects
        .iter()
        .enumerate()
        .map(|(i, subject)| {
            let stx = sealed_call(
                &bank,
                first + i as u64,
                DEFAULT_SEALED_FUEL_CAP,
                contract,
                *subject,
            );
            to_hex(&stx.encode())
        })
        .collect();
    let hashes: Vec<String> = c
        .submit_batch(batch)
        .await
        .expect("batch")
        .into_iter()
        .map(|o| {
            o.tx_hash
                .clone()
                .unwrap_or_else(|| panic!("refused: {o:?}"))
        })
        .collect();
    let mut receipts = Vec::new();
    for h in &hashes {
        receipts.push(wait(&c, h).await);
    }
    let long = receipts[0].height;
    let heights: Vec<u64> = receipts.iter().map(|r| r.height).collect();
    assert_eq!(
        heights,
        [long, long, long + 1, long + 1, long + 2],
        "blocks: {heights:?}"
    );
    for r in &receipts {
        assert_eq!(r.status, "success", "a sealed receipt is uniform: {r:?}");
        assert_eq!(r.fuel_used, DEFAULT_SEALED_FUEL_CAP);
    }

    // What the calls did, as only bank-a can see: alice's ran out of fuel at the cap, bob's
    // counted to his income.
    for tx in &hashes[..2] {
        let out = result_of(&c, tx).await.result;
        assert!(!out.ok, "{out:?}");
        assert_eq!(out.error_code, "out_of_fuel", "{out:?}");
    }
    for tx in &hashes[2..4] {
        let out = result_of(&c, tx).await.result;
        assert!(out.ok, "{out:?}");
        assert_eq!(out.output, SHORT.to_le_bytes().to_vec());
    }

    let times = [
        block_time(&c, long).await,
        block_time(&c, long + 1).await,
        block_time(&c, long + 2).await,
    ];
    let after_long = times[1] - times[0];
    let after_short = times[2] - times[1];
    assert_eq!(
        after_long, after_short,
        "the gap after the block of long calls ({after_long} ms) differs from the gap after the short ones ({after_short} ms): block times {times:?}"
    );
    assert_eq!(after_long, DEFAULT_BLOCK_TIME_MS, "one cadence interval");

    // Nor does the moment a head appears: a block holding sealed calls is announced only at
    // the end of its slot, however quickly its calls ran.
    watcher.abort();
    let seen = seen.lock().expect("lock").clone();
    for (i, height) in [long, long + 1, long + 2].into_iter().enumerate() {
        let first_seen = seen
            .get(&height)
            .copied()
            .unwrap_or_else(|| panic!("head {height} never seen: {seen:?}"));
        assert!(
            first_seen >= times[i] + DEFAULT_BLOCK_TIME_MS,
            "head {height} (time {}) appeared at {first_seen}, before the end of its slot",
            times[i]
        );
    }
}

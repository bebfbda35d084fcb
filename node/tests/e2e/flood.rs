//! A flood of maximum-fuel contract calls from members, against a real node over JSON-RPC:
//! an honest transfer submitted behind it is committed within two blocks of the head at its
//! submission, while the flood is still pending.
use crate::common::*;

/// Fuel cap of a call that runs the VM on the dev chain (ledger `ChainParams::new`:
/// block fuel limit 10^10, an eighth of it).
const VM_FUEL_CAP: u64 = 10_000_000_000 / 8;

/// Pending transactions one account may hold (node `PoolLimits::default().max_per_account`).
const PER_ACCOUNT: u64 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_transfer_is_committed_within_two_blocks_behind_a_flood_of_maximum_fuel_calls() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    // A contract whose call does nothing: the flood reserves fuel, it does not burn it.
    let code = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "deploy")) (func (export "call")))"#,
    )
    .expect("wat");
    let hash = sha3_256(&code);
    let owner = key("bank-a");
    let r = send(&c, &owner, 50_000_000, Call::UploadCode { code }).await;
    assert_eq!(r.status, "success", "{r:?}");
    let r = send(
        &c,
        &owner,
        50_000_000,
        Call::Instantiate {
            code_hash: hash,
            salt: b"noop".to_vec(),
            input: vec![],
        },
    )
    .await;
    assert_eq!(r.status, "success", "{r:?}");
    let contract = contract_address(&owner.account(), &hash, b"noop");

    // Two members fill their share of the pool with calls at the VM fuel cap: more pending
    // transactions than one block may hold (10,000).
    let mut last_flood = Vec::new();
    for name in ["bank-a", "bank-b"] {
        let k = key(name);
        let first = nonce(&c, &k).await;
        let txs: Vec<String> = (first..first + PER_ACCOUNT)
            .map(|n| {
                to_hex(
                    &sign(
                        &k,
                        n,
                        VM_FUEL_CAP,
                        Call::Call {
                            contract,
                            input: vec![],
                        },
                    )
                    .encode(),
                )
            })
            .collect();
        for chunk in txs.chunks(MAX_SUBMIT_BATCH) {
            let out = c.submit_batch(chunk.to_vec()).await.expect("batch");
            for o in &out {
                assert!(o.tx_hash.is_some(), "{name}'s flood refused: {o:?}");
            }
            last_flood.push(out.last().and_then(|o| o.tx_hash.clone()).expect("hash"));
        }
    }

    let alice = key("alice");
    let transfer = sign(
        &alice,
        nonce(&c, &alice).await,
        100_000,
        Call::Transfer {
            to: key("bob").account(),
            amount: 1,
        },
    );
    let head_at_submit = c.get_head().await.expect("head").height;
    let hash = submit(&c, &transfer).await.expect("transfer admitted");
    let receipt = wait(&c, &hash).await;
    assert_eq!(receipt.status, "success", "{receipt:?}");
    assert!(
        receipt.height <= head_at_submit + 2,
        "the transfer was committed at {} though submitted at head {head_at_submit}",
        receipt.height
    );
    let still_pending = {
        let mut n = 0;
        for h in &last_flood {
            if c.status(h.clone()).await.expect("status") == TxStatus::Pending {
                n += 1;
            }
        }
        n
    };
    assert!(
        still_pending > 0,
        "the flood was already committed: the test shows nothing"
    );
    node.terminate();
}

//! No subject id in public: after identity bindings, record commitments, consents, a sealed
//! call and a disclosure, no block (its raw bytes included), no receipt and no public reply
//! about the citizens holds their subject ids, raw or hex, and blocks show private calls only
//! by kind.
use crate::common::*;
use civitas_primitives::block::Block;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_block_receipt_or_public_reply_holds_a_subject_id() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = citizen_data(&dir.path().join("data")).await;
    let url = data.node.url.clone();
    let scorer = approved_loan_scorer(&url, dir.path());
    let offer = alice_scored_by_bank_a(&url, &scorer);
    assert!(offer.get("ok").is_some(), "the sealed call ran: {offer}");
    let c = data.node.client();

    let subjects = [data.alice, data.bob].map(|s| hex::encode(s.0));
    let holds_subject = |text: &str| {
        let text = text.to_lowercase();
        subjects.iter().any(|s| text.contains(s.as_str()))
    };
    let head = c.get_head().await.expect("head").height;
    let mut private_kinds = std::collections::BTreeSet::new();
    let mut txs = 0;
    for height in 1..=head {
        let block = c.get_block(Some(height)).await.expect("block");
        let text = serde_json::to_string(&block).expect("json");
        assert!(!holds_subject(&text), "block {height} holds a subject id");
        let raw = Block::decode(&mut &from_hex(&block.raw).expect("hex")[..]).expect("block");
        for stx in &raw.txs {
            if let Call::Private { kind, .. } = &stx.tx.call {
                private_kinds.insert(kind.name());
            }
        }
        for tx in &block.transactions {
            txs += 1;
            let receipt = c.get_receipt(tx.clone()).await.expect("receipt");
            let text = serde_json::to_string(&receipt).expect("json");
            assert!(
                !holds_subject(&text),
                "the receipt of {tx} holds a subject id"
            );
        }
    }
    assert!(txs >= 10, "the scenario committed its transactions ({txs})");
    assert_eq!(
        private_kinds.into_iter().collect::<Vec<_>>(),
        vec![
            "bind_identity",
            "commit_record",
            "consent",
            "disclose",
            "request_consent",
            "sealed_call"
        ],
        "every data-access call travelled encrypted"
    );

    // Public replies about the citizens: their accounts, and the identity binding by account,
    // which the proof method refuses.
    for who in ["alice", "bob"] {
        let account = c
            .get_account(to_hex(&key(who).account().0))
            .await
            .expect("account");
        let text = serde_json::to_string(&account).expect("json");
        assert!(!holds_subject(&text), "{who}'s account reply");
        let mut binding = b"i/a/".to_vec();
        binding.extend_from_slice(&key(who).account().0);
        let refused = StateApiClient::get_proof(&c, to_hex(&binding), None)
            .await
            .expect_err("the binding by account is private");
        assert_eq!(refusal(refused).0, errors::UNAUTHORIZED);
    }
    data.node.terminate();
}

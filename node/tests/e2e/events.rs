//! The event index over JSON-RPC: `chain_getEvents` by contract, topic and heights, page by
//! page, gives exactly what a scan of every block's receipts gives; bad queries get typed
//! errors; `chain_subscribeEvents` delivers each new matching event and nothing else; the index
//! survives a restart.
use jsonrpsee::ws_client::WsClientBuilder;

use crate::common::*;

/// Every event of heights `1..=head` as the receipts hold them, in chain order.
async fn scanned(c: &HttpClient, head: u64) -> Vec<IndexedEventInfo> {
    let mut out = Vec::new();
    for h in 1..=head {
        let block = c.get_block(Some(h)).await.expect("block");
        for (tx_index, tx) in block.transactions.iter().enumerate() {
            let r = c.get_receipt(tx.clone()).await.expect("receipt");
            for (event_index, e) in r.events.iter().enumerate() {
                out.push(IndexedEventInfo {
                    height: h,
                    tx_index: tx_index as u32,
                    event_index: event_index as u32,
                    tx_hash: r.tx_hash.clone(),
                    contract: e.contract.clone(),
                    topic: e.topic.clone(),
                    data: e.data.clone(),
                });
            }
        }
    }
    out
}

/// Every page of `query` with `limit` events a page, following the cursors.
async fn all_pages(c: &HttpClient, query: &EventQuery, limit: u32) -> Vec<IndexedEventInfo> {
    let mut q = EventQuery {
        limit: Some(limit),
        ..query.clone()
    };
    let mut out = Vec::new();
    loop {
        let page = c.get_events(q.clone()).await.expect("events");
        assert!(page.events.len() <= limit as usize);
        out.extend(page.events);
        match page.next_cursor {
            Some(next) => q.cursor = Some(next),
            None => return out,
        }
    }
}

async fn token_call(c: &HttpClient, token: AccountId, method: &str, to: &str, amount: u128) {
    let input = message(method, (key(to).account(), amount));
    let r = send(
        c,
        &key("bank-a"),
        5_000_000,
        Call::Call {
            contract: token,
            input,
        },
    )
    .await;
    assert_eq!(r.status, "success", "{method}: {r:?}");
}

async fn second_token(c: &HttpClient) -> AccountId {
    let code_hash = sha3_256(&token_wasm());
    let input = message(
        "new",
        ("Other".to_string(), "OTH".to_string(), 0u8, 500u128),
    );
    let r = send(
        c,
        &key("bank-a"),
        50_000_000,
        Call::Instantiate {
            code_hash,
            salt: b"u".to_vec(),
            input,
        },
    )
    .await;
    assert_eq!(r.status, "success", "{r:?}");
    contract_address(&key("bank-a").account(), &code_hash, b"u")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_by_contract_topic_and_height_in_pages_and_by_subscription_across_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let a = deploy_token(&c).await;
    let b = second_token(&c).await;
    for i in 1..=5 {
        token_call(&c, a, "transfer", "alice", i).await;
    }
    for i in 1..=3 {
        token_call(&c, b, "transfer", "bob", i).await;
    }
    for i in 1..=2 {
        token_call(&c, b, "approve", "alice", i).await;
    }
    let head = c.get_head().await.expect("head").height;
    let truth = scanned(&c, head).await;
    let (a_hex, b_hex) = (to_hex(&a.0), to_hex(&b.0));
    let topics: std::collections::BTreeSet<String> =
        truth.iter().map(|e| e.topic.clone()).collect();
    assert_eq!(
        topics.len(),
        2,
        "a transfer and an approval topic: {topics:?}"
    );
    let approval = truth
        .last()
        .expect("the last event is an approval")
        .topic
        .clone();
    let transfer = topics
        .iter()
        .find(|t| **t != approval)
        .expect("transfer topic")
        .clone();

    let queries = [
        EventQuery::default(),
        EventQuery {
            contract: Some(a_hex.clone()),
            ..Default::default()
        },
        EventQuery {
            topic: Some(approval.clone()),
            ..Default::default()
        },
        EventQuery {
            contract: Some(b_hex.clone()),
            topic: Some(transfer.clone()),
            ..Default::default()
        },
        EventQuery {
            from_height: Some(truth[3].height),
            to_height: Some(truth[truth.len() - 3].height),
            ..Default::default()
        },
    ];
    let expect = |q: &EventQuery| -> Vec<IndexedEventInfo> {
        truth
            .iter()
            .filter(|e| q.contract.as_ref().is_none_or(|c| *c == e.contract))
            .filter(|e| q.topic.as_ref().is_none_or(|t| *t == e.topic))
            .filter(|e| q.from_height.is_none_or(|h| e.height >= h))
            .filter(|e| q.to_height.is_none_or(|h| e.height <= h))
            .cloned()
            .collect()
    };
    for q in &queries {
        let want = expect(q);
        assert!(!want.is_empty(), "{q:?} matches something");
        for limit in [1, 2, 1000] {
            assert_eq!(all_pages(&c, q, limit).await, want, "{q:?}, {limit} a page");
        }
    }
    assert_eq!(
        expect(&queries[1]).len(),
        6,
        "token a: its mint and five transfers"
    );
    assert_eq!(expect(&queries[2]).len(), 2, "two approvals");
    assert_eq!(
        expect(&queries[3]).len(),
        4,
        "token b: its mint and three transfers"
    );

    // The CLI follows the cursors and decodes each event with the token's metadata.
    let url = node.url.clone();
    let a_cli = a_hex.clone();
    let printed = tokio::task::spawn_blocking(move || {
        cli_ok(
            &url,
            &[
                "events",
                "--contract",
                &a_cli,
                "--topic",
                "Transfer",
                "--limit",
                "2",
                "--all",
                "--json",
            ],
        )
    })
    .await
    .expect("cli");
    let printed: serde_json::Value = serde_json::from_str(printed.trim()).expect("json");
    let listed = printed["events"].as_array().expect("events");
    let want: Vec<&IndexedEventInfo> = truth
        .iter()
        .filter(|e| e.contract == a_hex && e.topic == transfer)
        .collect();
    assert_eq!(listed.len(), want.len(), "{printed}");
    assert!(printed["next_cursor"].is_null(), "{printed}");
    for (got, want) in listed.iter().zip(&want) {
        assert_eq!(got["event"]["tx_hash"], want.tx_hash.as_str());
        assert!(
            got["decoded"]["value"].is_number() || got["decoded"]["value"].is_string(),
            "{got}"
        );
    }
    // The five transfers sent 1..=5 units: the decoded values say so.
    let values: Vec<String> = listed[1..]
        .iter()
        .map(|e| {
            e["decoded"]["value"]
                .to_string()
                .trim_matches('"')
                .to_string()
        })
        .collect();
    assert_eq!(values, ["1", "2", "3", "4", "5"], "{printed}");

    // Bad queries: typed errors naming the parameter.
    for (q, param) in [
        (
            EventQuery {
                limit: Some(0),
                ..Default::default()
            },
            "limit",
        ),
        (
            EventQuery {
                limit: Some(MAX_EVENT_PAGE + 1),
                ..Default::default()
            },
            "limit",
        ),
        (
            EventQuery {
                cursor: Some("0x1234".into()),
                ..Default::default()
            },
            "cursor",
        ),
        (
            EventQuery {
                from_height: Some(5),
                to_height: Some(4),
                ..Default::default()
            },
            "to_height",
        ),
        (
            EventQuery {
                contract: Some("0xnot-hex".into()),
                ..Default::default()
            },
            "contract",
        ),
    ] {
        let (code, message, _) = rejection(c.get_events(q.clone()).await.expect_err("refused"));
        assert_eq!(code, -32602, "{q:?}: {message}");
        assert!(message.contains(param), "{q:?}: {message}");
    }

    // A subscription to token a's events gets each new one, and none of token b's.
    let ws = WsClientBuilder::default()
        .build(node.url.replacen("http://", "ws://", 1))
        .await
        .expect("websocket");
    let mut sub = ChainApiClient::subscribe_events(
        &ws,
        EventQuery {
            contract: Some(a_hex.clone()),
            ..Default::default()
        },
    )
    .await
    .expect("subscribe");
    token_call(&c, b, "transfer", "bob", 7).await;
    token_call(&c, a, "transfer", "bob", 8).await;
    token_call(&c, b, "approve", "bob", 9).await;
    token_call(&c, a, "approve", "bob", 10).await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let e = tokio::time::timeout(POLL_TIMEOUT, sub.next())
            .await
            .expect("an event in time")
            .expect("open")
            .expect("an event");
        got.push(e);
    }
    let head = c.get_head().await.expect("head").height;
    let new_a: Vec<IndexedEventInfo> = scanned(&c, head)
        .await
        .into_iter()
        .filter(|e| e.contract == a_hex && e.height > truth[truth.len() - 1].height)
        .collect();
    assert_eq!(
        got, new_a,
        "token a's two new events, in order, and nothing of token b"
    );

    // The index survives a restart.
    let before = all_pages(&c, &EventQuery::default(), 1000).await;
    node.terminate();
    let node = DevNode::start(dir.path());
    let c = node.client();
    assert_eq!(all_pages(&c, &EventQuery::default(), 7).await, before);
}

//! The RPC port's per-client caps, against a real node process, each set low by its flag: a
//! batch over `--rpc-max-batch-len`, a subscription over
//! `--rpc-max-subscriptions-per-connection`, a call outlasting `--rpc-request-timeout-ms`, and
//! requests over `--rpc-connection-requests-per-minute` or `--rpc-ip-requests-per-minute`.
//! Each asserts the error the client sees (code, `data.code`) and that another client (another
//! connection, another IP) is served meanwhile.
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};

use crate::common::*;

/// A dev node on `dir` with `extra` flags.
fn node_with(dir: &Path, extra: &[&str]) -> DevNode {
    let data = dir.to_str().expect("utf-8");
    let mut args = vec![
        "node",
        "--dev",
        "--rpc-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--block-interval-ms",
        "20",
        "--data-dir",
        data,
    ];
    args.extend_from_slice(extra);
    DevNode::spawn(&args)
}

async fn ws(node: &DevNode) -> WsClient {
    WsClientBuilder::default()
        .build(node.url.replacen("http://", "ws://", 1))
        .await
        .expect("websocket connection")
}

/// POSTs `body` to the node's RPC port on a new connection from `source` (any 127/8 address:
/// Linux routes them all to lo) and returns the parsed JSON response.
async fn post_from(node: &DevNode, source: [u8; 4], body: &serde_json::Value) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr: std::net::SocketAddr = node
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("rpc address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::from((source, 0)))
        .expect("bind the source address");
    let mut stream = socket.connect(addr).await.expect("connect");
    let body = body.to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut response = Vec::new();
    tokio::time::timeout(POLL_TIMEOUT, stream.read_to_end(&mut response))
        .await
        .expect("the node answers")
        .expect("read response");
    let text = String::from_utf8(response).expect("utf-8 response");
    let (_, json) = text.split_once("\r\n\r\n").expect("an HTTP response");
    serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn call(id: u64, method: &str) -> serde_json::Value {
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": [] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_the_cap_is_refused_whole_and_one_at_the_cap_is_served() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = node_with(dir.path(), &["--rpc-max-batch-len", "3"]);
    let over: Vec<_> = (0..4).map(|i| call(i, "system_version")).collect();
    let refused = post_from(&node, [127, 0, 0, 1], &serde_json::json!(over)).await;
    assert_eq!(
        refused["error"]["code"],
        civitas_rpc::errors::BATCH_TOO_LARGE,
        "{refused}"
    );
    assert!(refused["id"].is_null(), "{refused}");
    let at_cap: Vec<_> = (0..3).map(|i| call(i, "system_version")).collect();
    let served = post_from(&node, [127, 0, 0, 1], &serde_json::json!(at_cap)).await;
    let answers = served.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 3, "{served}");
    assert!(answers.iter().all(|a| a["result"].is_object()), "{served}");
    node.client()
        .get_head()
        .await
        .expect("another client is served");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_over_the_cap_is_refused_and_another_connection_still_subscribes() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = node_with(dir.path(), &["--rpc-max-subscriptions-per-connection", "2"]);
    let first = ws(&node).await;
    let _a = ChainApiClient::subscribe_new_heads(&first)
        .await
        .expect("first subscription");
    let _b = ChainApiClient::subscribe_new_heads(&first)
        .await
        .expect("second subscription");
    let refused = ChainApiClient::subscribe_new_heads(&first)
        .await
        .expect_err("a third on the same connection");
    match refused {
        ClientError::Call(obj) => assert_eq!(
            obj.code(),
            civitas_rpc::errors::TOO_MANY_SUBSCRIPTIONS,
            "{obj:?}"
        ),
        other => panic!("expected a JSON-RPC error, got {other}"),
    }
    ChainApiClient::get_head(&first)
        .await
        .expect("the capped connection still answers calls");
    let second = ws(&node).await;
    let mut heads = ChainApiClient::subscribe_new_heads(&second)
        .await
        .expect("another connection subscribes");
    let bank = key("bank-a");
    send(
        &node.client(),
        &bank,
        100_000,
        Call::Transfer {
            to: key("alice").account(),
            amount: 1,
        },
    )
    .await;
    tokio::time::timeout(POLL_TIMEOUT, heads.next())
        .await
        .expect("a head arrives")
        .expect("stream open")
        .expect("a head");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_the_time_limit_is_answered_with_a_timeout_while_others_are_served() {
    let dir = tempfile::tempdir().expect("tmp");
    // A query of an endless loop at a cap of 5·10^10 fuel runs for many seconds; the limit is
    // 300 ms.
    let node = node_with(
        dir.path(),
        &[
            "--rpc-request-timeout-ms",
            "300",
            "--query-fuel-cap",
            "50000000000",
        ],
    );
    let c = node.client();
    let bank = key("bank-a");
    let code = crate::rpc_limits::endless_loop_wasm();
    let hash = sha3_256(&code);
    let r = send(&c, &bank, 50_000_000, Call::UploadCode { code }).await;
    assert_eq!(r.status, "success", "{r:?}");
    let r = send(
        &c,
        &bank,
        50_000_000,
        Call::Instantiate {
            code_hash: hash,
            salt: b"loop".to_vec(),
            input: vec![],
        },
    )
    .await;
    assert_eq!(r.status, "success", "{r:?}");
    let contract = contract_address(&bank.account(), &hash, b"loop");

    let query = {
        let c = node.client();
        tokio::spawn(async move {
            c.query(QueryRequest {
                contract: to_hex(&contract.0),
                input: "0x".into(),
                caller: None,
            })
            .await
        })
    };
    // Another client is served while the query runs (and after its answer).
    c.get_head().await.expect("another client is served");
    let refused = query
        .await
        .expect("query task")
        .expect_err("the endless query is cut off");
    let (code, data) = refusal(refused);
    assert_eq!(code, civitas_rpc::errors::REQUEST_TIMEOUT, "{data}");
    assert_eq!(data["code"], "request_timeout", "{data}");
    assert_eq!(data["timeout_ms"], 300, "{data}");
    c.get_head().await.expect("served after the timeout");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_over_its_request_rate_is_refused_with_a_retry_hint_and_another_is_served() {
    let dir = tempfile::tempdir().expect("tmp");
    // A bucket of 3, refilled one every 20 s: the fourth call within 20 s is refused.
    let node = node_with(dir.path(), &["--rpc-connection-requests-per-minute", "3"]);
    let busy = ws(&node).await;
    for _ in 0..3 {
        SystemApiClient::version(&busy)
            .await
            .expect("within the bucket");
    }
    let refused = SystemApiClient::version(&busy)
        .await
        .expect_err("a fourth call at once");
    let (code, data) = refusal(refused);
    assert_eq!(code, civitas_rpc::errors::RATE_LIMITED, "{data}");
    assert_eq!(data["code"], "rate_limited", "{data}");
    assert_eq!(data["limit"], "connection", "{data}");
    let retry = data["retry_after_ms"].as_u64().expect("a retry hint");
    assert!(retry > 0 && retry <= 20_000, "{data}");
    let other = ws(&node).await;
    SystemApiClient::version(&other)
        .await
        .expect("another connection is served");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_its_request_rate_is_refused_on_new_connections_and_another_is_served() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = node_with(dir.path(), &["--rpc-ip-requests-per-minute", "3"]);
    for i in 0..3 {
        let ok = post_from(&node, [127, 0, 0, 1], &call(i, "system_version")).await;
        assert!(ok["result"].is_object(), "{ok}");
    }
    // A fresh connection from the same address draws on the same bucket.
    let refused = post_from(&node, [127, 0, 0, 1], &call(9, "system_version")).await;
    assert_eq!(
        refused["error"]["code"],
        civitas_rpc::errors::RATE_LIMITED,
        "{refused}"
    );
    assert_eq!(refused["error"]["data"]["limit"], "ip", "{refused}");
    assert!(
        refused["error"]["data"]["retry_after_ms"]
            .as_u64()
            .is_some_and(|ms| ms > 0),
        "{refused}"
    );
    let other = post_from(&node, [127, 0, 0, 2], &call(10, "system_version")).await;
    assert!(
        other["result"].is_object(),
        "another address is served: {other}"
    );
    node.terminate();
}

//! Browsers on other origins may call the RPC as the node's CORS policy says: the dev node
//! answers a preflight from any origin and marks its JSON-RPC answers for it; a node started
//! with `--rpc-cors ORIGIN` allows that origin only, and an answer to any other origin carries
//! no `Access-Control-Allow-Origin`, so the browser withholds it.
use std::io::{Read, Write};
use std::net::TcpStream;

use crate::common::*;

/// Sends one raw HTTP/1.1 request to the node of `url`; the response, headers lower-cased.
fn http(url: &str, request: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut sock = TcpStream::connect(addr).expect("connect");
    sock.write_all(request.as_bytes()).expect("write");
    let mut out = String::new();
    sock.read_to_string(&mut out).expect("read");
    out.to_ascii_lowercase()
}

fn preflight(url: &str, origin: &str) -> String {
    http(
        url,
        &format!(
            "OPTIONS / HTTP/1.1\r\nHost: node\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n"
        ),
    )
}

fn call_from(url: &str, origin: &str) -> String {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"chain_getHead","params":[]}"#;
    http(
        url,
        &format!(
            "POST / HTTP/1.1\r\nHost: node\r\nOrigin: {origin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn start(dir: &std::path::Path, extra: &[&str]) -> DevNode {
    let mut args = DevNode::dev_args(dir);
    args.extend_from_slice(extra);
    DevNode::spawn(&args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_node_lets_pages_of_any_origin_call_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = start(dir.path(), &[]);
    let url = node.url.clone();
    tokio::task::spawn_blocking(move || {
        let answer = preflight(&url, "http://wallet.example:8080");
        assert!(answer.starts_with("http/1.1 200"), "{answer}");
        assert!(
            answer.contains("access-control-allow-origin: *"),
            "{answer}"
        );
        assert!(answer.contains("access-control-allow-methods:"), "{answer}");
        assert!(answer.contains("post"), "{answer}");
        assert!(
            answer.contains("access-control-allow-headers: content-type"),
            "{answer}"
        );
        let answer = call_from(&url, "http://wallet.example:8080");
        assert!(
            answer.contains("access-control-allow-origin: *"),
            "{answer}"
        );
        assert!(
            answer.contains("\"result\""),
            "the call itself is answered: {answer}"
        );
    })
    .await
    .expect("requests");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_listed_origins_allows_those_alone() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = start(dir.path(), &["--rpc-cors", "https://bank.example"]);
    let url = node.url.clone();
    tokio::task::spawn_blocking(move || {
        let answer = preflight(&url, "https://bank.example");
        assert!(
            answer.contains("access-control-allow-origin: https://bank.example"),
            "{answer}"
        );
        let answer = preflight(&url, "https://elsewhere.example");
        assert!(!answer.contains("access-control-allow-origin"), "{answer}");
        let answer = call_from(&url, "https://elsewhere.example");
        assert!(!answer.contains("access-control-allow-origin"), "{answer}");
        let answer = call_from(&url, "https://bank.example");
        assert!(
            answer.contains("access-control-allow-origin: https://bank.example"),
            "{answer}"
        );
    })
    .await
    .expect("requests");
    node.terminate();
    // A malformed origin is refused at start, naming it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["node", "--dev", "--rpc-cors", "bank.example", "--data-dir"])
        .arg(dir.path().join("other"))
        .args(["--rpc-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CORS origin `bank.example`"), "{err}");
}

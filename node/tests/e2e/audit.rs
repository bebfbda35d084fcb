//! `civitas audit --verify` against a node whose replies are tampered with in transit: a
//! flipped proof or value byte, a listing that differs from the proven entry, and a block
//! certificate signed by a key that is not a validator must each fail the check, naming what
//! failed; the same replies passed through untouched verify.
use std::sync::{Arc, Mutex};

use crate::common::*;
use crate::proxy::{Proxy, Rewrite};

/// What the proxy changes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tamper {
    Nothing,
    /// A byte of the first audit entry's Merkle proof.
    ProofByte,
    /// A byte of the first audit entry's SCALE value.
    ValueByte,
    /// The first entry's purpose as listed (value and proof untouched).
    ListedPurpose,
    /// Every block certificate, replaced by one over the same block hash signed by bob.
    ForeignCertificate,
    /// Every block certificate, cut to two of its four validator signatures.
    ShortCertificate,
}

/// Flips one hex digit in the middle of a `0x…` string.
fn flip_hex_digit(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = 2 + (chars.len() - 2) / 2;
    chars[i] = if chars[i] == '0' { '1' } else { '0' };
    chars.into_iter().collect()
}

fn rewrite(mode: Arc<Mutex<Tamper>>) -> Rewrite {
    Arc::new(move |method: &str, result: &mut serde_json::Value| {
        let mode = *mode.lock().expect("mode");
        match (mode, method) {
            (Tamper::ProofByte, "audit_listBySubject") => {
                let p = result["entries"][0]["proof"].as_str().expect("proof");
                result["entries"][0]["proof"] = flip_hex_digit(p).into();
            }
            (Tamper::ValueByte, "audit_listBySubject") => {
                let v = result["entries"][0]["value"].as_str().expect("value");
                result["entries"][0]["value"] = flip_hex_digit(v).into();
            }
            (Tamper::ListedPurpose, "audit_listBySubject") => {
                result["entries"][0]["purpose"] = "routine statistics".into();
            }
            (Tamper::ForeignCertificate, "chain_getBlock") => {
                let hex = result["certificate"].as_str().expect("certificate");
                let cert = civitas_primitives::block::CommitCertificate::decode(
                    &mut &from_hex(hex).expect("hex")[..],
                )
                .expect("certificate");
                let bob = key("bob");
                let vote = civitas_primitives::block::vote_message(
                    CHAIN,
                    cert.height,
                    cert.round,
                    &cert.block_hash,
                );
                let forged = civitas_primitives::block::CommitCertificate {
                    height: cert.height,
                    round: cert.round,
                    block_hash: cert.block_hash,
                    signatures: vec![(bob.account(), bob.sign_hash(&vote))],
                };
                result["certificate"] = to_hex(&forged.encode()).into();
                result["signed_by"] = serde_json::json!([to_hex(&bob.account().0)]);
            }
            (Tamper::ShortCertificate, "chain_getBlock") => {
                let hex = result["certificate"].as_str().expect("certificate");
                let mut cert = civitas_primitives::block::CommitCertificate::decode(
                    &mut &from_hex(hex).expect("hex")[..],
                )
                .expect("certificate");
                cert.signatures.truncate(2);
                result["certificate"] = to_hex(&cert.encode()).into();
            }
            _ => {}
        }
    })
}

/// A dev node on which bank-b has had one record of alice disclosed (one audit entry), and a
/// proxy in front of it.
fn node_with_one_audit_entry(dir: &Path) -> (DevNode, Proxy, Arc<Mutex<Tamper>>) {
    let node = DevNode::start(&dir.join("data"));
    let url = node.url.clone();
    cli_ok(
        &url,
        &[
            "identity",
            "bind",
            "--subject",
            "alice",
            "--account",
            "alice",
        ],
    );
    cli_ok(
        &url,
        &[
            "vault",
            "upload",
            "--dataset",
            "tax.annual_income",
            "--from",
            "tax",
            "--subject",
            "alice",
            "--set",
            "year=2025",
            "--set",
            "gross_income=73200",
            "--set",
            "tax_paid=15000",
        ],
    );
    let id = disclose_request_by_bank_b(&url, "tax.annual_income", "tenancy check");
    cli_ok(&url, &["consent", "approve", &id, "--from", "alice"]);
    cli_ok(&url, &["disclose", &id, "--from", "bank-b", "--json"]);
    let mode = Arc::new(Mutex::new(Tamper::Nothing));
    let proxy = Proxy::start(&url, rewrite(mode.clone()));
    (node, proxy, mode)
}

fn audit_via(proxy: &Proxy) -> (bool, String, String) {
    cli(
        &proxy.url,
        &[
            "audit", "--from", "alice", "--verify", "--json", "--rpc", &proxy.url,
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_names_the_entry_whose_proof_value_or_listing_was_tampered() {
    let dir = tempfile::tempdir().expect("tmp");
    let (node, proxy, mode) = node_with_one_audit_entry(dir.path());

    let (ok, out, err) = audit_via(&proxy);
    assert!(ok, "untampered replies verify through the proxy: {err}");
    let page: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(page["verified"], serde_json::json!(true));
    assert_eq!(page["entries"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["entries"][0]["kind"], "disclosure");
    assert_eq!(page["entries"][0]["purpose"], "tenancy check");

    for (tamper, expected) in [
        (Tamper::ProofByte, "audit entry 0 fails its proof"),
        (Tamper::ValueByte, "audit entry 0 fails its proof"),
        (
            Tamper::ListedPurpose,
            "audit entry 0 as listed differs from the proven entry",
        ),
    ] {
        *mode.lock().expect("mode") = tamper;
        let (ok, out, err) = audit_via(&proxy);
        assert!(!ok, "{tamper:?} must fail verification; printed {out}");
        assert!(err.contains(expected), "{tamper:?}: {err}");
    }
    // Without --verify the tampered listing is shown as is: the check is what catches it.
    let (ok, out, _) = cli(
        &proxy.url,
        &["audit", "--from", "alice", "--json", "--rpc", &proxy.url],
    );
    assert!(ok && out.contains("routine statistics"), "{out}");
    drop(proxy);
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_refuses_a_certificate_signed_by_a_non_validator() {
    let dir = tempfile::tempdir().expect("tmp");
    let (node, proxy, mode) = node_with_one_audit_entry(dir.path());
    let (ok, _, err) = audit_via(&proxy);
    assert!(ok, "the validator's own certificate verifies: {err}");

    // bob is a citizen in the dev genesis, not a validator; his signature over the block hash
    // is valid but carries no authority.
    *mode.lock().expect("mode") = Tamper::ForeignCertificate;
    // Through the proxy, the head's block now carries bob's (well-formed, validly signed)
    // certificate over its real hash.
    let via = HttpClientBuilder::default()
        .build(&proxy.url)
        .expect("client");
    let block = via.get_block(None).await.expect("block via the proxy");
    let cert = civitas_primitives::block::CommitCertificate::decode(
        &mut &from_hex(block.certificate.as_deref().expect("certificate")).expect("hex")[..],
    )
    .expect("certificate");
    assert_eq!(
        cert.block_hash.to_hex(),
        block.header.hash.trim_start_matches("0x")
    );
    assert_eq!(cert.signatures.len(), 1);
    assert_eq!(cert.signatures[0].0, key("bob").account());
    assert!(civitas_primitives::crypto::verify_hash(
        &cert.signatures[0].0,
        &civitas_primitives::block::vote_message(CHAIN, cert.height, cert.round, &cert.block_hash),
        &cert.signatures[0].1,
    ));
    let (ok, out, err) = audit_via(&proxy);
    assert!(
        !ok,
        "a certificate signed by a non-validator must fail --verify; printed {out}"
    );
    assert!(err.contains("certificate"), "{err}");
    assert!(err.contains("is not a validator of this height"), "{err}");

    // The real certificate with half its signatures is no quorum.
    *mode.lock().expect("mode") = Tamper::ShortCertificate;
    let (ok, out, err) = audit_via(&proxy);
    assert!(
        !ok,
        "two of four signatures must fail --verify; printed {out}"
    );
    assert!(err.contains("2 of 4 validators signed"), "{err}");

    // Untampered again: it verifies.
    *mode.lock().expect("mode") = Tamper::Nothing;
    let (ok, out, err) = audit_via(&proxy);
    assert!(ok, "{out}\n{err}");
    drop(proxy);
    node.terminate();
}

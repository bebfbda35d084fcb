//! `civitas vault upload --file`: CSV and JSON-lines records become on-chain commitments with
//! the next versions, earn the custodian the genesis record reward, and a malformed row is
//! refused by its number before anything is sent.
use crate::common::*;

const DATASET: &str = "tax.annual_income";

/// The chain's record reward: the genesis `record_reward`, stored at `g/reward`.
async fn record_reward(c: &HttpClient) -> u128 {
    let proof = c
        .get_proof(to_hex(keys::RECORD_REWARD), None)
        .await
        .expect("proof of the record reward");
    let value = from_hex(&proof.value.expect("the genesis sets a reward")).expect("hex");
    u128::decode(&mut &value[..]).expect("u128")
}

fn credits(url: &str, who: &str) -> u128 {
    let out = cli_ok(url, &["credits", "balance", who, "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    v["balance"]
        .as_str()
        .expect("balance")
        .parse()
        .expect("u128")
}

/// (version, record hash) of each commitment of `subject` in the dataset, from the CLI.
fn commitments(url: &str, subject: &str) -> Vec<(u64, String)> {
    let out = cli_ok(
        url,
        &[
            "vault",
            "commitments",
            "--subject",
            subject,
            "--dataset",
            DATASET,
        ],
    );
    let list: serde_json::Value = serde_json::from_str(&out).expect("json");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            assert_eq!(
                c["custodian"].as_str(),
                Some(to_hex(&key("tax").account().0).as_str()),
                "{c}"
            );
            (
                c["version"].as_u64().expect("version"),
                c["record_hash"]
                    .as_str()
                    .expect("hash")
                    .trim_start_matches("0x")
                    .to_string(),
            )
        })
        .collect()
}

/// Uploads `file` as the tax department; returns the record hashes it reports.
fn upload(url: &str, file: &Path) -> Vec<String> {
    let out = cli_ok(
        url,
        &[
            "vault",
            "upload",
            "--dataset",
            DATASET,
            "--from",
            "tax",
            "--file",
            file.to_str().expect("utf-8"),
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["failed"], serde_json::json!([]), "{v}");
    let hashes: Vec<String> = v["record_hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .map(|h| {
            h.as_str()
                .expect("hex")
                .trim_start_matches("0x")
                .to_string()
        })
        .collect();
    assert_eq!(v["uploaded"].as_u64(), Some(hashes.len() as u64), "{v}");
    hashes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_and_json_lines_uploads_commit_versions_and_pay_the_record_reward() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(&dir.path().join("data"));
    let (url, c) = (node.url.clone(), node.client());
    let reward = record_reward(&c).await;
    assert!(reward > 0, "the dev genesis pays for records");
    let start = credits(&url, "tax");

    let csv = dir.path().join("income.csv");
    std::fs::write(
        &csv,
        "subject,year,gross_income,tax_paid\n\
         alice,2023,70000,14000\n\
         bob,2023,41000,7000\n\
         alice,2024,73200,15000\n",
    )
    .expect("write");
    let h = upload(&url, &csv);
    assert_eq!(h.len(), 3);
    assert_eq!(
        commitments(&url, "alice"),
        vec![(1, h[0].clone()), (2, h[2].clone())]
    );
    assert_eq!(commitments(&url, "bob"), vec![(1, h[1].clone())]);
    assert_eq!(credits(&url, "tax"), start + 3 * reward);

    // JSON lines continue each subject's versions (corrections are new versions).
    let jsonl = dir.path().join("income.jsonl");
    std::fs::write(
        &jsonl,
        "{\"subject\":\"bob\",\"year\":2024,\"gross_income\":43000,\"tax_paid\":7400}\n\
         \n\
         {\"subject\":\"alice\",\"year\":2024,\"gross_income\":\"73300\",\"tax_paid\":15010}\n",
    )
    .expect("write");
    let j = upload(&url, &jsonl);
    assert_eq!(j.len(), 2);
    assert_eq!(
        commitments(&url, "alice"),
        vec![(1, h[0].clone()), (2, h[2].clone()), (3, j[1].clone())]
    );
    assert_eq!(
        commitments(&url, "bob"),
        vec![(1, h[1].clone()), (2, j[0].clone())]
    );
    let paid = credits(&url, "tax");
    assert_eq!(paid, start + 5 * reward, "record_reward × records uploaded");

    // Malformed rows: refused naming the record and the field; nothing reaches the chain.
    let head = c.get_head().await.expect("head");
    let tax_nonce = nonce(&c, &key("tax")).await;
    let bad_type = dir.path().join("bad-type.csv");
    std::fs::write(
        &bad_type,
        "subject,year,gross_income,tax_paid\n\
         alice,2025,80000,16000\n\
         bob,2025,lots,7000\n",
    )
    .expect("write");
    let missing = dir.path().join("missing.jsonl");
    std::fs::write(
        &missing,
        "{\"subject\":\"alice\",\"year\":2025,\"gross_income\":1,\"tax_paid\":0}\n\
         {\"subject\":\"bob\",\"year\":2025,\"gross_income\":1}\n",
    )
    .expect("write");
    for (file, expected) in [
        (
            &bad_type,
            "record 2: field `gross_income`: `lots` is not an integer",
        ),
        (&missing, "record 2: missing field `tax_paid` (u64)"),
    ] {
        let (ok, _, err) = cli(
            &url,
            &[
                "vault",
                "upload",
                "--dataset",
                DATASET,
                "--from",
                "tax",
                "--file",
                file.to_str().expect("utf-8"),
            ],
        );
        assert!(!ok, "{} must be refused", file.display());
        assert!(err.contains(expected), "{}: {err}", file.display());
    }
    assert_eq!(commitments(&url, "alice").len(), 3);
    assert_eq!(commitments(&url, "bob").len(), 2);
    assert_eq!(credits(&url, "tax"), paid);
    assert_eq!(nonce(&c, &key("tax")).await, tax_nonce, "nothing submitted");
    assert_eq!(c.get_head().await.expect("head"), head, "no block");
    node.terminate();
}

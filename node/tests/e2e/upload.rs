//! `civitas vault upload --file`: CSV and JSON-lines records become on-chain commitments with
//! the next versions, earn the custodian the genesis record reward, and a malformed row is
//! refused by its line before anything is sent, even far into a file larger than the chunks in
//! flight; a register of several chunks streams with each subject's versions continuing across
//! chunks, whether the chunk before is confirmed yet or not.
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
    upload_with(url, file, &[])
}

/// The arguments of uploading `file` as the tax department, then `options`.
fn upload_args<'a>(file: &'a Path, options: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "vault",
        "upload",
        "--dataset",
        DATASET,
        "--from",
        "tax",
        "--file",
        file.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(options);
    args
}

/// An upload of `file` that must be refused; its error output.
fn refused_upload(url: &str, file: &Path, options: &[&str]) -> String {
    let (ok, _, err) = cli(url, &upload_args(file, options));
    assert!(!ok, "{} must be refused", file.display());
    err
}

/// [`upload`] with more options.
fn upload_with(url: &str, file: &Path, options: &[&str]) -> Vec<String> {
    let mut args = upload_args(file, &["--json"]);
    args.extend_from_slice(options);
    let out = cli_ok(url, &args);
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
            "record on line 3: field `gross_income`: `lots` is not an integer",
        ),
        (&missing, "record on line 2: missing field `tax_paid` (u64)"),
    ] {
        let err = refused_upload(&url, file, &[]);
        assert!(err.contains(expected), "{}: {err}", file.display());
    }
    assert_eq!(commitments(&url, "alice").len(), 3);
    assert_eq!(commitments(&url, "bob").len(), 2);
    assert_eq!(credits(&url, "tax"), paid);
    assert_eq!(nonce(&c, &key("tax")).await, tax_nonce, "nothing submitted");
    assert_eq!(c.get_head().await.expect("head"), head, "no block");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_of_several_chunks_streams_and_continues_each_subjects_versions() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(&dir.path().join("data"));
    let (url, c) = (node.url.clone(), node.client());
    let single = dir.path().join("first.csv");
    std::fs::write(
        &single,
        "subject,year,gross_income,tax_paid\nalice,2023,70000,14000\n",
    )
    .expect("write");
    let first = upload(&url, &single);

    // 2,600 rows (three chunks of at most 1,000, one in flight at a time): alice in the first,
    // second and third chunk, the rest distinct citizens.
    let alice_rows = [0usize, 1_500, 2_550];
    let mut text = String::from("subject,year,gross_income,tax_paid\n");
    for i in 0..2_600usize {
        let subject = if alice_rows.contains(&i) {
            "alice".to_string()
        } else {
            to_hex(&sha3_256(format!("citizen {i}").as_bytes()).0)
        };
        text.push_str(&format!("{subject},2024,{},{}\n", 40_000 + i, 8_000 + i));
    }
    let register = dir.path().join("register.csv");
    std::fs::write(&register, &text).expect("write");
    let h = upload_with(&url, &register, &["--in-flight", "1"]);
    assert_eq!(h.len(), 2_600, "every record's hash, in file order");
    assert_eq!(
        commitments(&url, "alice"),
        vec![
            (1, first[0].clone()),
            (2, h[0].clone()),
            (3, h[1_500].clone()),
            (4, h[2_550].clone())
        ]
    );
    for i in [1usize, 999, 1_000, 2_599] {
        let subject = to_hex(&sha3_256(format!("citizen {i}").as_bytes()).0);
        assert_eq!(
            commitments(&url, &subject),
            vec![(1, h[i].clone())],
            "row {i}"
        );
    }

    // A bad row in the third chunk: refused by its line, and nothing of the file is sent.
    let tax_nonce = nonce(&c, &key("tax")).await;
    let bad = dir.path().join("bad.csv");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2_501] = "bob,2024,many,1";
    std::fs::write(&bad, lines.join("\n")).expect("write");
    let err = refused_upload(&url, &bad, &["--in-flight", "1"]);
    assert!(
        err.contains("record on line 2502: field `gross_income`: `many` is not an integer"),
        "{err}"
    );
    assert_eq!(nonce(&c, &key("tax")).await, tax_nonce, "nothing submitted");
    assert_eq!(commitments(&url, "alice").len(), 4);

    // The batch reads the upload follows its chunks with: in order, bounded, typed refusals.
    let alice = cli_ok(&url, &["identity", "subject", "alice"]);
    let versions = VaultApiClient::get_latest_versions(
        &c,
        DATASET.into(),
        vec![alice.trim().into(), to_hex(&[7; 32])],
    )
    .await
    .expect("versions");
    assert_eq!(versions, vec![4, 0]);
    let too_many =
        VaultApiClient::get_latest_versions(&c, DATASET.into(), vec![to_hex(&[7; 32]); 1_001])
            .await
            .expect_err("over the limit");
    assert_eq!(rejection(too_many).0, errors::INVALID_PARAMS);
    let paid = send(
        &c,
        &key("bob"),
        10_000,
        Call::Transfer {
            to: key("alice").account(),
            amount: 1,
        },
    )
    .await;
    let receipts = TxApiClient::get_receipts(&c, vec![to_hex(&[9; 32]), paid.tx_hash.clone()])
        .await
        .expect("receipts");
    assert!(receipts[0].is_none(), "no such transaction");
    let got = receipts[1].as_ref().expect("committed");
    assert_eq!(
        (&got.tx_hash, got.height, got.status.as_str()),
        (&paid.tx_hash, paid.height, "success")
    );
    let bad_hash = TxApiClient::get_receipts(&c, vec!["0x12".into()])
        .await
        .expect_err("not a hash");
    assert_eq!(rejection(bad_hash).0, errors::INVALID_PARAMS);
    node.terminate();
}

//! A local devnet written by `civitas devnet init` on a free port range, and the loan records
//! its tests upload: shared by the devnet tests and the soak.
#![allow(dead_code)]
use crate::common::*;

pub(crate) const VALIDATORS: u16 = 4;

/// A base port whose 10 ports per node (validators and one observer) are all free on
/// 127.0.0.1 now; each call in this process starts its search past the ranges handed out
/// before, so tests running side by side never pick the same range.
pub(crate) fn free_base_port() -> u16 {
    static HANDED_OUT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let nodes = VALIDATORS + 1;
    // Below the kernel's ephemeral range (32768 up), so no client socket of another test
    // takes a port between the check and the nodes' binds.
    let start = (std::process::id() % 240) as u16 * 50;
    let skip = HANDED_OUT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    (skip..skip + 240u16)
        .map(|i| 20_000 + (start + i * 50) % 12_000)
        .find(|base| {
            (0..10 * nodes).all(|p| std::net::TcpListener::bind(("127.0.0.1", base + p)).is_ok())
        })
        .expect("a free port range")
}

/// Writes a devnet of [`VALIDATORS`] validators (and what `extra` flags add) with `civitas
/// devnet init` into `dir/net`, on a free port range; returns that directory.
pub(crate) fn init_devnet(dir: &Path, extra: &[&str]) -> PathBuf {
    let net = dir.join("net");
    let out = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args(["devnet", "init", net.to_str().expect("utf-8")])
        .args(["--validators", &VALIDATORS.to_string()])
        .args(["--base-port", &free_base_port().to_string()])
        .args(extra)
        .output()
        .expect("devnet init");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    net
}

/// The datasets a loan score reads.
pub(crate) const LOAN_DATASETS: [&str; 3] = [
    "tax.annual_income",
    "social_security.employment",
    "real_estate.holdings",
];

/// Uploads alice's income, employment (with `employer`) and holdings through the node at
/// `url`, each by its department.
pub(crate) fn upload_loan_records(url: &str, employer: &str) {
    let employer = format!("employer={employer}");
    let records: [(&str, &[&str]); 3] = [
        ("tax", &["year=2025", "gross_income=61234", "tax_paid=9000"]),
        (
            "social-security",
            &[
                &employer,
                "employed=true",
                "months_employed=40",
                "monthly_salary=6100",
            ],
        ),
        (
            "real-estate",
            &["properties=0", "total_value=0", "mortgaged=false"],
        ),
    ];
    for (dataset, (from, sets)) in LOAN_DATASETS.iter().zip(records) {
        let mut args = vec![
            "vault",
            "upload",
            "--dataset",
            dataset,
            "--from",
            from,
            "--subject",
            "alice",
        ];
        for s in sets {
            args.extend(["--set", s]);
        }
        cli_ok(url, &args);
    }
}

/// The record hashes of alice's loan records, as the node at `url` (client `c`) commits them.
pub(crate) async fn loan_record_hashes(c: &HttpClient, url: &str) -> Vec<Hash> {
    let subject = cli_ok(url, &["identity", "subject", "alice"])
        .trim()
        .to_string();
    let mut hashes = Vec::new();
    for dataset in LOAN_DATASETS {
        let commitments = c
            .get_commitments(subject.clone(), dataset.into())
            .await
            .expect("commitments");
        hashes.push(Hash(hex32(&commitments[0].record_hash).expect("hex")));
    }
    hashes
}

/// The vault of a stopped node whose data directory is `data`.
pub(crate) fn stopped_vault(data: &Path) -> civitas_ledger::vault::Vault {
    civitas_ledger::vault::Vault::new(
        civitas_ledger::Store::open(data).expect("store"),
        civitas_ledger::vault::Vault::load_or_create_key(&data.join("vault.key")).expect("key"),
    )
}

//! A node started from a TOML config, JSON genesis and validator key file.
use crate::common::*;

/// The configured chain's access key secret.
const ACCESS_SECRET: [u8; 32] = [0x5a; 32];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_runs_from_a_config_file_genesis_and_validator_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let validator = key("ministry");
    let citizen = key("carol");
    let genesis = civitas_ledger::Genesis {
        chain_id: "civitas-configured".into(),
        genesis_time_ms: 1_767_225_600_000,
        accounts: vec![
            civitas_ledger::GenesisAccount {
                name: "ministry".into(),
                account: validator.account().to_hex(),
                balance: 1_000,
                roles: vec!["validator".into()],
            },
            civitas_ledger::GenesisAccount {
                name: "carol".into(),
                account: citizen.account().to_hex(),
                balance: 50,
                roles: vec![],
            },
        ],
        upload_roles: vec!["institution".into()],
        instantiate_roles: vec!["institution".into()],
        governance_threshold: 1,
        sealed_committee: None,
        committee_key: None,
        record_reward: 10,
        fuel_price: 0,
        datasets: vec![],
        access_key: Some(hex::encode(civitas_primitives::crypto::x25519_public(
            &ACCESS_SECRET,
        ))),
    };
    let genesis_file = dir.path().join("genesis.json");
    std::fs::write(
        &genesis_file,
        serde_json::to_vec_pretty(&genesis).expect("json"),
    )
    .expect("write");
    let key_file = dir.path().join("validator.key");
    std::fs::write(&key_file, hex::encode(validator.seed())).expect("write");
    let access_file = dir.path().join("access.key");
    std::fs::write(&access_file, hex::encode(ACCESS_SECRET)).expect("write");
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\ngenesis_file = {:?}\nvalidator_key_file = {:?}\naccess_key_file = {:?}\nrpc_addr = \"127.0.0.1:0\"\nmetrics_addr = \"127.0.0.1:0\"\nblock_interval_ms = 20\n",
            dir.path().join("data"),
            genesis_file,
            key_file,
            access_file
        ),
    )
    .expect("write");
    let node = DevNode::spawn(&["node", "--config", config.to_str().expect("utf-8 path")]);
    let c = node.client();
    let health = c.health().await.expect("health");
    assert_eq!(health.chain_id, "civitas-configured");
    assert_eq!(health.role, "validator", "a configured node is a validator");
    assert_eq!(
        c.get_access_key().await.expect("access key"),
        to_hex(&civitas_primitives::crypto::x25519_public(&ACCESS_SECRET)),
        "the genesis access key"
    );
    let tx = citizen.sign_tx(Transaction {
        chain_id: "civitas-configured".into(),
        signer: citizen.account(),
        nonce: 0,
        fuel_limit: 10_000,
        call: Call::Transfer {
            to: validator.account(),
            amount: 20,
        },
    });
    let hash = submit(&c, &tx).await.expect("admitted");
    let r = wait(&c, &hash).await;
    assert_eq!(r.status, "success");
    let block = c.get_block(Some(r.height)).await.expect("block");
    assert_eq!(
        block.signed_by,
        vec![to_hex(&validator.account().0)],
        "blocks are signed by the configured validator key"
    );
    node.terminate();
}

//! A department network on loopback for the BFT tests: one `civitas node --config` process
//! per validator (its key derived from its dev name, a `p2p_addr`, every other node as a
//! peer), a shared genesis and chain keys; reading blocks and certificates back from the nodes.
//! A failing test prints the end of every node's log.
#![allow(dead_code)]
use civitas_ledger::Genesis;
use civitas_primitives::block::{Block, CommitCertificate};
use civitas_primitives::certificate::verify_certificate;

use crate::common::*;

/// The dev validators, in genesis order.
pub const VALIDATORS: [&str; 4] = ["tax", "social-security", "civil-affairs", "real-estate"];

/// The network's files under a temporary directory: genesis, keys, one config per node.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub names: Vec<String>,
    configs: Vec<PathBuf>,
}

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect()
}

/// The four dev validators on the dev genesis.
pub fn write_network() -> Net {
    write_network_of(&VALIDATORS, &civitas_node::dev::dev_genesis())
}

/// One node per name in `names` (its validator key derives from the name) on `genesis`, the
/// dev chain keys; each node dials all the others. Whether a node validates is up to the
/// genesis and governance, not to its configuration.
pub fn write_network_of(names: &[&str], genesis: &Genesis) -> Net {
    let dir = tempfile::tempdir().expect("tmp");
    let genesis_file = dir.path().join("genesis.json");
    std::fs::write(
        &genesis_file,
        serde_json::to_vec_pretty(genesis).expect("json"),
    )
    .expect("write genesis");
    let access_file = dir.path().join("access.key");
    std::fs::write(
        &access_file,
        hex::encode(civitas_primitives::dev::dev_access_key(CHAIN)),
    )
    .expect("write");
    let sealing_file = dir.path().join("sealing.key");
    std::fs::write(
        &sealing_file,
        hex::encode(civitas_primitives::dev::dev_sealing_key(CHAIN)),
    )
    .expect("write");
    let ports = free_ports(names.len());
    let mut configs = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let key_file = dir.path().join(format!("{name}.key"));
        std::fs::write(&key_file, hex::encode(key(name).seed())).expect("write");
        let peers: Vec<String> = ports
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| format!("\"127.0.0.1:{p}\""))
            .collect();
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\ngenesis_file = {:?}\nvalidator_key_file = {:?}\naccess_key_file = {:?}\nsealing_key_file = {:?}\nrpc_addr = \"127.0.0.1:0\"\nmetrics_addr = \"127.0.0.1:0\"\np2p_addr = \"127.0.0.1:{}\"\npeers = [{}]\n",
                dir.path().join(name),
                genesis_file,
                key_file,
                access_file,
                sealing_file,
                ports[i],
                peers.join(", ")
            ),
        )
        .expect("write config");
        configs.push(config);
    }
    Net {
        dir,
        names: names.iter().map(|n| n.to_string()).collect(),
        configs,
    }
}

impl Drop for Net {
    /// A failing test shows the end of every node's log (the directory goes with it).
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for name in &self.names {
            let log = std::fs::read_to_string(self.dir.path().join(format!("{name}.log")))
                .unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("--- {name}.log (last 40 lines) ---");
            for l in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("{l}");
            }
        }
    }
}

impl Net {
    /// Node `i`'s log so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{}.log", self.names[i])))
            .unwrap_or_default()
    }

    /// The height the engine of node `i` last started at.
    pub fn last_start_height(&self, i: usize) -> Option<u64> {
        self.log(i)
            .lines()
            .rev()
            .filter_map(|l| l.split("consensus ready height=").nth(1))
            .find_map(|rest| rest.split_whitespace().next()?.parse().ok())
    }

    /// Starts node `i` (appending to its log).
    pub fn start(&self, i: usize) -> DevNode {
        self.start_with_env(i, &[])
    }

    /// Starts node `i` with extra environment variables.
    pub fn start_with_env(&self, i: usize, env: &[(&str, &str)]) -> DevNode {
        self.start_with(i, env, &[])
    }

    /// Starts node `i` with extra environment variables and extra `civitas node` flags.
    pub fn start_with(&self, i: usize, env: &[(&str, &str)], flags: &[&str]) -> DevNode {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("{}.log", self.names[i])))
            .expect("log file");
        // The engine's start height is read back from the log (`consensus ready height=N`).
        let filter = std::env::var("CIVITAS_BFT_LOG")
            .unwrap_or_else(|_| "warn,civitas_node=info,arc_malachitebft_sync=info".into());
        let mut command = Command::new(env!("CARGO_BIN_EXE_civitas"));
        command.envs(env.iter().copied());
        let mut args = vec![
            "node",
            "--config",
            self.configs[i].to_str().expect("utf-8 path"),
        ];
        args.extend_from_slice(flags);
        DevNode::spawn_command(command, &args, &filter, Stdio::from(log))
    }
}

/// The dev validators' accounts.
pub fn validators() -> Vec<AccountId> {
    VALIDATORS.iter().map(|n| key(n).account()).collect()
}

/// Block `h` as `c` serves it: the decoded block and certificate.
pub async fn block_at(c: &HttpClient, h: u64) -> (Block, CommitCertificate) {
    let info = c.get_block(Some(h)).await.expect("block");
    let block = Block::decode(&mut &from_hex(&info.raw).expect("hex")[..]).expect("block");
    let cert = CommitCertificate::decode(
        &mut &from_hex(&info.certificate.expect("a certificate")).expect("hex")[..],
    )
    .expect("certificate");
    (block, cert)
}

/// The distinct signers of `cert`.
pub fn signers(cert: &CommitCertificate) -> std::collections::BTreeSet<AccountId> {
    cert.signatures.iter().map(|(a, _)| *a).collect()
}

/// The validator set of `height` as `c` reports it (`chain_getValidators`).
pub async fn set_at(c: &HttpClient, height: u64) -> Vec<AccountId> {
    c.get_validators(Some(height))
        .await
        .expect("validators")
        .validators
        .iter()
        .map(|v| AccountId(hex32(v).expect("hex")))
        .collect()
}

/// Polls every client until its head reaches `height`.
pub async fn all_reach(clients: &[HttpClient], height: u64, what: &str) {
    for c in clients {
        head_until(c, what, |h| h.height >= height).await;
    }
}

/// Checks heights `1..=upto` on every client: one block hash and state root per height,
/// each certificate valid with at least three distinct genesis validators.
pub async fn same_chain_with_quorum_certificates(clients: &[HttpClient], upto: u64) {
    let set = validators();
    for h in 1..=upto {
        let mut reference: Option<(Hash, Hash)> = None;
        for (i, c) in clients.iter().enumerate() {
            let (block, cert) = block_at(c, h).await;
            let ids = (block.header.hash(), block.header.state_root);
            match reference {
                None => reference = Some(ids),
                Some(r) => assert_eq!(r, ids, "node {i} differs from node 0 at height {h}"),
            }
            let signers = signers(&cert);
            assert!(
                signers.len() >= 3,
                "height {h} on node {i}: {} distinct signers",
                signers.len()
            );
            verify_certificate(&block.header, &cert, &set)
                .unwrap_or_else(|e| panic!("height {h} on node {i}: {e}"));
        }
    }
}

/// Submits `from`'s transfer `nonce` of 1 credit to bob; its hash.
pub async fn transfer(c: &HttpClient, from: &Keypair, nonce: u64) -> String {
    let tx = sign(
        from,
        nonce,
        10_000,
        Call::Transfer {
            to: key("bob").account(),
            amount: 1,
        },
    );
    submit(c, &tx).await.expect("admitted")
}

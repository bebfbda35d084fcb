//! `civitas devnet init`: a local network of department validators on 127.0.0.1, one directory
//! per node (its `node.toml` and key files) around one shared `genesis.json`. The genesis is
//! the dev genesis (dev accounts, datasets and keys anyone can derive: never outside a
//! devnet) with N department validators.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use civitas_ledger::GenesisAccount;
use clap::{Args, Subcommand};

use crate::dev;

/// `civitas devnet …`
#[derive(Subcommand, Debug)]
pub enum DevnetCommand {
    /// Write the configuration of a local network: DIR/genesis.json, DIR/node-K/ (node.toml,
    /// validator key, chain access key, and the sealing key on the sealed-compute committee's
    /// nodes) for each validator and DIR/observer-K/ for each observer, with RPC, metrics and
    /// peer-to-peer ports on 127.0.0.1 from --base-port up (10 ports a node).
    Init(InitArgs),
}

/// `civitas devnet init` flags.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Directory to write (must not exist, or be empty).
    pub dir: PathBuf,
    /// Department validators (1 to 16). The first four are the dev departments (tax,
    /// social-security, civil-affairs, real-estate), so dev commands such as `--from tax`
    /// work; more are named department-5, department-6, …
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub validators: u16,
    /// Observer nodes (0 to 8): DIR/observer-K/, no key at all, following the validators;
    /// they take the ports after the validators'.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=8))]
    pub observers: u16,
    /// First port: node K uses base + 10·K (RPC), +1 (metrics), +2 (peer-to-peer).
    #[arg(long, default_value_t = 27000)]
    pub base_port: u16,
    /// Chain id.
    #[arg(long, default_value = "civitas-devnet")]
    pub chain_id: String,
}

/// The ports of node `k`.
struct Ports {
    rpc: u16,
    metrics: u16,
    p2p: u16,
}

fn ports(base: u16, k: u16) -> Result<Ports> {
    let at = |offset: u16| {
        base.checked_add(10 * k + offset)
            .context("--base-port leaves no room for every node's ports below 65536")
    };
    Ok(Ports {
        rpc: at(0)?,
        metrics: at(1)?,
        p2p: at(2)?,
    })
}

/// The names of the `n` validators.
fn validator_names(n: u16) -> Vec<String> {
    let mut names: Vec<String> = dev::DEV_ACCOUNTS
        .iter()
        .filter(|(_, roles)| roles.contains(&"validator"))
        .map(|(name, _)| (*name).to_string())
        .collect();
    names.truncate(usize::from(n));
    for k in names.len()..usize::from(n) {
        names.push(format!("department-{}", k + 1));
    }
    names
}

/// Runs a `civitas devnet` command.
pub fn run(cmd: DevnetCommand) -> Result<()> {
    match cmd {
        DevnetCommand::Init(args) => init(&args).map(|_| ()),
    }
}

/// Writes the network's configuration; returns each node's directory.
pub fn init(args: &InitArgs) -> Result<Vec<PathBuf>> {
    if args.dir.exists()
        && std::fs::read_dir(&args.dir)
            .with_context(|| format!("reading {}", args.dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} exists and is not empty: choose a new directory",
            args.dir.display()
        );
    }
    let names = validator_names(args.validators);
    let all_ports: Vec<Ports> = (0..args.validators)
        .map(|k| ports(args.base_port, k))
        .collect::<Result<_>>()?;
    let observer_ports: Vec<Ports> = (0..args.observers)
        .map(|k| ports(args.base_port, args.validators + k))
        .collect::<Result<_>>()?;

    let mut genesis = dev::dev_genesis();
    genesis.chain_id = args.chain_id.clone();
    genesis.access_key = Some(
        civitas_primitives::AccountId(civitas_primitives::crypto::x25519_public(
            &civitas_primitives::dev::dev_access_key(&args.chain_id),
        ))
        .to_hex(),
    );
    genesis.committee_key = Some(
        civitas_primitives::AccountId(civitas_primitives::crypto::x25519_public(
            &civitas_primitives::crypto::committee_transport_secret(
                &civitas_primitives::dev::dev_sealing_key(&args.chain_id),
            ),
        ))
        .to_hex(),
    );
    for account in &mut genesis.accounts {
        if !names.contains(&account.name) {
            account.roles.retain(|r| r != "validator");
        }
    }
    for name in &names {
        if genesis.accounts.iter().any(|a| &a.name == name) {
            continue;
        }
        genesis.accounts.push(GenesisAccount {
            name: name.clone(),
            account: dev::dev_key(name).account().to_hex(),
            balance: dev::DEV_BALANCE,
            roles: vec!["validator".into(), "custodian".into()],
        });
    }
    genesis.governance_threshold = genesis.governance_threshold.min(u32::from(args.validators));
    genesis.validate().context("the devnet genesis")?;

    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let dir = std::fs::canonicalize(&args.dir)?;
    let genesis_file = dir.join("genesis.json");
    std::fs::write(&genesis_file, serde_json::to_vec_pretty(&genesis)?)
        .with_context(|| format!("writing {}", genesis_file.display()))?;

    let committee = genesis.committee().context("the devnet genesis")?;
    let in_committee = |name: &str| committee.contains(&dev::dev_key(name).account());
    let mut nodes = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let node_dir = dir.join(format!("node-{k}"));
        std::fs::create_dir_all(&node_dir)?;
        let key_file = node_dir.join("validator.key");
        write_secret(&key_file, &dev::dev_key(name).seed())?;
        let access_file = node_dir.join("access.key");
        write_secret(
            &access_file,
            &civitas_primitives::dev::dev_access_key(&args.chain_id),
        )?;
        // The chain sealing key goes to the committee's nodes alone.
        let sealing_file = node_dir.join("sealing.key");
        if in_committee(name) {
            write_secret(
                &sealing_file,
                &civitas_primitives::dev::dev_sealing_key(&args.chain_id),
            )?;
        }
        let me = &all_ports[k];
        let others = || all_ports.iter().enumerate().filter(move |(j, _)| *j != k);
        let peers: Vec<String> = others()
            .map(|(_, p)| format!("\"127.0.0.1:{}\"", p.p2p))
            .collect();
        let relay: Vec<String> = others()
            .map(|(_, p)| format!("\"http://127.0.0.1:{}\"", p.rpc))
            .collect();
        let committee_rpc: Vec<String> = others()
            .filter(|(j, _)| in_committee(&names[*j]))
            .map(|(_, p)| format!("\"http://127.0.0.1:{}\"", p.rpc))
            .collect();
        let mut toml = String::new();
        writeln!(toml, "# Devnet validator {k}: {name}")?;
        writeln!(toml, "data_dir = {:?}", path_str(&node_dir.join("data"))?)?;
        writeln!(toml, "genesis_file = {:?}", path_str(&genesis_file)?)?;
        writeln!(toml, "validator_key_file = {:?}", path_str(&key_file)?)?;
        writeln!(toml, "access_key_file = {:?}", path_str(&access_file)?)?;
        if in_committee(name) {
            writeln!(toml, "# a member of the sealed-compute committee")?;
            writeln!(toml, "sealing_key_file = {:?}", path_str(&sealing_file)?)?;
        }
        writeln!(toml, "rpc_addr = \"127.0.0.1:{}\"", me.rpc)?;
        writeln!(toml, "metrics_addr = \"127.0.0.1:{}\"", me.metrics)?;
        writeln!(toml, "p2p_addr = \"127.0.0.1:{}\"", me.p2p)?;
        writeln!(toml, "peers = [{}]", peers.join(", "))?;
        writeln!(toml, "relay_rpc = [{}]", relay.join(", "))?;
        writeln!(toml, "committee_rpc = [{}]", committee_rpc.join(", "))?;
        std::fs::write(node_dir.join("node.toml"), toml)?;
        println!(
            "node-{k}  {name:<16} rpc http://127.0.0.1:{}  p2p 127.0.0.1:{}  {}",
            me.rpc,
            me.p2p,
            node_dir.join("node.toml").display()
        );
        nodes.push(node_dir);
    }
    let validator_rpc: Vec<String> = all_ports
        .iter()
        .map(|p| format!("\"http://127.0.0.1:{}\"", p.rpc))
        .collect();
    for (k, me) in observer_ports.iter().enumerate() {
        let node_dir = dir.join(format!("observer-{k}"));
        std::fs::create_dir_all(&node_dir)?;
        let mut toml = String::new();
        writeln!(
            toml,
            "# Devnet observer {k}: no key; follows and forwards to the validators"
        )?;
        writeln!(toml, "data_dir = {:?}", path_str(&node_dir.join("data"))?)?;
        writeln!(toml, "genesis_file = {:?}", path_str(&genesis_file)?)?;
        writeln!(toml, "rpc_addr = \"127.0.0.1:{}\"", me.rpc)?;
        writeln!(toml, "relay_rpc = [{}]", validator_rpc.join(", "))?;
        std::fs::write(node_dir.join("node.toml"), toml)?;
        println!(
            "observer-{k}  rpc http://127.0.0.1:{}  {}",
            me.rpc,
            node_dir.join("node.toml").display()
        );
        nodes.push(node_dir);
    }
    println!(
        "devnet {} with {} validators and {} observers written to {}; start each node with `civitas node --config DIR/node-K/node.toml` (and DIR/observer-K/node.toml; scripts/devnet does it all)",
        args.chain_id,
        names.len(),
        args.observers,
        dir.display()
    );
    Ok(nodes)
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not valid UTF-8", p.display()))
}

/// Writes a 32-byte secret as hex, readable by its owner only.
fn write_secret(path: &Path, secret: &[u8; 32]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(hex::encode(secret).as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_a_genesis_with_n_validators_and_configs_that_name_every_other_node() {
        let dir = tempfile::tempdir().expect("tmp");
        let target = dir.path().join("net");
        let nodes = init(&InitArgs {
            dir: target.clone(),
            validators: 5,
            observers: 1,
            base_port: 30000,
            chain_id: "civitas-devnet".into(),
        })
        .expect("init");
        assert_eq!(nodes.len(), 6, "five validators and one observer");
        let observer = std::fs::read_to_string(nodes[5].join("node.toml")).expect("toml");
        assert!(
            observer.contains("rpc_addr = \"127.0.0.1:30050\""),
            "{observer}"
        );
        assert!(
            !observer.contains("key_file"),
            "an observer holds no key: {observer}"
        );
        for k in 0..5 {
            assert!(
                observer.contains(&format!("http://127.0.0.1:300{k}0\"")),
                "{observer}"
            );
        }
        for (k, dir) in nodes.iter().take(5).enumerate() {
            let toml = std::fs::read_to_string(dir.join("node.toml")).expect("toml");
            assert_eq!(
                toml.contains("sealing_key_file"),
                k < 3,
                "the sealing key on the committee (the first three) only: node {k}"
            );
            assert_eq!(dir.join("sealing.key").exists(), k < 3);
        }
        let genesis: civitas_ledger::Genesis =
            serde_json::from_slice(&std::fs::read(target.join("genesis.json")).expect("genesis"))
                .expect("json");
        let validators: Vec<&str> = genesis
            .accounts
            .iter()
            .filter(|a| a.roles.iter().any(|r| r == "validator"))
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            validators,
            [
                "tax",
                "social-security",
                "civil-affairs",
                "real-estate",
                "department-5"
            ]
        );
        let toml = std::fs::read_to_string(nodes[2].join("node.toml")).expect("toml");
        assert!(toml.contains("rpc_addr = \"127.0.0.1:30020\""), "{toml}");
        assert!(toml.contains("p2p_addr = \"127.0.0.1:30022\""), "{toml}");
        for other in [0, 1, 3, 4] {
            assert!(
                toml.contains(&format!("127.0.0.1:{}2\"", 3000 + other)),
                "{toml}"
            );
            assert!(toml.contains(&format!("http://127.0.0.1:{}0\"", 3000 + other)));
        }
        assert!(
            !toml.contains("127.0.0.1:30022\","),
            "a node is not its own peer"
        );
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(nodes[0].join("validator.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(
            init(&InitArgs {
                dir: target,
                validators: 4,
                observers: 0,
                base_port: 30000,
                chain_id: "x".into(),
            })
            .is_err(),
            "a non-empty directory is refused"
        );
    }
}

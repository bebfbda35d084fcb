//! `civitas node`: opens the store, writes genesis, starts the RPC server, the metrics endpoint
//! and the engine (the single-validator engine, or the BFT engine with its peers when the
//! configuration names a `p2p_addr`), and stops them on SIGINT or SIGTERM.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use civitas_ledger::vault::Vault;
use civitas_ledger::{ChainParams, Executor, Store};
use civitas_runtime::{Vm, VmConfig};

use crate::config::{resolve, NodeArgs, Resolved};
use crate::consensus::malachite::{Network, RunningEngine};
use crate::consensus::solo::SoloEngine;
use crate::dev;
use crate::mempool::PoolLimits;
use crate::service::Chain;

/// The engine a node runs: alone (dev mode, single validator) or with its peers.
enum Engine {
    Solo(std::thread::JoinHandle<()>),
    Network(RunningEngine),
}

/// Runs a node until it is told to stop.
pub fn run(args: NodeArgs) -> Result<()> {
    let Resolved {
        config,
        genesis,
        keys,
        sealing_key,
        access_key,
    } = resolve(&args)?;
    if keys.is_empty() && !args.dev {
        return crate::observer::run(config, genesis);
    }
    let nofile = crate::fdlimit::raise_to_hard()?;
    tracing::info!(
        soft = nofile.soft,
        hard = nofile.hard,
        "open-file limit (RLIMIT_NOFILE)"
    );
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let store = Store::open_with(&config.data_dir, config.store_config())
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
    let params = ChainParams::new(&genesis.chain_id);
    let vault_key = Vault::load_or_create_key(&config.data_dir.join("vault.key"))?;
    let vault = Vault::new(store.clone(), vault_key);
    let mut block_exec =
        Executor::new(store.clone(), Vm::new(VmConfig::default())?, params.clone())
            .with_vault(vault.clone());
    // A sealing key handed over when this node joined the committee.
    let adopted = crate::committee::adopted_key_file(&config.data_dir);
    let sealing_key = match sealing_key {
        Some(k) => Some(k),
        None if adopted.exists() => Some(crate::config::read_key_file(&adopted, "sealing key")?),
        None => None,
    };
    if let Some(key) = sealing_key {
        block_exec = block_exec.with_sealing_key(key);
    }
    let mut query_exec =
        Executor::new(store, Vm::new(VmConfig::default())?, params).with_vault(vault);
    if let Some(key) = access_key {
        block_exec = block_exec.with_access_key(key);
        query_exec = query_exec.with_access_key(key);
    }
    let head = block_exec.init_genesis(&genesis)?;
    if config.pool_max_txs == 0 {
        bail!("pool_max_txs must be at least 1");
    }
    if config.query_fuel_cap == 0 {
        bail!("query_fuel_cap must be at least 1");
    }
    if config.rpc_max_connections == 0 {
        bail!("rpc_max_connections must be at least 1");
    }
    if config.pool_max_per_account == 0 || config.pool_max_age_ms == 0 {
        bail!("pool_max_per_account and pool_max_age_ms must be at least 1");
    }
    let limits = PoolLimits {
        max_count: usize::try_from(config.pool_max_txs).unwrap_or(usize::MAX),
        max_per_account: config.pool_max_per_account,
        max_age: std::time::Duration::from_millis(config.pool_max_age_ms),
        ..PoolLimits::default()
    };
    let chain = Arc::new(Chain::new(block_exec, query_exec, limits)?);
    if config.min_free_disk_mb > 0 {
        chain.set_disk_floor(
            config.data_dir.clone(),
            config.min_free_disk_mb.saturating_mul(1024 * 1024),
        );
    }
    if !args.dev {
        chain.network.update(|n| n.role = "validator");
    }
    // Before the RPC server answers: a network validator with peers is not in sync until it
    // has heard one of them (a restarted validator must not claim the head in the moment
    // before its engine starts).
    if config.p2p_addr.is_some() {
        chain
            .network
            .update(|n| n.expects_peers = !config.peers.is_empty());
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 * 1024 * 1024)
        .build()?;
    let (rpc_addr, metrics_addr, server) = runtime.block_on(async {
        if !config.relay_rpc.is_empty() || !config.committee_rpc.is_empty() {
            chain.set_relay(crate::relay::Relay::start(
                &config.relay_rpc,
                &config.committee_rpc,
                genesis.committee_key_bytes()?,
            )?);
            tracing::info!(
                peers = config.relay_rpc.len(),
                committee = config.committee_rpc.len(),
                "forwarding transactions to peers and records to the committee's nodes"
            );
        }
        {
            // Stuck transactions leave the pool within a quarter of their age limit.
            let chain = chain.clone();
            let every = (chain.pool_max_age() / 4).clamp(
                std::time::Duration::from_millis(50),
                std::time::Duration::from_secs(10),
            );
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    chain.evict_expired_txs();
                }
            });
        }
        let settings = crate::rpc_server::RpcSettings {
            query_fuel: config.query_fuel_cap,
            replay_guard_file: Some(config.data_dir.join("replay_guard.bin")),
            listener: config.rpc_listener(nofile.soft)?,
        };
        tracing::info!(
            max_connections = settings.listener.max_connections,
            max_batch_len = settings.listener.max_batch_len,
            max_subscriptions_per_connection = settings.listener.max_subscriptions_per_connection,
            request_timeout_ms = settings.listener.calls.call_timeout.as_millis() as u64,
            ip_requests_per_minute = settings.listener.calls.ip_requests_per_minute.get(),
            connection_requests_per_minute =
                settings.listener.calls.connection_requests_per_minute.get(),
            query_fuel_cap = settings.query_fuel,
            "RPC limits"
        );
        let (rpc_addr, server) =
            crate::rpc_server::start(config.rpc_addr, chain.clone(), settings).await?;
        let listener = tokio::net::TcpListener::bind(config.metrics_addr)
            .await
            .with_context(|| format!("binding metrics on {}", config.metrics_addr))?;
        let metrics_addr = listener.local_addr()?;
        tokio::spawn(crate::metrics::serve(listener, chain.clone()));
        anyhow::Ok((rpc_addr, metrics_addr, server))
    })?;

    println!(
        "Civitas node: chain `{}`, head {} ({})",
        genesis.chain_id,
        head.height,
        config.data_dir.display()
    );
    println!("RPC      http://{rpc_addr}  ws://{rpc_addr}");
    println!("metrics  http://{metrics_addr}/metrics");
    if args.dev {
        let names: Vec<&str> = dev::DEV_ACCOUNTS
            .iter()
            .filter(|(_, roles)| roles.contains(&"validator"))
            .map(|(name, _)| *name)
            .collect();
        println!(
            "validators {} (dev keys, all held by this node)",
            names.join(", ")
        );
        println!("dev accounts (keys derive from the names; pass a name to `--from`):");
        for (name, roles) in dev::DEV_ACCOUNTS {
            println!(
                "  {name:<16} {}  {}",
                dev::dev_key(name).account(),
                roles.join(",")
            );
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();

    crate::committee::start(
        chain.clone(),
        keys.clone(),
        runtime.handle().clone(),
        &config.data_dir,
        genesis.committee_key_bytes()?,
    )?;
    let stop = Arc::new(AtomicBool::new(false));
    let engine = match config.p2p_addr {
        Some(listen) => {
            let [key] = <[_; 1]>::try_from(keys).map_err(|k: Vec<_>| {
                anyhow::anyhow!(
                    "a network validator signs with one key; this node holds {}",
                    k.len()
                )
            })?;
            let network = Network {
                listen,
                peers: config.peers.clone(),
            };
            let running = runtime.block_on(crate::consensus::malachite::start(
                chain.clone(),
                key,
                &genesis.chain_id,
                &network,
                &config.data_dir,
                crate::consensus::malachite::EngineReports {
                    peers: {
                        let chain = chain.clone();
                        move |peers| chain.network.update(|n| n.peers = peers)
                    },
                    events: {
                        let chain = chain.clone();
                        move |event| {
                            chain.network.observe(&event);
                            chain.metrics.observe(&event);
                        }
                    },
                    voting: {
                        let chain = chain.clone();
                        move |voting| {
                            let role = if voting { "validator" } else { "standby" };
                            chain.network.update(|n| n.role = role)
                        }
                    },
                },
            ))?;
            println!("p2p      {listen} ({} peers)", network.peers.len());
            Engine::Network(running)
        }
        None => {
            let engine = SoloEngine::new(keys, Duration::from_millis(config.block_interval_ms));
            let app = chain.clone();
            let engine_stop = stop.clone();
            Engine::Solo(
                std::thread::Builder::new()
                    .name("block-producer".into())
                    .stack_size(16 * 1024 * 1024)
                    .spawn(move || engine.run(app.as_ref(), &engine_stop))?,
            )
        }
    };
    let _ = std::io::stdout().flush();

    let mut storage_failure = None;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            failure = chain.storage_failed() => storage_failure = Some(failure),
        }
        anyhow::Ok(())
    })?;
    tracing::info!("shutting down");
    stop.store(true, Ordering::Relaxed);
    let _ = server.stop();
    match engine {
        Engine::Solo(thread) => {
            let _ = thread.join();
        }
        Engine::Network(running) => {
            let _guard = runtime.enter();
            running.stop();
        }
    }
    println!("stopped at height {}", chain.head().height);
    if let Some(failure) = storage_failure {
        bail!(
            "the data directory {} cannot be written ({failure}): the node stopped at height {} \
             without writing the next block; free space or restore write access, then restart",
            config.data_dir.display(),
            chain.head().height
        );
    }
    Ok(())
}

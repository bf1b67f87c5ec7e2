//! `fluxminer sync`: fetches the chain from fluxd's JSON-RPC or from Flux P2P peers into the
//! store (headers always; with `--from H`, blocks from H on for the reward ledger), with a
//! progress bar on a terminal and log lines elsewhere; Ctrl-C stops cleanly after committing
//! what was validated. And `fluxminer status`: what the store holds.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

use super::chain::ChainArgs;
use crate::chainstate::ChainState;
use crate::consensus::params::{Era, NetworkParams};
use crate::net::peer::{Peer, PeerConfig};
use crate::net::rpc::{RpcAuth, RpcClient, RpcConfig};
use crate::net::source::ChainSource;
use crate::net::sync::{Progress, SyncConfig, SyncReport, sync};
use crate::p2p::frame::Magic;
use crate::store::Store;

/// Arguments of `fluxminer sync`.
#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    /// Network (or chain file) and data directory.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// fluxd's JSON-RPC endpoint, e.g. http://127.0.0.1:16124.
    #[arg(long, value_name = "URL", conflicts_with = "peers")]
    pub rpc: Option<String>,
    /// RPC user (with --rpc-password).
    #[arg(long, value_name = "USER", requires = "rpc_password")]
    pub rpc_user: Option<String>,
    /// RPC password.
    #[arg(long, value_name = "PASSWORD", requires = "rpc_user")]
    pub rpc_password: Option<String>,
    /// fluxd's cookie file (`<fluxd datadir>/.cookie`) instead of a user and password.
    #[arg(long, value_name = "FILE", conflicts_with = "rpc_user")]
    pub rpc_cookie: Option<PathBuf>,
    /// A Flux node to sync from over P2P, HOST:PORT (repeat for several).
    #[arg(long = "peer", value_name = "HOST:PORT")]
    pub peers: Vec<String>,
    /// Also fetch blocks from this height on and record their rewards in the ledger.
    #[arg(long, value_name = "HEIGHT")]
    pub from: Option<u32>,
    /// Seconds a source may stay silent before it is dropped.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// Commit after this many headers or blocks (a crash loses at most this many).
    #[arg(long, default_value_t = 2_000, value_name = "N")]
    pub commit_every: usize,
}

/// Arguments of `fluxminer status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// Network (or chain file) and data directory.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn open_state(args: &ChainArgs) -> anyhow::Result<(ChainState, PathBuf)> {
    let params = args.params()?;
    let dir = args.datadir(params);
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let path = super::chain::store_file(&dir);
    let store = Store::open(&path).with_context(|| format!("open {}", path.display()))?;
    let state = ChainState::open(params, store)
        .with_context(|| format!("{} does not hold the {} chain", path.display(), params.name))?;
    Ok((state, path))
}

/// Runs `fluxminer sync`.
pub fn run(args: &SyncArgs) -> anyhow::Result<ExitCode> {
    if args.rpc.is_none() && args.peers.is_empty() {
        eprintln!("error: give --rpc URL (fluxd's JSON-RPC) or --peer HOST:PORT (Flux P2P)");
        return Ok(ExitCode::from(2));
    }
    let (mut state, path) = open_state(&args.chain)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = rt.block_on(sync_sources(args, &mut state))?;
    print_report(&report, &path);
    Ok(if report.complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn sync_sources(args: &SyncArgs, state: &mut ChainState) -> anyhow::Result<SyncReport> {
    let cfg = SyncConfig {
        commit_every: args.commit_every.max(1),
        ledger_from: args.from,
        ..SyncConfig::default()
    };
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping: committing what was validated…");
            let _ = tx.send(true);
        }
    });
    let timeout = Duration::from_secs(args.timeout.max(1));
    if let Some(url) = &args.rpc {
        let auth = match (&args.rpc_user, &args.rpc_password, &args.rpc_cookie) {
            (Some(user), Some(password), _) => RpcAuth::UserPassword {
                user: user.clone(),
                password: password.clone(),
            },
            (_, _, Some(cookie)) => RpcAuth::Cookie(cookie.clone()),
            _ => RpcAuth::None,
        };
        let mut rc = RpcConfig::new(url.clone(), auth);
        rc.timeout = timeout;
        let client = RpcClient::new(rc)?;
        return run_sync(state, vec![client], &cfg, rx).await;
    }
    let peers = connect_peers(
        state.params(),
        &args.peers,
        timeout,
        state.tip().height.get(),
    )
    .await;
    if peers.is_empty() {
        anyhow::bail!("no peer could be reached");
    }
    run_sync(state, peers, &cfg, rx).await
}

async fn connect_peers(
    params: &NetworkParams,
    addrs: &[String],
    timeout: Duration,
    height: u32,
) -> Vec<Peer> {
    let cfg = PeerConfig {
        magic: Magic(params.p2p_magic),
        timeout,
        start_height: height as i32,
    };
    let mut peers = Vec::new();
    for a in addrs {
        let addr: Option<SocketAddr> = tokio::net::lookup_host(a.as_str())
            .await
            .ok()
            .and_then(|mut it| it.next());
        let Some(addr) = addr else {
            eprintln!("peer {a}: cannot resolve (HOST:PORT)");
            continue;
        };
        match Peer::connect(addr, cfg).await {
            Ok(p) => {
                tracing::info!(
                    "peer {addr}: {} at {}",
                    p.version.user_agent,
                    p.version.start_height
                );
                peers.push(p);
            }
            Err(e) => eprintln!("peer {a}: {e}"),
        }
    }
    peers
}

async fn run_sync<S: ChainSource>(
    state: &mut ChainState,
    sources: Vec<S>,
    cfg: &SyncConfig,
    rx: watch::Receiver<bool>,
) -> anyhow::Result<SyncReport> {
    let mut shown = Shown::new(cfg.ledger_from);
    let report = sync(state, sources, cfg, rx, |p| shown.update(p)).await?;
    shown.finish();
    Ok(report)
}

/// The progress display: a bar on a terminal, a log line every 5 s elsewhere.
struct Shown {
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Instant,
    ledger_from: Option<u32>,
}

impl Shown {
    fn new(ledger_from: Option<u32>) -> Shown {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("template"));
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Shown {
            bar,
            started: Instant::now(),
            last_line: Instant::now(),
            ledger_from,
        }
    }

    fn message(&self, p: &Progress) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let mut m = format!(
            "height {} · {} headers ({:.0}/s)",
            p.tip_height,
            p.headers,
            p.headers as f64 / secs
        );
        if let Some(goal) = p.blocks_goal {
            let rate = p.blocks as f64 / secs;
            m.push_str(&format!(" · {} blocks ({rate:.0}/s)", p.blocks));
            // An upper bound: blocks already in the ledger before this run are not fetched.
            let span = u64::from(goal + 1).saturating_sub(u64::from(self.ledger_from.unwrap_or(0)));
            let left = span.saturating_sub(p.blocks);
            if rate > 0.0 && left > 0 {
                m.push_str(&format!(" · ETA {:.0} s", left as f64 / rate));
            }
        }
        m
    }

    fn update(&mut self, p: &Progress) {
        let msg = self.message(p);
        match &self.bar {
            Some(b) => b.set_message(msg),
            None if self.last_line.elapsed() >= Duration::from_secs(5) => {
                eprintln!("{msg}");
                self.last_line = Instant::now();
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn print_report(r: &SyncReport, path: &std::path::Path) {
    for d in &r.dropped {
        eprintln!("dropped {}: {}", d.source, d.reason);
    }
    println!(
        "tip {} at height {} · {} new headers, {} blocks recorded, {} reorganisations · {}{}",
        r.tip.hash,
        r.tip.height.get(),
        r.progress.headers,
        r.progress.blocks,
        r.progress.reorgs,
        path.display(),
        if r.complete { "" } else { " (incomplete)" }
    );
}

/// Runs `fluxminer status`.
pub fn status(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let params = args.chain.params()?;
    let path = args.chain.store_path(params);
    if !path.exists() {
        eprintln!("no store at {} (run fluxminer sync first)", path.display());
        return Ok(ExitCode::from(2));
    }
    let (state, path) = open_state(&args.chain)?;
    let tip = *state.tip();
    let era = match params.era_at(tip.height) {
        Era::ProofOfNode => "Proof of Node".to_string(),
        Era::ProofOfWork => {
            let eh: Vec<String> = params
                .equihash_params_at(tip.height)
                .iter()
                .map(|p| format!("Equihash {},{}", p.n(), p.k()))
                .collect();
            eh.join(" or ")
        }
    };
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    let headers = state.store().len()?;
    let records = state.store().best_ledger(0, tip.height.get())?.len();
    if args.json {
        let v = serde_json::json!({
            "network": params.name,
            "height": tip.height.get(),
            "hash": tip.hash.to_display_hex(),
            "chain_work": tip.chain_work.to_string(),
            "era": era,
            "headers_stored": headers,
            "ledger_blocks": records,
            "store": path.display().to_string(),
            "store_bytes": size,
        });
        println!("{v}");
    } else {
        println!("network      {}", params.name);
        println!("tip          {} at height {}", tip.hash, tip.height.get());
        println!("chain work   {}", tip.chain_work);
        println!("era          {era}");
        println!("headers      {headers} stored");
        println!("ledger       {records} blocks on the best chain");
        println!(
            "store        {} ({:.1} MiB)",
            path.display(),
            size as f64 / 1_048_576.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

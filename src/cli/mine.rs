//! `fluxminer mine`: mine on stratum pools, or on the built-in test pool when none is given.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

use super::backend_args::{Backend, BackendArgs, make_solver};
use super::{ParamsArgs, ThreadsArgs};
use crate::backend::Solver;
use crate::equihash::Params;
use crate::miner::{self, Accounting};
use crate::net::client::ClientDriverConfig;
use crate::net::server::{JobSourceKind, PoolConfig, PoolHandle};
use crate::stratum::pool::{ExtranonceMode, ServerConfig};
use crate::stratum::templates;
use crate::stratum::{ClientConfig, DifficultyScale, PoolUrl};

/// Arguments of `mine` (lolMiner / GMiner spellings as aliases).
#[derive(Debug, Clone, clap::Args)]
pub struct MineArgs {
    /// Pool URL (stratum+tcp://host:port or stratum+ssl://host:port); repeat for failover in
    /// priority order. Without any, a built-in test pool is started on loopback.
    #[arg(long = "pool", short = 'o', visible_alias = "url", value_name = "URL")]
    pub pools: Vec<String>,
    /// Pool host (GMiner style, with --port).
    #[arg(long, short = 's', requires = "port")]
    pub server: Option<String>,
    /// Pool port (with --server).
    #[arg(long, requires = "server")]
    pub port: Option<u16>,
    /// Use TLS with --server/--port (lolMiner --tls on, GMiner --ssl 1).
    #[arg(long, visible_alias = "ssl")]
    pub tls: bool,
    /// Accept self-signed or otherwise unverifiable pool certificates.
    #[arg(long, visible_alias = "no-strict-ssl")]
    pub tls_insecure: bool,
    /// Wallet address and worker name, ADDR.WORKER.
    #[arg(long, short = 'u', visible_aliases = ["wallet", "user-name"], default_value = "t1fluxminer.local")]
    pub user: String,
    /// Pool password.
    #[arg(long, short = 'p', visible_alias = "password", default_value = "x")]
    pub pass: String,
    /// Read mining.set_difficulty on the ccminer/yiimp scale (diff 1 = 00ffff00…).
    #[arg(long)]
    pub ccminer_difficulty: bool,
    /// Never send mining.extranonce.subscribe, even to pools whose URL ends in `#xnsub` (it is
    /// sent only to those: opt-in, as lolMiner).
    #[arg(long)]
    pub no_extranonce: bool,
    /// Drop a pool that sends nothing for this many seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub silence_timeout: u64,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, visible_alias = "max-runtime", value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Share difficulty of the built-in test pool.
    #[arg(long, default_value_t = 0.0005, value_name = "D")]
    pub test_pool_difficulty: f64,
    /// Seconds between log lines.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub log_interval: u64,
    /// Equihash parameters.
    #[command(flatten)]
    pub params: ParamsArgs,
    /// Solver threads.
    #[command(flatten)]
    pub threads: ThreadsArgs,
    /// Solver backend and device.
    #[command(flatten)]
    pub backend: BackendArgs,
}

impl MineArgs {
    fn pool_urls(&self) -> anyhow::Result<Vec<PoolUrl>> {
        let mut urls = self
            .pools
            .iter()
            .map(|p| {
                p.parse::<PoolUrl>()
                    .with_context(|| format!("--pool {p:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let (Some(host), Some(port)) = (&self.server, self.port) {
            urls.push(PoolUrl {
                host: host.clone(),
                port,
                tls: self.tls,
                xnsub: false,
            });
        }
        Ok(urls)
    }
}

/// Sets up logging to stderr (RUST_LOG overrides the default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Starts the built-in test pool on loopback for `params`.
pub async fn start_test_pool(
    params: crate::equihash::Params,
    difficulty: f64,
) -> anyhow::Result<PoolHandle> {
    let cfg = PoolConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        session: ServerConfig {
            difficulty,
            vardiff: None,
            extranonce: ExtranonceMode::Supported,
            difficulty_message: crate::stratum::pool::DifficultyMessage::SetTarget,
        },
        params,
        nonce1_bytes: 4,
        fixed_nonce1: None,
        jobs: JobSourceKind::Recorded(templates::recorded()),
        job_interval: Some(Duration::from_secs(120)),
        tls: None,
        rate_window: Duration::from_millis(crate::net::server::DEFAULT_RATE_WINDOW_MS),
    };
    Ok(PoolHandle::start(cfg).await?)
}

/// Runs `mine`.
pub fn run(args: &MineArgs) -> anyhow::Result<std::process::ExitCode> {
    init_tracing();
    let params = args.params.params()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(mine(args, params))
}

async fn mine(
    args: &MineArgs,
    params: crate::equihash::Params,
) -> anyhow::Result<std::process::ExitCode> {
    if args.user.is_empty() {
        bail!("--user ADDR.WORKER is required");
    }
    let mut urls = args.pool_urls()?;
    let mut test_pool = None;
    if urls.is_empty() {
        let pool = start_test_pool(params, args.test_pool_difficulty).await?;
        tracing::info!(
            "no --pool given: mining against the built-in test pool on {} (recorded Flux headers, \
             difficulty {}); use --pool stratum+tcp://HOST:PORT for a real pool",
            pool.addr,
            args.test_pool_difficulty
        );
        urls.push(PoolUrl {
            host: pool.addr.ip().to_string(),
            port: pool.addr.port(),
            tls: false,
            // The built-in pool supports it: exercise set_extranonce.
            xnsub: true,
        });
        test_pool = Some(pool);
    }
    let session = ClientConfig {
        user: args.user.clone(),
        pass: args.pass.clone(),
        agent: format!("fluxminer/{}", env!("CARGO_PKG_VERSION")),
        host: String::new(),
        port: 0,
        params,
        scale: if args.ccminer_difficulty {
            DifficultyScale::Ccminer
        } else {
            DifficultyScale::Pool
        },
        extranonce_subscribe: !args.no_extranonce,
        silence_timeout_ms: args.silence_timeout * 1000,
    };
    let mut net = ClientDriverConfig::new(urls, session);
    net.tls_insecure = args.tls_insecure;
    // Runs on the thread that blocks on this future, not a runtime worker: the test pool keeps
    // serving while the self-tests run.
    let solvers = solvers(params, args)?;
    let acc = Arc::new(Mutex::new(Accounting::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let status = tokio::spawn(status_loop(
        acc.clone(),
        started,
        args.log_interval,
        args.duration,
        stop_tx,
    ));
    miner::run(solvers, net, acc.clone(), stop_rx).await?;
    status.abort();
    let secs = started.elapsed().as_secs_f64();
    let summary = acc.lock().expect("accounting lock").summary(secs);
    println!("summary: {summary}");
    if let Some(pool) = test_pool {
        for line in pool.report() {
            println!("test pool: {line}");
        }
        pool.shutdown();
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn status_loop(
    acc: Arc<Mutex<Accounting>>,
    started: Instant,
    log_every: u64,
    duration: Option<f64>,
    stop: watch::Sender<bool>,
) {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("template"));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_log = Instant::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("Ctrl-C: stopping");
                break;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let a = acc.lock().expect("accounting lock").clone();
        let pool = a.pool_rate(secs).map_or_else(
            || "-".into(),
            |r| format!("{:.2}±{:.2}", r.sol_per_s, r.sigma),
        );
        bar.set_message(format!(
            "{:.3} it/s {:.2} Sol/s | pool {pool} Sol/s | A {} S {} D {} L {} R {} | err {}",
            a.nonces_per_s(secs),
            a.sol_per_s(secs),
            a.accepted,
            a.stale,
            a.duplicate,
            a.low_difficulty,
            a.other_rejects,
            a.compute_errors
        ));
        bar.tick();
        if last_log.elapsed() >= Duration::from_secs(log_every) {
            last_log = Instant::now();
            bar.suspend(|| tracing::info!("{}", a.summary(secs)));
        }
        if duration.is_some_and(|d| secs >= d) {
            break;
        }
    }
    bar.finish_and_clear();
    let _ = stop.send(true);
}

/// One solver per device (every CUDA card when `--backend cuda` names none), each having passed
/// its self-test on the known answer: a solver that gets it wrong never submits.
fn solvers(params: Params, args: &MineArgs) -> anyhow::Result<Vec<Box<dyn Solver>>> {
    let devices: Vec<Option<usize>> = match (args.backend.backend, args.backend.device) {
        (Backend::Cuda, None) => cuda_devices(),
        (_, device) => vec![device],
    };
    let mut all = Vec::with_capacity(devices.len());
    for device in devices {
        let backend = BackendArgs {
            device,
            ..args.backend.clone()
        };
        let mut solver = make_solver(params, &args.threads, &backend, None)?;
        let t = solver
            .self_test()
            .with_context(|| format!("{} failed its self-test", solver.name()))?;
        tracing::info!(
            "backend {}, Equihash {params}: self-test {} ok in {:.1} s",
            solver.name(),
            t.golden.unwrap_or("(no known answer; solutions verified)"),
            t.elapsed.as_secs_f64()
        );
        all.push(solver);
    }
    Ok(all)
}

/// Every CUDA device, or the first (whose error then says why CUDA is unavailable).
fn cuda_devices() -> Vec<Option<usize>> {
    #[cfg(feature = "cuda")]
    if let Ok(all) = crate::backend::cuda::driver::devices()
        && !all.is_empty()
    {
        return all.iter().map(|d| Some(d.index)).collect();
    }
    vec![None]
}

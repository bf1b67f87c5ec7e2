//! `fluxminer mine`: mine on stratum pools, or on the built-in test pool when none is given.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

use super::backend_args::{Backend, BackendArgs, auto_gpus, make_solver};
use super::watchdog_args::{WatchdogArgs, exit_for};
use super::{ParamsArgs, ThreadsArgs};
use crate::backend::Solver;
use crate::equihash::Params;
use crate::miner::Accounting;
use crate::miner::status::{MinerInfo, RateMeter, Sensors, Status};
use crate::net::api::{self, ApiConfig, ApiHandle, Published};
use crate::net::client::{ClientDriverConfig, SolverFactory, run_miner};
use crate::net::server::{JobSourceKind, PoolConfig, PoolHandle};
use crate::net::unix_now;
use crate::stratum::pool::{ExtranonceMode, ServerConfig};
use crate::stratum::templates;
use crate::stratum::{ClientConfig, DifficultyScale, PoolUrl};
use crate::telemetry::{GpuId, Monitor};

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
    /// Mine on these devices only, by position in the list `--backend auto` uses (shown by
    /// `fluxminer devices`), or by device number with `--backend wgpu|cuda` (lolMiner and
    /// GMiner spell it `--devices 0,2` too).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "LIST",
        conflicts_with = "device"
    )]
    pub devices: Vec<usize>,
    /// Share difficulty of the built-in test pool.
    #[arg(long, default_value_t = 0.0005, value_name = "D")]
    pub test_pool_difficulty: f64,
    /// Seconds between log lines.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub log_interval: u64,
    /// HTTP API and dashboard: ADDR:PORT, or a PORT on 127.0.0.1; 0 turns it off.
    #[arg(long, default_value = "127.0.0.1:4068", value_name = "ADDR:PORT|PORT|0", value_parser = parse_api)]
    pub api: ApiListen,
    /// Bearer token of the API: with it every route asks for it; pause/resume and a bind
    /// beyond loopback need it.
    #[arg(long, value_name = "TOKEN")]
    pub api_token: Option<String>,
    /// Seconds between refreshes of the API's status and metrics.
    #[arg(long, default_value_t = 1, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub api_refresh: u64,
    /// Equihash parameters.
    #[command(flatten)]
    pub params: ParamsArgs,
    /// Solver threads.
    #[command(flatten)]
    pub threads: ThreadsArgs,
    /// Solver backend and device.
    #[command(flatten)]
    pub backend: BackendArgs,
    /// The solver watchdog.
    #[command(flatten)]
    pub watchdog: WatchdogArgs,
}

/// Where the API listens (`None`: off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiListen(pub Option<SocketAddr>);

/// `--api`: "0" is off, a bare port binds 127.0.0.1.
fn parse_api(s: &str) -> Result<ApiListen, String> {
    if s == "0" {
        return Ok(ApiListen(None));
    }
    if let Ok(port) = s.parse::<u16>() {
        return Ok(ApiListen(Some(SocketAddr::from(([127, 0, 0, 1], port)))));
    }
    s.parse::<SocketAddr>()
        .map(|a| ApiListen(Some(a)))
        .map_err(|_| format!("expected ADDR:PORT, PORT or 0, got {s:?}"))
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
    let params = args.params.params()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let done = rt.block_on(mine(args, params));
    // Don't wait for a solver rebuild the watchdog gave up on (it may never return).
    rt.shutdown_timeout(Duration::from_secs(1));
    done
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
    let info = miner_info(args, params);
    let (published_tx, published_rx) = watch::channel(starting(&info));
    let _api = start_api(args, published_rx, net.pause.clone()).await?;
    // Runs on the thread that blocks on this future, not a runtime worker: the test pool keeps
    // serving while the self-tests run.
    let targets = targets(args)?;
    let (solvers, self_test_ms) = solvers(params, &args.threads, &targets)?;
    net.watchdog = args.watchdog.config(self_test_ms);
    net.rebuild = Some(factory(params, args.threads.clone(), targets));
    let publisher = Publisher::new(args, info, &solvers, published_tx, net.pause.clone());
    let (status_tx, status_rx) = watch::channel(Accounting::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let status = tokio::spawn(status_loop(
        status_rx,
        started,
        args.log_interval,
        args.duration,
        stop_tx,
        publisher,
    ));
    let ran = run_miner(solvers, net, status_tx, stop_rx).await;
    status.abort();
    let acc = match ran {
        Ok(acc) => acc,
        Err(e) => return exit_for(e),
    };
    let secs = started.elapsed().as_secs_f64();
    println!("summary: {}", acc.summary(secs));
    if let Some(pool) = test_pool {
        for line in pool.report() {
            println!("test pool: {line}");
        }
        pool.shutdown();
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Starts the API unless `--api 0`.
async fn start_api(
    args: &MineArgs,
    published: watch::Receiver<Published>,
    pause: Arc<AtomicBool>,
) -> anyhow::Result<Option<ApiHandle>> {
    let Some(listen) = args.api.0 else {
        return Ok(None);
    };
    let cfg = ApiConfig {
        listen,
        token: args.api_token.clone(),
    };
    let api = api::start(cfg, published, pause).await?;
    tracing::info!(
        "API and dashboard on http://{}/ ({})",
        api.addr,
        if args.api_token.is_some() {
            "token required"
        } else {
            "read-only, loopback"
        }
    );
    Ok(Some(api))
}

/// Builds the API's documents from the counters, once per `--api-refresh`.
struct Publisher {
    tx: watch::Sender<Published>,
    meter: RateMeter,
    ctx: MinerInfo,
    monitor: Monitor,
    ids: Vec<Option<GpuId>>,
    pause: Arc<AtomicBool>,
    every: Duration,
    last: Option<Instant>,
    seq: u64,
}

/// Who and what this miner is, as the API shows it (devices are added once they exist).
fn miner_info(args: &MineArgs, params: Params) -> MinerInfo {
    let algorithm = if params == Params::ZELHASH {
        format!("ZelHash (Equihash {params})")
    } else {
        format!("Equihash {params}")
    };
    MinerInfo {
        software: format!("fluxminer {}", env!("CARGO_PKG_VERSION")),
        algorithm,
        equihash: (params.n(), params.k()),
        user: args.user.clone(),
        started_unix: unix_now(),
        ..MinerInfo::default()
    }
}

/// What the API serves while the solvers self-test: who the miner is, no device yet.
fn starting(info: &MinerInfo) -> Published {
    let status = Status::build(
        0,
        0,
        info.started_unix,
        &Accounting::default(),
        &RateMeter::default(),
        info,
    );
    Published {
        status,
        history: Vec::new(),
    }
}

impl Publisher {
    fn new(
        args: &MineArgs,
        mut info: MinerInfo,
        solvers: &[Box<dyn Solver>],
        tx: watch::Sender<Published>,
        pause: Arc<AtomicBool>,
    ) -> Publisher {
        let monitor = Monitor::discover();
        for source in monitor.sources() {
            tracing::info!("telemetry: {source}");
        }
        let ids: Vec<Option<GpuId>> = solvers.iter().map(|s| s.gpu_id()).collect();
        info.bus_ids = ids
            .iter()
            .map(|id| id.as_ref().and_then(|i| i.pci).map(|p| p.to_string()))
            .collect();
        Publisher {
            tx,
            meter: RateMeter::default(),
            ctx: info,
            monitor,
            ids,
            pause,
            every: Duration::from_secs(args.api_refresh),
            last: None,
            seq: 0,
        }
    }

    /// Samples the counters (every second) and publishes when a refresh is due.
    fn tick(&mut self, acc: &Accounting, started: Instant) {
        let now_ms = started.elapsed().as_millis() as u64;
        self.meter.record(now_ms, acc);
        // Ticks come once a second with some jitter: half a tick early still counts as due.
        let due = |l: Instant| l.elapsed() + Duration::from_millis(500) >= self.every;
        if self.last.is_some_and(|l| !due(l)) {
            return;
        }
        self.last = Some(Instant::now());
        self.seq += 1;
        self.ctx.paused = self.pause.load(Ordering::Relaxed);
        self.ctx.sensors = self
            .ids
            .iter()
            .map(|id| self.sensors(id.as_ref()))
            .collect();
        let status = Status::build(self.seq, now_ms, unix_now(), acc, &self.meter, &self.ctx);
        self.tx.send_replace(Published {
            status,
            history: self.meter.history(),
        });
    }
}

impl Publisher {
    /// One device's sensors, or why there are none.
    fn sensors(&self, id: Option<&GpuId>) -> Result<Sensors, String> {
        let r = self.monitor.read_device(id).map_err(|e| e.to_string())?;
        Ok(Sensors {
            temperature_c: r.temperature_c,
            power_w: r.power_w,
            fan_percent: r.fan_percent,
            fan_rpm: r.fan_rpm,
        })
    }
}

async fn status_loop(
    acc: watch::Receiver<Accounting>,
    started: Instant,
    log_every: u64,
    duration: Option<f64>,
    stop: watch::Sender<bool>,
    mut publisher: Publisher,
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
        let a = acc.borrow().clone();
        publisher.tick(&a, started);
        let pool = a.pool_rate(secs).map_or_else(
            || "-".into(),
            |r| format!("{:.2}±{:.2}", r.sol_per_s, r.sigma),
        );
        bar.set_message(
            format!(
                "{:.3} it/s {:.2} Sol/s | pool {pool} Sol/s | A {} S {} D {} L {} R {} | err {}",
                a.nonces_per_s(secs),
                a.sol_per_s(secs),
                a.accepted,
                a.stale,
                a.duplicate,
                a.low_difficulty,
                a.other_rejects,
                a.compute_errors
            ) + &per_device(&a, secs),
        );
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

/// ` | #0 1.234 it/s | #1 …` for the status line when several devices mine.
fn per_device(a: &Accounting, secs: f64) -> String {
    if a.devices.len() < 2 {
        return String::new();
    }
    a.devices
        .iter()
        .enumerate()
        .map(|(i, d)| format!(" | #{i} {:.3} it/s", d.nonces as f64 / secs.max(1e-9)))
        .collect()
}

/// The backend settings of every device to mine on: with `auto` (the default) every usable
/// GPU, else the CPU; with `cuda` and no `--device`, every CUDA card; `--devices` picks from
/// that list by position (with `wgpu` or `cuda`, by device number).
fn targets(args: &MineArgs) -> anyhow::Result<Vec<BackendArgs>> {
    let b = &args.backend;
    let all: Vec<BackendArgs> = match b.backend.unwrap_or(Backend::Auto) {
        Backend::Auto => {
            let (gpus, notes) = auto_gpus();
            if gpus.is_empty() && args.devices.is_empty() {
                let why = if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join("; "))
                };
                tracing::info!("no usable GPU{why}: mining on the CPU");
                return Ok(vec![b.on_cpu()]);
            }
            for (i, g) in gpus.iter().enumerate() {
                tracing::info!("GPU #{i}: {}", g.label());
            }
            gpus.iter().map(|g| b.on_gpu(g)).collect()
        }
        Backend::Cuda if b.device.is_none() => cuda_devices()
            .into_iter()
            .map(|device| BackendArgs {
                device,
                ..b.clone()
            })
            .collect(),
        _ if !args.devices.is_empty() => {
            return Ok(args
                .devices
                .iter()
                .map(|&d| BackendArgs {
                    device: Some(d),
                    ..b.clone()
                })
                .collect());
        }
        _ => vec![b.clone()],
    };
    pick(all, &args.devices)
}

/// The entries of `all` at the positions `--devices` names (all of them when it names none).
fn pick<T: Clone>(all: Vec<T>, devices: &[usize]) -> anyhow::Result<Vec<T>> {
    if devices.is_empty() {
        return Ok(all);
    }
    devices
        .iter()
        .map(|&i| {
            all.get(i).cloned().with_context(|| {
                format!(
                    "--devices {i}: there are {} devices to mine on here (see `fluxminer devices`)",
                    all.len()
                )
            })
        })
        .collect()
}

/// Each device's self-test time in milliseconds.
type SelfTestMs = Vec<u64>;

/// One solver per device of `targets`, each having passed its self-test on the known answer
/// (a solver that gets it wrong never submits), with its self-test time in milliseconds.
fn solvers(
    params: Params,
    threads: &ThreadsArgs,
    targets: &[BackendArgs],
) -> anyhow::Result<(Vec<Box<dyn Solver>>, SelfTestMs)> {
    let mut all = Vec::with_capacity(targets.len());
    let mut times = Vec::with_capacity(targets.len());
    for backend in targets {
        let (solver, elapsed) = build(params, threads, backend)?;
        all.push(solver);
        times.push(elapsed.as_millis().try_into().unwrap_or(u64::MAX));
    }
    Ok((all, times))
}

/// The solver of one device, self-tested, with the self-test's time.
fn build(
    params: Params,
    threads: &ThreadsArgs,
    backend: &BackendArgs,
) -> anyhow::Result<(Box<dyn Solver>, Duration)> {
    let mut solver = make_solver(params, threads, backend, None)?;
    let t = solver
        .self_test()
        .with_context(|| format!("{} failed its self-test", solver.name()))?;
    tracing::info!(
        "backend {}, Equihash {params}: self-test {} ok in {:.1} s",
        solver.name(),
        t.golden.unwrap_or("(no known answer; solutions verified)"),
        t.elapsed.as_secs_f64()
    );
    Ok((solver, t.elapsed))
}

/// Builds device `i` of `targets` again, self-tested, when the watchdog restarts it.
fn factory(params: Params, threads: ThreadsArgs, targets: Vec<BackendArgs>) -> SolverFactory {
    SolverFactory::new(move |i| {
        let backend = targets.get(i).context("no such device")?;
        Ok(build(params, &threads, backend)?.0)
    })
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

#[cfg(test)]
mod tests {
    use super::pick;

    #[test]
    fn devices_pick_by_position_and_name_the_count_when_out_of_range() {
        let all = vec!["a", "b", "c"];
        assert_eq!(pick(all.clone(), &[]).unwrap(), all);
        assert_eq!(pick(all.clone(), &[2, 0]).unwrap(), ["c", "a"]);
        let e = pick(all, &[3]).unwrap_err().to_string();
        assert_eq!(
            e,
            "--devices 3: there are 3 devices to mine on here (see `fluxminer devices`)"
        );
    }
}

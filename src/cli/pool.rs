//! `fluxminer pool`: a stratum test pool for operators and tests.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;

use super::ParamsArgs;
use crate::net::server::{JobSourceKind, PoolConfig, PoolHandle, TlsListen};
use crate::net::tls::ServerCert;
use crate::stratum::difficulty::{DifficultyScale, target_from_difficulty};
use crate::stratum::pool::vardiff::VardiffConfig;
use crate::stratum::pool::{DifficultyMessage, ExtranonceMode, ServerConfig};
use crate::stratum::templates;

/// Arguments of `pool`.
#[derive(Debug, Clone, clap::Args)]
pub struct PoolArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3333")]
    pub listen: SocketAddr,
    /// Fixed share difficulty (pool scale; fractions allowed).
    #[arg(long, default_value_t = 0.05, conflicts_with = "vardiff")]
    pub difficulty: f64,
    /// Variable difficulty, retargeted on shares as s-nomp does (its Flux example: 15 s shares,
    /// retarget at most every 60 s from the last 16 intervals, 30 % variance, 0.04 … 36).
    #[arg(long)]
    pub vardiff: bool,
    /// With --vardiff: change the difficulty by exactly ×2 or ×½ (s-nomp's x2mode).
    #[arg(long, requires = "vardiff")]
    pub vardiff_x2: bool,
    /// Starting difficulty with --vardiff.
    #[arg(long, default_value_t = 0.05)]
    pub start_difficulty: f64,
    /// Bytes of NONCE_1 per connection (miningcore uses 3, s-nomp 4).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub nonce1_bytes: u8,
    /// Jobs on a synthetic chain tip (fresh prevhash, nTime = now) instead of recorded headers.
    #[arg(long)]
    pub synthetic: bool,
    /// Seconds between new jobs.
    #[arg(long, default_value_t = 60)]
    pub job_interval: u64,
    /// Answer to mining.extranonce.subscribe: supported, not-supported (s-nomp), ignore (miningcore).
    #[arg(long, default_value = "supported", value_parser = ["supported", "not-supported", "ignore"])]
    pub extranonce: String,
    /// Per-worker Sol/s covers the last this many seconds (up to when the worker left).
    #[arg(long, default_value_t = 600)]
    pub rate_window: u64,
    /// Also listen for TLS (`stratum+ssl://`) here; a self-signed certificate for localhost is
    /// made at start unless --tls-cert/--tls-key are given (miners then need --tls-insecure).
    #[arg(long)]
    pub tls_listen: Option<SocketAddr>,
    /// The TLS certificate chain (PEM), with --tls-key.
    #[arg(long, requires_all = ["tls_listen", "tls_key"])]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The TLS private key (PEM), with --tls-cert.
    #[arg(long, requires_all = ["tls_listen", "tls_cert"])]
    pub tls_key: Option<std::path::PathBuf>,
    /// How the difficulty is announced: set_target (ZIP 301, s-nomp), set_difficulty (yiimp), both
    /// (set_difficulty then set_target, miningcore).
    #[arg(long, default_value = "set_target", value_parser = ["set_target", "set_difficulty", "both"])]
    pub difficulty_message: String,
    /// The scale of set_difficulty: pool (diff 1 = powLimit) or ccminer (yiimp, ≈ 32× pool).
    #[arg(long, default_value = "pool", value_parser = ["pool", "ccminer"])]
    pub difficulty_scale: String,
    /// Send every connection client.reconnect to this HOST:PORT (after --reconnect-after).
    #[arg(long, value_parser = parse_host_port)]
    pub reconnect_to: Option<(String, u16)>,
    /// Seconds after start to send client.reconnect.
    #[arg(long, default_value_t = 60.0, requires = "reconnect_to")]
    pub reconnect_after: f64,
    /// Send mining.set_extranonce with a fresh NONCE_1 this often (seconds), to connections that
    /// sent mining.extranonce.subscribe.
    #[arg(long)]
    pub extranonce_every: Option<f64>,
    /// Seconds between statistics reports.
    #[arg(long, default_value_t = 30)]
    pub report_interval: u64,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long, visible_alias = "max-runtime")]
    pub duration: Option<f64>,
    /// Equihash parameters shares must solve.
    #[command(flatten)]
    pub params: ParamsArgs,
}

/// `HOST:PORT` (the last colon splits; `[v6]:port` keeps its brackets off).
fn parse_host_port(s: &str) -> Result<(String, u16), String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?}: expected HOST:PORT"))?;
    let port = port.parse().map_err(|e| format!("{s:?}: bad port: {e}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{s:?}: expected HOST:PORT"));
    }
    Ok((host.to_string(), port))
}

/// The `--difficulty-message` and `--difficulty-scale` choice.
fn difficulty_message(args: &PoolArgs) -> DifficultyMessage {
    let scale = match args.difficulty_scale.as_str() {
        "ccminer" => DifficultyScale::Ccminer,
        _ => DifficultyScale::Pool,
    };
    match args.difficulty_message.as_str() {
        "set_difficulty" => DifficultyMessage::SetDifficulty(scale),
        "both" => DifficultyMessage::Both(scale),
        _ => DifficultyMessage::SetTarget,
    }
}

/// The `--tls-*` choice.
fn tls_listen(args: &PoolArgs) -> Option<TlsListen> {
    let cert = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => ServerCert::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => ServerCert::SelfSigned(Vec::new()),
    };
    args.tls_listen.map(|addr| TlsListen { addr, cert })
}

/// Sends `client.reconnect` and `set_extranonce` when the flags ask for them.
fn schedule_requests(args: &PoolArgs, pool: &PoolHandle) {
    if let Some((host, port)) = args.reconnect_to.clone() {
        let (pool, after) = (pool.clone(), secs(args.reconnect_after));
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            tracing::info!("sending client.reconnect to {host}:{port}");
            pool.reconnect(&host, port, 0);
        });
    }
    if let Some(every) = args.extranonce_every.map(secs) {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut t = tokio::time::interval(every);
            t.tick().await;
            loop {
                t.tick().await;
                pool.rotate_extranonce();
            }
        });
    }
}

/// Seconds as a duration (at least 1 ms; negative or NaN as 1 ms).
fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.001))
}

/// Runs `pool`.
pub fn run(args: &PoolArgs) -> anyhow::Result<std::process::ExitCode> {
    let params = args.params.params()?;
    // Refuse at start-up what no connection could be served with (interop fault 6), instead of
    // failing every connection later; any positive difficulty with a non-zero target is served.
    for (flag, d) in [
        ("--difficulty", args.difficulty),
        ("--start-difficulty", args.start_difficulty),
    ] {
        if let Err(e) = target_from_difficulty(d, DifficultyScale::Pool) {
            bail!("{flag} {d:?}: the pool cannot serve it: {e}");
        }
    }
    let recorded = templates::recorded();
    let jobs = if args.synthetic {
        JobSourceKind::Synthetic(recorded[0].clone())
    } else {
        JobSourceKind::Recorded(recorded)
    };
    let vardiff = args.vardiff.then(|| VardiffConfig {
        x2: args.vardiff_x2,
        ..VardiffConfig::default()
    });
    let cfg = PoolConfig {
        listen: args.listen,
        session: ServerConfig {
            difficulty: if args.vardiff {
                args.start_difficulty
            } else {
                args.difficulty
            },
            vardiff,
            extranonce: match args.extranonce.as_str() {
                "not-supported" => ExtranonceMode::NotSupported,
                "ignore" => ExtranonceMode::Ignore,
                _ => ExtranonceMode::Supported,
            },
            difficulty_message: difficulty_message(args),
        },
        params,
        nonce1_bytes: usize::from(args.nonce1_bytes),
        fixed_nonce1: None,
        jobs,
        job_interval: Some(Duration::from_secs(args.job_interval.max(1))),
        tls: tls_listen(args),
        rate_window: Duration::from_secs(args.rate_window.max(1)),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let pool = PoolHandle::start(cfg).await?;
        tracing::info!("pool listening on {} for Equihash {params}", pool.addr);
        if let Some(a) = pool.tls_addr {
            tracing::info!("pool listening for TLS on {a}");
        }
        schedule_requests(args, &pool);
        let mut tick = tokio::time::interval(Duration::from_secs(args.report_interval.max(1)));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = tokio::signal::ctrl_c() => break,
            }
            tracing::info!(
                "{} connections, {} share checks",
                pool.connections(),
                pool.checks()
            );
            for line in pool.report() {
                tracing::info!("{line}");
            }
            if args.duration.is_some_and(|d| pool.uptime_s() >= d) {
                break;
            }
        }
        for line in pool.report() {
            println!("{line}");
        }
        pool.shutdown();
        Ok(std::process::ExitCode::SUCCESS)
    })
}

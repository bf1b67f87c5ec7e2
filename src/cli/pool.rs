//! `fluxminer pool`: a stratum test pool for operators and tests.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::bail;

use super::ParamsArgs;
use crate::net::server::{JobSourceKind, PoolConfig, PoolHandle};
use crate::stratum::difficulty::{DifficultyScale, target_from_difficulty};
use crate::stratum::pool::vardiff::VardiffConfig;
use crate::stratum::pool::{ExtranonceMode, ServerConfig};
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

/// Runs `pool`.
pub fn run(args: &PoolArgs) -> anyhow::Result<std::process::ExitCode> {
    super::mine::init_tracing();
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
        },
        params,
        nonce1_bytes: usize::from(args.nonce1_bytes),
        fixed_nonce1: None,
        jobs,
        job_interval: Some(Duration::from_secs(args.job_interval.max(1))),
        rate_window: Duration::from_secs(args.rate_window.max(1)),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let pool = PoolHandle::start(cfg).await?;
        tracing::info!("pool listening on {} for Equihash {params}", pool.addr);
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

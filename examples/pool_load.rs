//! Load test of the pool server: 1,000 concurrent miner connections on loopback replaying
//! recorded ZelHash shares, reporting share checks per second.
//!
//! The pool serves Flux block 400000's header as every job and gives every connection that
//! block's `NONCE_1` (`60000016`), so the block's two valid ZelHash solutions are valid shares on
//! every connection and every job (at difficulty 0.0005 both meet the target: the block
//! solution easily, the alternative one at ≤ 0.00054). Duplicates are tracked per connection and
//! job, as a real pool's header-keyed set is when `NONCE_1` is unique per connection, so each
//! job lets each connection submit two distinct shares; a new (non-clean) job every 100 ms keeps
//! them flowing. The figure reported is **full checks** per second: shares that went through
//! every step (sizes, hex, duplicate set, Equihash with the twist, SHA256d, target, block
//! candidate); cheap rejects (stale, duplicate) are counted apart.
//!
//! At the end it reports how many connections are still open on both sides and why any ended
//! (the pool's reasons and the miners' own: connect failed, reset, closed by the pool), so a
//! lost connection is never hidden in the rate. `RUST_LOG=fluxminer=debug` logs each one.
//!
//! Run: `cargo run --release --example pool_load -- [CONNECTIONS] [SECONDS]` (default 1000 20).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxminer::equihash::Params;
use fluxminer::net::server::{JobSourceKind, PoolConfig, PoolHandle};
use fluxminer::stratum::job::solution_with_length;
use fluxminer::stratum::pool::{ExtranonceMode, ServerConfig};
use fluxminer::stratum::templates;
use fluxminer::stratum::{Message, Notify};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;

/// What the miners saw: answers read, and why any connection ended (with how many).
#[derive(Default)]
struct MinerSide {
    answers: AtomicU64,
    ended: Mutex<BTreeMap<String, u64>>,
}

/// One miner; records why its connection ended, if it does before the pool stops.
async fn client(
    addr: SocketAddr,
    shares: Arc<Vec<([u8; 32], Vec<u8>)>>,
    side: Arc<MinerSide>,
    i: usize,
) {
    let why = mine(addr, &shares, &side, i).await;
    *side.ended.lock().expect("lock").entry(why).or_default() += 1;
}

async fn mine(
    addr: SocketAddr,
    shares: &[([u8; 32], Vec<u8>)],
    side: &MinerSide,
    i: usize,
) -> String {
    let sock = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => return format!("connect failed: {e}"),
    };
    let mut f = fluxminer::net::lines(sock);
    let send = |id: u64, method: &str, params: serde_json::Value| {
        Message::request(
            json!(id),
            method,
            params.as_array().cloned().unwrap_or_default(),
        )
        .to_line()
    };
    let _ = f
        .send(send(
            1,
            "mining.subscribe",
            json!(["load", null, "127.0.0.1", addr.port()]),
        ))
        .await;
    let _ = f
        .send(send(
            2,
            "mining.authorize",
            json!([format!("t1load.w{i}"), "x"]),
        ))
        .await;
    let mut id = 3;
    loop {
        let line = match f.next().await {
            Some(Ok(l)) => l,
            Some(Err(e)) => return format!("read failed: {e}"),
            None => return "closed by the pool".into(),
        };
        match Message::parse(&line) {
            Ok(Message::Request(r)) if r.method == "mining.notify" => {
                let Ok(n) = Notify::from_params(&r.params) else {
                    continue;
                };
                for (nonce, sol) in shares {
                    let p = json!([
                        format!("t1load.w{i}"),
                        n.job_id,
                        hex::encode(n.time),
                        hex::encode(&nonce[4..]),
                        hex::encode(solution_with_length(sol))
                    ]);
                    id += 1;
                    if let Err(e) = f.send(send(id, "mining.submit", p)).await {
                        return format!("write failed: {e}");
                    }
                }
            }
            Ok(Message::Response(_)) => {
                side.answers.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// The open-files limit, from `/proc/self/limits` (Linux); each connection takes two here.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// How many ended, and why, as one phrase ("none" when none did).
fn why_ended(reasons: &[(String, u64)]) -> String {
    if reasons.is_empty() {
        return "none".into();
    }
    let parts: Vec<_> = reasons
        .iter()
        .map(|(why, n)| format!("{n} {why}"))
        .collect();
    parts.join(", ")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let conns: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let secs: u64 = args.next().map_or(Ok(20), |a| a.parse())?;
    let tpl = templates::recorded()
        .into_iter()
        .next()
        .expect("block 400000 template");
    let shares = Arc::new(tpl.solutions.clone());
    let cfg = PoolConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        session: ServerConfig {
            difficulty: 0.0005,
            vardiff: None,
            extranonce: ExtranonceMode::Ignore,
            difficulty_message: fluxminer::stratum::pool::DifficultyMessage::SetTarget,
        },
        params: Params::ZELHASH,
        nonce1_bytes: 4,
        fixed_nonce1: Some(shares[0].0[..4].to_vec()),
        jobs: JobSourceKind::Replay(tpl),
        job_interval: Some(Duration::from_millis(100)),
        tls: None,
        rate_window: Duration::from_millis(fluxminer::net::server::DEFAULT_RATE_WINDOW_MS),
    };
    if let Some(limit) = open_files_limit().filter(|&l| l < 2 * conns as u64 + 64) {
        eprintln!(
            "warning: open files limit {limit} is below the {} this run needs",
            2 * conns + 64
        );
    }
    let pool = PoolHandle::start(cfg).await?;
    let side = Arc::new(MinerSide::default());
    for i in 0..conns {
        tokio::spawn(client(pool.addr, shares.clone(), side.clone(), i));
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    println!("{} connections open", pool.connections());
    let mut rates = Vec::new();
    let mut last = pool.full_checks();
    let mut last_all = pool.checks();
    for s in 0..secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (now, all) = (pool.full_checks(), pool.checks());
        rates.push(now - last);
        println!(
            "second {s:>3}: {:>6} full share checks/s ({} checks of any kind), {} connections",
            now - last,
            all - last_all,
            pool.connections()
        );
        (last, last_all) = (now, all);
    }
    rates.sort_unstable();
    let workers = pool.workers();
    let accepted: u64 = workers.values().map(|w| w.accepted).sum();
    let rejected: u64 = workers
        .values()
        .map(|w| w.rejected.iter().sum::<u64>())
        .sum();
    let blocks: u64 = workers.values().map(|w| w.blocks).sum();
    println!(
        "median {} full ZelHash share checks/s (min {}, max {}) over {secs} s with {} connections; \
         {accepted} accepted, {rejected} rejected, {blocks} block candidates, {} answers read",
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1],
        pool.connections(),
        side.answers.load(Ordering::Relaxed)
    );
    let pool_closed: Vec<_> = pool
        .closed()
        .into_iter()
        .map(|(c, n)| (c.to_string(), n))
        .collect();
    let miners_ended: Vec<_> = side
        .ended
        .lock()
        .expect("lock")
        .clone()
        .into_iter()
        .collect();
    let ended: u64 = miners_ended.iter().map(|(_, n)| n).sum();
    println!(
        "at the end: {} of {conns} connections open (pool: {}); ended on the pool's side: {}; \
         on the miners' side: {}",
        conns as u64 - ended,
        pool.connections(),
        why_ended(&pool_closed),
        why_ended(&miners_ended)
    );
    pool.shutdown();
    Ok(())
}

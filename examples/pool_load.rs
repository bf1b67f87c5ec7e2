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
//! Run: `cargo run --release --example pool_load -- [CONNECTIONS] [SECONDS]` (default 1000 20).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use fluxminer::equihash::Params;
use fluxminer::net::server::{JobSourceKind, PoolConfig, PoolHandle};
use fluxminer::stratum::job::solution_with_length;
use fluxminer::stratum::server::{ExtranonceMode, ServerConfig};
use fluxminer::stratum::templates;
use fluxminer::stratum::{Message, Notify};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;

async fn client(
    addr: SocketAddr,
    shares: Arc<Vec<([u8; 32], Vec<u8>)>>,
    answers: Arc<AtomicU64>,
    i: usize,
) {
    let Ok(sock) = TcpStream::connect(addr).await else {
        eprintln!("client {i}: connect failed");
        return;
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
    while let Some(Ok(line)) = f.next().await {
        match Message::parse(&line) {
            Ok(Message::Request(r)) if r.method == "mining.notify" => {
                let Ok(n) = Notify::from_params(&r.params) else {
                    continue;
                };
                for (nonce, sol) in shares.iter() {
                    let p = json!([
                        format!("t1load.w{i}"),
                        n.job_id,
                        hex::encode(n.time),
                        hex::encode(&nonce[4..]),
                        hex::encode(solution_with_length(sol))
                    ]);
                    id += 1;
                    if f.send(send(id, "mining.submit", p)).await.is_err() {
                        return;
                    }
                }
            }
            Ok(Message::Response(_)) => {
                answers.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
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
        },
        params: Params::ZELHASH,
        nonce1_bytes: 4,
        fixed_nonce1: Some(shares[0].0[..4].to_vec()),
        jobs: JobSourceKind::Replay(tpl),
        job_interval: Some(Duration::from_millis(100)),
    };
    let pool = PoolHandle::start(cfg).await?;
    let answers = Arc::new(AtomicU64::new(0));
    for i in 0..conns {
        tokio::spawn(client(pool.addr, shares.clone(), answers.clone(), i));
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
        answers.load(Ordering::Relaxed)
    );
    pool.shutdown();
    Ok(())
}

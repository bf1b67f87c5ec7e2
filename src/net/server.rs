//! The pool server: a tokio TCP listener, one task per miner connection running a
//! [`ServerSession`], a shared job book, jobs rotated on a timer, and per-worker statistics.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tokio_util::codec::LinesCodecError;

use super::lines;
use crate::consensus::hash::sha256d;
use crate::equihash::Params;
use crate::stratum::server::{
    JobBook, JobSource, PoolJob, ServerConfig, ServerEvent, ServerSession,
};
use crate::stratum::templates::Template;
use crate::stratum::wire::ErrorCode;
use crate::stratum::{Reject, SolRate};

/// Where jobs come from.
#[derive(Debug, Clone)]
pub enum JobSourceKind {
    /// Recorded real headers, served in turn; each full cycle adds one second to `nTime`.
    Recorded(Vec<Template>),
    /// The same recorded header for every job (load tests replaying its recorded solutions).
    Replay(Template),
    /// A synthetic chain tip: the first template's version and bits, a fresh previous hash per
    /// job, `nTime` = now.
    Synthetic(Template),
}

/// Settings of the pool server.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Session settings (difficulty, vardiff, extranonce answer).
    pub session: ServerConfig,
    /// Parameters shares must solve.
    pub params: Params,
    /// Length of the `NONCE_1` handed to each connection (1..=16).
    pub nonce1_bytes: usize,
    /// Give every connection this `NONCE_1` (load tests replaying recorded shares).
    pub fixed_nonce1: Option<Vec<u8>>,
    /// Job source.
    pub jobs: JobSourceKind,
    /// A new job this often (None: only on demand).
    pub job_interval: Option<Duration>,
}

/// One worker's statistics.
#[derive(Debug, Clone, Default)]
pub struct WorkerStats {
    /// Accepted shares.
    pub accepted: u64,
    /// Rejected shares by code (20..=25; other codes in slot 20).
    pub rejected: [u64; 6],
    /// Sum of accepted shares' difficulty.
    pub sum_difficulty: f64,
    /// Sum of the squares of those difficulties (for the error bar under vardiff).
    pub sum_sq_difficulty: f64,
    /// Block candidates found.
    pub blocks: u64,
    /// Seconds since the pool started when the worker was first authorized.
    pub since_s: f64,
}

impl WorkerStats {
    /// The slot of `rejected` that counts `code` (20..=25; any other code in slot 20).
    fn slot(code: ErrorCode) -> usize {
        (code.to_i64() - 20).clamp(0, 5) as usize
    }

    /// Shares rejected with `code`.
    pub fn rejected_with(&self, code: ErrorCode) -> u64 {
        self.rejected[Self::slot(code)]
    }

    /// Sol/s estimate over the time since the worker appeared, as of `now_s`.
    pub fn rate(&self, now_s: f64) -> Option<SolRate> {
        SolRate::from_shares(
            self.accepted,
            self.sum_difficulty,
            self.sum_sq_difficulty,
            now_s - self.since_s,
        )
    }
}

/// Worker names that get a row of their own in the pool's statistics.
pub const MAX_WORKER_ROWS: usize = 4096;
/// The row every further name is counted in.
pub const OTHER_WORKERS: &str = "(other workers)";

/// Shared state of a running pool.
#[derive(Debug)]
struct Shared {
    cfg: PoolConfig,
    book: RwLock<JobBook>,
    workers: Mutex<HashMap<String, WorkerStats>>,
    checks: AtomicU64,
    full_checks: AtomicU64,
    connections: AtomicU64,
    next_nonce1: AtomicU64,
    job_seq: AtomicU64,
    started: Instant,
    tx: broadcast::Sender<Command>,
}

#[derive(Debug, Clone)]
enum Command {
    Job(Arc<PoolJob>),
    RotateExtranonce,
}

/// Book as a [`JobSource`] behind its lock.
struct BookRef<'a>(&'a RwLock<JobBook>);

impl JobSource for BookRef<'_> {
    fn job(&self, id: &str) -> Option<Arc<PoolJob>> {
        self.0.read().expect("book lock").job(id)
    }
    fn current(&self) -> Option<Arc<PoolJob>> {
        self.0.read().expect("book lock").current()
    }
}

/// A running pool.
#[derive(Debug, Clone)]
pub struct PoolHandle {
    /// The address it listens on.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Shared {
    fn make_job(&self, clean: bool) -> Arc<PoolJob> {
        let seq = self.job_seq.fetch_add(1, Ordering::SeqCst);
        let params = self.cfg.params;
        let job = self
            .book
            .write()
            .expect("book lock")
            .push(|id| match &self.cfg.jobs {
                JobSourceKind::Recorded(t) => {
                    let tpl = &t[(seq as usize) % t.len()];
                    let mut prefix = tpl.prefix;
                    let cycles = (seq / t.len() as u64) as u32;
                    let time = u32::from_le_bytes(prefix[100..104].try_into().expect("4")) + cycles;
                    prefix[100..104].copy_from_slice(&time.to_le_bytes());
                    PoolJob::from_header_prefix(id, &prefix, params, clean)
                }
                JobSourceKind::Replay(tpl) => {
                    PoolJob::from_header_prefix(id, &tpl.prefix, params, clean)
                }
                JobSourceKind::Synthetic(tpl) => {
                    let mut prefix = tpl.prefix;
                    prefix[4..36].copy_from_slice(&sha256d(&seq.to_le_bytes()));
                    prefix[100..104].copy_from_slice(&(unix_now() as u32).to_le_bytes());
                    PoolJob::from_header_prefix(id, &prefix, params, clean)
                }
            });
        let _ = self.tx.send(Command::Job(job.clone()));
        job
    }

    fn nonce1(&self) -> Vec<u8> {
        if let Some(n) = &self.cfg.fixed_nonce1 {
            return n.clone();
        }
        let n = self.next_nonce1.fetch_add(1, Ordering::SeqCst);
        let len = self.cfg.nonce1_bytes.clamp(1, 16);
        let mut be = [0u8; 16];
        be[8..].copy_from_slice(&n.to_be_bytes());
        be[16 - len..].to_vec()
    }

    fn record(&self, ev: &ServerEvent) {
        let now_s = self.started.elapsed().as_secs_f64();
        let mut w = self.workers.lock().expect("workers lock");
        // At most MAX_WORKER_ROWS names get a row of their own (any submit name is credited, so
        // a client could invent names without end); the rest share one row.
        let row = |w: &HashMap<String, WorkerStats>, name: &String| -> String {
            if w.len() < MAX_WORKER_ROWS || w.contains_key(name) {
                name.clone()
            } else {
                OTHER_WORKERS.to_string()
            }
        };
        match ev {
            ServerEvent::Authorized { worker } => {
                let worker = &row(&w, worker);
                w.entry(worker.clone()).or_insert_with(|| WorkerStats {
                    since_s: now_s,
                    ..Default::default()
                });
            }
            ServerEvent::Accepted { worker, share } => {
                self.checks.fetch_add(1, Ordering::Relaxed);
                self.full_checks.fetch_add(1, Ordering::Relaxed);
                let name = row(&w, worker);
                let s = w.entry(name).or_default();
                s.accepted += 1;
                s.sum_difficulty += share.difficulty;
                s.sum_sq_difficulty += share.difficulty * share.difficulty;
                if share.block_candidate {
                    s.blocks += 1;
                    let mut h = share.hash;
                    h.reverse();
                    tracing::info!("block candidate from {worker}: {}", hex::encode(h));
                }
            }
            ServerEvent::Rejected { worker, reject } => {
                self.checks.fetch_add(1, Ordering::Relaxed);
                if matches!(
                    reject,
                    Reject::InvalidSolution(_) | Reject::LowDifficulty { .. }
                ) {
                    self.full_checks.fetch_add(1, Ordering::Relaxed);
                }
                let name = row(&w, worker);
                let s = w.entry(name).or_default();
                s.rejected[WorkerStats::slot(reject.code())] += 1;
                if !matches!(reject, Reject::JobNotFound | Reject::Duplicate) {
                    tracing::debug!("share from {worker} rejected: {reject}");
                }
            }
            ServerEvent::Retarget { difficulty } => {
                tracing::debug!("vardiff: difficulty {difficulty:.6}")
            }
            ServerEvent::Violation(v) => tracing::warn!("miner protocol violation: {v}"),
        }
    }
}

impl PoolHandle {
    /// Starts listening and serving. The first job exists before this returns.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn start(cfg: PoolConfig) -> std::io::Result<PoolHandle> {
        let listener = TcpListener::bind(cfg.listen).await?;
        let addr = listener.local_addr()?;
        let (tx, _) = broadcast::channel(1024);
        let (stop, stop_rx) = watch::channel(false);
        let interval = cfg.job_interval;
        let shared = Arc::new(Shared {
            cfg,
            book: RwLock::new(JobBook::default()),
            workers: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
            full_checks: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            next_nonce1: AtomicU64::new(1),
            job_seq: AtomicU64::new(0),
            started: Instant::now(),
            tx,
        });
        shared.make_job(true);
        tokio::spawn(accept_loop(listener, shared.clone(), stop_rx.clone()));
        if let Some(every) = interval {
            tokio::spawn(rotate_jobs(shared.clone(), every, stop_rx));
        }
        Ok(PoolHandle { addr, shared, stop })
    }

    /// Issues a new job to every connection now.
    pub fn new_job(&self, clean: bool) -> Arc<PoolJob> {
        self.shared.make_job(clean)
    }

    /// Sends every connection a fresh `NONCE_1` with `mining.set_extranonce`, then a new job.
    pub fn rotate_extranonce(&self) {
        let _ = self.shared.tx.send(Command::RotateExtranonce);
        self.shared.make_job(false);
    }

    /// Per-worker statistics.
    pub fn workers(&self) -> HashMap<String, WorkerStats> {
        self.shared.workers.lock().expect("workers lock").clone()
    }

    /// Shares checked so far (accepted + rejected).
    pub fn checks(&self) -> u64 {
        self.shared.checks.load(Ordering::Relaxed)
    }

    /// Shares that went through every check up to Equihash and the target (accepted, invalid
    /// solution, low difficulty) — the expensive ones.
    pub fn full_checks(&self) -> u64 {
        self.shared.full_checks.load(Ordering::Relaxed)
    }

    /// Open connections.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Seconds since the pool started.
    pub fn uptime_s(&self) -> f64 {
        self.shared.started.elapsed().as_secs_f64()
    }

    /// One line per worker: accepted, rejected by kind, Sol/s ± 1σ.
    pub fn report(&self) -> Vec<String> {
        let now = self.uptime_s();
        let mut rows: Vec<_> = self.workers().into_iter().collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.into_iter()
            .map(|(name, s)| {
                let rate = s.rate(now).map_or_else(|| "no shares yet".into(), |r| r.to_string());
                format!(
                    "{name}: {} accepted, rejected {} stale / {} duplicate / {} low-diff / {} other; {} blocks; {rate}",
                    s.accepted,
                    s.rejected_with(ErrorCode::JobNotFound),
                    s.rejected_with(ErrorCode::Duplicate),
                    s.rejected_with(ErrorCode::LowDifficulty),
                    s.rejected[0] + s.rejected[4] + s.rejected[5],
                    s.blocks,
                )
            })
            .collect()
    }

    /// Stops accepting and closes every connection.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

async fn rotate_jobs(shared: Arc<Shared>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut t = tokio::time::interval(every);
    t.tick().await;
    loop {
        tokio::select! {
            _ = t.tick() => {
                // Replayed headers stay valid across jobs: keep older jobs open.
                let clean = !matches!(shared.cfg.jobs, JobSourceKind::Replay(_));
                shared.make_job(clean);
            }
            _ = stop.changed() => return,
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((sock, peer)) => {
                    let _ = sock.set_nodelay(true);
                    tokio::spawn(connection(sock, peer, shared.clone(), stop.clone()));
                }
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

async fn connection(
    sock: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut rx = shared.tx.subscribe();
    let now_ms = || shared.started.elapsed().as_millis() as u64;
    let Ok(mut s) = ServerSession::new(shared.cfg.session.clone(), shared.nonce1(), now_ms())
    else {
        tracing::error!("pool difficulty gives no usable target");
        return;
    };
    shared.connections.fetch_add(1, Ordering::Relaxed);
    let mut framed = lines(sock);
    let mut poll = tokio::time::interval(Duration::from_secs(1));
    let book = BookRef(&shared.book);
    let reason = 'conn: loop {
        for line in s.take_outgoing() {
            if let Err(e) = framed.send(line).await {
                break 'conn format!("write failed: {e}");
            }
        }
        tokio::select! {
            line = framed.next() => match line {
                Some(Ok(l)) => {
                    for ev in s.on_line(&l, &book, unix_now(), now_ms()) {
                        shared.record(&ev);
                        if let ServerEvent::Violation(v) = ev {
                            break 'conn v;
                        }
                    }
                }
                Some(Err(LinesCodecError::MaxLineLengthExceeded)) => break 'conn "line too long".into(),
                Some(Err(e)) => break 'conn format!("read failed: {e}"),
                None => break 'conn "closed by miner".into(),
            },
            cmd = rx.recv() => match cmd {
                Ok(Command::Job(job)) if s.is_subscribed() => s.send_job(&job),
                Ok(Command::RotateExtranonce) if s.is_subscribed() => s.set_extranonce(shared.nonce1()),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!("{peer}: {n} pool commands skipped"),
                Err(broadcast::error::RecvError::Closed) => break 'conn "pool stopped".into(),
            },
            _ = poll.tick() => {
                for ev in s.poll(&book, now_ms()) {
                    shared.record(&ev);
                }
            }
            _ = stop.changed() => break 'conn "pool stopped".into(),
        }
    };
    shared.connections.fetch_sub(1, Ordering::Relaxed);
    tracing::debug!("{peer}: connection ended: {reason}");
}

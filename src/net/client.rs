//! The miner's socket driver: solver threads, the pool connection and the pure state machines
//! between them. Lines from the pool go through a [`ClientSession`] into the [`Engine`];
//! worker reports go into the engine, which submits through the session; the engine's work
//! goes on the [`WorkBoard`]; the [`Failover`] says which pool to connect to next, and when;
//! the [`Supervisor`] keeps the solver threads and carries out the watchdog's restarts.
//! Nothing is decided here: this is the thin I/O shell around `miner` and `stratum`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout, timeout_at};
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};

use super::supervise::Supervisor;
pub use super::supervise::{SolverFactory, WatchdogExit};
use super::{Stream, lines, tls};
use crate::backend::Solver;
use crate::miner::{
    Accounting, End, Engine, Failover, FailoverConfig, Output, Report, WatchdogConfig, WorkBoard,
};
use crate::stratum::{ClientConfig, ClientSession, Event, PoolUrl, ShareOutcome};
/// Settings of the driver.
#[derive(Debug, Clone)]
pub struct ClientDriverConfig {
    /// Pools in priority order.
    pub pools: Vec<PoolUrl>,
    /// The session settings (host and port are filled per pool).
    pub session: ClientConfig,
    /// Accept any TLS certificate.
    pub tls_insecure: bool,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// First backoff after a failure.
    pub backoff_min: Duration,
    /// Longest backoff.
    pub backoff_max: Duration,
    /// On a backup pool, try the first pool again after this long.
    pub return_to_primary: Duration,
    /// Mining pauses while this is set (the API's control); the connection stays up.
    pub pause: Arc<AtomicBool>,
    /// The solver watchdog's rules.
    pub watchdog: WatchdogConfig,
    /// Builds solver `i` again when the watchdog restarts it (`None`: a restart ends the run).
    pub rebuild: Option<SolverFactory>,
}

impl ClientDriverConfig {
    /// Defaults for everything but the pools and the session.
    pub fn new(pools: Vec<PoolUrl>, session: ClientConfig) -> ClientDriverConfig {
        ClientDriverConfig {
            pools,
            session,
            tls_insecure: false,
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            return_to_primary: Duration::from_secs(600),
            pause: Arc::default(),
            watchdog: WatchdogConfig::default(),
            rebuild: None,
        }
    }
}

impl ClientDriverConfig {
    fn failover(&self) -> FailoverConfig {
        let ms = |d: Duration| d.as_millis().min(u128::from(u64::MAX)) as u64;
        FailoverConfig {
            backoff_min_ms: ms(self.backoff_min),
            backoff_max_ms: ms(self.backoff_max),
            return_to_primary_ms: ms(self.return_to_primary),
        }
    }
}

async fn connect(url: &PoolUrl, cfg: &ClientDriverConfig) -> Result<Box<dyn Stream>, String> {
    let tcp = timeout(
        cfg.connect_timeout,
        TcpStream::connect((url.host.as_str(), url.port)),
    )
    .await
    .map_err(|_| format!("connect to {url} timed out"))?
    .map_err(|e| format!("connect to {url}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    if !url.tls {
        return Ok(Box::new(tcp));
    }
    let config = tls::client_config(cfg.tls_insecure).map_err(|e| format!("TLS setup: {e}"))?;
    let name = rustls::pki_types::ServerName::try_from(url.host.clone())
        .map_err(|e| format!("TLS server name {:?}: {e}", url.host))?;
    let stream = timeout(
        cfg.connect_timeout,
        tokio_rustls::TlsConnector::from(config).connect(name, tcp),
    )
    .await
    .map_err(|_| format!("TLS handshake with {url} timed out"))?
    .map_err(|e| format!("TLS handshake with {url}: {e} (self-signed pool? use --tls-insecure)"))?;
    Ok(Box::new(stream))
}

/// A random seed for the engine's start counters.
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// Mines until `shutdown` turns true: one worker thread per solver instance (each with its own
/// nonce prefix, [`NonceLayout::worker_prefix`](crate::miner::NonceLayout::worker_prefix)),
/// the engine, the watchdog ([`Supervisor`]) and the pool connection. The counters are
/// published on `status` as they change; the final ones are returned once every worker has
/// stopped.
///
/// # Errors
/// When a worker thread cannot be started, or the pool list is empty; a [`WatchdogExit`] when
/// the watchdog gave up on a solver (a failed restart, or too many).
pub async fn run_miner(
    instances: Vec<Box<dyn Solver>>,
    cfg: ClientDriverConfig,
    status: watch::Sender<Accounting>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Accounting> {
    let names: Vec<String> = instances.iter().map(|s| s.name()).collect();
    let board = Arc::new(WorkBoard::with_pause(cfg.pause.clone()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    // The driver stops on the caller's shutdown, or when the watchdog gives up.
    let stop = Arc::new(watch::channel(false).0);
    let (dog, rebuild) = (cfg.watchdog.clone(), cfg.rebuild.clone());
    let mut sup = Supervisor::start(instances, board.clone(), tx, dog, rebuild, stop.clone())?;
    let forward = tokio::spawn(forward_shutdown(shutdown, stop.clone()));
    let mut engine = Engine::new(&names, seed());
    let ran = drive(
        &cfg,
        &mut engine,
        &board,
        &mut rx,
        Some(&mut sup),
        &status,
        stop.subscribe(),
    );
    let ran = ran.await;
    forward.abort();
    let fatal = sup.fatal().map(str::to_string);
    sup.finish().await;
    // Nonces that finished after the connection closed still count (their shares are stale).
    while let Ok(r) = rx.try_recv() {
        engine.on_report(r, None, 0);
    }
    status.send_replace(engine.accounting().clone());
    ran?;
    match fatal {
        Some(reason) => Err(WatchdogExit { reason }.into()),
        None => Ok(engine.accounting().clone()),
    }
}

/// Sets `stop` once `shutdown` turns true or its sender is gone.
async fn forward_shutdown(mut shutdown: watch::Receiver<bool>, stop: Arc<watch::Sender<bool>>) {
    let _ = shutdown.wait_for(|s| *s).await;
    stop.send_replace(true);
}

/// Runs the pool connection until `shutdown` turns true (or every worker is gone), feeding
/// `engine` with the pool's events and the workers' `reports`, publishing its work on `board`
/// and its counters on `status`. See the module doc. No watchdog: [`run_miner`] has one.
///
/// # Errors
/// When the pool list is empty.
pub async fn run_client(
    cfg: &ClientDriverConfig,
    engine: &mut Engine,
    board: &WorkBoard,
    reports: &mut UnboundedReceiver<Report>,
    status: &watch::Sender<Accounting>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    drive(cfg, engine, board, reports, None, status, shutdown).await
}

/// [`run_client`], with the solver threads' supervisor (the watchdog) when `sup` is given.
async fn drive(
    cfg: &ClientDriverConfig,
    engine: &mut Engine,
    board: &WorkBoard,
    reports: &mut UnboundedReceiver<Report>,
    sup: Option<&mut Supervisor>,
    status: &watch::Sender<Accounting>,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut failover = Failover::new(cfg.pools.clone(), cfg.failover())?;
    let mut d = Driver {
        engine,
        board,
        reports,
        sup,
        status,
        t0: Instant::now(),
    };
    while !*shutdown.borrow() {
        let attempt = failover.next_attempt();
        if !d.idle_until(attempt.at_ms, &mut shutdown).await {
            break;
        }
        let url = attempt.url;
        let connected = tokio::select! {
            c = connect(&url, cfg) => c,
            _ = shutdown.changed() => break,
        };
        let end = match connected {
            Ok(stream) => {
                tracing::info!("connected to {url}");
                d.engine.connected(url.to_string());
                failover.connected(d.now());
                d.session(cfg, &url, stream, &failover, &mut shutdown).await
            }
            Err(e) => {
                let out = d.engine.disconnected(e.clone(), 0);
                d.apply(out);
                End::Failed(e)
            }
        };
        failover.ended(&end, d.now());
        match &end {
            End::Shutdown => break,
            End::Failed(reason) => tracing::warn!("{url}: {reason}"),
            other => tracing::info!("{url}: {other}"),
        }
    }
    d.publish();
    Ok(())
}

/// The driver's state while running: the engine and what it talks to.
struct Driver<'a> {
    engine: &'a mut Engine,
    board: &'a WorkBoard,
    reports: &'a mut UnboundedReceiver<Report>,
    sup: Option<&'a mut Supervisor>,
    status: &'a watch::Sender<Accounting>,
    t0: Instant,
}

impl Driver<'_> {
    /// Milliseconds since the driver started (the engine's and failover's clock).
    fn now(&self) -> u64 {
        self.t0.elapsed().as_millis() as u64
    }

    fn publish(&self) {
        self.status.send_replace(self.engine.accounting().clone());
    }

    /// Carries out the engine's outputs; returns the first [`End`] among them.
    fn apply(&mut self, outputs: Vec<Output>) -> Option<End> {
        let mut end = None;
        for o in outputs {
            match o {
                Output::Work(w) => self.board.publish(w),
                Output::End(e) => {
                    end.get_or_insert(e);
                }
            }
        }
        self.publish();
        end
    }

    fn report(&mut self, r: Report, session: Option<&mut ClientSession>) {
        if let Report::Failed { worker, error } = &r {
            tracing::error!("solver {worker} failed: {error}");
        }
        let now = self.now();
        if let Some(sup) = self.sup.as_deref_mut() {
            sup.on_report(&r, now);
        }
        self.engine.on_report(r, session, now);
        self.watch();
        self.publish();
    }

    /// Runs the watchdog, if any (a restart is counted in the engine; giving up stops the
    /// driver); `true` when it did something.
    fn watch(&mut self) -> bool {
        let (now, has_work) = (self.now(), self.board.has_work());
        match self.sup.as_deref_mut() {
            Some(sup) => sup.check(now, has_work, self.engine),
            None => false,
        }
    }

    /// Waits until `at_ms` with no connection, still counting the workers' reports; `false`
    /// when the miner is stopping.
    async fn idle_until(&mut self, at_ms: u64, shutdown: &mut watch::Receiver<bool>) -> bool {
        let deadline = self.t0 + Duration::from_millis(at_ms);
        let mut tick = tokio::time::interval(TICK);
        loop {
            if *shutdown.borrow() {
                return false;
            }
            tokio::select! {
                _ = sleep_until(deadline) => return true,
                r = self.reports.recv() => match r {
                    Some(r) => self.report(r, None),
                    None => return false,
                },
                _ = tick.tick() => if self.watch() {
                    self.publish();
                },
                _ = shutdown.changed() => return false,
            }
        }
    }

    /// One connection, from subscribe to its end.
    async fn session(
        &mut self,
        cfg: &ClientDriverConfig,
        url: &PoolUrl,
        stream: Box<dyn Stream>,
        failover: &Failover,
        shutdown: &mut watch::Receiver<bool>,
    ) -> End {
        let mut framed = lines(stream);
        let mut s = ClientSession::new(ClientConfig {
            host: url.host.clone(),
            port: url.port,
            extranonce_subscribe: cfg.session.extranonce_subscribe && url.xnsub,
            ..cfg.session.clone()
        });
        s.start(self.now());
        let mut tick = tokio::time::interval(TICK);
        let end = 'conn: loop {
            for line in s.take_outgoing() {
                if let Err(e) = framed.send(line).await {
                    break 'conn End::Failed(format!("write failed: {e}"));
                }
            }
            let events = tokio::select! {
                line = framed.next() => match line {
                    Some(Ok(l)) => s.on_line(&l, self.now()),
                    Some(Err(LinesCodecError::MaxLineLengthExceeded)) => break End::Failed(format!(
                        "pool sent a line longer than {} bytes", crate::stratum::wire::MAX_LINE_LEN)),
                    Some(Err(e)) => break End::Failed(format!("read failed: {e}")),
                    None => break End::Failed("pool closed the connection".into()),
                },
                r = self.reports.recv() => {
                    let Some(r) = r else { break End::Shutdown };
                    self.report(r, Some(&mut s));
                    continue;
                }
                _ = tick.tick() => {
                    let now = self.now();
                    if failover.return_due(now) {
                        break End::ReturnToPrimary;
                    }
                    self.watch();
                    let mut events: Vec<Event> = s.tick(now).into_iter().collect();
                    events.extend(s.expire_submits(now));
                    events
                }
                _ = shutdown.changed() => break End::Shutdown,
            };
            log_events(&events, url);
            let out = self.engine.on_events(events);
            if let Some(end) = self.apply(out) {
                break end;
            }
        };
        if !matches!(end, End::Failed(_)) {
            self.drain(&mut framed, &mut s).await;
        }
        let pending = s.pending_submits();
        if pending > 0 {
            tracing::warn!("{url}: {pending} submits unanswered at disconnect (counted as lost)");
        }
        let out = self.engine.disconnected(end.to_string(), pending);
        self.apply(out);
        end
    }
}

/// The driver's tick: session timeouts, failover and the watchdog.
const TICK: Duration = Duration::from_millis(250);

/// How long a miner leaving a pool on purpose waits for the answers to shares it already sent.
const DRAIN: Duration = Duration::from_secs(2);

impl Driver<'_> {
    /// On a planned end (shutdown, `client.reconnect`, return to the first pool), reads the
    /// pool's answers to submits already sent (for at most [`DRAIN`], until the pool closes or
    /// nothing is pending), so that a share the pool credits is counted here too; sends nothing
    /// new. A failed connection has nothing left to read.
    async fn drain(
        &mut self,
        framed: &mut Framed<Box<dyn Stream>, LinesCodec>,
        s: &mut ClientSession,
    ) {
        let deadline = Instant::now() + DRAIN;
        while s.pending_submits() > 0 {
            let line = match timeout_at(deadline, framed.next()).await {
                Ok(Some(Ok(l))) => l,
                _ => return,
            };
            let events = s.on_line(&line, self.now());
            let out = self.engine.on_events(events);
            self.apply(out);
        }
    }
}

/// Logs what the session reported (the engine acts on it).
fn log_events(events: &[Event], url: &PoolUrl) {
    for ev in events {
        match ev {
            Event::Subscribed { nonce1, .. } => tracing::info!(
                "{url}: subscribed, NONCE_1 {} ({} bytes)",
                hex::encode(nonce1),
                nonce1.len()
            ),
            Event::Authorized => tracing::info!("{url}: worker authorized"),
            Event::Target { difficulty, .. } => {
                tracing::info!("{url}: share difficulty {difficulty:.6}")
            }
            Event::Job(job) => tracing::debug!(
                "{url}: job {} (clean {})",
                job.notify.job_id,
                job.notify.clean
            ),
            Event::JobRefused { job_id, reason } => {
                tracing::error!("{url}: refusing job {job_id}: {reason}")
            }
            Event::Share {
                outcome,
                job_id,
                latency_ms,
                ..
            } => {
                tracing::debug!("{url}: share for job {job_id}: {outcome:?} in {latency_ms} ms");
                if let ShareOutcome::Rejected(e) = outcome {
                    tracing::warn!("{url}: share rejected ({}): {}", e.code.to_i64(), e.message);
                }
            }
            Event::ExtranonceChanged { nonce1 } => tracing::info!(
                "{url}: new NONCE_1 {} from the next job",
                hex::encode(nonce1)
            ),
            Event::Reconnect { .. } => {}
            Event::Warning(w) => tracing::warn!("{url}: {w}"),
            Event::Fatal(e) => tracing::error!("{url}: {e}; reconnecting"),
        }
    }
}

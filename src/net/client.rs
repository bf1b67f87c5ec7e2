//! The miner's stratum driver: connects to pools in priority order, runs a
//! [`ClientSession`] per connection, submits candidates, and reconnects.
//!
//! - **Failover**: pools are tried in order; a failed or dropped connection moves to the next
//!   after a backoff that doubles up to a cap and resets after a healthy session.
//! - **Return to the first**: while on a backup pool, the driver goes back to the first pool
//!   every `return_to_primary` interval.
//! - **Silence**: a pool that sends nothing for `silence_timeout` is dropped.
//! - **Pending submits** at a disconnect are counted in [`Accounting::lost_at_disconnect`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout};
use tokio_util::codec::LinesCodecError;

use super::{Stream, lines, tls};
use crate::miner::{Accounting, Candidate, WorkBoard};
use crate::stratum::{ClientConfig, ClientSession, Event, PoolUrl};

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
        }
    }
}

/// Why a connection ended.
#[derive(Debug)]
enum End {
    Shutdown,
    Failed(String),
    Reconnect { url: PoolUrl, wait: Duration },
    ReturnToPrimary,
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

/// Runs until `shutdown` turns true. See the module doc.
pub async fn run_client(
    cfg: ClientDriverConfig,
    board: Arc<WorkBoard>,
    mut candidates: UnboundedReceiver<Candidate>,
    acc: Arc<Mutex<Accounting>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut idx = 0;
    let mut backoff = cfg.backoff_min;
    let mut redirect: Option<PoolUrl> = None;
    while !*shutdown.borrow() {
        let url = redirect.take().unwrap_or_else(|| cfg.pools[idx].clone());
        let started = Instant::now();
        let end = match connect(&url, &cfg).await {
            Ok(stream) => {
                tracing::info!("connected to {url}");
                acc.lock().expect("accounting lock").connections += 1;
                let on_backup = idx != 0;
                session(
                    &cfg,
                    &url,
                    stream,
                    on_backup,
                    &board,
                    &mut candidates,
                    &acc,
                    &mut shutdown,
                )
                .await
            }
            Err(e) => {
                acc.lock()
                    .expect("accounting lock")
                    .record_disconnect(e.clone(), 0);
                End::Failed(e)
            }
        };
        board.clear();
        let wait = match end {
            End::Shutdown => return,
            End::Failed(reason) => {
                tracing::warn!("{url}: {reason}; next attempt in {backoff:?}");
                if started.elapsed() > Duration::from_secs(60) {
                    backoff = cfg.backoff_min;
                }
                let w = backoff;
                backoff = (backoff * 2).min(cfg.backoff_max);
                idx = (idx + 1) % cfg.pools.len();
                w
            }
            End::Reconnect { url: to, wait } => {
                tracing::info!("{url} asked us to reconnect to {to} in {wait:?}");
                redirect = Some(to);
                wait
            }
            End::ReturnToPrimary => {
                tracing::info!("returning to the first pool {}", cfg.pools[0]);
                idx = 0;
                Duration::ZERO
            }
        };
        tokio::select! {
            _ = sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn session(
    cfg: &ClientDriverConfig,
    url: &PoolUrl,
    stream: Box<dyn Stream>,
    on_backup: bool,
    board: &WorkBoard,
    candidates: &mut UnboundedReceiver<Candidate>,
    acc: &Mutex<Accounting>,
    shutdown: &mut watch::Receiver<bool>,
) -> End {
    let mut framed = lines(stream);
    let t0 = Instant::now();
    let now = || t0.elapsed().as_millis() as u64;
    let mut s = ClientSession::new(ClientConfig {
        host: url.host.clone(),
        port: url.port,
        extranonce_subscribe: cfg.session.extranonce_subscribe && url.xnsub,
        ..cfg.session.clone()
    });
    s.start(now());
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let end = 'conn: loop {
        for line in s.take_outgoing() {
            if let Err(e) = framed.send(line).await {
                break 'conn End::Failed(format!("write failed: {e}"));
            }
        }
        tokio::select! {
            line = framed.next() => {
                let events = match line {
                    Some(Ok(l)) => s.on_line(&l, now()),
                    Some(Err(LinesCodecError::MaxLineLengthExceeded)) => break End::Failed(format!(
                        "pool sent a line longer than {} bytes", crate::stratum::wire::MAX_LINE_LEN)),
                    Some(Err(e)) => break End::Failed(format!("read failed: {e}")),
                    None => break End::Failed("pool closed the connection".into()),
                };
                if let Some(end) = handle(events, url, board, acc) {
                    break end;
                }
            }
            c = candidates.recv() => {
                let Some(c) = c else { break End::Shutdown };
                submit(&mut s, c, board, acc, now());
            }
            _ = tick.tick() => {
                if let Some(Event::Fatal(e)) = s.tick(now()) {
                    break End::Failed(e.to_string());
                }
                if let Some(end) = handle(s.expire_submits(now()), url, board, acc) {
                    break end;
                }
                if on_backup && t0.elapsed() >= cfg.return_to_primary {
                    break End::ReturnToPrimary;
                }
            }
            _ = shutdown.changed() => break End::Shutdown,
        }
    };
    let pending = s.pending_submits();
    let reason = match &end {
        End::Failed(r) => r.clone(),
        other => format!("{other:?}"),
    };
    if pending > 0 {
        tracing::warn!("{url}: {pending} submits unanswered at disconnect (counted as lost)");
    }
    acc.lock()
        .expect("accounting lock")
        .record_disconnect(reason, pending);
    end
}

fn submit(
    s: &mut ClientSession,
    c: Candidate,
    board: &WorkBoard,
    acc: &Mutex<Accounting>,
    now: u64,
) {
    let live = board.is_live(c.epoch)
        && s.job(&c.job.notify.job_id)
            .is_some_and(|j| j.nonce1 == c.job.nonce1);
    let mut a = acc.lock().expect("accounting lock");
    if !live {
        a.stale_local += 1;
        return;
    }
    match s.submit(&c.job, &c.nonce, &c.solution, now) {
        Ok(_) => a.submitted += 1,
        Err(e) => {
            tracing::debug!("not submitted: {e}");
            a.stale_local += 1;
        }
    }
}

fn handle(
    events: Vec<Event>,
    url: &PoolUrl,
    board: &WorkBoard,
    acc: &Mutex<Accounting>,
) -> Option<End> {
    for ev in events {
        match ev {
            Event::Subscribed { nonce1, .. } => {
                tracing::info!(
                    "{url}: subscribed, NONCE_1 {} ({} bytes)",
                    hex::encode(&nonce1),
                    nonce1.len()
                );
            }
            Event::Authorized => tracing::info!("{url}: worker authorized"),
            Event::Target { difficulty, .. } => {
                tracing::info!("{url}: share difficulty {difficulty:.6}")
            }
            Event::Job(job) => {
                tracing::debug!(
                    "{url}: job {} (clean {})",
                    job.notify.job_id,
                    job.notify.clean
                );
                board.set(job);
            }
            Event::JobRefused { job_id, reason } => {
                tracing::error!("{url}: refusing job {job_id}: {reason}");
                board.clear();
            }
            Event::Share {
                outcome,
                difficulty,
                job_id,
                latency_ms,
                ..
            } => {
                tracing::debug!("{url}: share for job {job_id}: {outcome:?} in {latency_ms} ms");
                if let crate::stratum::ShareOutcome::Rejected(e) = &outcome {
                    tracing::warn!("{url}: share rejected ({}): {}", e.code.to_i64(), e.message);
                }
                acc.lock()
                    .expect("accounting lock")
                    .record(&outcome, difficulty);
            }
            Event::ExtranonceChanged { nonce1 } => {
                tracing::info!(
                    "{url}: new NONCE_1 {} from the next job",
                    hex::encode(nonce1)
                );
            }
            Event::Reconnect { host, port, wait_s } => {
                let to = PoolUrl {
                    host: host
                        .filter(|h| !h.is_empty())
                        .unwrap_or_else(|| url.host.clone()),
                    port: port.filter(|&p| p != 0).unwrap_or(url.port),
                    tls: url.tls,
                    xnsub: url.xnsub,
                };
                return Some(End::Reconnect {
                    url: to,
                    wait: Duration::from_secs(wait_s),
                });
            }
            Event::Warning(w) => tracing::warn!("{url}: {w}"),
            Event::Fatal(e) => {
                tracing::error!("{url}: {e}; reconnecting");
                return Some(End::Failed(e.to_string()));
            }
        }
    }
    None
}

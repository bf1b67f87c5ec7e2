//! Miner ⇄ built-in pool end to end, on loopback, with small Equihash parameters (48,5) so a
//! nonce takes milliseconds: shares accepted, the pool's Sol/s estimate against the miner's own
//! count, vardiff, set_extranonce, TLS, client.reconnect, set_difficulty on the ccminer scale,
//! every reject code from a hand-driven client, and the watchdog restarting a hung solver.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxminer::backend::cpu::CpuSolver;
use fluxminer::backend::{SolveReport, Solver, SolverError};
use fluxminer::equihash::{Params, minimal_from_indices};
use fluxminer::miner::{Accounting, WatchdogConfig};
use fluxminer::net::client::{ClientDriverConfig, SolverFactory, WatchdogExit, run_miner};
use fluxminer::net::server::{JobSourceKind, PoolConfig, PoolHandle, TlsListen};
use fluxminer::net::tls::ServerCert;
use fluxminer::stratum::job::{equihash_input, share_hash, solution_with_length};
use fluxminer::stratum::pool::vardiff::VardiffConfig;
use fluxminer::stratum::pool::{DifficultyMessage, ExtranonceMode, ServerConfig};
use fluxminer::stratum::templates;
use fluxminer::stratum::{ClientConfig, DifficultyScale, Message, Notify, PoolUrl};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;

const PARAMS: Params = Params::EH48_5;

fn pool_config(difficulty: f64, vardiff: Option<VardiffConfig>) -> PoolConfig {
    PoolConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        session: ServerConfig {
            difficulty,
            vardiff,
            extranonce: ExtranonceMode::Supported,
            difficulty_message: DifficultyMessage::SetTarget,
        },
        params: PARAMS,
        nonce1_bytes: 3,
        fixed_nonce1: None,
        jobs: JobSourceKind::Recorded(templates::recorded()),
        job_interval: None,
        tls: None,
        rate_window: Duration::from_millis(fluxminer::net::server::DEFAULT_RATE_WINDOW_MS),
    }
}

fn driver(pool: &PoolHandle, worker: &str) -> ClientDriverConfig {
    let session = ClientConfig {
        user: worker.into(),
        pass: "x".into(),
        agent: "e2e".into(),
        host: String::new(),
        port: 0,
        params: PARAMS,
        scale: DifficultyScale::Pool,
        extranonce_subscribe: true,
        silence_timeout_ms: 30_000,
    };
    let url = PoolUrl {
        host: "127.0.0.1".into(),
        port: pool.addr.port(),
        tls: false,
        xnsub: true,
    };
    let mut cfg = ClientDriverConfig::new(vec![url], session);
    cfg.backoff_min = Duration::from_millis(50);
    cfg
}

/// Mines against `pool` for `secs`, calling `during` halfway; returns the miner's counters and
/// the elapsed seconds.
async fn mine_for(
    pool: &PoolHandle,
    worker: &str,
    secs: f64,
    during: impl FnOnce(),
) -> (Accounting, f64) {
    mine_with(driver(pool, worker), secs, during).await
}

/// [`mine_for`] with the driver configuration `cfg`.
async fn mine_with(cfg: ClientDriverConfig, secs: f64, during: impl FnOnce()) -> (Accounting, f64) {
    let (status, _) = watch::channel(Accounting::default());
    let (tx, rx) = watch::channel(false);
    let solver: Box<dyn Solver> = Box::new(CpuSolver::new(PARAMS, 2).unwrap());
    let started = std::time::Instant::now();
    let task = tokio::spawn(run_miner(vec![solver], cfg, status, rx));
    tokio::time::sleep(Duration::from_secs_f64(secs / 2.0)).await;
    during();
    tokio::time::sleep(Duration::from_secs_f64(secs / 2.0)).await;
    let acc = stop(&tx, task).await;
    let elapsed = started.elapsed().as_secs_f64();
    (acc, elapsed)
}

/// Tells the miner to stop and returns its counters (within 10 s).
async fn stop(
    tx: &watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<Accounting>>,
) -> Accounting {
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("miner stops")
        .unwrap()
        .unwrap()
}

/// The pool's Sol/s estimate (8192·ΣD/Δt over accepted shares) must agree with the solutions
/// the miner itself counted, within 3σ of the estimate (σ = estimate/√n, Poisson): a 99.7 %
/// interval, so an honest run fails by chance about once in 370 (at 2σ it was once in twenty, too
/// often for CI); with n ≈ 600 shares, 3σ is about ±12 %, still far below any unit or scale
/// mistake (a wrong 8192, a difficulty scale off by 256, shares dropped on the way). The miner's count is over its own
/// run, the pool's over the time since authorize until the miner left (its window is longer
/// than the run) — they differ by milliseconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_accepted_and_pool_estimate_matches_local_count() {
    let pool = PoolHandle::start(pool_config(0.001, None)).await.unwrap();
    let (acc, secs) = mine_for(&pool, "t1e2e.rate", 8.0, || {}).await;
    let w = pool.workers()["t1e2e.rate"].clone();
    assert_eq!(w.accepted, acc.accepted, "both sides count the same shares");
    assert!(
        acc.accepted >= 100,
        "enough shares to be meaningful: {acc:?}"
    );
    assert_eq!(acc.rejected(), 0, "{acc:?}");
    assert_eq!(acc.compute_errors, 0);
    let est = acc.pool_rate(secs).unwrap();
    let local = acc.sol_per_s(secs);
    let z = est.sigmas_from(local);
    eprintln!("local {local:.1} Sol/s, pool {est}, {z:.2}σ apart");
    assert!(
        z <= 3.0,
        "pool estimate {est} vs local {local:.1} Sol/s: {z:.2}σ"
    );
    // The pool's own per-worker rate (its window is 10 min, so here the time since authorize)
    // ends when the miner leaves: it agrees with the local count and does not fall afterwards.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while pool.workers()["t1e2e.rate"].left_ms.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the pool saw the miner leave"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let left = pool.rate("t1e2e.rate").unwrap();
    assert_eq!(left.shares, acc.accepted);
    let z = left.sigmas_from(local);
    assert!(z <= 3.0, "pool {left} vs local {local:.1} Sol/s: {z:.2}σ");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(pool.rate("t1e2e.rate"), Some(left));
    pool.shutdown();
}

/// set_extranonce mid-run: shares for jobs after it must use the new NONCE_1; a miner that
/// ignored it would have every later share rejected as an invalid solution.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_extranonce_is_applied_from_the_next_job() {
    let pool = PoolHandle::start(pool_config(0.002, None)).await.unwrap();
    let before = Arc::new(Mutex::new(0));
    let (b, p) = (before.clone(), pool.clone());
    let (acc, _) = mine_for(&pool, "t1e2e.xn", 4.0, move || {
        *b.lock().unwrap() = p.workers()["t1e2e.xn"].accepted;
        p.rotate_extranonce();
    })
    .await;
    let before = *before.lock().unwrap();
    assert!(before > 0);
    assert!(
        acc.accepted > before + 10,
        "shares after the new NONCE_1: {acc:?}"
    );
    assert_eq!(
        acc.other_rejects + acc.low_difficulty + acc.duplicate,
        0,
        "{acc:?}"
    );
    pool.shutdown();
}

/// Vardiff raises the difficulty of a worker sending shares far faster than wanted: the miner
/// ends on a difficulty above the start (announced by the pool, taken by the miner), no share is
/// rejected for it, and none is credited below the start. Not asserted: that a share was found
/// at the raised difficulty, since the raise aims at one share per 2 s and the run is 4 s (no
/// share happens in about one run in six, by a Poisson estimate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vardiff_raises_difficulty_of_a_fast_worker() {
    let vd = VardiffConfig {
        target_share_s: 2.0,
        retarget_s: 1.0,
        variance: 0.3,
        min: 0.0005,
        max: 1.0,
        x2: false,
    };
    let pool = PoolHandle::start(pool_config(0.0005, Some(vd)))
        .await
        .unwrap();
    let (acc, _) = mine_for(&pool, "t1e2e.vd", 4.0, || {}).await;
    let raised = acc.difficulty.unwrap_or(0.0);
    assert!(raised > 0.001, "difficulty rose above the start: {acc:?}");
    assert_eq!(acc.other_rejects + acc.low_difficulty, 0, "{acc:?}");
    let w = pool.workers()["t1e2e.vd"].clone();
    let mean = w.sum_difficulty / w.accepted as f64;
    assert!(
        w.accepted > 0 && mean >= 0.0005 * (1.0 - 1e-9),
        "mean {mean}"
    );
    pool.shutdown();
}

/// Interop fault 9: the pool's TLS listener with a self-signed certificate made at start is
/// mined with `--tls-insecure`, every share accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_with_a_self_signed_certificate_is_mined() {
    let mut cfg = pool_config(0.002, None);
    cfg.tls = Some(TlsListen {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        cert: ServerCert::SelfSigned(Vec::new()),
    });
    let pool = PoolHandle::start(cfg).await.unwrap();
    let mut d = driver(&pool, "t1e2e.tls");
    d.pools[0].port = pool.tls_addr.unwrap().port();
    d.pools[0].tls = true;
    d.tls_insecure = true;
    let (acc, _) = mine_with(d, 2.0, || {}).await;
    assert_eq!(acc.connections, 1, "{acc:?}");
    assert!(acc.accepted >= 5, "{acc:?}");
    assert_eq!(acc.rejected(), 0, "{acc:?}");
    assert_eq!(pool.workers()["t1e2e.tls"].accepted, acc.accepted);
    pool.shutdown();
}

/// Interop fault 9: `client.reconnect` moves the miner to the pool it names; it mines there
/// with no reject, and leaves the first pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_reconnect_moves_the_miner() {
    let from = PoolHandle::start(pool_config(0.002, None)).await.unwrap();
    let to = PoolHandle::start(pool_config(0.002, None)).await.unwrap();
    let (f, port) = (from.clone(), to.addr.port());
    let (acc, _) = mine_for(&from, "t1e2e.move", 3.0, move || {
        f.reconnect("127.0.0.1", port, 0)
    })
    .await;
    assert_eq!(acc.connections, 2, "{acc:?}");
    assert_eq!(from.connections(), 0);
    let (before, after) = (
        from.workers()["t1e2e.move"].accepted,
        to.workers()["t1e2e.move"].accepted,
    );
    assert!(before > 0 && after > 0, "{before} then {after}");
    assert_eq!(before + after, acc.accepted, "{acc:?}");
    // The miner's per-pool counts agree with each pool's.
    let mine = |port: u16| {
        let p = acc
            .pools
            .iter()
            .find(|p| p.url.contains(&format!(":{port}")));
        p.map(|p| p.shares.accepted)
    };
    assert_eq!(
        (mine(from.addr.port()), mine(to.addr.port())),
        (Some(before), Some(after)),
        "{acc:?}"
    );
    assert_eq!(acc.rejected(), 0, "{acc:?}");
    from.shutdown();
    to.shutdown();
}

/// Interop fault 9: a pool announcing the difficulty with `mining.set_difficulty` on the
/// yiimp/ccminer scale, mined with the ccminer scale (`--ccminer-difficulty`): no reject, and
/// both sides credit the same difficulty, ≈ the pool's 0.002.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_difficulty_on_the_ccminer_scale_has_no_rejects() {
    let mut cfg = pool_config(0.002, None);
    cfg.session.difficulty_message = DifficultyMessage::SetDifficulty(DifficultyScale::Ccminer);
    let pool = PoolHandle::start(cfg).await.unwrap();
    let mut d = driver(&pool, "t1e2e.cc");
    d.session.scale = DifficultyScale::Ccminer;
    let (acc, _) = mine_with(d, 2.0, || {}).await;
    assert!(acc.accepted >= 5, "{acc:?}");
    assert_eq!(acc.rejected(), 0, "{acc:?}");
    let w = pool.workers()["t1e2e.cc"].clone();
    assert_eq!(w.accepted, acc.accepted);
    let mean = w.sum_difficulty / w.accepted as f64;
    assert!((mean / 0.002 - 1.0).abs() < 1e-4, "{mean}");
    assert!((acc.accepted_difficulty / w.sum_difficulty - 1.0).abs() < 1e-9);
    pool.shutdown();
}

struct RawClient {
    framed: tokio_util::codec::Framed<TcpStream, tokio_util::codec::LinesCodec>,
    next_id: u64,
}

impl RawClient {
    async fn connect(addr: SocketAddr) -> RawClient {
        let s = TcpStream::connect(addr).await.unwrap();
        RawClient {
            framed: fluxminer::net::lines(s),
            next_id: 1,
        }
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let m = Message::request(json!(id), method, params.as_array().unwrap().clone());
        self.framed.send(m.to_line()).await.unwrap();
        loop {
            let line = self.framed.next().await.unwrap().unwrap();
            let v: Value = serde_json::from_str(&line).unwrap();
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    /// The lines up to and including the next `mining.notify`.
    async fn lines_through_notify(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.framed.next().await.unwrap().unwrap();
            let notify = line.contains("\"mining.notify\"");
            lines.push(line);
            if notify {
                return lines;
            }
        }
    }

    async fn next_notify(&mut self) -> Notify {
        loop {
            let line = self.framed.next().await.unwrap().unwrap();
            if let Ok(Message::Request(r)) = Message::parse(&line)
                && r.method == "mining.notify"
            {
                return Notify::from_params(&r.params).unwrap();
            }
        }
    }
}

fn code(v: &Value) -> i64 {
    v["error"][0]
        .as_i64()
        .unwrap_or_else(|| panic!("expected an error: {v}"))
}

/// Every reject code, from a client driven by hand: 25 for a submit before subscribe (an
/// authorize before subscribe is accepted, as s-nomp and miningcore do), 24 for a connection
/// that never authorized, accepted, 22 duplicate, 20 bad solution, 20 wrong sizes, 23 low difficulty, 21 stale
/// after a clean job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_rejects_with_the_right_codes() {
    let pool = PoolHandle::start(pool_config(0.001, None)).await.unwrap();
    let mut c = RawClient::connect(pool.addr).await;
    assert_eq!(
        code(
            &c.call("mining.submit", json!(["w", "1", "00000000", "00", "00"]))
                .await
        ),
        25
    );
    assert_eq!(
        c.call("mining.authorize", json!(["w", "x"])).await["result"],
        json!(true)
    );
    let sub = c
        .call("mining.subscribe", json!(["raw", null, "127.0.0.1", 0]))
        .await;
    let nonce1 = hex::decode(sub["result"][1].as_str().unwrap()).unwrap();
    assert_eq!(nonce1.len(), 3);
    let job = c.next_notify().await;
    assert_eq!(
        c.call("mining.authorize", json!(["t1raw.w", "x"])).await["result"],
        json!(true)
    );

    // Solve until we hold one share above the target and one below.
    let target =
        fluxminer::stratum::difficulty::target_from_difficulty(0.001, DifficultyScale::Pool)
            .unwrap();
    let mut solver = CpuSolver::new(PARAMS, 2).unwrap();
    let (mut good, mut low) = (None, None);
    for counter in 0u32.. {
        let mut nonce = [0u8; 32];
        nonce[..3].copy_from_slice(&nonce1);
        nonce[28..].copy_from_slice(&counter.to_le_bytes());
        let input = equihash_input(&job.header_prefix(), &nonce);
        for idx in solver.solve(&input).unwrap().solutions {
            let sol = minimal_from_indices(&PARAMS, &idx);
            let slot = if target.is_met_by_internal_bytes(&share_hash(&input, &sol)) {
                &mut good
            } else {
                &mut low
            };
            slot.get_or_insert((nonce, sol));
        }
        if good.is_some() && low.is_some() {
            break;
        }
    }
    let submit = |worker: &str, job_id: &str, nonce: &[u8; 32], sol: &[u8]| {
        json!([
            worker,
            job_id,
            hex::encode(job.time),
            hex::encode(&nonce[3..]),
            hex::encode(solution_with_length(sol))
        ])
    };
    let (gn, gs) = good.unwrap();
    let (ln, ls) = low.unwrap();
    let id = job.job_id.as_str();
    // A connection that never authorized gets 24.
    let mut anon = RawClient::connect(pool.addr).await;
    anon.call("mining.subscribe", json!(["raw", null, "127.0.0.1", 0]))
        .await;
    assert_eq!(
        code(
            &anon
                .call("mining.submit", submit("t1raw.w", id, &gn, &gs))
                .await
        ),
        24
    );
    assert_eq!(
        c.call("mining.submit", submit("t1raw.w", id, &gn, &gs))
            .await["result"],
        json!(true)
    );
    assert_eq!(
        code(
            &c.call("mining.submit", submit("t1raw.w", id, &gn, &gs))
                .await
        ),
        22
    );
    // Any worker name is credited once the connection authorized one (as real pools do); the
    // share is still the same share.
    assert_eq!(
        code(
            &c.call("mining.submit", submit("t1raw.other", id, &gn, &gs))
                .await
        ),
        22
    );
    let mut bad = gs.clone();
    bad[5] ^= 0x10;
    let r = c
        .call("mining.submit", submit("t1raw.w", id, &gn, &bad))
        .await;
    assert_eq!(code(&r), 20);
    assert!(
        r["error"][1].as_str().unwrap().contains("invalid solution"),
        "{r}"
    );
    let mut short = submit("t1raw.w", id, &gn, &gs);
    short[3] = json!(&short[3].as_str().unwrap()[2..]);
    let r = c.call("mining.submit", short).await;
    assert!(
        code(&r) == 20 && r["error"][1].as_str().unwrap().contains("nonce"),
        "{r}"
    );
    let r = c
        .call("mining.submit", submit("t1raw.w", id, &ln, &ls))
        .await;
    assert_eq!(code(&r), 23, "{r}");
    pool.new_job(true);
    let _ = c.next_notify().await;
    let (mut n2, _) = (gn, ());
    n2[31] ^= 1; // a different nonce, so not a duplicate: the job is what is stale
    assert_eq!(
        code(
            &c.call("mining.submit", submit("t1raw.w", id, &n2, &gs))
                .await
        ),
        21
    );
    // The never-authorized connection's 24 is counted under the name it submitted with.
    let w = pool.workers()["t1raw.w"].clone();
    assert_eq!((w.accepted, w.rejected), (1, [2, 1, 1, 1, 1, 0]));
    assert_eq!(pool.workers()["t1raw.other"].rejected[2], 1);
    pool.shutdown();
}

/// Interop fault 8: any submit name is credited, so the pool bounds its per-worker rows: a
/// client inventing names gets at most `MAX_WORKER_ROWS` rows, the rest share one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_worker_rows_are_bounded() {
    use fluxminer::net::server::{MAX_WORKER_ROWS, OTHER_WORKERS};
    let pool = PoolHandle::start(pool_config(0.001, None)).await.unwrap();
    let mut c = RawClient::connect(pool.addr).await;
    c.call("mining.subscribe", json!(["raw", null, "127.0.0.1", 0]))
        .await;
    c.call("mining.authorize", json!(["t1raw.w", "x"])).await;
    let n = MAX_WORKER_ROWS + 200;
    for i in 0..n {
        let r = c
            .call(
                "mining.submit",
                json!([format!("t1raw.{i}"), "nojob", "00000000", "00", "00"]),
            )
            .await;
        assert_eq!(code(&r), 21);
    }
    let rows = pool.workers();
    assert!(rows.len() <= MAX_WORKER_ROWS + 1, "{} rows", rows.len());
    let total: u64 = rows.values().map(|w| w.rejected.iter().sum::<u64>()).sum();
    assert_eq!(total, n as u64, "every reject still counted");
    assert!(rows[OTHER_WORKERS].rejected.iter().sum::<u64>() >= 200);
    pool.shutdown();
}

/// Interop fault 9: `mining.set_extranonce` goes only to connections that sent
/// `mining.extranonce.subscribe` (NiceHash does the same; others may not understand it), with a
/// new `NONCE_1` and the `NONCE_2` size, before the next job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_extranonce_goes_to_extranonce_subscribers_only() {
    let pool = PoolHandle::start(pool_config(0.001, None)).await.unwrap();
    let subscribe = json!(["raw", null, "127.0.0.1", 0]);
    let mut xn = RawClient::connect(pool.addr).await;
    let old = xn.call("mining.subscribe", subscribe.clone()).await["result"][1].clone();
    xn.next_notify().await;
    assert_eq!(
        xn.call("mining.extranonce.subscribe", json!([])).await["result"],
        json!(true)
    );
    let mut plain = RawClient::connect(pool.addr).await;
    plain.call("mining.subscribe", subscribe).await;
    plain.next_notify().await;
    pool.rotate_extranonce();
    let lines = xn.lines_through_notify().await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    let set: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(set["method"], json!("mining.set_extranonce"), "{lines:?}");
    let new = set["params"][0].as_str().unwrap();
    assert!(new.len() == 6 && json!(new) != old, "{old} → {new}");
    assert_eq!(set["params"][1], json!(29));
    let lines = plain.lines_through_notify().await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    pool.shutdown();
}

/// A solver that answers `answers` nonces, then stops answering (a hung device) until
/// `release` is set, and then answers once with a broken solution.
struct Hangs {
    inner: CpuSolver,
    answers: usize,
    hung: Hung,
}

/// The test's handles on a [`Hangs`]: `release` wakes it; `dropped` is set once its worker
/// thread has ended.
#[derive(Clone, Default)]
struct Hung {
    release: Arc<AtomicBool>,
    dropped: Arc<AtomicBool>,
}

impl Solver for Hangs {
    fn name(&self) -> String {
        "hangs".into()
    }

    fn params(&self) -> Params {
        PARAMS
    }

    fn solve(&mut self, input: &[u8]) -> Result<SolveReport, SolverError> {
        if self.answers > 0 {
            self.answers -= 1;
            return self.inner.solve(input);
        }
        while !self.hung.release.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(SolveReport {
            solutions: vec![(0..32).collect()],
            stats: Default::default(),
        })
    }
}

impl Drop for Hangs {
    fn drop(&mut self) {
        self.hung.dropped.store(true, Ordering::Relaxed);
    }
}

fn hangs_after(answers: usize, hung: &Hung) -> Vec<Box<dyn Solver>> {
    vec![Box::new(Hangs {
        inner: CpuSolver::new(PARAMS, 2).unwrap(),
        answers,
        hung: hung.clone(),
    })]
}

/// A driver whose watchdog restarts a worker silent for 1 s, rebuilding it with `rebuild`.
fn watched(
    pool: &PoolHandle,
    worker: &str,
    rebuild: impl Fn(usize) -> anyhow::Result<Box<dyn Solver>> + Send + Sync + 'static,
) -> ClientDriverConfig {
    let mut cfg = driver(pool, worker);
    cfg.watchdog = WatchdogConfig {
        stall_min_ms: 1_000,
        ..WatchdogConfig::default()
    };
    cfg.rebuild = Some(SolverFactory::new(rebuild));
    cfg
}

/// Waits up to 10 s for the published counters to satisfy `what`.
async fn until(
    seen: &mut watch::Receiver<Accounting>,
    what: impl FnMut(&Accounting) -> bool,
) -> Accounting {
    tokio::time::timeout(Duration::from_secs(10), seen.wait_for(what))
        .await
        .expect("in time")
        .unwrap()
        .clone()
}

/// The watchdog restarts a solver that stops answering: the restart is counted with its
/// reason, the factory builds one new solver, shares keep being accepted after it, none of them
/// mined twice; the abandoned solver, woken up, stops and its broken answer is not counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_restarts_a_hung_solver_and_mining_goes_on() {
    let pool = PoolHandle::start(pool_config(0.002, None)).await.unwrap();
    let built = Arc::new(AtomicUsize::new(0));
    let b = built.clone();
    let cfg = watched(&pool, "t1e2e.dog", move |i| {
        assert_eq!(i, 0);
        b.fetch_add(1, Ordering::Relaxed);
        Ok(Box::new(CpuSolver::new(PARAMS, 2)?))
    });
    let hung = Hung::default();
    let (status, mut seen) = watch::channel(Accounting::default());
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(run_miner(hangs_after(5, &hung), cfg, status, rx));
    let restarted = until(&mut seen, |a| {
        a.devices.first().is_some_and(|d| d.restarts > 0)
    })
    .await;
    hung.release.store(true, Ordering::Relaxed);
    let target = restarted.accepted + 10;
    until(&mut seen, |a| a.accepted >= target).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !hung.dropped.load(Ordering::Relaxed) {
        assert!(
            std::time::Instant::now() < deadline,
            "the abandoned solver stops"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let acc = stop(&tx, task).await;
    let dev = &acc.devices[0];
    assert_eq!(dev.restarts, 1, "{acc:?}");
    let reason = dev.last_restart.as_deref().unwrap();
    assert!(reason.starts_with("no nonce for "), "{reason}");
    assert_eq!(built.load(Ordering::Relaxed), 1);
    assert_eq!(
        acc.compute_errors, 0,
        "the woken solver's answer is dropped: {acc:?}"
    );
    assert_eq!(acc.rejected(), 0, "{acc:?}");
    assert_eq!(
        acc.duplicate_local, 0,
        "the new solver mines new nonces: {acc:?}"
    );
    assert_eq!(pool.workers()["t1e2e.dog"].accepted, acc.accepted);
    pool.shutdown();
}

/// When building the new solver fails, the run ends on its own with a [`WatchdogExit`] naming
/// why the solver was restarted and why the rebuild failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_restart_ends_the_run_with_the_reason() {
    let pool = PoolHandle::start(pool_config(0.002, None)).await.unwrap();
    let cfg = watched(&pool, "t1e2e.dog2", |_| anyhow::bail!("device 7 is gone"));
    let hung = Hung::default();
    let (status, _) = watch::channel(Accounting::default());
    let (_tx, rx) = watch::channel(false);
    let ran = tokio::time::timeout(
        Duration::from_secs(10),
        run_miner(hangs_after(3, &hung), cfg, status, rx),
    )
    .await
    .expect("the run ends on its own");
    hung.release.store(true, Ordering::Relaxed);
    let e = ran.unwrap_err();
    let exit = e.downcast_ref::<WatchdogExit>().expect("a watchdog exit");
    assert!(
        exit.reason
            .starts_with("solver 0 (hangs): restarted because no nonce for ")
            && exit
                .reason
                .ends_with("but building a new solver failed: device 7 is gone"),
        "{exit}"
    );
    pool.shutdown();
}

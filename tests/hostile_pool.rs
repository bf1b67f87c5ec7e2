//! A hostile or broken pool: each misbehaviour must end the connection with a clear reason
//! (kept in `Accounting::disconnects` and logged) and a reconnect — never a panic or a hang.
//! The fake pool is scripted per connection; backoff and silence timeouts are milliseconds so
//! the tests stay fast.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxminer::equihash::Params;
use fluxminer::miner::{Accounting, Engine, FoundShare, NonceDone, Report, WorkBoard};
use fluxminer::net::client::{ClientDriverConfig, run_client};
use fluxminer::stratum::{ClientConfig, DifficultyScale, PoolUrl};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

const SUBSCRIBED: &str = r#"{"id":1,"result":[null,"60000016"],"error":null}"#;
const AUTHORIZED: &str = r#"{"id":2,"result":true,"error":null}"#;
const NOTIFY: &str = r#"{"id":null,"method":"mining.notify","params":["1","04000000","a8675c842f7a1342fadd00cd9b4e4909526b1c0ab5a747c5529b4deb13000000","ce7d6ea2452245925fc70c3a08a3c3dd2ca4beab7481f237a19751666bfd25c3","0fd282d94b1e1a7f2c57eb3fb9e2853d990753fa137e13c99bd43f220d4fce69","90e44f5d","ce28421d",true,"125_4","ZelProof"]}"#;

/// What the fake pool does after subscribe and authorize.
#[derive(Clone)]
enum Act {
    /// Send these bytes (no newline added).
    Raw(String),
    /// Close the connection.
    Close,
    /// Say nothing and hold the connection open.
    Silent,
    /// Read one line from the miner and remember its id.
    Read,
    /// Answer the last line read with `true`.
    AcceptLast,
}

/// A fake pool: each connection reads the subscribe and authorize, answers them, then plays
/// `script`. Returns its address and a connection counter.
async fn fake_pool(script: Vec<Act>) -> (SocketAddr, Arc<Mutex<u32>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let count = Arc::new(Mutex::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = l.accept().await else {
                return;
            };
            *c.lock().unwrap() += 1;
            let script = script.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r).lines();
                let _ = r.next_line().await;
                let _ = w.write_all(format!("{SUBSCRIBED}\n").as_bytes()).await;
                let _ = r.next_line().await;
                let _ = w.write_all(format!("{AUTHORIZED}\n").as_bytes()).await;
                let mut last_id = serde_json::Value::Null;
                for act in script {
                    match act {
                        Act::Raw(s) => {
                            let _ = w.write_all(s.as_bytes()).await;
                        }
                        Act::Close => return,
                        Act::Silent => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                        }
                        Act::Read => {
                            let Ok(Some(line)) = r.next_line().await else {
                                return;
                            };
                            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                            last_id = v["id"].clone();
                        }
                        Act::AcceptLast => {
                            let ok =
                                serde_json::json!({"id": last_id, "result": true, "error": null});
                            let _ = w.write_all(format!("{ok}\n").as_bytes()).await;
                        }
                    }
                }
                // Drain what the miner sends, unanswered, until it hangs up.
                while let Ok(Some(_)) = r.next_line().await {}
            });
        }
    });
    (addr, count)
}

fn config(pools: Vec<SocketAddr>) -> ClientDriverConfig {
    let session = ClientConfig {
        user: "t1hostile.w".into(),
        pass: "x".into(),
        agent: "test".into(),
        host: String::new(),
        port: 0,
        params: Params::ZELHASH,
        scale: DifficultyScale::Pool,
        extranonce_subscribe: false,
        silence_timeout_ms: 400,
    };
    let urls = pools
        .into_iter()
        .map(|a| PoolUrl {
            host: a.ip().to_string(),
            port: a.port(),
            tls: false,
            xnsub: false,
        })
        .collect();
    let mut cfg = ClientDriverConfig::new(urls, session);
    cfg.backoff_min = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(50);
    cfg.connect_timeout = Duration::from_secs(2);
    cfg
}

struct Run {
    acc: watch::Receiver<Accounting>,
    board: Arc<WorkBoard>,
    reports: mpsc::UnboundedSender<Report>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// The driver with its engine, and no workers: the test sends the reports.
fn start(cfg: ClientDriverConfig) -> Run {
    let (status, acc) = watch::channel(Accounting::default());
    let board = Arc::new(WorkBoard::default());
    let (reports, mut rx) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let b = board.clone();
    let task = tokio::spawn(async move {
        let mut engine = Engine::new(&["test".to_string()], 1);
        run_client(&cfg, &mut engine, &b, &mut rx, &status, stop_rx)
            .await
            .unwrap();
    });
    Run {
        acc,
        board,
        reports,
        stop,
        task,
    }
}

impl Run {
    /// Waits until `n` disconnects are recorded, then stops the driver (which must stop).
    async fn disconnects(self, n: usize) -> Accounting {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.acc.borrow().disconnects.len() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no reconnect: {:?}",
                *self.acc.borrow()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("driver stops")
            .unwrap();
        self.acc.borrow().clone()
    }
}

async fn expect_reason(script: Vec<Act>, want: &str) {
    let (addr, count) = fake_pool(script).await;
    let acc = start(config(vec![addr])).disconnects(2).await;
    assert!(*count.lock().unwrap() >= 2, "reconnected");
    for r in &acc.disconnects[..2] {
        assert!(r.contains(want), "reason {r:?} should mention {want:?}");
    }
}

/// The pool sends `line` (plus LF) after authorize.
async fn expect_line(line: &str, want: &str) {
    expect_reason(vec![Act::Raw(format!("{line}\n"))], want).await;
}

#[tokio::test]
async fn oversized_line() {
    let huge = format!(
        "{{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"{}\"",
        "a".repeat(20_000)
    );
    expect_reason(vec![Act::Raw(huge)], "longer than 16384 bytes").await;
}

#[tokio::test]
async fn invalid_json() {
    expect_reason(
        vec![Act::Raw("{\"id\":null,\"method\":\n".into())],
        "invalid JSON",
    )
    .await;
}

#[tokio::test]
async fn wrong_types() {
    let line = r#"{"id":null,"method":"mining.set_target","params":[12345]}"#;
    expect_line(line, "mining.set_target with bad params").await;
    let line = r#"{"id":null,"method":"mining.notify","params":["1",4,"","","","","",true]}"#;
    expect_line(line, "param 1 (version) has the wrong type").await;
}

#[tokio::test]
async fn zero_and_negative_targets() {
    let zero = format!(
        r#"{{"id":null,"method":"mining.set_target","params":["{}"]}}"#,
        "0".repeat(64)
    );
    expect_line(&zero, "target is zero").await;
    let line = r#"{"id":null,"method":"mining.set_difficulty","params":[-3]}"#;
    expect_line(line, "not a positive finite number").await;
}

#[tokio::test]
async fn bad_hex_in_notify() {
    let line = NOTIFY.replace("ce28421d", "ce28421g");
    expect_line(&line, "notify bits is not 4 bytes of hex").await;
}

#[tokio::test]
async fn dropped_mid_session() {
    expect_reason(
        vec![Act::Raw(format!("{NOTIFY}\n")), Act::Close],
        "pool closed the connection",
    )
    .await;
}

#[tokio::test]
async fn silence() {
    expect_reason(vec![Act::Silent], "pool silent for").await;
}

/// Waits for the pool's job on the board and reports one share for it (a zero hash meets any
/// target; the engine submits it); returns the job's epoch.
async fn send_zero_share(run: &Run) -> u64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let work = loop {
        if let Some(cur) = run.board.current() {
            break cur;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job reached the board"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let mut nonce = [0u8; 32];
    nonce[..4].copy_from_slice(&work.job.nonce1);
    let epoch = work.epoch;
    run.reports
        .send(Report::Nonce(NonceDone {
            worker: 0,
            epoch,
            job: work.job,
            nonce,
            solutions: 1,
            compute_errors: 0,
            shares: vec![FoundShare {
                solution: vec![0; 52],
                hash: [0; 32],
            }],
        }))
        .unwrap();
    epoch
}

/// A submit left unanswered when the pool drops is counted as lost, and the job is withdrawn
/// from the workers.
#[tokio::test]
async fn pending_submits_at_disconnect_are_counted() {
    let (addr, _) = fake_pool(vec![Act::Raw(format!("{NOTIFY}\n")), Act::Silent]).await;
    let run = start(config(vec![addr]));
    let epoch = send_zero_share(&run).await;
    let board = run.board.clone();
    let acc = run.disconnects(1).await;
    assert_eq!(acc.submitted, 1);
    assert_eq!(acc.lost_at_disconnect, 1, "{acc:?}");
    assert!(acc.disconnects[0].contains("silent"));
    assert!(board.current().is_none_or(|w| w.epoch > epoch));
}

/// A pool that sends `client.reconnect` while a submit is in flight, then answers it: the
/// miner reads the answer before it leaves (the pool credited the share, so must the miner),
/// and counts nothing lost.
#[tokio::test]
async fn a_submit_answered_after_client_reconnect_is_counted() {
    let reconnect = r#"{"id":null,"method":"client.reconnect","params":[]}"#;
    let (addr, _) = fake_pool(vec![
        Act::Raw(format!("{NOTIFY}\n")),
        Act::Read,
        Act::Raw(format!("{reconnect}\n")),
        Act::AcceptLast,
        Act::Silent,
    ])
    .await;
    let run = start(config(vec![addr]));
    send_zero_share(&run).await;
    let acc = run.disconnects(1).await;
    assert!(acc.disconnects[0].contains("reconnect"), "{acc:?}");
    assert_eq!((acc.submitted, acc.accepted), (1, 1), "{acc:?}");
    assert_eq!(acc.lost_at_disconnect, 0, "{acc:?}");
}

/// A dead first pool fails over to the second.
#[tokio::test]
async fn fails_over_to_the_next_pool() {
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let (good, count) = fake_pool(vec![Act::Raw(format!("{NOTIFY}\n")), Act::Silent]).await;
    let run = start(config(vec![dead, good]));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while run.board.current().is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "mining on the backup pool"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(*count.lock().unwrap(), 1);
    let acc = run.disconnects(1).await;
    assert!(
        acc.disconnects[0].contains("connect to"),
        "{:?}",
        acc.disconnects
    );
}

/// On a backup pool, the driver goes back to the first pool after `return_to_primary` once it
/// is up again, and mines there: the failover state machine (unit-tested with fake time) as the
/// socket driver carries it out.
#[tokio::test]
async fn returns_to_the_first_pool_when_it_is_back() {
    let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let first_addr = first.local_addr().unwrap();
    drop(first);
    let (backup, backup_count) =
        fake_pool(vec![Act::Raw(format!("{NOTIFY}\n")), Act::Silent]).await;
    let mut cfg = config(vec![first_addr, backup]);
    cfg.return_to_primary = Duration::from_millis(300);
    cfg.session.silence_timeout_ms = 5_000;
    let run = start(cfg);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while *backup_count.lock().unwrap() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "on the backup pool");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The first pool comes back on its address.
    let (first_count, seen) = serve_on(first_addr).await;
    while *first_count.lock().unwrap() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "back on the first pool: {:?}",
            *run.acc.borrow()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // It subscribes there (the first line the miner sends).
    let first_line = loop {
        if let Some(l) = seen.lock().unwrap().first().cloned() {
            break l;
        }
        assert!(tokio::time::Instant::now() < deadline, "no subscribe");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert!(first_line.contains("mining.subscribe"), "{first_line}");
    let acc = run.disconnects(2).await;
    assert!(
        acc.disconnects
            .iter()
            .any(|d| d == "returning to the first pool"),
        "{:?}",
        acc.disconnects
    );
    assert_eq!(*backup_count.lock().unwrap(), 1, "left the backup once");
}

/// A pool on `addr` that records what the miner sends and answers nothing; its connection
/// count and the lines.
async fn serve_on(addr: SocketAddr) -> (Arc<Mutex<u32>>, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind(addr).await.unwrap();
    let count = Arc::new(Mutex::new(0));
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (c, seen) = (count.clone(), lines.clone());
    tokio::spawn(async move {
        while let Ok((sock, _)) = l.accept().await {
            *c.lock().unwrap() += 1;
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut r = BufReader::new(sock).lines();
                while let Ok(Some(line)) = r.next_line().await {
                    seen.lock().unwrap().push(line);
                }
            });
        }
    });
    (count, lines)
}

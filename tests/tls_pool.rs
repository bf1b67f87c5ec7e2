//! `stratum+ssl://` on loopback: a pool with a self-signed certificate is refused by default
//! (certificates are verified against the webpki roots) with a reason that names the fix, and is
//! mined with `tls_insecure` (`--tls-insecure`). The certificate is generated per run (rcgen).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxminer::equihash::Params;
use fluxminer::miner::{Accounting, Engine, WorkBoard};
use fluxminer::net::client::{ClientDriverConfig, run_client};
use fluxminer::stratum::{ClientConfig, DifficultyScale, PoolUrl};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

const SUBSCRIBED: &str = r#"{"id":1,"result":[null,"60000016"],"error":null}"#;
const AUTHORIZED: &str = r#"{"id":2,"result":true,"error":null}"#;
const NOTIFY: &str = r#"{"id":null,"method":"mining.notify","params":["1","04000000","a8675c842f7a1342fadd00cd9b4e4909526b1c0ab5a747c5529b4deb13000000","ce7d6ea2452245925fc70c3a08a3c3dd2ca4beab7481f237a19751666bfd25c3","0fd282d94b1e1a7f2c57eb3fb9e2853d990753fa137e13c99bd43f220d4fce69","90e44f5d","ce28421d",true,"125_4","ZelProof"]}"#;

/// A TLS pool on 127.0.0.1 with a fresh self-signed certificate for "localhost": answers
/// subscribe and authorize, sends one job, then holds the connection. Returns its port and the
/// number of completed TLS handshakes.
async fn tls_pool() -> (u16, Arc<Mutex<u32>>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = CertificateDer::from(ck.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let handshakes = Arc::new(Mutex::new(0));
    let h = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            let h = h.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(sock).await else {
                    return;
                };
                *h.lock().unwrap() += 1;
                let (r, mut w) = tokio::io::split(tls);
                let mut r = BufReader::new(r).lines();
                let _ = r.next_line().await;
                let _ = w.write_all(format!("{SUBSCRIBED}\n").as_bytes()).await;
                let _ = r.next_line().await;
                let _ = w
                    .write_all(format!("{AUTHORIZED}\n{NOTIFY}\n").as_bytes())
                    .await;
                let _ = w.flush().await;
                while let Ok(Some(_)) = r.next_line().await {}
            });
        }
    });
    (port, handshakes)
}

fn config(port: u16, insecure: bool) -> ClientDriverConfig {
    let session = ClientConfig {
        user: "t1tls.w".into(),
        pass: "x".into(),
        agent: "test".into(),
        host: String::new(),
        port: 0,
        params: Params::ZELHASH,
        scale: DifficultyScale::Pool,
        extranonce_subscribe: false,
        silence_timeout_ms: 10_000,
    };
    let url = PoolUrl {
        host: "localhost".into(),
        port,
        tls: true,
        xnsub: false,
    };
    let mut cfg = ClientDriverConfig::new(vec![url], session);
    cfg.backoff_min = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(50);
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.tls_insecure = insecure;
    cfg
}

/// Runs the client driver until `done` holds for its accounting and board (or 10 s pass), then
/// stops it; the driver must stop.
async fn run_until(
    cfg: ClientDriverConfig,
    done: impl Fn(&Accounting, &WorkBoard) -> bool,
) -> (Accounting, Arc<WorkBoard>) {
    let (status, acc) = watch::channel(Accounting::default());
    let board = Arc::new(WorkBoard::default());
    let (_reports, mut rx) = mpsc::unbounded_channel();
    let (stop, stop_rx) = watch::channel(false);
    let b = board.clone();
    let task = tokio::spawn(async move {
        let mut engine = Engine::new(&[], 1);
        run_client(&cfg, &mut engine, &b, &mut rx, &status, stop_rx)
            .await
            .unwrap();
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done(&acc.borrow(), &board) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: {:?}",
            *acc.borrow()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("driver stops")
        .unwrap();
    let acc = acc.borrow().clone();
    (acc, board)
}

#[tokio::test]
async fn self_signed_pool_is_refused_by_default() {
    let (port, handshakes) = tls_pool().await;
    let (acc, board) = run_until(config(port, false), |a, _| a.disconnects.len() >= 2).await;
    assert_eq!(acc.connections, 0, "{acc:?}");
    assert_eq!(*handshakes.lock().unwrap(), 0);
    assert!(board.current().is_none());
    for reason in &acc.disconnects[..2] {
        assert!(
            reason.contains("TLS handshake") && reason.contains("--tls-insecure"),
            "{reason:?}"
        );
    }
}

#[tokio::test]
async fn self_signed_pool_is_mined_with_tls_insecure() {
    let (port, handshakes) = tls_pool().await;
    // The job (with the pool's NONCE_1) reaches the workers; the driver withdraws it on stop.
    let (acc, _) = run_until(config(port, true), |_, b| {
        b.current()
            .is_some_and(|w| w.job.nonce1 == [0x60, 0x00, 0x00, 0x16])
    })
    .await;
    assert_eq!(acc.connections, 1, "{acc:?}");
    assert_eq!(*handshakes.lock().unwrap(), 1);
}

//! The fluxd JSON-RPC chain source against a fake fluxd on loopback: a hand-written HTTP/1.1
//! server that answers JSON-RPC 1.0 calls and batches the way fluxd does (a failed single call
//! is HTTP 500 with the error object, a batch is HTTP 200 with one reply per call), over the
//! a linked chain of 2,000 headers in the three layouts fluxd serves (Equihash 200,9 and
//! ZelHash PoW, then PoN; the client checks hashes and parsing, not proof of work, so the chain
//! is made in microseconds) and a real mainnet block, and that misbehaves on demand.

mod consensus_support;
mod sync_support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use consensus_support::vectors::{bytes, load, s};
use fluxminer::consensus::hash::{MerkleRoot, SaplingRoot};
use fluxminer::consensus::{BlockHash, CompactTarget, Header, OutPoint, Proof, TxId};
use fluxminer::net::rpc::{CODE_NOT_FOUND, RpcAuth, RpcClient, RpcConfig, RpcError};
use fluxminer::net::source::ChainSource;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Heights 0..CHAIN_LEN.
const CHAIN_LEN: u32 = 2_000;

/// The proof at height `h`: 1344-byte Equihash 200,9 solutions, then 52-byte ZelHash ones,
/// then PoN collaterals with 72-byte signatures.
fn proof(h: u32) -> Proof {
    let b = h.to_le_bytes()[0];
    match h {
        0..1_000 => Proof::Work {
            nonce: [b; 32],
            solution: vec![b; 1_344],
        },
        1_000..1_500 => Proof::Work {
            nonce: [b; 32],
            solution: vec![b; 52],
        },
        _ => Proof::Node {
            collateral: OutPoint {
                txid: TxId::from_internal_bytes([b; 32]),
                index: h,
            },
            signature: vec![b; 72],
        },
    }
}

/// A linked chain of [`CHAIN_LEN`] headers.
fn chain() -> &'static [Header] {
    static CHAIN: OnceLock<Vec<Header>> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let mut prev_hash = BlockHash::ZERO;
        (0..CHAIN_LEN)
            .map(|h| {
                let header = Header {
                    version: if h < 1_500 { 4 } else { 100 },
                    prev_hash,
                    merkle_root: MerkleRoot::from_internal_bytes([h.to_le_bytes()[1]; 32]),
                    sapling_root: SaplingRoot::ZERO,
                    time: 1_600_000_000 + h * 120,
                    bits: CompactTarget::from_consensus(0x1f07_ffff),
                    proof: proof(h),
                };
                prev_hash = header.block_hash();
                header
            })
            .collect()
    })
}

/// How the fake node misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Hostile {
    No,
    /// A body that is not JSON.
    BadJson,
    /// The last reply of a batch has no id.
    MissingId,
    /// The last reply of a batch is dropped.
    DropLast,
    /// Raw headers lose their last byte.
    ShortHeader,
    /// A 200 KiB body, with Content-Length or chunked.
    Oversized {
        chunked: bool,
    },
    /// Every call fails with this code.
    ErrorCode(i64),
    /// Never answers.
    Stall,
}

/// A fake fluxd over the generated chain; `tip` is the height it shows.
struct Fake {
    hashes: Vec<BlockHash>,
    raw: HashMap<BlockHash, (u32, Vec<u8>)>,
    /// Known hashes off the main chain.
    side: HashMap<BlockHash, u32>,
    blocks: HashMap<BlockHash, Vec<u8>>,
    /// The expected `Authorization` header, if any.
    auth: Option<String>,
    tip: AtomicU32,
    hostile: Mutex<Hostile>,
    /// Answer 503 to this many requests first.
    fail_next: AtomicUsize,
    requests: AtomicUsize,
}

/// Base64 of `alice:secret` and of the cookie `__cookie__:c00k1e` (`printf … | base64`).
const ALICE: &str = "Basic YWxpY2U6c2VjcmV0";
const COOKIE: &str = "Basic X19jb29raWVfXzpjMDBrMWU=";
const SIDE: BlockHash = BlockHash::from_internal_bytes([9; 32]);
const UNKNOWN: BlockHash = BlockHash::from_internal_bytes([7; 32]);

fn real_block() -> (BlockHash, Vec<u8>) {
    let v = load("electrumx_zelcash_mainnet_100000.orig.json");
    (s(&v, "hash").parse().unwrap(), bytes(&v, "block"))
}

impl Fake {
    fn new(auth: Option<&str>) -> Fake {
        let headers = chain();
        let hashes: Vec<BlockHash> = headers.iter().map(Header::block_hash).collect();
        let raw = hashes
            .iter()
            .zip(headers)
            .enumerate()
            .map(|(h, (hash, header))| (*hash, (h as u32, header.to_bytes())))
            .collect();
        let (real, block) = real_block();
        Fake {
            raw,
            side: HashMap::from([(SIDE, 1_700)]),
            // The real block, and the same bytes filed under a chain hash (a wrong block).
            blocks: HashMap::from([(real, block.clone()), (hashes[3], block)]),
            hashes,
            auth: auth.map(str::to_string),
            tip: AtomicU32::new(CHAIN_LEN - 1),
            hostile: Mutex::new(Hostile::No),
            fail_next: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        }
    }

    /// A fake fluxd serving the committed test chain (tests/vectors/testchain), blocks too.
    fn test_chain() -> Fake {
        let served = sync_support::chain();
        let hashes: Vec<BlockHash> = served.iter().map(|s| s.header.block_hash()).collect();
        Fake {
            raw: hashes
                .iter()
                .zip(served.iter())
                .enumerate()
                .map(|(h, (hash, s))| (*hash, (h as u32, s.header.to_bytes())))
                .collect(),
            side: HashMap::new(),
            blocks: hashes
                .iter()
                .zip(served.iter())
                .map(|(h, s)| (*h, s.block.clone()))
                .collect(),
            tip: AtomicU32::new(hashes.len() as u32 - 1),
            hashes,
            auth: Some(ALICE.to_string()),
            hostile: Mutex::new(Hostile::No),
            fail_next: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        }
    }

    fn hostile(&self) -> Hostile {
        *self.hostile.lock().unwrap()
    }

    fn set(&self, h: Hostile) {
        *self.hostile.lock().unwrap() = h;
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// One call's result or error (code, message).
    fn result(&self, method: &str, params: &Value) -> Result<Value, (i64, &'static str)> {
        if let Hostile::ErrorCode(c) = self.hostile() {
            return Err((c, "Loading block index..."));
        }
        let tip = self.tip.load(Ordering::SeqCst);
        let hash = || params[0].as_str().and_then(|s| s.parse::<BlockHash>().ok());
        match method {
            "getblockcount" => Ok(json!(tip)),
            "getblockhash" => match params[0].as_u64() {
                Some(h) if h <= u64::from(tip) => Ok(json!(self.hashes[h as usize].to_string())),
                _ => Err((-8, "Block height out of range")),
            },
            "getblockheader" => self.header(hash(), params[1].as_bool() == Some(true), tip),
            "getblock" => match hash().and_then(|h| self.blocks.get(&h)) {
                Some(b) => Ok(json!(hex::encode(b))),
                None => Err((CODE_NOT_FOUND, "Block not found")),
            },
            _ => Err((-32601, "Method not found")),
        }
    }

    fn header(
        &self,
        hash: Option<BlockHash>,
        verbose: bool,
        tip: u32,
    ) -> Result<Value, (i64, &'static str)> {
        let hash = hash.ok_or((CODE_NOT_FOUND, "Block not found"))?;
        if let Some(h) = self.side.get(&hash) {
            return Ok(json!({"height": h, "confirmations": -1}));
        }
        let (h, raw) = self
            .raw
            .get(&hash)
            .ok_or((CODE_NOT_FOUND, "Block not found"))?;
        if verbose {
            let confirmations = if *h <= tip {
                i64::from(tip - h) + 1
            } else {
                -1
            };
            return Ok(
                json!({"hash": hash.to_string(), "height": h, "confirmations": confirmations}),
            );
        }
        let raw = if self.hostile() == Hostile::ShortHeader {
            &raw[..raw.len() - 1]
        } else {
            &raw[..]
        };
        Ok(json!(hex::encode(raw)))
    }

    fn reply(&self, call: &Value) -> Value {
        let (method, params) = (call["method"].as_str().unwrap_or(""), &call["params"]);
        match self.result(method, params) {
            Ok(r) => json!({"result": r, "error": null, "id": call["id"]}),
            Err((code, message)) => {
                json!({"result": null, "error": {"code": code, "message": message}, "id": call["id"]})
            }
        }
    }

    /// Status and body for one request body.
    fn answer(&self, body: &[u8]) -> (u16, Vec<u8>) {
        let Ok(req) = serde_json::from_slice::<Value>(body) else {
            return (500, b"{}".to_vec());
        };
        match self.hostile() {
            Hostile::BadJson => return (200, b"{\"result\": [".to_vec()),
            Hostile::Oversized { .. } => return (200, vec![b' '; 200 << 10]),
            _ => {}
        }
        if let Value::Array(calls) = req {
            let mut replies: Vec<Value> = calls.iter().map(|c| self.reply(c)).collect();
            match self.hostile() {
                Hostile::MissingId => drop(
                    replies
                        .last_mut()
                        .and_then(|r| r.as_object_mut()?.remove("id")),
                ),
                Hostile::DropLast => drop(replies.pop()),
                _ => {}
            }
            return (200, serde_json::to_vec(&replies).unwrap());
        }
        let reply = self.reply(&req);
        let status = if reply["error"].is_null() { 200 } else { 500 };
        (status, serde_json::to_vec(&reply).unwrap())
    }
}

/// Starts the fake node on a loopback port.
async fn serve(fake: Arc<Fake>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(fake.clone(), stream));
        }
    });
    addr
}

/// One keep-alive connection: request line, headers, Content-Length body; one reply each.
async fn connection(fake: Arc<Fake>, stream: TcpStream) -> std::io::Result<()> {
    let mut r = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let (mut len, mut auth) = (0, None);
        loop {
            line.clear();
            r.read_line(&mut line).await?;
            let Some((name, value)) = line.trim_end().split_once(':') else {
                break;
            };
            match name.to_ascii_lowercase().as_str() {
                "content-length" => len = value.trim().parse().unwrap_or(0),
                "authorization" => auth = Some(value.trim().to_string()),
                _ => {}
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).await?;
        fake.requests.fetch_add(1, Ordering::SeqCst);
        let (status, reply) = if fake.auth.is_some() && auth != fake.auth {
            (401, Vec::new())
        } else if fake
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            (503, b"Work queue depth exceeded".to_vec())
        } else if fake.hostile() == Hostile::Stall {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return Ok(());
        } else {
            fake.answer(&body)
        };
        let chunked = fake.hostile() == Hostile::Oversized { chunked: true };
        write_reply(r.get_mut(), status, &reply, chunked).await?;
    }
}

async fn write_reply(
    w: &mut TcpStream,
    status: u16,
    body: &[u8],
    chunked: bool,
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n").into_bytes();
    if chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for c in body.chunks(16 << 10) {
            out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    }
    w.write_all(&out).await
}

fn config(addr: SocketAddr, auth: RpcAuth) -> RpcConfig {
    let mut c = RpcConfig::new(format!("http://{addr}"), auth);
    c.timeout = Duration::from_secs(5);
    c.backoff = Duration::from_millis(5);
    c
}

fn alice() -> RpcAuth {
    RpcAuth::UserPassword {
        user: "alice".into(),
        password: "secret".into(),
    }
}

/// A fake node and a client for it, with `batch` calls per request.
async fn setup(batch: usize) -> (Arc<Fake>, RpcClient) {
    let fake = Arc::new(Fake::new(Some(ALICE)));
    let addr = serve(fake.clone()).await;
    let mut cfg = config(addr, alice());
    cfg.batch = batch;
    (fake, RpcClient::new(cfg).unwrap())
}

/// Syncs headers the way the light client does (locator: our tip, genesis) until the source
/// has nothing more; returns them, oldest first.
async fn sync_from(client: &mut RpcClient, from: BlockHash) -> Vec<Header> {
    let genesis = chain()[0].block_hash();
    let (mut tip, mut got) = (from, Vec::new());
    loop {
        let batch = client.headers(&[tip, genesis]).await.unwrap();
        let Some(last) = batch.last() else {
            return got;
        };
        assert_eq!(
            batch[0].prev_hash, tip,
            "the headers follow the locator's first hash"
        );
        tip = last.block_hash();
        got.extend(batch);
    }
}

#[tokio::test]
async fn sync_gets_every_header_in_order_in_batched_requests() {
    let (fake, mut client) = setup(500).await;
    let genesis = chain()[0].block_hash();
    let start = Instant::now();
    let got = sync_from(&mut client, genesis).await;
    let elapsed = start.elapsed();
    assert_eq!(got.len(), CHAIN_LEN as usize - 1);
    assert_eq!(got, chain()[1..]);
    // Locate once, then getblockhash ×n and getblockheader ×n per batch, one request at the tip.
    let batches = (CHAIN_LEN as usize - 1).div_ceil(500);
    assert!(
        fake.requests() <= 2 + 2 * batches,
        "{} requests",
        fake.requests()
    );
    eprintln!(
        "rpc sync: {} headers in {} requests, {elapsed:?}: {:.0} headers/s",
        got.len(),
        fake.requests(),
        got.len() as f64 / elapsed.as_secs_f64()
    );
    // At the tip a poll is one request.
    let before = fake.requests();
    let last = got.last().unwrap().block_hash();
    assert!(client.headers(&[last, genesis]).await.unwrap().is_empty());
    assert_eq!(fake.requests(), before + 1);
    assert!(
        client.name().starts_with("rpc http://127.0.0.1:"),
        "{}",
        client.name()
    );
}

#[tokio::test]
async fn a_growing_and_a_shrinking_tip_are_followed() {
    let (fake, mut client) = setup(300).await;
    let hashes = fake.hashes.clone();
    fake.tip.store(999, Ordering::SeqCst);
    let got = sync_from(&mut client, hashes[0]).await;
    assert_eq!(got.len(), 999);
    // The tip grows: the stale count is refreshed in the same poll.
    fake.tip.store(1_200, Ordering::SeqCst);
    let more = sync_from(&mut client, hashes[999]).await;
    assert_eq!(more, chain()[1_000..=1_200]);
    // A reorganization shortens the chain below our tip: the next locator entry is the fork.
    fake.tip.store(500, Ordering::SeqCst);
    let after = client
        .headers(&[hashes[1_200], hashes[400], hashes[0]])
        .await
        .unwrap();
    assert_eq!(after, chain()[401..=500]);
}

#[tokio::test]
async fn locator_search_skips_unknown_and_side_chain_hashes() {
    let (fake, mut client) = setup(500).await;
    let locator = [UNKNOWN, SIDE, fake.hashes[1_500], fake.hashes[0]];
    let got = client.headers(&locator).await.unwrap();
    assert_eq!(got, chain()[1_501..]);
    let err = client.headers(&[UNKNOWN, SIDE]).await.unwrap_err();
    assert!(matches!(err, RpcError::NoFork { count: 2 }), "{err}");
    // A single verbose getblockheader of an unknown hash: HTTP 500 with the error object.
    let err = client.header_info(UNKNOWN).await.unwrap_err();
    assert_eq!(err.code(), Some(CODE_NOT_FOUND), "{err}");
    let info = client.header_info(fake.hashes[7]).await.unwrap();
    assert_eq!(
        (info.height, info.confirmations),
        (7, i64::from(CHAIN_LEN) - 7)
    );
    assert_eq!(client.block_count().await.unwrap(), CHAIN_LEN - 1);
    assert_eq!(client.block_hash(12).await.unwrap(), fake.hashes[12]);
    let heights: Vec<u32> = (0..1_200).collect();
    assert_eq!(
        client.block_hashes(&heights).await.unwrap(),
        fake.hashes[..1_200]
    );
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error() {
    let fake = Arc::new(Fake::new(Some(ALICE)));
    let addr = serve(fake.clone()).await;
    let wrong = RpcAuth::UserPassword {
        user: "alice".into(),
        password: "guess".into(),
    };
    let err = RpcClient::new(config(addr, wrong))
        .unwrap()
        .block_count()
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::Auth { .. }), "{err}");
    assert!(err.to_string().contains("authentication failed"), "{err}");
    assert!(err.to_string().contains("getblockcount"), "{err}");
    assert_eq!(fake.requests(), 1, "401 is not retried");
    let none = RpcClient::new(config(addr, RpcAuth::None)).unwrap();
    assert!(matches!(
        none.block_count().await,
        Err(RpcError::Auth { .. })
    ));
}

#[tokio::test]
async fn the_cookie_file_authenticates() {
    let fake = Arc::new(Fake::new(Some(COOKIE)));
    let addr = serve(fake.clone()).await;
    let dir = std::env::temp_dir().join(format!("fluxminer-rpc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cookie = dir.join(".cookie");
    std::fs::write(&cookie, "__cookie__:c00k1e").unwrap();
    let client = RpcClient::new(config(addr, RpcAuth::Cookie(cookie.clone()))).unwrap();
    assert_eq!(client.block_count().await.unwrap(), CHAIN_LEN - 1);
    std::fs::write(&cookie, "no colon").unwrap();
    let err = RpcClient::new(config(addr, RpcAuth::Cookie(cookie.clone())));
    assert!(matches!(err, Err(RpcError::CookieFormat { .. })));
    let missing = RpcClient::new(config(addr, RpcAuth::Cookie(dir.join("absent"))));
    assert!(matches!(missing, Err(RpcError::Cookie { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The error `headers` from genesis gives when the node misbehaves as `h`.
async fn headers_error(h: Hostile, cfg: impl FnOnce(&mut RpcConfig)) -> (RpcError, usize) {
    let fake = Arc::new(Fake::new(None));
    let addr = serve(fake.clone()).await;
    let mut c = config(addr, RpcAuth::None);
    cfg(&mut c);
    let mut client = RpcClient::new(c).unwrap();
    fake.set(h);
    let err = client.headers(&[fake.hashes[0]]).await.unwrap_err();
    (err, fake.requests())
}

#[tokio::test]
async fn malformed_replies_are_typed_errors() {
    for h in [
        Hostile::BadJson,
        Hostile::MissingId,
        Hostile::DropLast,
        Hostile::ShortHeader,
    ] {
        let (err, requests) = headers_error(h, |_| {}).await;
        assert!(matches!(err, RpcError::Malformed { .. }), "{h:?}: {err}");
        assert!(
            err.to_string().contains("getblock"),
            "{h:?} names the call: {err}"
        );
        assert_eq!(
            requests,
            if h == Hostile::ShortHeader { 3 } else { 1 },
            "{h:?}"
        );
    }
    let (err, _) = headers_error(Hostile::MissingId, |_| {}).await;
    assert!(err.to_string().contains("without an id"), "{err}");
    let (err, _) = headers_error(Hostile::DropLast, |_| {}).await;
    assert!(err.to_string().contains("replies to"), "{err}");
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    for chunked in [false, true] {
        let (err, _) =
            headers_error(Hostile::Oversized { chunked }, |c| c.max_body = 64 << 10).await;
        assert!(
            matches!(err, RpcError::TooLarge { limit: 65_536, .. }),
            "{err}"
        );
    }
}

#[tokio::test]
async fn node_errors_surface_with_their_code() {
    let (err, _) = headers_error(Hostile::ErrorCode(-28), |_| {}).await;
    assert_eq!(err.code(), Some(-28), "{err}");
    assert!(err.to_string().contains("Loading block index"), "{err}");
    // A single call: HTTP 500 with the error object, not retried.
    let fake = Arc::new(Fake::new(None));
    let addr = serve(fake.clone()).await;
    fake.set(Hostile::ErrorCode(-28));
    let err = RpcClient::new(config(addr, RpcAuth::None))
        .unwrap()
        .block_count()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(-28), "{err}");
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn a_stalled_node_times_out() {
    let started = Instant::now();
    let (err, requests) = headers_error(Hostile::Stall, |c| {
        c.timeout = Duration::from_millis(200);
        c.tries = 2;
    })
    .await;
    assert!(matches!(err, RpcError::Timeout { .. }), "{err}");
    assert_eq!(requests, 2, "a timeout is retried");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn service_unavailable_is_retried() {
    let (fake, client) = setup(500).await;
    fake.fail_next.store(2, Ordering::SeqCst);
    assert_eq!(client.block_count().await.unwrap(), CHAIN_LEN - 1);
    assert_eq!(fake.requests(), 3);
    fake.fail_next.store(3, Ordering::SeqCst);
    let err = client.block_count().await.unwrap_err();
    assert!(matches!(err, RpcError::Status { status: 503, .. }), "{err}");
}

#[tokio::test]
async fn blocks_are_checked_against_the_hash_asked() {
    let (fake, mut client) = setup(500).await;
    let (real, raw) = real_block();
    let got = client.blocks(&[real; 5]).await.unwrap();
    assert_eq!(got, vec![raw.clone(); 5]);
    // block_batch 8 by default: one request; with 2 per request, three.
    assert_eq!(fake.requests(), 1);
    let mut cfg = config(serve(fake.clone()).await, alice());
    cfg.block_batch = 2;
    RpcClient::new(cfg)
        .unwrap()
        .raw_blocks(&[real; 5])
        .await
        .unwrap();
    assert_eq!(fake.requests(), 4);
    // The real block filed under another hash.
    let err = client.blocks(&[real, fake.hashes[3]]).await.unwrap_err();
    assert!(
        matches!(err, RpcError::WrongHash { got, .. } if got == real),
        "{err}"
    );
    let err = client.blocks(&[fake.hashes[4]]).await.unwrap_err();
    assert_eq!(err.code(), Some(CODE_NOT_FOUND), "{err}");
}

/// The light client's sync over RPC: the committed test chain's headers to its tip, validated,
/// then every block into the reward ledger, in batched requests; the ledger's totals are the
/// coinbases' outputs.
#[tokio::test]
async fn sync_over_rpc_reaches_the_tip_and_fills_the_ledger() {
    use fluxminer::chainstate::ChainState;
    use fluxminer::net::sync::{SyncConfig, sync};
    let fake = Arc::new(Fake::test_chain());
    let addr = serve(fake.clone()).await;
    let client = RpcClient::new(config(addr, alice())).unwrap();
    let dir = std::env::temp_dir().join(format!("fluxminer-rpc-sync-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = fluxminer::store::Store::open(&dir.join("chain.redb")).unwrap();
    let mut st = ChainState::open(sync_support::params(), store).unwrap();
    // Headers first (timed alone), then the blocks for the ledger.
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let headers = sync(
        &mut st,
        vec![RpcClient::new(config(addr, alice())).unwrap()],
        &SyncConfig::default(),
        rx.clone(),
        |_| {},
    )
    .await
    .unwrap();
    let header_secs = started.elapsed().as_secs_f64();
    assert_eq!(headers.progress.headers, 1_999);
    let cfg = SyncConfig {
        ledger_from: Some(0),
        ..SyncConfig::default()
    };
    let started = Instant::now();
    let report = sync(&mut st, vec![client], &cfg, rx, |_| {}).await.unwrap();
    let block_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "rpc: {} headers/s (1,999 in {header_secs:.3} s), {} blocks/s (2,000 in {block_secs:.3} s), {} requests",
        (1_999.0 / header_secs) as u64,
        (2_000.0 / block_secs) as u64,
        fake.requests()
    );
    assert!(report.complete, "{report:?}");
    assert_eq!(report.tip.hash, fake.hashes[1_999]);
    assert_eq!(report.progress.blocks, 2_000);
    // Batched: headers 500 per request; the sync asks 100 blocks at a time and the client
    // sends them 8 per request (13 requests per 100); a few lookups besides.
    assert!(
        fake.requests() <= 20 * 13 + 15,
        "{} requests",
        fake.requests()
    );
    let records = st.store().best_ledger(0, 1_999).unwrap();
    assert_eq!(records.len(), 2_000);
    for (h, hash, bytes) in records.iter().step_by(97) {
        let r = fluxminer::ledger::BlockRewards::from_bytes(bytes).unwrap();
        assert_eq!((r.height, r.hash), (*h, *hash));
        let block = fluxminer::consensus::block::Block::from_bytes(&fake.blocks[hash]).unwrap();
        let paid: i64 = r.outputs.iter().map(|o| o.amount.to_zat()).sum();
        assert_eq!(
            Some(paid),
            block.coinbase().total_output_value().map(|a| a.to_zat())
        );
    }
    drop(st);
    let _ = std::fs::remove_dir_all(&dir);
}

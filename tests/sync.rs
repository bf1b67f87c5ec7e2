//! Header sync into the store from fake Flux nodes on loopback serving the committed test chain
//! (tests/vectors/testchain): to the tip and across a restart; hostile peers dropped with their
//! reason while sync goes on; a branch with more work reorganises the best chain.

mod consensus_support;
mod sync_support;

use std::net::SocketAddr;
use std::time::Duration;

use consensus_support::chaingen;
use fluxminer::chainstate::ChainState;
use fluxminer::consensus::chain::ChainWindow;
use fluxminer::consensus::difficulty::next_work_required;
use fluxminer::consensus::{BlockHash, Height};
use fluxminer::net::peer::{Peer, PeerConfig};
use fluxminer::net::sync::{SyncConfig, SyncReport, sync};
use fluxminer::p2p::frame::Magic;
use fluxminer::store::Store;
use sync_support::{Mode, Served, chain, fake_node, params};
use tokio::sync::watch;

fn state(dir: &std::path::Path) -> ChainState {
    ChainState::open(params(), Store::open(&dir.join("chain.redb")).unwrap()).unwrap()
}

async fn connect(addr: SocketAddr) -> Peer {
    let cfg = PeerConfig {
        magic: Magic(params().p2p_magic),
        timeout: Duration::from_millis(500),
        start_height: 0,
    };
    Peer::connect(addr, cfg).await.unwrap()
}

async fn sync_from(state: &mut ChainState, peers: Vec<Peer>) -> SyncReport {
    sync_ledger_from(state, peers, None).await
}

async fn sync_ledger_from(
    state: &mut ChainState,
    peers: Vec<Peer>,
    ledger_from: Option<u32>,
) -> SyncReport {
    let (_tx, rx) = watch::channel(false);
    let cfg = SyncConfig {
        ledger_from,
        ..SyncConfig::default()
    };
    sync(state, peers, &cfg, rx, |_| {}).await.unwrap()
}

fn hash_at(h: usize) -> BlockHash {
    chain()[h].header.block_hash()
}

#[tokio::test]
async fn a_fake_peer_serves_the_chain_to_its_tip_and_it_survives_a_restart() {
    let dir = tempdir();
    let addr = fake_node(chain(), Mode::Honest).await;
    let mut st = state(dir.path());
    let started = std::time::Instant::now();
    let report = sync_from(&mut st, vec![connect(addr).await]).await;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} headers in {secs:.3} s: {:.0} headers/s",
        report.progress.headers,
        report.progress.headers as f64 / secs
    );
    assert!(report.complete, "{report:?}");
    assert!(report.dropped.is_empty(), "{:?}", report.dropped);
    assert_eq!(report.progress.headers, 1_999);
    assert_eq!(report.tip.height, Height(1_999));
    assert_eq!(report.tip.hash, hash_at(1_999));
    drop(st);
    let bytes = std::fs::metadata(dir.path().join("chain.redb"))
        .unwrap()
        .len();
    eprintln!(
        "store: {bytes} bytes for 2,000 headers, {:.0} bytes per header",
        bytes as f64 / 2_000.0
    );
    // Reopened: the same tip and best chain, and a second sync finds nothing new.
    let mut st = state(dir.path());
    assert_eq!(st.tip().hash, hash_at(1_999));
    assert_eq!(st.tree().best_at(Height(1_000)), Some(hash_at(1_000)));
    let again = sync_from(&mut st, vec![connect(addr).await]).await;
    assert!(again.complete);
    assert_eq!(again.progress.headers, 0);
    // Then the blocks for the ledger, 100 per getdata.
    let started = std::time::Instant::now();
    let ledger = sync_ledger_from(&mut st, vec![connect(addr).await], Some(0)).await;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "p2p: 2,000 blocks in {secs:.3} s: {:.0} blocks/s",
        2_000.0 / secs
    );
    assert!(ledger.complete);
    assert_eq!(ledger.progress.blocks, 2_000);
    assert_eq!(st.store().best_ledger(0, 1_999).unwrap().len(), 2_000);
}

#[tokio::test]
async fn hostile_peers_are_dropped_with_their_reason_and_sync_goes_on() {
    let dir = tempdir();
    let mut peers = Vec::new();
    for mode in [
        Mode::Oversized,
        Mode::BadChecksum,
        Mode::InvalidHeaderAt(700),
        Mode::Stall,
        Mode::Honest,
    ] {
        peers.push(connect(fake_node(chain(), mode).await).await);
    }
    // A node of another chain: the same rules, a different history (its genesis differs, so
    // nothing it sends connects).
    let other: Vec<Served> = chain()[1..].to_vec();
    peers.insert(
        0,
        connect(fake_node(std::sync::Arc::new(other), Mode::Honest).await).await,
    );
    let mut st = state(dir.path());
    let report = sync_from(&mut st, peers).await;
    assert!(report.complete, "{report:?}");
    assert_eq!(report.tip.hash, hash_at(1_999));
    let reasons: Vec<&str> = report.dropped.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(reasons.len(), 5, "{reasons:#?}");
    let expect = [
        "does not connect",
        "message of 3145728 bytes exceeds",
        "checksum",
        "invalid header",
        "stalled",
    ];
    for want in expect {
        assert!(
            reasons.iter().any(|r| r.contains(want)),
            "no drop for {want:?}: {reasons:#?}"
        );
    }
    // The invalid header's peer was dropped mid-chain: what it sent before stayed stored.
    let bad = report
        .dropped
        .iter()
        .find(|d| d.reason.contains("invalid header"))
        .unwrap();
    assert!(bad.reason.contains("height 700"), "{}", bad.reason);
}

/// A competing branch from height 1990, five blocks longer: the PoN work per block is equal, so
/// the longer branch has more work and becomes the best chain.
#[tokio::test]
async fn a_branch_with_more_work_reorganises_the_best_chain() {
    let p = params();
    let main = chain();
    let fork = 1_990usize;
    let mut window = ChainWindow::new(p);
    for s in &main[..fork] {
        let clock = if window.tip().is_some() {
            chaingen::clock_for(&window)
        } else {
            fluxminer::consensus::chain::Clock {
                adjusted_time: i64::from(s.header.time),
                tip_height: Height(0),
            }
        };
        window.accept(p, &s.header, &clock).unwrap();
    }
    let mut branch: Vec<Served> = main[..fork].to_vec();
    for h in fork..2_015 {
        let mut t = chaingen::template_after(p, &window);
        t.time += 1;
        t.bits = next_work_required(p, Height(h as u32), t.time, &window).unwrap();
        let header = chaingen::mine_pon(p, &t, t.bits.to_target().ok());
        window
            .accept(p, &header, &chaingen::clock_for(&window))
            .unwrap();
        let block = chaingen::block_bytes(p, h as u32, &header);
        branch.push(Served { header, block });
    }
    let dir = tempdir();
    let mut st = state(dir.path());
    let first = sync_ledger_from(
        &mut st,
        vec![connect(fake_node(main.clone(), Mode::Honest).await).await],
        Some(1_900),
    )
    .await;
    assert_eq!(first.tip.hash, hash_at(1_999));
    assert_eq!(first.progress.blocks, 100);
    let branch = std::sync::Arc::new(branch);
    let second = sync_ledger_from(
        &mut st,
        vec![connect(fake_node(branch.clone(), Mode::Honest).await).await],
        Some(1_900),
    )
    .await;
    assert_eq!(second.progress.headers, 25);
    // The ledger follows: the ten blocks that left lose their records, the branch's 25 get
    // theirs, and every record in range is the best chain's.
    assert_eq!(second.progress.blocks, 25);
    for h in 1_990..2_000 {
        assert_eq!(st.store().ledger(&hash_at(h)).unwrap(), None, "height {h}");
    }
    let records = st.store().best_ledger(1_900, 2_014).unwrap();
    assert_eq!(records.len(), 115);
    for (h, hash, _) in &records {
        assert_eq!(*hash, branch[h.get() as usize].header.block_hash());
    }
    assert!(second.progress.reorgs >= 1, "{second:?}");
    let tip = branch.last().unwrap().header.block_hash();
    assert_eq!(second.tip.hash, tip);
    assert_eq!(second.tip.height, Height(2_014));
    drop(st);
    let st = state(dir.path());
    assert_eq!(st.tip().hash, tip, "the reorg was committed");
    assert_eq!(
        st.tree().best_at(Height(1_995)),
        Some(branch[1_995].header.block_hash())
    );
    assert_eq!(st.tree().best_at(Height(1_989)), Some(hash_at(1_989)));
}

fn tempdir() -> TempDir {
    TempDir::new()
}

/// A directory removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "fluxminer-sync-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fluxminer(args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fluxminer"));
    c.args(args);
    c
}

fn sync_cmd(dir: &std::path::Path, addr: SocketAddr) -> std::process::Command {
    let chain = sync_support::chain_file();
    let mut c = fluxminer(&[
        "sync",
        "--chain",
        chain.to_str().unwrap(),
        "--datadir",
        dir.to_str().unwrap(),
        "--peer",
        &addr.to_string(),
        "--from",
        "0",
        "--commit-every",
        "100",
    ]);
    c.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c
}

/// What `status --json` and `rewards --json` say about a data directory (the path and file
/// size left out).
fn summary(dir: &std::path::Path) -> (serde_json::Value, String) {
    let chain = sync_support::chain_file();
    let common = [
        "--chain",
        chain.to_str().unwrap(),
        "--datadir",
        dir.to_str().unwrap(),
    ];
    let status = fluxminer(&[&["status", "--json"][..], &common].concat())
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let mut v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    v.as_object_mut()
        .unwrap()
        .retain(|k, _| !k.starts_with("store"));
    let rewards = fluxminer(&[&["rewards", "--json", "--by", "day"][..], &common].concat())
        .output()
        .unwrap();
    assert!(rewards.status.success(), "{rewards:?}");
    (v, String::from_utf8(rewards.stdout).unwrap())
}

/// `kill -9` of `fluxminer sync` at 20 moments spread over a run, then a run to the end: the
/// same tip, the same best chain and the same ledger as an uninterrupted run.
#[test]
fn kill_9_during_sync_20_times_then_resume_gives_the_same_tip_and_ledger() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(fake_node(chain(), Mode::SlowBlocks));
    let whole = tempdir();
    let started = std::time::Instant::now();
    assert!(sync_cmd(whole.path(), addr).status().unwrap().success());
    let full = started.elapsed();
    let reference = summary(whole.path());
    assert_eq!(reference.0["height"], 1_999);
    assert_eq!(reference.0["ledger_blocks"], 2_000);

    let killed = tempdir();
    let mut mid_run = 0;
    for i in 0..20u32 {
        let mut child = sync_cmd(killed.path(), addr).spawn().unwrap();
        // 2–5 % of a whole run each (start-up, headers or blocks, as the progress goes), so
        // that the 20 kills together stop short of the end.
        std::thread::sleep(full.mul_f64(f64::from(2 + i % 4) / 100.0));
        if child.try_wait().unwrap().is_none() {
            mid_run += 1;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    eprintln!("uninterrupted sync {full:?}; {mid_run} of 20 kills hit a running sync");
    assert!(mid_run >= 18, "only {mid_run} kills hit a running sync");
    assert!(sync_cmd(killed.path(), addr).status().unwrap().success());
    assert_eq!(summary(killed.path()), reference);
}

/// Ctrl-C (SIGINT) during `fluxminer sync`: it commits what was validated and exits 1
/// (stopped before the end); the next run finishes from there.
#[test]
fn ctrl_c_stops_sync_cleanly_and_the_next_run_finishes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(fake_node(chain(), Mode::SlowBlocks));
    let dir = tempdir();
    let mut child = sync_cmd(dir.path(), addr).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert!(child.try_wait().unwrap().is_none(), "still syncing");
    // SIGINT, as a terminal sends it on Ctrl-C.
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "stopped early: {status:?}");
    let (partial, _) = summary(dir.path());
    assert_eq!(
        partial["height"], 1_999,
        "headers come first and were committed"
    );
    let blocks = partial["ledger_blocks"].as_u64().unwrap();
    assert!(
        blocks > 0 && blocks < 2_000,
        "{blocks} blocks recorded before Ctrl-C"
    );
    assert!(sync_cmd(dir.path(), addr).status().unwrap().success());
    assert_eq!(summary(dir.path()).0["ledger_blocks"], 2_000);
}

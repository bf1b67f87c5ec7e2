//! The light client's store: batches survive reopening, a reorg rewrites the best chain from
//! its fork, and `kill -9` during writes (20 times, at random moments) never corrupts it nor
//! loses a committed batch.

use std::path::Path;
use std::time::Duration;

use fluxminer::consensus::BlockHash;
use fluxminer::consensus::chain::ChainEntry;
use fluxminer::consensus::target::{CompactTarget, Work};
use fluxminer::consensus::tree::{Change, HeaderTree, Node};
use fluxminer::consensus::units::Height;
use fluxminer::store::{Batch, Store};

fn hash(branch: u8, height: u32) -> BlockHash {
    let mut b = [branch; 32];
    b[..4].copy_from_slice(&height.to_le_bytes());
    BlockHash::from_internal_bytes(b)
}

fn entry(branch: u8, height: u32, work: u64) -> ChainEntry {
    ChainEntry {
        height: Height(height),
        hash: hash(if height == 0 { 0 } else { branch }, height),
        time: 1_600_000_000 + 120 * height,
        bits: CompactTarget::from_consensus(0x1f07_ffff),
        is_pon: false,
        chain_work: Work::from_uint(ruint::aliases::U256::from(work)),
    }
}

fn genesis() -> ChainEntry {
    entry(0, 0, 0)
}

/// Grows `tree` by `branch` blocks from `parent` and returns the batch that stores them.
fn grow(
    tree: &mut HeaderTree,
    branch: u8,
    parent: BlockHash,
    heights: std::ops::RangeInclusive<u32>,
    each: u64,
) -> Batch {
    let mut batch = Batch::default();
    let mut prev = parent;
    let mut lowest_change = u32::MAX;
    for h in heights {
        let base = tree.get(&prev).unwrap().entry.chain_work.to_uint();
        let e = ChainEntry {
            chain_work: Work::from_uint(base + ruint::aliases::U256::from(each)),
            ..entry(branch, h, 0)
        };
        let node = Node {
            entry: e,
            prev,
            pon_hash: None,
        };
        match tree.insert(node.clone()).unwrap() {
            Change::Extended => lowest_change = lowest_change.min(h),
            Change::Reorg { connected, .. } => {
                let first = tree.get(&connected[0]).unwrap().entry.height.get();
                lowest_change = lowest_change.min(first);
            }
            _ => {}
        }
        batch.nodes.push((node, vec![branch; 8]));
        prev = e.hash;
    }
    if lowest_change != u32::MAX {
        batch.best_from = lowest_change;
        batch.best = tree.best_chain()[lowest_change as usize..].to_vec();
    }
    batch
}

fn open(dir: &Path) -> Store {
    Store::open(&dir.join("headers.redb")).unwrap()
}

#[test]
fn batches_survive_reopening_and_a_reorg_rewrites_the_best_chain() {
    let dir = tempdir();
    let mut tree = HeaderTree::new(genesis(), &[]);
    {
        let s = open(&dir);
        s.commit(&Batch {
            best: vec![genesis().hash],
            ..Batch::default()
        })
        .unwrap();
        for k in 0..10 {
            let parent = tree.tip().hash;
            s.commit(&grow(&mut tree, b'a', parent, 10 * k + 1..=10 * k + 10, 5))
                .unwrap();
        }
        assert_eq!(s.tip().unwrap(), Some((Height(100), hash(b'a', 100))));
    }
    let s = open(&dir);
    let loaded = s.load(genesis(), &[]).unwrap();
    assert_eq!(loaded.tip(), tree.tip());
    assert_eq!(loaded.len(), 101);
    assert_eq!(s.header(&hash(b'a', 7)).unwrap(), Some(vec![b'a'; 8]));
    // A heavier branch from 90: the stored best chain switches at 91.
    let b = grow(&mut tree, b'b', hash(b'a', 90), 91..=105, 5);
    assert_eq!(b.best_from, 91, "rewritten from the fork on");
    s.commit(&b).unwrap();
    drop(s);
    let loaded = open(&dir).load(genesis(), &[]).unwrap();
    assert_eq!(loaded.tip().hash, hash(b'b', 105));
    assert_eq!(loaded.best_at(Height(95)), Some(hash(b'b', 95)));
    assert_eq!(loaded.best_at(Height(90)), Some(hash(b'a', 90)));
    assert!(
        loaded.get(&hash(b'a', 100)).is_some(),
        "the old branch stays stored"
    );
}

/// Run by the kill test as a child process: writes batches until killed.
#[test]
fn store_writer_child() {
    let Ok(dir) = std::env::var("FLUXMINER_STORE_CHILD") else {
        return;
    };
    let s = open(Path::new(&dir));
    let mut tree = s.load(genesis(), &[]).unwrap();
    if s.tip().unwrap().is_none() {
        s.commit(&Batch {
            best: vec![genesis().hash],
            ..Batch::default()
        })
        .unwrap();
    }
    loop {
        let tip = tree.tip().hash;
        let h = tree.tip().height.get();
        s.commit(&grow(&mut tree, b'a', tip, h + 1..=h + 50, 5))
            .unwrap();
        println!("committed {}", h + 50);
    }
}

#[test]
fn kill_9_during_writes_never_corrupts_nor_loses_a_commit() {
    let dir = tempdir();
    let mut last = 0;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for round in 0..20 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store_writer_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("FLUXMINER_STORE_CHILD", &dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(40 + rng % 200));
        child.kill().unwrap();
        child.wait().unwrap();
        let s = open(&dir);
        let tree = s
            .load(genesis(), &[])
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let tip = tree.tip().height.get();
        assert!(
            tip >= last,
            "round {round}: tip went back from {last} to {tip}"
        );
        assert_eq!(tip % 50, 0, "round {round}: a half-written batch at {tip}");
        assert_eq!(s.tip().unwrap().map(|t| t.0.get()), Some(tip));
        last = tip;
    }
    assert!(last > 0, "the child never committed");
    eprintln!("20 kills, tip {last}");
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "fluxminer-store-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

//! Fork choice on made-up branches: work decides, PoN ties go to the lower eligibility hash,
//! reorganisations list exactly the blocks that leave and join, and fluxd's depth and
//! checkpoint limits refuse forks with their rule.

use super::*;
use crate::consensus::target::{CompactTarget, Work};

/// A hash naming a block by branch letter and height.
fn hash(branch: u8, height: u32) -> BlockHash {
    let mut b = [0u8; 32];
    b[0] = branch;
    b[1..5].copy_from_slice(&height.to_le_bytes());
    BlockHash::from_internal_bytes(b)
}

fn genesis() -> ChainEntry {
    entry(b'g', 0, Work::ZERO, false)
}

fn entry(branch: u8, height: u32, chain_work: Work, is_pon: bool) -> ChainEntry {
    ChainEntry {
        height: Height(height),
        hash: if height == 0 {
            hash(b'g', 0)
        } else {
            hash(branch, height)
        },
        time: 1_600_000_000 + 120 * height,
        bits: CompactTarget::from_consensus(0x1f07_ffff),
        is_pon,
        chain_work,
    }
}

fn work(n: u64) -> Work {
    Work::from_uint(ruint::aliases::U256::from(n))
}

/// Adds `branch` blocks `from..=to` on top of `parent`, each of `each` work (PoN when
/// `pon_hash` gives a tie-break hash), returning the last change.
fn grow(
    t: &mut HeaderTree,
    branch: u8,
    parent: BlockHash,
    range: std::ops::RangeInclusive<u32>,
    each: u64,
    pon_hash: Option<u8>,
) -> Result<Change, TreeError> {
    let mut prev = parent;
    let mut last = Change::Known;
    for h in range {
        let base = t.get(&prev).map_or(Work::ZERO, |n| n.entry.chain_work);
        let e = entry(
            branch,
            h,
            base.saturating_add(work(each)),
            pon_hash.is_some(),
        );
        last = t.insert(Node {
            entry: e,
            prev,
            pon_hash: pon_hash.map(|b| [b; 32]),
        })?;
        prev = e.hash;
    }
    Ok(last)
}

#[test]
fn more_work_wins_and_the_reorg_lists_what_moves() {
    let mut t = HeaderTree::new(genesis(), &[]);
    assert_eq!(
        grow(&mut t, b'a', hash(b'g', 0), 1..=5, 10, None),
        Ok(Change::Extended)
    );
    // A branch from height 2 with as much work stays aside: the first seen keeps the tip.
    assert_eq!(
        grow(&mut t, b'b', hash(b'a', 2), 3..=5, 10, None),
        Ok(Change::Side)
    );
    assert_eq!(t.tip().hash, hash(b'a', 5));
    // One more block makes it heavier: reorg.
    let change = grow(&mut t, b'b', hash(b'b', 5), 6..=6, 10, None).unwrap();
    assert_eq!(
        change,
        Change::Reorg {
            fork: hash(b'a', 2),
            disconnected: vec![hash(b'a', 5), hash(b'a', 4), hash(b'a', 3)],
            connected: vec![hash(b'b', 3), hash(b'b', 4), hash(b'b', 5), hash(b'b', 6)],
        }
    );
    assert_eq!(t.tip().hash, hash(b'b', 6));
    assert_eq!(t.best_at(Height(2)), Some(hash(b'a', 2)));
    assert_eq!(t.best_at(Height(4)), Some(hash(b'b', 4)));
    // Fewer blocks with more work per block also win.
    let change = grow(&mut t, b'c', hash(b'a', 4), 5..=5, 100, None).unwrap();
    assert!(matches!(change, Change::Reorg { fork, .. } if fork == hash(b'a', 2)));
    assert_eq!(t.tip().hash, hash(b'c', 5));
    assert_eq!(
        grow(&mut t, b'a', hash(b'a', 5), 6..=6, 1, None),
        Ok(Change::Side)
    );
    assert_eq!(t.len(), 1 + 5 + 4 + 1 + 1);
}

/// Two PoN blocks at the same height and work: the lower eligibility hash wins, whichever came
/// first; PoW ties keep the first seen.
#[test]
fn pon_ties_go_to_the_lower_eligibility_hash() {
    let mut t = HeaderTree::new(genesis(), &[]);
    grow(&mut t, b'a', hash(b'g', 0), 1..=3, 1 << 40, None).unwrap();
    grow(&mut t, b'p', hash(b'a', 3), 4..=4, 1 << 40, Some(0x80)).unwrap();
    let lower = grow(&mut t, b'q', hash(b'a', 3), 4..=4, 1 << 40, Some(0x7f)).unwrap();
    assert_eq!(
        lower,
        Change::Reorg {
            fork: hash(b'a', 3),
            disconnected: vec![hash(b'p', 4)],
            connected: vec![hash(b'q', 4)]
        }
    );
    let higher = grow(&mut t, b'r', hash(b'a', 3), 4..=4, 1 << 40, Some(0x90)).unwrap();
    assert_eq!(higher, Change::Side);
    assert_eq!(t.tip().hash, hash(b'q', 4));
}

#[test]
fn forks_deeper_than_fluxd_allows_are_refused() {
    let mut t = HeaderTree::new(genesis(), &[]);
    grow(&mut t, b'a', hash(b'g', 0), 1..=50, 1, None).unwrap();
    // Parent 39 below the tip: allowed; 40: refused.
    assert!(grow(&mut t, b'b', hash(b'a', 11), 12..=12, 1, None).is_ok());
    assert_eq!(
        grow(&mut t, b'c', hash(b'a', 10), 11..=11, 1, None),
        Err(TreeError::TooDeep {
            parent: Height(10),
            depth: 40,
            max: 40
        })
    );
    assert_eq!(max_reorg_depth(Height(2_020_000)), 5_000);
    assert_eq!(max_reorg_depth(Height(2_025_001)), 40);
}

#[test]
fn forks_below_a_known_checkpoint_are_refused() {
    let cp = [(Height(5), hash(b'a', 5)), (Height(9), hash(b'a', 9))];
    let mut t = HeaderTree::new(genesis(), &cp);
    grow(&mut t, b'a', hash(b'g', 0), 1..=7, 1, None).unwrap();
    assert_eq!(
        grow(&mut t, b'b', hash(b'a', 3), 4..=4, 5, None),
        Err(TreeError::BelowCheckpoint {
            height: Height(4),
            checkpoint: Height(5)
        })
    );
    assert!(
        grow(&mut t, b'b', hash(b'a', 5), 6..=6, 5, None).is_ok(),
        "above it"
    );
}

#[test]
fn unknown_parents_and_wrong_heights_are_refused() {
    let mut t = HeaderTree::new(genesis(), &[]);
    let e = entry(b'x', 2, work(1), false);
    assert_eq!(
        t.insert(Node {
            entry: e,
            prev: hash(b'z', 1),
            pon_hash: None
        }),
        Err(TreeError::UnknownParent(hash(b'z', 1)))
    );
    assert_eq!(
        t.insert(Node {
            entry: e,
            prev: hash(b'g', 0),
            pon_hash: None
        }),
        Err(TreeError::BadHeight {
            height: Height(2),
            parent: Height(0)
        })
    );
}

/// The view of a side branch sees that branch below its tip, and the shared chain below the
/// fork.
#[test]
fn a_branch_view_follows_its_own_branch() {
    let mut t = HeaderTree::new(genesis(), &[]);
    grow(&mut t, b'a', hash(b'g', 0), 1..=6, 10, None).unwrap();
    grow(&mut t, b'b', hash(b'a', 3), 4..=5, 10, None).unwrap();
    let v = t.view(hash(b'b', 5));
    let at = |h| v.entry(Height(h)).map(|e| e.hash);
    assert_eq!(at(5), Some(hash(b'b', 5)));
    assert_eq!(at(4), Some(hash(b'b', 4)));
    assert_eq!(at(3), Some(hash(b'a', 3)));
    assert_eq!(at(0), Some(hash(b'g', 0)));
    assert_eq!(at(6), None);
    assert_eq!(
        t.view(hash(b'a', 6)).entry(Height(5)).map(|e| e.hash),
        Some(hash(b'a', 5))
    );
}

//! Transaction Merkle trees: the root of a block's txids (with the CVE-2012-2459 mutation
//! flag), branches, and branch verification against a header's Merkle root.

use super::hash::{MerkleRoot, TxId, sha256d};

fn parent(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(a);
    buf[32..].copy_from_slice(b);
    sha256d(&buf)
}

/// The Merkle root of `txids` and whether the tree is "mutated" (two identical siblings at some
/// level, which lets a different transaction list give the same root). `None` for no txids.
///
/// # Consensus
/// fluxd `src/primitives/block.cpp:19-80` (`BlockMerkleRoot`, odd last node paired with itself);
/// spec §4.1.
pub fn merkle_root(txids: &[TxId]) -> Option<(MerkleRoot, bool)> {
    if txids.is_empty() {
        return None;
    }
    let mut level: Vec<[u8; 32]> = txids.iter().map(|t| t.to_internal_bytes()).collect();
    let mut mutated = false;
    while level.len() > 1 {
        mutated |= level.chunks(2).any(|p| p.len() == 2 && p[0] == p[1]);
        level = level
            .chunks(2)
            .map(|p| parent(&p[0], p.get(1).unwrap_or(&p[0])))
            .collect();
    }
    Some((MerkleRoot::from_internal_bytes(level[0]), mutated))
}

/// The sibling hashes from leaf `index` up to the root.
pub fn merkle_branch(txids: &[TxId], index: usize) -> Vec<[u8; 32]> {
    let mut level: Vec<[u8; 32]> = txids.iter().map(|t| t.to_internal_bytes()).collect();
    let mut i = index;
    let mut branch = Vec::new();
    while level.len() > 1 {
        let sibling = if i ^ 1 < level.len() { i ^ 1 } else { i };
        branch.push(level[sibling]);
        level = level
            .chunks(2)
            .map(|p| parent(&p[0], p.get(1).unwrap_or(&p[0])))
            .collect();
        i /= 2;
    }
    branch
}

/// The root a branch proves for `txid` at leaf `index`.
pub fn root_from_branch(txid: &TxId, branch: &[[u8; 32]], index: usize) -> MerkleRoot {
    let mut h = txid.to_internal_bytes();
    for (level, sibling) in branch.iter().enumerate() {
        h = if (index >> level) & 1 == 1 {
            parent(sibling, &h)
        } else {
            parent(&h, sibling)
        };
    }
    MerkleRoot::from_internal_bytes(h)
}

/// Whether `txid` at leaf `index` with `branch` hashes to `root` (e.g. a header's Merkle root).
pub fn verify_merkle_branch(
    txid: &TxId,
    branch: &[[u8; 32]],
    index: usize,
    root: &MerkleRoot,
) -> bool {
    root_from_branch(txid, branch, index) == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u8) -> Vec<TxId> {
        (0..n)
            .map(|i| TxId::from_internal_bytes(sha256d(&[i])))
            .collect()
    }

    #[test]
    fn branches_verify_for_every_leaf_of_odd_and_even_trees() {
        for n in 1..=9 {
            let t = ids(n);
            let (root, mutated) = merkle_root(&t).unwrap();
            assert!(!mutated);
            for i in 0..t.len() {
                let b = merkle_branch(&t, i);
                assert!(verify_merkle_branch(&t[i], &b, i, &root), "n={n} i={i}");
                let mut other = t[i].to_internal_bytes();
                other[0] ^= 1;
                let other = TxId::from_internal_bytes(other);
                assert!(!verify_merkle_branch(&other, &b, i, &root));
            }
        }
    }

    #[test]
    fn duplicated_last_pair_is_flagged_mutated_with_the_same_root() {
        let t = ids(3);
        let mut dup = t.clone();
        dup.push(t[2]);
        let (a, ma) = merkle_root(&t).unwrap();
        let (b, mb) = merkle_root(&dup).unwrap();
        assert_eq!(a, b);
        assert!(!ma && mb);
    }

    #[test]
    fn single_txid_is_its_own_root() {
        let t = ids(1);
        assert_eq!(
            merkle_root(&t).unwrap().0.to_internal_bytes(),
            t[0].to_internal_bytes()
        );
    }
}

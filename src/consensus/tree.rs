//! The header tree: every accepted header by hash, the best chain by fluxd's rule, and the
//! reorganisation each new header causes. Pure: the caller validates a header (with
//! [`HeaderTree::view`] as its [`ChainView`]) and then inserts it; storage mirrors the changes.
//!
//! # Consensus
//! - **Best chain**: the most cumulative work; between two PoN tips at the same height with the
//!   same work, the lower PoN eligibility hash (compared as raw bytes, as `uint256 <` does);
//!   otherwise the first seen stays. fluxd `src/main.cpp` (`CBlockIndexWorkComparator`). Note:
//!   the tie-break hashes are `GetPONHash` (collateral ‖ previous block ‖ slot), not block hashes.
//! - **Maximum reorganisation depth**: a header whose parent is `depth` or more blocks below the
//!   tip is refused (`bad-fork-prior-to-maxreorgdepth`): 40 blocks, 5,000 while the tip is in
//!   2,020,000–2,025,000 (PoN stabilisation). fluxd `src/main.cpp` (`GetMaxReorgDepth`,
//!   `ContextualCheckBlockHeader`).
//! - **Checkpoints**: a new header below the highest checkpoint already in the tree is refused
//!   (`src/main.cpp`, "forked chain older than last checkpoint").

use std::collections::HashMap;

use thiserror::Error;

use super::chain::{ChainEntry, ChainView};
use super::hash::BlockHash;
use super::units::Height;

/// fluxd's `MAX_REORG_LENGTH`.
pub const MAX_REORG_LENGTH: u32 = 40;

/// The deepest fork fluxd accepts while its tip is at `tip`.
///
/// # Consensus
/// fluxd `src/main.cpp` (`GetMaxReorgDepth`): 5,000 for tips in 2,020,000..=2,025,000, else
/// [`MAX_REORG_LENGTH`] (the same heights on every network).
pub fn max_reorg_depth(tip: Height) -> u32 {
    if (2_020_000..=2_025_000).contains(&tip.get()) {
        5_000
    } else {
        MAX_REORG_LENGTH
    }
}

/// Why a header cannot join the tree.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TreeError {
    /// Its parent is not in the tree.
    #[error("unknown parent {0}")]
    UnknownParent(BlockHash),
    /// Its height is not its parent's plus one.
    #[error("height {height} does not follow its parent's {parent}")]
    BadHeight {
        /// The header's.
        height: Height,
        /// The parent's.
        parent: Height,
    },
    /// The fork is deeper than fluxd allows.
    #[error(
        "bad-fork-prior-to-maxreorgdepth: fork from height {parent} is {depth} blocks below the \
         tip (at most {max})"
    )]
    TooDeep {
        /// The parent's height.
        parent: Height,
        /// Blocks between the parent and the tip.
        depth: u32,
        /// The limit at this tip.
        max: u32,
    },
    /// A fork below a checkpoint the tree holds.
    #[error(
        "forked chain older than last checkpoint: height {height} below checkpoint {checkpoint}"
    )]
    BelowCheckpoint {
        /// The header's height.
        height: Height,
        /// The checkpoint's.
        checkpoint: Height,
    },
}

/// One header in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// What the rules need.
    pub entry: ChainEntry,
    /// The parent's hash.
    pub prev: BlockHash,
    /// A PoN header's eligibility hash (the tie-break), `None` for PoW.
    pub pon_hash: Option<[u8; 32]>,
}

/// What inserting a header did to the best chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Already in the tree.
    Known,
    /// Stored on a side branch; the best chain did not change.
    Side,
    /// The best chain grew by this header.
    Extended,
    /// The best chain switched branches: undo `disconnected` (old tip first), then apply
    /// `connected` (oldest first, ending with the new tip).
    Reorg {
        /// The last block both branches share.
        fork: BlockHash,
        /// Blocks leaving the best chain, tip first.
        disconnected: Vec<BlockHash>,
        /// Blocks joining it, oldest first.
        connected: Vec<BlockHash>,
    },
}

/// The tree. See the module doc.
#[derive(Debug, Clone)]
pub struct HeaderTree {
    nodes: HashMap<BlockHash, Node>,
    /// The best chain by height (index = height).
    best: Vec<BlockHash>,
    checkpoints: Vec<(Height, BlockHash)>,
}

impl HeaderTree {
    /// A tree holding the genesis block, with the network's checkpoints.
    pub fn new(genesis: ChainEntry, checkpoints: &[(Height, BlockHash)]) -> HeaderTree {
        let mut nodes = HashMap::new();
        let hash = genesis.hash;
        nodes.insert(
            hash,
            Node {
                entry: genesis,
                prev: BlockHash::ZERO,
                pon_hash: None,
            },
        );
        let mut checkpoints = checkpoints.to_vec();
        checkpoints.sort();
        HeaderTree {
            nodes,
            best: vec![hash],
            checkpoints,
        }
    }

    /// Rebuilds a tree from stored headers and its best chain (by height), checking that the
    /// best chain is linked from `genesis` through stored headers; `None` when it is not.
    pub fn restore(
        genesis: ChainEntry,
        checkpoints: &[(Height, BlockHash)],
        nodes: Vec<Node>,
        best: Vec<BlockHash>,
    ) -> Option<HeaderTree> {
        let mut t = HeaderTree::new(genesis, checkpoints);
        if best.first() != Some(&genesis.hash) {
            return None;
        }
        for n in nodes {
            t.nodes.insert(n.entry.hash, n);
        }
        for (h, pair) in best.windows(2).enumerate() {
            let n = t.nodes.get(&pair[1])?;
            if n.prev != pair[0] || n.entry.height.get() as usize != h + 1 {
                return None;
            }
        }
        t.best = best;
        Some(t)
    }

    /// Every stored header (for a store to write).
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// The best chain's hashes, by height.
    pub fn best_chain(&self) -> &[BlockHash] {
        &self.best
    }

    /// The best tip.
    pub fn tip(&self) -> &ChainEntry {
        &self.nodes[self.best.last().expect("genesis")].entry
    }

    /// A header by hash.
    pub fn get(&self, hash: &BlockHash) -> Option<&Node> {
        self.nodes.get(hash)
    }

    /// The best chain's hash at `height`.
    pub fn best_at(&self, height: Height) -> Option<BlockHash> {
        self.best.get(height.get() as usize).copied()
    }

    /// Headers in the tree.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether only genesis is there.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    /// The chain ending at `tip` as a [`ChainView`] (to validate a header whose parent it is).
    pub fn view(&self, tip: BlockHash) -> BranchView<'_> {
        BranchView { tree: self, tip }
    }

    /// The header at `height` on the branch ending at `from`: walked back until the branch
    /// meets the best chain, then looked up by height.
    fn ancestor(&self, from: BlockHash, height: Height) -> Option<&Node> {
        let mut n = self.nodes.get(&from)?;
        while n.entry.height > height {
            if self.best_at(n.entry.height) == Some(n.entry.hash) {
                return self.nodes.get(&self.best_at(height)?);
            }
            n = self.nodes.get(&n.prev)?;
        }
        (n.entry.height == height).then_some(n)
    }

    /// Whether `a` is a better tip than `b` (see the module doc).
    fn better(a: &Node, b: &Node) -> bool {
        if a.entry.chain_work != b.entry.chain_work {
            return a.entry.chain_work > b.entry.chain_work;
        }
        match (a.pon_hash, b.pon_hash) {
            (Some(x), Some(y)) if a.entry.height == b.entry.height => x < y,
            _ => false,
        }
    }

    fn check_fork(&self, node: &Node) -> Result<(), TreeError> {
        let parent = &self.nodes[&node.prev].entry;
        if node.entry.height != parent.height.next() {
            return Err(TreeError::BadHeight {
                height: node.entry.height,
                parent: parent.height,
            });
        }
        let tip = self.tip().height;
        let depth = tip.get().saturating_sub(parent.height.get());
        let max = max_reorg_depth(tip);
        if depth >= max {
            return Err(TreeError::TooDeep {
                parent: parent.height,
                depth,
                max,
            });
        }
        let known = self
            .checkpoints
            .iter()
            .rev()
            .find(|(_, h)| self.nodes.contains_key(h));
        match known {
            Some(&(checkpoint, _)) if node.entry.height < checkpoint => {
                Err(TreeError::BelowCheckpoint {
                    height: node.entry.height,
                    checkpoint,
                })
            }
            _ => Ok(()),
        }
    }

    /// Adds a validated header and moves the best chain if it is now the best tip.
    ///
    /// # Errors
    /// A [`TreeError`]; the tree is unchanged.
    pub fn insert(&mut self, node: Node) -> Result<Change, TreeError> {
        let hash = node.entry.hash;
        if self.nodes.contains_key(&hash) {
            return Ok(Change::Known);
        }
        if !self.nodes.contains_key(&node.prev) {
            return Err(TreeError::UnknownParent(node.prev));
        }
        self.check_fork(&node)?;
        let tip = &self.nodes[self.best.last().expect("genesis")];
        let wins = Self::better(&node, tip);
        let extends = node.prev == tip.entry.hash;
        self.nodes.insert(hash, node);
        if !wins {
            return Ok(Change::Side);
        }
        if extends {
            self.best.push(hash);
            return Ok(Change::Extended);
        }
        Ok(self.switch_to(hash))
    }

    /// Makes `tip` the best chain's tip; the blocks that left and joined.
    fn switch_to(&mut self, tip: BlockHash) -> Change {
        let mut connected = Vec::new();
        let mut cur = tip;
        // Walk back from the new tip until the best chain holds the block.
        loop {
            let n = &self.nodes[&cur];
            if self.best_at(n.entry.height) == Some(cur) {
                break;
            }
            connected.push(cur);
            cur = n.prev;
        }
        let fork_height = self.nodes[&cur].entry.height.get() as usize;
        let disconnected: Vec<BlockHash> = self.best.drain(fork_height + 1..).rev().collect();
        connected.reverse();
        self.best.extend(&connected);
        Change::Reorg {
            fork: cur,
            disconnected,
            connected,
        }
    }
}

/// The branch ending at a header, as the contextual rules see it.
#[derive(Debug, Clone, Copy)]
pub struct BranchView<'a> {
    tree: &'a HeaderTree,
    tip: BlockHash,
}

impl ChainView for BranchView<'_> {
    fn entry(&self, height: Height) -> Option<ChainEntry> {
        self.tree.ancestor(self.tip, height).map(|n| n.entry)
    }
}

#[cfg(test)]
mod tests;

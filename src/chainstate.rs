//! The light client's chain state: the header tree ([`HeaderTree`]) over the store
//! ([`Store`]), fed headers and blocks from any source. Every header is validated against its
//! own branch before it joins the tree; every change (new headers, the best chain from the
//! lowest height that moved, ledger records added or undone by a reorg) waits in one batch
//! until [`ChainState::commit`] writes it in one transaction. No sockets and no clock: the
//! caller passes the time in and decides when to commit.

use thiserror::Error;

use crate::consensus::block::Block;
use crate::consensus::chain::{ChainEntry, Clock};
use crate::consensus::header::{Header, Proof};
use crate::consensus::params::NetworkParams;
use crate::consensus::tree::{Change, HeaderTree, Node, TreeError};
use crate::consensus::units::Height;
use crate::consensus::validate::validate_header;
use crate::consensus::{BlockHash, HeaderError, pon};
use crate::ledger::{BlockRewards, LedgerError};
use crate::p2p::message::locator;
use crate::store::{Batch, Store, StoreError};

/// Why a header or block was not taken.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ChainStateError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The header's parent is unknown: a source on another chain, or out of order.
    #[error("header {hash} does not connect: unknown parent {prev}")]
    Unconnected {
        /// The header.
        hash: BlockHash,
        /// Its parent.
        prev: BlockHash,
    },
    /// The header breaks a consensus rule.
    #[error("invalid header {hash} at height {height}: {source}")]
    InvalidHeader {
        /// Its height.
        height: Height,
        /// Its hash.
        hash: BlockHash,
        /// The rule.
        source: HeaderError,
    },
    /// A block that does not decode.
    #[error("block at height {height} does not decode: {source}")]
    BadBlock {
        /// The height asked for.
        height: Height,
        /// Why.
        source: crate::consensus::encode::DecodeError,
    },
    /// A block that is not the best chain's at its height.
    #[error("block {hash} is not the best chain's block at height {height}")]
    NotOnBestChain {
        /// The height asked for.
        height: Height,
        /// The block's hash.
        hash: BlockHash,
    },
    /// A block whose coinbase cannot be recorded (Merkle root, coinbase position or height).
    #[error("block at height {height}: {source}")]
    Ledger {
        /// Its height.
        height: Height,
        /// The check that failed.
        source: LedgerError,
    },
    /// The header forks where fluxd refuses forks.
    #[error("header {hash}: {source}")]
    Fork {
        /// Its hash.
        hash: BlockHash,
        /// Why.
        source: TreeError,
    },
}

/// The chain state. See the module doc.
pub struct ChainState {
    params: &'static NetworkParams,
    tree: HeaderTree,
    store: Store,
    batch: Batch,
    /// The lowest best-chain height changed since the last commit.
    best_dirty_from: Option<u32>,
}

impl ChainState {
    /// Opens the state stored in `store` (a new store starts at genesis).
    ///
    /// # Errors
    /// The store cannot be read or does not hold this network's chain.
    pub fn open(params: &'static NetworkParams, store: Store) -> Result<ChainState, StoreError> {
        let checkpoints: Vec<(Height, BlockHash)> = params
            .checkpoints
            .iter()
            .map(|c| (c.height, c.hash))
            .collect();
        let tree = store.load(params.genesis_entry(), &checkpoints)?;
        // A new store gets the genesis row of the best chain with its first commit.
        let best_dirty_from = store.tip()?.is_none().then_some(0);
        Ok(ChainState {
            params,
            tree,
            store,
            batch: Batch::default(),
            best_dirty_from,
        })
    }

    /// The network.
    pub fn params(&self) -> &'static NetworkParams {
        self.params
    }

    /// The best tip.
    pub fn tip(&self) -> &ChainEntry {
        self.tree.tip()
    }

    /// The tree (read-only).
    pub fn tree(&self) -> &HeaderTree {
        &self.tree
    }

    /// The store (read-only use; writes go through [`ChainState::commit`]).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A block locator of the best chain (tip first, genesis last).
    pub fn locator(&self) -> Vec<BlockHash> {
        let best = self.tree.best_chain();
        locator(self.tip().height.get(), |h| best[h as usize])
    }

    /// Validates `header` on its own branch and adds it; `now` is the network-adjusted Unix
    /// time (the future-time rule).
    ///
    /// # Errors
    /// A [`ChainStateError`]; nothing changes.
    pub fn accept_header(&mut self, header: &Header, now: i64) -> Result<Change, ChainStateError> {
        let hash = header.block_hash();
        if self.tree.get(&hash).is_some() {
            return Ok(Change::Known);
        }
        let parent = self
            .tree
            .get(&header.prev_hash)
            .ok_or(ChainStateError::Unconnected {
                hash,
                prev: header.prev_hash,
            })?
            .entry;
        let height = parent.height.next();
        let clock = Clock {
            adjusted_time: now,
            tip_height: self.tip().height,
        };
        let view = self.tree.view(header.prev_hash);
        let entry =
            validate_header(self.params, header, height, &view, &clock).map_err(|source| {
                ChainStateError::InvalidHeader {
                    height,
                    hash,
                    source,
                }
            })?;
        let node = Node {
            entry,
            prev: header.prev_hash,
            pon_hash: self.tie_break_hash(header),
        };
        let change = self
            .tree
            .insert(node.clone())
            .map_err(|source| ChainStateError::Fork { hash, source })?;
        self.batch.nodes.push((node, header.to_bytes()));
        self.note_change(&change, height);
        Ok(change)
    }

    /// A PoN header's `GetPONHash` (the fork-choice tie-break); `None` for PoW.
    fn tie_break_hash(&self, header: &Header) -> Option<[u8; 32]> {
        let Proof::Node { collateral, .. } = &header.proof else {
            return None;
        };
        let slot = pon::slot_number(self.params, header.time);
        Some(*pon::pon_hash(collateral, &header.prev_hash, slot).as_internal_bytes())
    }

    fn mark_best_from(&mut self, height: u32) {
        self.best_dirty_from = Some(self.best_dirty_from.map_or(height, |d| d.min(height)));
    }

    fn note_change(&mut self, change: &Change, height: Height) {
        match change {
            Change::Known | Change::Side => {}
            Change::Extended => self.mark_best_from(height.get()),
            Change::Reorg {
                fork, disconnected, ..
            } => {
                let fork_height = self.tree.get(fork).expect("in the tree").entry.height;
                self.mark_best_from(fork_height.get() + 1);
                self.batch.ledger.retain(|(h, _)| !disconnected.contains(h));
                self.batch
                    .ledger_removed
                    .extend(disconnected.iter().copied());
            }
        }
    }

    /// Whether the ledger holds block `hash` (stored or waiting).
    ///
    /// # Errors
    /// The store failed.
    pub fn has_record(&self, hash: &BlockHash) -> Result<bool, StoreError> {
        if self.batch.ledger.iter().any(|(h, _)| h == hash) {
            return Ok(true);
        }
        Ok(self.store.ledger(hash)?.is_some())
    }

    /// Records the best chain's block at `height` in the ledger: it must be that block, with
    /// its Merkle root, coinbase position and BIP34 height right.
    ///
    /// # Errors
    /// A [`ChainStateError`]; nothing changes.
    pub fn accept_block(&mut self, height: Height, bytes: &[u8]) -> Result<(), ChainStateError> {
        let block = Block::from_bytes(bytes)
            .map_err(|source| ChainStateError::BadBlock { height, source })?;
        let hash = block.header.block_hash();
        if self.tree.best_at(height) != Some(hash) {
            return Err(ChainStateError::NotOnBestChain { height, hash });
        }
        let record = BlockRewards::from_block(self.params, height, &block)
            .map_err(|source| ChainStateError::Ledger { height, source })?;
        self.batch.ledger.push((hash, record.to_bytes()));
        Ok(())
    }

    /// Headers and ledger changes waiting for [`ChainState::commit`].
    pub fn uncommitted(&self) -> usize {
        self.batch.nodes.len() + self.batch.ledger.len() + self.batch.ledger_removed.len()
    }

    /// Writes everything waiting, in one transaction.
    ///
    /// # Errors
    /// The write failed: nothing of the batch is stored, and it stays waiting.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        // Nothing moved on the best chain: `best` stays empty and the store leaves it alone.
        if let Some(from) = self.best_dirty_from {
            self.batch.best_from = from;
            self.batch.best = self.tree.best_chain()[from as usize..].to_vec();
        }
        self.store.commit(&self.batch)?;
        self.batch = Batch::default();
        self.best_dirty_from = None;
        Ok(())
    }
}

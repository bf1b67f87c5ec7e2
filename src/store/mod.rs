//! The light client's store: every accepted header with what the rules need about it (height,
//! chain work, PoN tie-break hash), the best chain by height and the reward ledger's per-block
//! records, in one redb file.
//!
//! Crash safety: each [`Store::commit`] is one write transaction (redb commits atomically, with
//! a checksummed two-phase commit), so a `kill -9` at any moment loses at most the batch being
//! written; [`Store::load`] checks that the stored best chain links up from genesis before it
//! trusts it.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use thiserror::Error;

use crate::consensus::BlockHash;
use crate::consensus::chain::ChainEntry;
use crate::consensus::target::{CompactTarget, Work};
use crate::consensus::tree::{HeaderTree, Node};
use crate::consensus::units::Height;

/// Headers by hash: the encoded [`Node`], then the serialized header.
const NODES: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("nodes");
/// The best chain: height → hash.
const BEST: TableDefinition<u32, &[u8; 32]> = TableDefinition::new("best");
/// Per-block records of the reward ledger, by block hash (opaque bytes here: the ledger module
/// encodes them). Kept for side-branch blocks too; the best chain says which count.
const LEDGER: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("ledger");

/// Bytes of an encoded [`Node`].
const NODE_LEN: usize = 4 + 32 + 4 + 4 + 1 + 32 + 32 + 1 + 32;

/// What the store cannot do.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed (I/O, or a file that is not a store).
    #[error("store: {0}")]
    Db(#[from] redb::Error),
    /// The stored best chain does not link up from genesis.
    #[error("store is inconsistent: {0}")]
    Corrupt(String),
}

fn err<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Db(e.into())
}

/// The changes of one batch: new headers, and the best chain from a height on.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// New headers with their serialized bytes.
    pub nodes: Vec<(Node, Vec<u8>)>,
    /// The best chain's hashes from height `best_from` on (everything above is dropped); empty
    /// leaves the stored best chain as it is.
    pub best: Vec<BlockHash>,
    /// Where `best` starts.
    pub best_from: u32,
    /// Ledger records to store, by block hash.
    pub ledger: Vec<(BlockHash, Vec<u8>)>,
    /// Ledger records to delete (blocks that left the best chain).
    pub ledger_removed: Vec<BlockHash>,
}

fn encode_node(n: &Node, header: &[u8]) -> Vec<u8> {
    let e = &n.entry;
    let mut v = Vec::with_capacity(NODE_LEN + header.len());
    v.extend_from_slice(&e.height.get().to_le_bytes());
    v.extend_from_slice(e.hash.as_internal_bytes());
    v.extend_from_slice(&e.time.to_le_bytes());
    v.extend_from_slice(&e.bits.to_consensus().to_le_bytes());
    v.push(u8::from(e.is_pon));
    v.extend_from_slice(&e.chain_work.to_uint().to_be_bytes::<32>());
    v.extend_from_slice(n.prev.as_internal_bytes());
    v.push(u8::from(n.pon_hash.is_some()));
    v.extend_from_slice(&n.pon_hash.unwrap_or_default());
    v.extend_from_slice(header);
    v
}

fn decode_node(v: &[u8]) -> Option<Node> {
    if v.len() < NODE_LEN {
        return None;
    }
    let arr = |at: usize| -> [u8; 32] { v[at..at + 32].try_into().expect("32 bytes") };
    let u32_at = |at: usize| u32::from_le_bytes(v[at..at + 4].try_into().expect("4 bytes"));
    let work = ruint::aliases::U256::from_be_bytes::<32>(arr(45));
    Some(Node {
        entry: ChainEntry {
            height: Height(u32_at(0)),
            hash: BlockHash::from_internal_bytes(arr(4)),
            time: u32_at(36),
            bits: CompactTarget::from_consensus(u32_at(40)),
            is_pon: v[44] != 0,
            chain_work: Work::from_uint(work),
        },
        prev: BlockHash::from_internal_bytes(arr(77)),
        pon_hash: (v[109] != 0).then(|| arr(110)),
    })
}

/// The store. See the module doc.
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens the store at `path`, creating it when absent.
    ///
    /// # Errors
    /// The file cannot be opened or is not a store.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = Database::create(path).map_err(err)?;
        let tx = db.begin_write().map_err(err)?;
        tx.open_table(NODES).map_err(err)?;
        tx.open_table(BEST).map_err(err)?;
        tx.open_table(LEDGER).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Store { db })
    }

    /// Writes `batch` in one transaction.
    ///
    /// # Errors
    /// The write failed; nothing of the batch is stored.
    pub fn commit(&self, batch: &Batch) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut nodes = tx.open_table(NODES).map_err(err)?;
            for (n, header) in &batch.nodes {
                nodes
                    .insert(
                        n.entry.hash.as_internal_bytes(),
                        encode_node(n, header).as_slice(),
                    )
                    .map_err(err)?;
            }
            let mut best = tx.open_table(BEST).map_err(err)?;
            // An empty `best` leaves the best chain alone (a best chain never shrinks to
            // nothing: a switch always connects at least one block).
            if !batch.best.is_empty() {
                best.retain_in(batch.best_from.., |_, _| false)
                    .map_err(err)?;
            }
            for (i, h) in batch.best.iter().enumerate() {
                best.insert(batch.best_from + i as u32, h.as_internal_bytes())
                    .map_err(err)?;
            }
            let mut ledger = tx.open_table(LEDGER).map_err(err)?;
            for h in &batch.ledger_removed {
                ledger.remove(h.as_internal_bytes()).map_err(err)?;
            }
            for (h, record) in &batch.ledger {
                ledger
                    .insert(h.as_internal_bytes(), record.as_slice())
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// The stored best tip (height and hash), if any.
    ///
    /// # Errors
    /// The read failed.
    pub fn tip(&self) -> Result<Option<(Height, BlockHash)>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let best = tx.open_table(BEST).map_err(err)?;
        Ok(best.last().map_err(err)?.map(|(h, hash)| {
            (
                Height(h.value()),
                BlockHash::from_internal_bytes(*hash.value()),
            )
        }))
    }

    /// Headers stored.
    ///
    /// # Errors
    /// The read failed.
    pub fn len(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        tx.open_table(NODES).map_err(err)?.len().map_err(err)
    }

    /// Whether nothing is stored.
    ///
    /// # Errors
    /// The read failed.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// The serialized header `hash`.
    ///
    /// # Errors
    /// The read failed.
    pub fn header(&self, hash: &BlockHash) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let nodes = tx.open_table(NODES).map_err(err)?;
        Ok(nodes
            .get(hash.as_internal_bytes())
            .map_err(err)?
            .map(|v| v.value()[NODE_LEN..].to_vec()))
    }

    /// The best chain's hashes at heights `from..=to` (clipped to the stored chain).
    ///
    /// # Errors
    /// The read failed.
    pub fn best_range(&self, from: u32, to: u32) -> Result<Vec<(Height, BlockHash)>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let best = tx.open_table(BEST).map_err(err)?;
        let mut out = Vec::new();
        for row in best.range(from..=to).map_err(err)? {
            let (h, hash) = row.map_err(err)?;
            out.push((
                Height(h.value()),
                BlockHash::from_internal_bytes(*hash.value()),
            ));
        }
        Ok(out)
    }

    /// The ledger record of block `hash`, if stored.
    ///
    /// # Errors
    /// The read failed.
    pub fn ledger(&self, hash: &BlockHash) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(LEDGER).map_err(err)?;
        Ok(t.get(hash.as_internal_bytes())
            .map_err(err)?
            .map(|v| v.value().to_vec()))
    }

    /// The ledger records of the best chain at heights `from..=to`, in height order (heights
    /// with no record are left out).
    ///
    /// # Errors
    /// The read failed.
    pub fn best_ledger(
        &self,
        from: u32,
        to: u32,
    ) -> Result<Vec<(Height, BlockHash, Vec<u8>)>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let best = tx.open_table(BEST).map_err(err)?;
        let ledger = tx.open_table(LEDGER).map_err(err)?;
        let mut out = Vec::new();
        for row in best.range(from..=to).map_err(err)? {
            let (h, hash) = row.map_err(err)?;
            if let Some(r) = ledger.get(hash.value()).map_err(err)? {
                out.push((
                    Height(h.value()),
                    BlockHash::from_internal_bytes(*hash.value()),
                    r.value().to_vec(),
                ));
            }
        }
        Ok(out)
    }

    /// Rebuilds the header tree: every stored header and the stored best chain, checked to link
    /// up from `genesis` (an empty store gives the genesis-only tree).
    ///
    /// # Errors
    /// The read failed, or [`StoreError::Corrupt`].
    pub fn load(
        &self,
        genesis: ChainEntry,
        checkpoints: &[(Height, BlockHash)],
    ) -> Result<HeaderTree, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let table = tx.open_table(NODES).map_err(err)?;
        let mut nodes = Vec::new();
        for row in table.range::<&[u8; 32]>(..).map_err(err)? {
            let (k, v) = row.map_err(err)?;
            let n = decode_node(v.value())
                .ok_or_else(|| StoreError::Corrupt(format!("node {:02x?}", k.value())))?;
            nodes.push(n);
        }
        let best_table = tx.open_table(BEST).map_err(err)?;
        let mut best = Vec::new();
        for (i, row) in best_table.range::<u32>(..).map_err(err)?.enumerate() {
            let (h, hash) = row.map_err(err)?;
            if h.value() as usize != i {
                return Err(StoreError::Corrupt(format!("best chain skips height {i}")));
            }
            best.push(BlockHash::from_internal_bytes(*hash.value()));
        }
        if best.is_empty() {
            best.push(genesis.hash);
        }
        HeaderTree::restore(genesis, checkpoints, nodes, best)
            .ok_or_else(|| StoreError::Corrupt("best chain does not link up from genesis".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(height: u32, prev: BlockHash, pon: bool) -> Node {
        let mut h = [7u8; 32];
        h[..4].copy_from_slice(&height.to_le_bytes());
        Node {
            entry: ChainEntry {
                height: Height(height),
                hash: BlockHash::from_internal_bytes(h),
                time: 1_700_000_000 + height,
                bits: CompactTarget::from_consensus(0x1d0f_ffff),
                is_pon: pon,
                chain_work: Work::from_uint(ruint::aliases::U256::from(u64::from(height) << 40)),
            },
            prev,
            pon_hash: pon.then_some([height as u8; 32]),
        }
    }

    #[test]
    fn nodes_encode_and_decode_exactly() {
        for pon in [false, true] {
            let n = node(2_020_001, BlockHash::from_internal_bytes([3; 32]), pon);
            let v = encode_node(&n, &[1, 2, 3]);
            assert_eq!(v.len(), NODE_LEN + 3);
            assert_eq!(decode_node(&v), Some(n));
        }
        assert_eq!(decode_node(&[0; NODE_LEN - 1]), None);
    }
}

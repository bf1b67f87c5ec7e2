//! Full blocks: header plus transactions, the Merkle-root check, and the block's height as its
//! coinbase states it.

use thiserror::Error;

use super::encode::{DecodeError, Reader};
use super::hash::{MerkleRoot, TxId};
use super::header::Header;
use super::merkle;
use super::tx::{Transaction, TxKind};
use super::units::{Amount, Height};

/// A block breaks a block-level rule (header rules are [`super::HeaderError`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BlockError {
    /// The header's Merkle root is not the root of the transactions (`bad-txnmrklroot`).
    #[error("merkle root {found} in the header differs from the transactions' root {computed}")]
    BadMerkleRoot {
        /// The root computed from the txids.
        computed: MerkleRoot,
        /// The header's `hashMerkleRoot`.
        found: MerkleRoot,
    },
    /// Two identical sibling txids (CVE-2012-2459, `bad-txns-duplicate`).
    #[error("duplicate transactions make the merkle tree ambiguous")]
    MutatedMerkleTree,
    /// The first transaction is not a coinbase (`bad-cb-missing`).
    #[error("first transaction is not a coinbase")]
    FirstTxNotCoinbase,
    /// A later transaction is a coinbase (`bad-cb-multiple`).
    #[error("transaction {index} is a second coinbase")]
    MultipleCoinbase {
        /// Its index.
        index: usize,
    },
    /// The coinbase does not start with a block height.
    #[error("coinbase script does not start with the block height")]
    CoinbaseHeightMissing,
    /// Above height 20 the coinbase `scriptSig` does not start with the minimal push of the
    /// block's height (BIP34, `bad-cb-height`).
    #[error("coinbase script does not start with the push of height {height}")]
    CoinbaseHeightMismatch {
        /// The block's height.
        height: Height,
    },
}

impl BlockError {
    /// fluxd's reject reason for the rule.
    pub fn rule(&self) -> &'static str {
        match self {
            BlockError::BadMerkleRoot { .. } => "bad-txnmrklroot",
            BlockError::MutatedMerkleTree => "bad-txns-duplicate",
            BlockError::FirstTxNotCoinbase => "bad-cb-missing",
            BlockError::MultipleCoinbase { .. } => "bad-cb-multiple",
            BlockError::CoinbaseHeightMissing => "cb-height-unreadable",
            BlockError::CoinbaseHeightMismatch { .. } => "bad-cb-height",
        }
    }
}

/// A block: header and transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions, coinbase first.
    pub transactions: Vec<Transaction>,
}

impl Block {
    /// Parses a serialized block: header, CompactSize count, transactions; no trailing bytes.
    ///
    /// # Consensus
    /// fluxd `src/primitives/block.h` (`CBlock::SerializationOp`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Block, DecodeError> {
        let mut r = Reader::new(bytes);
        let header = Header::decode(&mut r)?;
        let n = r.read_length(10)?;
        if n == 0 {
            return Err(DecodeError::NoTransactions);
        }
        let transactions = (0..n)
            .map(|_| Transaction::decode(&mut r))
            .collect::<Result<_, _>>()?;
        r.finish("block")?;
        Ok(Block {
            header,
            transactions,
        })
    }

    /// The txids in block order.
    pub fn txids(&self) -> Vec<TxId> {
        self.transactions.iter().map(|t| t.txid).collect()
    }

    /// The coinbase transaction (the first one).
    pub fn coinbase(&self) -> &Transaction {
        &self.transactions[0]
    }

    /// The height the coinbase states.
    pub fn coinbase_height(&self) -> Result<u32, BlockError> {
        self.coinbase()
            .coinbase_height()
            .ok_or(BlockError::CoinbaseHeightMissing)
    }

    /// The header's Merkle root commits to exactly these transactions, without mutation.
    ///
    /// # Consensus
    /// fluxd `src/main.cpp` (`CheckBlock`: `bad-txnmrklroot`, `bad-txns-duplicate`),
    /// `src/primitives/block.cpp:19-80`; spec §4.1.
    pub fn check_merkle_root(&self) -> Result<(), BlockError> {
        let (computed, mutated) =
            merkle::merkle_root(&self.txids()).expect("a parsed block has transactions");
        if computed != self.header.merkle_root {
            return Err(BlockError::BadMerkleRoot {
                computed,
                found: self.header.merkle_root,
            });
        }
        if mutated {
            return Err(BlockError::MutatedMerkleTree);
        }
        Ok(())
    }

    /// Above height 20 the coinbase `scriptSig` starts with `CScript() << nHeight`: the minimal
    /// script-number push of the height (BIP34).
    ///
    /// # Consensus
    /// fluxd `src/main.cpp:5647-5660` (`ContextualCheckBlock`, `bad-cb-height`),
    /// `src/script/script.h:304-330, 364-377` (`CScriptNum::serialize`, `push_int64`).
    pub fn check_coinbase_height(&self, height: Height) -> Result<(), BlockError> {
        if height.0 <= 20 {
            return Ok(());
        }
        let script_sig = self.coinbase().inputs.first().map(|i| &i.script_sig[..]);
        let expected = height_push(height.0);
        if script_sig.is_some_and(|s| s.starts_with(&expected)) {
            Ok(())
        } else {
            Err(BlockError::CoinbaseHeightMismatch { height })
        }
    }

    /// The fees the block's transactions pay, when they can be known without their inputs:
    /// zero when every transaction but the coinbase is a FluxNode transaction (they move no
    /// value), else unknown.
    pub fn fees_without_inputs(&self) -> Option<Amount> {
        self.transactions[1..]
            .iter()
            .all(|t| t.kind != TxKind::Standard)
            .then_some(Amount::ZERO)
    }

    /// Exactly one coinbase, first.
    ///
    /// # Consensus
    /// fluxd `src/main.cpp` (`CheckBlock`: `bad-cb-missing`, `bad-cb-multiple`).
    pub fn check_coinbase_position(&self) -> Result<(), BlockError> {
        if !self.coinbase().is_coinbase() {
            return Err(BlockError::FirstTxNotCoinbase);
        }
        match self
            .transactions
            .iter()
            .skip(1)
            .position(|t| t.is_coinbase())
        {
            Some(i) => Err(BlockError::MultipleCoinbase { index: i + 1 }),
            None => Ok(()),
        }
    }
}

/// `CScript() << n` for n > 16: a push of the minimal little-endian script number (a 0x00 byte
/// added when the top bit is set).
///
/// # Consensus
/// fluxd `src/script/script.h:304-330` (`CScriptNum::serialize`), `:364-377` (`push_int64`).
pub fn height_push(n: u32) -> Vec<u8> {
    let mut num: Vec<u8> = n.to_le_bytes().to_vec();
    while num.last() == Some(&0) {
        num.pop();
    }
    if num.last().is_some_and(|b| b & 0x80 != 0) {
        num.push(0);
    }
    let mut out = vec![num.len() as u8];
    out.extend_from_slice(&num);
    out
}

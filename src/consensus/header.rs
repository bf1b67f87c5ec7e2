//! Block headers: the PoW layout (nonce + Equihash solution) and the PoN layout (collateral
//! outpoint + signature), parsed from and serialized to bytes, and the block hash of each.
//!
//! Dispatch is on `nVersion` in one place ([`HeaderKind::from_version`]): below 100 PoW, 100 and
//! above PoN, as fluxd parses them.

use sha2::{Digest, Sha256};

use super::encode::{DecodeError, Reader, write_compact_size};
use super::hash::{BlockHash, MerkleRoot, SaplingRoot, TxId};
use super::target::CompactTarget;

/// `MIN_BLOCK_VERSION`.
///
/// # Consensus
/// fluxd `src/consensus/consensus.h:11`; spec §4.1.
pub const MIN_BLOCK_VERSION: i32 = 4;
/// `CBlockHeader::PON_VERSION`.
///
/// # Consensus
/// fluxd `src/primitives/block.h:43-78`; spec §4.2.
pub const PON_VERSION: i32 = 100;
/// Length of the fields shared by both layouts (`nVersion` … `nBits`).
pub const COMMON_PREFIX_LEN: usize = 108;
/// Length of the Equihash input (`CEquihashInput` ‖ nonce), `HEADER_SIZE`.
pub const EQUIHASH_INPUT_LEN: usize = 140;
/// Length of the part of a PoN header that is hashed.
pub const PON_HASHED_LEN: usize = 144;

/// A transaction output reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutPoint {
    /// The transaction.
    pub txid: TxId,
    /// The output index.
    pub index: u32,
}

/// How a header proves itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// Equihash proof of work.
    Work {
        /// The 32-byte nonce, internal order.
        nonce: [u8; 32],
        /// The minimal-encoded solution, without its CompactSize prefix.
        solution: Vec<u8>,
    },
    /// Proof of Node.
    Node {
        /// The producing node's collateral.
        collateral: OutPoint,
        /// `vchBlockSig`: DER signature (or, for emergency blocks, a serialized vector of them).
        /// Not part of the block hash.
        signature: Vec<u8>,
    },
}

/// The header layout a version selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// `nVersion` < 100.
    ProofOfWork,
    /// `nVersion` ≥ 100.
    ProofOfNode,
}

impl HeaderKind {
    /// The layout for `version`: every `nVersion` ≥ 100 is read in the PoN layout, with no
    /// upper bound (fluxd at 2dfb5046 knows no other; the PoN-VRF layout of an open pull
    /// request is not consensus).
    ///
    /// # Consensus
    /// fluxd `src/primitives/block.h:53-77` (`SerializationOp`: `nVersion >= PON_VERSION`),
    /// `:98-99` (`IsPON`).
    pub fn from_version(version: i32) -> HeaderKind {
        if version < PON_VERSION {
            HeaderKind::ProofOfWork
        } else {
            HeaderKind::ProofOfNode
        }
    }
}

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `nVersion`.
    pub version: i32,
    /// `hashPrevBlock`.
    pub prev_hash: BlockHash,
    /// `hashMerkleRoot`.
    pub merkle_root: MerkleRoot,
    /// `hashFinalSaplingRoot` (reserved before Acadia).
    pub sapling_root: SaplingRoot,
    /// `nTime`.
    pub time: u32,
    /// `nBits`.
    pub bits: CompactTarget,
    /// Nonce and solution, or collateral and signature.
    pub proof: Proof,
}

impl Header {
    /// Reads one header from `r`, leaving the reader after it.
    ///
    /// # Consensus
    /// fluxd `src/primitives/block.h:24-78` (`CBlockHeader::SerializationOp`); spec §4.1–§4.3.
    pub fn decode(r: &mut Reader<'_>) -> Result<Header, DecodeError> {
        let version = r.read_i32_le()?;
        let kind = HeaderKind::from_version(version);
        let prev_hash = BlockHash::from_internal_bytes(r.read_array()?);
        let merkle_root = MerkleRoot::from_internal_bytes(r.read_array()?);
        let sapling_root = SaplingRoot::from_internal_bytes(r.read_array()?);
        let time = r.read_u32_le()?;
        let bits = CompactTarget::from_consensus(r.read_u32_le()?);
        let proof = match kind {
            HeaderKind::ProofOfWork => Proof::Work {
                nonce: r.read_array()?,
                solution: r.read_var_bytes()?.to_vec(),
            },
            HeaderKind::ProofOfNode => Proof::Node {
                collateral: OutPoint {
                    txid: TxId::from_internal_bytes(r.read_array()?),
                    index: r.read_u32_le()?,
                },
                signature: r.read_var_bytes()?.to_vec(),
            },
        };
        Ok(Header {
            version,
            prev_hash,
            merkle_root,
            sapling_root,
            time,
            bits,
            proof,
        })
    }

    /// Parses exactly one header: trailing bytes are an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Header, DecodeError> {
        let mut r = Reader::new(bytes);
        let h = Header::decode(&mut r)?;
        r.finish("header")?;
        Ok(h)
    }

    /// The layout of this header.
    pub fn kind(&self) -> HeaderKind {
        match self.proof {
            Proof::Work { .. } => HeaderKind::ProofOfWork,
            Proof::Node { .. } => HeaderKind::ProofOfNode,
        }
    }

    /// Whether this is a PoN header.
    pub fn is_pon(&self) -> bool {
        self.kind() == HeaderKind::ProofOfNode
    }

    /// The 108 bytes `nVersion` … `nBits`.
    pub fn common_prefix(&self) -> [u8; COMMON_PREFIX_LEN] {
        let mut out = [0u8; COMMON_PREFIX_LEN];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(self.prev_hash.as_internal_bytes());
        out[36..68].copy_from_slice(self.merkle_root.as_internal_bytes());
        out[68..100].copy_from_slice(self.sapling_root.as_internal_bytes());
        out[100..104].copy_from_slice(&self.time.to_le_bytes());
        out[104..108].copy_from_slice(&self.bits.to_consensus().to_le_bytes());
        out
    }

    /// The 140-byte Equihash input (header bytes 0..140) of a PoW header.
    ///
    /// # Consensus
    /// fluxd `src/primitives/block.h:179-199` (`CEquihashInput`); spec §4.1, §5.4.
    pub fn equihash_input(&self) -> Option<[u8; EQUIHASH_INPUT_LEN]> {
        match &self.proof {
            Proof::Work { nonce, .. } => Some(equihash_input(&self.common_prefix(), nonce)),
            Proof::Node { .. } => None,
        }
    }

    /// The 144 hashed bytes of a PoN header.
    pub fn pon_hashed_bytes(&self) -> Option<[u8; PON_HASHED_LEN]> {
        match &self.proof {
            Proof::Node { collateral, .. } => {
                let mut out = [0u8; PON_HASHED_LEN];
                out[..COMMON_PREFIX_LEN].copy_from_slice(&self.common_prefix());
                out[108..140].copy_from_slice(collateral.txid.as_internal_bytes());
                out[140..144].copy_from_slice(&collateral.index.to_le_bytes());
                Some(out)
            }
            Proof::Work { .. } => None,
        }
    }

    /// Appends the wire serialization.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.common_prefix());
        match &self.proof {
            Proof::Work { nonce, solution } => {
                out.extend_from_slice(nonce);
                write_compact_size(out, solution.len() as u64);
                out.extend_from_slice(solution);
            }
            Proof::Node {
                collateral,
                signature,
            } => {
                out.extend_from_slice(collateral.txid.as_internal_bytes());
                out.extend_from_slice(&collateral.index.to_le_bytes());
                write_compact_size(out, signature.len() as u64);
                out.extend_from_slice(signature);
            }
        }
    }

    /// The wire serialization.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.encode(&mut out);
        out
    }

    /// The block hash: SHA256d of the whole PoW serialization (solution included), or of the
    /// first 144 bytes of a PoN header (the signature is not hashed).
    ///
    /// # Consensus
    /// fluxd `src/primitives/block.cpp:14-17` (`GetHash`), `src/primitives/block.h:68-72`
    /// (`SER_GETHASH` skips `vchBlockSig`); spec §4.1, §4.2.
    pub fn block_hash(&self) -> BlockHash {
        match &self.proof {
            Proof::Work { nonce, solution } => {
                pow_block_hash(&equihash_input(&self.common_prefix(), nonce), solution)
            }
            Proof::Node { .. } => {
                let first = Sha256::digest(self.pon_hashed_bytes().expect("pon header"));
                BlockHash::from_internal_bytes(Sha256::digest(first).into())
            }
        }
    }
}

/// The 140-byte Equihash input: the 108-byte common prefix ‖ the 32-byte nonce. Miners and pools
/// build it from a job's prefix; [`Header::equihash_input`] from a parsed header.
///
/// # Consensus
/// fluxd `src/primitives/block.h:179-199` (`CEquihashInput` ‖ `nNonce`); spec §4.1, §5.4.
pub fn equihash_input(
    prefix: &[u8; COMMON_PREFIX_LEN],
    nonce: &[u8; 32],
) -> [u8; EQUIHASH_INPUT_LEN] {
    let mut out = [0u8; EQUIHASH_INPUT_LEN];
    out[..COMMON_PREFIX_LEN].copy_from_slice(prefix);
    out[COMMON_PREFIX_LEN..].copy_from_slice(nonce);
    out
}

/// The hash of a PoW header given its Equihash input and minimal solution:
/// SHA256d(input ‖ CompactSize(len) ‖ solution). Pools compare it with the share target.
///
/// # Consensus
/// fluxd `src/primitives/block.cpp:14-17` (`GetHash`); spec §4.1, `spec/stratum.md` §5.
pub fn pow_block_hash(input: &[u8; EQUIHASH_INPUT_LEN], solution: &[u8]) -> BlockHash {
    let mut len = Vec::with_capacity(3);
    write_compact_size(&mut len, solution.len() as u64);
    let mut h = Sha256::new();
    h.update(input);
    h.update(&len);
    h.update(solution);
    BlockHash::from_internal_bytes(Sha256::digest(h.finalize()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_dispatch() {
        assert_eq!(HeaderKind::from_version(4), HeaderKind::ProofOfWork);
        assert_eq!(HeaderKind::from_version(99), HeaderKind::ProofOfWork);
        assert_eq!(HeaderKind::from_version(-1), HeaderKind::ProofOfWork);
        for v in [100, 101, 102, i32::MAX] {
            assert_eq!(HeaderKind::from_version(v), HeaderKind::ProofOfNode);
        }
    }
}

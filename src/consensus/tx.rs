//! Transactions as Flux serializes them: the transparent parts of the Zcash v1–v4 formats (the
//! shielded parts are skipped by size), and FluxNode start/confirm transactions (v5, v6), whose
//! txid leaves out their signatures. Enough to find every transaction's txid in a block and to
//! read the coinbase.

use super::encode::{DecodeError, Reader};
use super::hash::{TxId, sha256d};
use super::header::OutPoint;
use super::units::Amount;

/// Overwinter (v3) version group id.
///
/// # Consensus
/// fluxd `src/primitives/transaction.h` (`OVERWINTER_VERSION_GROUP_ID`).
pub const OVERWINTER_VERSION_GROUP_ID: u32 = 0x03C4_8270;
/// Sapling (v4) version group id.
///
/// # Consensus
/// fluxd `src/primitives/transaction.h` (`SAPLING_VERSION_GROUP_ID`).
pub const SAPLING_VERSION_GROUP_ID: u32 = 0x892F_2085;
/// FluxNode transaction version.
pub const FLUXNODE_TX_VERSION: u32 = 5;
/// Upgradeable FluxNode transaction version (P2SH nodes, delegates).
pub const FLUXNODE_TX_UPGRADEABLE_VERSION: u32 = 6;
const FLUXNODE_START: u8 = 1 << 1;
const FLUXNODE_CONFIRM: u8 = 1 << 2;
const FLUX_TX_NORMAL_BIT: i32 = 0x01;
const FLUX_TX_P2SH_BIT: i32 = 0x02;
const FLUX_TX_DELEGATES_BIT: i32 = 0x0100;

/// Serialized sizes of the shielded descriptions (fixed-size records).
const SPEND_DESCRIPTION_SIZE: usize = 32 * 4 + 192 + 64;
const OUTPUT_DESCRIPTION_SIZE: usize = 32 * 3 + 580 + 80 + 192;
const JOINSPLIT_BASE_SIZE: usize = 8 + 8 + 32 + 64 + 64 + 32 + 32 + 64 + 2 * 601;
const PHGR_PROOF_SIZE: usize = 296;
const GROTH_PROOF_SIZE: usize = 192;

/// A transparent input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIn {
    /// The output spent (null for a coinbase).
    pub prevout: OutPoint,
    /// `scriptSig`.
    pub script_sig: Vec<u8>,
    /// `nSequence`.
    pub sequence: u32,
}

/// A transparent output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOut {
    /// Its value.
    pub value: Amount,
    /// `scriptPubKey`.
    pub script_pubkey: Vec<u8>,
}

/// What kind of transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    /// A Zcash-format transaction (v1–v4).
    Standard,
    /// FluxNode start.
    FluxnodeStart,
    /// FluxNode confirm.
    FluxnodeConfirm,
}

/// A parsed transaction (transparent parts only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The 31-bit version.
    pub version: u32,
    /// `fOverwintered`.
    pub overwintered: bool,
    /// `nVersionGroupId` (0 when not overwintered).
    pub version_group_id: u32,
    /// Standard or FluxNode.
    pub kind: TxKind,
    /// Transparent inputs.
    pub inputs: Vec<TxIn>,
    /// Transparent outputs.
    pub outputs: Vec<TxOut>,
    /// `nLockTime`.
    pub lock_time: u32,
    /// `nExpiryHeight` (v3/v4).
    pub expiry_height: u32,
    /// Net value leaving the Sapling pool (v4).
    pub value_balance: Amount,
    /// The txid.
    pub txid: TxId,
}

fn read_outpoint(r: &mut Reader<'_>) -> Result<OutPoint, DecodeError> {
    Ok(OutPoint {
        txid: TxId::from_internal_bytes(r.read_array()?),
        index: r.read_u32_le()?,
    })
}

impl Transaction {
    /// Reads one transaction.
    ///
    /// # Consensus
    /// fluxd `src/primitives/transaction.h` (`CTransaction::SerializationOp`), ZIP 202/225
    /// formats; FluxNode v5/v6 layout with signatures excluded under `SER_GETHASH`.
    pub fn decode(r: &mut Reader<'_>) -> Result<Transaction, DecodeError> {
        let start = r.position();
        let header = r.read_u32_le()?;
        let overwintered = header >> 31 == 1;
        let version = header & 0x7fff_ffff;
        let version_group_id = if overwintered { r.read_u32_le()? } else { 0 };
        let v3 = overwintered && version_group_id == OVERWINTER_VERSION_GROUP_ID && version == 3;
        let v4 = overwintered && version_group_id == SAPLING_VERSION_GROUP_ID && version == 4;
        if overwintered && !(v3 || v4) {
            return Err(DecodeError::UnknownTransactionFormat {
                version,
                group_id: version_group_id,
            });
        }
        let mut tx = Transaction {
            version,
            overwintered,
            version_group_id,
            kind: TxKind::Standard,
            inputs: Vec::new(),
            outputs: Vec::new(),
            lock_time: 0,
            expiry_height: 0,
            value_balance: Amount::ZERO,
            txid: TxId::ZERO,
        };
        if version == FLUXNODE_TX_VERSION || version == FLUXNODE_TX_UPGRADEABLE_VERSION {
            let excluded = tx.decode_fluxnode(r)?;
            tx.txid = hash_without(r.slice(start, r.position()), start, &excluded);
            return Ok(tx);
        }
        tx.decode_transparent(r)?;
        if v3 || v4 {
            tx.expiry_height = r.read_u32_le()?;
        }
        let mut shielded = 0;
        if v4 {
            tx.value_balance = Amount::from_zat(r.read_i64_le()?);
            shielded += skip_records(r, SPEND_DESCRIPTION_SIZE)?;
            shielded += skip_records(r, OUTPUT_DESCRIPTION_SIZE)?;
        }
        if version >= 2 {
            let proof = if v4 {
                GROTH_PROOF_SIZE
            } else {
                PHGR_PROOF_SIZE
            };
            if skip_records(r, JOINSPLIT_BASE_SIZE + proof)? > 0 {
                r.skip(32 + 64)?;
            }
        }
        if v4 && shielded > 0 {
            r.skip(64)?;
        }
        tx.txid = TxId::from_internal_bytes(sha256d(r.slice(start, r.position())));
        Ok(tx)
    }

    fn decode_transparent(&mut self, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        let n_in = r.read_length(41)?;
        for _ in 0..n_in {
            self.inputs.push(TxIn {
                prevout: read_outpoint(r)?,
                script_sig: r.read_var_bytes()?.to_vec(),
                sequence: r.read_u32_le()?,
            });
        }
        let n_out = r.read_length(9)?;
        for _ in 0..n_out {
            self.outputs.push(TxOut {
                value: Amount::from_zat(r.read_i64_le()?),
                script_pubkey: r.read_var_bytes()?.to_vec(),
            });
        }
        self.lock_time = r.read_u32_le()?;
        Ok(())
    }

    /// Reads a FluxNode body; returns the byte ranges (signatures) left out of the txid.
    fn decode_fluxnode(&mut self, r: &mut Reader<'_>) -> Result<Vec<(usize, usize)>, DecodeError> {
        let tx_type = r.read_u8()?;
        let mut excluded = Vec::new();
        let mut skip_sig = |r: &mut Reader<'_>| -> Result<(), DecodeError> {
            let s = r.position();
            r.read_var_bytes()?;
            excluded.push((s, r.position()));
            Ok(())
        };
        match (self.version, tx_type) {
            (_, FLUXNODE_CONFIRM) => {
                self.kind = TxKind::FluxnodeConfirm;
                read_outpoint(r)?;
                r.skip(4 + 1 + 4 + 1)?; // sigTime, benchmarkTier, benchmarkSigTime, nUpdateType
                r.read_var_bytes()?; // ip
                skip_sig(r)?;
                skip_sig(r)?;
            }
            (FLUXNODE_TX_VERSION, FLUXNODE_START) => {
                self.kind = TxKind::FluxnodeStart;
                read_outpoint(r)?;
                r.read_var_bytes()?; // collateral pubkey
                r.read_var_bytes()?; // operator pubkey
                r.skip(4)?; // sigTime
                skip_sig(r)?;
            }
            (FLUXNODE_TX_UPGRADEABLE_VERSION, FLUXNODE_START) => {
                self.kind = TxKind::FluxnodeStart;
                let flux_version = r.read_i32_le()?;
                let normal = flux_version == 1 || flux_version & FLUX_TX_NORMAL_BIT != 0;
                let p2sh = flux_version == 2 || flux_version & FLUX_TX_P2SH_BIT != 0;
                if normal && flux_version & FLUX_TX_P2SH_BIT == 0 {
                    read_outpoint(r)?;
                    r.read_var_bytes()?;
                    r.read_var_bytes()?;
                    r.skip(4)?;
                    skip_sig(r)?;
                } else if p2sh {
                    read_outpoint(r)?;
                    r.read_var_bytes()?; // operator pubkey
                    r.read_var_bytes()?; // redeem script
                    r.skip(4)?;
                    skip_sig(r)?;
                }
                if flux_version & FLUX_TX_DELEGATES_BIT != 0 && r.read_u8()? != 0 {
                    let delegate_version = r.read_u8()?;
                    let delegate_type = r.read_u8()?;
                    if delegate_version == 1 && delegate_type == 1 {
                        let n = r.read_length(1)?;
                        for _ in 0..n {
                            r.read_var_bytes()?;
                        }
                    }
                }
            }
            (version, tx_type) => {
                return Err(DecodeError::UnknownFluxnodeType { version, tx_type });
            }
        }
        Ok(excluded)
    }

    /// Parses exactly one transaction.
    pub fn from_bytes(bytes: &[u8]) -> Result<Transaction, DecodeError> {
        let mut r = Reader::new(bytes);
        let tx = Transaction::decode(&mut r)?;
        r.finish("transaction")?;
        Ok(tx)
    }

    /// A coinbase has one input spending the null outpoint.
    ///
    /// # Consensus
    /// fluxd `src/primitives/transaction.h` (`IsCoinBase`).
    pub fn is_coinbase(&self) -> bool {
        self.inputs.len() == 1
            && self.inputs[0].prevout.txid == TxId::ZERO
            && self.inputs[0].prevout.index == u32::MAX
    }

    /// The sum of the transparent outputs, `None` on overflow or outside the money range.
    pub fn total_output_value(&self) -> Option<Amount> {
        self.outputs.iter().try_fold(Amount::ZERO, |acc, o| {
            acc.checked_add(o.value).filter(|v| v.is_in_money_range())
        })
    }

    /// The height a coinbase `scriptSig` starts with (BIP34 style: `OP_0`, `OP_1`…`OP_16`, or a
    /// minimal little-endian push of up to 5 bytes).
    ///
    /// # Consensus
    /// fluxd `src/main.cpp:5650-5660` (coinbase must start with the height for H > 20); spec §7.
    pub fn coinbase_height(&self) -> Option<u32> {
        let script = &self.inputs.first()?.script_sig;
        match *script.first()? {
            0x00 => Some(0),
            op @ 0x51..=0x60 => Some(u32::from(op - 0x50)),
            n @ 1..=5 => {
                let bytes = script.get(1..1 + n as usize)?;
                let mut v: u64 = 0;
                for (i, b) in bytes.iter().enumerate() {
                    v |= u64::from(*b) << (8 * i);
                }
                let sign = 1u64 << (8 * n as u64 - 1);
                u32::try_from(v & !sign).ok()
            }
            _ => None,
        }
    }
}

fn skip_records(r: &mut Reader<'_>, size: usize) -> Result<usize, DecodeError> {
    let n = r.read_length(size)?;
    r.skip(n * size)?;
    Ok(n)
}

/// SHA256d of `bytes` (which start at absolute offset `base`) without the absolute ranges in
/// `excluded`.
fn hash_without(bytes: &[u8], base: usize, excluded: &[(usize, usize)]) -> TxId {
    let mut kept = Vec::with_capacity(bytes.len());
    let mut at = base;
    for &(s, e) in excluded {
        kept.extend_from_slice(&bytes[at - base..s - base]);
        at = e;
    }
    kept.extend_from_slice(&bytes[at - base..]);
    TxId::from_internal_bytes(sha256d(&kept))
}

//! Proof of Node: slots, the eligibility hash and its target test, node signatures (the node's
//! public key comes from outside: the FluxNode set is not a header-chain concept), and emergency
//! blocks signed by a fixed key set.

use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{Signature, VerifyingKey};

use super::encode::Reader;
use super::error::HeaderError;
use super::hash::{BlockHash, PonHash, sha256d};
use super::header::{Header, OutPoint, Proof};
use super::params::NetworkParams;
use super::target::Target;
use super::units::Height;

/// `MAX_BLOCK_SIG_SIZE`.
///
/// # Consensus
/// fluxd `src/consensus/consensus.h:27-29`; spec §4.2.
pub const MAX_BLOCK_SIG_SIZE: usize = 73;
/// The signature-size limit of emergency blocks.
///
/// # Consensus
/// fluxd `src/consensus/consensus.h:27-29`; spec §4.2.
pub const MAX_EMERGENCY_SIG_SIZE: usize = 512;

/// The PoN slot of a timestamp: (nTime − genesis time) / spacing, as `uint32`.
///
/// # Consensus
/// fluxd `src/pon/pon.cpp:88-93` (`GetSlotNumber`); spec §9.1.
pub fn slot_number(params: &NetworkParams, time: u32) -> u32 {
    ((i64::from(time) - i64::from(params.genesis_time)) / params.pon_target_spacing) as u32
}

/// The eligibility hash: SHA256d(collateral txid ‖ LE32(n) ‖ prev hash ‖ LE32(slot)).
///
/// # Consensus
/// fluxd `src/pon/pon.cpp:70-86` (`GetPONHash`); spec §9.1.
pub fn pon_hash(collateral: &OutPoint, prev_hash: &BlockHash, slot: u32) -> PonHash {
    let mut pre = [0u8; 72];
    pre[..32].copy_from_slice(collateral.txid.as_internal_bytes());
    pre[32..36].copy_from_slice(&collateral.index.to_le_bytes());
    pre[36..68].copy_from_slice(prev_hash.as_internal_bytes());
    pre[68..].copy_from_slice(&slot.to_le_bytes());
    PonHash::from_internal_bytes(sha256d(&pre))
}

/// Whether a header is an emergency block: PoN, collateral (emergency hash, 0).
///
/// # Consensus
/// fluxd `src/emergencyblock.cpp` (`IsEmergencyBlock`); spec §9.5.
pub fn is_emergency_block(params: &NetworkParams, header: &Header) -> bool {
    match &header.proof {
        Proof::Node { collateral, .. } => {
            collateral.txid == params.emergency.collateral_hash && collateral.index == 0
        }
        Proof::Work { .. } => false,
    }
}

/// The easiest PoN target at `height`: `ponStartLimit` for the first `pon_window` PoN blocks,
/// `ponLimit` after; without a height, the larger.
///
/// # Consensus
/// fluxd `src/pon/pon.cpp:26-60` (`CheckProofOfNode`, `max_allowed`); spec §9.2.
pub fn pon_target_limit(params: &NetworkParams, height: Option<Height>) -> Target {
    let start = params.upgrades.pon.fluxd_height();
    match height {
        Some(h) if i64::from(h.0) < start + params.pon_window => params.pon_start_limit,
        Some(_) => params.pon_limit,
        None => params.pon_limit.max(params.pon_start_limit),
    }
}

/// The signature-size check (`bad-pon-sig-size`).
///
/// # Consensus
/// fluxd `src/main.cpp:5330-5344`, `src/consensus/consensus.h:27-29`; spec §9.3.
pub fn check_signature_size(params: &NetworkParams, header: &Header) -> Result<(), HeaderError> {
    let Proof::Node { signature, .. } = &header.proof else {
        return Ok(());
    };
    let max = if is_emergency_block(params, header) {
        MAX_EMERGENCY_SIG_SIZE
    } else {
        MAX_BLOCK_SIG_SIZE
    };
    if signature.len() > max {
        return Err(HeaderError::PonSignatureTooLarge {
            len: signature.len(),
            max,
        });
    }
    Ok(())
}

/// Parses a secp256k1 public key as `secp256k1_ec_pubkey_parse` does: compressed (02/03, 33
/// bytes), uncompressed (04) or hybrid (06/07, 65 bytes, whose prefix must give y's parity).
///
/// # Consensus
/// fluxd `src/pubkey.cpp:19-38` (`CPubKey::Verify` → `secp256k1_ec_pubkey_parse`),
/// `src/pubkey.h` (`GetLen`: 06 and 07 are 65 bytes).
pub fn parse_public_key(bytes: &[u8]) -> Option<VerifyingKey> {
    match bytes {
        [prefix @ (0x06 | 0x07), rest @ ..] if rest.len() == 64 => {
            let odd = rest[63] & 1 == 1;
            if odd != (*prefix == 0x07) {
                return None;
            }
            let mut uncompressed = [0u8; 65];
            uncompressed[0] = 0x04;
            uncompressed[1..].copy_from_slice(rest);
            VerifyingKey::from_sec1_bytes(&uncompressed).ok()
        }
        _ => VerifyingKey::from_sec1_bytes(bytes).ok(),
    }
}

/// Verifies one strict-DER secp256k1 signature over the 32-byte block hash (internal order),
/// accepting high-S signatures by normalising them, as fluxd's `CPubKey::Verify` does.
///
/// # Consensus
/// fluxd `src/pon/pon.cpp:223-327` (`ContextualCheckPONBlockHeader`), `src/pubkey.cpp:19-38`;
/// spec §9.4.
pub fn verify_block_signature(
    hash: &BlockHash,
    der_signature: &[u8],
    public_key: &[u8],
) -> Result<(), HeaderError> {
    let key = parse_public_key(public_key).ok_or(HeaderError::BadNodePublicKey)?;
    let sig = Signature::from_der(der_signature).map_err(|_| HeaderError::PonSignatureNotDer)?;
    let sig = sig.normalize_s().unwrap_or(sig);
    key.verify_prehash(hash.as_internal_bytes(), &sig)
        .map_err(|_| HeaderError::PonSignatureInvalid)
}

/// How many elements fluxd's vector decoder allocates at a time for a vector of byte vectors:
/// `5000000 / sizeof(std::vector<unsigned char>)` (24 bytes on 64-bit builds).
///
/// # Consensus
/// fluxd `src/serialize.h:747-765` (`Unserialize_impl`, non-byte elements).
const MULTISIG_BATCH: usize = 5_000_000 / 24;
/// How many bytes fluxd's decoder allocates at a time for a byte vector.
///
/// # Consensus
/// fluxd `src/serialize.h:731-745` (`Unserialize_impl`, byte elements).
const BYTES_BATCH: usize = 5_000_000;

/// An emergency block's `vchBlockSig` as fluxd's `DecodeMultiSig` leaves it.
///
/// fluxd resizes the vector to the announced count (in batches) before reading the elements
/// and keeps whatever it holds when the encoding ends early: the signatures read so far, the
/// element it was reading (empty if its length did not decode, else zero-filled to that
/// length) and empty elements up to the count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multisig<'a> {
    /// The vector's length: the announced count, or the batch it stopped in.
    pub count: usize,
    /// The elements read in full.
    pub signatures: Vec<&'a [u8]>,
    /// The length of the element being read when the encoding ended, if it did.
    pub truncated_len: Option<usize>,
}

/// Decodes an emergency block's `vchBlockSig` (a serialized vector of byte vectors) exactly as
/// fluxd does, including its truncated encodings.
///
/// # Consensus
/// fluxd `src/emergencyblock.cpp` (`DecodeMultiSig`: the exception is caught and the vector
/// kept), `src/serialize.h:289-318` (`ReadCompactSize`), `:731-765` (`Unserialize_impl`),
/// `src/streams.h:277-300` (a short read copies nothing).
pub fn decode_multisig(bytes: &[u8]) -> Multisig<'_> {
    let mut r = Reader::new(bytes);
    let empty = Multisig {
        count: 0,
        signatures: Vec::new(),
        truncated_len: None,
    };
    let Ok(n) = r.read_compact_size() else {
        return empty;
    };
    let n = n as usize;
    let mut signatures = Vec::new();
    while signatures.len() < n {
        let Ok(len) = r.read_compact_size() else {
            return truncated(n, signatures, 0);
        };
        let len = len as usize;
        match r.read_bytes(len) {
            Ok(sig) => signatures.push(sig),
            Err(_) => return truncated(n, signatures, len.min(BYTES_BATCH)),
        }
    }
    Multisig {
        count: n,
        signatures,
        truncated_len: None,
    }
}

fn truncated(n: usize, signatures: Vec<&[u8]>, len: usize) -> Multisig<'_> {
    let batches = signatures.len() / MULTISIG_BATCH + 1;
    Multisig {
        count: n.min(batches * MULTISIG_BATCH),
        signatures,
        truncated_len: Some(len),
    }
}

/// Checks an emergency block's signatures as fluxd does: at most one signature per emergency
/// key, at least `min_signatures`, then (unless the network skips it) signatures in order, each
/// at most 73 bytes, each counted once for the first unused emergency key it verifies against,
/// until `min_signatures` are valid.
///
/// # Consensus
/// fluxd `src/emergencyblock.cpp` (`ValidateEmergencyBlockSignatures`), `src/pubkey.cpp:19-38`;
/// spec §9.5.
pub fn verify_emergency_signatures(
    params: &NetworkParams,
    header: &Header,
) -> Result<(), HeaderError> {
    let Proof::Node { signature, .. } = &header.proof else {
        return Ok(());
    };
    let multisig = decode_multisig(signature);
    let required = params.emergency.min_signatures;
    let max = params.emergency.public_keys.len();
    if multisig.count > max {
        return Err(HeaderError::EmergencyTooManySignatures {
            count: multisig.count,
            max,
        });
    }
    let too_few = |valid| HeaderError::EmergencyTooFewSignatures { valid, required };
    if multisig.count < required {
        return Err(too_few(0));
    }
    if params.emergency.skip_signature_check {
        return Ok(());
    }
    let hash = header.block_hash();
    let keys: Vec<Vec<u8>> = params
        .emergency
        .public_keys
        .iter()
        .map(|k| hex::decode(k).unwrap_or_default())
        .collect();
    let mut used = vec![false; keys.len()];
    let mut valid = 0;
    // The element being read when the encoding ended is zero-filled: never a valid signature,
    // but too large if its length says so. Elements after it are empty.
    let unread = multisig.truncated_len.map(|len| (len, &[][..]));
    let entries = multisig
        .signatures
        .iter()
        .map(|s| (s.len(), *s))
        .chain(unread);
    for (len, sig) in entries {
        if len > MAX_BLOCK_SIG_SIZE {
            return Err(HeaderError::EmergencySignatureTooLarge {
                len,
                max: MAX_BLOCK_SIG_SIZE,
            });
        }
        let hit = (0..keys.len())
            .find(|&i| !used[i] && verify_block_signature(&hash, sig, &keys[i]).is_ok());
        if let Some(i) = hit {
            used[i] = true;
            valid += 1;
        }
        if valid >= required {
            return Ok(());
        }
    }
    Err(too_few(valid))
}

/// Checks a PoN block's signature. Emergency blocks are checked against the emergency keys; the
/// testnet/regtest test collateral skips the check; otherwise `node_public_key` (the operator key
/// from the node's start transaction, supplied by the caller) must have signed the block hash.
///
/// # Consensus
/// fluxd `src/pon/pon.cpp:223-327`, `:256-266` (test-node bypass), `src/emergencyblock.cpp`;
/// spec §9.4–§9.6.
pub fn check_pon_signature(
    params: &NetworkParams,
    header: &Header,
    node_public_key: &[u8],
) -> Result<(), HeaderError> {
    let Proof::Node {
        collateral,
        signature,
    } = &header.proof
    else {
        return Ok(());
    };
    if is_emergency_block(params, header) {
        return verify_emergency_signatures(params, header);
    }
    if params.test_node_collateral == Some(collateral.txid) && collateral.index == 0 {
        return Ok(());
    }
    verify_block_signature(&header.block_hash(), signature, node_public_key)
}

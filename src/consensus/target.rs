//! Compact targets (`nBits`), 256-bit targets and chain work.
//!
//! 256-bit arithmetic uses `ruint`'s `U256`: fixed-size, no allocation, and its wrapping
//! operations are named (`wrapping_mul`, `wrapping_add`), which is what the ZelHash-ramp quirk
//! (§6.6) needs to emulate fluxd's `arith_uint256` bit-exactly. It is well kept and widely used
//! (alloy, reth); hand-writing 256-bit division was not worth the risk.

use std::fmt;

use ruint::aliases::U256;
use thiserror::Error;

/// The 256-bit unsigned integer used for targets and work.
pub type Uint256 = U256;

/// Why an `nBits` value does not decode to a usable target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CompactError {
    /// The sign bit is set on a non-zero mantissa.
    #[error("negative")]
    Negative,
    /// The value does not fit in 256 bits.
    #[error("overflowing")]
    Overflow,
    /// The value is zero.
    #[error("zero")]
    Zero,
}

/// What `SetCompact` produces: the value and its two flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactDecoding {
    /// The decoded value (meaningless when `overflow`).
    pub value: U256,
    /// The sign bit was set on a non-zero mantissa.
    pub negative: bool,
    /// The value does not fit in 256 bits.
    pub overflow: bool,
}

/// A compact target, the `nBits` header field.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CompactTarget(u32);

impl CompactTarget {
    /// From the consensus `u32` (the value `nBits` holds).
    pub const fn from_consensus(bits: u32) -> Self {
        CompactTarget(bits)
    }

    /// The consensus `u32`.
    pub const fn to_consensus(self) -> u32 {
        self.0
    }

    /// Decodes like `arith_uint256::SetCompact`, returning the flags.
    ///
    /// # Consensus
    /// fluxd `src/arith_uint256.cpp` (`SetCompact`); spec §3.
    pub fn decode(self) -> CompactDecoding {
        let size = self.0 >> 24;
        let word = self.0 & 0x007f_ffff;
        let value = if size <= 3 {
            U256::from(word >> (8 * (3 - size)))
        } else {
            let shift = 8 * (size as usize - 3);
            if shift >= 256 {
                U256::ZERO
            } else {
                U256::from(word) << shift
            }
        };
        CompactDecoding {
            value,
            negative: word != 0 && (self.0 & 0x0080_0000) != 0,
            overflow: word != 0
                && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)),
        }
    }

    /// Decodes to a target, rejecting negative, overflowing and zero values.
    ///
    /// # Consensus
    /// fluxd `src/pow.cpp:258-280` (`CheckProofOfWork` range check), `src/pon/pon.cpp:26-60`.
    pub fn to_target(self) -> Result<Target, CompactError> {
        let d = self.decode();
        if d.negative {
            Err(CompactError::Negative)
        } else if d.overflow {
            Err(CompactError::Overflow)
        } else if d.value.is_zero() {
            Err(CompactError::Zero)
        } else {
            Ok(Target(d.value))
        }
    }

    /// The decoded value whatever the flags say (for networks that skip the target checks).
    pub fn decode_lossy_target(self) -> Target {
        Target(self.decode().value)
    }

    /// Encodes a non-negative value like `arith_uint256::GetCompact`.
    ///
    /// # Consensus
    /// fluxd `src/arith_uint256.cpp` (`GetCompact`); spec §3.
    pub fn from_uint(v: U256) -> Self {
        let mut size = v.bit_len().div_ceil(8) as u32;
        let mut compact: u32 = if size <= 3 {
            (v.as_limbs()[0] << (8 * (3 - size))) as u32
        } else {
            (v >> (8 * (size as usize - 3))).as_limbs()[0] as u32
        };
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        CompactTarget(compact | (size << 24))
    }
}

impl fmt::Debug for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompactTarget({:08x})", self.0)
    }
}

impl fmt::Display for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// A 256-bit target: a hash read as a little-endian number must be ≤ it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Target(U256);

impl Target {
    /// From a 256-bit value.
    pub const fn from_uint(v: U256) -> Self {
        Target(v)
    }

    /// From a display-hex literal (big-endian digits), at compile time.
    pub const fn from_display_hex_const(s: &str) -> Self {
        let le = super::hash::internal_from_display_hex_const(s);
        Target(U256::from_le_bytes(le))
    }

    /// The 256-bit value.
    pub const fn to_uint(self) -> U256 {
        self.0
    }

    /// The compact encoding (lossy: keeps the top 23 bits of mantissa).
    pub fn to_compact_lossy(self) -> CompactTarget {
        CompactTarget::from_uint(self.0)
    }

    /// Whether a 32-byte hash in internal byte order, read as a little-endian number, is ≤ this
    /// target.
    ///
    /// # Consensus
    /// fluxd `src/pow.cpp:258-280` (`UintToArith256(hash) > bnTarget` fails); spec §0, §5.9.
    pub fn is_met_by_internal_bytes(self, hash: &[u8; 32]) -> bool {
        U256::from_le_bytes(*hash) <= self.0
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({self})")
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:064x}", self.0)
    }
}

/// Chain work: the expected number of hashes behind a block or a chain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Work(U256);

impl Work {
    /// No work.
    pub const ZERO: Work = Work(U256::ZERO);

    /// From a 256-bit value.
    pub const fn from_uint(v: U256) -> Self {
        Work(v)
    }

    /// The 256-bit value.
    pub const fn to_uint(self) -> U256 {
        self.0
    }

    /// The work of one PoW block: 2^256 / (target + 1), or 0 when `bits` does not decode.
    ///
    /// # Consensus
    /// fluxd `src/pow.cpp:282-304` (`GetBlockProof`); spec §8.1.
    pub fn from_pow_bits(bits: CompactTarget) -> Self {
        match bits.to_target() {
            Ok(t) => {
                let t = t.to_uint();
                Work((!t / (t + U256::from(1u8))) + U256::from(1u8))
            }
            Err(_) => Work::ZERO,
        }
    }

    /// The work of one PoN block: a constant 2^40.
    ///
    /// # Consensus
    /// fluxd `src/pow.cpp:282-304` (`GetBlockProof`, PoN branch); spec §8.1.
    pub fn pon_block() -> Self {
        Work(U256::from(1u64 << 40))
    }

    /// Sum, saturating at 2^256 − 1 (unreachable on any real chain).
    pub fn saturating_add(self, other: Work) -> Work {
        Work(self.0.saturating_add(other.0))
    }
}

impl fmt::Debug for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Work({self})")
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_round_trips_the_mainnet_limits() {
        for bits in [
            0x1f07ffff_u32,
            0x200fffff,
            0x1f0bffff,
            0x1d4228ce,
            0x1d00ffff,
        ] {
            let t = CompactTarget::from_consensus(bits).to_target().unwrap();
            assert_eq!(t.to_compact_lossy().to_consensus(), bits);
        }
        let pow_limit = Target::from_display_hex_const(
            "0007ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        );
        assert_eq!(pow_limit.to_compact_lossy().to_consensus(), 0x1f07ffff);
    }

    #[test]
    fn compact_flags_follow_set_compact() {
        // Bitcoin Core arith_uint256 tests.
        assert!(CompactTarget::from_consensus(0x04923456).decode().negative);
        assert!(CompactTarget::from_consensus(0xff123456).decode().overflow);
        assert_eq!(
            CompactTarget::from_consensus(0x01003456).to_target(),
            Err(CompactError::Zero)
        );
        assert_eq!(
            CompactTarget::from_consensus(0x05009234).decode().value,
            U256::from(0x92340000u64)
        );
        assert_eq!(
            CompactTarget::from_uint(U256::from(0x80u64)).to_consensus(),
            0x02008000
        );
    }

    #[test]
    fn pon_work_is_two_to_the_forty() {
        assert_eq!(
            Work::pon_block().to_uint(),
            U256::from(1_099_511_627_776u64)
        );
    }

    #[test]
    fn pow_work_is_two_to_the_256_over_target_plus_one() {
        // target 0x7fffff·2^232 ≈ 2^255 → floor(2^256 / (t+1)) = 2
        let easy = CompactTarget::from_consensus(0x207fffff);
        assert_eq!(Work::from_pow_bits(easy).to_uint(), U256::from(2u8));
        // target 1 → 2^255
        let hard = CompactTarget::from_consensus(0x03000001);
        assert_eq!(Work::from_pow_bits(hard).to_uint(), U256::from(1u8) << 255);
        assert_eq!(
            Work::from_pow_bits(CompactTarget::from_consensus(0)),
            Work::ZERO
        );
    }
}

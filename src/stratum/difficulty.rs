//! Share targets and the two difficulty scales (`spec/stratum.md` §4.3–4.4, §9).
//!
//! Pool scale: difficulty 1 is `powLimit` = `0007ffff…ff` (2^243 − 1); ccminer/yiimp scale:
//! difficulty 1 is `00ffff00…00`, so `D_cc ≈ 32 · D_pool` for the same target.

use ruint::aliases::{U256, U512};
use thiserror::Error;

use crate::consensus::Target;

/// `powLimit`, pool difficulty 1: `0007ffff…ff`.
///
/// # Consensus
/// fluxd `src/chainparams.cpp` (`consensus.powLimit` for mainnet); ZIP 301 §"Targets".
pub const POW_LIMIT: Target = crate::consensus::params::MAINNET_POW_LIMIT;

/// ccminer/yiimp "stratum difficulty" 1: `00ffff00…00` (tpruvot ccminer `equi/equi-stratum.cpp`).
pub const CCMINER_DIFF1: Target = Target::from_display_hex_const(
    "00ffff0000000000000000000000000000000000000000000000000000000000",
);

/// Pool difficulty 1/4096 (one share per two solutions on average): a target easier than this is
/// still used (s-nomp serves any port difficulty, and a test pool may want every solution), but
/// the miner warns that it will submit nearly every solution.
pub fn very_easy_target() -> Target {
    Target::from_uint(POW_LIMIT.to_uint() << 12)
}

/// Whether `t` is easier than [`very_easy_target`].
pub fn is_very_easy(t: Target) -> bool {
    t > very_easy_target()
}

/// Which difficulty-1 target `mining.set_difficulty` is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DifficultyScale {
    /// ZIP 301 / s-nomp / miningcore: difficulty 1 = `powLimit`.
    #[default]
    Pool,
    /// ccminer / yiimp: difficulty 1 = `00ffff00…00`.
    Ccminer,
}

impl DifficultyScale {
    /// The difficulty-1 target of the scale.
    pub fn diff1(self) -> Target {
        match self {
            DifficultyScale::Pool => POW_LIMIT,
            DifficultyScale::Ccminer => CCMINER_DIFF1,
        }
    }
}

/// Why a target or difficulty from a pool cannot be used.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The difficulty is zero, negative, NaN or infinite.
    #[error("difficulty {0} is not a positive finite number")]
    NotPositive(f64),
    /// The target is zero: no share could ever meet it.
    #[error("target is zero (difficulty too high): no share can meet it")]
    Zero,
    /// The target is not 64 hex digits.
    #[error("target is not 64 hex digits: {0:?}")]
    BadHex(String),
}

/// Checks that a target is usable: any non-zero target is (however easy: see
/// [`is_very_easy`]).
///
/// # Errors
/// [`TargetError::Zero`].
pub fn check_target(t: Target) -> Result<Target, TargetError> {
    if t.to_uint().is_zero() {
        Err(TargetError::Zero)
    } else {
        Ok(t)
    }
}

/// Parses a `set_target` value: 64 hex digits of a big-endian 256-bit number (either case).
///
/// # Errors
/// [`TargetError::BadHex`] for anything else; then [`check_target`].
pub fn target_from_be_hex(s: &str) -> Result<Target, TargetError> {
    let mut be = [0u8; 32];
    if s.len() != 64 || hex::decode_to_slice(s, &mut be).is_err() {
        return Err(TargetError::BadHex(s.chars().take(80).collect()));
    }
    check_target(Target::from_uint(U256::from_be_bytes(be)))
}

/// A target as the 64 lowercase hex digits `set_target` carries (big-endian).
pub fn target_to_be_hex(t: Target) -> String {
    hex::encode(t.to_uint().to_be_bytes::<32>())
}

/// The target for difficulty `d` on `scale`: ⌊diff1 / d⌋, computed exactly for the binary value
/// of `d`, saturating at 2^256 − 1.
///
/// # Errors
/// [`TargetError::NotPositive`], then [`check_target`].
pub fn target_from_difficulty(d: f64, scale: DifficultyScale) -> Result<Target, TargetError> {
    if !(d.is_finite() && d > 0.0) {
        return Err(TargetError::NotPositive(d));
    }
    let (mantissa, exp) = decompose(d);
    let diff1 = U512::from(scale.diff1().to_uint());
    let m = U512::from(mantissa);
    let q = if exp >= 0 {
        if exp >= 256 {
            U512::ZERO
        } else {
            diff1 / (m << exp as usize)
        }
    } else if -exp >= 256 {
        U512::MAX
    } else {
        (diff1 << (-exp) as usize) / m
    };
    let t = if q > U512::from(U256::MAX) {
        U256::MAX
    } else {
        U256::from(q)
    };
    check_target(Target::from_uint(t))
}

/// `d = mantissa · 2^exp` exactly, for a positive finite `d`.
fn decompose(d: f64) -> (u64, i32) {
    let bits = d.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    }
}

/// A 256-bit value as a float (nearest enough for display and statistics).
pub fn u256_to_f64(v: U256) -> f64 {
    v.as_limbs().iter().rev().fold(0.0, |acc, &limb| {
        acc * 18_446_744_073_709_551_616.0 + limb as f64
    })
}

/// Pool-scale difficulty `d` on `scale`: the same number on the pool scale, `d ·
/// diff1(ccminer) / powLimit` (≈ 32·d) on the ccminer scale.
pub fn difficulty_in_scale(d: f64, scale: DifficultyScale) -> f64 {
    match scale {
        DifficultyScale::Pool => d,
        DifficultyScale::Ccminer => {
            d * u256_to_f64(CCMINER_DIFF1.to_uint()) / u256_to_f64(POW_LIMIT.to_uint())
        }
    }
}

/// The pool-scale difficulty of a target, `powLimit / target`.
pub fn difficulty_of_target(t: Target) -> f64 {
    u256_to_f64(POW_LIMIT.to_uint()) / u256_to_f64(t.to_uint()).max(1.0)
}

/// The pool-scale difficulty a share hash achieves, `powLimit / h`, with `h` the hash in
/// internal byte order read as a little-endian number.
pub fn difficulty_of_hash_internal(hash: &[u8; 32]) -> f64 {
    difficulty_of_target(Target::from_uint(U256::from_le_bytes(*hash)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficulty_one_is_pow_limit() {
        assert_eq!(
            target_from_difficulty(1.0, DifficultyScale::Pool).unwrap(),
            POW_LIMIT
        );
        let t = target_from_difficulty(2.0, DifficultyScale::Pool).unwrap();
        assert_eq!(t.to_uint(), POW_LIMIT.to_uint() >> 1);
        assert!((difficulty_of_target(t) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn fractional_and_ccminer_scale() {
        let t = target_from_difficulty(0.05, DifficultyScale::Pool).unwrap();
        assert!((difficulty_of_target(t) - 0.05).abs() < 1e-12);
        // yiimp: "0007fff8… is stratum diff 32".
        let t = target_from_difficulty(32.0, DifficultyScale::Ccminer).unwrap();
        assert_eq!(&target_to_be_hex(t)[..8], "0007fff8");
    }

    #[test]
    fn rejects_unusable() {
        for d in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                target_from_difficulty(d, DifficultyScale::Pool),
                Err(TargetError::NotPositive(_))
            ));
        }
        assert_eq!(
            target_from_difficulty(1e300, DifficultyScale::Pool),
            Err(TargetError::Zero)
        );
        // Interop fault 6: any non-zero target is usable, however easy (flagged, not refused).
        let easy = target_from_difficulty(1e-6, DifficultyScale::Pool).unwrap();
        assert!(is_very_easy(easy));
        assert_eq!(target_from_be_hex(&"0".repeat(64)), Err(TargetError::Zero));
        let ff = target_from_be_hex(&"f".repeat(64)).unwrap();
        assert!(is_very_easy(ff));
        assert!(!is_very_easy(POW_LIMIT));
        assert!(matches!(
            target_from_be_hex("0007zz"),
            Err(TargetError::BadHex(_))
        ));
        let magicpool = "0007878787878787878787878787878787878787878787878787878787878786";
        let t = target_from_be_hex(&magicpool.to_uppercase()).unwrap();
        assert_eq!(target_to_be_hex(t), magicpool);
        assert!((difficulty_of_target(t) - 1.0625).abs() < 1e-9);
    }
}

//! The `nBits` a block must carry: Digishield v3, LWMA, LWMA3, the reset after the 144,5 switch,
//! the ZelHash ramp (with its 32-bit truncation and 2^256 wrap), the testnet minimum-difficulty
//! rule, and the PoN retarget. 256-bit arithmetic wraps like fluxd's `arith_uint256`.

use ruint::aliases::U256;

use super::chain::{ChainView, median_time_past};
use super::error::HeaderError;
use super::params::NetworkParams;
use super::target::CompactTarget;
use super::units::Height;

/// The ramp covers parents `eh_epoch_2_end ..= eh_epoch_2_end + RAMP_LAST_OFFSET`.
///
/// # Consensus
/// fluxd `src/pow.cpp:37-56`; spec §6.1 step 4, §6.6.
const RAMP_LAST_OFFSET: u32 = 63;
/// The ramp multiplier is `(eh_epoch_2_end + RAMP_BASE_OFFSET) − h'`.
///
/// # Consensus
/// fluxd `src/pow.cpp:37-56`; spec §6.6.
const RAMP_BASE_OFFSET: u64 = 61;

fn compact(v: U256) -> CompactTarget {
    CompactTarget::from_uint(v)
}

fn pow_limit_bits(params: &NetworkParams) -> CompactTarget {
    params.pow_limit.to_compact_lossy()
}

fn target_of(chain: &(impl ChainView + ?Sized), h: u32) -> Result<U256, HeaderError> {
    Ok(chain.require(Height(h))?.bits.decode().value)
}

fn time_of(chain: &(impl ChainView + ?Sized), h: u32) -> Result<i64, HeaderError> {
    Ok(i64::from(chain.require(Height(h))?.time))
}

/// The `nBits` required for the block at `height` whose `nTime` is `new_time`, given the chain
/// up to its parent.
///
/// # Consensus
/// fluxd `src/pon/pon-fork.cpp:22-42` (`GetNextWorkRequiredByFork`), `src/pow.cpp:21-97`
/// (`GetNextWorkRequired`); spec §6.1.
pub fn next_work_required(
    params: &NetworkParams,
    height: Height,
    new_time: u32,
    chain: &(impl ChainView + ?Sized),
) -> Result<CompactTarget, HeaderError> {
    if params.is_pon_active(height) {
        return next_pon_work_required(params, height, chain);
    }
    let Some(parent) = height.prev() else {
        return Ok(pow_limit_bits(params));
    };
    let p = parent.0;
    if let Some(e1) = params.eh_epoch_1_end()
        && p >= e1.0
        && p < e1.0 + params.eh144_reset_length
    {
        return Ok(pow_limit_bits(params));
    }
    if let Some(e2) = params.eh_epoch_2_end()
        && p >= e2.0
        && p <= e2.0 + RAMP_LAST_OFFSET
    {
        return zelhash_ramp(params, parent, e2, chain);
    }
    if let Some(after) = params.min_difficulty_after
        && parent >= after
    {
        let parent_time = time_of(chain, p)?;
        if i64::from(new_time) > parent_time + 2 * params.pow_target_spacing {
            return Ok(pow_limit_bits(params));
        }
    }
    if i64::from(p) < params.digishield_window {
        return Ok(pow_limit_bits(params));
    }
    if !params.is_lwma_active(height) {
        digishield(params, parent, chain)
    } else if params.upgrades.acadia.is_none_or(|a| height < a) {
        lwma(params, parent, chain)
    } else {
        lwma3(params, parent, chain)
    }
}

/// Digishield v3 with Flux's spacing: average target over 17 blocks, MTP timespan damped by 4
/// and clamped, divide first then multiply.
///
/// # Consensus
/// fluxd `src/pow.cpp:99-131` (`DigishieldCalculateNextWorkRequired`); spec §6.2.
pub fn digishield(
    params: &NetworkParams,
    parent: Height,
    chain: &(impl ChainView + ?Sized),
) -> Result<CompactTarget, HeaderError> {
    let window = params.digishield_window;
    let p = parent.0;
    let mut total = U256::ZERO;
    for h in (p + 1 - window as u32)..=p {
        total = total.wrapping_add(target_of(chain, h)?);
    }
    let avg = total / U256::from(window as u64);
    let last = median_time_past(chain, parent)?;
    let first = median_time_past(chain, Height(p - window as u32))?;
    Ok(digishield_from_average(params, avg, last, first))
}

/// The Digishield step from an average target and the two median times past (exposed for the
/// fluxd `pow_tests` vectors, which give exactly these inputs).
///
/// # Consensus
/// fluxd `src/pow.cpp:99-131`; spec §6.2.
pub fn digishield_from_average(
    params: &NetworkParams,
    avg: U256,
    last_mtp: i64,
    first_mtp: i64,
) -> CompactTarget {
    let timespan = params.digishield_window * params.pow_target_spacing;
    let min = timespan * (100 - params.digishield_max_adjust_up) / 100;
    let max = timespan * (100 + params.digishield_max_adjust_down) / 100;
    let mut actual = last_mtp - first_mtp;
    actual = timespan + (actual - timespan) / 4;
    actual = actual.clamp(min, max);
    let new = (avg / U256::from(timespan as u64)).wrapping_mul(U256::from(actual as u64));
    compact(new.min(params.pow_limit.to_uint()))
}

fn lwma_k(params: &NetworkParams) -> i64 {
    let n = params.lwma_window;
    n * (n + 1) * params.pow_target_spacing / 2
}

/// Zawy LWMA-1: linearly weighted solve times (clamped to [−FTL, 6T]) times the sum of
/// per-block targets divided by k·N; t floored at k/10.
///
/// # Consensus
/// fluxd `src/pow.cpp:133-173` (`LWMACalculateNextWorkRequired`); spec §6.3.
pub fn lwma(
    params: &NetworkParams,
    parent: Height,
    chain: &(impl ChainView + ?Sized),
) -> Result<CompactTarget, HeaderError> {
    let n = params.lwma_window;
    let p = i64::from(parent.0);
    if p <= n {
        // fluxd asserts h' > N; no Flux network reaches LWMA that early.
        return Ok(pow_limit_bits(params));
    }
    let k = lwma_k(params);
    let divisor = U256::from((k * n) as u64);
    let (mut t, mut sum) = (0i64, U256::ZERO);
    for j in 1..=n {
        let i = (p - n + j) as u32;
        let st = (time_of(chain, i)? - time_of(chain, i - 1)?)
            .clamp(-params.lwma_ftl, 6 * params.pow_target_spacing);
        t += st * j;
        sum = sum.wrapping_add(target_of(chain, i)? / divisor);
    }
    t = t.max(k / 10);
    let next = U256::from(t as u64).wrapping_mul(sum);
    Ok(compact(next.min(params.pow_limit.to_uint())))
}

/// LWMA3: solve times from timestamps forced strictly increasing, capped at 6T, no floor on t;
/// the result is kept within [67 %, 150 %] of the parent's target.
///
/// # Consensus
/// fluxd `src/pow.cpp:175-218` (`Lwma3CalculateNextWorkRequired`); spec §6.4.
pub fn lwma3(
    params: &NetworkParams,
    parent: Height,
    chain: &(impl ChainView + ?Sized),
) -> Result<CompactTarget, HeaderError> {
    Ok(compact(lwma3_target(params, parent, chain)?))
}

fn lwma3_target(
    params: &NetworkParams,
    parent: Height,
    chain: &(impl ChainView + ?Sized),
) -> Result<U256, HeaderError> {
    let n = params.lwma_window;
    let p = i64::from(parent.0);
    if p < n {
        return Ok(params.pow_limit.to_uint());
    }
    let k = lwma_k(params);
    let divisor = U256::from((k * n) as u64);
    let mut prev_ts = time_of(chain, (p - n) as u32)?;
    let (mut t, mut sum) = (0i64, U256::ZERO);
    for j in 1..=n {
        let i = (p - n + j) as u32;
        let time = time_of(chain, i)?;
        let ts = if time > prev_ts { time } else { prev_ts + 1 };
        let st = (ts - prev_ts).min(6 * params.pow_target_spacing);
        prev_ts = ts;
        t += st * j;
        sum = sum.wrapping_add(target_of(chain, i)? / divisor);
    }
    let mut next = U256::from(t as u64).wrapping_mul(sum);
    let prev = target_of(chain, parent.0)?;
    let hi = prev.wrapping_mul(U256::from(150u8)) / U256::from(100u8);
    let lo = prev.wrapping_mul(U256::from(67u8)) / U256::from(100u8);
    if next > hi {
        next = hi;
    }
    if lo > next {
        next = lo;
    }
    Ok(next.min(params.pow_limit.to_uint()))
}

/// The ZelHash ramp: the LWMA3 target, compact-rounded, plus m·(T >> 5) with
/// m = (eh_epoch_2_end + 61) − h' computed in u64, truncated to u32, and the multiply and add
/// wrapping mod 2^256; then capped at `powLimit`.
///
/// # Consensus
/// fluxd `src/pow.cpp:37-56`, `src/arith_uint256.h:154-171`, `src/arith_uint256.cpp:57-66`;
/// spec §6.6.
pub fn zelhash_ramp(
    params: &NetworkParams,
    parent: Height,
    eh_epoch_2_end: Height,
    chain: &(impl ChainView + ?Sized),
) -> Result<CompactTarget, HeaderError> {
    let base = lwma3(params, parent, chain)?.decode().value;
    let m = (u64::from(eh_epoch_2_end.0) + RAMP_BASE_OFFSET).wrapping_sub(u64::from(parent.0));
    let step = (base >> 5usize).wrapping_mul(U256::from(m as u32));
    let x = base.wrapping_add(step);
    Ok(compact(x.min(params.pow_limit.to_uint())))
}

/// The PoN retarget: `ponStartLimit` for the first W PoN blocks; then the parent's target scaled
/// by the clamped time over the last W blocks (plain `nTime`, divide first), capped at
/// `ponLimit`.
///
/// # Consensus
/// fluxd `src/pon/pon.cpp:95-195` (`GetNextPONWorkRequired`); spec §6.8.
pub fn next_pon_work_required(
    params: &NetworkParams,
    height: Height,
    chain: &(impl ChainView + ?Sized),
) -> Result<CompactTarget, HeaderError> {
    let start = params.upgrades.pon.fluxd_height();
    let w = params.pon_window;
    let start_bits = params.pon_start_limit.to_compact_lossy();
    let h = i64::from(height.0);
    if h < start + w {
        return Ok(start_bits);
    }
    let parent = height.0 - 1;
    let first = i64::from(parent) - (w - 1);
    if first < start {
        return Ok(start_bits);
    }
    let mut actual = time_of(chain, parent)? - time_of(chain, first as u32)?;
    let span = (w - 1) * params.pon_target_spacing;
    actual = actual.max(span * 4 / 5).min(span * 5 / 4);
    let limit = params.pon_limit.to_uint();
    let parent_bits = chain.require(Height(parent))?.bits;
    let Ok(old) = parent_bits.to_target() else {
        return Ok(compact(limit));
    };
    let mut new = (old.to_uint() / U256::from(span as u64)).wrapping_mul(U256::from(actual as u64));
    if new > limit || new.is_zero() {
        new = limit;
    }
    Ok(compact(new))
}

/// Checks a header's `nBits` against the required value.
///
/// # Consensus
/// fluxd `src/main.cpp:5524-5560` (`bad-diffbits`, `bad-pon-diffbits`); spec §6.1, §6.8.
pub fn check_difficulty(
    params: &NetworkParams,
    bits: CompactTarget,
    is_pon: bool,
    height: Height,
    new_time: u32,
    chain: &(impl ChainView + ?Sized),
) -> Result<(), HeaderError> {
    if is_pon
        && params
            .pon_bits_check_skipped
            .is_some_and(|(lo, hi)| height >= lo && height <= hi)
    {
        return Ok(());
    }
    let expected = next_work_required(params, height, new_time, chain)?;
    if bits == expected {
        return Ok(());
    }
    Err(if is_pon {
        HeaderError::BadPonDiffBits {
            expected,
            found: bits,
        }
    } else {
        HeaderError::BadDiffBits {
            expected,
            found: bits,
        }
    })
}

//! Contextual header checks (given previous headers and the node's clock), each its own function,
//! and [`validate_header`], which runs every header rule for one height through
//! [`super::rules`] and returns the new [`ChainEntry`].

use super::chain::{ChainEntry, ChainView, Clock, median_time_past};
use super::error::HeaderError;
use super::hash::BlockHash;
use super::header::Header;
use super::params::NetworkParams;
use super::rules::{self, Context};
use super::target::Work;
use super::units::Height;

/// The header's layout matches the era: PoN from the PoN height on, PoW before.
///
/// # Consensus
/// fluxd `src/main.cpp:5516-5545, 5593-5598` (`not-pon-block`, `bad-version`,
/// `premature-pon-block`); spec §9.3.
pub fn check_era(
    params: &NetworkParams,
    header: &Header,
    height: Height,
) -> Result<(), HeaderError> {
    match (params.is_pon_active(height), header.is_pon()) {
        (true, false) => Err(HeaderError::NotPonBlock { height }),
        (false, true) => Err(HeaderError::PrematurePonBlock { height }),
        _ => Ok(()),
    }
}

/// `hashPrevBlock` names the parent.
pub fn check_prev_hash(header: &Header, parent: &ChainEntry) -> Result<(), HeaderError> {
    if header.prev_hash != parent.hash {
        return Err(HeaderError::PrevHashMismatch {
            expected: parent.hash,
            found: header.prev_hash,
        });
    }
    Ok(())
}

/// PoW: `nTime` > MTP(parent). PoN: `nTime` > parent's `nTime`.
///
/// # Consensus
/// fluxd `src/main.cpp:5470-5601` (`ContextualCheckBlockHeader`, `time-too-old`); spec §7.
pub fn check_time_past(
    header: &Header,
    parent: &ChainEntry,
    chain: &(impl ChainView + ?Sized),
) -> Result<(), HeaderError> {
    if header.is_pon() {
        if header.time <= parent.time {
            return Err(HeaderError::PonTimeNotIncreasing {
                time: header.time,
                parent_time: parent.time,
            });
        }
        return Ok(());
    }
    let mtp = median_time_past(chain, parent.height)?;
    if i64::from(header.time) <= mtp {
        return Err(HeaderError::TimeTooOld {
            time: header.time,
            median_time_past: mtp,
        });
    }
    Ok(())
}

/// `nTime` ≤ adjusted time + limit: +2 h while the node's tip is below the LWMA height (PoW and
/// PoN alike), else +300 s for PoN and +360 s for PoW.
///
/// # Consensus
/// fluxd `src/main.cpp:5356-5376` (`CheckBlockHeader`, `time-too-new`: the tip test comes before
/// the PoN branch); spec §7.
pub fn check_time_future(
    params: &NetworkParams,
    header: &Header,
    clock: &Clock,
) -> Result<(), HeaderError> {
    let limit = if !params.is_lwma_active(clock.tip_height) {
        params.max_future_time_early
    } else if header.is_pon() {
        params.max_future_time_pon
    } else {
        params.max_future_time
    };
    if i64::from(header.time) > clock.adjusted_time + limit {
        return Err(HeaderError::TimeTooNew {
            time: header.time,
            now: clock.adjusted_time,
            limit,
        });
    }
    Ok(())
}

/// At a checkpoint height the hash must be the checkpoint's.
///
/// # Consensus
/// fluxd `src/chainparams.cpp:255-289`, `src/main.cpp:5574-5586`; spec §8.2.
pub fn check_checkpoint(
    params: &NetworkParams,
    height: Height,
    hash: &BlockHash,
) -> Result<(), HeaderError> {
    match params.checkpoint_at(height) {
        Some(cp) if cp.hash != *hash => Err(HeaderError::CheckpointMismatch {
            height,
            expected: cp.hash,
            found: *hash,
        }),
        _ => Ok(()),
    }
}

/// The work one header adds: 2^256/(target+1) for PoW, 2^40 for PoN.
///
/// # Consensus
/// fluxd `src/pow.cpp:282-304` (`GetBlockProof`); spec §8.1.
pub fn block_work(header: &Header) -> Work {
    if header.is_pon() {
        Work::pon_block()
    } else {
        Work::from_pow_bits(header.bits)
    }
}

/// Runs every header rule for `header` at `height` on the chain `chain` (which must hold the
/// parent and the retarget window) with the node's `clock`, in fluxd's order (see
/// [`super::rules`]), and returns the entry to append. Genesis (height 0) gets the context-free
/// rules and its checkpoint only.
///
/// The node signature of a PoN block is not checked here (fluxd does not at header stage
/// either; it needs the FluxNode set): see [`super::pon::check_pon_signature`]. An emergency
/// block's signatures are (fluxd checks them at header stage).
///
/// # Consensus
/// fluxd `src/main.cpp:5667-5700` (`AcceptBlockHeader`), `:5318-5377, 5470-5601`; spec §12.
pub fn validate_header(
    params: &NetworkParams,
    header: &Header,
    height: Height,
    chain: &dyn ChainView,
    clock: &Clock,
) -> Result<ChainEntry, HeaderError> {
    let checked = rules::check_header(params, header, Context::full(height, chain, clock))?;
    let parent_work = match height.prev() {
        Some(p) => chain.require(p)?.chain_work,
        None => Work::ZERO,
    };
    Ok(ChainEntry {
        height,
        hash: checked.hash,
        time: header.time,
        bits: header.bits,
        is_pon: header.is_pon(),
        chain_work: parent_work.saturating_add(block_work(header)),
    })
}

//! Context-free header checks: each rule is its own function returning its own
//! [`HeaderError`] variant; [`super::rules`] runs them in fluxd's order.
//!
//! "Context-free" means no previous headers are needed. The height, when known, is a parameter:
//! the era's target limit and the allowed Equihash sizes depend on it.

use crate::equihash;

use super::error::HeaderError;
use super::hash::BlockHash;
use super::header::{Header, MIN_BLOCK_VERSION, Proof};
use super::params::NetworkParams;
use super::pon;
use super::rules;
pub use super::rules::CheckedHeader;
use super::target::Target;
use super::units::Height;

/// `nVersion` ≥ 4.
///
/// # Consensus
/// fluxd `src/main.cpp:5318-5377` (`CheckBlockHeader`, `version-too-low`),
/// `src/consensus/consensus.h:11`; spec §5.9 step 1.
pub fn check_version(header: &Header) -> Result<(), HeaderError> {
    if header.version < MIN_BLOCK_VERSION {
        return Err(HeaderError::VersionTooLow {
            version: header.version,
            min: MIN_BLOCK_VERSION,
        });
    }
    Ok(())
}

/// `nBits` decodes (not negative, overflowing or zero) to a target within the era's limit:
/// `powLimit` for PoW, the PoN limit for the height for PoN. Returns the target.
///
/// # Consensus
/// fluxd `src/pow.cpp:258-280` (`CheckProofOfWork`), `src/pon/pon.cpp:26-60`
/// (`CheckProofOfNode`); spec §5.9, §9.2.
pub fn check_bits(
    params: &NetworkParams,
    header: &Header,
    height: Option<Height>,
) -> Result<Target, HeaderError> {
    let bits = header.bits;
    let target = bits
        .to_target()
        .map_err(|reason| HeaderError::BadBits { bits, reason })?;
    if header.is_pon() {
        let limit = pon::pon_target_limit(params, height);
        if target > limit {
            return Err(HeaderError::TargetAbovePonLimit { bits, limit });
        }
    } else if target > params.pow_limit {
        return Err(HeaderError::TargetAbovePowLimit {
            bits,
            limit: params.pow_limit,
        });
    }
    Ok(target)
}

/// The PoW block hash is ≤ the target.
///
/// # Consensus
/// fluxd `src/pow.cpp:258-280` (`high-hash`); spec §5.9.
pub fn check_pow_hash(hash: &BlockHash, target: Target) -> Result<(), HeaderError> {
    if !target.is_met_by_internal_bytes(hash.as_internal_bytes()) {
        return Err(HeaderError::HighHash {
            hash: *hash,
            target,
        });
    }
    Ok(())
}

/// The PoN eligibility hash is ≤ the target (skipped for emergency blocks).
///
/// # Consensus
/// fluxd `src/pon/pon.cpp:26-93` (`CheckProofOfNode`, `GetPONHash`), `src/main.cpp:5330-5344`;
/// spec §9.1–§9.3.
pub fn check_pon_hash(
    params: &NetworkParams,
    header: &Header,
    target: Target,
) -> Result<(), HeaderError> {
    let Proof::Node { collateral, .. } = &header.proof else {
        return Ok(());
    };
    if pon::is_emergency_block(params, header) {
        return Ok(());
    }
    let slot = pon::slot_number(params, header.time);
    let pon_hash = pon::pon_hash(collateral, &header.prev_hash, slot);
    if !target.is_met_by_internal_bytes(pon_hash.as_internal_bytes()) {
        return Err(HeaderError::PonHighHash { pon_hash, target });
    }
    Ok(())
}

/// The Equihash parameters the solution length selects, whatever the height.
///
/// # Consensus
/// fluxd `src/pow.cpp:220-256` (`CheckEquihashSolution`: any other size is `invalid-solution`).
pub fn check_solution_size_known(solution: &[u8]) -> Result<equihash::Params, HeaderError> {
    equihash::Params::from_solution_len(solution.len()).ok_or(HeaderError::UnknownSolutionSize {
        len: solution.len(),
    })
}

/// The Equihash parameters selected by the solution length, checked against the sets allowed
/// at `height` (if known; genesis and testnet's early heights accept any size).
///
/// # Consensus
/// fluxd `src/pow.cpp:220-256` (size → (n,k)), `src/main.cpp:5491-5512, 5548-5554`
/// (`bad-equihash-solution-size`), `src/chainparams.cpp:818-866`; spec §5.2.
pub fn check_solution_size(
    params: &NetworkParams,
    solution: &[u8],
    height: Option<Height>,
) -> Result<equihash::Params, HeaderError> {
    let eh = check_solution_size_known(solution)?;
    let Some(height) = height else {
        return Ok(eh);
    };
    let exempt = height == Height::GENESIS
        || params
            .any_solution_size_through
            .is_some_and(|h| height <= h);
    if !exempt && !params.equihash_params_at(height).contains(&eh) {
        return Err(HeaderError::SolutionSizeNotAllowed {
            n: eh.n(),
            k: eh.k(),
            height,
        });
    }
    Ok(eh)
}

/// The Equihash solution is valid for the header's 140-byte input. The only call into
/// [`crate::equihash`].
///
/// # Consensus
/// fluxd `src/pow.cpp:220-256` (`CheckEquihashSolution`, `invalid-solution`); spec §5.
pub fn equihash_solution_is_valid(
    eh: &equihash::Params,
    input: &[u8; 140],
    solution: &[u8],
) -> Result<(), HeaderError> {
    equihash::is_valid_solution(eh, input, solution).map_err(HeaderError::from)
}

/// Runs the rules that need no previous headers and no clock, in fluxd's order (see
/// [`super::rules`]), and stops at the first failure. With `height`, the rules that need only
/// the height run too (era, PoN limit at the height, allowed solution size, checkpoint).
///
/// # Consensus
/// fluxd `src/main.cpp:5318-5377` (`CheckBlockHeader`), `:5470-5601`
/// (`ContextualCheckBlockHeader`); spec §5.9, §9.3, §12.
pub fn check_header_context_free(
    params: &NetworkParams,
    header: &Header,
    height: Option<Height>,
) -> Result<CheckedHeader, HeaderError> {
    rules::check_header(params, header, rules::Context::at(height))
}

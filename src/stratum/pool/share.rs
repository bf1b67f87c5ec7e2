//! The byte-exact share check of `spec/stratum.md` §6 (s-nomp `processShare`, miningcore
//! `ProcessShare`, magicpool `SubmitWork`), in their order: job known → `TIME` size and window →
//! nonce size → solution size → hex → duplicate → Equihash (twist-aware) → hash ≤ share target →
//! block candidate; one [`Reject`] per rule.

use std::collections::HashSet;

use thiserror::Error;

use super::jobs::PoolJob;
use super::submit::Submit;
use crate::consensus::Target;
use crate::equihash;
use crate::equihash::Params;
use crate::stratum::difficulty::{difficulty_of_hash_internal, difficulty_of_target};
use crate::stratum::job::{NONCE_LEN, equihash_input, share_hash};
use crate::stratum::wire::ErrorCode;

/// s-nomp's allowance for a share's `TIME` ahead of the pool's clock (seconds).
pub const NTIME_AHEAD_S: u64 = 7200;

/// Why a share is rejected: one variant per rule, in check order.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Reject {
    /// Submit before `mining.subscribe` (25).
    #[error("not subscribed")]
    NotSubscribed,
    /// The worker is not authorized on this connection (24).
    #[error("unauthorized worker")]
    Unauthorized,
    /// The params are not five strings (20).
    #[error("malformed submit params")]
    BadParams,
    /// Unknown or expired `JOB_ID` (21).
    #[error("job not found")]
    JobNotFound,
    /// `TIME` is not 8 hex chars (20).
    #[error("incorrect size of ntime")]
    TimeSize,
    /// `TIME` is outside `curtime ..= now + 7200` (20).
    #[error("ntime out of range")]
    TimeOutOfRange,
    /// `NONCE_1 ‖ NONCE_2` is not 64 hex chars (20).
    #[error("incorrect size of nonce")]
    NonceSize,
    /// The solution hex is not `2·(CompactSize + solution)` chars (20).
    #[error("incorrect size of solution")]
    SolutionSize,
    /// A field is not hex, or the CompactSize prefix is wrong (20).
    #[error("malformed hex in {0}")]
    BadHex(&'static str),
    /// The same nonce and solution were already submitted for this job (22).
    #[error("duplicate share")]
    Duplicate,
    /// The Equihash solution is invalid (20).
    #[error("invalid solution: {0}")]
    InvalidSolution(equihash::Kind),
    /// The hash is above the share target (23).
    #[error("low difficulty share of {share_difficulty}")]
    LowDifficulty {
        /// What the share achieved (pool scale).
        share_difficulty: f64,
    },
}

impl Reject {
    /// The stratum error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Reject::NotSubscribed => ErrorCode::NotSubscribed,
            Reject::Unauthorized => ErrorCode::Unauthorized,
            Reject::JobNotFound => ErrorCode::JobNotFound,
            Reject::Duplicate => ErrorCode::Duplicate,
            Reject::LowDifficulty { .. } => ErrorCode::LowDifficulty,
            _ => ErrorCode::Other,
        }
    }
}

/// An accepted share.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The share target's pool-scale difficulty (what the share is credited with).
    pub difficulty: f64,
    /// The difficulty the hash achieved.
    pub share_difficulty: f64,
    /// Whether the hash also meets the network target.
    pub block_candidate: bool,
    /// The share hash in internal order.
    pub hash: [u8; 32],
}

/// The hex length of a submitted solution: CompactSize prefix plus the minimal solution.
fn solution_hex_len(params: &Params) -> usize {
    let mut prefix = Vec::new();
    crate::consensus::encode::write_compact_size(&mut prefix, params.solution_len() as u64);
    2 * (prefix.len() + params.solution_len())
}

/// Checks one share, byte for byte as `spec/stratum.md` §6.
///
/// `job` is the job the id names (None: unknown), `nonce1` the connection's `NONCE_1` for that
/// job, `target` the share target in force for it, `seen` the duplicate set of the job's template
/// (keyed by the whole 32-byte nonce and the solution, so a re-issued id or a new `NONCE_1` cannot
/// make one share count twice), `now_unix` the pool's clock.
///
/// # Errors
/// The first rule broken, as a [`Reject`].
pub fn check_share(
    job: Option<&PoolJob>,
    nonce1: &[u8],
    target: Target,
    submit: &Submit,
    seen: &mut HashSet<(String, String)>,
    now_unix: u64,
) -> Result<Accepted, Reject> {
    let job = job.ok_or(Reject::JobNotFound)?;
    if submit.time.len() != 8 {
        return Err(Reject::TimeSize);
    }
    let mut time = [0u8; 4];
    hex::decode_to_slice(&submit.time, &mut time).map_err(|_| Reject::BadHex("ntime"))?;
    let time = u64::from(u32::from_le_bytes(time));
    if time < u64::from(job.notify.time_u32()) || time > now_unix + NTIME_AHEAD_S {
        return Err(Reject::TimeOutOfRange);
    }
    if 2 * nonce1.len() + submit.nonce2.len() != 2 * NONCE_LEN {
        return Err(Reject::NonceSize);
    }
    if submit.solution.len() != solution_hex_len(&job.params) {
        return Err(Reject::SolutionSize);
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce[..nonce1.len()].copy_from_slice(nonce1);
    hex::decode_to_slice(&submit.nonce2, &mut nonce[nonce1.len()..])
        .map_err(|_| Reject::BadHex("nonce2"))?;
    let with_len = hex::decode(&submit.solution).map_err(|_| Reject::BadHex("solution"))?;
    let solution = &with_len[with_len.len() - job.params.solution_len()..];
    let mut expected_prefix = Vec::new();
    crate::consensus::encode::write_compact_size(&mut expected_prefix, solution.len() as u64);
    if with_len[..expected_prefix.len()] != expected_prefix[..] {
        return Err(Reject::BadHex("solution length prefix"));
    }
    if !seen.insert((hex::encode(nonce), submit.solution.to_ascii_lowercase())) {
        return Err(Reject::Duplicate);
    }
    let mut prefix = job.notify.header_prefix();
    prefix[100..104].copy_from_slice(&(time as u32).to_le_bytes());
    let input = equihash_input(&prefix, &nonce);
    equihash::is_valid_solution(&job.params, &input, solution)
        .map_err(|e| Reject::InvalidSolution(e.kind()))?;
    let hash = share_hash(&input, solution);
    let share_difficulty = difficulty_of_hash_internal(&hash);
    if !target.is_met_by_internal_bytes(&hash) {
        return Err(Reject::LowDifficulty { share_difficulty });
    }
    Ok(Accepted {
        difficulty: difficulty_of_target(target),
        share_difficulty,
        block_candidate: job.network_target.is_met_by_internal_bytes(&hash),
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stratum::difficulty::{DifficultyScale, target_from_difficulty};
    use crate::stratum::job::solution_with_length;
    use crate::stratum::templates;

    /// The ZelHash-size share check on block 400000 with its real nonce and both solutions.
    #[test]
    fn zelhash_share_checks_byte_for_byte() {
        let tpl = templates::recorded().remove(0);
        let job = PoolJob::from_header_prefix("1".into(), &tpl.prefix, Params::ZELHASH, true);
        let (nonce, sol) = &tpl.solutions[0];
        let (_, alt) = &tpl.solutions[1];
        let nonce1 = &nonce[..4];
        let sub = |nonce2: &[u8], sol: &[u8]| Submit {
            worker: "w".into(),
            job_id: "1".into(),
            time: hex::encode(job.notify.time),
            nonce2: hex::encode(nonce2),
            solution: hex::encode(solution_with_length(sol)),
        };
        let d1 = target_from_difficulty(1.0, DifficultyScale::Pool).unwrap();
        let now = 1_565_516_944 + 10;
        let mut seen = HashSet::new();
        let good = sub(&nonce[4..], sol);
        let ok = check_share(Some(&job), nonce1, d1, &good, &mut seen, now).unwrap();
        assert!(
            ok.block_candidate,
            "block 400000's own solution meets nBits"
        );
        assert!(
            (ok.share_difficulty - 9196.0).abs() < 1.0,
            "{}",
            ok.share_difficulty
        );
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &good, &mut seen, now),
            Err(Reject::Duplicate)
        );
        let r = check_share(
            Some(&job),
            nonce1,
            d1,
            &sub(&nonce[4..], alt),
            &mut seen,
            now,
        );
        assert!(
            matches!(r, Err(Reject::LowDifficulty { share_difficulty }) if share_difficulty < 0.001),
            "{r:?}"
        );
        assert_eq!(
            check_share(None, nonce1, d1, &good, &mut seen, now),
            Err(Reject::JobNotFound)
        );
        let mut s = good.clone();
        s.time = "90e44f5".into();
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::TimeSize)
        );
        s.time = "8fe44f5d".into();
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::TimeOutOfRange)
        );
        let mut s = good.clone();
        s.nonce2.push_str("00");
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::NonceSize)
        );
        let mut s = good.clone();
        s.solution.truncate(104);
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::SolutionSize)
        );
        let mut s = good.clone();
        s.nonce2.replace_range(0..2, "zz");
        assert_eq!(
            check_share(Some(&job), nonce1, d1, &s, &mut seen, now),
            Err(Reject::BadHex("nonce2"))
        );
        // One flipped solution bit: the verifier's rule is named.
        let mut bad = sol.clone();
        bad[10] ^= 1;
        let r = check_share(
            Some(&job),
            nonce1,
            d1,
            &sub(&nonce[4..], &bad),
            &mut HashSet::new(),
            now,
        );
        assert!(matches!(r, Err(Reject::InvalidSolution(_))), "{r:?}");
        // Without the twist the same share is invalid: the pool must verify ZelHash as ZelHash.
        let untwisted = PoolJob {
            params: Params::ZELHASH.with_twist(false).unwrap(),
            ..job.clone()
        };
        let r = check_share(
            Some(&untwisted),
            nonce1,
            d1,
            &good,
            &mut HashSet::new(),
            now,
        );
        assert!(matches!(r, Err(Reject::InvalidSolution(_))), "{r:?}");
    }
}

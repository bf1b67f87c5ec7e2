//! The one home of the header rules and their order. [`Rule::ORDER`] lists every header rule
//! in the order fluxd runs them; [`HeaderRules`] runs one header through them, given what the
//! caller knows ([`Context`]: the height, the previous headers, the node's clock), and either
//! stops at the first failure ([`HeaderRules::first_failure`], what validation uses) or reports
//! every rule ([`HeaderRules::report`], what the `header` and `block` commands print).
//!
//! A rule whose input the caller did not give (no height, no chain, no clock) is
//! [`Checked::Skipped`], never passed.
//!
//! # Consensus
//! fluxd `src/main.cpp:5667-5700` (`AcceptBlockHeader`): `CheckBlockHeader` (`:5318-5377`:
//! version, PoN signature size, Equihash then `CheckProofOfWork`, or `CheckProofOfNode` unless
//! emergency, then the future-time limit), the parent lookup, then `ContextualCheckBlockHeader`
//! (`:5470-5601`: PoN header at the height with the emergency multisig
//! (`src/pon/pon.cpp:197-327`), `bad-pon-diffbits`, or `not-pon-block` / `premature-pon-block`;
//! for PoW the solution size and `bad-diffbits`; `time-too-old`; checkpoints).

use super::chain::{ChainEntry, ChainView, Clock};
use super::check;
use super::difficulty;
use super::error::HeaderError;
use super::hash::BlockHash;
use super::header::{Header, Proof};
use super::params::NetworkParams;
use super::pon;
use super::target::Target;
use super::units::Height;
use super::validate;

/// One header rule. Names follow fluxd's reject reasons where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `nVersion` ≥ 4 (`version-too-low`).
    Version,
    /// PoN: `vchBlockSig` is at most 73 bytes, 512 for an emergency block (`bad-pon-sig-size`).
    SignatureSize,
    /// PoW: the solution is valid Equihash for the parameters its size selects
    /// (`invalid-solution`).
    Equihash,
    /// `nBits` decode to a non-zero target within `powLimit` (PoW) or the larger PoN limit (PoN,
    /// not emergency). Skipped where the network does not check targets (regtest).
    Target,
    /// PoW: block hash ≤ target; PoN (not emergency): ponHash ≤ target (`high-hash`).
    Hash,
    /// `nTime` ≤ the node's adjusted time + the limit (`time-too-new`). Needs the clock.
    FutureTime,
    /// `hashPrevBlock` names the parent. Needs the chain.
    PrevHash,
    /// PoN from the PoN height on, PoW before (`not-pon-block`, `premature-pon-block`). Needs
    /// the height.
    Era,
    /// PoN, not emergency: the target within the PoN limit for the height (`bad-pon-header`).
    /// Needs the height.
    PonTargetAtHeight,
    /// Emergency block: enough valid signatures from the emergency keys (`bad-pon-header`).
    EmergencySignatures,
    /// PoW: the solution's parameter set is allowed at the height
    /// (`bad-equihash-solution-size`). Needs the height.
    SolutionSize,
    /// `nBits` equal the retarget result (`bad-diffbits`, `bad-pon-diffbits`). Needs the chain.
    Difficulty,
    /// PoW: `nTime` > median time past; PoN: `nTime` > the parent's (`time-too-old`). Needs the
    /// chain.
    PastTime,
    /// At a checkpoint height the hash is the checkpoint's. Needs the height.
    Checkpoint,
}

impl Rule {
    /// Every rule, in fluxd's order.
    pub const ORDER: [Rule; 14] = [
        Rule::Version,
        Rule::SignatureSize,
        Rule::Equihash,
        Rule::Target,
        Rule::Hash,
        Rule::FutureTime,
        Rule::PrevHash,
        Rule::Era,
        Rule::PonTargetAtHeight,
        Rule::EmergencySignatures,
        Rule::SolutionSize,
        Rule::Difficulty,
        Rule::PastTime,
        Rule::Checkpoint,
    ];

    /// A short name for output.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Version => "version",
            Rule::SignatureSize => "signature size",
            Rule::Equihash => "equihash",
            Rule::Target => "bits",
            Rule::Hash => "hash <= target",
            Rule::FutureTime => "future time",
            Rule::PrevHash => "previous hash",
            Rule::Era => "era",
            Rule::PonTargetAtHeight => "pon target at height",
            Rule::EmergencySignatures => "emergency signatures",
            Rule::SolutionSize => "solution size",
            Rule::Difficulty => "difficulty",
            Rule::PastTime => "past time",
            Rule::Checkpoint => "checkpoint",
        }
    }
}

/// Why a rule was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// It does not apply to this header (its layout, an emergency block, genesis, or a network
    /// that does not check targets).
    NotApplicable,
    /// The caller gave no height.
    NoHeight,
    /// The caller gave no previous headers.
    NoChain,
    /// The caller gave no clock.
    NoClock,
    /// An earlier rule it builds on failed (`nBits` or the solution size are unusable).
    EarlierRuleFailed,
}

impl Skip {
    /// Why, in words.
    pub fn reason(self) -> &'static str {
        match self {
            Skip::NotApplicable => "does not apply",
            Skip::NoHeight => "height unknown",
            Skip::NoChain => "needs the previous headers",
            Skip::NoClock => "needs the node's clock",
            Skip::EarlierRuleFailed => "an earlier rule failed",
        }
    }
}

/// A rule that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// It ran and passed.
    Passed,
    /// It did not run.
    Skipped(Skip),
}

/// What the caller knows besides the header.
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    /// The header's height.
    pub height: Option<Height>,
    /// The chain it extends: at least the parent and the retarget window. Needs `height`.
    pub chain: Option<&'a dyn ChainView>,
    /// The node's adjusted time and tip height.
    pub clock: Option<&'a Clock>,
}

impl<'a> Context<'a> {
    /// Nothing but the header: the context-free rules.
    pub fn none() -> Self {
        Context::default()
    }

    /// The height only.
    pub fn at(height: Option<Height>) -> Self {
        Context {
            height,
            ..Context::default()
        }
    }

    /// Everything: a full validation at `height` on `chain` with `clock`.
    pub fn full(height: Height, chain: &'a dyn ChainView, clock: &'a Clock) -> Self {
        Context {
            height: Some(height),
            chain: Some(chain),
            clock: Some(clock),
        }
    }
}

/// What the context-free rules established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedHeader {
    /// The block hash.
    pub hash: BlockHash,
    /// The target `nBits` decode to (decoded leniently where the target is not checked).
    pub target: Target,
}

/// One header on its way through the rules.
pub struct HeaderRules<'a> {
    params: &'a NetworkParams,
    header: &'a Header,
    ctx: Context<'a>,
    hash: BlockHash,
    emergency: bool,
}

type Outcome = Result<Checked, HeaderError>;
const PASSED: Outcome = Ok(Checked::Passed);
const fn skip(why: Skip) -> Outcome {
    Ok(Checked::Skipped(why))
}

impl<'a> HeaderRules<'a> {
    /// Prepares `header` for the rules of `params` with what `ctx` gives.
    pub fn new(params: &'a NetworkParams, header: &'a Header, ctx: Context<'a>) -> Self {
        HeaderRules {
            params,
            header,
            ctx,
            hash: header.block_hash(),
            emergency: pon::is_emergency_block(params, header),
        }
    }

    /// The block hash.
    pub fn hash(&self) -> BlockHash {
        self.hash
    }

    /// Runs every rule in [`Rule::ORDER`] and returns the first failure.
    pub fn first_failure(&self) -> Result<(), HeaderError> {
        for rule in Rule::ORDER {
            self.check(rule)?;
        }
        Ok(())
    }

    /// Runs every rule in [`Rule::ORDER`] independently and returns each outcome (rules that
    /// build on a failed one are skipped).
    pub fn report(&self) -> Vec<(Rule, Outcome)> {
        Rule::ORDER.iter().map(|&r| (r, self.check(r))).collect()
    }

    /// What the context-free rules established (call after they passed).
    pub fn checked(&self) -> CheckedHeader {
        let target = self
            .header
            .bits
            .to_target()
            .unwrap_or_else(|_| self.header.bits.decode_lossy_target());
        CheckedHeader {
            hash: self.hash,
            target,
        }
    }

    fn pow(&self) -> Option<&'a [u8]> {
        match &self.header.proof {
            Proof::Work { solution, .. } => Some(solution),
            Proof::Node { .. } => None,
        }
    }

    /// Whether `nBits` and the hash are checked for this header at all.
    fn checks_target(&self) -> bool {
        if self.header.is_pon() {
            self.params.check_pon_target && !self.emergency
        } else {
            self.params.check_pow_target
        }
    }

    /// The parent entry, when there is one to look for.
    fn parent(&self) -> Result<Option<ChainEntry>, Skip> {
        let height = self.ctx.height.ok_or(Skip::NoHeight)?;
        let Some(prev) = height.prev() else {
            return Ok(None);
        };
        let chain = self.ctx.chain.ok_or(Skip::NoChain)?;
        Ok(chain.entry(prev))
    }

    fn require_parent(&self) -> Result<Option<ChainEntry>, Outcome> {
        match self.parent() {
            Err(why) => Err(skip(why)),
            Ok(None) if self.ctx.height == Some(Height::GENESIS) => Ok(None),
            Ok(Some(p)) => Ok(Some(p)),
            Ok(None) => {
                let height = self.ctx.height.and_then(Height::prev).unwrap_or_default();
                Err(Err(HeaderError::MissingAncestor { height }))
            }
        }
    }

    /// Runs one rule.
    pub fn check(&self, rule: Rule) -> Outcome {
        let (p, h) = (self.params, self.header);
        match rule {
            Rule::Version => check::check_version(h).map(|_| Checked::Passed),
            Rule::SignatureSize if h.is_pon() => {
                pon::check_signature_size(p, h).map(|_| Checked::Passed)
            }
            Rule::Equihash => match (self.pow(), h.equihash_input()) {
                (Some(solution), Some(input)) => {
                    let eh = check::check_solution_size_known(solution)?;
                    check::equihash_solution_is_valid(&eh, &input, solution)?;
                    PASSED
                }
                _ => skip(Skip::NotApplicable),
            },
            Rule::Target if self.checks_target() => {
                check::check_bits(p, h, None).map(|_| Checked::Passed)
            }
            Rule::Hash if self.checks_target() => {
                let Ok(target) = check::check_bits(p, h, None) else {
                    return skip(Skip::EarlierRuleFailed);
                };
                if h.is_pon() {
                    check::check_pon_hash(p, h, target)?;
                } else {
                    check::check_pow_hash(&self.hash, target)?;
                }
                PASSED
            }
            Rule::FutureTime => match self.ctx.clock {
                Some(clock) => validate::check_time_future(p, h, clock).map(|_| Checked::Passed),
                None => skip(Skip::NoClock),
            },
            Rule::PrevHash => match self.require_parent() {
                Err(outcome) => outcome,
                Ok(None) => skip(Skip::NotApplicable),
                Ok(Some(parent)) => validate::check_prev_hash(h, &parent).map(|_| Checked::Passed),
            },
            Rule::Era => match self.ctx.height {
                None => skip(Skip::NoHeight),
                Some(Height::GENESIS) => skip(Skip::NotApplicable),
                Some(height) => validate::check_era(p, h, height).map(|_| Checked::Passed),
            },
            Rule::PonTargetAtHeight if h.is_pon() && self.checks_target() => {
                match self.ctx.height {
                    None => skip(Skip::NoHeight),
                    Some(height) => check::check_bits(p, h, Some(height)).map(|_| Checked::Passed),
                }
            }
            Rule::EmergencySignatures if self.emergency => {
                pon::verify_emergency_signatures(p, h).map(|_| Checked::Passed)
            }
            Rule::SolutionSize => match (self.pow(), self.ctx.height) {
                (None, _) => skip(Skip::NotApplicable),
                (Some(_), None) => skip(Skip::NoHeight),
                (Some(solution), Some(height)) => {
                    if check::check_solution_size_known(solution).is_err() {
                        return skip(Skip::EarlierRuleFailed);
                    }
                    check::check_solution_size(p, solution, Some(height)).map(|_| Checked::Passed)
                }
            },
            Rule::Difficulty => match self.require_parent() {
                Err(outcome) => outcome,
                Ok(None) => skip(Skip::NotApplicable),
                Ok(Some(_)) => {
                    let (height, chain) = (self.ctx.height, self.ctx.chain);
                    let (Some(height), Some(chain)) = (height, chain) else {
                        return skip(Skip::NoChain);
                    };
                    difficulty::check_difficulty(p, h.bits, h.is_pon(), height, h.time, chain)
                        .map(|_| Checked::Passed)
                }
            },
            Rule::PastTime => match self.require_parent() {
                Err(outcome) => outcome,
                Ok(None) => skip(Skip::NotApplicable),
                Ok(Some(parent)) => {
                    let Some(chain) = self.ctx.chain else {
                        return skip(Skip::NoChain);
                    };
                    validate::check_time_past(h, &parent, chain).map(|_| Checked::Passed)
                }
            },
            Rule::Checkpoint => match self.ctx.height {
                None => skip(Skip::NoHeight),
                Some(height) => {
                    validate::check_checkpoint(p, height, &self.hash).map(|_| Checked::Passed)
                }
            },
            Rule::SignatureSize
            | Rule::Target
            | Rule::Hash
            | Rule::PonTargetAtHeight
            | Rule::EmergencySignatures => skip(Skip::NotApplicable),
        }
    }
}

/// Runs every rule `ctx` allows on `header` in fluxd's order and returns the first failure, or
/// what the context-free rules established.
///
/// # Consensus
/// fluxd `src/main.cpp:5667-5700` (`AcceptBlockHeader`); see the module documentation.
pub fn check_header(
    params: &NetworkParams,
    header: &Header,
    ctx: Context<'_>,
) -> Result<CheckedHeader, HeaderError> {
    let rules = HeaderRules::new(params, header, ctx);
    rules.first_failure()?;
    Ok(rules.checked())
}

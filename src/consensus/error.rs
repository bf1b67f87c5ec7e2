//! Why a header is rejected: [`HeaderError`] has one variant per consensus rule, so reading the
//! enum lists every reason. The fluxd reject reason each mirrors is in its doc comment.

use thiserror::Error;

use super::hash::{BlockHash, PonHash};
use super::target::{CompactError, CompactTarget, Target};
use super::units::Height;

/// A header breaks a consensus rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HeaderError {
    // ---- context-free ----
    /// `nVersion` < 4 (`version-too-low`).
    #[error("version {version} is below the minimum {min}")]
    VersionTooLow {
        /// The header's version.
        version: i32,
        /// `MIN_BLOCK_VERSION`.
        min: i32,
    },
    /// `vchBlockSig` longer than allowed (`bad-pon-sig-size`).
    #[error("pon signature is {len} bytes, more than the {max} allowed")]
    PonSignatureTooLarge {
        /// Its length.
        len: usize,
        /// 73, or 512 for an emergency block.
        max: usize,
    },
    /// `nBits` is negative, overflowing or zero.
    #[error("bits {bits} do not decode to a target: {reason}")]
    BadBits {
        /// The header's `nBits`.
        bits: CompactTarget,
        /// What is wrong.
        reason: CompactError,
    },
    /// The PoW target is easier than `powLimit`.
    #[error("bits {bits} give a target above the pow limit {limit}")]
    TargetAbovePowLimit {
        /// The header's `nBits`.
        bits: CompactTarget,
        /// `powLimit`.
        limit: Target,
    },
    /// The PoN target is easier than the PoN limit for the height.
    #[error("bits {bits} give a target above the pon limit {limit}")]
    TargetAbovePonLimit {
        /// The header's `nBits`.
        bits: CompactTarget,
        /// `ponStartLimit` or `ponLimit`.
        limit: Target,
    },
    /// The block hash is above the target (`high-hash`).
    #[error("block hash {hash} is above the target {target}")]
    HighHash {
        /// The block hash.
        hash: BlockHash,
        /// The target from `nBits`.
        target: Target,
    },
    /// No Equihash parameter set has this solution length.
    #[error("no equihash parameters have a {len}-byte solution")]
    UnknownSolutionSize {
        /// The solution length.
        len: usize,
    },
    /// The solution's parameter set is not allowed at this height
    /// (`bad-equihash-solution-size`).
    #[error("equihash ({n},{k}) solution is not allowed at height {height}")]
    SolutionSizeNotAllowed {
        /// n of the solution's set.
        n: u32,
        /// k of the solution's set.
        k: u32,
        /// The block's height.
        height: Height,
    },
    /// The Equihash solution is invalid (`invalid-solution`); `source` names the rule.
    #[error("{source}")]
    InvalidSolution {
        /// The verifier's error (its `kind()` is the rule).
        #[from]
        source: crate::equihash::Error,
    },
    /// The PoN eligibility hash is above the target (`high-hash` for PoN).
    #[error("pon eligibility hash {pon_hash} is above the target {target}")]
    PonHighHash {
        /// The eligibility hash.
        pon_hash: PonHash,
        /// The target from `nBits`.
        target: Target,
    },

    // ---- contextual ----
    /// The previous-hash field does not name the parent.
    #[error("previous hash {found} is not the parent {expected}")]
    PrevHashMismatch {
        /// The parent's hash.
        expected: BlockHash,
        /// The header's `hashPrevBlock`.
        found: BlockHash,
    },
    /// A PoW header at a PoN height (`not-pon-block`, `bad-version`).
    #[error("pow header at height {height}, where proof of node is required")]
    NotPonBlock {
        /// The block's height.
        height: Height,
    },
    /// A PoN header below the PoN activation (`premature-pon-block`).
    #[error("pon header at height {height}, before proof of node is active")]
    PrematurePonBlock {
        /// The block's height.
        height: Height,
    },
    /// PoW `nBits` differ from the retarget result (`bad-diffbits`).
    #[error("bits {found} differ from the required {expected}")]
    BadDiffBits {
        /// The retarget result.
        expected: CompactTarget,
        /// The header's `nBits`.
        found: CompactTarget,
    },
    /// PoN `nBits` differ from the PoN retarget result (`bad-pon-diffbits`).
    #[error("pon bits {found} differ from the required {expected}")]
    BadPonDiffBits {
        /// The retarget result.
        expected: CompactTarget,
        /// The header's `nBits`.
        found: CompactTarget,
    },
    /// PoW `nTime` ≤ median time past (`time-too-old`).
    #[error("time {time} is not after the median time past {median_time_past}")]
    TimeTooOld {
        /// The header's `nTime`.
        time: u32,
        /// MTP of the parent.
        median_time_past: i64,
    },
    /// PoN `nTime` ≤ the parent's `nTime`.
    #[error("pon time {time} is not after the parent's time {parent_time}")]
    PonTimeNotIncreasing {
        /// The header's `nTime`.
        time: u32,
        /// The parent's `nTime`.
        parent_time: u32,
    },
    /// `nTime` too far in the future (`time-too-new`).
    #[error("time {time} is more than {limit} s after the adjusted time {now}")]
    TimeTooNew {
        /// The header's `nTime`.
        time: u32,
        /// The node's adjusted time.
        now: i64,
        /// The allowed drift.
        limit: i64,
    },
    /// The hash differs from the checkpoint at this height (`checkpoint mismatch`).
    #[error("block hash {found} at height {height} differs from the checkpoint {expected}")]
    CheckpointMismatch {
        /// The block's height.
        height: Height,
        /// The checkpoint hash.
        expected: BlockHash,
        /// The header's hash.
        found: BlockHash,
    },

    // ---- PoN signature (needs the node's key from outside) ----
    /// `vchBlockSig` is not a strict-DER ECDSA signature.
    #[error("pon signature is not strict der")]
    PonSignatureNotDer,
    /// The node public key given by the caller is not a valid secp256k1 key.
    #[error("node public key is not a valid secp256k1 key")]
    BadNodePublicKey,
    /// The signature does not verify against the node's key over the block hash.
    #[error("pon signature does not verify against the node's key")]
    PonSignatureInvalid,
    /// An emergency block carries more signatures than there are emergency keys.
    #[error("emergency block has {count} signatures, more than the {max} emergency keys")]
    EmergencyTooManySignatures {
        /// Signatures in the decoded vector.
        count: usize,
        /// The number of emergency keys.
        max: usize,
    },
    /// An emergency signature met before enough valid ones is longer than a DER signature.
    #[error("emergency signature is {len} bytes, more than the {max} allowed")]
    EmergencySignatureTooLarge {
        /// Its length.
        len: usize,
        /// `MAX_BLOCK_SIG_SIZE`.
        max: usize,
    },
    /// Fewer distinct emergency keys signed than required.
    #[error("emergency block has {valid} valid signatures from distinct keys, {required} required")]
    EmergencyTooFewSignatures {
        /// Distinct keys with a valid signature.
        valid: usize,
        /// Required.
        required: usize,
    },

    // ---- not a rule: the caller's window is too short ----
    /// The chain view does not hold an ancestor the rules need. Not a consensus failure: give a
    /// longer window of previous headers.
    #[error("ancestor at height {height} is not in the chain view")]
    MissingAncestor {
        /// The missing height.
        height: Height,
    },
}

impl HeaderError {
    /// A short stable name of the rule (for CLI output and logs), e.g. `high-hash`.
    pub fn rule(&self) -> &'static str {
        use HeaderError::*;
        match self {
            VersionTooLow { .. } => "version-too-low",
            PonSignatureTooLarge { .. } => "bad-pon-sig-size",
            BadBits { .. } => "bad-bits",
            TargetAbovePowLimit { .. } => "target-above-pow-limit",
            TargetAbovePonLimit { .. } => "target-above-pon-limit",
            HighHash { .. } => "high-hash",
            UnknownSolutionSize { .. } => "unknown-solution-size",
            SolutionSizeNotAllowed { .. } => "bad-equihash-solution-size",
            InvalidSolution { .. } => "invalid-solution",
            PonHighHash { .. } => "pon-high-hash",
            PrevHashMismatch { .. } => "prev-hash-mismatch",
            NotPonBlock { .. } => "not-pon-block",
            PrematurePonBlock { .. } => "premature-pon-block",
            BadDiffBits { .. } => "bad-diffbits",
            BadPonDiffBits { .. } => "bad-pon-diffbits",
            TimeTooOld { .. } => "time-too-old",
            PonTimeNotIncreasing { .. } => "pon-time-too-old",
            TimeTooNew { .. } => "time-too-new",
            CheckpointMismatch { .. } => "checkpoint-mismatch",
            PonSignatureNotDer => "pon-sig-not-der",
            BadNodePublicKey => "bad-node-pubkey",
            PonSignatureInvalid => "bad-pon-sig",
            EmergencyTooManySignatures { .. } => "bad-emergency-sig-count",
            EmergencySignatureTooLarge { .. } => "bad-emergency-sig-size",
            EmergencyTooFewSignatures { .. } => "bad-emergency-sigs",
            MissingAncestor { .. } => "missing-ancestor",
        }
    }
}

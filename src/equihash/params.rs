//! Equihash parameter sets as data, with every derived size in one place.

use thiserror::Error;

/// Why a `(n, k)` pair cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// `n` must be a multiple of `k + 1` (fluxd `static_assert((N % (K+1)) == 0)`).
    #[error("n = {n} is not a multiple of k + 1 = {}", k + 1)]
    NotDivisible {
        /// Hash width in bits.
        n: u32,
        /// Number of rounds.
        k: u32,
    },
    /// The parameters are outside the range this implementation supports.
    #[error("unsupported equihash parameters ({n},{k}): {reason}")]
    Unsupported {
        /// Hash width in bits.
        n: u32,
        /// Number of rounds.
        k: u32,
        /// What is out of range.
        reason: &'static str,
    },
}

/// One Equihash parameter set: `(n, k)`, the 8-byte personalization and the ZelHash twist.
///
/// Every size the solver and the verifier need is derived here, so nothing else in the crate
/// recomputes it.
///
/// # Consensus
/// fluxd `src/chainparams.h:27-38` (`EHparameters`) and `src/crypto/equihash.cpp:33-89`
/// (commit 2dfb5046); `spec/flux-consensus.md` §5.1 and §5.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Params {
    n: u32,
    k: u32,
    personalization: [u8; 8],
    twist: bool,
}

/// The personalization of Zcash-style sets (200,9, 96,5, 48,5).
pub const PERSONALIZATION_ZCASH: [u8; 8] = *b"ZcashPoW";
/// The personalization Flux uses for 144,5 and 125,4.
pub const PERSONALIZATION_ZEL: [u8; 8] = *b"ZelProof";

impl Params {
    /// ZelHash: Equihash 125,4, `ZelProof`, with the twist. Mainnet PoW 372,500 – 2,019,999.
    pub const ZELHASH: Params = Params::from_parts(125, 4, PERSONALIZATION_ZEL, true);
    /// Equihash 144,5, `ZelProof`. Mainnet PoW 125,100 – 372,510.
    pub const EH144_5: Params = Params::from_parts(144, 5, PERSONALIZATION_ZEL, false);
    /// Equihash 200,9, `ZcashPoW`. Mainnet PoW from genesis to 125,110.
    pub const EH200_9: Params = Params::from_parts(200, 9, PERSONALIZATION_ZCASH, false);
    /// Equihash 96,5, `ZcashPoW`. Accepted by fluxd's size dispatch; no Flux era uses it.
    pub const EH96_5: Params = Params::from_parts(96, 5, PERSONALIZATION_ZCASH, false);
    /// Equihash 48,5, `ZcashPoW`. Testnet and regtest.
    pub const EH48_5: Params = Params::from_parts(48, 5, PERSONALIZATION_ZCASH, false);

    const fn from_parts(n: u32, k: u32, personalization: [u8; 8], twist: bool) -> Params {
        Params {
            n,
            k,
            personalization,
            twist,
        }
    }

    /// Builds a parameter set, checking that this implementation can solve and verify it.
    ///
    /// Supported: `n % (k+1) == 0`, `1 ≤ k ≤ 15`, collision bits `n/(k+1)` from 1 to 31,
    /// `8 ≤ n ≤ 512`. The twist is only defined for digests whose length is a multiple of 4.
    pub fn new(
        n: u32,
        k: u32,
        personalization: [u8; 8],
        twist: bool,
    ) -> Result<Params, ParamsError> {
        let unsupported = |reason| Err(ParamsError::Unsupported { n, k, reason });
        if !(1..=15).contains(&k) {
            return unsupported("k must be between 1 and 15");
        }
        if !n.is_multiple_of(k + 1) {
            return Err(ParamsError::NotDivisible { n, k });
        }
        if !(8..=512).contains(&n) {
            return unsupported("n must be between 8 and 512");
        }
        let c = n / (k + 1);
        if !(1..=31).contains(&c) {
            return unsupported("collision bits n/(k+1) must be between 1 and 31");
        }
        let p = Params {
            n,
            k,
            personalization,
            twist,
        };
        if twist && !p.digest_len().is_multiple_of(4) {
            return unsupported("the twist needs a digest length that is a multiple of 4");
        }
        Ok(p)
    }

    /// The set with the default personalization for `(n, k)`, as fluxd picks it: `ZelProof`
    /// for 144,5 and 125,4 (125,4 with the twist), `ZcashPoW` otherwise.
    ///
    /// # Consensus
    /// fluxd `src/crypto/equihash.cpp:33-50` (commit 2dfb5046).
    pub fn for_nk(n: u32, k: u32) -> Result<Params, ParamsError> {
        match (n, k) {
            (125, 4) => Ok(Params::ZELHASH),
            (144, 5) => Ok(Params::EH144_5),
            _ => Params::new(n, k, PERSONALIZATION_ZCASH, false),
        }
    }

    /// The set fluxd chooses from the length of a solution alone.
    ///
    /// # Consensus
    /// fluxd `src/pow.cpp:220-256` (`CheckEquihashSolution`, commit 2dfb5046): 1344 → 200,9;
    /// 100 → 144,5; 68 → 96,5; 52 → 125,4; 36 → 48,5; anything else is an error.
    pub fn from_solution_len(len: usize) -> Option<Params> {
        match len {
            1344 => Some(Params::EH200_9),
            100 => Some(Params::EH144_5),
            68 => Some(Params::EH96_5),
            52 => Some(Params::ZELHASH),
            36 => Some(Params::EH48_5),
            _ => None,
        }
    }

    /// Returns a copy with another personalization.
    pub fn with_personalization(self, personalization: [u8; 8]) -> Params {
        Params {
            personalization,
            ..self
        }
    }

    /// Returns a copy with the twist switched on or off.
    pub fn with_twist(self, twist: bool) -> Result<Params, ParamsError> {
        Params::new(self.n, self.k, self.personalization, twist)
    }

    /// Hash width `n` in bits.
    pub fn n(&self) -> u32 {
        self.n
    }

    /// Number of collision rounds `k`.
    pub fn k(&self) -> u32 {
        self.k
    }

    /// The 8 ASCII personalization bytes.
    pub fn personalization(&self) -> [u8; 8] {
        self.personalization
    }

    /// Whether the ZelHash prefix-sum twist is applied to the digests.
    pub fn twist(&self) -> bool {
        self.twist
    }

    /// Collision bits per round, `n / (k + 1)`.
    pub fn collision_bits(&self) -> u32 {
        self.n / (self.k + 1)
    }

    /// Bits per index, `n / (k + 1) + 1`.
    pub fn index_bits(&self) -> u32 {
        self.collision_bits() + 1
    }

    /// Indices in a solution, `2^k`.
    pub fn solution_indices(&self) -> usize {
        1 << self.k
    }

    /// Leaves per nonce, `2^(n/(k+1)+1)`.
    pub fn leaf_count(&self) -> u64 {
        1 << self.index_bits()
    }

    /// Leaves taken from one digest, `512 / n`.
    pub fn leaves_per_hash(&self) -> u32 {
        512 / self.n
    }

    /// BLAKE2b calls needed for all leaves.
    pub fn hash_count(&self) -> u64 {
        self.leaf_count()
            .div_ceil(u64::from(self.leaves_per_hash()))
    }

    /// Bytes of one leaf's slice of the digest, `⌈n / 8⌉`.
    pub fn slice_len(&self) -> usize {
        self.n.div_ceil(8) as usize
    }

    /// BLAKE2b digest length, `(512 / n) · ⌈n / 8⌉` (64 for ZelHash, not 62).
    ///
    /// # Consensus
    /// fluxd `src/crypto/equihash.cpp:33-50`; `spec/flux-consensus.md` §5.3.
    pub fn digest_len(&self) -> usize {
        self.leaves_per_hash() as usize * self.slice_len()
    }

    /// Length of a minimally encoded solution, `2^k · (n/(k+1)+1) / 8` bytes.
    pub fn solution_len(&self) -> usize {
        self.solution_indices() * self.index_bits() as usize / 8
    }

    /// The 16-byte BLAKE2b personalization: the 8 bytes ‖ LE32(n) ‖ LE32(k).
    pub fn blake2b_personal(&self) -> [u8; 16] {
        let mut p = [0u8; 16];
        p[..8].copy_from_slice(&self.personalization);
        p[8..12].copy_from_slice(&self.n.to_le_bytes());
        p[12..].copy_from_slice(&self.k.to_le_bytes());
        p
    }
}

impl std::fmt::Display for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pers = String::from_utf8_lossy(&self.personalization);
        write!(f, "{},{} \"{}\"", self.n, self.k, pers)?;
        if self.twist {
            f.write_str(" +twist")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_sizes_match_the_spec_table() {
        // (params, c, index bits, solution bytes, digest bytes, slice bytes)
        let rows = [
            (Params::EH200_9, 20, 21, 1344, 50, 25),
            (Params::EH144_5, 24, 25, 100, 54, 18),
            (Params::ZELHASH, 25, 26, 52, 64, 16),
            (Params::EH96_5, 16, 17, 68, 60, 12),
            (Params::EH48_5, 8, 9, 36, 60, 6),
        ];
        for (p, c, ib, sol, dig, sl) in rows {
            assert_eq!(p.collision_bits(), c, "{p}");
            assert_eq!(p.index_bits(), ib, "{p}");
            assert_eq!(p.solution_len(), sol, "{p}");
            assert_eq!(p.digest_len(), dig, "{p}");
            assert_eq!(p.slice_len(), sl, "{p}");
            assert_eq!(Params::from_solution_len(sol), Some(p));
        }
        assert_eq!(Params::ZELHASH.hash_count(), 1 << 24);
        assert_eq!(Params::from_solution_len(53), None);
    }

    #[test]
    fn personalization_bytes() {
        assert_eq!(
            hex::encode(Params::ZELHASH.blake2b_personal()),
            "5a656c50726f6f667d00000004000000"
        );
        assert_eq!(
            hex::encode(Params::EH144_5.blake2b_personal()),
            "5a656c50726f6f669000000005000000"
        );
    }

    #[test]
    fn rejects_bad_pairs() {
        assert_eq!(
            Params::new(125, 3, PERSONALIZATION_ZEL, false),
            Err(ParamsError::NotDivisible { n: 125, k: 3 })
        );
        assert!(matches!(
            Params::new(256, 0, PERSONALIZATION_ZCASH, false),
            Err(ParamsError::Unsupported { .. })
        ));
        assert!(matches!(
            Params::new(512, 1, PERSONALIZATION_ZCASH, false),
            Err(ParamsError::Unsupported { .. })
        ));
        assert_eq!(Params::for_nk(125, 4), Ok(Params::ZELHASH));
        assert_eq!(Params::for_nk(48, 5), Ok(Params::EH48_5));
    }
}

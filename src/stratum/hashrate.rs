//! Hashrate from accepted shares: Sol/s ≈ 8192 · ΣD / Δt with a Poisson error bar
//! (`spec/stratum.md` §10).

/// Solutions one pool-difficulty-1 share stands for: 2^256 / 2^243 = 8192.
pub const SOLUTIONS_PER_DIFFICULTY: f64 = 8192.0;

/// An estimated solution rate with its 1σ error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolRate {
    /// Solutions per second.
    pub sol_per_s: f64,
    /// One standard deviation, `sol_per_s / √n`.
    pub sigma: f64,
    /// Shares the estimate rests on.
    pub shares: u64,
}

impl SolRate {
    /// The estimate from `shares` accepted shares whose pool-scale difficulties sum to
    /// `sum_difficulty`, over `seconds`. `None` when there is no share or no time yet.
    pub fn from_shares(shares: u64, sum_difficulty: f64, seconds: f64) -> Option<SolRate> {
        if shares == 0 || seconds <= 0.0 {
            return None;
        }
        let sol_per_s = SOLUTIONS_PER_DIFFICULTY * sum_difficulty / seconds;
        Some(SolRate {
            sol_per_s,
            sigma: sol_per_s / (shares as f64).sqrt(),
            shares,
        })
    }

    /// How many σ apart `other` is from this estimate.
    pub fn sigmas_from(&self, other: f64) -> f64 {
        (other - self.sol_per_s).abs() / self.sigma
    }
}

impl std::fmt::Display for SolRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} ± {:.2} Sol/s (1σ, {} shares)",
            self.sol_per_s, self.sigma, self.shares
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_and_error() {
        // 400 shares at D = 1 in 40960 s: 80 Sol/s ± 5 % (the spec's worked figure).
        let r = SolRate::from_shares(400, 400.0, 40960.0).unwrap();
        assert!((r.sol_per_s - 80.0).abs() < 1e-9);
        assert!((r.sigma - 4.0).abs() < 1e-9);
        assert!((r.sigmas_from(88.0) - 2.0).abs() < 1e-9);
        assert!(SolRate::from_shares(0, 0.0, 1.0).is_none());
    }
}

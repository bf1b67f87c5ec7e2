//! Hashrate from accepted shares: Sol/s ≈ 8192 · ΣD / Δt with a Poisson error bar
//! σ = 8192 · √(ΣD²) / Δt, right also when the difficulty varies (vardiff) (`spec/stratum.md`
//! §10). s-nomp and miningcore display 8589.93 · ΣD / Δt (2^32 / 500,000 per share, a Bitcoin
//! constant), 4.86 % above this estimate; magicpool uses 8192.

/// Solutions one pool-difficulty-1 share stands for: 2^256 / 2^243 = 8192.
pub const SOLUTIONS_PER_DIFFICULTY: f64 = 8192.0;

/// An estimated solution rate with its 1σ error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolRate {
    /// Solutions per second.
    pub sol_per_s: f64,
    /// One standard deviation, `8192 · √(ΣD²) / Δt` (`sol_per_s / √n` at a fixed difficulty).
    pub sigma: f64,
    /// Shares the estimate rests on.
    pub shares: u64,
}

impl SolRate {
    /// The estimate from `shares` accepted shares whose pool-scale difficulties sum to
    /// `sum_difficulty` and whose squares sum to `sum_sq_difficulty`, over `seconds`. `None`
    /// when there is no share or no time yet.
    ///
    /// Each share of difficulty D stands for a Poisson count of solutions with mean and variance
    /// proportional to D (in units of D: variance D²), so the variance of 8192 · ΣD is
    /// 8192² · ΣD².
    pub fn from_shares(
        shares: u64,
        sum_difficulty: f64,
        sum_sq_difficulty: f64,
        seconds: f64,
    ) -> Option<SolRate> {
        if shares == 0 || seconds <= 0.0 {
            return None;
        }
        Some(SolRate {
            sol_per_s: SOLUTIONS_PER_DIFFICULTY * sum_difficulty / seconds,
            sigma: SOLUTIONS_PER_DIFFICULTY * sum_sq_difficulty.sqrt() / seconds,
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
        let r = SolRate::from_shares(400, 400.0, 400.0, 40960.0).unwrap();
        assert!((r.sol_per_s - 80.0).abs() < 1e-9);
        assert!((r.sigma - 4.0).abs() < 1e-9);
        assert!((r.sigmas_from(88.0) - 2.0).abs() < 1e-9);
        assert!(SolRate::from_shares(0, 0.0, 0.0, 1.0).is_none());
        // Under vardiff: 100 shares at D = 1 and 100 at D = 4 in 10240 s. Rate 8192·500/10240 =
        // 400 Sol/s; σ = 8192·√(100 + 1600)/10240 ≈ 32.98, not 400/√200 ≈ 28.28.
        let v = SolRate::from_shares(200, 500.0, 1700.0, 10240.0).unwrap();
        assert!((v.sol_per_s - 400.0).abs() < 1e-9);
        assert!((v.sigma - 8192.0 * 1700f64.sqrt() / 10240.0).abs() < 1e-9);
    }
}

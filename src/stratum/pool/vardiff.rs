//! Variable difficulty: retarget a worker's share difficulty so shares arrive about every
//! `target_share_s` seconds (s-nomp's scheme, `spec/stratum.md` §9), clock passed in.

/// Vardiff settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VardiffConfig {
    /// Wanted seconds between shares.
    pub target_share_s: f64,
    /// Seconds between retargets.
    pub retarget_s: f64,
    /// Tolerated relative deviation of the share interval before retargeting (0.3 = 30 %).
    pub variance: f64,
    /// Lowest difficulty.
    pub min: f64,
    /// Highest difficulty.
    pub max: f64,
}

impl Default for VardiffConfig {
    /// s-nomp's `zel.json` example: 15 s shares, retarget every 60 s, 30 % variance,
    /// difficulty 0.04 … 36.
    fn default() -> Self {
        VardiffConfig {
            target_share_s: 15.0,
            retarget_s: 60.0,
            variance: 0.3,
            min: 0.04,
            max: 36.0,
        }
    }
}

/// Largest factor one retarget may change the difficulty by.
const MAX_STEP: f64 = 4.0;

/// One worker's vardiff state.
#[derive(Debug, Clone)]
pub struct Vardiff {
    cfg: VardiffConfig,
    difficulty: f64,
    window_start_ms: u64,
    shares: u32,
}

impl Vardiff {
    /// Starts at `difficulty` (clamped to the range) at time `now_ms`.
    pub fn new(cfg: VardiffConfig, difficulty: f64, now_ms: u64) -> Vardiff {
        Vardiff {
            cfg,
            difficulty: difficulty.clamp(cfg.min, cfg.max),
            window_start_ms: now_ms,
            shares: 0,
        }
    }

    /// The difficulty in force.
    pub fn difficulty(&self) -> f64 {
        self.difficulty
    }

    /// Records an accepted share; returns the new difficulty when it is time to retarget.
    pub fn on_share(&mut self, now_ms: u64) -> Option<f64> {
        self.shares += 1;
        self.poll(now_ms)
    }

    /// Retargets if the window is over (also when no share came, to lower the difficulty).
    pub fn poll(&mut self, now_ms: u64) -> Option<f64> {
        let elapsed = now_ms.saturating_sub(self.window_start_ms) as f64 / 1000.0;
        if elapsed < self.cfg.retarget_s {
            return None;
        }
        let interval = elapsed / f64::from(self.shares.max(1));
        let t = self.cfg.target_share_s;
        self.window_start_ms = now_ms;
        let shares = std::mem::take(&mut self.shares);
        let within = shares > 0
            && interval >= t * (1.0 - self.cfg.variance)
            && interval <= t * (1.0 + self.cfg.variance);
        if within {
            return None;
        }
        let factor = (t / interval).clamp(1.0 / MAX_STEP, MAX_STEP);
        let new = (self.difficulty * factor).clamp(self.cfg.min, self.cfg.max);
        if (new - self.difficulty).abs() <= f64::EPSILON * self.difficulty {
            return None;
        }
        self.difficulty = new;
        Some(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> VardiffConfig {
        VardiffConfig {
            target_share_s: 10.0,
            retarget_s: 60.0,
            variance: 0.3,
            min: 0.01,
            max: 100.0,
        }
    }

    #[test]
    fn raises_when_shares_come_too_fast() {
        let mut v = Vardiff::new(cfg(), 1.0, 0);
        // One share a second for a minute: 10× too fast, capped at a 4× step.
        let mut got = None;
        for s in 1..=60u64 {
            got = got.or(v.on_share(s * 1000));
        }
        assert_eq!(got, Some(4.0));
        assert_eq!(v.difficulty(), 4.0);
    }

    #[test]
    fn lowers_when_shares_come_too_slowly_and_holds_when_on_target() {
        let mut v = Vardiff::new(cfg(), 1.0, 0);
        assert_eq!(v.on_share(30_000), None);
        assert_eq!(v.on_share(60_000), Some(1.0 / 3.0));
        let mut v = Vardiff::new(cfg(), 1.0, 0);
        let mut got = None;
        for s in 1..=6u64 {
            got = got.or(v.on_share(s * 10_000));
        }
        assert_eq!(got, None, "on target: no retarget");
        let mut v = Vardiff::new(cfg(), 0.02, 0);
        assert_eq!(
            v.poll(60_000),
            Some(0.01),
            "no shares: lower, clamped to min"
        );
    }
}

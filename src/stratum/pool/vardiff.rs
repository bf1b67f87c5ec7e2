//! Variable difficulty, retargeted on shares as s-nomp does it (node-stratum-pool
//! `lib/varDiff.js`, ported from stratum-mining's `basic_share_limiter.py`), clock passed in.
//!
//! The rule, per connection:
//!
//! - Keep the last `4 · retargetTime / targetTime` intervals between shares (16 with s-nomp's
//!   Flux example: 15 s shares, retarget every 60 s), in a ring.
//! - The first share only starts the clock: no interval yet, and the first retarget may come
//!   `retargetTime / 2` later.
//! - On every later share, record its interval; if `retargetTime` has passed since the last
//!   retarget, retarget from the mean interval `avg`: with `variance = targetTime ·
//!   variancePercent / 100`,
//!   - `avg > targetTime + variance` and the difficulty above `minDiff`: multiply it by
//!     `targetTime / avg` (by ½ in x2 mode), but not below `minDiff`;
//!   - `avg < targetTime − variance`: multiply it by `targetTime / avg` (by 2 in x2 mode), but not
//!     above `maxDiff`;
//!   - otherwise keep it (the retarget clock still restarts, the intervals are kept).
//! - After a change the intervals are forgotten.
//!
//! There is no timer: a worker that stops sharing keeps its difficulty until its next share,
//! whose long interval then lowers it. Where this differs from s-nomp, on purpose:
//!
//! - Only accepted shares count (s-nomp counts every submit of a subscribed, authorized
//!   connection, so a flood of stale or invalid submits would raise the difficulty; miningcore
//!   updates vardiff after accepted shares only, `EquihashPool.OnSubmitAsync`).
//! - Time in milliseconds (s-nomp truncates to whole seconds, so shares a second apart or less
//!   read as 0 s and send the difficulty straight to `maxDiff`).
//! - No rounding to 8 decimals (difficulties below 1e-8 stay usable) and no retarget to the
//!   difficulty already in force (s-nomp re-sends it at `maxDiff`).
//! - A ring length that is not a whole number is rounded (s-nomp's ring never fills then).

use std::collections::VecDeque;

/// Vardiff settings (s-nomp's `varDiff` block of a port).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VardiffConfig {
    /// Wanted seconds between shares (`targetTime`).
    pub target_share_s: f64,
    /// Least seconds between retargets (`retargetTime`).
    pub retarget_s: f64,
    /// Tolerated deviation of the mean interval, as a fraction of `target_share_s`
    /// (`variancePercent / 100`: 0.3 for 30 %).
    pub variance: f64,
    /// Lowest difficulty (`minDiff`).
    pub min: f64,
    /// Highest difficulty (`maxDiff`).
    pub max: f64,
    /// Change by exactly ×2 or ×½ per retarget (`x2mode`).
    pub x2: bool,
}

impl Default for VardiffConfig {
    /// s-nomp's `zel.json` example: 15 s shares, retarget every 60 s, 30 % variance,
    /// difficulty 0.04 … 36, no x2 mode.
    fn default() -> Self {
        VardiffConfig {
            target_share_s: 15.0,
            retarget_s: 60.0,
            variance: 0.3,
            min: 0.04,
            max: 36.0,
            x2: false,
        }
    }
}

impl VardiffConfig {
    /// Intervals kept: `4 · retarget_s / target_share_s`, rounded, at least 1.
    pub fn intervals_kept(&self) -> usize {
        (4.0 * self.retarget_s / self.target_share_s)
            .round()
            .max(1.0) as usize
    }
}

/// One connection's vardiff state.
#[derive(Debug, Clone)]
pub struct Vardiff {
    cfg: VardiffConfig,
    difficulty: f64,
    /// Time of the last share (None before the first).
    last_share_ms: Option<u64>,
    /// No retarget before this time.
    next_retarget_ms: u64,
    /// The last intervals between shares, in seconds.
    intervals: VecDeque<f64>,
}

impl Vardiff {
    /// Starts at `difficulty` (clamped to the range).
    pub fn new(cfg: VardiffConfig, difficulty: f64) -> Vardiff {
        Vardiff {
            cfg,
            difficulty: difficulty.clamp(cfg.min, cfg.max),
            last_share_ms: None,
            next_retarget_ms: 0,
            intervals: VecDeque::with_capacity(cfg.intervals_kept()),
        }
    }

    /// The difficulty in force.
    pub fn difficulty(&self) -> f64 {
        self.difficulty
    }

    /// Records an accepted share at `now_ms`; returns the new difficulty when it changes.
    pub fn on_share(&mut self, now_ms: u64) -> Option<f64> {
        let retarget_ms = (self.cfg.retarget_s * 1000.0) as u64;
        let Some(last) = self.last_share_ms.replace(now_ms) else {
            self.next_retarget_ms = now_ms + retarget_ms / 2;
            return None;
        };
        if self.intervals.len() == self.cfg.intervals_kept() {
            self.intervals.pop_front();
        }
        self.intervals
            .push_back(now_ms.saturating_sub(last) as f64 / 1000.0);
        if now_ms < self.next_retarget_ms {
            return None;
        }
        self.next_retarget_ms = now_ms + retarget_ms;
        let avg = self.intervals.iter().sum::<f64>() / self.intervals.len() as f64;
        let new = (self.difficulty * self.factor(avg)?).clamp(self.cfg.min, self.cfg.max);
        if new == self.difficulty {
            return None;
        }
        self.intervals.clear();
        self.difficulty = new;
        Some(new)
    }

    /// The factor for a mean interval of `avg` seconds, before the range is applied (None:
    /// within the variance, or too slow at the minimum already).
    fn factor(&self, avg: f64) -> Option<f64> {
        let c = &self.cfg;
        let t = c.target_share_s;
        let variance = t * c.variance;
        if avg > t + variance && self.difficulty > c.min {
            Some(if c.x2 { 0.5 } else { t / avg })
        } else if avg < t - variance {
            Some(if c.x2 { 2.0 } else { t / avg })
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// s-nomp's Flux example (15 s, retarget 60 s, 30 %), range 0.01 … 100.
    fn cfg() -> VardiffConfig {
        VardiffConfig {
            min: 0.01,
            max: 100.0,
            ..VardiffConfig::default()
        }
    }

    /// Feeds shares every `every_ms` from `start_ms` up to `until_ms`; the changes, with their times.
    fn feed(v: &mut Vardiff, start_ms: u64, every_ms: u64, until_ms: u64) -> Vec<(u64, f64)> {
        (start_ms..=until_ms)
            .step_by(every_ms as usize)
            .filter_map(|t| v.on_share(t).map(|d| (t, d)))
            .collect()
    }

    #[test]
    fn keeps_sixteen_intervals_for_the_flux_example() {
        assert_eq!(VardiffConfig::default().intervals_kept(), 16);
        let odd = VardiffConfig {
            retarget_s: 60.0,
            target_share_s: 25.0,
            ..cfg()
        };
        assert_eq!(odd.intervals_kept(), 10, "9.6 rounded");
    }

    /// Shares every 5 s: the first starts the clock (retarget allowed 30 s later), the share at
    /// 30 s retargets by 15/5 = 3, the next one 60 s later (at 90 s), from the intervals since
    /// the change: 3 again.
    #[test]
    fn raises_on_the_share_that_ends_the_retarget_time() {
        let mut v = Vardiff::new(cfg(), 1.0);
        assert_eq!(
            feed(&mut v, 0, 5_000, 90_000),
            vec![(30_000, 3.0), (90_000, 9.0)]
        );
    }

    /// Shares 60 s apart (4× too slow): lowered by 15/60 at the second share (the first
    /// started the clock 30 s before), clamped at the minimum, never below.
    #[test]
    fn lowers_on_slow_shares_down_to_the_minimum() {
        let mut v = Vardiff::new(cfg(), 0.1);
        assert_eq!(
            feed(&mut v, 0, 60_000, 300_000),
            vec![(60_000, 0.025), (120_000, 0.01)]
        );
        assert_eq!(v.difficulty(), 0.01);
    }

    /// Within 15 s ± 30 % nothing changes, however long it runs.
    #[test]
    fn holds_within_the_variance() {
        for every_ms in [11_000, 19_000] {
            let mut v = Vardiff::new(cfg(), 1.0);
            assert!(feed(&mut v, 0, every_ms, 3_600_000).is_empty());
        }
    }

    /// The mean is over the last 16 intervals only: after 100 intervals of 19 s (within the
    /// variance), 16 of 1 s are all it sees (×15); with 15 of 1 s, one of 19 s is still in
    /// (mean 34/16 s).
    #[test]
    fn the_mean_covers_the_last_sixteen_intervals() {
        for (fast, want) in [(16u64, 15.0), (15, 15.0 / (34.0 / 16.0))] {
            let mut v = Vardiff::new(cfg(), 1.0);
            v.on_share(0);
            v.next_retarget_ms = u64::MAX; // no retarget while the ring fills
            feed(&mut v, 19_000, 19_000, 1_900_000);
            feed(&mut v, 1_901_000, 1_000, 1_900_000 + (fast - 1) * 1_000);
            v.next_retarget_ms = 0;
            assert_eq!(v.on_share(1_900_000 + fast * 1_000), Some(want), "{fast}");
        }
    }

    /// x2 mode moves by exactly ×2 / ×½, still within the range.
    #[test]
    fn x2_mode_doubles_and_halves() {
        let x2 = VardiffConfig { x2: true, ..cfg() };
        let mut v = Vardiff::new(x2, 1.0);
        assert_eq!(
            feed(&mut v, 0, 1_000, 91_000),
            vec![(30_000, 2.0), (90_000, 4.0)]
        );
        let mut v = Vardiff::new(x2, 0.015);
        assert_eq!(feed(&mut v, 0, 100_000, 200_000), vec![(100_000, 0.01)]);
        let mut v = Vardiff::new(x2, 80.0);
        assert_eq!(feed(&mut v, 0, 1_000, 31_000), vec![(30_000, 100.0)]);
    }
}

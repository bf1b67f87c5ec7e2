//! What the miner counts: work done locally and what the pool said about each share.

use serde::Serialize;

use crate::stratum::ShareOutcome;
use crate::stratum::hashrate::SolRate;
use crate::stratum::wire::{ErrorCode, RpcError};

/// What a reject means, whatever shape the pool gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// The job is gone (21, "job not found", "stale").
    Stale,
    /// Already submitted (22, "duplicate").
    Duplicate,
    /// Below the share target (23 as s-nomp and miningcore use it; yiimp's 26; "low
    /// difficulty").
    LowDifficulty,
    /// Anything else: a bad share, yiimp's 23 "bad time" and 25 "invalid", a bare `false`,
    /// an error without a code.
    Other,
}

/// Classifies a pool's reject by its code, read together with its message where pools disagree
/// on the code: yiimp uses 23 for a bad time and 26 for low difficulty, s-nomp and miningcore use
/// 23 for low difficulty.
pub fn reject_kind(e: &RpcError) -> RejectKind {
    let m = e.message.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|w| m.contains(w));
    match e.code {
        ErrorCode::JobNotFound => RejectKind::Stale,
        ErrorCode::Duplicate => RejectKind::Duplicate,
        ErrorCode::LowDifficulty if says(&["time"]) => RejectKind::Other,
        ErrorCode::LowDifficulty => RejectKind::LowDifficulty,
        _ if says(&["low difficulty", "low diff", "above target", "low share"]) => {
            RejectKind::LowDifficulty
        }
        _ if says(&["duplicate"]) => RejectKind::Duplicate,
        _ if says(&["job not found", "stale"]) => RejectKind::Stale,
        _ => RejectKind::Other,
    }
}

/// Counters of one device (solver instance).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceCounts {
    /// The solver's name (backend and device).
    pub name: String,
    /// Nonces finished.
    pub nonces: u64,
    /// Equihash solutions found.
    pub solutions: u64,
    /// Solutions that failed the CPU re-check, and failed solver runs.
    pub compute_errors: u64,
    /// This device's shares the pool accepted.
    pub accepted: u64,
    /// This device's shares the pool rejected as stale.
    pub stale: u64,
    /// This device's shares the pool rejected as duplicate.
    pub duplicate: u64,
    /// This device's shares the pool rejected as low difficulty.
    pub low_difficulty: u64,
    /// This device's shares the pool rejected for another reason.
    pub other_rejected: u64,
    /// Times the watchdog restarted the device's solver.
    pub restarts: u64,
    /// Why it last did.
    pub last_restart: Option<String>,
}

/// Shares by what happened to them (the pool's answer, or why one was not sent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Shares {
    /// Submits sent.
    pub submitted: u64,
    /// Accepted.
    pub accepted: u64,
    /// Rejected as stale.
    pub stale: u64,
    /// Rejected as duplicate.
    pub duplicate: u64,
    /// Rejected as low difficulty.
    pub low_difficulty: u64,
    /// Rejected for another reason.
    pub other_rejected: u64,
    /// Not sent: their job was gone (found after a new block or a disconnect).
    pub dropped_stale: u64,
    /// Not sent: the pool raised the target after they were found.
    pub dropped_below_target: u64,
    /// Sent and unanswered when a connection dropped.
    pub lost_at_disconnect: u64,
}

/// The shares of one pool: each counted against the pool of the connection current when it
/// happened, so a run that fails over keeps each pool's own counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PoolShares {
    /// The pool (`stratum+tcp://host:port`), or [`OTHER_POOLS`] past [`POOLS_KEPT`] pools.
    pub url: String,
    /// Its shares.
    pub shares: Shares,
}

/// Pools kept apart in [`Accounting::pools`]; shares of any further pool (a pool redirecting
/// the miner again and again) are counted under [`OTHER_POOLS`].
pub const POOLS_KEPT: usize = 16;

/// The `url` of the entry that gathers the pools past [`POOLS_KEPT`].
pub const OTHER_POOLS: &str = "other";

/// What happened locally to a share candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// Submitted to the pool.
    Submitted,
    /// Not sent: its job was flushed or its connection is gone.
    Stale,
    /// Not sent: the pool raised the job's target since it was found.
    BelowTarget,
    /// Not sent: submitted before.
    Duplicate,
}

/// Counters of one mining run (`spec/stratum.md` §2 "miner-side accounting").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accounting {
    /// Per device, in worker order.
    pub devices: Vec<DeviceCounts>,
    /// Nonces (solver runs) finished.
    pub nonces: u64,
    /// Equihash solutions found.
    pub solutions: u64,
    /// Solutions that met the share target and passed the CPU re-check.
    pub candidates: u64,
    /// Solutions a backend returned that failed the CPU re-check (Equihash).
    pub compute_errors: u64,
    /// Submits sent.
    pub submitted: u64,
    /// Accepted by the pool.
    pub accepted: u64,
    /// Rejected as stale (21).
    pub stale: u64,
    /// Rejected as duplicate (22).
    pub duplicate: u64,
    /// Rejected as low difficulty (23).
    pub low_difficulty: u64,
    /// Any other reject.
    pub other_rejects: u64,
    /// Candidates dropped before submitting because their job was flushed or the connection
    /// that issued it is gone.
    pub stale_local: u64,
    /// Shares not submitted because the pool raised the job's target since they were found.
    pub below_target_local: u64,
    /// Shares not submitted because the same (job, nonce, solution) was submitted before.
    pub duplicate_local: u64,
    /// Submits unanswered when a connection dropped (counted, not retried).
    pub lost_at_disconnect: u64,
    /// Sum of the pool-scale difficulty of accepted shares.
    pub accepted_difficulty: f64,
    /// Sum of the squares of those difficulties (for the error bar under vardiff).
    pub accepted_difficulty_sq: f64,
    /// Connections made.
    pub connections: u64,
    /// Why connections ended or failed to start, most recent last (at most 32 kept).
    pub disconnects: Vec<String>,
    /// The pool of the current (or last) connection.
    pub pool: Option<String>,
    /// Whether a pool connection is up now.
    pub connected: bool,
    /// The share difficulty the pool set last (pool scale).
    pub difficulty: Option<f64>,
    /// Shares per pool, in the order the pools were first used.
    pub pools: Vec<PoolShares>,
}

impl Accounting {
    /// Zero counters for devices named `names` (index = worker).
    pub fn for_devices(names: &[String]) -> Accounting {
        Accounting {
            devices: names
                .iter()
                .map(|n| DeviceCounts {
                    name: n.clone(),
                    ..DeviceCounts::default()
                })
                .collect(),
            ..Accounting::default()
        }
    }

    /// Records a finished nonce of `worker` with its solutions and CPU re-check failures.
    pub fn record_nonce(&mut self, worker: usize, solutions: u64, compute_errors: u64) {
        self.nonces += 1;
        self.solutions += solutions;
        self.compute_errors += compute_errors;
        if let Some(d) = self.devices.get_mut(worker) {
            d.nonces += 1;
            d.solutions += solutions;
            d.compute_errors += compute_errors;
        }
    }

    /// Records that the watchdog restarted `worker`'s solver for `reason`.
    pub fn record_restart(&mut self, worker: usize, reason: &str) {
        if let Some(d) = self.devices.get_mut(worker) {
            d.restarts += 1;
            d.last_restart = Some(reason.to_string());
        }
    }

    /// Records the pool's answer to a share submitted at `difficulty` (found by `worker`, when
    /// known).
    pub fn record(&mut self, outcome: &ShareOutcome, difficulty: f64, worker: Option<usize>) {
        let kind = match outcome {
            ShareOutcome::Accepted => None,
            ShareOutcome::Rejected(e) => Some(reject_kind(e)),
        };
        match kind {
            None => {
                self.accepted += 1;
                self.accepted_difficulty += difficulty;
                self.accepted_difficulty_sq += difficulty * difficulty;
            }
            Some(RejectKind::Stale) => self.stale += 1,
            Some(RejectKind::Duplicate) => self.duplicate += 1,
            Some(RejectKind::LowDifficulty) => self.low_difficulty += 1,
            Some(RejectKind::Other) => self.other_rejects += 1,
        }
        if let Some(d) = worker.and_then(|w| self.devices.get_mut(w)) {
            match kind {
                None => d.accepted += 1,
                Some(RejectKind::Stale) => d.stale += 1,
                Some(RejectKind::Duplicate) => d.duplicate += 1,
                Some(RejectKind::LowDifficulty) => d.low_difficulty += 1,
                Some(RejectKind::Other) => d.other_rejected += 1,
            }
        }
        if let Some(p) = self.current_pool() {
            match kind {
                None => p.accepted += 1,
                Some(RejectKind::Stale) => p.stale += 1,
                Some(RejectKind::Duplicate) => p.duplicate += 1,
                Some(RejectKind::LowDifficulty) => p.low_difficulty += 1,
                Some(RejectKind::Other) => p.other_rejected += 1,
            }
        }
    }

    /// Records what happened locally to a share candidate.
    pub fn record_local(&mut self, what: Local) {
        match what {
            Local::Submitted => self.submitted += 1,
            Local::Stale => self.stale_local += 1,
            Local::BelowTarget => self.below_target_local += 1,
            Local::Duplicate => self.duplicate_local += 1,
        }
        if let Some(p) = self.current_pool() {
            match what {
                Local::Submitted => p.submitted += 1,
                Local::Stale => p.dropped_stale += 1,
                Local::BelowTarget => p.dropped_below_target += 1,
                Local::Duplicate => {}
            }
        }
    }

    /// The shares of the current (or last) pool, its entry made on first use; `None` before any
    /// pool.
    fn current_pool(&mut self) -> Option<&mut Shares> {
        let url = self.pool.as_deref()?;
        let known = self.pools.iter().any(|p| p.url == url);
        let key = if known || self.pools.len() < POOLS_KEPT {
            url
        } else {
            OTHER_POOLS
        };
        let at = match self.pools.iter().position(|p| p.url == key) {
            Some(at) => at,
            None => {
                self.pools.push(PoolShares {
                    url: key.to_string(),
                    ..PoolShares::default()
                });
                self.pools.len() - 1
            }
        };
        self.pools.get_mut(at).map(|p| &mut p.shares)
    }

    /// Records why a connection ended.
    pub fn record_disconnect(&mut self, reason: String, pending: usize) {
        self.lost_at_disconnect += pending as u64;
        if let Some(p) = self.current_pool() {
            p.lost_at_disconnect += pending as u64;
        }
        self.disconnects.push(reason);
        if self.disconnects.len() > 32 {
            self.disconnects.remove(0);
        }
    }

    /// Rejected shares of every kind.
    pub fn rejected(&self) -> u64 {
        self.stale + self.duplicate + self.low_difficulty + self.other_rejects
    }

    /// Nonces per second over `seconds`.
    pub fn nonces_per_s(&self, seconds: f64) -> f64 {
        self.nonces as f64 / seconds.max(1e-9)
    }

    /// Local Sol/s (solutions found) over `seconds`.
    pub fn sol_per_s(&self, seconds: f64) -> f64 {
        self.solutions as f64 / seconds.max(1e-9)
    }

    /// Pool-side Sol/s from accepted shares, 8192·ΣD/Δt, with its 1σ.
    pub fn pool_rate(&self, seconds: f64) -> Option<SolRate> {
        SolRate::from_shares(
            self.accepted,
            self.accepted_difficulty,
            self.accepted_difficulty_sq,
            seconds,
        )
    }

    /// One line for the log and the final summary.
    pub fn summary(&self, seconds: f64) -> String {
        let pool = self.pool_rate(seconds).map_or_else(
            || "pool: no accepted share yet".to_string(),
            |r| format!("pool: {r}"),
        );
        format!(
            "{:.1}s: {:.3} nonces/s, {:.2} Sol/s local; {pool}; shares: {} accepted, {} stale, \
             {} duplicate, {} low-diff, {} other rejects, {} dropped stale, {} dropped below a \
             raised target, {} lost at disconnect, {} compute errors{}{}",
            seconds,
            self.nonces_per_s(seconds),
            self.sol_per_s(seconds),
            self.accepted,
            self.stale,
            self.duplicate,
            self.low_difficulty,
            self.other_rejects,
            self.stale_local,
            self.below_target_local,
            self.lost_at_disconnect,
            self.compute_errors,
            self.restarts(),
            self.per_device(seconds)
        )
    }

    /// `, N solver restarts` when the watchdog restarted any.
    fn restarts(&self) -> String {
        match self.devices.iter().map(|d| d.restarts).sum::<u64>() {
            0 => String::new(),
            n => format!(", {n} solver restarts"),
        }
    }

    /// `; devices: NAME n.nnn nonces/s n.nn Sol/s, …` when more than one device mines.
    fn per_device(&self, seconds: f64) -> String {
        if self.devices.len() < 2 {
            return String::new();
        }
        let t = seconds.max(1e-9);
        let each: Vec<String> = self
            .devices
            .iter()
            .map(|d| {
                format!(
                    "{} {:.3} nonces/s {:.2} Sol/s",
                    d.name,
                    d.nonces as f64 / t,
                    d.solutions as f64 / t
                )
            })
            .collect();
        format!("; devices: {}", each.join(", "))
    }
}

#[cfg(test)]
mod reject_tests {
    use super::*;

    /// Interop fault 5: rejects in the shapes real pools send are each counted as what they
    /// mean, and none is fatal (the session hands every one to the accounting).
    #[test]
    fn reject_shapes_of_real_pools_count_correctly() {
        let e = |code: i64, m: &str| RpcError::new(ErrorCode::from_i64(code), m);
        for (err, kind) in [
            (e(21, "Job not found"), RejectKind::Stale),
            (e(22, "Duplicate share"), RejectKind::Duplicate),
            (e(23, "Low difficulty share"), RejectKind::LowDifficulty),
            // yiimp (stratum/client_submit.cpp)
            (e(23, "Invalid time rolling"), RejectKind::Other),
            (e(23, "bad time"), RejectKind::Other),
            (e(25, "Invalid share"), RejectKind::Other),
            (e(26, "Low difficulty share"), RejectKind::LowDifficulty),
            // s-nomp's `error: true`, a bare string, magicpool's bare `result: false`
            (
                RpcError::new(ErrorCode::Unspecified, "true"),
                RejectKind::Other,
            ),
            (
                RpcError::new(ErrorCode::Unspecified, "stale share"),
                RejectKind::Stale,
            ),
            (e(20, "result false"), RejectKind::Other),
        ] {
            assert_eq!(reject_kind(&err), kind, "{err:?}");
        }
        let mut a = Accounting::default();
        a.record(
            &ShareOutcome::Rejected(e(26, "Low difficulty share")),
            1.0,
            None,
        );
        a.record(
            &ShareOutcome::Rejected(e(23, "Invalid time rolling")),
            1.0,
            None,
        );
        assert_eq!((a.low_difficulty, a.other_rejects), (1, 1));
    }

    /// Each share counts against the pool current when it happened: a run that fails over
    /// keeps each pool's counts, and they add up to the totals.
    #[test]
    fn shares_are_counted_per_pool() {
        let mut a = Accounting::default();
        a.record_local(Local::Stale);
        assert!(a.pools.is_empty(), "no pool yet: totals only");
        a.pool = Some("stratum+tcp://a:1".into());
        for _ in 0..3 {
            a.record_local(Local::Submitted);
        }
        a.record(&ShareOutcome::Accepted, 1.0, None);
        a.record(&ShareOutcome::Accepted, 1.0, None);
        a.record_local(Local::BelowTarget);
        a.record_disconnect("pool closed".into(), 1);
        a.pool = Some("stratum+tcp://b:2".into());
        a.record_local(Local::Submitted);
        a.record(
            &ShareOutcome::Rejected(RpcError::new(ErrorCode::JobNotFound, "stale")),
            1.0,
            None,
        );
        a.record_local(Local::Stale);
        let p: Vec<_> = a
            .pools
            .iter()
            .map(|p| {
                (
                    p.url.as_str(),
                    [
                        p.shares.submitted,
                        p.shares.accepted,
                        p.shares.stale,
                        p.shares.dropped_stale,
                        p.shares.dropped_below_target,
                        p.shares.lost_at_disconnect,
                    ],
                )
            })
            .collect();
        assert_eq!(
            p,
            [
                ("stratum+tcp://a:1", [3, 2, 0, 0, 1, 1]),
                ("stratum+tcp://b:2", [1, 0, 1, 1, 0, 0]),
            ]
        );
        assert_eq!(
            (
                a.submitted,
                a.accepted,
                a.stale,
                a.stale_local,
                a.below_target_local,
                a.lost_at_disconnect
            ),
            (4, 2, 1, 2, 1, 1)
        );
        // Back on the first pool: its entry goes on.
        a.pool = Some("stratum+tcp://a:1".into());
        a.record(&ShareOutcome::Accepted, 1.0, None);
        assert_eq!((a.pools.len(), a.pools[0].shares.accepted), (2, 3));
    }

    /// A pool that redirects the miner to ever new pools cannot grow the list without bound.
    #[test]
    fn pools_past_the_kept_number_share_one_entry() {
        let mut a = Accounting::default();
        for i in 0..POOLS_KEPT + 4 {
            a.pool = Some(format!("stratum+tcp://p{i}:1"));
            a.record(&ShareOutcome::Accepted, 1.0, None);
        }
        assert_eq!(a.pools.len(), POOLS_KEPT + 1);
        let last = &a.pools[POOLS_KEPT];
        assert_eq!((last.url.as_str(), last.shares.accepted), (OTHER_POOLS, 4));
        assert_eq!(
            a.pools.iter().map(|p| p.shares.accepted).sum::<u64>(),
            a.accepted
        );
    }
}

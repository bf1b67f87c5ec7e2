//! What a running miner reports about itself: the API's documents (`/v1/status`, lolMiner's
//! `/summary`, HiveOS's stats), the Prometheus text and the dashboard's history, all built here
//! from the [`Accounting`] counters sampled once per second.
//!
//! Pure: the time (`now_ms` since start, the Unix time) and the sensor readings come in as
//! arguments; nothing here reads a clock, a socket or a device.
//!
//! - [`RateMeter`] keeps the per-device counters of the last 15 minutes, one sample per call,
//!   and gives Sol/s and nonces/s over 10 s, 60 s and 15 min windows (over the time mined so
//!   far while the miner is younger than a window), plus one point per
//!   [`HISTORY_STEP_MS`] for the last hour (the dashboard's chart).
//! - [`Status`] is the full document of `/v1/status`; [`lolminer`], [`hiveos`] and [`metrics`]
//!   are other views of the same document, so they cannot disagree.

pub mod hiveos;
pub mod lolminer;
pub mod metrics;

use std::collections::VecDeque;

use serde::Serialize;

use super::Accounting;
pub use super::accounting::{PoolShares, Shares};

/// The rate windows, in milliseconds: 10 s, 60 s, 15 min.
pub const WINDOWS_MS: [u64; 3] = [10_000, 60_000, 900_000];
/// One history point per 10 s.
pub const HISTORY_STEP_MS: u64 = 10_000;
/// An hour of history points.
pub const HISTORY_POINTS: usize = 360;

/// Cumulative counters of every device at one time.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    t_ms: u64,
    nonces: Vec<u64>,
    solutions: Vec<u64>,
}

impl Sample {
    fn of(now_ms: u64, acc: &Accounting) -> Sample {
        Sample {
            t_ms: now_ms,
            nonces: acc.devices.iter().map(|d| d.nonces).collect(),
            solutions: acc.devices.iter().map(|d| d.solutions).collect(),
        }
    }
}

/// Sol/s of every device at one time of the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// Seconds since the miner started.
    pub t_s: f64,
    /// Sol/s of each device over the step that ended here.
    pub sol_per_s: Vec<f64>,
}

/// Rates over sliding windows from counters sampled over time (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct RateMeter {
    samples: VecDeque<Sample>,
    history: VecDeque<HistoryPoint>,
    last_point: Option<Sample>,
}

/// A rate over each of [`WINDOWS_MS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Windows {
    /// Over the last 10 s.
    #[serde(rename = "10s")]
    pub s10: f64,
    /// Over the last 60 s.
    #[serde(rename = "60s")]
    pub s60: f64,
    /// Over the last 15 min.
    #[serde(rename = "15m")]
    pub m15: f64,
}

impl Windows {
    fn from_fn(mut f: impl FnMut(u64) -> f64) -> Windows {
        Windows {
            s10: f(WINDOWS_MS[0]),
            s60: f(WINDOWS_MS[1]),
            m15: f(WINDOWS_MS[2]),
        }
    }

    fn add(self, o: Windows) -> Windows {
        Windows {
            s10: self.s10 + o.s10,
            s60: self.s60 + o.s60,
            m15: self.m15 + o.m15,
        }
    }
}

/// One device's rates now.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeviceRates {
    /// Sol/s over each window.
    pub sol_per_s: Windows,
    /// Nonces per second over each window.
    pub nonces_per_s: Windows,
}

impl RateMeter {
    /// Takes the counters at `now_ms` (milliseconds since the miner started, non-decreasing).
    pub fn record(&mut self, now_ms: u64, acc: &Accounting) {
        let s = Sample::of(now_ms, acc);
        while self
            .samples
            .front()
            .is_some_and(|f| f.t_ms + WINDOWS_MS[2] < now_ms)
        {
            self.samples.pop_front();
        }
        self.point(&s);
        self.samples.push_back(s);
    }

    /// Adds a history point when a step has passed since the last one.
    fn point(&mut self, s: &Sample) {
        let Some(last) = &self.last_point else {
            self.last_point = Some(s.clone());
            return;
        };
        if s.t_ms < last.t_ms + HISTORY_STEP_MS {
            return;
        }
        let dt = (s.t_ms - last.t_ms) as f64 / 1000.0;
        let sol_per_s = per_device(&s.solutions, &last.solutions, dt);
        self.history.push_back(HistoryPoint {
            t_s: s.t_ms as f64 / 1000.0,
            sol_per_s,
        });
        if self.history.len() > HISTORY_POINTS {
            self.history.pop_front();
        }
        self.last_point = Some(s.clone());
    }

    /// The rates of every device as of the last sample.
    pub fn rates(&self) -> Vec<DeviceRates> {
        let Some(now) = self.samples.back() else {
            return Vec::new();
        };
        (0..now.nonces.len())
            .map(|d| DeviceRates {
                sol_per_s: Windows::from_fn(|w| self.rate(w, d, |s| &s.solutions)),
                nonces_per_s: Windows::from_fn(|w| self.rate(w, d, |s| &s.nonces)),
            })
            .collect()
    }

    /// Device `d`'s rate of the counter `pick` over the last `window_ms` (or since the first
    /// sample, when it is younger).
    fn rate(&self, window_ms: u64, d: usize, pick: impl Fn(&Sample) -> &Vec<u64>) -> f64 {
        let Some(now) = self.samples.back() else {
            return 0.0;
        };
        let since = now.t_ms.saturating_sub(window_ms);
        let Some(old) = self.samples.iter().find(|s| s.t_ms >= since) else {
            return 0.0;
        };
        let dt = now.t_ms.saturating_sub(old.t_ms) as f64 / 1000.0;
        // A device missing from an old sample had counted nothing yet.
        let (a, b) = (pick(now).get(d), pick(old).get(d).copied().unwrap_or(0));
        match a {
            Some(a) if dt > 0.0 => a.saturating_sub(b) as f64 / dt,
            _ => 0.0,
        }
    }

    /// The history points, oldest first.
    pub fn history(&self) -> Vec<HistoryPoint> {
        self.history.iter().cloned().collect()
    }
}

fn per_device(now: &[u64], then: &[u64], dt_s: f64) -> Vec<f64> {
    now.iter()
        .zip(then)
        .map(|(a, b)| a.saturating_sub(*b) as f64 / dt_s.max(1e-9))
        .collect()
}

/// A device's sensors as the API shows them (from `crate::telemetry` in the binary).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Sensors {
    /// GPU temperature, °C.
    pub temperature_c: Option<f64>,
    /// Board power, W.
    pub power_w: Option<f64>,
    /// Fan speed, % of maximum.
    pub fan_percent: Option<f64>,
    /// Fan speed, RPM.
    pub fan_rpm: Option<u32>,
}

/// What the document needs besides the counters: who and what the miner is, and its devices'
/// sensors.
#[derive(Debug, Clone, Default)]
pub struct MinerInfo {
    /// "fluxminer 0.1.0".
    pub software: String,
    /// "ZelHash (Equihash 125,4)".
    pub algorithm: String,
    /// Equihash N and K.
    pub equihash: (u32, u32),
    /// ADDR.WORKER as sent to the pool.
    pub user: String,
    /// Unix time the miner started.
    pub started_unix: u64,
    /// Whether mining is paused (API control).
    pub paused: bool,
    /// Per device: PCI address ("0000:03:00.0") when known.
    pub bus_ids: Vec<Option<String>>,
    /// Per device: the sensors, or why there are none.
    pub sensors: Vec<Result<Sensors, String>>,
}

/// The pool's side.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PoolStatus {
    /// The current (or last) pool.
    pub url: Option<String>,
    /// ADDR.WORKER.
    pub user: String,
    /// A connection is up.
    pub connected: bool,
    /// The share difficulty in force (pool scale).
    pub difficulty: Option<f64>,
    /// Connections made so far.
    pub connections: u64,
    /// Sol/s the pool credits, 8192·ΣD/Δt over the whole run.
    pub estimate_sol_per_s: Option<f64>,
    /// 1σ of that estimate.
    pub estimate_sigma: Option<f64>,
    /// Why the last connection ended.
    pub last_disconnect: Option<String>,
    /// Shares per pool used in this run, in the order first used (a run that fails over or is
    /// redirected keeps each pool's own counts; they add up to the totals).
    pub shares_by_pool: Vec<PoolShares>,
}

/// One device.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceStatus {
    /// Its position (the `--devices` number).
    pub index: usize,
    /// Backend and device name.
    pub name: String,
    /// PCI address when known.
    pub bus_id: Option<String>,
    /// Sol/s over 10 s, 60 s, 15 min.
    pub sol_per_s: Windows,
    /// Nonces per second over 10 s, 60 s, 15 min.
    pub nonces_per_s: Windows,
    /// Nonces finished.
    pub nonces: u64,
    /// Solutions found.
    pub solutions: u64,
    /// Accepted shares.
    pub accepted: u64,
    /// Shares rejected as stale.
    pub stale: u64,
    /// Shares rejected as duplicate.
    pub duplicate: u64,
    /// Shares rejected as low difficulty.
    pub low_difficulty: u64,
    /// Shares rejected for another reason.
    pub other_rejected: u64,
    /// Every reject but stale (lolMiner's `Worker_Rejected`).
    pub rejected: u64,
    /// Solutions that failed the CPU re-check, and failed solver runs.
    pub compute_errors: u64,
    /// Times the watchdog restarted this device's solver.
    pub restarts: u64,
    /// Why it last did.
    pub last_restart: Option<String>,
    /// Sensors, when readable.
    pub sensors: Option<Sensors>,
    /// Why there are no sensors.
    pub sensors_absent: Option<String>,
    /// Sol/s (60 s) per watt, when the power is known.
    pub sol_per_watt: Option<f64>,
}

/// Totals over every device.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Sol/s over 10 s, 60 s, 15 min.
    pub sol_per_s: Windows,
    /// Nonces per second over 10 s, 60 s, 15 min.
    pub nonces_per_s: Windows,
    /// Nonces finished.
    pub nonces: u64,
    /// Solutions found.
    pub solutions: u64,
    /// Compute errors.
    pub compute_errors: u64,
    /// Board power of the devices that report it, W.
    pub power_w: Option<f64>,
    /// Shares.
    pub shares: Shares,
}

/// `GET /v1/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    /// "fluxminer 0.1.0".
    pub software: String,
    /// Increases with every refresh.
    pub seq: u64,
    /// "ZelHash (Equihash 125,4)".
    pub algorithm: String,
    /// Equihash N and K.
    pub equihash: (u32, u32),
    /// Unix time of start.
    pub started_unix: u64,
    /// Unix time of this document.
    pub updated_unix: u64,
    /// Seconds since start.
    pub uptime_s: f64,
    /// Mining paused through the API.
    pub paused: bool,
    /// The pool.
    pub pool: PoolStatus,
    /// Every device together.
    pub total: Totals,
    /// Each device.
    pub devices: Vec<DeviceStatus>,
}

impl Status {
    /// The document for refresh `seq` at `now_ms` after start (`now_unix` wall time).
    pub fn build(
        seq: u64,
        now_ms: u64,
        now_unix: u64,
        acc: &Accounting,
        meter: &RateMeter,
        ctx: &MinerInfo,
    ) -> Status {
        let uptime_s = now_ms as f64 / 1000.0;
        let rates = meter.rates();
        let devices: Vec<DeviceStatus> = acc
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let r = rates.get(i).copied().unwrap_or_default();
                let (sensors, absent) = match ctx.sensors.get(i) {
                    Some(Ok(s)) => (Some(*s), None),
                    Some(Err(why)) => (None, Some(why.clone())),
                    None => (None, Some("no sensor source".to_string())),
                };
                let watts = sensors.and_then(|s| s.power_w).filter(|&w| w > 0.0);
                DeviceStatus {
                    index: i,
                    name: d.name.clone(),
                    bus_id: ctx.bus_ids.get(i).cloned().flatten(),
                    sol_per_s: r.sol_per_s,
                    nonces_per_s: r.nonces_per_s,
                    nonces: d.nonces,
                    solutions: d.solutions,
                    accepted: d.accepted,
                    stale: d.stale,
                    duplicate: d.duplicate,
                    low_difficulty: d.low_difficulty,
                    other_rejected: d.other_rejected,
                    rejected: d.duplicate + d.low_difficulty + d.other_rejected,
                    compute_errors: d.compute_errors,
                    restarts: d.restarts,
                    last_restart: d.last_restart.clone(),
                    sensors,
                    sensors_absent: absent,
                    sol_per_watt: watts.map(|w| r.sol_per_s.s60 / w),
                }
            })
            .collect();
        let estimate = acc.pool_rate(uptime_s);
        Status {
            software: ctx.software.clone(),
            seq,
            algorithm: ctx.algorithm.clone(),
            equihash: ctx.equihash,
            started_unix: ctx.started_unix,
            updated_unix: now_unix,
            uptime_s,
            paused: ctx.paused,
            pool: PoolStatus {
                url: acc.pool.clone(),
                user: ctx.user.clone(),
                connected: acc.connected,
                difficulty: acc.difficulty,
                connections: acc.connections,
                estimate_sol_per_s: estimate.map(|e| e.sol_per_s),
                estimate_sigma: estimate.map(|e| e.sigma),
                last_disconnect: acc.disconnects.last().cloned(),
                shares_by_pool: acc.pools.clone(),
            },
            total: totals(acc, &devices),
            devices,
        }
    }

    /// Rejected shares of every kind.
    pub fn rejected(&self) -> u64 {
        let s = &self.total.shares;
        s.stale + s.duplicate + s.low_difficulty + s.other_rejected
    }
}

fn totals(acc: &Accounting, devices: &[DeviceStatus]) -> Totals {
    let powers: Vec<f64> = devices
        .iter()
        .filter_map(|d| d.sensors.and_then(|s| s.power_w))
        .collect();
    Totals {
        sol_per_s: devices
            .iter()
            .fold(Windows::default(), |t, d| t.add(d.sol_per_s)),
        nonces_per_s: devices
            .iter()
            .fold(Windows::default(), |t, d| t.add(d.nonces_per_s)),
        nonces: acc.nonces,
        solutions: acc.solutions,
        compute_errors: acc.compute_errors,
        power_w: (!powers.is_empty()).then(|| powers.iter().sum()),
        shares: Shares {
            submitted: acc.submitted,
            accepted: acc.accepted,
            stale: acc.stale,
            duplicate: acc.duplicate,
            low_difficulty: acc.low_difficulty,
            other_rejected: acc.other_rejects,
            dropped_stale: acc.stale_local,
            dropped_below_target: acc.below_target_local,
            lost_at_disconnect: acc.lost_at_disconnect,
        },
    }
}

#[cfg(test)]
mod tests;

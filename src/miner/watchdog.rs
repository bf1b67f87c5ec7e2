//! The solver watchdog, sans I/O: it watches every worker's nonces and says when one must be
//! restarted, and when the run must end instead. Time comes in as milliseconds; the driver
//! (`net::client`) calls [`Watchdog::check`] on its tick and after every report, and carries out
//! the [`Action`]s.
//!
//! # Rules
//! - **Stall**: a worker that finishes no nonce for max(`stall_factor` × its expected nonce
//!   time, `stall_min_ms`) while there is work on the board is restarted. The expected time
//!   starts at the solver's self-test time (`seed_ms`; a worker without one has the floor alone
//!   until its first nonce), then follows the time between its nonces (a moving average of
//!   weight 1/8), so a slow but steady device sets its own pace. Time with nothing on the board
//!   (no job yet, a disconnect, mining paused) never counts.
//! - **Errors**: `error_streak` nonces in a row that fail (a solution failing the CPU re-check,
//!   or a failed solver run) restart the worker.
//! - **Crash**: a worker thread that ended on its own (a panic) is restarted.
//! - **Give up** ([`Action::Exit`]): a worker needing a restart when it was already restarted
//!   `max_restarts` times within `restart_window_ms`, a failed rebuild, or a rebuild (creation
//!   and self-test) taking longer than max(`rebuild_timeout_ms`, the worker's stall limit).
//! - A restart gives the worker a new generation ([`Watchdog::generation`]): the driver keeps
//!   the new solver's nonces apart from the abandoned one's.
//!
//! With the watchdog off (`enabled: false`) only a crashed worker is acted on: the run ends,
//! never a silent stop.

use std::collections::VecDeque;

/// Weight of a new sample in the expected nonce time.
const EMA_WEIGHT: f64 = 0.125;

/// The watchdog's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchdogConfig {
    /// Stall and error rules on; off, only a crashed worker ends the run.
    pub enabled: bool,
    /// A worker is stalled after this many times its expected nonce time without a nonce.
    pub stall_factor: f64,
    /// ... and never sooner than this.
    pub stall_min_ms: u64,
    /// Nonces in a row that fail before a restart (0: never for errors).
    pub error_streak: u32,
    /// Restarts of one worker allowed within `restart_window_ms`; one more ends the run.
    pub max_restarts: u32,
    /// The window for `max_restarts`.
    pub restart_window_ms: u64,
    /// The shortest time a rebuild is given before the run ends.
    pub rebuild_timeout_ms: u64,
    /// Each worker's expected nonce time before its first nonce (its self-test time), by worker
    /// index; missing or 0: unknown.
    pub seed_ms: Vec<u64>,
}

impl Default for WatchdogConfig {
    /// A hung GPU restarted about a minute after its last nonce; a CPU solver (seconds per
    /// nonce) given ten times its pace; a dead device (every run failing) within five nonces;
    /// three restarts of one device within ten minutes before the process gives up.
    fn default() -> WatchdogConfig {
        WatchdogConfig {
            enabled: true,
            stall_factor: 10.0,
            stall_min_ms: 60_000,
            error_streak: 5,
            max_restarts: 3,
            restart_window_ms: 600_000,
            rebuild_timeout_ms: 120_000,
            seed_ms: Vec::new(),
        }
    }
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Abandon worker `worker`'s solver and build a fresh one; then call
    /// [`Watchdog::rebuilt`] or [`Watchdog::rebuild_failed`].
    Restart {
        /// The worker.
        worker: usize,
        /// Why (without the worker's name).
        reason: String,
    },
    /// End the run: the process exits non-zero with this reason.
    Exit {
        /// Why, naming the worker.
        reason: String,
    },
}

/// What the watchdog knows of one worker.
#[derive(Debug, Clone)]
struct Watch {
    name: String,
    generation: u64,
    expected_ms: Option<f64>,
    last_progress_ms: u64,
    error_streak: u32,
    last_error: String,
    ended: Option<String>,
    rebuilding_since: Option<u64>,
    last_reason: String,
    restarts: VecDeque<u64>,
}

/// The watchdog. See the module doc.
#[derive(Debug, Clone)]
pub struct Watchdog {
    cfg: WatchdogConfig,
    workers: Vec<Watch>,
    work_since: Option<u64>,
}

/// `12.3 s`, or `45 ms` under a second.
fn secs(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

impl Watchdog {
    /// A watchdog for workers named `names` (index = worker), all started at `now_ms`.
    pub fn new(cfg: WatchdogConfig, names: &[String], now_ms: u64) -> Watchdog {
        let workers = names
            .iter()
            .enumerate()
            .map(|(i, name)| Watch {
                name: name.clone(),
                generation: 0,
                expected_ms: cfg.seed_ms.get(i).filter(|&&s| s > 0).map(|&s| s as f64),
                last_progress_ms: now_ms,
                error_streak: 0,
                last_error: String::new(),
                ended: None,
                rebuilding_since: None,
                last_reason: String::new(),
                restarts: VecDeque::new(),
            })
            .collect();
        Watchdog {
            cfg,
            workers,
            work_since: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &WatchdogConfig {
        &self.cfg
    }

    /// The generation of `worker`'s current solver (0 for the first; each restart adds one).
    pub fn generation(&self, worker: usize) -> u64 {
        self.workers.get(worker).map_or(0, |w| w.generation)
    }

    /// `worker`'s expected nonce time, when known.
    pub fn expected_ms(&self, worker: usize) -> Option<u64> {
        self.workers.get(worker)?.expected_ms.map(|e| e as u64)
    }

    /// How long `worker` may go without a nonce while there is work.
    pub fn limit_ms(&self, worker: usize) -> u64 {
        let expected = self.workers.get(worker).and_then(|w| w.expected_ms);
        let scaled = expected.map_or(0, |e| (self.cfg.stall_factor * e) as u64);
        scaled.max(self.cfg.stall_min_ms)
    }

    /// The longest stall limit of any worker.
    pub fn longest_limit_ms(&self) -> u64 {
        (0..self.workers.len())
            .map(|i| self.limit_ms(i))
            .max()
            .unwrap_or(self.cfg.stall_min_ms)
    }

    fn rebuild_limit_ms(&self, worker: usize) -> u64 {
        self.cfg.rebuild_timeout_ms.max(self.limit_ms(worker))
    }

    fn label(&self, worker: usize) -> String {
        let name = self.workers.get(worker).map_or("?", |w| w.name.as_str());
        format!("solver {worker} ({name})")
    }

    /// `worker` finished a nonce at `now_ms`, with `compute_errors` solutions failing the CPU
    /// re-check.
    pub fn on_nonce(&mut self, worker: usize, now_ms: u64, compute_errors: u64) {
        let work_since = self.work_since;
        let Some(w) = self.workers.get_mut(worker) else {
            return;
        };
        // A sample only while work is known to be on the board: the time of a nonce, not of a
        // wait for a job.
        if let Some(since) = work_since {
            let sample = now_ms.saturating_sub(w.last_progress_ms.max(since)) as f64;
            w.expected_ms = Some(match w.expected_ms {
                Some(e) => e + EMA_WEIGHT * (sample - e),
                None => sample,
            });
        }
        w.last_progress_ms = now_ms;
        if compute_errors == 0 {
            w.error_streak = 0;
        } else {
            w.error_streak += 1;
            w.last_error = format!("{compute_errors} solutions failed the CPU re-check");
        }
    }

    /// `worker`'s solver failed on a nonce at `now_ms` (it answered: not a stall, but an error).
    pub fn on_failed(&mut self, worker: usize, now_ms: u64, error: &str) {
        if let Some(w) = self.workers.get_mut(worker) {
            w.last_progress_ms = now_ms;
            w.error_streak += 1;
            w.last_error = format!("solver error: {error}");
        }
    }

    /// `worker`'s thread ended without being asked to (`why`: the panic message).
    pub fn on_thread_ended(&mut self, worker: usize, why: String) {
        if let Some(w) = self.workers.get_mut(worker) {
            w.ended = Some(why);
        }
    }

    /// Applies the rules at `now_ms`; `has_work`: the board holds an assignment. Stops at the
    /// first [`Action::Exit`].
    pub fn check(&mut self, now_ms: u64, has_work: bool) -> Vec<Action> {
        if has_work {
            self.work_since.get_or_insert(now_ms);
        } else {
            self.work_since = None;
        }
        let mut out = Vec::new();
        for i in 0..self.workers.len() {
            if let Some(a) = self.check_worker(i, now_ms) {
                let exit = matches!(a, Action::Exit { .. });
                out.push(a);
                if exit {
                    break;
                }
            }
        }
        out
    }

    fn check_worker(&mut self, i: usize, now: u64) -> Option<Action> {
        if let Some(since) = self.workers[i].rebuilding_since {
            let limit = self.rebuild_limit_ms(i);
            return (now.saturating_sub(since) >= limit).then(|| Action::Exit {
                reason: format!(
                    "{}: restarted because {}, but building a new solver took longer than {}",
                    self.label(i),
                    self.workers[i].last_reason,
                    secs(limit)
                ),
            });
        }
        let reason = self.why_restart(i, now)?;
        Some(self.restart(i, now, reason))
    }

    /// Why worker `i` needs a restart now, if it does.
    fn why_restart(&self, i: usize, now: u64) -> Option<String> {
        let w = &self.workers[i];
        if let Some(why) = &w.ended {
            return Some(format!("its thread ended: {why}"));
        }
        if !self.cfg.enabled {
            return None;
        }
        if self.cfg.error_streak > 0 && w.error_streak >= self.cfg.error_streak {
            return Some(format!(
                "{} nonces in a row failed (last: {})",
                w.error_streak, w.last_error
            ));
        }
        let silent = now.saturating_sub(self.work_since?.max(w.last_progress_ms));
        let limit = self.limit_ms(i);
        let pace = w.expected_ms.map_or_else(
            || "no pace known yet".to_string(),
            |e| format!("{} × {} per nonce", self.cfg.stall_factor, secs(e as u64)),
        );
        (silent >= limit).then(|| {
            format!(
                "no nonce for {} with work to do (limit {}: {pace}, at least {})",
                secs(silent),
                secs(limit),
                secs(self.cfg.stall_min_ms)
            )
        })
    }

    /// Restarts worker `i` for `reason`, or gives up.
    fn restart(&mut self, i: usize, now: u64, reason: String) -> Action {
        let label = self.label(i);
        if !self.cfg.enabled {
            return Action::Exit {
                reason: format!("{label}: {reason} (the watchdog is off: not restarting it)"),
            };
        }
        let (max, window) = (self.cfg.max_restarts, self.cfg.restart_window_ms);
        let w = &mut self.workers[i];
        while w
            .restarts
            .front()
            .is_some_and(|&t| now.saturating_sub(t) >= window)
        {
            w.restarts.pop_front();
        }
        if max == 0 {
            return Action::Exit {
                reason: format!("{label}: {reason} (restarts in the process are off)"),
            };
        }
        if w.restarts.len() >= max as usize {
            return Action::Exit {
                reason: format!(
                    "{label}: {reason}; restarted {} times in the last {} min already",
                    w.restarts.len(),
                    window / 60_000
                ),
            };
        }
        w.restarts.push_back(now);
        w.generation += 1;
        w.rebuilding_since = Some(now);
        w.error_streak = 0;
        w.ended = None;
        w.last_reason.clone_from(&reason);
        Action::Restart { worker: i, reason }
    }

    /// `worker`'s new solver is mining from `now_ms`.
    pub fn rebuilt(&mut self, worker: usize, now_ms: u64) {
        if let Some(w) = self.workers.get_mut(worker) {
            w.rebuilding_since = None;
            w.last_progress_ms = now_ms;
            w.error_streak = 0;
        }
    }

    /// Building `worker`'s new solver failed with `error`: the run ends.
    pub fn rebuild_failed(&mut self, worker: usize, error: &str) -> Action {
        let why = self
            .workers
            .get(worker)
            .map_or("", |w| w.last_reason.as_str());
        Action::Exit {
            reason: format!(
                "{}: restarted because {why}, but building a new solver failed: {error}",
                self.label(worker)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("dev{i}")).collect()
    }

    fn cfg(factor: f64, min_ms: u64, seeds: &[u64]) -> WatchdogConfig {
        WatchdogConfig {
            stall_factor: factor,
            stall_min_ms: min_ms,
            seed_ms: seeds.to_vec(),
            ..WatchdogConfig::default()
        }
    }

    /// Checks every 250 ms from `from` (inclusive) to `to` (exclusive); the actions with their
    /// times.
    fn run(d: &mut Watchdog, from: u64, to: u64, work: bool) -> Vec<(u64, Action)> {
        (from..to)
            .step_by(250)
            .flat_map(|t| d.check(t, work).into_iter().map(move |a| (t, a)))
            .collect()
    }

    fn restart_reason(a: &Action) -> &str {
        match a {
            Action::Restart { reason, .. } => reason,
            other => panic!("expected a restart, got {other:?}"),
        }
    }

    fn exit_reason(a: &Action) -> &str {
        match a {
            Action::Exit { reason } => reason,
            other => panic!("expected an exit, got {other:?}"),
        }
    }

    /// No job, a disconnect or a pause (nothing on the board) is never a stall, however long;
    /// once work is on the board the worker gets its full limit from then.
    #[test]
    fn no_work_is_never_a_stall() {
        let mut d = Watchdog::new(cfg(10.0, 5_000, &[1_000]), &names(1), 0);
        assert_eq!(run(&mut d, 0, 3_600_000, false), []);
        let got = run(&mut d, 3_600_000, 3_700_000, true);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, 3_600_000 + 10_000, "10 × 1 s after work came");
        assert!(restart_reason(&got[0].1).starts_with("no nonce for 10.0 s with work to do"));
        // Work that comes and goes: only the time with work counts.
        let mut d = Watchdog::new(cfg(10.0, 5_000, &[1_000]), &names(1), 0);
        for k in 0..100 {
            let t = k * 20_000;
            assert_eq!(run(&mut d, t, t + 9_000, true), [], "round {k}");
            assert_eq!(run(&mut d, t + 9_000, t + 20_000, false), []);
        }
    }

    /// A slow but steady device (25 s a nonce with jitter, self-test 20 s) mined for ten hours
    /// with a tight factor of 4 is never restarted; nor is one slowing down gradually (thermal
    /// throttling: 2 s a nonce to 12 s over the run).
    #[test]
    fn a_slow_but_steady_device_is_never_restarted() {
        let mut d = Watchdog::new(cfg(4.0, 5_000, &[20_000]), &names(1), 0);
        let mut t = 0;
        for k in 0..1_440u64 {
            let next = t + 25_000 + (k * 7_919 % 10_000) - 5_000;
            assert_eq!(run(&mut d, t, next, true), [], "nonce {k}");
            d.on_nonce(0, next, 0);
            t = next;
        }
        let e = d.expected_ms(0).unwrap();
        assert!((20_000..30_000).contains(&e), "{e}");
        let mut d = Watchdog::new(cfg(4.0, 5_000, &[2_000]), &names(1), 0);
        let mut t = 0;
        for k in 0..2_000u64 {
            let next = t + 2_000 + k * 5;
            assert_eq!(run(&mut d, t, next, true), [], "nonce {k}");
            d.on_nonce(0, next, 0);
            t = next;
        }
    }

    /// A worker that stops answering is restarted at max(factor × its pace, floor) after its
    /// last nonce, not a tick before; the other worker mining on is left alone. On a fast GPU
    /// the floor decides.
    #[test]
    fn a_hung_worker_is_restarted_at_its_limit() {
        let mut d = Watchdog::new(cfg(10.0, 500, &[300, 300]), &names(2), 0);
        d.check(0, true);
        for k in 1..=40 {
            d.on_nonce(0, k * 100, 0);
            d.on_nonce(1, k * 100, 0);
        }
        let e = d.expected_ms(0).unwrap();
        assert!((100..110).contains(&e), "the pace follows the nonces: {e}");
        let limit = d.limit_ms(0);
        assert_eq!(limit, (10.0 * d.workers[0].expected_ms.unwrap()) as u64);
        let last = 4_000;
        let mut t = last;
        let mut got = Vec::new();
        while got.is_empty() {
            t += 1;
            d.on_nonce(1, t, 0);
            got = d.check(t, true);
        }
        assert_eq!(t, last + limit);
        assert_eq!(got.len(), 1);
        assert!(
            matches!(got[0], Action::Restart { worker: 0, .. }),
            "{got:?}"
        );
        // A GPU at 50 ms a nonce hangs: the one-minute floor decides.
        let mut d = Watchdog::new(cfg(10.0, 60_000, &[50]), &names(1), 0);
        d.check(0, true);
        d.on_nonce(0, 50, 0);
        assert_eq!(run(&mut d, 50, 60_050, true), []);
        assert_eq!(run(&mut d, 60_050, 60_300, true).len(), 1);
    }

    /// Without a self-test time the floor is the limit until the first nonce.
    #[test]
    fn an_unseeded_worker_has_the_floor() {
        let mut d = Watchdog::new(cfg(10.0, 2_000, &[]), &names(1), 0);
        assert_eq!((d.expected_ms(0), d.limit_ms(0)), (None, 2_000));
        let got = run(&mut d, 0, 10_000, true);
        assert_eq!(got[0].0, 2_000);
        assert!(restart_reason(&got[0].1).contains("no pace known yet"));
    }

    /// `error_streak` failing nonces in a row restart a worker (re-check failures and solver
    /// errors alike); a good nonce starts the count again.
    #[test]
    fn failing_nonces_in_a_row_restart_the_worker() {
        let mut d = Watchdog::new(cfg(10.0, 60_000, &[100]), &names(1), 0);
        for t in 1..=4 {
            d.on_nonce(0, t, 1);
        }
        d.on_nonce(0, 5, 0);
        for t in 6..=9 {
            d.on_failed(0, t, "device lost");
        }
        assert_eq!(d.check(9, true), [], "4 in a row only");
        d.on_nonce(0, 10, 2);
        let got = d.check(10, true);
        assert_eq!(
            restart_reason(&got[0]),
            "5 nonces in a row failed (last: 2 solutions failed the CPU re-check)"
        );
        d.rebuilt(0, 11);
        for t in 12..17 {
            d.on_failed(0, t, "device lost");
        }
        let got = d.check(17, true);
        assert!(restart_reason(&got[0]).ends_with("(last: solver error: device lost)"));
    }

    /// A restart starts a new generation; while the new solver is being built nothing else
    /// fires; once it mines, its limit runs from then; a rebuild that never finishes ends the
    /// run.
    #[test]
    fn a_restart_waits_for_the_rebuild_and_starts_a_new_generation() {
        let mut d = Watchdog::new(cfg(10.0, 1_000, &[]), &names(1), 0);
        assert_eq!(d.generation(0), 0);
        let got = run(&mut d, 0, 1_250, true);
        assert_eq!(got.len(), 1);
        assert_eq!(d.generation(0), 1);
        assert_eq!(run(&mut d, 1_250, 60_000, true), [], "rebuilding");
        d.rebuilt(0, 60_000);
        assert_eq!(run(&mut d, 60_000, 61_000, true), []);
        assert_eq!(run(&mut d, 61_000, 61_250, true).len(), 1);
        let got = run(&mut d, 61_250, 1_000_000, true);
        assert_eq!(got[0].0, 61_000 + 120_000, "the rebuild timeout");
        let r = exit_reason(&got[0].1);
        assert!(
            r.starts_with("solver 0 (dev0): restarted because no nonce for 1.0 s")
                && r.ends_with("but building a new solver took longer than 120.0 s"),
            "{r}"
        );
    }

    /// A worker needing a fourth restart within ten minutes ends the run; restarts spread
    /// further apart do not.
    #[test]
    fn too_many_restarts_end_the_run() {
        let mut d = Watchdog::new(cfg(10.0, 1_000, &[]), &names(1), 0);
        let mut t = 0;
        for _ in 0..6 {
            d.on_thread_ended(0, "panicked".into());
            assert!(matches!(d.check(t, true)[..], [Action::Restart { .. }]));
            d.rebuilt(0, t + 10);
            t += 250_000;
        }
        let mut d = Watchdog::new(cfg(10.0, 1_000, &[]), &names(1), 0);
        for k in 0..3 {
            d.on_thread_ended(0, "panicked".into());
            assert_eq!(
                restart_reason(&d.check(k * 100, false)[0]),
                "its thread ended: panicked"
            );
            d.rebuilt(0, k * 100 + 10);
        }
        d.on_thread_ended(0, "panicked".into());
        let got = d.check(599_000, false);
        assert_eq!(
            exit_reason(&got[0]),
            "solver 0 (dev0): its thread ended: panicked; restarted 3 times in the last 10 min \
             already"
        );
    }

    /// A failed rebuild ends the run, naming the restart's reason and the failure.
    #[test]
    fn a_failed_rebuild_ends_the_run() {
        let mut d = Watchdog::new(cfg(10.0, 1_000, &[]), &names(2), 0);
        d.on_failed(1, 0, "x");
        d.on_thread_ended(1, "boom".into());
        d.check(5, true);
        let a = d.rebuild_failed(1, "CUDA unavailable: no driver");
        assert_eq!(
            exit_reason(&a),
            "solver 1 (dev1): restarted because its thread ended: boom, but building a new \
             solver failed: CUDA unavailable: no driver"
        );
    }

    /// With the watchdog off nothing is restarted for a stall or errors, and a crashed thread
    /// ends the run; with no restarts allowed the first need ends it.
    #[test]
    fn off_or_without_restarts_the_watchdog_exits() {
        let off = WatchdogConfig {
            enabled: false,
            ..cfg(10.0, 1_000, &[])
        };
        let mut d = Watchdog::new(off, &names(1), 0);
        for t in 0..10 {
            d.on_failed(0, t, "x");
        }
        assert_eq!(run(&mut d, 0, 100_000, true), []);
        d.on_thread_ended(0, "boom".into());
        let got = d.check(100_000, true);
        assert!(exit_reason(&got[0]).ends_with("(the watchdog is off: not restarting it)"));
        let none = WatchdogConfig {
            max_restarts: 0,
            ..cfg(10.0, 1_000, &[])
        };
        let mut d = Watchdog::new(none, &names(1), 0);
        let got = run(&mut d, 0, 2_000, true);
        assert!(exit_reason(&got[0].1).ends_with("(restarts in the process are off)"));
    }
}

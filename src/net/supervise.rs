//! The solver threads of a mining run, and the [`Watchdog`]'s decisions carried out, for the
//! driver in [`client`](super::client): one worker thread per solver, each with its own stop
//! and abandoned flags. A worker to restart is abandoned (a hung thread cannot be joined: its
//! flags are set, so it stops at its next nonce if it ever wakes up, and whatever it reports
//! from then on is dropped before it reaches the driver), a fresh solver is built through the
//! [`SolverFactory`] on a blocking thread (creation and self-test take seconds) and mines on
//! with the worker's nonce prefix plus a generation byte. When the watchdog gives up, the
//! driver is stopped and [`run_miner`](super::client::run_miner) returns a [`WatchdogExit`].

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::watch;

use crate::backend::Solver;
use crate::miner::spawn_worker;
use crate::miner::{Action, Engine, NonceLayout, Report, Watchdog, WatchdogConfig, WorkBoard};

/// How to build solver `i` again (with its self-test passed), for a restart.
type Build = dyn Fn(usize) -> anyhow::Result<Box<dyn Solver>> + Send + Sync;

/// Builds a fresh solver for a worker index when the watchdog restarts it.
#[derive(Clone)]
pub struct SolverFactory(Arc<Build>);

impl SolverFactory {
    /// A factory calling `build(worker)`; it runs on a blocking thread.
    pub fn new(
        build: impl Fn(usize) -> anyhow::Result<Box<dyn Solver>> + Send + Sync + 'static,
    ) -> SolverFactory {
        SolverFactory(Arc::new(build))
    }
}

impl fmt::Debug for SolverFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SolverFactory")
    }
}

/// Why the watchdog ended a run (the process then exits non-zero with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("watchdog: {reason}")]
pub struct WatchdogExit {
    /// Why, naming the device.
    pub reason: String,
}

/// A new solver for a worker, or why it could not be built.
type Rebuilt = (usize, Result<Box<dyn Solver>, String>);

/// One worker's thread.
struct Slot {
    stop: Arc<AtomicBool>,
    abandoned: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The solver threads and the watchdog. See the module doc.
pub struct Supervisor {
    dog: Watchdog,
    factory: Option<SolverFactory>,
    board: Arc<WorkBoard>,
    reports: UnboundedSender<Report>,
    slots: Vec<Slot>,
    count: usize,
    rebuilt_tx: UnboundedSender<Rebuilt>,
    rebuilt_rx: UnboundedReceiver<Rebuilt>,
    stop: Arc<watch::Sender<bool>>,
    fatal: Option<String>,
}

impl Supervisor {
    /// Starts one worker thread per solver of `instances`, mining `board` and sending to
    /// `reports`. `stop` is the driver's shutdown: it is set when the watchdog gives up.
    ///
    /// # Errors
    /// When a thread cannot be started.
    pub fn start(
        instances: Vec<Box<dyn Solver>>,
        board: Arc<WorkBoard>,
        reports: UnboundedSender<Report>,
        cfg: WatchdogConfig,
        factory: Option<SolverFactory>,
        stop: Arc<watch::Sender<bool>>,
    ) -> std::io::Result<Supervisor> {
        let names: Vec<String> = instances.iter().map(|s| s.name()).collect();
        let (rebuilt_tx, rebuilt_rx) = mpsc::unbounded_channel();
        let mut sup = Supervisor {
            dog: Watchdog::new(cfg, &names, 0),
            factory,
            board,
            reports,
            slots: Vec::new(),
            count: names.len(),
            rebuilt_tx,
            rebuilt_rx,
            stop,
            fatal: None,
        };
        for (i, solver) in instances.into_iter().enumerate() {
            let slot = sup.spawn(i, solver)?;
            sup.slots.push(slot);
        }
        Ok(sup)
    }

    /// Starts worker `i` with `solver`. A restarted worker's prefix gains a byte for its
    /// generation (1..=255, where the first solver had a zero): its counter starts again at the
    /// epoch's start, and would otherwise mine again what the abandoned solver mined.
    fn spawn(&self, i: usize, solver: Box<dyn Solver>) -> std::io::Result<Slot> {
        let generation = self.dog.generation(i);
        let mut prefix = NonceLayout::worker_prefix(i, self.count);
        if generation > 0 {
            prefix.push((generation % 255) as u8 + 1);
        }
        let abandoned = Arc::new(AtomicBool::new(false));
        let (tx, gone) = (self.reports.clone(), abandoned.clone());
        // `false` stops the worker: an abandoned solver that wakes up sends nothing more.
        let send = move |r| !gone.load(Ordering::Relaxed) && tx.send(r).is_ok();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = spawn_worker(solver, i, prefix, self.board.clone(), send, stop.clone())?;
        Ok(Slot {
            stop,
            abandoned,
            thread: Some(thread),
        })
    }

    /// Why the watchdog ended the run, if it did.
    pub fn fatal(&self) -> Option<&str> {
        self.fatal.as_deref()
    }

    /// Tells the watchdog of a report taken in at `now_ms`.
    pub fn on_report(&mut self, r: &Report, now_ms: u64) {
        match r {
            Report::Nonce(n) => self.dog.on_nonce(n.worker, now_ms, n.compute_errors),
            Report::Failed { worker, error } => self.dog.on_failed(*worker, now_ms, error),
        }
    }

    /// Starts the solvers built since the last call, then applies the watchdog's rules at
    /// `now_ms` (`has_work`: the board holds an assignment), counting restarts in `engine`;
    /// `true` when something was done.
    pub fn check(&mut self, now_ms: u64, has_work: bool, engine: &mut Engine) -> bool {
        let mut acted = false;
        while let Ok((worker, solver)) = self.rebuilt_rx.try_recv() {
            self.rebuilt(worker, solver, now_ms);
            acted = true;
        }
        if self.fatal.is_some() {
            return acted;
        }
        self.find_ended();
        for a in self.dog.check(now_ms, has_work) {
            acted = true;
            match a {
                Action::Restart { worker, reason } => {
                    engine.on_restart(worker, &reason);
                    self.restart(worker, &reason);
                }
                Action::Exit { reason } => self.give_up(reason),
            }
        }
        acted
    }

    fn rebuilt(&mut self, worker: usize, solver: Result<Box<dyn Solver>, String>, now_ms: u64) {
        if self.fatal.is_some() || worker >= self.slots.len() {
            return;
        }
        let spawned = solver.and_then(|s| {
            self.spawn(worker, s)
                .map_err(|e| format!("cannot start its thread: {e}"))
        });
        match spawned {
            Ok(slot) => {
                self.slots[worker] = slot;
                self.dog.rebuilt(worker, now_ms);
                tracing::info!("watchdog: solver {worker} restarted, mining again");
            }
            Err(e) => {
                if let Action::Exit { reason } = self.dog.rebuild_failed(worker, &e) {
                    self.give_up(reason);
                }
            }
        }
    }

    /// Tells the watchdog of worker threads that ended without being asked to.
    fn find_ended(&mut self) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if !slot.thread.as_ref().is_some_and(|t| t.is_finished()) {
                continue;
            }
            let why = match slot.thread.take().map(JoinHandle::join) {
                Some(Err(panic)) => panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .map_or_else(|| "it panicked".into(), |m| format!("it panicked: {m}")),
                _ => "its solver returned without being asked to stop".into(),
            };
            self.dog.on_thread_ended(i, why);
        }
    }

    /// Abandons worker `worker`'s thread and builds a new solver for it.
    fn restart(&mut self, worker: usize, reason: &str) {
        tracing::warn!("watchdog: restarting solver {worker}: {reason}");
        let slot = &mut self.slots[worker];
        slot.abandoned.store(true, Ordering::Relaxed);
        slot.stop.store(true, Ordering::Relaxed);
        // Not joined: a hung solver never returns. Dropping the handle detaches it.
        slot.thread = None;
        let tx = self.rebuilt_tx.clone();
        let Some(factory) = self.factory.clone() else {
            let e = "this miner has no way to build a new solver";
            let _ = tx.send((worker, Err(e.into())));
            return;
        };
        tokio::task::spawn_blocking(move || {
            let solver = (factory.0)(worker).map_err(|e| format!("{e:#}"));
            let _ = tx.send((worker, solver));
        });
    }

    /// Ends the run for `reason`.
    fn give_up(&mut self, reason: String) {
        tracing::error!("watchdog: {reason}; stopping");
        self.fatal = Some(reason);
        self.stop.send_replace(true);
    }

    /// Stops every worker and waits for the running ones to finish their nonces in flight (for
    /// at most the longest stall limit: a solver hung since the last check is left behind).
    pub async fn finish(mut self) {
        for s in &self.slots {
            s.stop.store(true, Ordering::Relaxed);
        }
        let threads: Vec<JoinHandle<()>> = self
            .slots
            .iter_mut()
            .filter_map(|s| s.thread.take())
            .collect();
        let limit = Duration::from_millis(self.dog.longest_limit_ms());
        let join = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        });
        if tokio::time::timeout(limit, join).await.is_err() {
            tracing::warn!(
                "solver threads still busy {:.0} s after the stop: leaving them",
                limit.as_secs_f64()
            );
        }
    }
}

//! Solver threads: each mines the [`WorkBoard`]'s assignment and reports every finished nonce
//! to the engine ([`Report`]); it decides nothing else.
//!
//! - A worker reads the board before each nonce and leaves an old epoch's nonce space at once
//!   (between nonces: a solve in progress is not interrupted, and on a GPU the nonce queued
//!   behind it finishes too, so the device never waits for the host).
//! - Every solution is **re-verified on the CPU** (Equihash on the encoded bytes, then the share
//!   hash against the job's target) on the worker's thread before it is reported as a share; an
//!   Equihash failure is a compute error.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::engine::{Assignment, FoundShare, NonceDone, Report, start_counter};
use super::nonce::NonceLayout;
use crate::backend::{Feed, SolveReport, Solver};
use crate::equihash::{is_valid_solution, try_minimal_from_indices};
use crate::stratum::MiningJob;
use crate::stratum::job::{NONCE_LEN, equihash_input, share_hash};

/// What every worker should mine: the engine's latest [`Assignment`], published by the driver;
/// nothing while paused.
#[derive(Debug, Default)]
pub struct WorkBoard {
    current: Mutex<Option<Assignment>>,
    paused: Arc<AtomicBool>,
}

impl WorkBoard {
    /// A board that holds nothing while `paused` is set (the API's pause control).
    pub fn with_pause(paused: Arc<AtomicBool>) -> WorkBoard {
        WorkBoard {
            current: Mutex::default(),
            paused,
        }
    }

    /// Publishes `work` (`None`: stop mining).
    pub fn publish(&self, work: Option<Assignment>) {
        *self.current.lock().expect("board lock") = work;
    }

    /// Whether there is anything to mine now (nothing while paused).
    pub fn has_work(&self) -> bool {
        !self.paused.load(Ordering::Relaxed) && self.current.lock().expect("board lock").is_some()
    }

    /// The assignment now (`None` while paused).
    pub fn current(&self) -> Option<Assignment> {
        if self.paused.load(Ordering::Relaxed) {
            return None;
        }
        self.current.lock().expect("board lock").clone()
    }
}

/// Checks one solver solution of `input`: Equihash on the encoded bytes, then the share target.
/// `Err(())` is a compute error; `Ok(None)` a good solution that is not a share.
fn recheck(job: &MiningJob, input: &[u8; 140], indices: &[u32]) -> Result<Option<FoundShare>, ()> {
    let encoded = try_minimal_from_indices(&job.params, indices);
    let Some(solution) = encoded.filter(|e| is_valid_solution(&job.params, input, e).is_ok())
    else {
        return Err(());
    };
    let hash = share_hash(input, &solution);
    Ok(job
        .target
        .is_met_by_internal_bytes(&hash)
        .then_some(FoundShare { solution, hash }))
}

/// A nonce handed to the solver, waiting for its result.
struct Pending {
    epoch: u64,
    job: Arc<MiningJob>,
    nonce: [u8; NONCE_LEN],
}

/// Where a worker is: the epoch it mines and its nonce counter.
#[derive(Default)]
struct Cursor {
    epoch: Option<u64>,
    counter: u64,
    layout: Option<NonceLayout>,
}

impl Cursor {
    /// The next input of the board's assignment, or `None` when there is nothing to mine now.
    /// A new epoch starts the counter where the engine says; within an epoch the counter goes
    /// on (the job may be re-issued with another target: the latest is used).
    fn next(&mut self, board: &WorkBoard, prefix: &[u8]) -> Option<(Pending, [u8; 140])> {
        let a = board.current()?;
        if self.epoch != Some(a.epoch) {
            self.epoch = Some(a.epoch);
            self.layout = NonceLayout::new(&a.job.nonce1, prefix)
                .inspect_err(|err| {
                    tracing::error!("cannot mine job {}: {err}", a.job.notify.job_id);
                })
                .ok();
            self.counter = self
                .layout
                .as_ref()
                .map_or(0, |l| start_counter(a.start, l.counter_len()));
        }
        let nonce = self.layout.as_ref()?.nonce(self.counter)?;
        self.counter += 1;
        let input = equihash_input(&a.job.notify.header_prefix(), &nonce);
        let pending = Pending {
            epoch: a.epoch,
            job: a.job,
            nonce,
        };
        Some((pending, input))
    }
}

/// Re-checks a finished nonce's solutions into a report.
fn finish_nonce(worker: usize, p: Pending, input: &[u8; 140], report: SolveReport) -> Report {
    let mut done = NonceDone {
        worker,
        epoch: p.epoch,
        nonce: p.nonce,
        solutions: report.solutions.len() as u64,
        compute_errors: 0,
        shares: Vec::new(),
        job: p.job,
    };
    for indices in &report.solutions {
        match recheck(&done.job, input, indices) {
            Ok(Some(share)) => done.shares.push(share),
            Ok(None) => {}
            Err(()) => done.compute_errors += 1,
        }
    }
    Report::Nonce(done)
}

/// Runs solver instance `worker` on its own thread until `stop` is set (or `send` returns
/// `false`: nobody listens any more). The solver's stream keeps as many nonces in flight as it wants (two on a GPU), so
/// the device never waits for the host; a new epoch is picked up at the next nonce, and nonces
/// of the old one still in flight are reported (the engine decides whether they are stale).
pub fn spawn_worker(
    mut solver: Box<dyn Solver>,
    worker: usize,
    prefix: Vec<u8>,
    board: Arc<WorkBoard>,
    send: impl Fn(Report) -> bool + Send + 'static,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("solver-{}", solver.name()))
        .spawn(move || {
            let mut cursor = Cursor::default();
            let queue: RefCell<VecDeque<Pending>> = RefCell::default();
            let closed = Cell::new(false);
            solver.solve_stream(
                &mut || {
                    if stop.load(Ordering::Relaxed) || closed.get() {
                        return Feed::Stop;
                    }
                    match cursor.next(&board, &prefix) {
                        Some((pending, input)) => {
                            queue.borrow_mut().push_back(pending);
                            Feed::Input(input.to_vec())
                        }
                        None => {
                            std::thread::sleep(Duration::from_millis(20));
                            Feed::Drain
                        }
                    }
                },
                &mut |input, result| {
                    let Some(p) = queue.borrow_mut().pop_front() else {
                        return;
                    };
                    let report = match (result, <[u8; 140]>::try_from(input.as_slice())) {
                        (Ok(r), Ok(input)) => finish_nonce(worker, p, &input, r),
                        (Err(err), _) => {
                            std::thread::sleep(Duration::from_millis(200));
                            Report::Failed {
                                worker,
                                error: err.to_string(),
                            }
                        }
                        (Ok(_), Err(_)) => Report::Failed {
                            worker,
                            error: format!("solver returned a {}-byte input", input.len()),
                        },
                    };
                    if !send(report) {
                        closed.set(true);
                    }
                },
            );
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equihash::{Params, indices_from_minimal};
    use crate::stratum::difficulty::{DifficultyScale, target_from_difficulty};
    use crate::stratum::job::Notify;
    use crate::stratum::templates;

    /// Block 400000 as a job (its `NONCE_1` is the first 4 bytes of the block's nonce).
    fn job(id: &str, difficulty: f64) -> (Arc<MiningJob>, templates::Template) {
        let tpl = templates::recorded().remove(0);
        let notify = Notify::from_header_prefix(id.into(), &tpl.prefix, &Params::ZELHASH, true);
        let job = Arc::new(MiningJob {
            notify,
            nonce1: tpl.solutions[0].0[..4].to_vec(),
            target: target_from_difficulty(difficulty, DifficultyScale::Pool).unwrap(),
            target_from_pool: true,
            params: Params::ZELHASH,
        });
        (job, tpl)
    }

    fn assign(board: &WorkBoard, epoch: u64, job: &Arc<MiningJob>, start: u64) {
        board.publish(Some(Assignment {
            epoch,
            job: job.clone(),
            start,
        }));
    }

    fn counter(c: &mut Cursor, board: &WorkBoard, prefix: &[u8]) -> u64 {
        let n = c.next(board, prefix).unwrap().0.nonce;
        u64::from_le_bytes(n[24..].try_into().unwrap())
    }

    /// Within an epoch the counter goes on, whatever job object the board holds (a re-issue
    /// with a new target); a new epoch starts where the engine says.
    #[test]
    fn the_counter_continues_within_an_epoch_and_restarts_at_the_engines_start() {
        let (j, _) = job("7", 1.0);
        let board = WorkBoard::default();
        let mut c = Cursor::default();
        let start = 0xdead_beef_0000_0000u64;
        assign(&board, 1, &j, start);
        let first = counter(&mut c, &board, &[]);
        assert_eq!(first, start_counter(start, 8));
        assert_eq!(counter(&mut c, &board, &[]), first + 1);
        let (harder, _) = job("7", 2.0);
        assign(&board, 1, &harder, start);
        let (p, _) = c.next(&board, &[]).unwrap();
        assert_eq!(p.job.target, harder.target, "the re-issued target is used");
        assert_eq!(
            u64::from_le_bytes(p.nonce[24..].try_into().unwrap()),
            first + 2
        );
        assign(&board, 2, &j, 5 << 60);
        assert_eq!(counter(&mut c, &board, &[]), start_counter(5 << 60, 8));
        board.publish(None);
        assert!(c.next(&board, &[]).is_none(), "nothing to mine");
    }

    /// A paused board hands out nothing, and the same assignment again once resumed.
    #[test]
    fn a_paused_board_holds_no_work() {
        let (j, _) = job("7", 1.0);
        let paused = Arc::new(AtomicBool::new(false));
        let board = WorkBoard::with_pause(paused.clone());
        assign(&board, 3, &j, 0);
        paused.store(true, Ordering::Relaxed);
        assert!(board.current().is_none());
        paused.store(false, Ordering::Relaxed);
        assert_eq!(board.current().map(|a| a.epoch), Some(3));
    }

    /// Two workers at the same start never share a nonce: the prefix keeps them apart.
    #[test]
    fn workers_with_prefixes_search_apart() {
        let (j, _) = job("1", 1.0);
        let board = WorkBoard::default();
        assign(&board, 1, &j, 42);
        let a = Cursor::default().next(&board, &[0]).unwrap().0.nonce;
        let b = Cursor::default().next(&board, &[1]).unwrap().0.nonce;
        assert_ne!(a, b);
        assert_eq!(a[..4], j.nonce1[..]);
        assert_eq!((a[4], b[4]), (0, 1));
    }

    #[test]
    fn start_counters_leave_half_the_counter_ahead() {
        for len in [2, 3, 5, 8] {
            assert_eq!(start_counter(0, len), 0);
            let top = start_counter(u64::MAX, len);
            assert!(len == 8 || top < 1u64 << (8 * len - 1), "len {len}: {top}");
            assert!(top < 1u64 << 63);
        }
    }

    /// Block 400000's real solution is a share at an easy target and not at a hard one; a
    /// corrupted index set is a compute error.
    #[test]
    fn the_cpu_recheck_reports_shares_and_compute_errors() {
        let (easy, tpl) = job("1", 0.0005);
        let (nonce, sol) = &tpl.solutions[0];
        let input = equihash_input(&tpl.prefix, nonce);
        let indices = indices_from_minimal(&Params::ZELHASH, sol).unwrap();
        let share = recheck(&easy, &input, &indices).unwrap().unwrap();
        assert_eq!(&share.solution, sol);
        assert_eq!(share.hash, share_hash(&input, sol));
        let (hard, _) = job("1", 1e9);
        assert_eq!(recheck(&hard, &input, &indices), Ok(None));
        let mut bad = indices.clone();
        bad.swap(0, 1);
        assert_eq!(recheck(&easy, &input, &bad), Err(()));
    }
}

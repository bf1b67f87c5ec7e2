//! Hands the current job to solver instances and turns their solutions into verified share
//! candidates.
//!
//! - Every notify bumps the **job epoch**; a worker reads the epoch before each nonce and drops
//!   the old job's nonce space at once (between nonces: a solve in progress is not interrupted,
//!   and on a GPU the nonce queued behind it finishes too).
//! - A clean job also sets the **flush epoch**: candidates from older epochs are dropped, not
//!   submitted (they would be stale).
//! - Every solution is **re-verified on the CPU** (Equihash on the encoded bytes, then the share
//!   hash against the job's target) before it becomes a candidate; an Equihash failure is a
//!   compute error.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::accounting::Accounting;
use super::nonce::NonceLayout;
use crate::backend::{Feed, SolveReport, Solver};
use crate::equihash::{is_valid_solution, try_minimal_from_indices};
use crate::stratum::MiningJob;
use crate::stratum::job::{HEADER_PREFIX_LEN, NONCE_LEN, equihash_input, share_hash};

/// The job every worker should be on, with its epoch.
#[derive(Debug, Default)]
pub struct WorkBoard {
    current: Mutex<Option<(u64, Arc<MiningJob>)>>,
    epoch: AtomicU64,
    flush_epoch: AtomicU64,
}

impl WorkBoard {
    /// Switches every worker to `job` (a clean job also flushes older candidates).
    pub fn set(&self, job: Arc<MiningJob>) {
        let mut cur = self.current.lock().expect("board lock");
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        if job.notify.clean {
            self.flush_epoch.store(epoch, Ordering::SeqCst);
        }
        *cur = Some((epoch, job));
    }

    /// Stops all work (no usable job, or no connection); older candidates are flushed.
    pub fn clear(&self) {
        let mut cur = self.current.lock().expect("board lock");
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.flush_epoch.store(epoch, Ordering::SeqCst);
        *cur = None;
    }

    /// The current job and its epoch.
    pub fn current(&self) -> Option<(u64, Arc<MiningJob>)> {
        self.current.lock().expect("board lock").clone()
    }

    /// The epoch now.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Whether a candidate found in `epoch` may still be submitted.
    pub fn is_live(&self, epoch: u64) -> bool {
        epoch >= self.flush_epoch.load(Ordering::SeqCst)
    }
}

/// A verified share, ready to submit.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The job it solves.
    pub job: Arc<MiningJob>,
    /// The epoch it was found in.
    pub epoch: u64,
    /// The full header nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The minimal solution (no length prefix).
    pub solution: Vec<u8>,
}

/// Checks one solver solution of `input`: Equihash on the encoded bytes (a failure is a compute
/// error), then the share target. Returns the encoded solution when it is a share.
fn recheck(
    job: &MiningJob,
    input: &[u8; 140],
    indices: &[u32],
    acc: &Mutex<Accounting>,
) -> Option<Vec<u8>> {
    let encoded = try_minimal_from_indices(&job.params, indices);
    let Some(encoded) = encoded.filter(|e| is_valid_solution(&job.params, input, e).is_ok()) else {
        acc.lock().expect("accounting lock").compute_errors += 1;
        return None;
    };
    job.target
        .is_met_by_internal_bytes(&share_hash(input, &encoded))
        .then_some(encoded)
}

/// A nonce handed to the solver, waiting for its result.
struct Pending {
    epoch: u64,
    job: Arc<MiningJob>,
    nonce: [u8; NONCE_LEN],
}

/// What a worker is mining: the job of the current epoch and where its nonce counter is.
#[derive(Default)]
struct Cursor {
    epoch: u64,
    counter: u64,
    layout: Option<NonceLayout>,
    header_prefix: Option<[u8; HEADER_PREFIX_LEN]>,
}

impl Cursor {
    /// The next input of the board's current job, or `None` when there is nothing to mine now.
    /// A new job (a new epoch) restarts the counter and the layout.
    fn next(&mut self, board: &WorkBoard, prefix: &[u8]) -> Option<(Pending, [u8; 140])> {
        let (e, job) = board.current()?;
        if e != self.epoch || self.header_prefix.is_none() {
            self.epoch = e;
            self.counter = 0;
            self.header_prefix = Some(job.notify.header_prefix());
            self.layout = NonceLayout::new(&job.nonce1, prefix)
                .inspect_err(|err| tracing::error!("cannot mine job {}: {err}", job.notify.job_id))
                .ok();
        }
        let nonce = self.layout.as_ref()?.nonce(self.counter)?;
        self.counter += 1;
        let input = equihash_input(self.header_prefix.as_ref()?, &nonce);
        let pending = Pending {
            epoch: e,
            job,
            nonce,
        };
        Some((pending, input))
    }
}

/// Checks a finished nonce's solutions and sends the shares; `false` when the receiver is gone.
fn finish_nonce(
    p: Pending,
    input: &[u8; 140],
    report: SolveReport,
    acc: &Mutex<Accounting>,
    out: &UnboundedSender<Candidate>,
) -> bool {
    {
        let mut a = acc.lock().expect("accounting lock");
        a.nonces += 1;
        a.solutions += report.solutions.len() as u64;
    }
    for indices in &report.solutions {
        if let Some(solution) = recheck(&p.job, input, indices, acc) {
            acc.lock().expect("accounting lock").candidates += 1;
            let c = Candidate {
                job: p.job.clone(),
                epoch: p.epoch,
                nonce: p.nonce,
                solution,
            };
            if out.send(c).is_err() {
                return false;
            }
        }
    }
    true
}

/// Runs one solver instance on its own thread until `stop` is set. The solver's stream keeps
/// as many nonces in flight as it wants (two on a GPU), so the device never waits for the
/// host; a new job is picked up at the next nonce, and nonces of the old job still in flight
/// are checked and submitted if their epoch is still live.
pub fn spawn_worker(
    mut solver: Box<dyn Solver>,
    prefix: Vec<u8>,
    board: Arc<WorkBoard>,
    acc: Arc<Mutex<Accounting>>,
    out: UnboundedSender<Candidate>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("solver-{}", solver.name()))
        .spawn(move || {
            let name = solver.name();
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
                    let report = match result {
                        Ok(r) => r,
                        Err(err) => {
                            tracing::error!("solver {name} failed: {err}");
                            acc.lock().expect("accounting lock").compute_errors += 1;
                            std::thread::sleep(Duration::from_millis(200));
                            return;
                        }
                    };
                    let Ok(input) = <[u8; 140]>::try_from(input.as_slice()) else {
                        return;
                    };
                    if !finish_nonce(p, &input, report, &acc, &out) {
                        closed.set(true);
                    }
                },
            );
        })
}

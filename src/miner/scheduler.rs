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
    job_id: String,
    nonce1: Vec<u8>,
    layout: Option<NonceLayout>,
    header_prefix: Option<[u8; HEADER_PREFIX_LEN]>,
}

/// A random counter to start a job at, leaving at least half of the counter's range ahead: a job
/// re-sent under a new id (vardiff re-issues) or mined by another rig with the same `NONCE_1`
/// then searches other nonces (the reference miner also starts at random).
fn random_start(counter_len: usize) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let bits = (8 * counter_len as u32).min(64);
    r >> (65 - bits)
}

impl Cursor {
    /// The next input of the board's current job, or `None` when there is nothing to mine now.
    /// A new job (a new epoch) starts the counter at a random value, except a notify that
    /// re-sends the job being mined (same id, header and `NONCE_1`, as miningcore does after
    /// every vardiff change): that one continues where the counter was, so no nonce is mined,
    /// or submitted, twice.
    fn next(&mut self, board: &WorkBoard, prefix: &[u8]) -> Option<(Pending, [u8; 140])> {
        let (e, job) = board.current()?;
        if e != self.epoch || self.header_prefix.is_none() {
            let header = job.notify.header_prefix();
            let resent = self.header_prefix == Some(header)
                && self.job_id == job.notify.job_id
                && self.nonce1 == job.nonce1;
            self.epoch = e;
            if !resent {
                self.header_prefix = Some(header);
                self.job_id = job.notify.job_id.clone();
                self.nonce1 = job.nonce1.clone();
                self.layout = NonceLayout::new(&job.nonce1, prefix)
                    .inspect_err(|err| {
                        tracing::error!("cannot mine job {}: {err}", job.notify.job_id);
                    })
                    .ok();
                self.counter = self
                    .layout
                    .as_ref()
                    .map_or(0, |l| random_start(l.counter_len()));
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::equihash::Params;
    use crate::stratum::difficulty::{DifficultyScale, target_from_difficulty};
    use crate::stratum::server::PoolJob;
    use crate::stratum::templates;

    fn job(id: &str, nonce1: &[u8]) -> Arc<MiningJob> {
        let tpl = templates::recorded().remove(0);
        let pool = PoolJob::from_header_prefix(id.into(), &tpl.prefix, Params::ZELHASH, false);
        Arc::new(MiningJob {
            notify: pool.notify,
            nonce1: nonce1.to_vec(),
            target: target_from_difficulty(1.0, DifficultyScale::Pool).unwrap(),
            target_from_pool: true,
            params: Params::ZELHASH,
        })
    }

    fn nonce(c: &mut Cursor, board: &WorkBoard) -> [u8; NONCE_LEN] {
        c.next(board, &[]).unwrap().0.nonce
    }

    /// Interop fault 1: a notify that re-sends the job being mined (miningcore after every
    /// vardiff change) continues the counter instead of re-mining the same nonces; a new job id
    /// for the same header (a vardiff re-issue) starts elsewhere at random.
    #[test]
    fn a_resent_job_continues_and_a_new_one_starts_at_random() {
        let board = WorkBoard::default();
        let mut c = Cursor::default();
        board.set(job("7", &[1, 2, 3, 4]));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3 {
            assert!(seen.insert(nonce(&mut c, &board)));
        }
        board.set(job("7", &[1, 2, 3, 4]));
        for _ in 0..3 {
            assert!(
                seen.insert(nonce(&mut c, &board)),
                "a re-sent job re-mined a nonce"
            );
        }
        let last = u64::from_le_bytes(nonce(&mut c, &board)[24..].try_into().unwrap());
        board.set(job("7.1", &[1, 2, 3, 4]));
        let first = u64::from_le_bytes(nonce(&mut c, &board)[24..].try_into().unwrap());
        assert_ne!(first, last + 1, "a new job id continued the old counter");
        let mut other = Cursor::default();
        assert_ne!(
            nonce(&mut other, &board),
            nonce(&mut Cursor::default(), &board),
            "two workers started a job at the same counter"
        );
    }

    #[test]
    fn random_starts_leave_half_the_counter_ahead() {
        for len in [2, 3, 5, 8] {
            for _ in 0..64 {
                let s = random_start(len);
                assert!(len == 8 || s < 1u64 << (8 * len - 1), "len {len}: {s}");
                assert!(s < 1u64 << 63);
            }
        }
    }
}

//! Hands the current job to solver instances and turns their solutions into verified share
//! candidates.
//!
//! - Every notify bumps the **job epoch**; a worker reads the epoch before each nonce and drops
//!   the old job's nonce space at once (between nonces: a solve in progress is not interrupted).
//! - A clean job also sets the **flush epoch**: candidates from older epochs are dropped, not
//!   submitted (they would be stale).
//! - Every solution is **re-verified on the CPU** (Equihash on the encoded bytes, then the share
//!   hash against the job's target) before it becomes a candidate; an Equihash failure is a
//!   compute error.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::accounting::Accounting;
use super::nonce::NonceLayout;
use crate::backend::Solver;
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

/// Runs one solver instance on its own thread until `stop` is set.
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
            let mut epoch = 0;
            let mut counter = 0u64;
            let mut layout = None;
            let mut header_prefix = [0u8; HEADER_PREFIX_LEN];
            while !stop.load(Ordering::Relaxed) {
                let Some((e, job)) = board.current() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                if e != epoch {
                    epoch = e;
                    counter = 0;
                    header_prefix = job.notify.header_prefix();
                    layout = NonceLayout::new(&job.nonce1, &prefix)
                        .inspect_err(|err| {
                            tracing::error!("cannot mine job {}: {err}", job.notify.job_id)
                        })
                        .ok();
                }
                let Some(nonce) = layout.as_ref().and_then(|l| l.nonce(counter)) else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                counter += 1;
                let input = equihash_input(&header_prefix, &nonce);
                let report = match solver.solve(&input) {
                    Ok(r) => r,
                    Err(err) => {
                        tracing::error!("solver {} failed: {err}", solver.name());
                        acc.lock().expect("accounting lock").compute_errors += 1;
                        std::thread::sleep(Duration::from_millis(200));
                        continue;
                    }
                };
                {
                    let mut a = acc.lock().expect("accounting lock");
                    a.nonces += 1;
                    a.solutions += report.solutions.len() as u64;
                }
                for indices in &report.solutions {
                    if let Some(solution) = recheck(&job, &input, indices, &acc) {
                        acc.lock().expect("accounting lock").candidates += 1;
                        let c = Candidate {
                            job: job.clone(),
                            epoch,
                            nonce,
                            solution,
                        };
                        if out.send(c).is_err() {
                            return;
                        }
                    }
                }
            }
        })
}

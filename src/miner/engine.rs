//! The mining engine, sans I/O: stratum events and solver reports in, work assignments, submits
//! and connection decisions out. Time comes in as milliseconds; randomness as a seed.
//!
//! It is the one writer of everything the mining side keeps: the job epochs, where each job's
//! nonce search starts, the submit rules and the [`Accounting`]. The socket driver
//! (`net::client`) feeds it and carries out what it returns; solver threads only read the
//! [`WorkBoard`](super::WorkBoard) and send [`Report`]s.
//!
//! # Rules
//! - **Epochs**: every new job is a new epoch; workers leave the old job at their next nonce. A
//!   notify that re-sends the job being mined (same id, header and `NONCE_1`: miningcore does it
//!   after every vardiff change; a `set_target` re-issues it too) keeps the epoch, so the nonce
//!   counters continue and nothing is mined twice; its (possibly harder) target applies at once.
//! - **Nonce ranges**: each epoch starts at a random counter (from the seed), leaving at least
//!   half of the counter's range ahead; workers are kept apart by their prefix
//!   ([`NonceLayout::worker_prefix`](super::NonceLayout::worker_prefix)).
//! - **Flush**: a clean job on a new block (a new previous-block hash), a refused job or a
//!   disconnect flushes: shares found in older epochs are dropped (counted in `stale_local`), not
//!   submitted. A clean job on the same block is a template refresh and flushes nothing (s-nomp
//!   sends every refresh as clean yet keeps the block's earlier jobs valid; the session keeps
//!   them too).
//! - **Submit**: a share is submitted only if its epoch is live, the session still knows its job
//!   with the same `NONCE_1`, it meets the target in force for that job now (a raised target
//!   applies at once: interop fault 4), and the same (job, nonce, solution) was never submitted.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use super::accounting::{Accounting, Local};
use super::failover::End;
use crate::stratum::job::NONCE_LEN;
use crate::stratum::{ClientSession, Event, MiningJob};

/// How many jobs' submitted shares are remembered for the duplicate rule (the session itself
/// remembers 16 jobs; an older job cannot be submitted to anyway).
const JOBS_REMEMBERED: usize = 32;

/// Unanswered submits whose finder is remembered (a pool answers long before this many more).
const OWNERS_REMEMBERED: usize = 4096;

/// The shares submitted for one job: (nonce, solution).
type Submitted = HashSet<([u8; NONCE_LEN], Vec<u8>)>;

/// What every worker should mine now.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// The epoch; a worker that sees a new one restarts its counter at [`Assignment::start`].
    pub epoch: u64,
    /// The job (its target may change within an epoch).
    pub job: Arc<MiningJob>,
    /// A random 64-bit value the epoch's counters start from (see [`start_counter`]).
    pub start: u64,
}

/// The first counter of an epoch for a counter of `counter_len` bytes: the top bits of `start`,
/// below half of the counter's range, so at least half of it lies ahead.
pub fn start_counter(start: u64, counter_len: usize) -> u64 {
    let bits = (8 * counter_len as u32).clamp(2, 64);
    start >> (65 - bits)
}

/// A share found by a worker and re-verified on the CPU.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundShare {
    /// The minimal solution (no length prefix).
    pub solution: Vec<u8>,
    /// The share hash (SHA256d of header ‖ solution, internal byte order).
    pub hash: [u8; 32],
}

/// A finished nonce, as a worker reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct NonceDone {
    /// The worker (device) index.
    pub worker: usize,
    /// The epoch the nonce was mined in.
    pub epoch: u64,
    /// The job it was mined for.
    pub job: Arc<MiningJob>,
    /// The full header nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Equihash solutions found.
    pub solutions: u64,
    /// Solutions that failed the CPU re-check.
    pub compute_errors: u64,
    /// Solutions that met the job's share target when found.
    pub shares: Vec<FoundShare>,
}

/// What a worker tells the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// A nonce is done.
    Nonce(NonceDone),
    /// The solver failed on a nonce (counted as a compute error).
    Failed {
        /// The worker.
        worker: usize,
        /// Why.
        error: String,
    },
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Publish this to the workers (`None`: stop mining).
    Work(Option<Assignment>),
    /// End the connection.
    End(End),
}

/// SplitMix64: a small, well-mixed sequence for the start counters.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The engine. See the module doc.
#[derive(Debug)]
pub struct Engine {
    acc: Accounting,
    current: Option<Assignment>,
    epoch: u64,
    flush_epoch: u64,
    rng: u64,
    submitted: VecDeque<(String, Submitted)>,
    /// Which worker found each submit still unanswered (submit id → worker).
    owners: VecDeque<(u64, usize)>,
}

impl Engine {
    /// An engine for workers named `devices` (index = worker), with a random `seed`.
    pub fn new(devices: &[String], seed: u64) -> Engine {
        Engine {
            acc: Accounting::for_devices(devices),
            current: None,
            epoch: 0,
            flush_epoch: 0,
            rng: seed,
            submitted: VecDeque::new(),
            owners: VecDeque::new(),
        }
    }

    /// The counters so far.
    pub fn accounting(&self) -> &Accounting {
        &self.acc
    }

    /// What workers should mine now.
    pub fn assignment(&self) -> Option<&Assignment> {
        self.current.as_ref()
    }

    /// The watchdog restarted `worker`'s solver for `reason`.
    pub fn on_restart(&mut self, worker: usize, reason: &str) {
        self.acc.record_restart(worker, reason);
    }

    /// A connection to `pool` came up.
    pub fn connected(&mut self, pool: String) {
        self.acc.connections += 1;
        self.acc.connected = true;
        self.acc.pool = Some(pool);
        self.acc.difficulty = None;
    }

    /// A connection ended (or failed to start) for `reason` with `pending` submits unanswered:
    /// mining stops and older shares are flushed until the next job.
    pub fn disconnected(&mut self, reason: String, pending: usize) -> Vec<Output> {
        self.acc.record_disconnect(reason, pending);
        self.acc.connected = false;
        self.owners.clear();
        self.stop_work()
    }

    fn stop_work(&mut self) -> Vec<Output> {
        self.epoch += 1;
        self.flush_epoch = self.epoch;
        self.current = None;
        vec![Output::Work(None)]
    }

    /// Handles the session's events.
    pub fn on_events(&mut self, events: Vec<Event>) -> Vec<Output> {
        let mut out = Vec::new();
        for ev in events {
            match ev {
                Event::Job(job) => out.push(self.on_job(job)),
                Event::JobRefused { .. } => out.extend(self.stop_work()),
                Event::Share {
                    id,
                    outcome,
                    difficulty,
                    ..
                } => {
                    let worker = self.owner(id);
                    self.acc.record(&outcome, difficulty, worker);
                }
                Event::Target { difficulty, .. } => self.acc.difficulty = Some(difficulty),
                Event::Reconnect { host, port, wait_s } => {
                    out.push(Output::End(End::Redirect {
                        host,
                        port,
                        wait_ms: wait_s.saturating_mul(1000),
                    }));
                    break;
                }
                Event::Fatal(e) => {
                    out.push(Output::End(End::Failed(e.to_string())));
                    break;
                }
                Event::Subscribed { .. }
                | Event::Authorized
                | Event::ExtranonceChanged { .. }
                | Event::Warning(_) => {}
            }
        }
        out
    }

    fn on_job(&mut self, job: Arc<MiningJob>) -> Output {
        let resent = self.current.as_ref().is_some_and(|a| {
            a.job.notify.job_id == job.notify.job_id
                && a.job.nonce1 == job.nonce1
                && a.job.notify.header_prefix() == job.notify.header_prefix()
        });
        if !resent {
            self.epoch += 1;
            let same_block = self
                .current
                .as_ref()
                .is_some_and(|a| a.job.notify.prev_hash == job.notify.prev_hash);
            if job.notify.clean && !same_block {
                self.flush_epoch = self.epoch;
            }
        }
        let start = match &self.current {
            Some(a) if resent => a.start,
            _ => splitmix64(&mut self.rng),
        };
        let a = Assignment {
            epoch: self.epoch,
            job,
            start,
        };
        self.current = Some(a.clone());
        Output::Work(Some(a))
    }

    /// Counts a worker's report and submits its shares through `session` where the rules allow
    /// (see the module doc); with no session (no connection) every share is dropped as stale.
    pub fn on_report(&mut self, r: Report, mut session: Option<&mut ClientSession>, now_ms: u64) {
        let done = match r {
            Report::Nonce(done) => done,
            Report::Failed { worker, .. } => {
                self.acc.compute_errors += 1;
                if let Some(d) = self.acc.devices.get_mut(worker) {
                    d.compute_errors += 1;
                }
                return;
            }
        };
        self.acc
            .record_nonce(done.worker, done.solutions, done.compute_errors);
        self.acc.candidates += done.shares.len() as u64;
        for share in &done.shares {
            self.submit(&done, share, session.as_deref_mut(), now_ms);
        }
    }

    fn submit(
        &mut self,
        done: &NonceDone,
        share: &FoundShare,
        session: Option<&mut ClientSession>,
        now_ms: u64,
    ) {
        let Some(s) = session.filter(|_| done.epoch >= self.flush_epoch) else {
            self.acc.record_local(Local::Stale);
            return;
        };
        let id = &done.job.notify.job_id;
        let Some(job) = s.job(id).filter(|j| j.nonce1 == done.job.nonce1) else {
            self.acc.record_local(Local::Stale);
            return;
        };
        if !job.target.is_met_by_internal_bytes(&share.hash) {
            self.acc.record_local(Local::BelowTarget);
            return;
        }
        if !self.remember(id, done.nonce, &share.solution) {
            self.acc.record_local(Local::Duplicate);
            return;
        }
        match s.submit(&job, &done.nonce, &share.solution, now_ms) {
            Ok(id) => {
                self.acc.record_local(Local::Submitted);
                if self.owners.len() == OWNERS_REMEMBERED {
                    self.owners.pop_front();
                }
                self.owners.push_back((id, done.worker));
            }
            Err(_) => self.acc.record_local(Local::Stale),
        }
    }

    /// The worker that found submit `id` (forgotten once answered).
    fn owner(&mut self, id: u64) -> Option<usize> {
        let pos = self.owners.iter().position(|&(i, _)| i == id)?;
        self.owners.remove(pos).map(|(_, w)| w)
    }

    /// Records a submit; `false` when the same one was made before.
    fn remember(&mut self, job_id: &str, nonce: [u8; NONCE_LEN], solution: &[u8]) -> bool {
        let pos = self.submitted.iter().position(|(id, _)| id == job_id);
        let set = match pos {
            Some(p) => &mut self.submitted[p].1,
            None => {
                if self.submitted.len() == JOBS_REMEMBERED {
                    self.submitted.pop_front();
                }
                self.submitted
                    .push_back((job_id.to_string(), Submitted::new()));
                &mut self.submitted.back_mut().expect("just pushed").1
            }
        };
        set.insert((nonce, solution.to_vec()))
    }
}

#[cfg(test)]
mod tests;

//! Solver backends behind one trait, a folder each: the CPU reference solver (`cpu`), the WGSL
//! kernels through wgpu (`wgpu`) and the CUDA kernels (`cuda`, on NVIDIA cards or on the CPU
//! through a checking shim), the GPU plan the two GPU backends share (`plan`), how a solver is
//! chosen and built (`factory`), and the known answers every solver checks itself against
//! (`golden`).
//!
//! Every backend returns index lists that the caller may trust only after
//! [`crate::equihash::is_valid_indices`]; the CPU solver re-verifies its own output already.

pub mod codegen;
pub mod cpu;
pub mod cuda;
pub mod factory;
pub mod golden;
pub mod inventory;
pub mod pipeline;
pub mod plan;
#[cfg(feature = "wgpu")]
pub mod wgpu;

use std::time::Duration;

use thiserror::Error;

use crate::equihash::{Kind, Params};
use crate::telemetry::GpuId;

/// Why a backend cannot solve.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SolverError {
    /// The parameters or settings are outside what this backend supports.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The working memory could not be allocated.
    #[error("cannot allocate {bytes} bytes of solver memory")]
    OutOfMemory {
        /// Bytes requested.
        bytes: usize,
    },
    /// The GPU device is missing, lost, or failed.
    #[error("device: {0}")]
    Device(String),
    /// The backend's platform is not on this machine (e.g. `"CUDA unavailable: <reason>"`).
    #[error("{0}")]
    Unavailable(String),
    /// The solver failed its self-test on a known answer.
    #[error("self-test failed: {0}")]
    SelfTest(#[from] golden::GoldenError),
}

/// What a passed self-test checked.
#[derive(Debug, Clone)]
pub struct SelfTest {
    /// The golden case, or `None` where no known answer exists for the parameters (the solver
    /// then only ran once on a zero input, every solution verified).
    pub golden: Option<&'static str>,
    /// The input solved (the golden input, or zeros).
    pub input: Vec<u8>,
    /// How long the solve took (the first solve of a solver: it includes warming its memory).
    pub elapsed: Duration,
}

/// Records a solve wrote, lost to full buckets or regions, and pruned: per CPU lane and round,
/// or summed over a solve.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecordTotals {
    /// Records written.
    pub written: u64,
    /// Records lost because their bucket (or lane of it) was full.
    pub overflowed: u64,
    /// Pairs dropped because their XOR was all zero (duplicate indices).
    pub pruned: u64,
}

impl RecordTotals {
    /// Adds another count.
    pub fn add(&mut self, o: &RecordTotals) {
        self.written += o.written;
        self.overflowed += o.overflowed;
        self.pruned += o.pruned;
    }
}

/// Timings and counters of one solve.
#[derive(Debug, Default, Clone)]
pub struct SolveStats {
    /// Round 0: hashing and scattering the leaves.
    pub generate: Duration,
    /// Collision rounds 1..k (the last one is the final round).
    pub rounds: Vec<Duration>,
    /// Walking candidates back and verifying them.
    pub recover: Duration,
    /// Records stored in each layer (0 = the leaves), where the backend counts them.
    pub layer_records: Vec<u64>,
    /// Pairs pruned in each round 1..k−1, where the backend counts them per round.
    pub round_pruned: Vec<u64>,
    /// Records written, lost to full buckets, and pruned, over all rounds.
    pub lane_totals: RecordTotals,
    /// Final-round candidates.
    pub candidates: u64,
    /// Candidates with a repeated leaf index.
    pub duplicate_candidates: u64,
    /// Candidates whose walk back to the leaves failed (a GPU solver bug if ever non-zero).
    pub lost_candidates: u64,
    /// Pairs a GPU round dropped because the partner's rank did not fit its back-pointer.
    pub rank_lost: u64,
    /// Candidates that fail only in the bits the layout did not store.
    pub false_candidates: u64,
    /// Up to four of those, in canonical order: they collide at every round and fail only at the
    /// root, which makes them real `NonZeroRoot` test vectors.
    pub false_sample: Vec<Vec<u32>>,
    /// Candidates failing any other rule: a solver bug if ever non-zero.
    pub invalid_candidates: u64,
    /// Up to four rules such candidates broke.
    pub invalid_sample: Vec<Kind>,
    /// Solutions found more than once.
    pub repeated_solutions: u64,
    /// Global-memory traffic per stage as the kernels counted it (GPU backends in profile
    /// mode; empty otherwise).
    pub counted: Vec<StageCount>,
    /// Compute dispatches the kernels counted (profile mode; 0 otherwise).
    pub dispatches: u32,
}

/// Global-memory traffic of one stage of one solve, counted by the kernels themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageCount {
    /// Bytes loaded from global memory.
    pub read_bytes: u64,
    /// Bytes stored to global memory.
    pub written_bytes: u64,
    /// Global atomic read-modify-writes (one per record or event).
    pub atomics: u64,
}

/// What a [`Solver::solve_stream`] does next, as its `next` callback says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// Start solving this input.
    Input(Vec<u8>),
    /// Nothing to start now: finish what is in flight (each result to `done`), then ask again.
    Drain,
    /// Finish what is in flight, then return.
    Stop,
}

impl SolveStats {
    /// Counts a recovered candidate that is not a solution: `None` for a repeated leaf index, a
    /// failed rule otherwise. `NonZeroRoot` is a false candidate (it fails only in the bits the
    /// layout did not store; up to four kept as samples); any other rule is a solver bug.
    pub fn count_rejected(&mut self, rule: Option<Kind>, indices: Vec<u32>) {
        match rule {
            None => self.duplicate_candidates += 1,
            Some(Kind::NonZeroRoot) => {
                self.false_candidates += 1;
                if self.false_sample.len() < 4 {
                    self.false_sample.push(indices);
                }
            }
            Some(kind) => {
                self.invalid_candidates += 1;
                if self.invalid_sample.len() < 4 {
                    self.invalid_sample.push(kind);
                }
            }
        }
    }

    /// Sorts the verified `solutions` and removes solutions found more than once, counting them.
    pub fn dedup_solutions(&mut self, solutions: &mut Vec<Vec<u32>>) {
        solutions.sort_unstable();
        let before = solutions.len();
        solutions.dedup();
        self.repeated_solutions = (before - solutions.len()) as u64;
    }
}

/// The result of one solve.
#[derive(Debug, Clone)]
pub struct SolveReport {
    /// Every distinct valid solution, each in canonical index order, sorted.
    pub solutions: Vec<Vec<u32>>,
    /// What it cost.
    pub stats: SolveStats,
}

/// [`Solver::solve_stream`] one input at a time (the default, and GPU profile modes).
pub fn serial_stream<S: Solver + ?Sized>(
    s: &mut S,
    next: &mut dyn FnMut() -> Feed,
    done: &mut dyn FnMut(Vec<u8>, Result<SolveReport, SolverError>),
) {
    loop {
        match next() {
            Feed::Input(input) => {
                let report = s.solve(&input);
                done(input, report);
            }
            Feed::Drain => {}
            Feed::Stop => return,
        }
    }
}

/// A backend that solves one Equihash input at a time.
pub trait Solver: Send {
    /// A short human-readable name.
    fn name(&self) -> String;
    /// The parameters this instance solves.
    fn params(&self) -> Params;

    /// The card this solver runs on, for its sensors ([`crate::telemetry::Monitor::read`]);
    /// `None` for the CPU and software adapters.
    fn gpu_id(&self) -> Option<GpuId> {
        None
    }
    /// Finds the solutions of `input` (the 140-byte header prefix with nonce).
    ///
    /// # Errors
    /// When the backend fails; finding no solution is not an error.
    fn solve(&mut self, input: &[u8]) -> Result<SolveReport, SolverError>;

    /// Solves the known answer for its parameters ([`golden`]) and checks the result: every
    /// known solution found, nothing invalid, nothing extra where the set is exact. `bench` and
    /// `mine` run it before anything else, so a broken kernel never reports a speed or submits.
    ///
    /// # Errors
    /// The backend fails, or its answer is wrong ([`SolverError::SelfTest`]).
    fn self_test(&mut self) -> Result<SelfTest, SolverError> {
        let params = self.params();
        let start = std::time::Instant::now();
        match golden::for_params(&params)? {
            Some(g) => {
                let report = self.solve(&g.input)?;
                golden::check(&g, &params, &report.solutions)?;
                Ok(SelfTest {
                    golden: Some(g.name),
                    input: g.input,
                    elapsed: start.elapsed(),
                })
            }
            None => {
                let input = vec![0u8; crate::equihash::INPUT_LEN];
                self.solve(&input)?;
                Ok(SelfTest {
                    golden: None,
                    input,
                    elapsed: start.elapsed(),
                })
            }
        }
    }

    /// Solves inputs as `next` hands them over and passes each result, in order, to `done`.
    /// GPU backends override this to keep several inputs in flight, so the device never waits
    /// for the host between nonces; the default solves one at a time.
    fn solve_stream(
        &mut self,
        next: &mut dyn FnMut() -> Feed,
        done: &mut dyn FnMut(Vec<u8>, Result<SolveReport, SolverError>),
    ) {
        serial_stream(self, next, done);
    }

    /// Solves several inputs, one result each, in order, through [`Solver::solve_stream`].
    fn solve_many(&mut self, inputs: &[Vec<u8>]) -> Vec<Result<SolveReport, SolverError>> {
        let mut queue = inputs.iter();
        let mut out = Vec::with_capacity(inputs.len());
        self.solve_stream(
            &mut || queue.next().map_or(Feed::Stop, |i| Feed::Input(i.clone())),
            &mut |_, r| out.push(r),
        );
        out
    }
}

//! [`CudaSolver`]: the CUDA kernels of one plan driven through a [`Runtime`] (an NVIDIA card
//! through the driver API, or the CPU through `kernels/cuda_cpu.h`). Buffers are allocated once;
//! a nonce is the midstate in the kernel arguments, one launch per stage, and one read of the
//! stats and solutions; every solution is re-verified on the CPU ([`Plan::report`]).

use std::time::Instant;

use super::source::{self, MAX_HEAPS, MID_WORDS};
use crate::backend::pipeline::{self, DEPTH, Pipelined};
use crate::backend::plan::{self, Plan, STATS_WORDS, Stage};
use crate::backend::{Feed, SolveReport, Solver, SolverError};
use crate::equihash::Params;
use crate::telemetry::GpuId;

/// The one argument of every kernel (`struct Args` in the generated source): device addresses of
/// the small buffer, the index table and the heaps, then the midstate words.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct KernelArgs {
    /// The small buffer.
    pub sm: u64,
    /// The index table.
    pub ix: u64,
    /// The heaps (unused ones are 0).
    pub heap: [u64; MAX_HEAPS],
    /// The midstate ([`plan::midstate_words`]).
    pub mid: [u32; MID_WORDS],
}

impl KernelArgs {
    /// The arguments as the bytes a launch copies (the C layout: 48 bytes of addresses, then
    /// the words).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(48 + 4 * MID_WORDS);
        for a in [self.sm, self.ix].iter().chain(&self.heap) {
            v.extend_from_slice(&a.to_le_bytes());
        }
        for w in &self.mid {
            v.extend_from_slice(&w.to_le_bytes());
        }
        v
    }
}

/// What the solver needs from a device: zeroed allocations addressed by a 64-bit device address,
/// copies in and out, and launches of the module's kernels by name.
pub trait Runtime: Send {
    /// The device, in words.
    fn describe(&self) -> String;
    /// The card, for its sensors; `None` off a GPU (the CPU shim).
    fn gpu_id(&self) -> Option<GpuId> {
        None
    }
    /// Compiles or loads the module `src` (every kernel of one plan).
    ///
    /// # Errors
    /// A compiler or loader error, with its log.
    fn load(&mut self, src: &str) -> Result<(), SolverError>;
    /// A zeroed allocation of `bytes`, 16-byte aligned; its device address.
    ///
    /// # Errors
    /// Out of device memory.
    fn alloc(&mut self, bytes: u64) -> Result<u64, SolverError>;
    /// Copies `words` to device address `at`.
    ///
    /// # Errors
    /// A device error.
    fn write(&mut self, at: u64, words: &[u32]) -> Result<(), SolverError>;
    /// Copies `out.len()` words from device address `at` (after all queued work).
    ///
    /// # Errors
    /// A device error (including one a kernel raised).
    fn read(&mut self, at: u64, out: &mut [u32]) -> Result<(), SolverError>;
    /// Queues kernel `entry` on a `grid` of blocks of `block` threads with `args`.
    ///
    /// # Errors
    /// A launch error.
    fn launch(
        &mut self,
        entry: &str,
        grid: (u32, u32),
        block: u32,
        args: &KernelArgs,
    ) -> Result<(), SolverError>;
    /// Waits for all queued work.
    ///
    /// # Errors
    /// A device error (including one a kernel raised).
    fn sync(&mut self) -> Result<(), SolverError>;
    /// Queues a copy of `words` words from device address `from` to `to`, after the queued
    /// work.
    ///
    /// # Errors
    /// A device error, or a copy outside the allocations.
    fn copy(&mut self, from: u64, to: u64, words: usize) -> Result<(), SolverError>;
    /// Marks the work queued so far; [`Runtime::read_marked`] waits for that much only.
    ///
    /// # Errors
    /// A device error.
    fn mark(&mut self) -> Result<u64, SolverError>;
    /// Copies `out.len()` words from `at` once the work before `mark` is done, without waiting
    /// for work queued after it (the next nonce keeps the device busy meanwhile).
    ///
    /// # Errors
    /// A device error (including one a kernel raised), or an unknown mark.
    fn read_marked(&mut self, mark: u64, at: u64, out: &mut [u32]) -> Result<(), SolverError>;
}

/// A nonce queued on the device: its input, result slot, mark, and when it was queued.
pub struct Queued {
    input: Vec<u8>,
    slot: usize,
    mark: u64,
    started: Instant,
}

/// The CUDA solver of one plan on one runtime.
pub struct CudaSolver<R: Runtime> {
    rt: R,
    plan: Plan,
    profile: bool,
    small: u64,
    index: u64,
    heaps: [u64; MAX_HEAPS],
    /// Per nonce in flight, where its stats and solutions are copied once it is done.
    slots: [u64; DEPTH],
}

impl<R: Runtime> CudaSolver<R> {
    /// Plans `params` for CUDA, generates and loads the module, allocates every buffer.
    ///
    /// # Errors
    /// A plan the device cannot hold, a compiler error, out of memory.
    pub fn new(mut rt: R, params: Params, profile: bool) -> Result<CudaSolver<R>, SolverError> {
        let plan = Plan::new(params, &plan::DeviceLimits::CUDA, None)
            .map_err(|e| SolverError::Unsupported(e.to_string()))?;
        if plan.heaps.len() > MAX_HEAPS {
            return Err(SolverError::Unsupported(format!(
                "the plan uses {} heaps; the CUDA kernels take {MAX_HEAPS}",
                plan.heaps.len()
            )));
        }
        rt.load(&source::module(&plan, profile))?;
        let small = rt.alloc(4 * plan.small_words())?;
        let index = rt.alloc(plan.index.bytes())?;
        let mut heaps = [0; MAX_HEAPS];
        for (h, slot) in heaps.iter_mut().enumerate().take(plan.heaps.len()) {
            *slot = rt.alloc(heap_bytes(&plan, h))?;
        }
        let mut slots = [0; DEPTH];
        for slot in &mut slots {
            *slot = rt.alloc(4 * result_words(&plan) as u64)?;
        }
        Ok(CudaSolver {
            rt,
            plan,
            profile,
            small,
            index,
            heaps,
            slots,
        })
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Device memory allocated, bytes.
    pub fn footprint(&self) -> u64 {
        4 * (self.plan.small_words() + (DEPTH * result_words(&self.plan)) as u64)
            + self.plan.index.bytes()
            + (0..self.plan.heaps.len())
                .map(|h| heap_bytes(&self.plan, h))
                .sum::<u64>()
    }

    fn grid(&self, stage: Stage) -> (u32, u32) {
        let k = self.plan.layers.len();
        match stage {
            Stage::Generate => self.plan.generate_groups(true),
            Stage::Round(r) => self.plan.region_groups(r as usize - 1),
            Stage::Final => self.plan.region_groups(k - 1),
            Stage::Recover => (plan::RECOVER_GROUPS, 1),
        }
    }

    fn args(&self, input: &[u8]) -> Result<KernelArgs, SolverError> {
        let words = plan::midstate_words(&self.plan.params, input)?;
        let mut mid = [0; MID_WORDS];
        mid.copy_from_slice(&words);
        Ok(KernelArgs {
            sm: self.small,
            ix: self.index,
            heap: self.heaps,
            mid,
        })
    }
}

/// Words of one nonce's results: the stats block, then the solutions.
fn result_words(plan: &Plan) -> usize {
    STATS_WORDS as usize + plan::MAX_SOLS as usize * plan.solution_indices()
}

/// Bytes of heap `h`: its largest layer (CUDA needs no binding chunks).
fn heap_bytes(plan: &Plan, h: usize) -> u64 {
    plan.heap_layers(h)
        .map(|(_, l)| l.table.bytes())
        .max()
        .unwrap_or(4)
}

impl<R: Runtime> Solver for CudaSolver<R> {
    fn name(&self) -> String {
        format!("cuda ({})", self.rt.describe())
    }

    fn params(&self) -> Params {
        self.plan.params
    }

    fn gpu_id(&self) -> Option<GpuId> {
        self.rt.gpu_id()
    }

    fn solve(&mut self, input: &[u8]) -> Result<SolveReport, SolverError> {
        if self.profile {
            return self.solve_profiled(input);
        }
        pipeline::solve_one(self, input)
    }

    /// Keeps [`DEPTH`] nonces queued ([`pipeline::stream`]): nonce i + 1's kernels are queued
    /// behind nonce i's result copy before nonce i is read back. Profile mode solves one at a
    /// time.
    fn solve_stream(
        &mut self,
        next: &mut dyn FnMut() -> Feed,
        done: &mut dyn FnMut(Vec<u8>, Result<SolveReport, SolverError>),
    ) {
        let profile = self.profile;
        pipeline::stream_unless_profiling(self, profile, next, done);
    }
}

impl<R: Runtime> CudaSolver<R> {
    /// Queues every stage of `input` (after zeroing the stats).
    fn launch_all(
        &mut self,
        input: &[u8],
        mut each: impl FnMut(&mut R) -> Result<(), SolverError>,
    ) -> Result<(), SolverError> {
        let args = self.args(input)?;
        self.rt.write(self.small, &[0; STATS_WORDS as usize])?;
        for stage in self.plan.stages() {
            let threads = source::block_threads(&self.plan, stage);
            self.rt.launch(
                &source::entry(&self.plan, stage),
                self.grid(stage),
                threads,
                &args,
            )?;
            each(&mut self.rt)?;
        }
        Ok(())
    }

    /// One nonce with every stage waited for and timed, and the kernels' traffic counted.
    fn solve_profiled(&mut self, input: &[u8]) -> Result<SolveReport, SolverError> {
        let mut times = Vec::new();
        let mut t = Instant::now();
        self.launch_all(input, |rt| {
            rt.sync()?;
            times.push(t.elapsed());
            t = Instant::now();
            Ok(())
        })?;
        let mut stats = vec![0; STATS_WORDS as usize];
        self.rt.read(self.small, &mut stats)?;
        let mut sols = vec![0; plan::MAX_SOLS as usize * self.plan.solution_indices()];
        self.rt
            .read(self.small + 4 * self.plan.sols_at(), &mut sols)?;
        let mut report = self.plan.report(input, &stats, &sols, true);
        let k = self.plan.params.k() as usize;
        report.stats.generate = times[0];
        report.stats.rounds = times[1..=k].to_vec();
        report.stats.recover = times[k + 1];
        Ok(report)
    }

    fn queue_nonce(&mut self, input: &[u8], slot: usize) -> Result<u64, SolverError> {
        self.launch_all(input, |_| Ok(()))?;
        let to = self.slots[slot];
        let s = STATS_WORDS as usize;
        self.rt.copy(self.small, to, s)?;
        self.rt.copy(
            self.small + 4 * self.plan.sols_at(),
            to + 4 * s as u64,
            result_words(&self.plan) - s,
        )?;
        self.rt.mark()
    }
}

impl<R: Runtime> Pipelined for CudaSolver<R> {
    type Ticket = Queued;

    fn queue(&mut self, input: Vec<u8>, slot: usize) -> Result<Queued, (Vec<u8>, SolverError)> {
        let started = Instant::now();
        match self.queue_nonce(&input, slot) {
            Ok(mark) => Ok(Queued {
                input,
                slot,
                mark,
                started,
            }),
            Err(e) => Err((input, e)),
        }
    }

    fn collect(&mut self, q: Queued) -> (Vec<u8>, Result<SolveReport, SolverError>) {
        let mut words = vec![0; result_words(&self.plan)];
        let read = self.rt.read_marked(q.mark, self.slots[q.slot], &mut words);
        let report = read.map(|()| {
            let (stats, sols) = words.split_at(STATS_WORDS as usize);
            let mut report = self.plan.report(&q.input, stats, sols, false);
            report.stats.generate = q.started.elapsed();
            report
        });
        (q.input, report)
    }
}

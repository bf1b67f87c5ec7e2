//! The CPU solver: Wagner's algorithm with bucketed collision rounds, on every core.
//!
//! It is the reference every GPU backend is tested against, and the fallback miner. Design, for
//! ZelHash on a 2-core machine (figures in the README):
//! - **Leaves** are generated 16 counters at a time (one twist group) with the multi-lane BLAKE2b
//!   midstate path, and scattered into `2^13` buckets by their first 13 bits.
//! - **Rounds** walk one bucket at a time: the records are copied into a per-thread buffer, a
//!   chained table on the remaining 12 bits finds the colliding pairs, and each pair's XOR is
//!   written to the bucket of its next digit. Each thread owns one *lane* of every bucket, so no
//!   atomics are shared ([`layout`]).
//! - **Memory** is one arena of two heaps, allocated once and reused for every nonce. Back-pointers
//!   stay inside the slots (tromp's layout), so nothing but the two heaps is needed.
//! - **Candidates** from the final round are walked back to their leaf indices, put in canonical
//!   order, de-duplicated and re-verified with [`crate::equihash::is_valid_indices`].

mod arena;
pub mod layout;
mod recover;
mod rounds;
mod slot;

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use arena::Arena;
use layout::Layout;
use rounds::{Candidate, LaneCounts, LaneStats, Scratch};

use super::{SolveReport, SolveStats, Solver, SolverError};
use crate::equihash::blake::HashInput;
use crate::equihash::leaves::TWIST_GROUP;
use crate::equihash::{Kind, Params, is_valid_indices};

/// The CPU solver. Allocates its memory once, in [`CpuSolver::new`].
pub struct CpuSolver {
    layout: Layout,
    arena: Arena,
    /// The low bits of each leaf's last digit that the slots do not hold (empty if none are
    /// dropped). Checking them first rejects false candidates without hashing.
    tails: Vec<u16>,
}

impl CpuSolver {
    /// A solver for `params` using `threads` threads (at least 1).
    ///
    /// # Errors
    /// When no layout fits or the memory cannot be allocated.
    pub fn new(params: Params, threads: usize) -> Result<CpuSolver, SolverError> {
        Self::with_bucket_bits(params, threads, None)
    }

    /// As [`CpuSolver::new`], with the bucket bits chosen by the caller (for tuning).
    ///
    /// # Errors
    /// As [`CpuSolver::new`].
    pub fn with_bucket_bits(
        params: Params,
        threads: usize,
        bucket_bits: Option<u32>,
    ) -> Result<CpuSolver, SolverError> {
        let layout = Layout::new(params, threads, bucket_bits)
            .map_err(|e| SolverError::Unsupported(e.to_string()))?;
        let words = layout.heap_slots() * layout.words;
        let arena = Arena::new(2 * words).ok_or(SolverError::OutOfMemory { bytes: 16 * words })?;
        let tails = if layout.dropped_bits > 0 {
            vec![0u16; layout.params.leaf_count() as usize]
        } else {
            Vec::new()
        };
        Ok(CpuSolver {
            layout,
            arena,
            tails,
        })
    }

    /// The layout in use.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Bytes held by the solver's arena.
    pub fn arena_bytes(&self) -> usize {
        self.arena.bytes()
    }

    fn heaps(&self) -> [&[AtomicU64]; 2] {
        self.arena
            .words()
            .split_at(self.layout.heap_slots() * self.layout.words)
            .into()
    }

    fn run<const W: usize>(&mut self, input: &[u8]) -> SolveReport {
        let hash_input = HashInput::new(&self.layout.params, input);
        let mut stats = SolveStats::default();
        let t0 = Instant::now();
        let (mut counts, s) = self.generate::<W>(&hash_input);
        stats.generate = t0.elapsed();
        stats.lane_totals.add(&s);
        for r in 1..self.layout.layers.len() {
            let t = Instant::now();
            let (c, s) = self.collide::<W>(r, &counts);
            counts = c;
            stats.rounds.push(t.elapsed());
            stats.lane_totals.add(&s);
        }
        let t = Instant::now();
        let candidates = self.final_round::<W>(&counts);
        stats.rounds.push(t.elapsed());
        let t = Instant::now();
        let solutions = self.recover::<W>(&hash_input, &candidates, &mut stats);
        stats.recover = t.elapsed();
        SolveReport { solutions, stats }
    }

    /// Splits `0..n` into `threads` nearly equal ranges.
    fn share(&self, n: usize, lane: usize) -> std::ops::Range<usize> {
        share(self.layout.threads, n, lane)
    }

    fn generate<const W: usize>(&mut self, input: &HashInput) -> (Vec<LaneCounts>, LaneStats) {
        let l = &self.layout;
        let heap = self.arena.words().split_at(l.heap_slots() * l.words).0;
        let groups = l.params.hash_count().div_ceil(u64::from(TWIST_GROUP)) as usize;
        let per_hash = u64::from(l.params.leaves_per_hash());
        let mut tails_left: &mut [u16] = &mut self.tails;
        let per_lane = std::thread::scope(|s| {
            let handles: Vec<_> = (0..l.threads)
                .map(|lane| {
                    let r = share(l.threads, groups, lane);
                    let counters = (r.start as u32 * TWIST_GROUP)..(r.end as u32 * TWIST_GROUP);
                    let leaves = (u64::from(counters.end) * per_hash).min(l.params.leaf_count())
                        - u64::from(counters.start) * per_hash;
                    let split = if tails_left.is_empty() {
                        0
                    } else {
                        leaves as usize
                    };
                    let (mine, rest) = std::mem::take(&mut tails_left).split_at_mut(split);
                    tails_left = rest;
                    s.spawn(move || rounds::generate::<W>(l, input, heap, lane, counters, mine))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("generate thread panicked"))
                .collect::<Vec<_>>()
        });
        merge(per_lane)
    }

    fn collide<const W: usize>(
        &self,
        r: usize,
        counts: &[LaneCounts],
    ) -> (Vec<LaneCounts>, LaneStats) {
        let l = &self.layout;
        let heaps = self.heaps();
        let (heap_in, heap_out) = (heaps[(r - 1) % 2], heaps[r % 2]);
        let per_lane = std::thread::scope(|s| {
            let handles: Vec<_> = (0..l.threads)
                .map(|lane| {
                    let buckets = self.share(l.buckets(), lane);
                    s.spawn(move || {
                        let mut scratch = Scratch::<W>::new(l);
                        rounds::collide::<W>(
                            l,
                            r,
                            heap_in,
                            counts,
                            heap_out,
                            lane,
                            buckets,
                            &mut scratch,
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("round thread panicked"))
                .collect::<Vec<_>>()
        });
        merge(per_lane)
    }

    fn final_round<const W: usize>(&self, counts: &[LaneCounts]) -> Vec<Candidate> {
        let l = &self.layout;
        let heap_in = self.heaps()[(l.layers.len() - 1) % 2];
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..l.threads)
                .map(|lane| {
                    let buckets = self.share(l.buckets(), lane);
                    s.spawn(move || {
                        let mut scratch = Scratch::<W>::new(l);
                        rounds::final_round::<W>(l, heap_in, counts, buckets, &mut scratch)
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("final round thread panicked"))
                .collect()
        })
    }

    /// Walks candidates back to index lists, drops duplicates, verifies the rest exactly.
    fn recover<const W: usize>(
        &self,
        input: &HashInput,
        candidates: &[Candidate],
        stats: &mut SolveStats,
    ) -> Vec<Vec<u32>> {
        let l = &self.layout;
        let heaps = self.heaps();
        stats.candidates = candidates.len() as u64;
        let checked: Vec<Checked> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..l.threads)
                .map(|lane| {
                    let mine = &candidates[self.share(candidates.len(), lane)];
                    let tails = &self.tails[..];
                    s.spawn(move || {
                        mine.iter()
                            .map(|c| check_candidate::<W>(l, heaps, tails, input, c))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("recovery thread panicked"))
                .collect()
        });
        let mut solutions = Vec::new();
        for r in checked {
            match r {
                Ok(s) => solutions.push(s),
                Err((rule, indices)) => stats.count_rejected(rule, indices),
            }
        }
        stats.dedup_solutions(&mut solutions);
        solutions
    }
}

/// A recovered candidate: its indices, or why it is not a solution (with the indices).
type Checked = Result<Vec<u32>, (Option<Kind>, Vec<u32>)>;

/// Recovers one candidate and checks it: `Err((None, _))` for repeated indices,
/// `Err((Some(kind), indices))` for a failed rule.
fn check_candidate<const W: usize>(
    l: &Layout,
    heaps: [&[AtomicU64]; 2],
    tails: &[u16],
    input: &HashInput,
    c: &Candidate,
) -> Checked {
    let indices = recover::candidate_indices::<W>(l, heaps, c);
    if !recover::all_distinct(&indices) {
        return Err((None, indices));
    }
    if !tails.is_empty() && indices.iter().fold(0, |acc, &i| acc ^ tails[i as usize]) != 0 {
        return Err((Some(Kind::NonZeroRoot), indices));
    }
    match is_valid_indices(&l.params, input, &indices) {
        Ok(()) => Ok(indices),
        Err(e) => Err((Some(e.kind()), indices)),
    }
}

/// Range `lane` of `0..n` split into `threads` nearly equal parts.
fn share(threads: usize, n: usize, lane: usize) -> std::ops::Range<usize> {
    n * lane / threads..n * (lane + 1) / threads
}

fn merge(per_lane: Vec<(LaneCounts, LaneStats)>) -> (Vec<LaneCounts>, LaneStats) {
    let mut total = LaneStats::default();
    let counts = per_lane
        .into_iter()
        .map(|(c, s)| {
            total.add(&s);
            c
        })
        .collect();
    (counts, total)
}

impl Solver for CpuSolver {
    fn name(&self) -> String {
        format!("cpu ({} threads)", self.layout.threads)
    }

    fn params(&self) -> Params {
        self.layout.params
    }

    fn solve(&mut self, input: &[u8]) -> Result<SolveReport, SolverError> {
        Ok(match self.layout.words {
            1 => self.run::<1>(input),
            2 => self.run::<2>(input),
            3 => self.run::<3>(input),
            4 => self.run::<4>(input),
            w => unreachable!("layout chose {w} words, more than layout::MAX_WORDS"),
        })
    }
}

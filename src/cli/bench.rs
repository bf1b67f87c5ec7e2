//! `fluxminer bench`: the end-to-end CPU solver benchmark. It refuses to report a speed unless
//! the solver first reproduces a golden answer (block 400000's two solutions for ZelHash).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::backend_args::{Backend, BackendArgs, make_solver};
use super::{ParamsArgs, ThreadsArgs};
use crate::backend::cpu::CpuSolver;
use crate::backend::{Feed, SolveReport, Solver, SolverError, StageCount};
use crate::equihash::blake::HashInput;
use crate::equihash::leaves::{TWIST_GROUP, digest_group};
use crate::equihash::{self, INPUT_LEN, Params};

/// Arguments of `fluxminer bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    #[command(flatten)]
    params: ParamsArgs,
    /// Nonces to solve after the golden check.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    nonces: u32,
    #[command(flatten)]
    threads: ThreadsArgs,
    /// Bucket bits of the CPU solver (tuning; default chosen per parameter set).
    #[arg(long, hide = true)]
    bucket_bits: Option<u32>,
    #[command(flatten)]
    backend: BackendArgs,
}

/// Runs the golden check, then the timed nonces, and prints the figures.
pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let params = args.params.params()?;
    let threads = args.threads.get();
    if matches!(args.backend.backend, None | Some(Backend::Cpu)) {
        let solver = CpuSolver::with_bucket_bits(params, threads, args.bucket_bits)
            .context("cannot set up the CPU solver")?;
        let l = solver.layout();
        println!(
            "layout: 2^{} buckets, {} word(s) per record, {} dropped bits, {:.0} MiB of heaps",
            l.bucket_bits,
            l.words,
            l.dropped_bits,
            solver.arena_bytes() as f64 / f64::from(1 << 20)
        );
    }
    let mut solver = make_solver(params, &args.threads, &args.backend, args.bucket_bits)?;
    println!(
        "fluxminer bench: equihash {params}, {}, host {}",
        solver.name(),
        cpu_model()
    );
    let solver = solver.as_mut();
    let base = match golden_check(solver, &params)? {
        Some(input) => input,
        None => return Ok(ExitCode::from(1)),
    };
    let runs = timed_runs(solver, &params, &base, args.nonces)?;
    report(&params, threads, &runs);
    Ok(ExitCode::SUCCESS)
}

/// Runs the solver's self-test (which also warms its memory). Returns the input to derive
/// benchmark inputs from, or `None` after printing why the check failed.
fn golden_check(solver: &mut dyn Solver, params: &Params) -> anyhow::Result<Option<Vec<u8>>> {
    match solver.self_test() {
        Ok(t) => {
            match t.golden {
                Some(name) => println!(
                    "golden check: {name} — ok ({:.2} s, first solve)",
                    t.elapsed.as_secs_f64()
                ),
                None => println!(
                    "golden check: no known answer for {params}; every solution is verified instead"
                ),
            }
            Ok(Some(t.input))
        }
        Err(SolverError::SelfTest(e)) => {
            println!("golden check FAILED: {e}");
            println!("refusing to report a speed for a solver that gives wrong answers");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// One timed nonce.
struct Run {
    wall: Duration,
    report: SolveReport,
}

/// Solves `nonces` benchmark inputs through [`Solver::solve_stream`], so GPU backends keep
/// several nonces in flight as when mining; a run's wall time is the time since the previous
/// result (the first: since the start).
fn timed_runs(
    solver: &mut dyn Solver,
    params: &Params,
    base: &[u8],
    nonces: u32,
) -> anyhow::Result<Vec<Run>> {
    let bar = ProgressBar::new(u64::from(nonces));
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} nonces, {elapsed} elapsed, eta {eta} {msg}",
        )
        .expect("static template"),
    );
    let mut runs = Vec::with_capacity(nonces as usize);
    let mut found = 0usize;
    let failure: std::cell::RefCell<Option<anyhow::Error>> = Default::default();
    let mut next_nonce = 0u32;
    let mut last = Instant::now();
    solver.solve_stream(
        &mut || {
            if next_nonce == nonces || failure.borrow().is_some() {
                return Feed::Stop;
            }
            next_nonce += 1;
            Feed::Input(bench_input(base, next_nonce - 1))
        },
        &mut |input, result| {
            let wall = last.elapsed();
            last = Instant::now();
            let report = match result {
                Ok(r) => r,
                Err(e) => {
                    failure.borrow_mut().get_or_insert(e.into());
                    return;
                }
            };
            for s in &report.solutions {
                let bytes = equihash::minimal_from_indices(params, s);
                if let Err(e) = equihash::is_valid_solution(params, &input, &bytes) {
                    failure.borrow_mut().get_or_insert(
                        anyhow::Error::new(e).context("the solver returned an invalid solution"),
                    );
                }
            }
            found += report.solutions.len();
            bar.set_message(format!("{found} solutions"));
            bar.inc(1);
            runs.push(Run { wall, report });
        },
    );
    bar.finish_and_clear();
    match failure.into_inner() {
        Some(e) => Err(e),
        None => Ok(runs),
    }
}

/// The golden header prefix with a benchmark nonce: bytes 108..112 count up from a fixed tag.
fn bench_input(base: &[u8], i: u32) -> Vec<u8> {
    let mut input = base[..INPUT_LEN].to_vec();
    input[108..112].copy_from_slice(&(0xbe4c_0000u32 ^ i).to_le_bytes());
    input[112..136].fill(0);
    input
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn report(params: &Params, threads: usize, runs: &[Run]) {
    let total: Duration = runs.iter().map(|r| r.wall).sum();
    let solutions: usize = runs.iter().map(|r| r.report.solutions.len()).sum();
    let n = runs.len() as f64;
    let secs = total.as_secs_f64();
    println!("nonces:              {} in {:.2} s", runs.len(), secs);
    println!(
        "nonces/s:            {:.4} (median {:.3} s per nonce)",
        n / secs,
        median(runs.iter().map(|r| r.wall).collect()).as_secs_f64()
    );
    println!(
        "Sol/s:               {:.4} ({solutions} distinct valid solutions)",
        solutions as f64 / secs
    );
    println!("solutions per nonce: {:.3}", solutions as f64 / n);
    if runs.iter().all(|r| !r.report.stats.rounds.is_empty()) {
        let generate = median(runs.iter().map(|r| r.report.stats.generate).collect());
        let hashing = hashing_estimate(params, threads);
        println!(
            "median split:        generate {:.4} s (CPU BLAKE2b alone ≈ {:.3} s), rounds {}, recovery {:.4} s",
            generate.as_secs_f64(),
            hashing.as_secs_f64(),
            round_medians(runs),
            median(runs.iter().map(|r| r.report.stats.recover).collect()).as_secs_f64()
        );
    } else {
        println!(
            "median split:        not timed per stage (GPU nonces pipelined; --profile times each stage)"
        );
    }
    let lost: u64 = runs
        .iter()
        .map(|r| r.report.stats.lane_totals.overflowed)
        .sum();
    let cand: u64 = runs.iter().map(|r| r.report.stats.candidates).sum();
    println!(
        "per nonce:           {:.0} candidates, {:.1} records lost to full buckets",
        cand as f64 / n,
        lost as f64 / n
    );
    match peak_rss_mib() {
        Some(m) => println!("peak memory:         {m:.0} MiB resident"),
        None => println!("peak memory:         unknown (no /proc/self/status)"),
    }
    if let Some(line) = traffic_line(runs) {
        println!("{line}");
    }
}

/// The kernels' own traffic counters, mean per nonce, when the backend counted them
/// (`--profile` on a GPU backend), with the per-stage figures before it.
fn traffic_line(runs: &[Run]) -> Option<String> {
    let counted: Vec<&[StageCount]> = runs
        .iter()
        .map(|r| r.report.stats.counted.as_slice())
        .filter(|c| !c.is_empty())
        .collect();
    if counted.is_empty() {
        return None;
    }
    let n = counted.len() as f64;
    let gib = |b: u64| b as f64 / n / f64::from(1u32 << 30);
    let stages = counted[0].len();
    let mut parts = Vec::with_capacity(stages);
    for s in 0..stages {
        let read: u64 = counted.iter().map(|c| c[s].read_bytes).sum();
        let written: u64 = counted.iter().map(|c| c[s].written_bytes).sum();
        parts.push(format!("{:.3}+{:.3}", gib(read), gib(written)));
    }
    println!(
        "traffic per stage:   [{}] GiB read+written",
        parts.join(", ")
    );
    let total =
        |f: fn(&StageCount) -> u64| -> u64 { counted.iter().flat_map(|c| c.iter()).map(f).sum() };
    let dispatches: u64 = runs
        .iter()
        .map(|r| u64::from(r.report.stats.dispatches))
        .sum();
    Some(format!(
        "traffic: {:.2} GiB read, {:.2} GiB written, {:.1} M atomics, {:.0} dispatches per nonce (counted)",
        gib(total(|c| c.read_bytes)),
        gib(total(|c| c.written_bytes)),
        total(|c| c.atomics) as f64 / n / 1e6,
        dispatches as f64 / n
    ))
}

fn round_medians(runs: &[Run]) -> String {
    let rounds = runs.first().map_or(0, |r| r.report.stats.rounds.len());
    let parts: Vec<String> = (0..rounds)
        .map(|i| {
            format!(
                "{:.3}",
                median(runs.iter().map(|r| r.report.stats.rounds[i]).collect()).as_secs_f64()
            )
        })
        .collect();
    format!("[{}] s", parts.join(", "))
}

/// Time the BLAKE2b part of leaf generation takes on `threads` threads, measured by hashing a
/// sample of counters on this thread.
fn hashing_estimate(params: &Params, threads: usize) -> Duration {
    let input = HashInput::new(params, &[0x5a; INPUT_LEN]);
    let sample = 1u32 << 18;
    let start = Instant::now();
    let mut sink = 0u64;
    for base in (0..sample).step_by(TWIST_GROUP as usize) {
        sink ^= digest_group(params, &input, base)[0][0];
    }
    std::hint::black_box(sink);
    let per_hash = start.elapsed().as_secs_f64() / f64::from(sample);
    Duration::from_secs_f64(per_hash * params.hash_count() as f64 / threads as f64)
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

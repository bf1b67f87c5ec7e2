//! CPU solver time per nonce: ZelHash on every core, 200,9 and 144,5 on one thread, 96,5 on one
//! thread. Run: `cargo bench --bench solver_cpu` (ZelHash needs about 2.3 GiB).

#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use fluxminer::backend::Solver;
use fluxminer::backend::cpu::CpuSolver;
use fluxminer::equihash::Params;

/// A fresh input for every iteration: bytes 108..112 count up.
fn next_input(counter: &mut u32) -> Vec<u8> {
    *counter += 1;
    let mut input = vec![0x11u8; 140];
    input[108..112].copy_from_slice(&counter.to_le_bytes());
    input
}

fn solve(c: &mut Criterion) {
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut g = c.benchmark_group("solve");
    g.sample_size(10);
    for (name, params, threads, time) in [
        ("zelhash_all_cores", Params::ZELHASH, all, 60),
        ("200_9_one_thread", Params::EH200_9, 1, 20),
        ("96_5_one_thread", Params::EH96_5, 1, 5),
    ] {
        let mut solver = CpuSolver::new(params, threads).expect("solver");
        let mut counter = 0u32;
        solver
            .solve(&next_input(&mut counter))
            .expect("warm-up solve");
        g.measurement_time(Duration::from_secs(time));
        g.bench_function(name, |b| {
            b.iter_batched(
                || next_input(&mut counter),
                |input| solver.solve(&input).expect("solve"),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, solve);
criterion_main!(benches);

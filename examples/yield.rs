//! Development probe (not part of the product): solver yield and per-round timings.
use fluxminer::backend::Solver;
use fluxminer::backend::cpu::CpuSolver;
use fluxminer::equihash::Params;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u32 = args[1].parse().unwrap();
    let k: u32 = args[2].parse().unwrap();
    let runs: u32 = args[3].parse().unwrap();
    let bb: Option<u32> = args.get(4).map(|s| s.parse().unwrap());
    let params = Params::for_nk(n, k).unwrap();
    let th: usize = std::env::var("T").map(|s| s.parse().unwrap()).unwrap_or(1);
    let mut solver = CpuSolver::with_bucket_bits(params, th, bb).unwrap();
    println!("{:?}", solver.layout());
    let (mut total, mut cand, mut dup, mut ov, mut pr) = (0, 0, 0, 0, 0);
    let t = std::time::Instant::now();
    for nonce in 0..runs {
        let mut input = [0u8; 140];
        input[108..112].copy_from_slice(&nonce.to_le_bytes());
        let r = solver.solve(&input).unwrap();
        total += r.solutions.len();
        cand += r.stats.candidates;
        dup += r.stats.duplicate_candidates;
        if nonce < 4 {
            eprintln!(
                "{:?} gen {:?} rounds {:?} rec {:?}",
                r.solutions.len(),
                r.stats.generate,
                r.stats.rounds,
                r.stats.recover
            );
        }
        ov += r.stats.lane_totals.overflowed;
        pr += r.stats.lane_totals.pruned;
    }
    println!(
        "{} sols/{} runs = {:.3}; cand {} dup {} overflow {} pruned {}; {:?}/run",
        total,
        runs,
        total as f64 / runs as f64,
        cand,
        dup,
        ov,
        pr,
        t.elapsed() / runs
    );
}

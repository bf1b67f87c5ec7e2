//! The CPU solver against real blocks, and its yield at small parameters.

use fluxminer::backend::Solver;
use fluxminer::backend::cpu::CpuSolver;
use fluxminer::equihash::{
    Kind, Params, indices_from_minimal, is_valid_solution, minimal_from_indices,
};
use serde_json::Value;

fn vector(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("vector file")).expect("JSON")
}

fn hex_field(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().expect("field")).expect("hex")
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[test]
fn block_400000_input_yields_exactly_its_two_known_solutions() {
    let v = vector("mainnet_block_400000_zelhash.json");
    let input = hex_field(&v, "equihash_input_140_hex");
    let onchain = indices_from_minimal(&Params::ZELHASH, &hex_field(&v, "solution_hex")).unwrap();
    let alt = indices_from_minimal(
        &Params::ZELHASH,
        &hex_field(&v, "alternative_valid_solution_hex"),
    )
    .unwrap();
    let mut solver = CpuSolver::new(Params::ZELHASH, threads()).unwrap();
    let report = solver.solve(&input).unwrap();
    eprintln!("{:?}", report.stats);
    assert_eq!(
        report.solutions,
        vec![onchain, alt],
        "first the on-chain solution, then the other"
    );
    assert_eq!(
        report.stats.invalid_candidates, 0,
        "{:?}",
        report.stats.invalid_sample
    );
}

#[test]
fn regtest_genesis_solution_is_found() {
    let v = vector("genesis_regtest.json");
    let input = hex_field(&v, "equihash_input_140_hex");
    let want = indices_from_minimal(&Params::EH48_5, &hex_field(&v, "solution_hex")).unwrap();
    let report = CpuSolver::new(Params::EH48_5, 1)
        .unwrap()
        .solve(&input)
        .unwrap();
    assert!(report.solutions.contains(&want), "{:?}", report.solutions);
}

#[test]
fn synthetic_144_5_solutions_are_all_found() {
    let v = vector("synthetic_equihash_144_5.json");
    let input = hex_field(&v, "equihash_input_140_hex");
    let report = CpuSolver::new(Params::EH144_5, threads())
        .unwrap()
        .solve(&input)
        .unwrap();
    for s in v["solutions"].as_array().unwrap() {
        let want = indices_from_minimal(&Params::EH144_5, &hex_field(s, "solution_hex")).unwrap();
        assert!(report.solutions.contains(&want), "missing {want:?}");
    }
}

#[test]
fn yield_at_small_parameters_is_about_1_9_per_input() {
    for params in [Params::EH96_5] {
        let mut solver = CpuSolver::new(params, threads()).unwrap();
        let runs = 240u32;
        let mut total = 0usize;
        for nonce in 0..runs {
            let mut input = [0u8; 140];
            input[..4].copy_from_slice(&4u32.to_le_bytes());
            input[108..112].copy_from_slice(&nonce.to_le_bytes());
            input[136..140].copy_from_slice(&params.n().to_le_bytes());
            let report = solver.solve(&input).unwrap();
            assert_eq!(
                report.stats.invalid_candidates, 0,
                "{params}: {:?}",
                report.stats.invalid_sample
            );
            for s in &report.solutions {
                let bytes = minimal_from_indices(&params, s);
                is_valid_solution(&params, &input, &bytes).unwrap();
            }
            total += report.solutions.len();
        }
        let mean = total as f64 / f64::from(runs);
        eprintln!("{params}: {total} solutions in {runs} inputs, {mean:.3} per input");
        assert!((1.7..=2.1).contains(&mean), "{params}: {mean}");
    }
}

/// A candidate the ZelHash layout could not tell apart from a solution (it stores only the top
/// bits of the last digit) collides at every round but has a non-zero root: a real
/// `NonZeroRoot` vector.
#[test]
fn nonzero_root_from_a_real_near_solution() {
    let v = vector("mainnet_block_400000_zelhash.json");
    let input = hex_field(&v, "equihash_input_140_hex");
    let report = CpuSolver::new(Params::ZELHASH, threads())
        .unwrap()
        .solve(&input)
        .unwrap();
    assert!(report.stats.false_candidates > 100, "{:?}", report.stats);
    for near in &report.stats.false_sample {
        let bytes = minimal_from_indices(&Params::ZELHASH, near);
        let err = is_valid_solution(&Params::ZELHASH, &input, &bytes).unwrap_err();
        assert_eq!(err.kind(), Kind::NonZeroRoot, "{near:?}");
    }
    assert_eq!(report.stats.false_sample.len(), 4);
}

//! Shared support for the solver and CLI integration tests: reading `tests/vectors/`.
#![allow(dead_code)]

use fluxminer::equihash::{Params, indices_from_minimal};
use serde_json::Value;

/// The JSON vector file `tests/vectors/{name}`.
pub fn vector(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON: {e}"))
}

/// The hex string field `key` of a vector, decoded.
pub fn hex_field(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap_or_else(|| panic!("field {key}"))).expect("hex")
}

/// Solver threads: every core.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Block 400000's 140-byte Equihash input and its two known ZelHash solutions as indices, the
/// on-chain one first.
pub fn block_400000() -> (Vec<u8>, [Vec<u32>; 2]) {
    let v = vector("mainnet_block_400000_zelhash.json");
    let indices = |key| indices_from_minimal(&Params::ZELHASH, &hex_field(&v, key)).unwrap();
    let solutions = [
        indices("solution_hex"),
        indices("alternative_valid_solution_hex"),
    ];
    (hex_field(&v, "equihash_input_140_hex"), solutions)
}

/// `n` random 140-byte inputs from `seed`.
pub fn random_inputs(seed: u64, n: usize) -> Vec<Vec<u8>> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| (0..140).map(|_| rng.random::<u8>()).collect())
        .collect()
}

/// Asserts a GPU report is clean: no candidate failed verification or its walk, nothing was
/// lost to a full region or an oversized rank.
pub fn assert_clean(what: &str, g: &fluxminer::backend::SolveReport) {
    let s = &g.stats;
    assert_eq!(s.invalid_candidates, 0, "{what}: {:?}", s.invalid_sample);
    assert_eq!(s.lost_candidates, 0, "{what}: {s:?}");
    assert_eq!(s.lane_totals.overflowed, 0, "{what}: {s:?}");
    assert_eq!(s.rank_lost, 0, "{what}: {s:?}");
}

/// The measured counts of one GPU report, as the traffic model takes them.
pub fn counts_of(
    plan: &fluxminer::backend::plan::Plan,
    r: &fluxminer::backend::SolveReport,
) -> fluxminer::backend::plan::Counts {
    let k = plan.layers.len();
    let s = &r.stats;
    fluxminer::backend::plan::Counts {
        records: s.layer_records.iter().map(|&x| x as f64).collect(),
        overflowed: vec![0.0; k],
        pruned: s.round_pruned.iter().map(|&x| x as f64).collect(),
        rank_lost: vec![0.0; k - 1],
        candidates: s.candidates as f64,
        recover_read_words: s.counted.last().map_or(0.0, |c| c.read_bytes as f64 / 4.0),
        solutions: (r.solutions.len() as u64
            + s.repeated_solutions
            + s.invalid_candidates
            + s.false_candidates) as f64,
    }
}

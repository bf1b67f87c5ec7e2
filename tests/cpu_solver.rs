//! The CPU solver against real blocks, and its yield at small parameters.

use fluxminer::backend::Solver;
use fluxminer::backend::cpu::CpuSolver;
use fluxminer::equihash::{
    Kind, Params, indices_from_minimal, is_valid_solution, minimal_from_indices,
};

mod solver_support;
use solver_support::{block_400000, hex_field, threads, vector};

#[test]
fn block_400000_input_yields_exactly_its_two_known_solutions() {
    let (input, [onchain, alt]) = block_400000();
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

/// An independent, obviously correct Wagner: plain lists, exact duplicate checks at every level,
/// no buckets, no slots, no dropped bits. Leaves come from the scalar (blake2b_simd) path.
fn exhaustive_wagner(params: &Params, input: &[u8]) -> Vec<Vec<u32>> {
    use fluxminer::equihash::blake::HashInput;
    use fluxminer::equihash::leaves::leaf_bits_scalar;
    let (n, c) = (params.n(), params.collision_bits());
    let hash_input = HashInput::new(params, input);
    // Leaf value as a u128 (n ≤ 128 here), with its index list.
    let mut level: Vec<(u128, Vec<u32>)> = (0..params.leaf_count() as u32)
        .map(|i| {
            let w = leaf_bits_scalar(params, &hash_input, i);
            let v = ((u128::from(w[0]) << 64) | u128::from(w[1])) >> (128 - n);
            (v, vec![i])
        })
        .collect();
    for r in 1..=params.k() {
        let shift = n - r * c;
        let mut groups: std::collections::HashMap<u128, Vec<usize>> = Default::default();
        for (i, (v, _)) in level.iter().enumerate() {
            groups.entry(v >> shift).or_default().push(i);
        }
        let mut next = Vec::new();
        for members in groups.values() {
            for (x, &a) in members.iter().enumerate() {
                for &b in &members[x + 1..] {
                    let (la, lb) = (&level[a].1, &level[b].1);
                    if la.iter().any(|i| lb.contains(i)) {
                        continue;
                    }
                    let (l, r) = if la[0] < lb[0] { (la, lb) } else { (lb, la) };
                    let v = (level[a].0 ^ level[b].0) & ((1u128 << shift) - 1);
                    next.push((v, [l.as_slice(), r.as_slice()].concat()));
                }
            }
        }
        level = next;
    }
    let mut out: Vec<Vec<u32>> = level
        .into_iter()
        .filter(|(v, _)| *v == 0)
        .map(|(_, s)| s)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn finds_exactly_what_an_exhaustive_wagner_finds_at_48_5_on_200_inputs() {
    let params = Params::EH48_5;
    let mut solver = CpuSolver::new(params, threads()).unwrap();
    let (mut ours, mut theirs) = (0, 0);
    for nonce in 0..200u32 {
        let mut input = [7u8; 140];
        input[108..112].copy_from_slice(&nonce.to_le_bytes());
        let got = solver.solve(&input).unwrap().solutions;
        let want = exhaustive_wagner(&params, &input);
        for s in &want {
            is_valid_solution(&params, &input, &minimal_from_indices(&params, s)).unwrap();
        }
        assert_eq!(got, want, "nonce {nonce}");
        ours += got.len();
        theirs += want.len();
    }
    assert!(theirs > 100, "{theirs}");
    eprintln!("48,5 over 200 inputs: solver {ours}, exhaustive {theirs}");
}

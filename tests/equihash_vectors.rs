//! The Equihash verifier and leaf generator against real Flux blocks and fluxd-made vectors.
//!
//! Valid vectors are real headers; invalid ones are mutations, each asserting the exact rule.

use fluxminer::equihash::{
    self, INPUT_LEN, Kind, PERSONALIZATION_ZCASH, Params, blake::HashInput, indices_from_minimal,
    is_valid_solution, leaves,
};

mod solver_support;
use solver_support::{hex_field, vector};

/// Splits a serialized PoW header into (140-byte input, solution) after its CompactSize.
fn split_header(header: &[u8]) -> (&[u8], &[u8]) {
    let (input, rest) = header.split_at(INPUT_LEN);
    let (len, skip) = match rest[0] {
        0xfd => (u16::from_le_bytes([rest[1], rest[2]]) as usize, 3),
        n => (n as usize, 1),
    };
    assert_eq!(rest.len(), skip + len, "header ends with its solution");
    (input, &rest[skip..])
}

/// Every real header we hold, as (name, serialized header).
fn real_headers() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for file in [
        "electrumx_zelcash_mainnet_100000.json",
        "magicpool_flux_mainnet_1134187_1134309.json",
    ] {
        for h in vector(file)["headers"].as_array().unwrap() {
            out.push((
                format!("{file} height {}", h["height"]),
                hex_field(h, "header_hex"),
            ));
        }
    }
    out.push((
        "block 400000".into(),
        hex_field(
            &vector("mainnet_block_400000_zelhash.json"),
            "serialized_header_193_hex",
        ),
    ));
    for net in ["mainnet", "testnet", "regtest"] {
        let v = vector(&format!("genesis_{net}.json"));
        out.push((
            format!("{net} genesis"),
            hex_field(&v, "serialized_header_hex"),
        ));
    }
    out
}

#[test]
fn every_real_header_has_a_valid_solution_under_the_size_dispatch() {
    let headers = real_headers();
    assert_eq!(headers.len(), 7);
    for (name, header) in headers {
        let (input, solution) = split_header(&header);
        let params = Params::from_solution_len(solution.len()).expect("known solution size");
        is_valid_solution(&params, input, solution).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn block_400000_both_known_solutions_are_valid_and_indices_match() {
    let v = vector("mainnet_block_400000_zelhash.json");
    let input = hex_field(&v, "equihash_input_140_hex");
    for (sol_key, idx_key) in [
        ("solution_hex", "solution_indices"),
        (
            "alternative_valid_solution_hex",
            "alternative_solution_indices",
        ),
    ] {
        let sol = hex_field(&v, sol_key);
        is_valid_solution(&Params::ZELHASH, &input, &sol).unwrap();
        let want: Vec<u32> = v[idx_key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(indices_from_minimal(&Params::ZELHASH, &sol).unwrap(), want);
    }
}

#[test]
fn block_400000_needs_the_twist_and_zelproof() {
    let v = vector("mainnet_block_400000_zelhash.json");
    let (input, sol) = (
        hex_field(&v, "equihash_input_140_hex"),
        hex_field(&v, "solution_hex"),
    );
    let no_twist = Params::ZELHASH.with_twist(false).unwrap();
    assert_eq!(
        is_valid_solution(&no_twist, &input, &sol)
            .unwrap_err()
            .kind(),
        Kind::Collision { round: 1 }
    );
    let zcash = Params::ZELHASH.with_personalization(PERSONALIZATION_ZCASH);
    assert_eq!(
        is_valid_solution(&zcash, &input, &sol).unwrap_err().kind(),
        Kind::Collision { round: 1 }
    );
}

#[test]
fn every_single_bit_flip_of_block_400000_is_rejected() {
    let v = vector("mainnet_block_400000_zelhash.json");
    let (input, sol) = (
        hex_field(&v, "equihash_input_140_hex"),
        hex_field(&v, "solution_hex"),
    );
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for bit in 0..sol.len() * 8 {
        let mut bad = sol.clone();
        bad[bit / 8] ^= 0x80 >> (bit % 8);
        let err = is_valid_solution(&Params::ZELHASH, &input, &bad)
            .expect_err("a flipped bit must invalidate");
        *kinds.entry(format!("{:?}", err.kind())).or_default() += 1;
    }
    assert_eq!(kinds.values().sum::<usize>(), 416);
    // A flipped index lands on an unrelated leaf: almost always a round-1 collision failure.
    assert!(kinds["Collision { round: 1 }"] > 350, "{kinds:?}");
}

#[test]
fn mutations_report_the_exact_rule() {
    let v = vector("mainnet_block_400000_zelhash.json");
    let (input, sol) = (
        hex_field(&v, "equihash_input_140_hex"),
        hex_field(&v, "solution_hex"),
    );
    let p = Params::ZELHASH;
    let idx = indices_from_minimal(&p, &sol).unwrap();
    let check = |indices: &[u32]| {
        is_valid_solution(&p, &input, &equihash::minimal_from_indices(&p, indices))
            .map_err(|e| e.kind())
    };

    // Length: one byte short and one byte long.
    assert_eq!(
        is_valid_solution(&p, &input, &sol[..51])
            .unwrap_err()
            .kind(),
        Kind::SolutionLength {
            expected: 52,
            actual: 51
        }
    );
    let mut long = sol.clone();
    long.push(0);
    assert_eq!(
        is_valid_solution(&p, &input, &long).unwrap_err().kind(),
        Kind::SolutionLength {
            expected: 52,
            actual: 53
        }
    );

    // Ordering at each round: swap the two halves of the first subtree of size 2^(r-1)·2.
    for round in 1..=4u32 {
        let w = 1usize << (round - 1);
        let mut m = idx.clone();
        m[..2 * w].rotate_left(w);
        assert_eq!(check(&m), Err(Kind::OutOfOrder { round }), "round {round}");
    }
    // Duplicates: the same leaf twice collides with itself, is ordered equal → ordering fails
    // first at round 1 (fluxd compares index lists before checking distinctness).
    let mut dup = idx.clone();
    dup[1] = dup[0];
    assert_eq!(check(&dup), Err(Kind::OutOfOrder { round: 1 }));
    // A duplicated pair at round 2: [a b a b] passes rounds 1's checks, collides at round 2
    // (equal values), is out of order ([a b] vs [a b]), so ordering again precedes distinctness.
    let mut dup2 = idx.clone();
    dup2[2] = dup2[0];
    dup2[3] = dup2[1];
    assert_eq!(check(&dup2), Err(Kind::OutOfOrder { round: 2 }));
    // Distinctness proper: [a b | b' a'] where the right pair shares an index but sorts after.
    let mut dup3 = idx.clone();
    dup3[2] = dup3[1];
    dup3[3] = dup3[0];
    let got = check(&dup3);
    assert!(
        matches!(
            got,
            Err(Kind::OutOfOrder { round: 1 }) | Err(Kind::DuplicateIndices { .. })
        ),
        "{got:?}"
    );
}

#[test]
fn regtest_genesis_is_valid_only_with_zcashpow() {
    let v = vector("genesis_regtest.json");
    let (input, sol) = (
        hex_field(&v, "equihash_input_140_hex"),
        hex_field(&v, "solution_hex"),
    );
    is_valid_solution(&Params::EH48_5, &input, &sol).unwrap();
    let zel = Params::EH48_5.with_personalization(*b"ZelProof");
    assert_eq!(
        is_valid_solution(&zel, &input, &sol).unwrap_err().kind(),
        Kind::Collision { round: 1 }
    );
}

#[test]
fn synthetic_144_5_solutions_are_valid_only_with_zelproof() {
    let v = vector("synthetic_equihash_144_5.json");
    let input = hex_field(&v, "equihash_input_140_hex");
    let sols = v["solutions"].as_array().unwrap();
    assert_eq!(sols.len(), 3);
    for s in sols {
        let sol = hex_field(s, "solution_hex");
        is_valid_solution(&Params::EH144_5, &input, &sol).unwrap();
        let zcash = Params::EH144_5.with_personalization(PERSONALIZATION_ZCASH);
        assert!(is_valid_solution(&zcash, &input, &sol).is_err());
    }
}

#[test]
fn first_256_zelhash_rows_of_block_400000() {
    let v = vector("zelhash_block_400000_first256_rows.json");
    let input = hex_field(&v, "equihash_input_140_hex");
    let want = hex_field(&v, "rows_hex");
    let p = Params::ZELHASH;
    let hi = HashInput::new(&p, &input[..INPUT_LEN]);
    let mut got = Vec::new();
    for base in (0..64u32).step_by(16) {
        let group = leaves::digest_group(&p, &hi, base);
        for d in &group {
            for s in 0..4 {
                got.extend(leaves::expanded_row(&p, &leaves::leaf_bits(&p, d, s)));
            }
        }
    }
    assert_eq!(got.len(), 5120);
    assert_eq!(hex::encode(&got), hex::encode(&want));
    // The scalar path agrees leaf by leaf.
    for i in [0u32, 1, 63, 64, 255] {
        let row = leaves::expanded_row(&p, &leaves::leaf_bits_scalar(&p, &hi, i));
        assert_eq!(row, want[20 * i as usize..20 * i as usize + 20]);
    }
}

/// The `equihash` crate (librustzcash) as an independent oracle on the `ZcashPoW` sets it
/// supports (n a multiple of 8): genesis blocks and their one-bit flips.
#[test]
fn agrees_with_librustzcash_on_zcashpow_vectors() {
    for net in ["mainnet", "testnet", "regtest"] {
        let v = vector(&format!("genesis_{net}.json"));
        let (input, sol) = (
            hex_field(&v, "equihash_input_140_hex"),
            hex_field(&v, "solution_hex"),
        );
        let params = Params::from_solution_len(sol.len()).unwrap();
        let (n, k) = (params.n(), params.k());
        let theirs =
            |s: &[u8]| ::equihash::is_valid_solution(n, k, &input[..108], &input[108..], s).is_ok();
        assert!(theirs(&sol), "{net}: librustzcash accepts");
        assert!(is_valid_solution(&params, &input, &sol).is_ok(), "{net}");
        for bit in (0..sol.len() * 8).step_by(37) {
            let mut bad = sol.clone();
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            assert_eq!(
                theirs(&bad),
                is_valid_solution(&params, &input, &bad).is_ok(),
                "{net} bit {bit}"
            );
        }
    }
}

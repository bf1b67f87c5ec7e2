//! Real headers verify context-free; single-rule mutations of them fail with that rule's error.

mod consensus_support;

use consensus_support::vectors::{self, RealHeader, bytes, load, s};
use fluxminer::consensus::check::{
    self, check_header_context_free, check_solution_size, equihash_solution_is_valid,
};
use fluxminer::consensus::encode::DecodeError;
use fluxminer::consensus::header::{HeaderKind, Proof};
use fluxminer::consensus::rules::{Context, HeaderRules, Rule};
use fluxminer::consensus::target::CompactError;
use fluxminer::consensus::{
    BlockHash, CompactTarget, Header, HeaderError, Height, NetworkParams, pon,
};

fn params(network: &str) -> &'static NetworkParams {
    NetworkParams::by_name(network).expect("network")
}

fn block_400000() -> RealHeader {
    vectors::real_headers()
        .into_iter()
        .find(|h| h.height == 400_000)
        .expect("400000")
}

fn parse(h: &RealHeader) -> Header {
    Header::from_bytes(&h.header).expect("parses")
}

#[test]
fn every_real_header_verifies_context_free_with_its_recorded_hash() {
    let headers = vectors::real_headers();
    assert_eq!(headers.len(), 11, "vector count changed");
    for rh in &headers {
        let h = parse(rh);
        assert_eq!(h.to_bytes(), rh.header, "{} re-serializes", rh.source);
        let p = params(rh.network);
        let checked = check_header_context_free(p, &h, Some(Height(rh.height)))
            .unwrap_or_else(|e| panic!("{} {}: {e}", rh.source, rh.height));
        assert_eq!(checked.hash.to_display_hex(), rh.hash, "{}", rh.source);
        // Also valid when the height is unknown.
        check_header_context_free(p, &h, None).expect("valid without height");
    }
}

/// Each network's genesis entry (the light client's trust anchor) is what validating its real
/// genesis header gives: hash, time, bits and chain work.
#[test]
fn genesis_entries_match_the_real_genesis_headers() {
    let mut seen = 0;
    for rh in vectors::real_headers().iter().filter(|h| h.height == 0) {
        let p = params(rh.network);
        let h = parse(rh);
        let mut w = fluxminer::consensus::chain::ChainWindow::new(p);
        let clock = fluxminer::consensus::chain::Clock {
            adjusted_time: i64::from(h.time),
            tip_height: Height(0),
        };
        let entry = w.accept(p, &h, &clock).expect("genesis validates");
        assert_eq!(p.genesis_entry(), entry, "{} {}", rh.network, rh.source);
        seen += 1;
    }
    assert_eq!(seen, 6); // 3 networks, 2 sources each
}

#[test]
fn checkpointed_real_headers_match_the_checkpoints() {
    let mut matched = 0;
    for rh in vectors::real_headers() {
        if let Some(cp) = params(rh.network).checkpoint_at(Height(rh.height)) {
            assert_eq!(cp.hash, parse(&rh).block_hash(), "{}", rh.source);
            matched += 1;
        }
    }
    assert_eq!(matched, 8); // 3+3 genesis, 400000 twice
}

#[test]
fn known_hashes_parse_and_checkpoint_entries_agree_with_params() {
    let v = load("known_block_hashes.json");
    let mut seen = 0;
    for e in v["entries"].as_array().unwrap() {
        let hash = BlockHash::from_display_hex(s(e, "hash")).unwrap();
        let network = match s(e, "network") {
            "mainnet" => "main",
            "testnet" => "test",
            _ => "regtest",
        };
        if s(e, "kind") == "checkpoint" {
            let height = Height(e["height"].as_u64().unwrap() as u32);
            let cp = params(network).checkpoint_at(height).expect("checkpoint");
            assert_eq!(cp.hash, hash);
            seen += 1;
        }
    }
    let total: usize = ["main", "test", "regtest"]
        .iter()
        .map(|n| params(n).checkpoints.len())
        .sum();
    assert_eq!(
        seen, total,
        "every checkpoint in params is in the vector file"
    );
}

#[test]
fn alternative_400000_solution_is_valid_equihash_but_high_hash() {
    let v = load("mainnet_block_400000_zelhash.json");
    let mut h = parse(&block_400000());
    let alt = bytes(&v, "alternative_valid_solution_hex");
    let Proof::Work { solution, .. } = &mut h.proof else {
        panic!("pow")
    };
    *solution = alt.clone();
    let input = h.equihash_input().unwrap();
    let eh = check_solution_size(NetworkParams::mainnet(), &alt, Some(Height(400_000))).unwrap();
    equihash_solution_is_valid(&eh, &input, &alt).expect("alt solution is valid equihash");
    let err = check_header_context_free(NetworkParams::mainnet(), &h, Some(Height(400_000)));
    assert!(matches!(err, Err(HeaderError::HighHash { hash, .. })
        if hash.to_display_hex() == s(&v, "alternative_solution_block_hash_display")));
}

#[test]
fn synthetic_144_5_solutions_are_valid_and_allowed_only_in_their_era() {
    let v = load("synthetic_equihash_144_5.json");
    let input: [u8; 140] = bytes(&v, "equihash_input_140_hex").try_into().unwrap();
    let p = NetworkParams::mainnet();
    for sol in v["solutions"].as_array().unwrap() {
        let sol = bytes(sol, "solution_hex");
        let eh = check_solution_size(p, &sol, Some(Height(200_000))).unwrap();
        equihash_solution_is_valid(&eh, &input, &sol).expect("valid 144,5");
        let mut bad = sol.clone();
        bad[10] ^= 1;
        assert!(matches!(
            equihash_solution_is_valid(&eh, &input, &bad),
            Err(HeaderError::InvalidSolution { .. })
        ));
        // 144,5 is allowed in the fade windows, refused outside its era.
        for ok in [125_100, 125_110, 372_510] {
            check_solution_size(p, &sol, Some(Height(ok))).unwrap();
        }
        for bad in [125_099, 372_511, 1_000_000] {
            assert_eq!(
                check_solution_size(p, &sol, Some(Height(bad))),
                Err(HeaderError::SolutionSizeNotAllowed {
                    n: 144,
                    k: 5,
                    height: Height(bad)
                })
            );
        }
    }
}

#[test]
fn pon_derived_example_slot_hash_and_block_hash() {
    let v = load("pon_derived_example.json");
    let p = NetworkParams::mainnet();
    let time = v["nTime"].as_u64().unwrap() as u32;
    let slot = pon::slot_number(p, time);
    assert_eq!(u64::from(slot), v["slot"].as_u64().unwrap());
    let collateral = fluxminer::consensus::OutPoint {
        txid: s(&v, "collateral_txid_display").parse().unwrap(),
        index: v["collateral_n"].as_u64().unwrap() as u32,
    };
    let prev: BlockHash = s(&v, "prev_block_hash_display").parse().unwrap();
    let ph = pon::pon_hash(&collateral, &prev, slot);
    assert_eq!(ph.to_display_hex(), s(&v, "pon_hash_display"));
    // The 144-byte preimage plus an (unhashed) signature parses as a PoN header.
    let mut wire = bytes(&v, "example_pon_header_hash_preimage_144_hex");
    assert_eq!(wire.len(), 144);
    wire.extend_from_slice(&[3, 0x30, 0x01, 0x00]);
    let h = Header::from_bytes(&wire).unwrap();
    assert_eq!(h.kind(), HeaderKind::ProofOfNode);
    assert_eq!(
        h.block_hash().to_display_hex(),
        s(&v, "example_pon_block_hash_display")
    );
    assert_eq!(h.to_bytes(), wire);
}

// ---- single-rule mutations of a real header ----

fn mutate(f: impl FnOnce(&mut Header)) -> Header {
    let mut h = parse(&block_400000());
    f(&mut h);
    h
}

fn verify(h: &Header) -> Result<(), HeaderError> {
    check_header_context_free(NetworkParams::mainnet(), h, Some(Height(400_000))).map(|_| ())
}

/// Mainnet without the hash ≤ target test, to isolate rules whose mutations change the hash.
fn mainnet_without_target_check() -> NetworkParams {
    NetworkParams {
        check_pow_target: false,
        ..NetworkParams::mainnet().clone()
    }
}

#[test]
fn mutated_version_fails_version_too_low() {
    let h = mutate(|h| h.version = 3);
    assert_eq!(
        verify(&h),
        Err(HeaderError::VersionTooLow { version: 3, min: 4 })
    );
}

/// The `nBits` rules alone (changed `nBits` also change the Equihash input, which fluxd checks
/// before them).
fn bits_rules(h: &Header) -> Result<(), HeaderError> {
    let rules = HeaderRules::new(NetworkParams::mainnet(), h, Context::none());
    rules.check(Rule::Target)?;
    rules.check(Rule::Hash).map(|_| ())
}

#[test]
fn mutated_bits_fail_their_own_rules() {
    let neg = mutate(|h| h.bits = CompactTarget::from_consensus(0x1d8228ce));
    assert!(matches!(
        bits_rules(&neg),
        Err(HeaderError::BadBits {
            reason: CompactError::Negative,
            ..
        })
    ));
    let over = mutate(|h| h.bits = CompactTarget::from_consensus(0x2301ffff));
    assert!(matches!(
        bits_rules(&over),
        Err(HeaderError::BadBits {
            reason: CompactError::Overflow,
            ..
        })
    ));
    let zero = mutate(|h| h.bits = CompactTarget::from_consensus(0x1d000000));
    assert!(matches!(
        bits_rules(&zero),
        Err(HeaderError::BadBits {
            reason: CompactError::Zero,
            ..
        })
    ));
    let easy = mutate(|h| h.bits = CompactTarget::from_consensus(0x2007ffff));
    assert!(matches!(
        bits_rules(&easy),
        Err(HeaderError::TargetAbovePowLimit { .. })
    ));
    let hard = mutate(|h| h.bits = CompactTarget::from_consensus(0x1c4228ce));
    assert!(matches!(
        bits_rules(&hard),
        Err(HeaderError::HighHash { .. })
    ));
    // Run whole, each of them fails Equihash first: nBits are part of its input.
    for h in [neg, over, zero, easy, hard] {
        assert!(matches!(
            verify(&h),
            Err(HeaderError::InvalidSolution { .. })
        ));
    }
}

#[test]
fn mutated_solution_fails_invalid_solution() {
    let p = mainnet_without_target_check();
    let h = mutate(|h| {
        if let Proof::Work { solution, .. } = &mut h.proof {
            solution[20] ^= 0x10;
        }
    });
    assert!(matches!(
        check_header_context_free(&p, &h, Some(Height(400_000))),
        Err(HeaderError::InvalidSolution { .. })
    ));
    // With the real target too: fluxd checks Equihash before the hash.
    assert!(matches!(
        verify(&h),
        Err(HeaderError::InvalidSolution { .. })
    ));
}

#[test]
fn mutated_solution_length_fails_size_rules() {
    let p = mainnet_without_target_check();
    let short = mutate(|h| {
        if let Proof::Work { solution, .. } = &mut h.proof {
            solution.pop();
        }
    });
    assert_eq!(
        check_header_context_free(&p, &short, Some(Height(400_000))),
        Err(HeaderError::UnknownSolutionSize { len: 51 })
    );
    // A real 125,4 header presented at a 200,9 height.
    let h = parse(&block_400000());
    assert_eq!(
        check_header_context_free(&p, &h, Some(Height(100_000))),
        Err(HeaderError::SolutionSizeNotAllowed {
            n: 125,
            k: 4,
            height: Height(100_000)
        })
    );
}

#[test]
fn malformed_bytes_give_decode_errors_not_panics() {
    let raw = block_400000().header;
    for len in [0, 3, 50, 139, 140, 141, 192] {
        assert!(
            matches!(
                Header::from_bytes(&raw[..len]),
                Err(DecodeError::UnexpectedEnd { .. })
            ),
            "len {len}"
        );
    }
    let mut long = raw.clone();
    long.push(0);
    assert!(matches!(
        Header::from_bytes(&long),
        Err(DecodeError::TrailingBytes { count: 1, .. })
    ));
    let mut huge = raw[..140].to_vec();
    huge.extend_from_slice(&[0xff, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert!(matches!(
        Header::from_bytes(&huge),
        Err(DecodeError::OversizedCompactSize { .. })
    ));
}

#[test]
fn every_version_from_100_is_read_in_the_pon_layout() {
    let v = load("pon_derived_example.json");
    let mut wire = bytes(&v, "example_pon_header_hash_preimage_144_hex");
    wire.extend_from_slice(&[3, 0x30, 0x01, 0x00]);
    for version in [101i32, 102, 1000, i32::MAX] {
        let mut w = wire.clone();
        w[..4].copy_from_slice(&version.to_le_bytes());
        let h = Header::from_bytes(&w).unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(h.kind(), HeaderKind::ProofOfNode, "{version}");
        assert_eq!(h.version, version);
        assert_eq!(h.to_bytes(), w);
    }
    // Block 400000 with version 101 is read as PoN: its nonce becomes the collateral and its
    // solution's length byte and first bytes the index and the signature's length.
    let mut raw = block_400000().header;
    raw[0] = 101;
    assert!(matches!(
        Header::from_bytes(&raw),
        Err(DecodeError::UnexpectedEnd { .. } | DecodeError::TrailingBytes { .. })
    ));
    let mut pon_len = raw[..144].to_vec();
    pon_len.extend_from_slice(&[0]);
    let h = Header::from_bytes(&pon_len).unwrap();
    assert!(h.is_pon());
    // ... and so refused by era at its PoW height.
    let rules = HeaderRules::new(
        NetworkParams::mainnet(),
        &h,
        Context::at(Some(Height(400_000))),
    );
    assert_eq!(
        rules.check(Rule::Era),
        Err(HeaderError::PrematurePonBlock {
            height: Height(400_000)
        })
    );
}

#[test]
fn pon_signature_size_and_target_limit() {
    let p = NetworkParams::mainnet();
    let v = load("pon_derived_example.json");
    let mut wire = bytes(&v, "example_pon_header_hash_preimage_144_hex");
    wire.push(74);
    wire.extend_from_slice(&[0u8; 74]);
    let h = Header::from_bytes(&wire).unwrap();
    assert_eq!(
        pon::check_signature_size(p, &h),
        Err(HeaderError::PonSignatureTooLarge { len: 74, max: 73 })
    );
    // 1f0bffff is the start limit: allowed in the first 30 PoN blocks and after.
    check::check_bits(p, &h, Some(Height(2_020_000))).unwrap();
    let mut easy = h.clone();
    easy.bits = CompactTarget::from_consensus(0x200fffff);
    assert!(matches!(
        check::check_bits(p, &easy, Some(Height(2_020_029))),
        Err(HeaderError::TargetAbovePonLimit { .. })
    ));
    check::check_bits(p, &easy, Some(Height(2_020_030))).unwrap();
}

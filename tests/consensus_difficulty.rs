//! Difficulty vectors (`difficulty_vectors.json`) and the special windows of the mainnet
//! schedule: the 144,5 reset, the ZelHash ramp with its wrap-around, the PoN start and retarget.

mod consensus_support;

use consensus_support::vectors::{load, s};
use fluxminer::consensus::chain::ChainEntry;
use fluxminer::consensus::difficulty::{
    digishield_from_average, lwma, lwma3, next_pon_work_required, next_work_required,
};
use fluxminer::consensus::{BlockHash, CompactTarget, Height, NetworkParams, Work};
use ruint::aliases::U256;

fn bits(hex: &str) -> CompactTarget {
    CompactTarget::from_consensus(u32::from_str_radix(hex, 16).unwrap())
}

/// Entries for heights `from..=to` with `time(h) = t0 + spacing·(h − from)` and constant bits.
fn run(from: u32, to: u32, t0: u32, spacing: u32, b: CompactTarget, pon: bool) -> Vec<ChainEntry> {
    (from..=to)
        .map(|h| ChainEntry {
            height: Height(h),
            hash: BlockHash::ZERO,
            time: t0 + spacing * (h - from),
            bits: b,
            is_pon: pon,
            chain_work: Work::ZERO,
        })
        .collect()
}

#[test]
fn digishield_vectors_with_flux_parameters() {
    let v = load("difficulty_vectors.json");
    let p = NetworkParams::mainnet();
    let cases = v["digishield"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let avg = bits(s(c, "avg_target_bits")).decode().value;
        let last = c["last_mtp"].as_i64().unwrap();
        let first = c["first_mtp"].as_i64().unwrap();
        let got = digishield_from_average(p, avg, last, first);
        assert_eq!(got, bits(s(c, "expected_bits_flux_mainnet")));
    }
}

#[test]
fn lwma_and_lwma3_with_perfect_spacing() {
    let v = load("difficulty_vectors.json");
    let case = &v["lwma_perfect_spacing"];
    let p = NetworkParams::mainnet();
    let chain = run(0, 61, 1_269_211_443, 120, bits("1d00ffff"), false);
    assert_eq!(
        lwma(p, Height(61), &chain).unwrap(),
        bits(s(case, "lwma1_expected_bits"))
    );
    assert_eq!(
        lwma3(p, Height(61), &chain).unwrap(),
        bits(s(case, "lwma3_expected_bits"))
    );
}

#[test]
fn reset_after_the_144_5_switch_covers_blocks_125111_to_125171() {
    let p = NetworkParams::mainnet();
    let chain = run(
        125_000,
        125_200,
        1_540_000_000,
        120,
        bits("1d00ffff"),
        false,
    );
    let req = |h: u32| {
        next_work_required(
            p,
            Height(h),
            chain[(h - 125_000) as usize - 1].time + 120,
            &chain,
        )
        .unwrap()
    };
    for h in 125_111..=125_171 {
        assert_eq!(req(h), bits("1f07ffff"), "block {h}");
    }
    // Outside the window LWMA applies (perfect spacing keeps 1d00ffff → 1d00fffe).
    assert_eq!(req(125_110), bits("1d00fffe"));
    assert_eq!(req(125_172), lwma(p, Height(125_171), &chain).unwrap());
}

/// The ramp as spec §6.6 states it, written out here independently of the library.
fn ramp_by_spec(base_bits: CompactTarget, parent: u64) -> CompactTarget {
    let t = base_bits.decode().value;
    let m = (372_510u64 + 61).wrapping_sub(parent) as u32;
    let x = t.wrapping_add((t >> 5usize).wrapping_mul(U256::from(m)));
    let limit = NetworkParams::mainnet().pow_limit.to_uint();
    CompactTarget::from_uint(x.min(limit))
}

fn ramp_chain(b: CompactTarget) -> Vec<ChainEntry> {
    run(372_400, 372_580, 1_565_000_000, 120, b, false)
}

fn required(chain: &[ChainEntry], h: u32) -> CompactTarget {
    let parent_time = chain[(h - 1 - chain[0].height.0) as usize].time;
    next_work_required(
        NetworkParams::mainnet(),
        Height(h),
        parent_time + 120,
        chain,
    )
    .unwrap()
}

#[test]
fn zelhash_ramp_blocks_372511_to_372574_follow_the_spec_formula() {
    let p = NetworkParams::mainnet();
    for b in [bits("1d00ffff"), bits("1e0fffff"), bits("1f07ffff")] {
        let chain = ramp_chain(b);
        let base = lwma3(p, Height(372_510), &chain).unwrap();
        for h in 372_511..=372_574u32 {
            assert_eq!(
                required(&chain, h),
                ramp_by_spec(base, u64::from(h - 1)),
                "block {h}"
            );
        }
        // Outside the ramp and inside the fade window before it: plain LWMA3.
        assert_eq!(
            required(&chain, 372_575),
            lwma3(p, Height(372_574), &chain).unwrap()
        );
        assert_eq!(
            required(&chain, 372_505),
            lwma3(p, Height(372_504), &chain).unwrap()
        );
    }
}

#[test]
fn zelhash_ramp_shape_and_the_wrap_quirk() {
    let chain = ramp_chain(bits("1d00ffff"));
    let base = bits("1d00fffe"); // LWMA3 with perfect spacing (vector above)
    let t = base.decode().value;
    // First ramp block: T + 61·(T >> 5) ≈ 2.9 T; block 372,572 (m = 0): T.
    let first = required(&chain, 372_511).decode().value;
    assert_eq!(
        first,
        CompactTarget::from_uint(t + (t >> 5usize) * U256::from(61u8))
            .decode()
            .value
    );
    assert_eq!(required(&chain, 372_572), base);
    // Blocks 372,573/574: m wraps to 2^64−1/−2 and is truncated to 32 bits: T·~2^27 > powLimit.
    assert_eq!(required(&chain, 372_573), bits("1f07ffff"));
    assert_eq!(required(&chain, 372_574), bits("1f07ffff"));
    // With T near powLimit the 256-bit product itself wraps (bit length > 256).
    let chain = ramp_chain(bits("1f07ffff"));
    let t = lwma3(NetworkParams::mainnet(), Height(372_510), &chain)
        .unwrap()
        .decode()
        .value;
    assert!(t.bit_len() - 5 + 32 > 256, "the product really wraps");
    let wrapped = t.wrapping_add((t >> 5usize).wrapping_mul(U256::from(u32::MAX)));
    let saturated = NetworkParams::mainnet().pow_limit.to_uint();
    assert_eq!(
        required(&chain, 372_573),
        CompactTarget::from_uint(wrapped.min(saturated))
    );
}

#[test]
fn pon_start_limit_then_retarget() {
    let p = NetworkParams::mainnet();
    let start = bits("1f0bffff");
    let chain = run(2_019_990, 2_020_100, 1_761_000_000, 30, start, true);
    for h in 2_020_000..2_020_030 {
        assert_eq!(next_pon_work_required(p, Height(h), &chain).unwrap(), start);
    }
    // Perfect 30 s spacing over W−1 = 29 intervals: actual = 870 = span → ⌊old/870⌋·870.
    let old = start.decode().value;
    let expect = CompactTarget::from_uint(old / U256::from(870u32) * U256::from(870u32));
    assert_eq!(
        next_pon_work_required(p, Height(2_020_030), &chain).unwrap(),
        expect
    );
    // Blocks twice as slow clamp at 5/4 (1087); the target eases.
    let slow = run(2_019_990, 2_020_100, 1_761_000_000, 60, start, true);
    let eased = CompactTarget::from_uint(old / U256::from(870u32) * U256::from(1087u32));
    assert_eq!(
        next_pon_work_required(p, Height(2_020_050), &slow).unwrap(),
        eased
    );
    // Blocks twice as fast clamp at 4/5 (696).
    let fast = run(2_019_990, 2_020_100, 1_761_000_000, 15, start, true);
    let hardened = CompactTarget::from_uint(old / U256::from(870u32) * U256::from(696u32));
    assert_eq!(
        next_pon_work_required(p, Height(2_020_050), &fast).unwrap(),
        hardened
    );
}

#[test]
fn pon_target_is_capped_at_pon_limit() {
    let p = NetworkParams::mainnet();
    let chain = run(
        2_020_000,
        2_020_100,
        1_761_000_000,
        120,
        bits("200fffff"),
        true,
    );
    assert_eq!(
        next_pon_work_required(p, Height(2_020_060), &chain).unwrap(),
        bits("200fffff")
    );
}

#[test]
fn missing_ancestors_are_reported_not_guessed() {
    let p = NetworkParams::mainnet();
    let chain = run(
        300_000,
        300_010,
        1_560_000_000,
        120,
        bits("1d00ffff"),
        false,
    );
    assert_eq!(
        next_work_required(p, Height(300_011), 1_560_002_000, &chain),
        Err(fluxminer::consensus::HeaderError::MissingAncestor {
            height: Height(299_950)
        })
    );
}

//! Header verification throughput per era on one core: context-free checks of real headers
//! (200,9 block 100000, 125,4 block 400000), the synthetic 144,5 solution, PoN headers, and the
//! contextual part (retarget + median time past) of LWMA3 and PoN validation.
//!
//! Run: `cargo bench --bench headers`.
//!
//! Measured on the 2-core dev machine (one core, while the other engineer's benchmarks may have
//! shared the machine), branch `consensus` after merging main c6a9644 (its AVX2 BLAKE2b), medians:
//!
//! | bench | median | headers/s |
//! |---|---|---|
//! | context_free/200_9_block_100000 | 106.41 µs | 9,400 |
//! | context_free/144_5_synthetic (hash check off) | 7.80 µs | 128,000 |
//! | context_free/125_4_block_400000 | 12.02 µs | 83,200 |
//! | context_free/pon | 0.390 µs | 2,560,000 |
//! | contextual/lwma3_retarget_and_mtp | 2.26 µs | 443,000 |
//! | contextual/pon_full_validate | 0.479 µs | 2,090,000 |
//!
//! Projection for mainnet history (PoW: context-free + 2.26 µs contextual per header):
//! 125,100 × 108.7 µs (200,9) = 13.6 s; 247,400 × 10.1 µs (144,5) = 2.5 s;
//! 1,647,500 × 14.3 µs (125,4) = 23.5 s; PoN ≈ 0.5 s per million headers.
//! Total ≈ 40 s on one core (goal: ≤ 60 s). The context-free part is independent per header, so
//! a sync layer spreading it over 2 cores would get ≈ 22 s.

#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fluxminer::consensus::chain::{ChainEntry, ChainWindow, Clock, median_time_past};
use fluxminer::consensus::check::check_header_context_free;
use fluxminer::consensus::difficulty::next_work_required;
use fluxminer::consensus::hash::{MerkleRoot, SaplingRoot, sha256d};
use fluxminer::consensus::validate::validate_header;
use fluxminer::consensus::{
    BlockHash, CompactTarget, Header, Height, NetworkParams, OutPoint, Proof, TxId, Work, pon,
};
use serde_json::Value;

fn vector(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex_field(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap()).unwrap()
}

/// A header built from the synthetic 144,5 input (108-byte prefix ‖ nonce) and solution.
fn synthetic_144_5() -> Header {
    let v = vector("synthetic_equihash_144_5.json");
    let input = hex_field(&v, "equihash_input_140_hex");
    let sol = hex_field(&v["solutions"][0], "solution_hex");
    let mut raw = input.clone();
    raw.push(sol.len() as u8);
    raw.extend_from_slice(&sol);
    Header::from_bytes(&raw).unwrap()
}

/// A PoN header at `height` (mainnet) whose eligibility hash meets its target.
fn pon_header(prev: BlockHash, time: u32, bits: CompactTarget) -> Header {
    let p = NetworkParams::mainnet();
    let target = bits.to_target().unwrap();
    let txid = TxId::from_internal_bytes(sha256d(b"bench node"));
    let slot = pon::slot_number(p, time);
    let index = (0u32..)
        .find(|&i| {
            let ph = pon::pon_hash(&OutPoint { txid, index: i }, &prev, slot);
            target.is_met_by_internal_bytes(ph.as_internal_bytes())
        })
        .unwrap();
    Header {
        version: 100,
        prev_hash: prev,
        merkle_root: MerkleRoot::from_internal_bytes([0x22; 32]),
        sapling_root: SaplingRoot::from_internal_bytes([0x33; 32]),
        time,
        bits,
        proof: Proof::Node {
            collateral: OutPoint { txid, index },
            signature: vec![0x30; 71],
        },
    }
}

fn entries(
    from: u32,
    to: u32,
    t0: u32,
    spacing: u32,
    bits: CompactTarget,
    pon: bool,
) -> Vec<ChainEntry> {
    (from..=to)
        .map(|h| ChainEntry {
            height: Height(h),
            hash: BlockHash::from_internal_bytes(sha256d(&h.to_le_bytes())),
            time: t0 + spacing * (h - from) + (h % 7),
            bits,
            is_pon: pon,
            chain_work: Work::ZERO,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let main = NetworkParams::mainnet();
    let mut g = c.benchmark_group("context_free");

    let e = vector("electrumx_zelcash_mainnet_100000.json");
    let h200 = Header::from_bytes(&hex_field(&e["headers"][0], "header_hex")).unwrap();
    g.bench_function("200_9_block_100000", |b| {
        b.iter(|| check_header_context_free(main, black_box(&h200), Some(Height(100_000))).unwrap())
    });

    let no_target = NetworkParams {
        check_pow_target: false,
        ..main.clone()
    };
    let h144 = synthetic_144_5();
    g.bench_function("144_5_synthetic", |b| {
        b.iter(|| {
            check_header_context_free(&no_target, black_box(&h144), Some(Height(200_000))).unwrap()
        })
    });

    let m = vector("mainnet_block_400000_zelhash.json");
    let h125 = Header::from_bytes(&hex_field(&m, "serialized_header_193_hex")).unwrap();
    g.bench_function("125_4_block_400000", |b| {
        b.iter(|| check_header_context_free(main, black_box(&h125), Some(Height(400_000))).unwrap())
    });

    let hpon = pon_header(
        BlockHash::ZERO,
        1_761_701_944,
        CompactTarget::from_consensus(0x200fffff),
    );
    g.bench_function("pon", |b| {
        b.iter(|| {
            check_header_context_free(main, black_box(&hpon), Some(Height(2_100_000))).unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("contextual");
    let pow_window = entries(
        999_900,
        999_999,
        1_650_000_000,
        120,
        CompactTarget::from_consensus(0x1d1b9fa2),
        false,
    );
    g.bench_function("lwma3_retarget_and_mtp", |b| {
        b.iter(|| {
            let bits = next_work_required(main, Height(1_000_000), 1_650_012_100, &pow_window[..])
                .unwrap();
            let mtp = median_time_past(&pow_window[..], Height(999_999)).unwrap();
            black_box((bits, mtp))
        })
    });

    // Full PoN header validation (context-free + contextual) on a window of PoN entries.
    let pon_bits = CompactTarget::from_consensus(0x200fffff);
    let pon_entries = entries(2_099_900, 2_099_999, 1_764_000_000, 30, pon_bits, true);
    let window = ChainWindow::from_entries(main, pon_entries.iter().copied());
    let tip = window.tip().unwrap();
    let time = tip.time + 30;
    let bits = next_work_required(main, Height(2_100_000), time, &window).unwrap();
    let next = pon_header(tip.hash, time, bits);
    let clock = Clock {
        adjusted_time: i64::from(time),
        tip_height: tip.height,
    };
    g.bench_function("pon_full_validate", |b| {
        b.iter(|| {
            validate_header(main, black_box(&next), Height(2_100_000), &window, &clock).unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = headers;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(headers);

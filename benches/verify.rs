//! Equihash verification throughput on one core: ZelHash (block 400000), 200,9 (mainnet
//! genesis), 48,5 (regtest genesis). Run: `cargo bench --bench verify`.

#![allow(missing_docs)] // criterion_group! generates an undocumented fn

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fluxminer::equihash::{Params, is_valid_solution};
use serde_json::Value;

fn vector(name: &str) -> (Vec<u8>, Vec<u8>) {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vector")).expect("JSON");
    let field = |k: &str| hex::decode(v[k].as_str().expect("field")).expect("hex");
    (field("equihash_input_140_hex"), field("solution_hex"))
}

fn verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(1));
    for (name, file, params) in [
        (
            "zelhash_block_400000",
            "mainnet_block_400000_zelhash.json",
            Params::ZELHASH,
        ),
        (
            "200_9_mainnet_genesis",
            "genesis_mainnet.json",
            Params::EH200_9,
        ),
        (
            "48_5_regtest_genesis",
            "genesis_regtest.json",
            Params::EH48_5,
        ),
    ] {
        let (input, solution) = vector(file);
        is_valid_solution(&params, &input, &solution).expect("the vector is valid");
        g.bench_function(name, |b| {
            b.iter(|| is_valid_solution(&params, black_box(&input), black_box(&solution)))
        });
    }
    g.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);

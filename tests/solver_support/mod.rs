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

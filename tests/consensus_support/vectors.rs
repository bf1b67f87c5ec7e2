//! Loading the real-data vectors in `tests/vectors/` (copied unchanged from
//! `shared/`; see the README there).

use serde_json::Value;

/// Reads and parses one vector file.
pub fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A string field.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing string {key}"))
}

/// A hex field, decoded.
pub fn bytes(v: &Value, key: &str) -> Vec<u8> {
    hex::decode(s(v, key)).unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// One real header record from a `flux-headers` file.
#[derive(Debug, Clone)]
pub struct RealHeader {
    /// `main`, `test` or `regtest`.
    pub network: &'static str,
    /// Height.
    pub height: u32,
    /// Display hash.
    pub hash: String,
    /// Serialized header.
    pub header: Vec<u8>,
    /// Where it came from.
    pub source: &'static str,
}

fn network_name(n: &str) -> &'static str {
    match n {
        "mainnet" => "main",
        "testnet" => "test",
        "regtest" => "regtest",
        other => panic!("network {other}"),
    }
}

/// Every real header in the vectors (flux-headers files and the flux-vectors genesis files).
pub fn real_headers() -> Vec<RealHeader> {
    let mut out = Vec::new();
    for file in [
        "fluxd_genesis_headers.json",
        "electrumx_zelcash_mainnet_100000.json",
        "magicpool_flux_mainnet_1134187_1134309.json",
        "moneroocean_flux_mainnet_400000.json",
    ] {
        let v = load(file);
        for h in v["headers"].as_array().expect("headers") {
            out.push(RealHeader {
                network: network_name(s(h, "network")),
                height: h["height"].as_u64().expect("height") as u32,
                hash: s(h, "hash").to_string(),
                header: bytes(h, "header_hex"),
                source: Box::leak(file.to_string().into_boxed_str()),
            });
        }
    }
    for (file, network) in [
        ("genesis_mainnet.json", "main"),
        ("genesis_testnet.json", "test"),
        ("genesis_regtest.json", "regtest"),
    ] {
        let v = load(file);
        out.push(RealHeader {
            network,
            height: 0,
            hash: s(&v, "block_hash_display").to_string(),
            header: bytes(&v, "serialized_header_hex"),
            source: Box::leak(file.to_string().into_boxed_str()),
        });
    }
    let v = load("mainnet_block_400000_zelhash.json");
    out.push(RealHeader {
        network: "main",
        height: 400_000,
        hash: s(&v, "block_hash_display").to_string(),
        header: bytes(&v, "serialized_header_193_hex"),
        source: "mainnet_block_400000_zelhash.json",
    });
    out
}

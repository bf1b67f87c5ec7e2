//! `fluxminer verify <HEX | FILE>`: serialized PoW headers: block hash, and fluxd's context-free
//! header rules in its order ([`crate::consensus::rules`]): version, the Equihash solution under
//! the parameters its size selects, `nBits` within `powLimit`, hash ≤ target.
//!
//! Exit codes: 0 all valid; 1 some header invalid (the failed rule is named); 2 unusable input.

use std::path::Path;
use std::process::ExitCode;

use crate::consensus::header::Proof;
use crate::consensus::rules::{self, Context};
use crate::consensus::{Header, HeaderError, NetworkParams, encode};
use crate::equihash;

/// Arguments of `fluxminer verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// One serialized PoW header as hex, or a file with one hex header per line (blank lines and
    /// lines starting with `#` are skipped).
    pub input: String,
    /// Network whose rules apply (`powLimit`). Without it, a network's genesis header is checked
    /// under that network and every other header under mainnet's.
    #[arg(long, value_parser = ["main", "test", "regtest"])]
    pub network: Option<String>,
}

/// What became of one header.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: its block hash (display order) and Equihash parameters.
    Valid {
        /// Block hash, display order.
        hash: String,
        /// Parameters the solution size selected.
        params: equihash::Params,
    },
    /// Decoded but breaks a rule.
    Invalid {
        /// Block hash, display order.
        hash: String,
        /// The broken rule.
        error: HeaderError,
    },
    /// Not a usable PoW header.
    Unusable(String),
}

/// Verifies every header in the input and prints one line each.
pub fn run(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let lines = match input_lines(&args.input) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let network = args.network.as_deref().and_then(NetworkParams::by_name);
    let mut worst = 0u8;
    for (name, hex_text) in &lines {
        match verify_hex(hex_text, network) {
            Verdict::Valid { hash, params } => {
                println!("{hash} {}_{} valid", params.n(), params.k())
            }
            Verdict::Invalid { hash, error } => {
                println!("{hash} invalid: {}: {error}", error.rule());
                worst = worst.max(1);
            }
            Verdict::Unusable(why) => {
                eprintln!("error: {name}: {why}");
                worst = 2;
            }
        }
    }
    Ok(ExitCode::from(worst))
}

/// `(where, hex)` for each header: the argument itself, or each line of a file.
fn input_lines(input: &str) -> Result<Vec<(String, String)>, String> {
    if !Path::new(input).is_file() {
        return Ok(vec![("argument".into(), input.trim().to_string())]);
    }
    let text = std::fs::read_to_string(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let lines: Vec<_> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| (format!("{input}:{}", i + 1), l.trim().to_string()))
        .collect();
    if lines.is_empty() {
        return Err(format!("{input} holds no header"));
    }
    Ok(lines)
}

/// The network whose rules a header is checked under: `network` when given, else the network
/// whose genesis the header is, else mainnet.
fn network_for(network: Option<&'static NetworkParams>, header: &Header) -> &'static NetworkParams {
    if let Some(p) = network {
        return p;
    }
    let hash = header.block_hash();
    [NetworkParams::testnet(), NetworkParams::regtest()]
        .into_iter()
        .find(|p| p.genesis_hash == hash)
        .unwrap_or(NetworkParams::mainnet())
}

/// Decodes and verifies one hex header under `network` (see [`VerifyArgs::network`]).
pub fn verify_hex(text: &str, network: Option<&'static NetworkParams>) -> Verdict {
    let bytes = match encode::decode_hex(text) {
        Ok(b) => b,
        Err(e) => return Verdict::Unusable(format!("not a hex header: {e}")),
    };
    let header = match Header::from_bytes(&bytes) {
        Ok(h) => h,
        Err(e) => return Verdict::Unusable(format!("cannot decode the header: {e}")),
    };
    let Proof::Work { solution, .. } = &header.proof else {
        return Verdict::Unusable(
            "a Proof-of-Node header has no Equihash solution; use `fluxminer header`".into(),
        );
    };
    let Some(params) = equihash::Params::from_solution_len(solution.len()) else {
        return Verdict::Unusable(format!(
            "unknown solution size {} (fluxd accepts 1344, 100, 68, 52 and 36 bytes)",
            solution.len()
        ));
    };
    let hash = header.block_hash().to_display_hex();
    match rules::check_header(network_for(network, &header), &header, Context::none()) {
        Ok(_) => Verdict::Valid { hash, params },
        Err(error) => Verdict::Invalid { hash, error },
    }
}

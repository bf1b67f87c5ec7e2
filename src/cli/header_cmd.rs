//! `fluxminer header <HEX | FILE>`: decode Flux block headers and run every check that needs no
//! chain (version, signature size, `nBits` and its limit, hash ≤ target or ponHash ≤ target,
//! solution size, Equihash, and with `--height` the era, allowed sizes and checkpoint). Several
//! concatenated headers are checked one by one, with their links.
//!
//! Exit codes: 0 all valid; 1 some header breaks a rule (named); 2 unusable input.

use std::path::Path;
use std::process::ExitCode;

use crate::consensus::check;
use crate::consensus::encode::{DecodeError, Reader};
use crate::consensus::header::Proof;
use crate::consensus::params::NetworkParams;
use crate::consensus::{Header, HeaderError, Height, pon, validate};

/// Arguments of `fluxminer header`.
#[derive(Debug, Clone, clap::Args)]
pub struct HeaderArgs {
    /// Serialized header(s) as hex, or a file holding hex or raw bytes.
    pub input: String,
    /// Network whose rules apply.
    #[arg(long, default_value = "main", value_parser = ["main", "test", "regtest"])]
    pub network: String,
    /// Height of the (first) header, when known: enables the era, size and checkpoint checks.
    #[arg(long)]
    pub height: Option<u32>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Reads `input` as hex, or as a file holding hex text or raw bytes.
pub fn read_input(input: &str) -> Result<Vec<u8>, String> {
    let path = Path::new(input);
    if path.is_file() {
        let raw = std::fs::read(path).map_err(|e| format!("cannot read {input}: {e}"))?;
        return match std::str::from_utf8(&raw) {
            Ok(text) if is_hex(text) => hex::decode(text.trim()).map_err(|e| e.to_string()),
            _ => Ok(raw),
        };
    }
    if !is_hex(input) {
        return Err(format!(
            "{input:?} is neither a file nor hex (an even number of 0-9a-f digits)"
        ));
    }
    hex::decode(input.trim()).map_err(|e| format!("invalid hex: {e}"))
}

fn is_hex(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The outcome of one check.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckLine {
    /// The check.
    pub check: &'static str,
    /// `ok`, `fail` or `skipped`.
    pub status: &'static str,
    /// The rule name on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    /// What was found or why it was skipped.
    pub detail: String,
}

fn line(check: &'static str, r: Result<String, HeaderError>) -> CheckLine {
    match r {
        Ok(detail) => CheckLine {
            check,
            status: "ok",
            rule: None,
            detail,
        },
        Err(e) => CheckLine {
            check,
            status: "fail",
            rule: Some(e.rule()),
            detail: e.to_string(),
        },
    }
}

fn skipped(check: &'static str, why: &str) -> CheckLine {
    CheckLine {
        check,
        status: "skipped",
        rule: None,
        detail: why.to_string(),
    }
}

/// Runs every chain-free check on `h` (each independently, so all failures are listed).
pub fn header_checks(p: &NetworkParams, h: &Header, height: Option<Height>) -> Vec<CheckLine> {
    let mut out = vec![line(
        "version",
        check::check_version(h).map(|_| h.version.to_string()),
    )];
    if let Some(height) = height {
        out.push(line(
            "era",
            validate::check_era(p, h, height).map(|_| format!("{:?}", p.era_at(height))),
        ));
    }
    let hash = h.block_hash();
    let bits = check::check_bits(p, h, height);
    out.push(line("bits", bits.clone().map(|t| format!("target {t}"))));
    match (&h.proof, bits) {
        (Proof::Work { solution, .. }, bits) => {
            match bits {
                Ok(t) => out.push(line(
                    "hash <= target",
                    check::check_pow_hash(&hash, t).map(|_| hash.to_string()),
                )),
                Err(_) => out.push(skipped("hash <= target", "bits unusable")),
            }
            match check::check_solution_size(p, solution, height) {
                Ok(eh) => {
                    out.push(line(
                        "solution size",
                        Ok(format!(
                            "{} bytes: equihash ({},{}){}",
                            solution.len(),
                            eh.n(),
                            eh.k(),
                            if height.is_none() {
                                ", height unknown"
                            } else {
                                ""
                            }
                        )),
                    ));
                    out.push(line(
                        "equihash",
                        check::check_equihash(h, &eh).map(|_| "valid".into()),
                    ));
                }
                Err(e) => {
                    out.push(line("solution size", Err(e)));
                    out.push(skipped("equihash", "solution size unusable"));
                }
            }
        }
        (Proof::Node { .. }, bits) => {
            out.push(line(
                "signature size",
                pon::check_signature_size(p, h).map(|_| "ok".into()),
            ));
            if pon::is_emergency_block(p, h) {
                out.push(line(
                    "emergency signatures",
                    pon::verify_emergency_signatures(p, h).map(|_| "valid".into()),
                ));
            }
            match bits {
                Ok(t) => out.push(line(
                    "pon hash <= target",
                    check::check_pon_hash(p, h, t).map(|_| "ok".into()),
                )),
                Err(_) => out.push(skipped("pon hash <= target", "bits unusable")),
            }
            out.push(skipped(
                "node signature",
                "needs the node's public key from the fluxnode set",
            ));
        }
    }
    match height {
        Some(height) => out.push(line(
            "checkpoint",
            validate::check_checkpoint(p, height, &hash).map(|_| {
                if p.checkpoint_at(height).is_some() {
                    "matches".into()
                } else {
                    "none at this height".into()
                }
            }),
        )),
        None => out.push(skipped("checkpoint", "height unknown")),
    }
    out
}

fn header_json(h: &Header, height: Option<Height>, checks: &[CheckLine]) -> serde_json::Value {
    let mut v = serde_json::json!({
        "height": height.map(|h| h.0),
        "hash": h.block_hash().to_string(),
        "version": h.version,
        "previousblockhash": h.prev_hash.to_string(),
        "merkleroot": h.merkle_root.to_string(),
        "finalsaplingroot": h.sapling_root.to_string(),
        "time": h.time,
        "bits": h.bits.to_string(),
        "checks": checks,
    });
    match &h.proof {
        Proof::Work { nonce, solution } => {
            let mut n = *nonce;
            n.reverse();
            v["kind"] = "pow".into();
            v["nonce"] = hex::encode(n).into();
            v["solution"] = hex::encode(solution).into();
        }
        Proof::Node {
            collateral,
            signature,
        } => {
            v["kind"] = "pon".into();
            v["collateral"] = format!("{}:{}", collateral.txid, collateral.index).into();
            v["signature"] = hex::encode(signature).into();
        }
    }
    v
}

fn print_text(h: &Header, height: Option<Height>, checks: &[CheckLine]) {
    let v = header_json(h, height, &[]);
    println!("header {}", v["hash"].as_str().unwrap_or_default());
    for key in [
        "height",
        "kind",
        "version",
        "previousblockhash",
        "merkleroot",
        "finalsaplingroot",
        "time",
        "bits",
        "nonce",
        "collateral",
        "solution",
        "signature",
    ] {
        if !v[key].is_null() {
            println!("  {key:<18} {}", v[key].to_string().trim_matches('"'));
        }
    }
    for c in checks {
        let rule = c.rule.map(|r| format!(" [{r}]")).unwrap_or_default();
        println!("  check {:<22} {:<8}{rule} {}", c.check, c.status, c.detail);
    }
}

/// Parses every header in `bytes`.
pub fn parse_headers(bytes: &[u8]) -> Result<Vec<Header>, DecodeError> {
    let mut r = Reader::new(bytes);
    let mut out = Vec::new();
    while r.remaining() > 0 {
        out.push(Header::decode(&mut r)?);
    }
    Ok(out)
}

/// Runs `fluxminer header`.
pub fn run(args: &HeaderArgs) -> anyhow::Result<ExitCode> {
    let Some(p) = NetworkParams::by_name(&args.network) else {
        eprintln!("error: unknown network {:?}", args.network);
        return Ok(ExitCode::from(2));
    };
    let bytes = match read_input(&args.input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let headers = match parse_headers(&bytes) {
        Ok(h) if !h.is_empty() => h,
        Ok(_) => {
            eprintln!("error: no header in the input");
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("error: cannot parse header: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut all_valid = true;
    let mut json = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let height = args.height.map(|first| Height(first + i as u32));
        let mut checks = header_checks(p, h, height);
        if i > 0 {
            let prev = headers[i - 1].block_hash();
            let r = if h.prev_hash == prev {
                Ok(format!("follows {prev}"))
            } else {
                Err(HeaderError::PrevHashMismatch {
                    expected: prev,
                    found: h.prev_hash,
                })
            };
            checks.push(line("link to previous input header", r));
        }
        all_valid &= checks.iter().all(|c| c.status != "fail");
        if args.json {
            json.push(header_json(h, height, &checks));
        } else {
            print_text(h, height, &checks);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

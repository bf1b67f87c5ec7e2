//! `fluxminer header <HEX | FILE>`: decode Flux block headers and run every header rule that
//! needs no chain, in fluxd's order ([`crate::consensus::rules`]): version, signature size,
//! Equihash, `nBits` and its limit, hash ≤ target or ponHash ≤ target, emergency signatures, and
//! with `--height` the era, the PoN limit at the height, allowed sizes and checkpoint. The rules
//! that need the previous headers or the node's clock are listed as skipped. Several
//! concatenated headers are checked one by one, with their links.
//!
//! Exit codes: 0 all valid; 1 some header breaks a rule (named); 2 unusable input.

use std::path::Path;
use std::process::ExitCode;

use crate::consensus::check;
use crate::consensus::encode::{DecodeError, Reader};
use crate::consensus::header::Proof;
use crate::consensus::params::NetworkParams;
use crate::consensus::rules::{Checked, Context, HeaderRules, Rule, Skip};
use crate::consensus::{Header, HeaderError, Height, pon};

/// Arguments of `fluxminer header`.
#[derive(Debug, Clone, clap::Args)]
pub struct HeaderArgs {
    /// Serialized header(s) as hex, or a file holding hex or raw bytes.
    pub input: String,
    /// Network (or chain file) whose rules apply.
    #[command(flatten)]
    pub rules: super::chain::NetworkArgs,
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

/// What a passed rule found, for the output.
fn detail(p: &NetworkParams, h: &Header, height: Option<Height>, rule: Rule) -> String {
    match (rule, &h.proof) {
        (Rule::Version, _) => h.version.to_string(),
        (Rule::Equihash, Proof::Work { solution, .. }) => {
            match check::check_solution_size_known(solution) {
                Ok(eh) => format!("valid ({},{}, {} bytes)", eh.n(), eh.k(), solution.len()),
                Err(e) => e.to_string(),
            }
        }
        (Rule::Target, _) | (Rule::PonTargetAtHeight, _) => h
            .bits
            .to_target()
            .map_or_else(|e| e.to_string(), |t| format!("target {t}")),
        (Rule::Hash, Proof::Work { .. }) => h.block_hash().to_string(),
        (Rule::SolutionSize, Proof::Work { solution, .. }) => {
            check::check_solution_size_known(solution).map_or_else(
                |e| e.to_string(),
                |eh| format!("({},{}) allowed", eh.n(), eh.k()),
            )
        }
        (Rule::Era, _) => height.map_or(String::new(), |height| format!("{:?}", p.era_at(height))),
        (Rule::Checkpoint, _) => match height.and_then(|height| p.checkpoint_at(height)) {
            Some(_) => "matches".into(),
            None => "none at this height".into(),
        },
        (Rule::EmergencySignatures, _) => "valid".into(),
        _ => "ok".into(),
    }
}

/// Runs every header rule on `h` that needs no previous headers (in fluxd's order, each
/// independently, so all failures are listed); the rules that need more say so.
pub fn header_checks(p: &NetworkParams, h: &Header, height: Option<Height>) -> Vec<CheckLine> {
    let rules = HeaderRules::new(p, h, Context::at(height));
    let mut out: Vec<CheckLine> = rules
        .report()
        .into_iter()
        .filter(|(_, r)| *r != Ok(Checked::Skipped(Skip::NotApplicable)))
        .map(|(rule, r)| match r {
            Ok(Checked::Passed) => line(rule.name(), Ok(detail(p, h, height, rule))),
            Ok(Checked::Skipped(why)) => skipped(rule.name(), why.reason()),
            Err(e) => line(rule.name(), Err(e)),
        })
        .collect();
    if h.is_pon() && !pon::is_emergency_block(p, h) {
        out.push(skipped(
            "node signature",
            "needs the node's public key from the fluxnode set",
        ));
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
    let p = args.rules.params()?;
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

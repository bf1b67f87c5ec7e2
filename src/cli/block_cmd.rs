//! `fluxminer block <HEX | FILE>`: a full serialized block. Its height is read from the coinbase;
//! the header is checked without the chain, the Merkle root against the transactions, and the
//! reward split is printed (subsidy, fees, miner or dev fund, Cumulus, Nimbus, Stratus, funds,
//! with the amounts the era requires beside the ones paid).
//!
//! Exit codes: 0 valid; 1 the block breaks a rule (named); 2 unusable input.

use std::process::ExitCode;

use crate::consensus::block::{Block, BlockError};
use crate::consensus::params::NetworkParams;
use crate::consensus::reward::{self, RewardSplit, Role};
use crate::consensus::subsidy::Tier;
use crate::consensus::{Amount, Height};

use super::header_cmd::{CheckLine, header_checks, read_input};

/// Arguments of `fluxminer block`.
#[derive(Debug, Clone, clap::Args)]
pub struct BlockArgs {
    /// Serialized block as hex, or a file holding hex or raw bytes.
    pub input: String,
    /// Network (or chain file) whose rules apply.
    #[command(flatten)]
    pub rules: super::chain::NetworkArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn amount(a: Amount) -> serde_json::Value {
    serde_json::Value::String(a.to_string())
}

fn split_json(s: &RewardSplit) -> serde_json::Value {
    let tier = |t: Tier| {
        serde_json::json!({
            "required": s.required_tiers.map(|r| r.get(t).to_string()),
            "paid": amount(s.paid_to(Role::Tier(t))),
        })
    };
    let funds: Vec<_> = s
        .funds_due
        .iter()
        .map(|f| {
            serde_json::json!({
                "fund": f.name,
                "required": amount(f.amount),
                "paid": amount(s.paid_to(Role::Fund(f.name))),
            })
        })
        .collect();
    let outputs: Vec<_> = s
        .outputs
        .iter()
        .map(|o| serde_json::json!({"index": o.index, "value": amount(o.value), "role": o.role.name()}))
        .collect();
    let tiers_required = s.required_tiers.map_or(Amount::ZERO, |t| t.total());
    serde_json::json!({
        "height": s.height.0,
        "subsidy": amount(s.subsidy),
        "coinbase_value": amount(s.coinbase_value),
        "claimed_fees": amount(s.claimed_fees),
        "miner": {
            "required": s.dev_fund_required.is_none().then(|| {
                s.subsidy.checked_sub(tiers_required).unwrap_or_default().to_string()
            }),
            "paid": amount(s.paid_to(Role::Miner)),
        },
        "dev_fund": {
            "required": s.dev_fund_required.map(|a| a.to_string()),
            "paid": amount(s.paid_to(Role::DevFund)),
        },
        "cumulus": tier(Tier::Cumulus),
        "nimbus": tier(Tier::Nimbus),
        "stratus": tier(Tier::Stratus),
        "funds": funds,
        "unpaid_tiers": s.unpaid_tiers.iter().map(|t| t.name()).collect::<Vec<_>>(),
        "outputs": outputs,
        "violations": s.violations.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
    })
}

fn print_text(block: &Block, checks: &[CheckLine], split: &RewardSplit) {
    let j = split_json(split);
    println!(
        "block {} at height {} ({} transactions)",
        block.header.block_hash(),
        split.height,
        block.transactions.len()
    );
    for c in checks {
        let rule = c.rule.map(|r| format!(" [{r}]")).unwrap_or_default();
        println!("  check {:<22} {:<8}{rule} {}", c.check, c.status, c.detail);
    }
    println!("  reward split (FLUX)      required        paid");
    let row = |name: &str, v: &serde_json::Value| {
        let req = v["required"].as_str().unwrap_or("-");
        let paid = v["paid"].as_str().unwrap_or("-");
        println!("    {name:<20} {req:>15} {paid:>15}");
    };
    println!("    {:<20} {:>15}", "subsidy", split.subsidy);
    println!("    {:<20} {:>15}", "claimed fees", split.claimed_fees);
    if split.dev_fund_required.is_some() {
        row("dev fund", &j["dev_fund"]);
    } else {
        row("miner (+ fees)", &j["miner"]);
    }
    for t in ["cumulus", "nimbus", "stratus"] {
        row(t, &j[t]);
    }
    for f in j["funds"].as_array().into_iter().flatten() {
        row(f["fund"].as_str().unwrap_or("fund"), f);
    }
    for o in &split.outputs {
        println!(
            "    output {:<3} {:>15} {}",
            o.index,
            o.value,
            o.role.name()
        );
    }
    for t in &split.unpaid_tiers {
        println!(
            "  note: {} is not paid: valid only if the tier has no payee (needs the fluxnode list)",
            t.name()
        );
    }
    for v in &split.violations {
        println!("  violation: {v}");
    }
}

/// Checks a parsed block at `height`: the header's chain-free checks, coinbase position, Merkle
/// root, coinbase height (BIP34), coinbase amount (when the fees are known without the inputs)
/// and reward split.
pub fn block_checks(
    p: &NetworkParams,
    block: &Block,
    height: Height,
) -> (Vec<CheckLine>, RewardSplit) {
    let mut checks = header_checks(p, &block.header, Some(height));
    let line = |check: &'static str, r: Result<&str, (&'static str, String)>| match r {
        Ok(detail) => CheckLine {
            check,
            status: "ok",
            rule: None,
            detail: detail.into(),
        },
        Err((rule, detail)) => CheckLine {
            check,
            status: "fail",
            rule: Some(rule),
            detail,
        },
    };
    let block_rule =
        |r: Result<(), BlockError>| r.map(|_| "ok").map_err(|e| (e.rule(), e.to_string()));
    checks.push(line(
        "coinbase position",
        block_rule(block.check_coinbase_position()),
    ));
    checks.push(line("merkle root", block_rule(block.check_merkle_root())));
    checks.push(line(
        "coinbase height",
        block_rule(block.check_coinbase_height(height)),
    ));
    checks.push(match block.fees_without_inputs() {
        Some(fees) => line(
            "coinbase amount",
            reward::check_coinbase_amount(p, height, block.coinbase(), fees)
                .map(|_| "ok (no fees: only fluxnode transactions)")
                .map_err(|e| (e.rule(), e.to_string())),
        ),
        None => CheckLine {
            check: "coinbase amount",
            status: "skipped",
            rule: None,
            detail: "the fees need the inputs' values".into(),
        },
    });
    let split = reward::split_reward(p, height, block.coinbase());
    (checks, split)
}

/// Runs `fluxminer block`.
pub fn run(args: &BlockArgs) -> anyhow::Result<ExitCode> {
    let p = args.rules.params()?;
    let bytes = match read_input(&args.input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let block = match Block::from_bytes(&bytes) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot parse block: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let height = match block.coinbase_height() {
        Ok(h) => Height(h),
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let (checks, split) = block_checks(p, &block, height);
    let valid = checks.iter().all(|c| c.status != "fail") && split.is_valid();
    if args.json {
        let v = serde_json::json!({
            "hash": block.header.block_hash().to_string(),
            "height": height.0,
            "transactions": block.transactions.len(),
            "checks": checks,
            "reward": split_json(&split),
            "valid": valid,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_text(&block, &checks, &split);
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

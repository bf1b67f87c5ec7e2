//! `fluxminer rewards`: what the stored best chain paid, from the reward ledger's per-block
//! records in the store (`<datadir>/chain.redb`). Totals per role (miner or dev fund, Cumulus,
//! Nimbus, Stratus, funds, other) or per UTC day over a height range, and for each watched
//! address its payment history, total, last payment and the gaps longer than its tier's
//! expected interval ([`crate::ledger::ExpectedIntervals`], set with `--interval`). Printed as a
//! table, JSON or CSV.
//!
//! [`query`] and [`render`] take the store and return values and text, so tests need not spawn
//! the binary. Exit codes: 0 success (also for an empty store, with a message); 2 unusable input
//! (an address of another network or with a bad checksum, a bad range, an unreadable store or
//! record).

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use thiserror::Error;

use super::chain::ChainArgs;
use crate::consensus::BlockHash;
use crate::consensus::params::NetworkParams;
use crate::consensus::subsidy::Tier;
use crate::consensus::units::Height;
use crate::ledger::{
    self, AddressError, AddressReport, BlockRewards, Category, Date, DayTotals, ExpectedIntervals,
    RecordDecodeError, Totals,
};
use crate::store::{Store, StoreError};

/// How totals are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// One line per UTC day (block header time).
    Day,
    /// One line per role: miner, dev fund, the three tiers, funds, other.
    Tier,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text.
    Table,
    /// One JSON document.
    Json,
    /// CSV with a header line.
    Csv,
}

/// Arguments of `fluxminer rewards`.
#[derive(Debug, Clone, clap::Args)]
pub struct RewardsArgs {
    /// Network (or chain file) and data directory.
    #[command(flatten)]
    pub chain: ChainArgs,
    /// A payout address to report on (repeat for several).
    #[arg(long = "address", value_name = "ADDRESS")]
    pub addresses: Vec<String>,
    /// Lowest height counted.
    #[arg(long, value_name = "HEIGHT")]
    pub from: Option<u32>,
    /// Highest height counted.
    #[arg(long, value_name = "HEIGHT")]
    pub to: Option<u32>,
    /// Group totals by UTC day or by tier.
    #[arg(long, value_enum, default_value = "tier")]
    pub by: By,
    /// Print JSON.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (with --address: the payments; else the totals).
    #[arg(long)]
    pub csv: bool,
    /// A tier's expected payment interval in blocks, for the gaps (repeatable; defaults:
    /// cumulus=10000, nimbus=3000, stratus=3000).
    #[arg(long = "interval", value_name = "TIER=BLOCKS", value_parser = parse_interval)]
    pub intervals: Vec<(Tier, u32)>,
}

fn parse_interval(s: &str) -> Result<(Tier, u32), String> {
    let (t, n) = s
        .split_once('=')
        .ok_or_else(|| format!("expected TIER=BLOCKS (like cumulus=8000), got {s:?}"))?;
    let tier = Tier::ALL
        .into_iter()
        .find(|x| x.name() == t.trim().to_ascii_lowercase())
        .ok_or_else(|| format!("tier must be cumulus, nimbus or stratus, got {t:?}"))?;
    let blocks = n
        .trim()
        .parse()
        .map_err(|_| format!("blocks must be a number, got {n:?}"))?;
    Ok((tier, blocks))
}

/// What to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Watched addresses.
    pub addresses: Vec<String>,
    /// Lowest height.
    pub from: u32,
    /// Highest height.
    pub to: u32,
    /// Grouping of the totals.
    pub by: By,
    /// Expected interval of each tier, for the gaps.
    pub expected: ExpectedIntervals,
}

impl Query {
    /// Everything, grouped by tier, default intervals, no address.
    pub fn all() -> Query {
        Query {
            addresses: Vec::new(),
            from: 0,
            to: u32::MAX,
            by: By::Tier,
            expected: ExpectedIntervals::DEFAULT,
        }
    }
}

/// The `rewards` command cannot answer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RewardsError {
    /// A watched address is not one of the network's.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// `--from` is above `--to`.
    #[error("--from {from} is above --to {to}")]
    BadRange {
        /// `--from`.
        from: u32,
        /// `--to`.
        to: u32,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record does not decode.
    #[error("ledger record of block {hash} at height {height}: {source}")]
    Record {
        /// Its height.
        height: Height,
        /// Its block.
        hash: BlockHash,
        /// Why.
        source: RecordDecodeError,
    },
}

/// The answer to a [`Query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The network's name.
    pub network: &'static str,
    /// The query.
    pub query: Query,
    /// Totals over the range (blocks counted, first and last height).
    pub totals: Totals,
    /// Totals per UTC day (with [`By::Day`]; empty otherwise).
    pub days: Vec<DayTotals>,
    /// One report per watched address, in the query's order.
    pub addresses: Vec<AddressReport>,
}

/// Checks the query, reads the best chain's records at heights `from..=to` and answers.
///
/// # Errors
/// [`RewardsError`].
pub fn query(store: &Store, params: &NetworkParams, q: &Query) -> Result<Report, RewardsError> {
    for a in &q.addresses {
        ledger::check_address(params, a)?;
    }
    if q.from > q.to {
        return Err(RewardsError::BadRange {
            from: q.from,
            to: q.to,
        });
    }
    let records = store
        .best_ledger(q.from, q.to)?
        .into_iter()
        .map(|(height, hash, bytes)| {
            BlockRewards::from_bytes(&bytes).map_err(|source| RewardsError::Record {
                height,
                hash,
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let range = Height(q.from)..=Height(q.to);
    Ok(Report {
        network: params.name,
        query: q.clone(),
        totals: ledger::totals(&records, range.clone()),
        days: match q.by {
            By::Day => ledger::daily_totals(&records, range.clone()),
            By::Tier => Vec::new(),
        },
        addresses: q
            .addresses
            .iter()
            .map(|a| ledger::address_report(&records, a, range.clone(), &q.expected))
            .collect(),
    })
}

fn date_time(t: u32) -> String {
    let s = i64::from(t);
    let secs = s.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        Date::from_unix_time(s),
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

fn category_name(c: Category) -> &'static str {
    match c {
        Category::DevFund => "dev fund",
        c => c.key(),
    }
}

fn gap_tier(g: &ledger::Gap) -> &'static str {
    g.tier.map_or("any tier", Tier::name)
}

fn totals_json(t: &Totals) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for c in Category::ALL {
        let ct = t.get(c);
        m.insert(
            c.key().into(),
            serde_json::json!({"amount": ct.amount.to_string(), "payments": ct.payments}),
        );
    }
    m.insert("total".into(), t.total().to_string().into());
    serde_json::Value::Object(m)
}

fn report_json(r: &Report) -> serde_json::Value {
    let e = &r.query.expected;
    let days: Vec<_> = r
        .days
        .iter()
        .map(|d| {
            serde_json::json!({
                "date": d.date.to_string(),
                "blocks": d.totals.blocks,
                "first": d.totals.first.map(|h| h.0),
                "last": d.totals.last.map(|h| h.0),
                "totals": totals_json(&d.totals),
            })
        })
        .collect();
    let addresses: Vec<_> = r
        .addresses
        .iter()
        .map(|a| {
            let payments: Vec<_> = a
                .payments
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "height": p.height.0,
                        "time": p.time,
                        "date": date_time(p.time),
                        "role": p.role.name(),
                        "amount": p.amount.to_string(),
                    })
                })
                .collect();
            let gaps: Vec<_> = a
                .gaps
                .iter()
                .map(|g| {
                    serde_json::json!({
                        "tier": g.tier.map(Tier::name),
                        "from": g.from.0,
                        "to": g.to.0,
                        "from_payment": g.from_payment,
                        "to_payment": g.to_payment,
                        "blocks": g.blocks,
                        "expected": g.expected,
                    })
                })
                .collect();
            serde_json::json!({
                "address": a.address,
                "total": a.total.to_string(),
                "payments": payments,
                "last_paid": a.last_paid.map(|(h, t)| serde_json::json!({"height": h.0, "time": t})),
                "gaps": gaps,
            })
        })
        .collect();
    serde_json::json!({
        "network": r.network,
        "from": r.query.from,
        "to": r.query.to,
        "blocks": r.totals.blocks,
        "first": r.totals.first.map(|h| h.0),
        "last": r.totals.last.map(|h| h.0),
        "totals": totals_json(&r.totals),
        "days": days,
        "addresses": addresses,
        "expected_intervals": {"cumulus": e.cumulus, "nimbus": e.nimbus, "stratus": e.stratus},
    })
}

fn render_csv(r: &Report) -> String {
    let mut s = String::new();
    if !r.addresses.is_empty() {
        s.push_str("address,height,time,date,role,amount\n");
        for a in &r.addresses {
            for p in &a.payments {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{}",
                    a.address,
                    p.height,
                    p.time,
                    date_time(p.time),
                    p.role.name(),
                    p.amount
                );
            }
        }
        return s;
    }
    match r.query.by {
        By::Tier => {
            s.push_str("category,payments,amount\n");
            for c in Category::ALL {
                let t = r.totals.get(c);
                let _ = writeln!(s, "{},{},{}", c.key(), t.payments, t.amount);
            }
            let _ = writeln!(s, "total,,{}", r.totals.total());
        }
        By::Day => {
            s.push_str("date,blocks");
            for c in Category::ALL {
                let _ = write!(s, ",{}", c.key());
            }
            s.push_str(",total\n");
            for d in &r.days {
                let _ = write!(s, "{},{}", d.date, d.totals.blocks);
                for c in Category::ALL {
                    let _ = write!(s, ",{}", d.totals.get(c).amount);
                }
                let _ = writeln!(s, ",{}", d.totals.total());
            }
        }
    }
    s
}

fn render_table(r: &Report) -> String {
    let mut s = String::new();
    let t = &r.totals;
    let span = match (t.first, t.last) {
        (Some(a), Some(b)) => format!("heights {a}..{b}"),
        _ => "no heights".into(),
    };
    let _ = writeln!(
        s,
        "rewards on {}: {} blocks with records ({span})",
        r.network, t.blocks
    );
    match r.query.by {
        By::Tier => {
            let _ = writeln!(s, "  {:<10} {:>9} {:>22}", "role", "payments", "FLUX");
            for c in Category::ALL {
                let ct = t.get(c);
                if ct.payments > 0 {
                    let _ = writeln!(
                        s,
                        "  {:<10} {:>9} {:>22}",
                        category_name(c),
                        ct.payments,
                        ct.amount.to_string()
                    );
                }
            }
            let _ = writeln!(
                s,
                "  {:<10} {:>9} {:>22}",
                "total",
                "",
                t.total().to_string()
            );
        }
        By::Day => {
            let shown: Vec<Category> = Category::ALL
                .into_iter()
                .filter(|&c| t.get(c).payments > 0)
                .collect();
            let _ = write!(s, "  {:<10} {:>6}", "date", "blocks");
            for &c in &shown {
                let _ = write!(s, " {:>17}", category_name(c));
            }
            let _ = writeln!(s, " {:>17}", "total");
            for d in &r.days {
                let _ = write!(s, "  {:<10} {:>6}", d.date.to_string(), d.totals.blocks);
                for &c in &shown {
                    let _ = write!(s, " {:>17}", d.totals.get(c).amount.to_string());
                }
                let _ = writeln!(s, " {:>17}", d.totals.total().to_string());
            }
        }
    }
    for a in &r.addresses {
        let last = a.last_paid.map_or("never paid in range".into(), |(h, tm)| {
            format!("last paid at height {h} ({} UTC)", date_time(tm))
        });
        let _ = writeln!(
            s,
            "address {}: {} payment{}, {} FLUX, {last}",
            a.address,
            a.payments.len(),
            if a.payments.len() == 1 { "" } else { "s" },
            a.total
        );
        for p in &a.payments {
            let _ = writeln!(
                s,
                "  {:>9}  {} UTC  {:<10} {:>17}",
                p.height,
                date_time(p.time),
                p.role.name(),
                p.amount.to_string()
            );
        }
        for g in &a.gaps {
            let edge = |paid: bool| if paid { "payment" } else { "range edge" };
            let _ = writeln!(
                s,
                "  gap: no {} payment for {} blocks, {} ({}) .. {} ({}), expected every {} blocks",
                gap_tier(g),
                g.blocks,
                g.from,
                edge(g.from_payment),
                g.to,
                edge(g.to_payment),
                g.expected
            );
        }
    }
    s
}

/// The report as text in `format`.
pub fn render(r: &Report, format: Format) -> String {
    match format {
        Format::Table => render_table(r),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report_json(r)).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Csv => render_csv(r),
    }
}

fn empty_message(path: &Path, q: &Query) -> String {
    format!(
        "no reward records in {} for heights {}..{} (the light client's sync stores them)",
        path.display(),
        q.from,
        q.to
    )
}

/// Runs `fluxminer rewards`.
pub fn run(args: &RewardsArgs) -> anyhow::Result<ExitCode> {
    let params = args.chain.params()?;
    let mut expected = ExpectedIntervals::DEFAULT;
    for &(tier, blocks) in &args.intervals {
        expected.set(tier, blocks);
    }
    let q = Query {
        addresses: args.addresses.clone(),
        from: args.from.unwrap_or(0),
        to: args.to.unwrap_or(u32::MAX),
        by: args.by,
        expected,
    };
    let format = match (args.json, args.csv) {
        (true, _) => Format::Json,
        (_, true) => Format::Csv,
        _ => Format::Table,
    };
    for a in &q.addresses {
        if let Err(e) = ledger::check_address(params, a) {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    }
    let path = args.chain.store_path(params);
    // Opening would create the file: a missing store is an empty one.
    if !path.exists() {
        println!("{}", empty_message(&path, &q));
        return Ok(ExitCode::SUCCESS);
    }
    let store = Store::open(&path)?;
    let report = match query(&store, params, &q) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if report.totals.blocks == 0 {
        if format == Format::Table {
            println!("{}", empty_message(&path, &q));
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("{}", empty_message(&path, &q));
    }
    print!("{}", render(&report, format));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse() {
        assert_eq!(parse_interval("cumulus=8000"), Ok((Tier::Cumulus, 8000)));
        assert_eq!(parse_interval("Stratus = 12"), Ok((Tier::Stratus, 12)));
        assert!(parse_interval("basic=1").is_err());
        assert!(parse_interval("nimbus").is_err());
        assert!(parse_interval("nimbus=x").is_err());
    }

    #[test]
    fn dates_print_in_utc() {
        assert_eq!(date_time(1_700_000_000), "2023-11-14 22:13:20");
    }
}

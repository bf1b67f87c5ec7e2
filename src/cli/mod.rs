//! The command line: clap arguments, validated into a configuration before anything runs, and
//! one module per subcommand. Exit codes: 0 success, 1 a rule was broken (named on stderr or
//! stdout), 2 unusable input or settings, 3 `mine`'s watchdog gave up on a device.

pub mod backend_args;
pub mod bench;
pub mod block_cmd;
pub mod chain;
pub mod config;
pub mod devices;
pub mod header_cmd;
pub mod logging;
pub mod mine;
pub mod pool;
pub mod rewards;
pub mod solve;
pub mod sync_cmd;
pub mod verify;
pub mod watchdog_args;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::equihash::{self, Params};

/// fluxminer: ZelHash (Equihash 125,4) miner and validating Flux light client.
#[derive(Debug, Parser)]
#[command(name = "fluxminer", version, about, arg_required_else_help = true)]
pub struct Cli {
    /// Options of every command: `--config FILE` and logging.
    #[command(flatten)]
    pub global: config::GlobalArgs,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Solve one Equihash input (CPU or GPU) and print every solution as hex.
    Solve(solve::SolveArgs),
    /// Verify serialized PoW headers: Equihash solution and hash ≤ target(nBits).
    Verify(verify::VerifyArgs),
    /// Measure the solver: runs a golden check first, then nonces/s and Sol/s.
    Bench(bench::BenchArgs),
    /// Decode Flux headers and run every check that needs no chain.
    Header(header_cmd::HeaderArgs),
    /// Check a full block: header, Merkle root, and the reward split.
    Block(block_cmd::BlockArgs),
    /// Mine on stratum pools (or, with no --pool, on a built-in loopback test pool).
    Mine(mine::MineArgs),
    /// Run a stratum test pool that checks shares like real pools and measures Sol/s.
    Pool(pool::PoolArgs),
    /// Sync the chain into the store from fluxd's RPC or Flux peers (and the reward ledger).
    Sync(sync_cmd::SyncArgs),
    /// What the store holds: tip, chain work, era, size.
    Status(sync_cmd::StatusArgs),
    /// List GPU adapters, their limits, and whether each can run ZelHash.
    Devices(devices::DevicesArgs),
    /// What the stored best chain paid: totals per tier or per day, watched addresses' payments
    /// and gaps.
    Rewards(rewards::RewardsArgs),
    /// Print the effective configuration (command line, then --config file, then defaults) as
    /// TOML: `fluxminer config --print [SUBCOMMAND [ARGS...]]`.
    Config(config::ConfigArgs),
}

/// Runs the binary: parse (with the `--config` file), set up logging, dispatch, map errors to
/// exit code 2.
pub fn main() -> ExitCode {
    let result = config::parse_args(std::env::args_os().collect())
        .and_then(|(cli, matches)| dispatch(&cli, &matches));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the subcommand; `matches` are the parsed arguments behind `cli`.
fn dispatch(cli: &Cli, matches: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    if !matches!(cli.command, Command::Config(_)) {
        logging::init(&cli.global.log)?;
    }
    match &cli.command {
        Command::Solve(a) => solve::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Header(a) => header_cmd::run(a),
        Command::Block(a) => block_cmd::run(a),
        Command::Mine(a) => mine::run(a),
        Command::Pool(a) => pool::run(a),
        Command::Devices(a) => devices::run(a),
        Command::Sync(a) => sync_cmd::run(a),
        Command::Status(a) => sync_cmd::status(a),
        Command::Rewards(a) => rewards::run(a),
        Command::Config(a) => config::run(a, matches),
    }
}

/// `--params N,K` and `--pers`: the Equihash parameter set to use.
#[derive(Debug, Clone, clap::Args)]
pub struct ParamsArgs {
    /// Equihash parameters as N,K. 125,4 is ZelHash (ZelProof with the twist), 144,5 uses
    /// ZelProof, everything else ZcashPoW.
    #[arg(long = "params", value_name = "N,K", default_value = "125,4", value_parser = parse_nk)]
    pub nk: (u32, u32),
    /// Override the 8-byte BLAKE2b personalization (e.g. ZcashPoW).
    #[arg(long, value_name = "8 ASCII BYTES")]
    pub pers: Option<String>,
}

impl ParamsArgs {
    /// The validated parameter set.
    pub fn params(&self) -> anyhow::Result<Params> {
        let (n, k) = self.nk;
        let mut p = Params::for_nk(n, k)?;
        if let Some(pers) = &self.pers {
            let bytes: [u8; 8] = pers.as_bytes().try_into().map_err(|_| {
                anyhow::anyhow!(
                    "--pers must be exactly 8 bytes, got {:?} ({} bytes)",
                    pers,
                    pers.len()
                )
            })?;
            p = p.with_personalization(bytes);
        }
        Ok(p)
    }
}

fn parse_nk(s: &str) -> Result<(u32, u32), String> {
    let (n, k) = s
        .split_once(',')
        .ok_or_else(|| format!("expected N,K (like 125,4), got {s:?}"))?;
    let n = n
        .trim()
        .parse()
        .map_err(|_| format!("N must be a number, got {n:?}"))?;
    let k = k
        .trim()
        .parse()
        .map_err(|_| format!("K must be a number, got {k:?}"))?;
    equihash::Params::for_nk(n, k).map_err(|e| e.to_string())?;
    Ok((n, k))
}

/// `--threads T`: worker threads, defaulting to every core.
#[derive(Debug, Clone, clap::Args)]
pub struct ThreadsArgs {
    /// Worker threads (default: all cores).
    #[arg(long, short = 't', value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

impl ThreadsArgs {
    /// The thread count to use.
    pub fn get(&self) -> usize {
        self.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            usize::from,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn params_parse_and_validate() {
        assert_eq!(parse_nk("125,4"), Ok((125, 4)));
        assert_eq!(parse_nk(" 200 , 9 "), Ok((200, 9)));
        assert!(parse_nk("125").is_err());
        assert!(parse_nk("125,3").unwrap_err().contains("multiple"));
        let a = ParamsArgs {
            nk: (48, 5),
            pers: Some("ZelProof".into()),
        };
        assert_eq!(a.params().unwrap().personalization(), *b"ZelProof");
        let bad = ParamsArgs {
            nk: (48, 5),
            pers: Some("short".into()),
        };
        assert!(bad.params().is_err());
    }
}

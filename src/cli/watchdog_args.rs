//! `mine`'s watchdog flags, and the exit code when the watchdog gives up on a device
//! ([`WATCHDOG_EXIT`]): the rig's OS restarts the process.

use std::process::ExitCode;

use crate::miner::WatchdogConfig;
use crate::net::client::WatchdogExit;

/// The exit code of `mine` when the watchdog gave up on a device (a failed restart, or too many
/// restarts of one device).
pub const WATCHDOG_EXIT: u8 = 3;

/// The solver watchdog (`fluxminer mine`).
#[derive(Debug, Clone, clap::Args)]
pub struct WatchdogArgs {
    /// Restart a device that finishes no nonce for F times its expected nonce time (its
    /// self-test time at first, then its own pace) while there is work to do.
    #[arg(long, default_value_t = 10.0, value_name = "F", value_parser = positive)]
    pub watchdog_factor: f64,
    /// ... but never sooner than this many seconds after its last nonce.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub watchdog_min: u64,
    /// Restart a device after N nonces in a row fail (a solution failing the CPU re-check, or a
    /// solver error).
    #[arg(long, default_value_t = 5, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub watchdog_errors: u32,
    /// Restarts of one device allowed within 10 minutes; needing one more exits with code 3
    /// (0: exit at the first).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub watchdog_restarts: u32,
    /// Never restart a device (a crashed solver thread still ends the run, with code 3).
    #[arg(long)]
    pub no_watchdog: bool,
}

fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(f),
        _ => Err(format!("expected a positive number, got {s:?}")),
    }
}

impl WatchdogArgs {
    /// The watchdog's settings, with each device's self-test time in milliseconds.
    pub fn config(&self, self_test_ms: Vec<u64>) -> WatchdogConfig {
        WatchdogConfig {
            enabled: !self.no_watchdog,
            stall_factor: self.watchdog_factor,
            stall_min_ms: self.watchdog_min.saturating_mul(1000),
            error_streak: self.watchdog_errors,
            max_restarts: self.watchdog_restarts,
            seed_ms: self_test_ms,
            ..WatchdogConfig::default()
        }
    }
}

/// `mine`'s ending for error `e`: the watchdog's reason on stderr and [`WATCHDOG_EXIT`], or `e`
/// itself for anything else.
pub fn exit_for(e: anyhow::Error) -> anyhow::Result<ExitCode> {
    match e.downcast_ref::<WatchdogExit>() {
        Some(w) => {
            eprintln!("error: {w}");
            Ok(ExitCode::from(WATCHDOG_EXIT))
        }
        None => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        dog: WatchdogArgs,
    }

    fn parse(args: &[&str]) -> Result<WatchdogArgs, clap::Error> {
        use clap::Parser;
        Cli::try_parse_from([&["x"], args].concat()).map(|c| c.dog)
    }

    #[test]
    fn flags_make_the_config_and_bad_values_are_refused() {
        let d = parse(&[]).unwrap().config(vec![5_000]);
        assert_eq!(
            d,
            WatchdogConfig {
                seed_ms: vec![5_000],
                ..WatchdogConfig::default()
            }
        );
        let a = parse(&[
            "--watchdog-factor",
            "4",
            "--watchdog-min",
            "30",
            "--watchdog-errors",
            "2",
            "--watchdog-restarts",
            "0",
            "--no-watchdog",
        ])
        .unwrap()
        .config(vec![]);
        assert_eq!(
            (a.enabled, a.stall_factor, a.stall_min_ms, a.error_streak),
            (false, 4.0, 30_000, 2)
        );
        assert_eq!(a.max_restarts, 0);
        let e = parse(&["--watchdog-factor", "0"]).unwrap_err().to_string();
        assert!(e.contains("expected a positive number, got \"0\""), "{e}");
        assert!(parse(&["--watchdog-errors", "0"]).is_err());
    }

    #[test]
    fn a_watchdog_exit_is_code_3_and_other_errors_pass_through() {
        let w = WatchdogExit {
            reason: "solver 0 (x): no nonce".into(),
        };
        assert_eq!(exit_for(w.into()).unwrap(), ExitCode::from(3));
        let e = exit_for(anyhow::anyhow!("pool list empty")).unwrap_err();
        assert_eq!(e.to_string(), "pool list empty");
    }
}

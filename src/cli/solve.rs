//! `fluxminer solve <INPUT>`: every solution of one Equihash input, as hex, in canonical order.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;

use super::backend_args::{BackendArgs, make_solver};
use super::header_cmd::read_input;
use super::{ParamsArgs, ThreadsArgs};
use crate::equihash::{INPUT_LEN, minimal_from_indices};

/// Arguments of `fluxminer solve`.
#[derive(Debug, Clone, clap::Args)]
pub struct SolveArgs {
    /// The 140-byte Equihash input (header fields and nonce) as hex, or a full serialized header
    /// (its first 140 bytes are used), or a file holding either.
    pub input: String,
    #[command(flatten)]
    params: ParamsArgs,
    #[command(flatten)]
    threads: ThreadsArgs,
    #[command(flatten)]
    backend: BackendArgs,
}

/// Prints each solution (minimal encoding, no length prefix) on its own line.
pub fn run(args: &SolveArgs) -> anyhow::Result<ExitCode> {
    let params = args.params.params()?;
    let bytes = read_input(&args.input).map_err(anyhow::Error::msg)?;
    if bytes.len() < INPUT_LEN {
        bail!(
            "input is {} bytes; expected the {INPUT_LEN}-byte Equihash input or a full header",
            bytes.len()
        );
    }
    let input = &bytes[..INPUT_LEN];
    let mut solver = make_solver(params, &args.threads, &args.backend, None)?;
    let start = Instant::now();
    let report = solver.solve(input)?;
    for s in &report.solutions {
        println!("{}", hex::encode(minimal_from_indices(&params, s)));
    }
    eprintln!(
        "{} solution(s) for equihash {params} in {:.2} s on {}",
        report.solutions.len(),
        start.elapsed().as_secs_f64(),
        solver.name()
    );
    let st = &report.stats;
    eprintln!(
        "stages: generate {:.3} s, rounds {:?} s, recovery {:.3} s; {} candidates",
        st.generate.as_secs_f64(),
        st.rounds
            .iter()
            .map(|d| (d.as_secs_f64() * 1e3).round() / 1e3)
            .collect::<Vec<_>>(),
        st.recover.as_secs_f64(),
        st.candidates
    );
    Ok(ExitCode::SUCCESS)
}

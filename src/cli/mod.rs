//! TEMPORARY STUB on branch `consensus` so the crate builds before `main` lands its CLI.
//! Replaced by main's module at merge; main wires `header_cmd` and `block_cmd` into its enum.

pub mod block_cmd;
pub mod header_cmd;

/// Entry point of the binary (stub).
pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}

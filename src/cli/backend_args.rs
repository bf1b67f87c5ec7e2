//! `--backend cpu|wgpu|cuda|cuda-cpu`, `--device I`, `--profile` and the backend settings: the
//! flags every command that solves (`solve`, `bench`, `mine`) shares, turned into the backend
//! factory's configuration.

use anyhow::Context;

use super::ThreadsArgs;
use crate::backend::Solver;
use crate::backend::factory::{self, BackendKind, ScanChoice, SolverConfig};
use crate::equihash::Params;

/// Which solver backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Backend {
    /// The multi-threaded CPU solver.
    #[default]
    Cpu,
    /// The WGSL kernels through wgpu (Vulkan, Metal, DX12).
    Wgpu,
    /// The CUDA kernels on an NVIDIA card.
    Cuda,
    /// The CUDA kernels on the CPU through the checking shim (developers; feature `cuda-cpu`).
    CudaCpu,
}

/// The twist scan of the wgpu generation kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scan {
    /// One invocation per 16 counters, no barrier.
    Serial,
    /// Workgroup-memory scan.
    Workgroup,
    /// Subgroup inclusive scan.
    Subgroup,
}

/// Backend selection arguments.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BackendArgs {
    /// Solver backend.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
    /// GPU number, as listed by `fluxminer devices` (wgpu adapter or CUDA device).
    #[arg(long, value_name = "I")]
    pub device: Option<usize>,
    /// GPU: wait after every stage and time it, and count the kernels' traffic (per-stage
    /// figures, no pipelining).
    #[arg(long)]
    pub profile: bool,
    /// wgpu: the ZelHash twist scan (default: subgroup where subgroups hold 16 lanes, else
    /// serial).
    #[arg(long, value_enum)]
    pub scan: Option<Scan>,
    /// wgpu: BLAKE2b on 64-bit integers (default: where the adapter offers them).
    #[arg(long, value_name = "BOOL")]
    pub int64: Option<bool>,
    /// cuda-cpu: race checks on shared memory (default true; bounds are always checked).
    #[arg(long, value_name = "BOOL")]
    pub checks: Option<bool>,
}

/// Builds the solver the arguments ask for (through [`crate::backend::factory`]).
///
/// # Errors
/// When the backend cannot be set up (no adapter or driver, too small a device, no layout); the
/// message says why.
pub fn make_solver(
    params: Params,
    threads: &ThreadsArgs,
    args: &BackendArgs,
    bucket_bits: Option<u32>,
) -> anyhow::Result<Box<dyn Solver>> {
    let what = match args.backend {
        Backend::Cpu => "the CPU solver",
        Backend::Wgpu => "the wgpu solver",
        Backend::Cuda => "the CUDA solver",
        Backend::CudaCpu => "the CUDA kernels on the CPU",
    };
    factory::make_solver(&config(params, threads, args, bucket_bits))
        .with_context(|| format!("cannot set up {what}"))
}

/// The factory's configuration from the flags.
pub fn config(
    params: Params,
    threads: &ThreadsArgs,
    args: &BackendArgs,
    bucket_bits: Option<u32>,
) -> SolverConfig {
    SolverConfig {
        threads: threads.get(),
        device: args.device,
        profile: args.profile,
        bucket_bits,
        scan: args.scan.map(|s| match s {
            Scan::Serial => ScanChoice::Serial,
            Scan::Workgroup => ScanChoice::Workgroup,
            Scan::Subgroup => ScanChoice::Subgroup,
        }),
        int64: args.int64,
        checks: args.checks,
        ..SolverConfig::new(
            match args.backend {
                Backend::Cpu => BackendKind::Cpu,
                Backend::Wgpu => BackendKind::Wgpu,
                Backend::Cuda => BackendKind::Cuda,
                Backend::CudaCpu => BackendKind::CudaCpu,
            },
            params,
        )
    }
}

//! `--backend auto|cpu|wgpu|cuda|cuda-cpu`, `--device I`, `--profile` and the backend settings: the
//! flags every command that solves (`solve`, `bench`, `mine`) shares, turned into the backend
//! factory's configuration.

use anyhow::Context;

use super::ThreadsArgs;
use crate::backend::Solver;
use crate::backend::factory::{self, BackendKind, ScanChoice, SolverConfig};
use crate::backend::inventory::{self, Gpu};
use crate::equihash::Params;

/// Which solver backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Every usable GPU, CUDA where available, else wgpu (software adapters such as lavapipe
    /// do not count); the CPU solver when there is none. `fluxminer devices` shows the choice.
    Auto,
    /// The multi-threaded CPU solver.
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
    /// Solver backend [default: auto for `mine`, cpu for `solve` and `bench`].
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
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

impl BackendArgs {
    /// The same settings on GPU `g`.
    pub fn on_gpu(&self, g: &Gpu) -> BackendArgs {
        BackendArgs {
            backend: Some(match g.kind {
                BackendKind::Cuda => Backend::Cuda,
                _ => Backend::Wgpu,
            }),
            device: Some(g.index),
            ..self.clone()
        }
    }

    /// The same settings on the CPU solver.
    pub fn on_cpu(&self) -> BackendArgs {
        BackendArgs {
            backend: Some(Backend::Cpu),
            device: None,
            ..self.clone()
        }
    }
}

/// The GPUs `--backend auto` uses here (see [`inventory::auto`]), and why others could not be
/// asked (driver missing).
pub fn auto_gpus() -> (Vec<Gpu>, Vec<String>) {
    let (all, notes) = inventory::gpus();
    (inventory::auto(&all), notes)
}

/// Builds the solver the arguments ask for (through [`crate::backend::factory`]); no backend
/// means the CPU, `auto` the first GPU `auto` would use (else the CPU).
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
    let resolved = match args.backend {
        None => args.on_cpu(),
        Some(Backend::Auto) => auto_gpus()
            .0
            .first()
            .map_or_else(|| args.on_cpu(), |g| args.on_gpu(g)),
        Some(_) => args.clone(),
    };
    let args = &resolved;
    let what = match args.backend.unwrap_or(Backend::Cpu) {
        Backend::Auto | Backend::Cpu => "the CPU solver",
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
            match args.backend.unwrap_or(Backend::Cpu) {
                Backend::Auto | Backend::Cpu => BackendKind::Cpu,
                Backend::Wgpu => BackendKind::Wgpu,
                Backend::Cuda => BackendKind::Cuda,
                Backend::CudaCpu => BackendKind::CudaCpu,
            },
            params,
        )
    }
}

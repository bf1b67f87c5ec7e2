//! `--backend cpu|wgpu|cuda|cuda-cpu`, `--device I` and `--profile`: one place that turns them into a solver,
//! for every command that solves (`solve`, `bench`, and `mine`).

use anyhow::Context;

use super::ThreadsArgs;
use crate::backend::Solver;
use crate::backend::cpu::CpuSolver;
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

/// Builds the solver the arguments ask for.
///
/// # Errors
/// When the backend cannot be set up (no adapter, too small a device, no layout); the message
/// says why.
pub fn make_solver(
    params: Params,
    threads: &ThreadsArgs,
    args: &BackendArgs,
    bucket_bits: Option<u32>,
) -> anyhow::Result<Box<dyn Solver>> {
    match args.backend {
        Backend::Cpu => {
            anyhow::ensure!(
                args.device.is_none(),
                "--device needs --backend wgpu (the CPU solver uses --threads)"
            );
            Ok(Box::new(
                CpuSolver::with_bucket_bits(params, threads.get(), bucket_bits)
                    .context("cannot set up the CPU solver")?,
            ))
        }
        Backend::Wgpu => wgpu_solver(params, args, bucket_bits),
        Backend::Cuda => cuda_solver(params, args),
        Backend::CudaCpu => cuda_cpu_solver(params, threads, args),
    }
}

#[cfg(feature = "cuda")]
fn cuda_solver(params: Params, args: &BackendArgs) -> anyhow::Result<Box<dyn Solver>> {
    use crate::backend::cuda::{CudaSolver, driver::CudaRuntime};
    let rt = CudaRuntime::new(args.device.unwrap_or(0))?;
    Ok(Box::new(
        CudaSolver::new(rt, params, args.profile).context("cannot set up the CUDA solver")?,
    ))
}

#[cfg(not(feature = "cuda"))]
fn cuda_solver(_params: Params, _args: &BackendArgs) -> anyhow::Result<Box<dyn Solver>> {
    anyhow::bail!("this build has no CUDA backend (cargo feature `cuda`)")
}

#[cfg(feature = "cuda-cpu")]
fn cuda_cpu_solver(
    params: Params,
    threads: &ThreadsArgs,
    args: &BackendArgs,
) -> anyhow::Result<Box<dyn Solver>> {
    use crate::backend::cuda::CudaSolver;
    use crate::backend::cuda::cpu::{CpuOptions, CpuRuntime};
    anyhow::ensure!(
        args.device.is_none(),
        "--device needs a GPU backend (cuda-cpu uses --threads)"
    );
    let rt = CpuRuntime::new(CpuOptions {
        threads: threads.get() as u32,
        checks: args.checks.unwrap_or(true),
        ..CpuOptions::default()
    });
    Ok(Box::new(
        CudaSolver::new(rt, params, args.profile)
            .context("cannot set up the CUDA kernels on the CPU")?,
    ))
}

#[cfg(not(feature = "cuda-cpu"))]
fn cuda_cpu_solver(
    _params: Params,
    _threads: &ThreadsArgs,
    _args: &BackendArgs,
) -> anyhow::Result<Box<dyn Solver>> {
    anyhow::bail!(
        "this build has no cuda-cpu backend: cargo run --release --features cuda-cpu -- ..."
    )
}

#[cfg(feature = "wgpu")]
fn wgpu_solver(
    params: Params,
    args: &BackendArgs,
    bucket_bits: Option<u32>,
) -> anyhow::Result<Box<dyn Solver>> {
    use crate::backend::wgpu::wgsl::TwistScan;
    use crate::backend::wgpu::{WgpuSolver, solver::Options};
    let opts = Options {
        device: args.device,
        bucket_bits,
        scan: args.scan.map(|s| match s {
            Scan::Serial => TwistScan::Serial,
            Scan::Workgroup => TwistScan::Workgroup,
            Scan::Subgroup => TwistScan::Subgroup,
        }),
        int64: args.int64,
        profile: args.profile,
    };
    Ok(Box::new(
        WgpuSolver::new(params, opts).context("cannot set up the wgpu solver")?,
    ))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_solver(
    _params: Params,
    _args: &BackendArgs,
    _bucket_bits: Option<u32>,
) -> anyhow::Result<Box<dyn Solver>> {
    anyhow::bail!("this build has no wgpu backend (cargo feature `wgpu`)")
}

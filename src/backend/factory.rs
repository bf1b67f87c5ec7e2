//! Choosing and building a solver: every backend owns its setup here, so the commands (`solve`,
//! `bench`, `mine`) only turn their flags into a [`SolverConfig`].

use super::cpu::CpuSolver;
use super::{Solver, SolverError};
use crate::equihash::Params;

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendKind {
    /// The multi-threaded CPU solver.
    #[default]
    Cpu,
    /// The WGSL kernels through wgpu (Vulkan, Metal, DX12).
    Wgpu,
    /// The CUDA kernels on an NVIDIA card.
    Cuda,
    /// The CUDA kernels on the CPU through the checking shim (feature `cuda-cpu`).
    CudaCpu,
}

/// The twist scan of the wgpu generation kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanChoice {
    /// One invocation per 16 counters, no barrier.
    Serial,
    /// Workgroup-memory scan.
    Workgroup,
    /// Subgroup inclusive scan.
    Subgroup,
}

/// Everything a backend needs to be built.
#[derive(Debug, Clone)]
pub struct SolverConfig {
    /// The backend.
    pub kind: BackendKind,
    /// The parameters.
    pub params: Params,
    /// CPU threads (CPU solver, cuda-cpu).
    pub threads: usize,
    /// GPU number (wgpu adapter or CUDA device), `None` for the first.
    pub device: Option<usize>,
    /// GPU: time every stage and count the kernels' traffic.
    pub profile: bool,
    /// CPU solver and wgpu: the bucket / region bits instead of the planned ones.
    pub bucket_bits: Option<u32>,
    /// wgpu: the twist scan.
    pub scan: Option<ScanChoice>,
    /// wgpu: BLAKE2b on 64-bit integers.
    pub int64: Option<bool>,
    /// cuda-cpu: race checks on shared memory (bounds are always checked).
    pub checks: Option<bool>,
}

impl SolverConfig {
    /// `kind` for `params` with every other setting at its default (one thread, the first
    /// device, no profile).
    pub fn new(kind: BackendKind, params: Params) -> SolverConfig {
        SolverConfig {
            kind,
            params,
            threads: 1,
            device: None,
            profile: false,
            bucket_bits: None,
            scan: None,
            int64: None,
            checks: None,
        }
    }
}

/// Builds the solver `cfg` asks for.
///
/// # Errors
/// The backend cannot be set up here (no adapter or driver, too small a device, a setting the
/// backend does not take); the error says why.
pub fn make_solver(cfg: &SolverConfig) -> Result<Box<dyn Solver>, SolverError> {
    match cfg.kind {
        BackendKind::Cpu => {
            if cfg.device.is_some() {
                return Err(SolverError::Unsupported(
                    "--device needs a GPU backend (the CPU solver uses --threads)".into(),
                ));
            }
            Ok(Box::new(CpuSolver::with_bucket_bits(
                cfg.params,
                cfg.threads,
                cfg.bucket_bits,
            )?))
        }
        BackendKind::Wgpu => wgpu_solver(cfg),
        BackendKind::Cuda => cuda_solver(cfg),
        BackendKind::CudaCpu => cuda_cpu_solver(cfg),
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_solver(cfg: &SolverConfig) -> Result<Box<dyn Solver>, SolverError> {
    use super::wgpu::wgsl::TwistScan;
    use super::wgpu::{WgpuSolver, solver::Options};
    let opts = Options {
        device: cfg.device,
        bucket_bits: cfg.bucket_bits,
        scan: cfg.scan.map(|s| match s {
            ScanChoice::Serial => TwistScan::Serial,
            ScanChoice::Workgroup => TwistScan::Workgroup,
            ScanChoice::Subgroup => TwistScan::Subgroup,
        }),
        int64: cfg.int64,
        profile: cfg.profile,
    };
    Ok(Box::new(WgpuSolver::new(cfg.params, opts)?))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_solver(_cfg: &SolverConfig) -> Result<Box<dyn Solver>, SolverError> {
    Err(SolverError::Unavailable(
        "this build has no wgpu backend (cargo feature `wgpu`)".into(),
    ))
}

#[cfg(feature = "cuda")]
fn cuda_solver(cfg: &SolverConfig) -> Result<Box<dyn Solver>, SolverError> {
    use super::cuda::{CudaSolver, driver::CudaRuntime};
    let rt = CudaRuntime::new(cfg.device.unwrap_or(0))?;
    Ok(Box::new(CudaSolver::new(rt, cfg.params, cfg.profile)?))
}

#[cfg(not(feature = "cuda"))]
fn cuda_solver(_cfg: &SolverConfig) -> Result<Box<dyn Solver>, SolverError> {
    Err(SolverError::Unavailable(
        "CUDA unavailable: this build has no CUDA backend (cargo feature `cuda`)".into(),
    ))
}

#[cfg(feature = "cuda-cpu")]
fn cuda_cpu_solver(cfg: &SolverConfig) -> Result<Box<dyn Solver>, SolverError> {
    use super::cuda::CudaSolver;
    use super::cuda::cpu::{CpuOptions, CpuRuntime};
    if cfg.device.is_some() {
        return Err(SolverError::Unsupported(
            "--device needs a GPU backend (cuda-cpu uses --threads)".into(),
        ));
    }
    let rt = CpuRuntime::new(CpuOptions {
        threads: u32::try_from(cfg.threads).unwrap_or(0),
        checks: cfg.checks.unwrap_or(true),
        ..CpuOptions::default()
    });
    Ok(Box::new(CudaSolver::new(rt, cfg.params, cfg.profile)?))
}

#[cfg(not(feature = "cuda-cpu"))]
fn cuda_cpu_solver(_cfg: &SolverConfig) -> Result<Box<dyn Solver>, SolverError> {
    Err(SolverError::Unavailable(
        "this build has no cuda-cpu backend: cargo run --release --features cuda-cpu -- ...".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_without_a_driver_says_why_and_never_panics() {
        let cfg = SolverConfig::new(BackendKind::Cuda, Params::ZELHASH);
        match make_solver(&cfg) {
            // A machine with the NVIDIA driver and a card builds the solver.
            Ok(s) => assert!(s.name().starts_with("cuda")),
            Err(e) => assert!(e.to_string().starts_with("CUDA unavailable: "), "{e}"),
        }
    }

    #[test]
    fn the_cpu_solver_refuses_a_device() {
        let cfg = SolverConfig {
            device: Some(1),
            ..SolverConfig::new(BackendKind::Cpu, Params::EH48_5)
        };
        assert!(matches!(
            make_solver(&cfg),
            Err(SolverError::Unsupported(_))
        ));
    }
}

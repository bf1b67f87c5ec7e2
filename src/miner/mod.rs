//! The miner: solver instances behind [`crate::backend::Solver`], the nonce layout, the job
//! scheduler, accounting, and [`run`], which ties them to the stratum driver in [`crate::net`].

pub mod accounting;
pub mod nonce;
pub mod scheduler;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use crate::backend::cpu::CpuSolver;
use crate::backend::{Solver, SolverError};
use crate::equihash::Params;
use crate::net::client::{ClientDriverConfig, run_client};
pub use accounting::Accounting;
pub use nonce::NonceLayout;
pub use scheduler::{Candidate, WorkBoard};

/// Which backend to mine with. Adding a backend is one variant here and one arm in
/// [`solvers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendKind {
    /// The CPU reference solver.
    #[default]
    Cpu,
    /// The WGSL solver through wgpu on one adapter (`None`: the first).
    Wgpu {
        /// Adapter number, as `fluxminer devices` lists them.
        device: Option<usize>,
    },
}

/// Backend settings.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// The backend.
    pub kind: BackendKind,
    /// The parameters to solve.
    pub params: Params,
    /// CPU threads.
    pub threads: usize,
}

/// The solver instances for a configuration, one per device. The CPU solver already uses every
/// thread for one nonce, so it is a single instance; GPU backends return one per device, each
/// getting its own worker prefix ([`NonceLayout::worker_prefix`]).
///
/// # Errors
/// When the backend cannot be set up.
pub fn solvers(cfg: &BackendConfig) -> Result<Vec<Box<dyn Solver>>, SolverError> {
    match cfg.kind {
        BackendKind::Cpu => Ok(vec![Box::new(CpuSolver::new(cfg.params, cfg.threads)?)]),
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu { device } => {
            let opts = crate::backend::wgpu::solver::Options {
                device,
                ..Default::default()
            };
            Ok(vec![Box::new(crate::backend::wgpu::WgpuSolver::new(
                cfg.params, opts,
            )?)])
        }
        #[cfg(not(feature = "wgpu"))]
        BackendKind::Wgpu { .. } => Err(SolverError::Unsupported(
            "this build has no wgpu backend (cargo feature `wgpu`)".into(),
        )),
    }
}

/// Mines until `shutdown` turns true: starts the solver threads and the stratum driver, and
/// returns when both have stopped. Counters go to `acc` as they happen.
///
/// # Errors
/// When the backend cannot be set up.
pub async fn run(
    backend: BackendConfig,
    net: ClientDriverConfig,
    acc: Arc<Mutex<Accounting>>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let instances = solvers(&backend)?;
    let board = Arc::new(WorkBoard::default());
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::unbounded_channel();
    let count = instances.len();
    let mut threads = Vec::new();
    for (i, solver) in instances.into_iter().enumerate() {
        threads.push(scheduler::spawn_worker(
            solver,
            NonceLayout::worker_prefix(i, count),
            board.clone(),
            acc.clone(),
            tx.clone(),
            stop.clone(),
        )?);
    }
    drop(tx);
    run_client(net, board, rx, acc, shutdown).await;
    stop.store(true, Ordering::Relaxed);
    tokio::task::spawn_blocking(move || {
        for t in threads {
            let _ = t.join();
        }
    })
    .await?;
    Ok(())
}

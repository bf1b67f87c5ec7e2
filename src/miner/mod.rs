//! The miner: solver instances behind [`crate::backend::Solver`], the nonce layout, the job
//! scheduler, accounting, and [`run`], which ties them to the stratum driver in [`crate::net`].

pub mod accounting;
pub mod nonce;
pub mod scheduler;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use crate::backend::Solver;
use crate::net::client::{ClientDriverConfig, run_client};
pub use accounting::Accounting;
pub use nonce::NonceLayout;
pub use scheduler::{Candidate, WorkBoard};

/// Mines until `shutdown` turns true: starts one worker thread per solver instance (one per
/// device; each gets its own worker prefix, [`NonceLayout::worker_prefix`]) and the stratum
/// driver, and returns when both have stopped. Counters go to `acc` as they happen. Build the
/// instances with `cli::backend_args::make_solver` (or any [`Solver`]).
///
/// # Errors
/// When a worker thread cannot be started.
pub async fn run(
    instances: Vec<Box<dyn Solver>>,
    net: ClientDriverConfig,
    acc: Arc<Mutex<Accounting>>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
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

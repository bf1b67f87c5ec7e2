//! The test pool's side of stratum, sans I/O: what a real Flux pool (s-nomp, miningcore,
//! magicpool) does with a miner's connection, fed lines and the time by [`crate::net::server`].
//!
//! | module | what |
//! |---|---|
//! | [`submit`] | the `mining.submit` params as received |
//! | [`share`] | the byte-exact share check and its rejects (codes 20–25) |
//! | [`session`] | one connection: subscribe, authorize, jobs, targets, extranonce, submits |
//! | [`jobs`] | the jobs served and the book the sessions read them from |
//! | [`vardiff`] | variable difficulty per connection, retargeted on shares (s-nomp) |
//! | [`stats`] | per-worker counts and Sol/s over a sliding window |

pub mod jobs;
pub mod session;
pub mod share;
pub mod stats;
pub mod submit;
pub mod vardiff;

pub use jobs::{JOBS_KEPT, JobBook, JobSource, PoolJob};
pub use session::{DifficultyMessage, ExtranonceMode, ServerConfig, ServerEvent, ServerSession};
pub use share::{Accepted, NTIME_AHEAD_S, Reject, check_share};
pub use stats::{
    DEFAULT_RATE_WINDOW_MS, Joined, MAX_WORKER_ROWS, OTHER_WORKERS, WorkerStats, WorkerTable,
};
pub use submit::Submit;

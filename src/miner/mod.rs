//! The mining side, sans sockets: the [`Engine`] (job epochs, nonce ranges, submit rules,
//! accounting), the pool [`Failover`] state machine, the solver [`Watchdog`], the nonce layout,
//! and the solver threads that mine what the engine assigns ([`scheduler`]). It imports nothing
//! from `net`: the socket driver in `net::client` feeds the engine, the failover and the
//! watchdog and carries out what they decide.

pub mod accounting;
pub mod engine;
pub mod failover;
pub mod nonce;
pub mod scheduler;
pub mod status;
pub mod watchdog;

pub use accounting::{Accounting, DeviceCounts, PoolShares};
pub use engine::{Assignment, Engine, FoundShare, NonceDone, Output, Report};
pub use failover::{Attempt, End, Failover, FailoverConfig};
pub use nonce::NonceLayout;
pub use scheduler::{WorkBoard, spawn_worker};
pub use watchdog::{Action, Watchdog, WatchdogConfig};

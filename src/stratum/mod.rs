//! Stratum for ZelHash (ZIP 301 and the dialects of real Flux pools, `spec/stratum.md`), with no
//! I/O: both sides of a session are state machines fed lines and the time, returning lines and
//! events. Sockets live in [`crate::net`].
//!
//! | module | what |
//! |---|---|
//! | [`wire`] | JSON-RPC 1.0 lines, error objects and codes 20–25 |
//! | [`job`] | `mining.notify`, header assembly, share hash |
//! | [`difficulty`] | share targets, pool and ccminer difficulty scales |
//! | [`client`] | the miner's session |
//! | [`pool`] | the test pool's side: submits, the byte-exact share check, sessions, jobs, vardiff |
//! | [`templates`] | recorded real headers the test pool serves |
//! | [`hashrate`] | Sol/s from shares with its error bar |
//! | [`url`] | `stratum+tcp://` / `stratum+ssl://` URLs |

pub mod client;
pub mod difficulty;
pub mod hashrate;
pub mod job;
pub mod pool;
pub mod templates;
pub mod url;
pub mod wire;

pub use client::{ClientConfig, ClientSession, Event, MiningJob, SessionError, ShareOutcome};
pub use difficulty::{DifficultyScale, POW_LIMIT};
pub use hashrate::SolRate;
pub use job::Notify;
pub use pool::{PoolJob, Reject, ServerConfig, ServerSession};
pub use url::PoolUrl;
pub use wire::{ErrorCode, Message, RpcError, WireError};

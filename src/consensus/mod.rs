//! Flux light-client consensus core: headers of every era, compact targets and chain work,
//! difficulty retargeting, Proof of Node, subsidy and the coinbase reward split.
//!
//! Pure code: no I/O, no clock, no threads. The node's time, the tip height and previous
//! headers come in as parameters ([`chain::ChainView`], [`chain::Clock`]), so network sync and
//! storage plug in from outside. The rules follow fluxd (RunOnFlux/fluxd, commit 2dfb5046);
//! every consensus function names its source file and lines in a `# Consensus` section, and
//! [`rules`] holds their order.
//!
//! | module | what it is for |
//! |---|---|
//! | [`encode`] | bounds-checked reader, CompactSize, hex |
//! | [`hash`] | SHA256d and the 32-byte hash types; byte order handled here only |
//! | [`units`] | [`Height`], [`Amount`] |
//! | [`target`] | [`CompactTarget`], [`Target`], [`Work`] |
//! | [`params`] | [`NetworkParams`] for mainnet, testnet, regtest |
//! | [`header`] | PoW and PoN headers, block hash |
//! | [`error`] | [`HeaderError`]: one variant per rule |
//! | [`check`] | context-free checks, one function per rule |
//! | [`rules`] | every header rule in fluxd's order, run to the first failure or reported one by one |
//! | [`pon`] | slots, eligibility hash, signatures, emergency blocks |
//! | [`chain`] | [`chain::ChainView`], [`chain::Clock`], [`chain::ChainWindow`], median time past |
//! | [`difficulty`] | required `nBits`: Digishield, LWMA, LWMA3, reset, ramp, PoN |
//! | [`subsidy`] | block subsidy, tier amounts, dev-fund minimum, one-off funds |
//! | [`tx`] | transactions (transparent parts of v1–v4, FluxNode v5/v6), txid, coinbase height |
//! | [`merkle`] | Merkle root, branches |
//! | [`block`] | full blocks, Merkle-root check |
//! | [`reward`] | the coinbase reward split and its violations |
//! | [`validate`] | contextual checks and [`validate::validate_header`] |

pub mod block;
pub mod chain;
pub mod check;
pub mod difficulty;
pub mod encode;
pub mod error;
pub mod hash;
pub mod header;
pub mod merkle;
pub mod params;
pub mod pon;
pub mod reward;
pub mod rules;
pub mod subsidy;
pub mod target;
pub mod tree;
pub mod tx;
pub mod units;
pub mod validate;

pub use error::HeaderError;
pub use hash::{BlockHash, MerkleRoot, TxId};
pub use header::{Header, OutPoint, Proof};
pub use params::NetworkParams;
pub use target::{CompactTarget, Target, Work};
pub use units::{Amount, Height};

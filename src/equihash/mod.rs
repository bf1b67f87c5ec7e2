//! Equihash as Flux uses it: parameters, personalized BLAKE2b with the ZelHash twist, leaf
//! values, minimal encoding and the verifier.
//!
//! This module is pure: no I/O, no threads, no clock. Solvers live in [`crate::backend`] and are
//! all checked against [`is_valid_solution`].
//!
//! # Consensus
//! fluxd `src/crypto/equihash.cpp` and `src/pow.cpp:220-256` (commit 2dfb5046);
//! `spec/flux-consensus.md` §5.

pub mod blake;
pub mod leaves;
pub mod minimal;
pub mod params;
pub mod verify;

pub use minimal::{indices_from_minimal, minimal_from_indices, try_minimal_from_indices};
pub use params::{PERSONALIZATION_ZCASH, PERSONALIZATION_ZEL, Params, ParamsError};
pub use verify::{Error, Kind, is_valid_indices, is_valid_solution};

/// Length of the Equihash input: header bytes 0..108 followed by the 32-byte nonce.
///
/// # Consensus
/// fluxd `CEquihashInput` (`src/primitives/block.h:179-199`, commit 2dfb5046).
pub const INPUT_LEN: usize = 140;

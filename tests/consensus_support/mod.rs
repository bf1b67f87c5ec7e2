//! Shared support for the `consensus_*` integration tests: vector loading and the chain
//! generator.
#![allow(dead_code)]

pub mod chaingen;
pub mod vectors;

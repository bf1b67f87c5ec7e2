//! `fluxminer header`: decode and check Flux block headers without the chain.

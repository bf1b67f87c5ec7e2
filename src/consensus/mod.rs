//! Flux light-client consensus core.

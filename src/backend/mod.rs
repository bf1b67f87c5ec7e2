//! Solver backends.

//! TEMPORARY STUB on branch `consensus` so the crate builds before `main` lands its backend.
//! Replaced by main's module at merge.

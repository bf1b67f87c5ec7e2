//! cargo-fuzz target: [`fluxminer::fuzz::stratum_line`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxminer::fuzz::stratum_line(data));

//! cargo-fuzz target: [`fluxminer::fuzz::header`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxminer::fuzz::header(data));

//! cargo-fuzz target: [`fluxminer::fuzz::transaction`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxminer::fuzz::transaction(data));

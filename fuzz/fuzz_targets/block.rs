//! cargo-fuzz target: [`fluxminer::fuzz::block`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxminer::fuzz::block(data));

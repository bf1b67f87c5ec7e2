//! cargo-fuzz target: [`fluxminer::fuzz::p2p_payload`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxminer::fuzz::p2p_payload(data));

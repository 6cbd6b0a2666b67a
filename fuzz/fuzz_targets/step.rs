//! cargo-fuzz entry point; the checks are in `src/step.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fused_optim_fuzz::step::run(data));

//! cargo-fuzz entry point; the checks are in `src/pipeline.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fused_optim_fuzz::pipeline::run(data));

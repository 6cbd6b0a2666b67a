//! Tells the crate, at compile time, whether the target's FPU has a fused multiply-add that
//! `core` cannot reach on stable Rust: the Cortex-M4F/M7 (`thumbv7em-none-eabihf`, FPv4-SP /
//! FPv5) and Cortex-M33/M55 (`thumbv8m.main-none-eabihf`) FPUs have `vfma.f32`, but their
//! target features cannot be tested with `cfg(target_feature)` on stable, so the target
//! name decides (every `eabihf` variant of these targets has the instruction).
fn main() {
    println!("cargo::rustc-check-cfg=cfg(fused_optim_vfma)");
    let target = std::env::var("TARGET").unwrap_or_default();
    let cortex_m_fpu = (target.starts_with("thumbv7em-") || target.starts_with("thumbv8m.main-"))
        && target.ends_with("eabihf");
    if cortex_m_fpu {
        println!("cargo::rustc-cfg=fused_optim_vfma");
    }
    println!("cargo::rerun-if-changed=build.rs");
}

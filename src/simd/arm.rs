//! The Cortex-M FPU's fused multiply-add (`vfma.f32`), which stable Rust reaches only through
//! `asm!`. Compiled only for the targets whose FPU has it (`build.rs` sets
//! `fused_optim_vfma`: `thumbv7em-none-eabihf`, `thumbv8m.main-none-eabihf`).

#![allow(unsafe_code)]

/// `a · b + c` with one rounding: `vfma.f32` (IEEE fusedMultiplyAdd; the FPU's default
/// mode, which the crate assumes as every float operation does: round to nearest, no flush
/// to zero).
#[inline(always)]
pub(crate) fn vfma(a: f32, b: f32, c: f32) -> f32 {
    let result: u32;
    // SAFETY: `vfma.f32` is an FPv4/FPv5 instruction, present on every target this module is
    // compiled for (build.rs). The operands travel through core registers (stable Rust
    // refuses FPU register operands on these targets, whose FPU it cannot see as a target
    // feature), and the three FPU registers used are saved and restored on the stack, so
    // the block changes nothing but `result` (and the FPSCR's cumulative exception flags).
    unsafe {
        core::arch::asm!(
            "vpush {{s0-s2}}",
            "vmov s0, {a}",
            "vmov s1, {b}",
            "vmov s2, {c}",
            "vfma.f32 s2, s0, s1",
            "vmov {r}, s2",
            "vpop {{s0-s2}}",
            a = in(reg) a.to_bits(),
            b = in(reg) b.to_bits(),
            c = in(reg) c.to_bits(),
            r = lateout(reg) result,
            options(pure, nomem),
        );
    }
    f32::from_bits(result)
}

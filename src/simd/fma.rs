//! The fused multiply-add of the scalar and `wide` lanes: the hardware instruction where the
//! build has one, otherwise a correctly rounded software `fma(a, b, c) = RN(a*b + c)`,
//! bit-identical to IEEE 754's `fusedMultiplyAdd` (round-to-nearest-even) for every non-NaN
//! result, and NaN exactly when IEEE says NaN.
//!
//! Which one runs:
//!
//! | build | scalar lane | `wide` vector lane |
//! |---|---|---|
//! | x86 with `+fma` (or `+avx512f`, which implies it) | `vfmadd` (through `wide`) | `vfmadd` |
//! | aarch64 (NEON) | `fmla` (through `wide`) | `fmla` |
//! | other x86 builds (SSE2 only: the default) | [`fma_f32`] (software, below) | `fma_f32x8` (software, below) |
//! | Cortex-M4F/M7/M33 (`thumbv7em`/`thumbv8m.main` `eabihf`) | `vfma.f32` (`asm!`, `arm.rs`) | (no SIMD: the scalar lane) |
//! | wasm32, others | [`fma_f32`] | `fma_f32x8` on `simd128` |
//!
//! Measured cost of the software forms (a one-off measurement, not a bench kept in the
//! repository; `benches/README.md` has the end-to-end before/after ratios; x86_64, SSE2
//! build, one thread, ns per fused operation over 1024-element arrays): `fma_f32x8` 0.43 (random data; 1.14 on data whose
//! sums are exact, which skips the fast path), the scalar form 1.2 in a loop and 2.2 per
//! call, against 0.13 for an unfused multiply and add and 0.085 for `vfmadd` on AVX2; on
//! wasm32 under node 20, `fma_f32x8` 0.62 with `simd128`. `libm::fmaf` is not used: its
//! software path rounds some subnormal results wrongly (compiler-builtins issue 1262).
//!
//! `no_std`, no allocation, no `unsafe`. Needs only `f64` arithmetic
//! (`*`, `+`, `-` in round-to-nearest, gradual underflow, i.e. no FTZ/DAZ),
//! `f32 <-> f64` casts and 64-bit integer bit operations.
//!
//! # Method
//!
//! 1. `p = a as f64 * b as f64` is **exact**: the significands have 24 bits
//!    each, so the product has at most 48 <= 53 bits, and its magnitude lies in
//!    `[2^-298, 2^256)` (f32 values lie in `[2^-149, 2^128)`), well inside the
//!    f64 normal range `[2^-1022, 2^1024)`. `Inf*0` gives NaN, signs of zero
//!    follow the IEEE product rule, so `p` *is* the exact product, specials
//!    included.
//! 2. `s = p + c` (f64, RN) and its error `e = (p + c) - s` by Knuth's
//!    TwoSum (6 flops, no ordering of `|p|`, `|c|` needed). TwoSum is exact
//!    because nothing can overflow (`|p| + |c| < 2^257`) and RN additions are
//!    exact whenever the result is subnormal anyway.
//! 3. If `e` is nonzero and finite, replace `s` by the round-to-odd value
//!    `RO(x)` of the exact `x = p + c`: truncate toward zero (`bits - 1` if `e`
//!    has the opposite sign to `s`, i.e. `|x| < |s|`; `bits` otherwise) and
//!    set the lowest significand bit (`| 1`).
//! 4. `RO(x) as f32` (RN-even, subnormals, overflow to ±Inf as IEEE; that is
//!    how Rust defines the `as` cast).
//!
//! # Why this is correct in every case
//!
//! *The f64 sum is never subnormal, and is zero only if exact.* `p` is an
//! integer multiple of `2^-298` and `c` of `2^-149`, so `x = p + c` is a
//! multiple of `2^-298`: either `x = 0` (then `s = 0` exactly, `e = 0`) or
//! `|x| >= 2^-298 > 2^-1022`, and then also `|s| >= 2^-298` (RN is monotone and
//! `2^-298` is representable). Hence when `e != 0`, `s` is a finite *normal*
//! nonzero f64, `bits - 1` never wraps through zero or the sign, and
//! `bits + 0 | 1` never reaches the Inf/NaN encodings (`|s| < 2^257`).
//!
//! *The integer step computes round-to-odd exactly, including across binades.*
//! For positive finite f64, `bits` is monotone in the value and consecutive
//! integers are consecutive floats (this holds across binade boundaries:
//! `bits(2^k) - 1` is the largest float below `2^k`, whose significand is
//! all ones). The sign bit only mirrors this. With `e != 0`, `x` lies strictly
//! between two consecutive f64 `lo < x < hi` and `s` is one of them; the
//! truncation `t` (toward zero) is `s` if `|s| < |x|` (same signs of `s` and
//! `e`) else the neighbour one step closer to zero (`bits - 1`). The other
//! bracketing float is `t + 1` (in bits); exactly one of `t`, `t + 1` is odd
//! and `t | 1` picks it (`t | 1 = t` if `t` is odd, `t + 1` if even: setting
//! bit 0 of an even encoding never carries). Binade crossings are harmless:
//! e.g. `s = 2^k` (even) with `x < s` gives `t = bits - 1`, the all-ones
//! significand just below, which is odd and correct. So the result is the member of
//! `{lo, hi}` with an odd last significand bit.
//!
//! *Double rounding through round-to-odd f64 is innocuous* (the classical
//! Boldo–Melquiond result for `53 >= 2*24 + 2`; here a direct argument that
//! also covers f32 subnormals and overflow). The map `y -> RN_f32(y)` is
//! constant on every open interval between consecutive *breakpoints*: the f32
//! values, the midpoints between consecutive f32 values (including
//! `±2^-150`, and `±(2^128 - 2^103)`, beyond which RN gives ±Inf), and 0.
//! Every breakpoint has at most 25 significant bits and magnitude in
//! `[2^-150, 2^128)` (or is 0), so it is an f64 with its last significand bit
//! **even**. If `x` is an f64, `RO(x) = x`. Otherwise `lo < x < hi` with no f64
//! — hence no breakpoint — strictly inside, `RO(x)` is whichever of `lo`, `hi`
//! is odd, hence not a breakpoint either; so `x` and `RO(x)` lie in the same
//! open interval between breakpoints (a breakpoint at the other, even end of
//! `[lo, hi]` is not between them) and `RN_f32(RO(x)) = RN_f32(x)`. That
//! covers ties (an exact f32 midpoint `x` is an f64 and stays exact, and the
//! cast breaks the tie to even like IEEE; an inexact `x` near a midpoint is
//! kept off it by the odd bit), subnormal results (their breakpoints are
//! multiples of `2^-150`, representable and even in f64 because f64 resolves
//! `2^-1074`), and overflow (the threshold `2^128 - 2^103` is even).
//!
//! *Special values.* Any NaN operand or `Inf*0` makes `p` or `s` NaN;
//! `Inf + -Inf` makes `s` NaN; other Inf cases make `s = ±Inf` with the IEEE
//! sign. In all these `e` is NaN, the test `|e| > 0` is false, `s` is passed
//! through unchanged and the cast keeps NaN/Inf. Exact zero results: `s` is
//! the f64 RN sum, which follows the IEEE rule (`+0` unless both addends are
//! `-0`), and `p` carries the exact product's sign; `e = ±0` is not acted on.
//! A nonzero exact result that rounds to zero keeps the sign of `x` (the cast
//! of a tiny `s` with `x`'s sign), as IEEE 754 requires.
//!
//! *NaN payloads* are whatever the f64 operations propagate (IEEE and Rust do
//! not specify which input NaN wins, and hardware `vfmadd*`/`fmadd` differ
//! between forms and ISAs), so only NaN-ness is portable; canonicalise NaNs
//! where bits must match across back-ends.
//!
//! # Vector forms
//!
//! `fma_f32x4/8/16` widen each half to `f64x2/4/8` with lane-wise casts (LLVM
//! emits `cvtps2pd`/`cvtpd2ps` on SSE2; `f64x2.promote_low_f32x4` on wasm
//! simd128, narrowing there is `extract_lane` + `f32.demote_f64`) and run the
//! same sequence on vectors: the inexact mask comes from the float compare
//! `|e| > 0` (no 64-bit integer compare, which SSE2 lacks), the toward-zero
//! step is `((s ^ e) >> 63) & mask`, the odd bit `1 & mask`.
//!
//! *Fast path* (vector forms only): if in every lane the low 28 fraction bits
//! of `s` are not all zero, `s` is returned without TwoSum. Sound because every
//! breakpoint (see above) has at most 25 significant bits, i.e. its low 28 f64
//! fraction bits are zero; so such an `s` is not a breakpoint, `x` is not one
//! either (it would be an f64, hence `= s`), and no breakpoint lies strictly
//! between `x` and `s` (it would be an f64 nearer to `x` than `s = RN(x)`):
//! `RN_f32(s) = RN_f32(x)`. With random mantissas the slow path is taken with
//! probability ~2^-28 per lane; data with exact sums (small integers, zeros,
//! Inf/NaN) takes the branch-free slow path, which costs what the
//! `FAST = false` variant costs plus the test. Both paths give the same f32,
//! so the results are bit-identical to [`fma_f32`] lane by lane (NaN lanes:
//! NaN-ness identical; payloads as for the scalar form).

#[cfg(any(
    target_feature = "sse2",
    target_feature = "simd128",
    all(target_arch = "aarch64", target_feature = "neon")
))]
use super::portable::Vector;

/// Whether the build's target features give `wide` a fused `mul_add` (its docs: x86 with FMA,
/// aarch64 with NEON; elsewhere it multiplies and adds, rounding twice).
macro_rules! with_hardware_fma {
    ($($item:item)*) => {$(
        #[cfg(any(
            all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "fma"),
            all(target_arch = "aarch64", target_feature = "neon")
        ))]
        $item
    )*};
}

macro_rules! without_hardware_fma {
    ($($item:item)*) => {$(
        #[cfg(not(any(
            all(any(target_arch = "x86", target_arch = "x86_64"), target_feature = "fma"),
            all(target_arch = "aarch64", target_feature = "neon")
        )))]
        $item
    )*};
}

/// The correctly rounded square root of one `f32`, through `wide`'s vector square root where
/// the build has one (x86 SSE, wasm simd128, AArch64 NEON: the compiler's own instruction,
/// VEX-encoded in AVX builds), else `libm::sqrtf`. Not `libm::sqrtf` on x86: it is inline
/// assembly of the legacy-SSE `sqrtss`, and mixed into AVX-512 code (a `target-cpu=native`
/// build) each one stalls on the SSE/AVX transition: the scalar Adam ran at 7 Melem/s there.
#[inline(always)]
pub(crate) fn sqrt(x: f32) -> f32 {
    #[cfg(any(
        target_feature = "sse",
        target_feature = "simd128",
        all(target_arch = "aarch64", target_feature = "neon")
    ))]
    return wide::f32x4::splat(x).sqrt().to_array()[0];
    #[cfg(not(any(
        target_feature = "sse",
        target_feature = "simd128",
        all(target_arch = "aarch64", target_feature = "neon")
    )))]
    return libm::sqrtf(x);
}

with_hardware_fma! {
    /// Whether the scalar lane's `mul_add` is a hardware instruction.
    pub(crate) const SCALAR_IN_HARDWARE: bool = true;

    /// Whether the `wide` vector lane's `mul_add` is a hardware instruction.
    pub(crate) const VECTOR_IN_HARDWARE: bool = true;

    /// `a · b + c`, one rounding: the build's FMA instruction.
    #[inline(always)]
    pub(crate) fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        use wide::f32x4;
        f32x4::splat(a).mul_add(f32x4::splat(b), f32x4::splat(c)).to_array()[0]
    }

    /// `a · b + c` lane by lane, one rounding: the build's FMA instruction.
    #[inline(always)]
    pub(crate) fn mul_add_vector(a: Vector, b: Vector, c: Vector) -> Vector {
        a.mul_add(b, c)
    }
}

without_hardware_fma! {
    /// Whether the scalar lane's `mul_add` is a hardware instruction (Cortex-M's `vfma.f32`).
    pub(crate) const SCALAR_IN_HARDWARE: bool = cfg!(fused_optim_vfma);

    /// Whether the `wide` vector lane's `mul_add` is a hardware instruction.
    pub(crate) const VECTOR_IN_HARDWARE: bool = false;

    /// `a · b + c`, one rounding, in software ([`fma_f32`]). Not `libm::fmaf`: its software
    /// path (every target but x86 CPUs with FMA and aarch64) rounds some subnormal results
    /// wrongly (compiler-builtins issue 1262), and on x86 it is an indirect call.
    #[inline(always)]
    pub(crate) fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        #[cfg(fused_optim_vfma)]
        return super::arm::vfma(a, b, c);
        #[cfg(not(fused_optim_vfma))]
        return fma_f32(a, b, c);
    }

    /// `a · b + c` lane by lane, one rounding, in software (the vector is `f32x8`: without
    /// FMA there is no AVX-512 either).
    #[cfg(any(target_feature = "sse2", target_feature = "simd128"))]
    #[inline(always)]
    pub(crate) fn mul_add_vector(a: Vector, b: Vector, c: Vector) -> Vector {
        fma_f32x8(a, b, c)
    }
}

/// The software vector form: compiled where the vector lane needs it, and in tests.
#[cfg(all(
    any(target_feature = "sse2", target_feature = "simd128"),
    any(
        test,
        not(any(
            all(
                any(target_arch = "x86", target_arch = "x86_64"),
                target_feature = "fma"
            ),
            all(target_arch = "aarch64", target_feature = "neon")
        ))
    )
))]
mod software {
    use wide::{f32x8, f64x4, u64x4};

    /// Round-to-odd f64 value of the exact `p*q + z`, where `p*q` must be exact in f64
    /// (true for widened f32 inputs).
    #[inline(always)]
    fn round_to_odd_sum<const FAST: bool>(p: f64x4, q: f64x4, z: f64x4) -> f64x4 {
        let p = p * q; // exact
        let s = p + z;
        let bits = s.to_bits();
        // Fast path: if no lane has its low 28 fraction bits all zero, no lane can be an f32
        // rounding breakpoint and `s` already rounds like `x`. `(bits & 0x0FFF_FFFF) - 1` has
        // its top bit set iff those bits are 0; `any()` tests the top bits.
        if FAST && !((bits & u64x4::splat(0x0FFF_FFFF)) - u64x4::splat(1)).any() {
            return s;
        }
        let bp = s - p;
        let e = (p - (s - bp)) + (z - bp);
        // All-ones lanes where |e| > 0 (false for ±0 and NaN).
        let mask: u64x4 = e.abs().simd_gt(f64x4::ZERO).to_bits();
        let toward_zero: u64x4 = (bits ^ e.to_bits()) >> 63u32;
        let r = (bits - (toward_zero & mask)) | (mask & u64x4::splat(1));
        f64x4::from_bits(r)
    }

    /// Lane-wise correctly rounded `a · b + c` on `f32x8` (two `f64x4` halves); `FAST`
    /// takes the fast path of the module docs (both give the same bits).
    #[inline]
    pub(crate) fn fma_f32x8_with<const FAST: bool>(a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        #[inline(always)]
        fn widen(v: &[f32; 8], off: usize) -> f64x4 {
            f64x4::new(core::array::from_fn(|i| f64::from(v[off + i])))
        }
        let (a, b, c) = (a.to_array(), b.to_array(), c.to_array());
        let lo = round_to_odd_sum::<FAST>(widen(&a, 0), widen(&b, 0), widen(&c, 0)).to_array();
        let hi = round_to_odd_sum::<FAST>(widen(&a, 4), widen(&b, 4), widen(&c, 4)).to_array();
        f32x8::new(core::array::from_fn(|i| {
            if i < 4 {
                lo[i] as f32
            } else {
                hi[i - 4] as f32
            }
        }))
    }

    /// Lane-wise correctly rounded `a · b + c` on `f32x8`.
    #[inline]
    pub(crate) fn fma_f32x8(a: f32x8, b: f32x8, c: f32x8) -> f32x8 {
        fma_f32x8_with::<true>(a, b, c)
    }
}

#[cfg(all(
    any(target_feature = "sse2", target_feature = "simd128"),
    not(any(
        all(
            any(target_arch = "x86", target_arch = "x86_64"),
            target_feature = "fma"
        ),
        all(target_arch = "aarch64", target_feature = "neon")
    ))
))]
use software::fma_f32x8;

/// The scalar software form: the scalar lane's FMA where the build has no FMA instruction,
/// and the reference the vector form is tested against.
#[cfg_attr(
    any(
        all(
            any(target_arch = "x86", target_arch = "x86_64"),
            target_feature = "fma"
        ),
        all(target_arch = "aarch64", target_feature = "neon"),
        fused_optim_vfma
    ),
    allow(dead_code)
)]
/// Correctly rounded `RN(a*b + c)` in f32 (IEEE 754 `fusedMultiplyAdd`,
/// round-to-nearest-even), computed in f64 with a round-to-odd correction.
#[inline]
fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    let p = a as f64 * b as f64; // exact
    let z = c as f64;
    let s = p + z;
    // TwoSum: e = (p + z) - s exactly.
    let bp = s - p;
    let e = (p - (s - bp)) + (z - bp);
    let bits = s.to_bits();
    // `|e| > 0` is false for ±0 and for NaN (s = ±Inf / NaN).
    let inexact = e.abs() > 0.0;
    let mask = (inexact as u64).wrapping_neg(); // all ones or zero
    // 1 iff e and s have opposite signs, i.e. |x| < |s|: step toward zero.
    let toward_zero = (bits ^ e.to_bits()) >> 63;
    let r = bits.wrapping_sub(toward_zero & mask) | (mask & 1);
    f64::from_bits(r) as f32
}

#[cfg(test)]
#[path = "fma_tests.rs"]
mod tests;

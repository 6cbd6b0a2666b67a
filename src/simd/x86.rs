//! Run-time dispatch on x86_64 (with `std`): the generic walk compiled for AVX2 and AVX-512.
//!
//! `wide` fixes its instructions when it is compiled, so a default x86_64 build gets only
//! SSE2 from it. This module adds two lane types written with `core::arch` intrinsics,
//! [`Avx2`] (`__m256`) and [`Avx512`] (`__m512`), and two entry points compiled with
//! `#[target_feature]` that run the same generic walk and updates on them. The CPU is
//! queried with `is_x86_feature_detected!` (cached by `std`), so dispatch costs a load and a
//! branch per step.
//!
//! Every operation is the IEEE operation the scalar lane performs (`vaddps`, `vsqrtps`, ...,
//! no FMA), and `max` is built from comparisons to match the scalar definition, so the bits
//! are the scalar path's.
//!
//! # Safety
//!
//! This is the only module with `unsafe`. The intrinsics require their target feature, and
//! the lane methods are not compiled with it (trait methods cannot be). The invariant that
//! makes every call sound: **a value of [`Avx2`] or [`Avx512`] exists only inside
//! `walk_avx2_unchecked` / `walk_avx512_unchecked`**, which are called only after the CPU was
//! found to support their feature. Both types are private to this module and appear nowhere
//! else, so no other code can create one.

#![allow(unsafe_code)]

use core::arch::x86_64::*;
use core::ops::{Add, Div, Mul, Neg, Sub};

use super::{Lane, Update, portable, walk};

/// Whether this CPU (and OS) supports the AVX-512 foundation instructions.
pub(crate) fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
}

/// Whether this CPU (and OS) supports AVX2.
pub(crate) fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
}

/// Eight `f32` in a 256-bit AVX register. Exists only where AVX2 was detected (module docs).
#[derive(Clone, Copy)]
pub(crate) struct Avx2(__m256);

/// Sixteen `f32` in a 512-bit AVX-512 register. Exists only where AVX-512F was detected.
#[derive(Clone, Copy)]
pub(crate) struct Avx512(__m512);

/// Implements an operator trait with one intrinsic.
macro_rules! binary {
    ($ty:ident: $($trait:ident $method:ident $intrinsic:ident),*) => {$(
        impl $trait for $ty {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                // SAFETY: a value of this type proves the CPU has the intrinsic's feature.
                $ty(unsafe { $intrinsic(self.0, rhs.0) })
            }
        }
    )*};
}

binary!(Avx2: Add add _mm256_add_ps, Sub sub _mm256_sub_ps, Mul mul _mm256_mul_ps,
    Div div _mm256_div_ps);
binary!(Avx512: Add add _mm512_add_ps, Sub sub _mm512_sub_ps, Mul mul _mm512_mul_ps,
    Div div _mm512_div_ps);

impl Neg for Avx2 {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX2.
        Avx2(unsafe { _mm256_xor_ps(self.0, _mm256_set1_ps(-0.0)) })
    }
}

impl Neg for Avx512 {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX-512F.
        Avx512(unsafe {
            let sign = _mm512_set1_epi32(i32::MIN);
            _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(self.0), sign))
        })
    }
}

impl Lane for Avx2 {
    const LANES: usize = 8;

    /// All-ones lanes where true.
    type Mask = __m256;

    #[inline(always)]
    fn lt(self, rhs: Self) -> __m256 {
        // SAFETY: a value of this type proves the CPU has AVX2.
        unsafe { _mm256_cmp_ps::<_CMP_LT_OQ>(self.0, rhs.0) }
    }

    #[inline(always)]
    fn gt(self, rhs: Self) -> __m256 {
        // SAFETY: a value of this type proves the CPU has AVX2.
        unsafe { _mm256_cmp_ps::<_CMP_GT_OQ>(self.0, rhs.0) }
    }

    #[inline(always)]
    fn select(mask: __m256, if_true: Self, if_false: Self) -> Self {
        // SAFETY: the operands are values of this type, which prove the CPU has AVX2.
        Avx2(unsafe { _mm256_blendv_ps(if_false.0, if_true.0, mask) })
    }

    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX2.
        Avx2(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0) })
    }

    #[inline(always)]
    fn min(self, rhs: Self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX2.
        Avx2(unsafe {
            let nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(rhs.0, rhs.0);
            let less = _mm256_cmp_ps::<_CMP_LT_OQ>(rhs.0, self.0);
            _mm256_blendv_ps(self.0, rhs.0, _mm256_or_ps(nan, less))
        })
    }

    #[inline(always)]
    fn splat(x: f32) -> Self {
        // SAFETY: only called where AVX2 was detected (module docs).
        Avx2(unsafe { _mm256_set1_ps(x) })
    }

    #[inline(always)]
    fn prefetch(address: *const f32) {
        // SAFETY: `prefetcht0` (SSE, part of x86_64) never faults and never reads for the
        // program, whatever the address; the pointer is not dereferenced.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) }
    }

    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        let src = &src[..Self::LANES];
        // SAFETY: `src` holds 8 readable floats (the slice above is bounds-checked);
        // `loadu` has no alignment requirement; AVX2 was detected (module docs).
        Avx2(unsafe { _mm256_loadu_ps(src.as_ptr()) })
    }

    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        let dst = &mut dst[..Self::LANES];
        // SAFETY: `dst` holds 8 writable floats, borrowed exclusively; `storeu` has no
        // alignment requirement; AVX2 was detected (module docs).
        unsafe { _mm256_storeu_ps(dst.as_mut_ptr(), self.0) }
    }

    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX2.
        Avx2(unsafe { _mm256_sqrt_ps(self.0) })
    }

    #[inline(always)]
    fn max(self, rhs: Self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX2.
        Avx2(unsafe {
            let nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(rhs.0, rhs.0);
            let less = _mm256_cmp_ps::<_CMP_LT_OQ>(self.0, rhs.0);
            _mm256_blendv_ps(self.0, rhs.0, _mm256_or_ps(nan, less))
        })
    }
}

impl Lane for Avx512 {
    const LANES: usize = 16;

    /// One bit per lane.
    type Mask = __mmask16;

    #[inline(always)]
    fn lt(self, rhs: Self) -> __mmask16 {
        // SAFETY: a value of this type proves the CPU has AVX-512F.
        unsafe { _mm512_cmp_ps_mask::<_CMP_LT_OQ>(self.0, rhs.0) }
    }

    #[inline(always)]
    fn gt(self, rhs: Self) -> __mmask16 {
        // SAFETY: a value of this type proves the CPU has AVX-512F.
        unsafe { _mm512_cmp_ps_mask::<_CMP_GT_OQ>(self.0, rhs.0) }
    }

    #[inline(always)]
    fn select(mask: __mmask16, if_true: Self, if_false: Self) -> Self {
        // SAFETY: the operands are values of this type, which prove the CPU has AVX-512F.
        Avx512(unsafe { _mm512_mask_blend_ps(mask, if_false.0, if_true.0) })
    }

    #[inline(always)]
    fn abs(self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX-512F.
        Avx512(unsafe { _mm512_abs_ps(self.0) })
    }

    #[inline(always)]
    fn min(self, rhs: Self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX-512F.
        Avx512(unsafe {
            let take_rhs = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(rhs.0, rhs.0)
                | _mm512_cmp_ps_mask::<_CMP_LT_OQ>(rhs.0, self.0);
            _mm512_mask_blend_ps(take_rhs, self.0, rhs.0)
        })
    }

    #[inline(always)]
    fn splat(x: f32) -> Self {
        // SAFETY: only called where AVX-512F was detected (module docs).
        Avx512(unsafe { _mm512_set1_ps(x) })
    }

    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        let src = &src[..Self::LANES];
        // SAFETY: `src` holds 16 readable floats (the slice above is bounds-checked);
        // `loadu` has no alignment requirement; AVX-512F was detected (module docs).
        Avx512(unsafe { _mm512_loadu_ps(src.as_ptr()) })
    }

    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        let dst = &mut dst[..Self::LANES];
        // SAFETY: `dst` holds 16 writable floats, borrowed exclusively; `storeu` has no
        // alignment requirement; AVX-512F was detected (module docs).
        unsafe { _mm512_storeu_ps(dst.as_mut_ptr(), self.0) }
    }

    #[inline(always)]
    fn prefetch(address: *const f32) {
        // SAFETY: `prefetcht0` (SSE, part of x86_64) never faults and never reads for the
        // program, whatever the address; the pointer is not dereferenced.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) }
    }

    #[inline(always)]
    fn sqrt(self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX-512F.
        Avx512(unsafe { _mm512_sqrt_ps(self.0) })
    }

    #[inline(always)]
    fn max(self, rhs: Self) -> Self {
        // SAFETY: a value of this type proves the CPU has AVX-512F.
        Avx512(unsafe {
            let take_rhs = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(rhs.0, rhs.0)
                | _mm512_cmp_ps_mask::<_CMP_LT_OQ>(self.0, rhs.0);
            _mm512_mask_blend_ps(take_rhs, self.0, rhs.0)
        })
    }
}

#[target_feature(enable = "avx512f")]
fn walk_avx512_unchecked<U: Update, const K: usize>(
    update: &U,
    params: &mut [f32],
    grads: &[f32],
    state: [&mut [f32]; K],
) {
    walk::<Avx512, U, K>(update, params, grads, state);
}

#[target_feature(enable = "avx2")]
fn walk_avx2_unchecked<U: Update, const K: usize>(
    update: &U,
    params: &mut [f32],
    grads: &[f32],
    state: [&mut [f32]; K],
) {
    walk::<Avx2, U, K>(update, params, grads, state);
}

/// The walk on AVX-512 lanes (on the portable lanes if the CPU lacks AVX-512F, which gives
/// the same bits, only slower).
#[inline]
pub(crate) fn walk_avx512<U: Update, const K: usize>(
    update: &U,
    params: &mut [f32],
    grads: &[f32],
    state: [&mut [f32]; K],
) {
    if has_avx512() {
        // SAFETY: the CPU supports avx512f (checked just above), the only target feature
        // `walk_avx512_unchecked` is compiled for.
        unsafe { walk_avx512_unchecked(update, params, grads, state) }
    } else {
        walk::<portable::Vector, U, K>(update, params, grads, state)
    }
}

/// The walk on AVX2 lanes (on the portable lanes if the CPU lacks AVX2).
#[inline]
pub(crate) fn walk_avx2<U: Update, const K: usize>(
    update: &U,
    params: &mut [f32],
    grads: &[f32],
    state: [&mut [f32]; K],
) {
    if has_avx2() {
        // SAFETY: the CPU supports avx2 (checked just above), the only target feature
        // `walk_avx2_unchecked` is compiled for.
        unsafe { walk_avx2_unchecked(update, params, grads, state) }
    } else {
        walk::<portable::Vector, U, K>(update, params, grads, state)
    }
}

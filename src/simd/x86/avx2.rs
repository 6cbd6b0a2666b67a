//! The Avx2 lane, [`Avx2`] (`__m256`), and the walk compiled for AVX2.
//!
//! # The invariant
//!
//! A value of [`Avx2`] proves that the CPU supports AVX2 and FMA: every intrinsic of its methods
//! relies on it. It is enforced here, by visibility: the type is private to this file, and the
//! only code that creates one is the generic walk inside [`walk`], an `unsafe fn` compiled
//! with `#[target_feature]` whose contract is that the CPU has AVX2 and FMA. Nothing outside this
//! file can name the type, so nothing outside can make a value of it.

#![allow(unsafe_code)]

use core::arch::x86_64::*;
use core::ops::{Add, Div, Mul, Neg, Sub};

use super::super::{Lane, Update, walk as generic_walk};
use super::lane;

/// Eight `f32` in a __m256 register. Exists only where AVX2 and FMA were detected (file docs).
#[derive(Clone, Copy)]
struct Avx2(__m256);

lane!(Avx2(__m256), 8 lanes, mask __m256, "avx2":
    add _mm256_add_ps, sub _mm256_sub_ps, mul _mm256_mul_ps, div _mm256_div_ps,
    sqrt _mm256_sqrt_ps, fmadd _mm256_fmadd_ps, set1 _mm256_set1_ps, loadu _mm256_loadu_ps,
    storeu _mm256_storeu_ps, cmp _mm256_cmp_ps);

/// The operations whose instructions are particular to AVX2 (all-ones lanes as masks).
impl Avx2 {
    #[inline(always)]
    fn negate(self) -> Self {
        // SAFETY: `self` proves the CPU has AVX2 (file docs).
        Avx2(unsafe { _mm256_xor_ps(self.0, _mm256_set1_ps(-0.0)) })
    }

    #[inline(always)]
    fn abs_value(self) -> Self {
        // SAFETY: `self` proves the CPU has AVX2 (file docs).
        Avx2(unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), self.0) })
    }

    #[inline(always)]
    fn blend(mask: __m256, if_true: Self, if_false: Self) -> Self {
        // SAFETY: the operands prove the CPU has AVX2 (file docs).
        Avx2(unsafe { _mm256_blendv_ps(if_false.0, if_true.0, mask) })
    }

    #[inline(always)]
    fn or_masks(a: __m256, b: __m256) -> __m256 {
        // SAFETY: masks are made by comparisons of values that prove the CPU has AVX2.
        unsafe { _mm256_or_ps(a, b) }
    }
}

/// The generic walk on AVX2 lanes.
///
/// # Safety
///
/// The CPU must support AVX2 and FMA (`is_x86_feature_detected!` of both).
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn walk<U: Update, const K: usize>(
    update: &U,
    params: &mut [f32],
    grads: &[f32],
    state: [&mut [f32]; K],
) {
    generic_walk::<Avx2, U, K>(update, params, grads, state);
}

/// Lanes of [`Avx2`].
pub(super) const LANES: usize = <Avx2 as Lane>::LANES;

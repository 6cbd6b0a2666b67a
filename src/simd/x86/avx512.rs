//! The Avx512 lane, [`Avx512`] (`__m512`), and the walk compiled for AVX-512F.
//!
//! # The invariant
//!
//! A value of [`Avx512`] proves that the CPU supports AVX-512F: every intrinsic of its methods
//! relies on it. It is enforced here, by visibility: the type is private to this file, and the
//! only code that creates one is the generic walk inside [`walk`], an `unsafe fn` compiled
//! with `#[target_feature]` whose contract is that the CPU has AVX-512F. Nothing outside this
//! file can name the type, so nothing outside can make a value of it.

#![allow(unsafe_code)]

use core::arch::x86_64::*;
use core::ops::{Add, Div, Mul, Neg, Sub};

use super::super::{Lane, Update, walk as generic_walk};
use super::lane;

/// Sixteen `f32` in a __m512 register. Exists only where AVX-512F was detected (file docs).
#[derive(Clone, Copy)]
struct Avx512(__m512);

lane!(Avx512(__m512), 16 lanes, mask __mmask16, "avx512f":
    add _mm512_add_ps, sub _mm512_sub_ps, mul _mm512_mul_ps, div _mm512_div_ps,
    sqrt _mm512_sqrt_ps, fmadd _mm512_fmadd_ps, set1 _mm512_set1_ps, loadu _mm512_loadu_ps,
    storeu _mm512_storeu_ps, cmp _mm512_cmp_ps_mask);

/// The operations whose instructions are particular to AVX-512F (one mask bit per lane).
impl Avx512 {
    #[inline(always)]
    fn negate(self) -> Self {
        // SAFETY: `self` proves the CPU has AVX-512F (file docs).
        Avx512(unsafe {
            let sign = _mm512_set1_epi32(i32::MIN);
            _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(self.0), sign))
        })
    }

    #[inline(always)]
    fn abs_value(self) -> Self {
        // SAFETY: `self` proves the CPU has AVX-512F (file docs).
        Avx512(unsafe { _mm512_abs_ps(self.0) })
    }

    #[inline(always)]
    fn blend(mask: __mmask16, if_true: Self, if_false: Self) -> Self {
        // SAFETY: the operands prove the CPU has AVX-512F (file docs).
        Avx512(unsafe { _mm512_mask_blend_ps(mask, if_false.0, if_true.0) })
    }

    #[inline(always)]
    fn or_masks(a: __mmask16, b: __mmask16) -> __mmask16 {
        a | b
    }
}

/// The generic walk on AVX-512 lanes.
///
/// # Safety
///
/// The CPU must support AVX-512F (`is_x86_feature_detected!("avx512f")`).
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn walk<U: Update, const K: usize>(
    update: &U,
    params: &mut [f32],
    grads: &[f32],
    state: [&mut [f32]; K],
) {
    generic_walk::<Avx512, U, K>(update, params, grads, state);
}

/// Lanes of [`Avx512`].
pub(super) const LANES: usize = <Avx512 as Lane>::LANES;

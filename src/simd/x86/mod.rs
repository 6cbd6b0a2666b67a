//! Run-time dispatch on x86_64 (with `std`): the generic walk compiled for AVX2 and AVX-512.
//!
//! `wide` fixes its instructions when it is compiled, so a default x86_64 build gets only
//! SSE2 from it. This module adds two lane types written with `core::arch` intrinsics, one
//! per file ([`avx2`]: `__m256`, [`avx512`]: `__m512`), each with an entry point compiled with
//! `#[target_feature]` that runs the same generic walk and updates on it. The CPU is queried
//! with `is_x86_feature_detected!` (cached by `std`), so dispatch costs a load and a branch
//! per step.
//!
//! Every operation is the IEEE operation the scalar lane performs (`vaddps`, `vsqrtps`, ...),
//! and `max`/`min` are built from comparisons to match the scalar definition, so the bits are
//! the scalar path's.
//!
//! # Safety
//!
//! This module and its two files are the only code with `unsafe`. The intrinsics require
//! their target feature, and the lane methods are not compiled with it (trait methods cannot
//! be). What makes every call sound is that a lane value exists only on a CPU with its
//! feature; each file enforces that for its type (its module docs say how): the types are
//! private to their files and are created only inside the `unsafe` `#[target_feature]`
//! walk, which the safe functions below call only after detecting the feature.

#![allow(unsafe_code)]

mod avx2;
mod avx512;

use super::{Update, portable, walk};

/// Lanes of the AVX2 back-end.
pub(crate) const AVX2_LANES: usize = avx2::LANES;

/// Lanes of the AVX-512 back-end.
pub(crate) const AVX512_LANES: usize = avx512::LANES;

/// Whether this CPU (and OS) supports the AVX-512 foundation instructions.
pub(crate) fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
}

/// Whether this CPU (and OS) supports AVX2 and FMA (the AVX2 back-end uses both; every CPU
/// with AVX2 sold so far has FMA too).
pub(crate) fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// Implements the operators and the [`Lane`](super::Lane) methods that are one intrinsic each
/// for an x86 lane type; the type's own file adds `negate`, `blend`, `or_masks` and
/// `abs_value` (the operations whose instructions differ between AVX2 and AVX-512F).
///
/// Every generated method relies on the invariant of the type's file: a value of the type (or,
/// for `splat`, `load` and `is_nan`'s callers, the walk running at all) proves the CPU has
/// the type's feature.
macro_rules! lane {
    (
        $ty:ident($register:ty), $lanes:literal lanes, mask $mask:ty, $feature:literal:
        add $add:ident, sub $sub:ident, mul $mul:ident, div $div:ident, sqrt $sqrt:ident,
        fmadd $fmadd:ident,
        set1 $set1:ident, loadu $loadu:ident, storeu $storeu:ident, cmp $cmp:ident
    ) => {
        lane!(@binary $ty, $feature: Add add $add, Sub sub $sub, Mul mul $mul, Div div $div);

        impl Neg for $ty {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                self.negate()
            }
        }

        impl Lane for $ty {
            const LANES: usize = $lanes;

            // Both x86 back-ends require FMA3 (AVX2's check asks for `fma` as well).
            const HARDWARE_FMA: bool = true;

            type Mask = $mask;

            #[inline(always)]
            fn splat(x: f32) -> Self {
                // SAFETY: only the walk makes values of this type, on a CPU with the type's
                // feature (file docs).
                $ty(unsafe { $set1(x) })
            }

            #[inline(always)]
            fn load(src: &[f32]) -> Self {
                let src = &src[..$lanes];
                // SAFETY: `src` holds LANES readable floats (the slice above is
                // bounds-checked); `loadu` has no alignment requirement; only the walk, on a
                // CPU with the type's feature, loads values of this type (file docs).
                $ty(unsafe { $loadu(src.as_ptr()) })
            }

            #[inline(always)]
            fn store(self, dst: &mut [f32]) {
                let dst = &mut dst[..$lanes];
                // SAFETY: `dst` holds LANES writable floats, borrowed exclusively; `storeu`
                // has no alignment requirement; `self` proves the CPU has the feature.
                unsafe { $storeu(dst.as_mut_ptr(), self.0) }
            }

            #[inline(always)]
            fn sqrt(self) -> Self {
                // SAFETY: `self` proves the CPU has the type's feature (file docs).
                $ty(unsafe { $sqrt(self.0) })
            }

            #[inline(always)]
            fn mul_add(self, b: Self, c: Self) -> Self {
                // SAFETY: `self` proves the CPU has the type's feature, FMA included (file
                // docs).
                $ty(unsafe { $fmadd(self.0, b.0, c.0) })
            }

            #[inline(always)]
            fn lt(self, rhs: Self) -> $mask {
                // SAFETY: `self` proves the CPU has the type's feature (file docs).
                unsafe { $cmp::<_CMP_LT_OQ>(self.0, rhs.0) }
            }

            #[inline(always)]
            fn gt(self, rhs: Self) -> $mask {
                // SAFETY: `self` proves the CPU has the type's feature (file docs).
                unsafe { $cmp::<_CMP_GT_OQ>(self.0, rhs.0) }
            }

            #[inline(always)]
            fn is_nan(self) -> $mask {
                // SAFETY: `self` proves the CPU has the type's feature (file docs).
                unsafe { $cmp::<_CMP_UNORD_Q>(self.0, self.0) }
            }

            #[inline(always)]
            fn or(a: $mask, b: $mask) -> $mask {
                Self::or_masks(a, b)
            }

            #[inline(always)]
            fn select(mask: $mask, if_true: Self, if_false: Self) -> Self {
                Self::blend(mask, if_true, if_false)
            }

            #[inline(always)]
            fn abs(self) -> Self {
                self.abs_value()
            }

            #[inline(always)]
            fn prefetch(address: *const f32) {
                // SAFETY: `prefetcht0` (SSE, part of x86_64) never faults and never reads for
                // the program, whatever the address; the pointer is not dereferenced.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) }
            }
        }
    };
    (@binary $ty:ident, $feature:literal: $($trait:ident $method:ident $intrinsic:ident),*) => {$(
        impl $trait for $ty {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                // SAFETY: `self` proves the CPU has the type's feature (file docs).
                $ty(unsafe { $intrinsic(self.0, rhs.0) })
            }
        }
    )*};
}
use lane;

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
        // `avx512::walk` is compiled for and requires.
        unsafe { avx512::walk(update, params, grads, state) }
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
        // SAFETY: the CPU supports avx2 and fma (checked just above), the only target
        // features `avx2::walk` is compiled for and requires.
        unsafe { avx2::walk(update, params, grads, state) }
    } else {
        walk::<portable::Vector, U, K>(update, params, grads, state)
    }
}

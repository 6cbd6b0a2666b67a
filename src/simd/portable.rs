//! The `wide` vector lane, with the instruction set chosen at compile time.
//!
//! `wide` picks its instructions from the build's target features: `f32x16` is one AVX-512
//! register when `avx512f` is enabled, `f32x8` one AVX register with `avx`, and otherwise pairs
//! of SSE2 / NEON / simd128 registers. On targets where `wide` has no SIMD at all (Cortex-M,
//! wasm without simd128) its types are plain arrays whose `sqrt` is a software routine, so
//! there the "vector" lane is simply the scalar `f32` lane.

#[cfg(any(
    target_feature = "sse2",
    target_feature = "simd128",
    all(target_arch = "aarch64", target_feature = "neon")
))]
mod vector {
    use super::super::Lane;

    /// The widest `wide` vector the build enables.
    #[cfg(target_feature = "avx512f")]
    pub(crate) type Vector = wide::f32x16;
    /// The widest `wide` vector the build enables.
    #[cfg(not(target_feature = "avx512f"))]
    pub(crate) type Vector = wide::f32x8;

    const N: usize = core::mem::size_of::<Vector>() / 4;

    impl Lane for Vector {
        const LANES: usize = N;

        const HARDWARE_FMA: bool = super::super::fma::VECTOR_IN_HARDWARE;

        #[inline(always)]
        fn splat(x: f32) -> Self {
            Vector::splat(x)
        }

        #[inline(always)]
        fn load(src: &[f32]) -> Self {
            let array: &[f32; N] = src[..N].try_into().expect("a full vector is in range");
            Vector::from(*array)
        }

        #[inline(always)]
        fn store(self, dst: &mut [f32]) {
            dst[..N].copy_from_slice(&self.to_array());
        }

        #[inline(always)]
        fn sqrt(self) -> Self {
            Vector::sqrt(self)
        }

        #[inline(always)]
        fn mul_add(self, b: Self, c: Self) -> Self {
            super::super::fma::mul_add_vector(self, b, c)
        }

        /// All-ones lanes where true, as `wide`'s comparisons return.
        type Mask = Vector;

        #[inline(always)]
        fn lt(self, rhs: Self) -> Vector {
            self.simd_lt(rhs)
        }

        #[inline(always)]
        fn gt(self, rhs: Self) -> Vector {
            self.simd_gt(rhs)
        }

        #[inline(always)]
        fn select(mask: Vector, if_true: Self, if_false: Self) -> Self {
            mask.select(if_true, if_false)
        }

        #[inline(always)]
        fn abs(self) -> Self {
            Vector::abs(self)
        }

        #[inline(always)]
        fn is_nan(self) -> Vector {
            Vector::is_nan(self)
        }

        #[inline(always)]
        fn or(a: Vector, b: Vector) -> Vector {
            a | b
        }
    }
}

#[cfg(not(any(
    target_feature = "sse2",
    target_feature = "simd128",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
mod vector {
    /// No SIMD on this target: the scalar lane.
    pub(crate) type Vector = f32;
}

pub(crate) use vector::Vector;

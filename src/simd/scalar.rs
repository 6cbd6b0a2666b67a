//! The one-element lane: the reference every vector lane must match bit for bit.

use super::Lane;

impl Lane for f32 {
    const LANES: usize = 1;

    const HARDWARE_FMA: bool = super::fma::SCALAR_IN_HARDWARE;

    #[inline(always)]
    fn splat(x: f32) -> Self {
        x
    }

    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        src[0]
    }

    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        dst[0] = self;
    }

    #[inline(always)]
    fn sqrt(self) -> Self {
        super::fma::sqrt(self)
    }

    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        super::fma::mul_add(self, b, c)
    }

    type Mask = bool;

    #[inline(always)]
    fn lt(self, rhs: Self) -> bool {
        self < rhs
    }

    #[inline(always)]
    fn gt(self, rhs: Self) -> bool {
        self > rhs
    }

    #[inline(always)]
    fn select(mask: bool, if_true: Self, if_false: Self) -> Self {
        if mask { if_true } else { if_false }
    }

    #[inline(always)]
    fn abs(self) -> Self {
        f32::from_bits(self.to_bits() & 0x7fff_ffff)
    }

    #[inline(always)]
    fn is_nan(self) -> bool {
        self.is_nan()
    }

    #[inline(always)]
    fn or(a: bool, b: bool) -> bool {
        a | b
    }
}

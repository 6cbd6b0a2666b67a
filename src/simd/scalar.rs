//! The one-element lane: the reference every vector lane must match bit for bit.

use super::Lane;

impl Lane for f32 {
    const LANES: usize = 1;

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
        libm::sqrtf(self)
    }

    #[inline(always)]
    fn max(self, rhs: Self) -> Self {
        if rhs.is_nan() || self < rhs {
            rhs
        } else {
            self
        }
    }
}

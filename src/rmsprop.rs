//! RMSprop, plain or centered, with optional momentum and L2 weight decay.

use crate::optimizer::{
    self, GradIn, Lerp, Optimizer, Prescale, f32_of, flag, non_negative, sealed, specialize,
};
use crate::simd::{self, Lane, Update};
use crate::{Backend, Error};

/// RMSprop, as `torch.optim.RMSprop`.
///
/// For each element, with gradient `g`, parameter `p`, square average `v`, gradient average
/// `a` (centered) and momentum buffer `b`:
///
/// ```text
/// g ← −g                                     if maximize
/// g ← g + weight_decay · p                   if weight_decay ≠ 0
/// v ← alpha · v + ((1 − alpha) · g) · g
/// if centered:
///     a ← lerp(a, g, 1 − alpha)              (= alpha · a + (1 − alpha) · g)
///     d = √(v − a · a) + eps
/// else:
///     d = √v + eps
/// if momentum > 0:
///     b ← momentum · b + g / d
///     p ← p − lr · b
/// else:
///     p ← p + (−lr · g) / d
/// ```
///
/// State, in this order: `"square_avg"`, then `"momentum_buffer"` if `momentum > 0`, then
/// `"grad_avg"` if `centered`; all start at 0. `eps` is added outside the square root
/// (PyTorch; optax's `rmsprop` adds it inside and defaults `decay` to 0.9).
///
/// ```
/// use fused_optim::{Optimizer, RmsProp};
///
/// let rmsprop = RmsProp { lr: 0.1, alpha: 0.75, eps: 0.0, ..RmsProp::default() };
/// let mut p = [1.0_f32];
/// let mut square_avg = [0.0_f32];
/// rmsprop.step(1, &mut p, &[2.0], &mut square_avg)?; // v = 0.25·4 = 1, p = 1 − 0.1·2/1
/// assert_eq!((p[0], square_avg[0]), (0.8, 1.0));
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsProp {
    /// Learning rate (default `1e-2`).
    pub lr: f64,
    /// Smoothing constant of the square average (default `0.99`).
    pub alpha: f64,
    /// Added to the denominator, outside the square root (default `1e-8`).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor (default 0: no momentum buffer).
    pub momentum: f64,
    /// Normalise by the estimated variance `v − a²` instead of `v` (default `false`).
    pub centered: bool,
    /// Maximize the objective instead of minimizing it (default `false`).
    pub maximize: bool,
}

impl Default for RmsProp {
    fn default() -> Self {
        RmsProp {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

const MOMENTUM: u8 = 1;
const CENTERED: u8 = 2;
const L2: u8 = 4;
const LERP_HIGH: u8 = 8;

struct RmsPropStep<const F: u8> {
    grad: GradIn,
    weight_decay: f32,
    alpha: f32,
    one_minus_alpha: f32,
    grad_avg: Lerp,
    eps: f32,
    momentum: f32,
    neg_lr: f32,
}

impl<const F: u8> Update for RmsPropStep<F> {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let mut g = self.grad.apply(g);
        if F & L2 != 0 {
            g = g + L::splat(self.weight_decay) * p;
        }
        let v = state[0] * L::splat(self.alpha) + (L::splat(self.one_minus_alpha) * g) * g;
        state[0] = v;
        let avg = if F & CENTERED != 0 {
            let i = 1 + (F & MOMENTUM != 0) as usize;
            let a = self.grad_avg.apply(state[i], g, F & LERP_HIGH != 0);
            state[i] = a;
            (v - a * a).sqrt()
        } else {
            v.sqrt()
        };
        let avg = avg + L::splat(self.eps);
        if F & MOMENTUM != 0 {
            let buf = state[1] * L::splat(self.momentum) + g / avg;
            state[1] = buf;
            p + L::splat(self.neg_lr) * buf
        } else {
            p + (L::splat(self.neg_lr) * g) / avg
        }
    }
}

impl sealed::Apply for RmsProp {
    fn apply(
        &self,
        backend: Backend,
        _t: u64,
        prescale: Prescale,
        params: &mut [f32],
        grads: &[f32],
        planes: &mut [&mut [f32]],
    ) {
        let grad_avg = Lerp::new(1.0 - self.alpha);
        let flags = flag(self.momentum > 0.0, MOMENTUM)
            | flag(self.centered, CENTERED)
            | flag(self.weight_decay != 0.0, L2)
            | flag(self.centered && grad_avg.is_high(), LERP_HIGH);
        specialize!(flags, bits = 4, |F| {
            let step = RmsPropStep::<F> {
                grad: GradIn::new(prescale, self.maximize),
                weight_decay: f32_of(self.weight_decay),
                alpha: f32_of(self.alpha),
                one_minus_alpha: f32_of(1.0 - self.alpha),
                grad_avg,
                eps: f32_of(self.eps),
                momentum: f32_of(self.momentum),
                neg_lr: f32_of(-self.lr),
            };
            let planes_used = 1 + (F & MOMENTUM != 0) as usize + (F & CENTERED != 0) as usize;
            match planes_used {
                1 => simd::run::<_, 1>(backend, &step, params, grads, optimizer::planes(planes)),
                2 => simd::run::<_, 2>(backend, &step, params, grads, optimizer::planes(planes)),
                _ => simd::run::<_, 3>(backend, &step, params, grads, optimizer::planes(planes)),
            }
        });
    }
}

impl Optimizer for RmsProp {
    fn validate(&self) -> Result<(), Error> {
        non_negative("lr", self.lr)?;
        non_negative("alpha", self.alpha)?;
        non_negative("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("momentum", self.momentum)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state_names(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "momentum_buffer"],
            (false, true) => &["square_avg", "grad_avg"],
            (true, true) => &["square_avg", "momentum_buffer", "grad_avg"],
        }
    }
}

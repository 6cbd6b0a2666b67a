//! RMSprop, plain or centered, with optional momentum and L2 weight decay.

use super::common::{GradIn, Lerp, f32_of, kernel, non_negative, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// RMSprop, as `torch.optim.RMSprop`.
    ///
    /// For each element, with gradient `g`, parameter `p`, square average `v`, gradient average
    /// `a` (centered) and momentum buffer `b`:
    ///
    /// ```text
    /// g ← −g                                     if maximize
    /// g ← fma(p, weight_decay, g)                if weight_decay ≠ 0
    /// v ← fma((1 − alpha) · g, g, alpha · v)
    /// if centered:
    ///     a ← lerp(a, g, 1 − alpha)              (PyTorch's fused lerp, see Adam)
    ///     d = √fma(−a, a, v) + eps
    /// else:
    ///     d = √v + eps
    /// if momentum > 0:
    ///     b ← momentum · b + g / d
    ///     p ← fma(b, −lr, p)
    /// else:
    ///     p ← p + ((−lr) · g) / d
    /// ```
    ///
    /// `fma(a, b, c)` is `a · b + c` with one rounding: the crate fuses exactly where PyTorch's
    /// CPU kernels do, and rounds every other operation as written, in this order.
    ///
    /// State, in this order: `"square_avg"`, then `"momentum_buffer"` if `momentum > 0`, then
    /// `"grad_avg"` if `centered`; all start at 0. `eps` is added outside the square root
    /// (PyTorch; optax's `rmsprop` adds it inside and defaults `decay` to 0.9).
    ///
    /// # PyTorch and optax
    ///
    /// | | PyTorch (the crate) | optax `rmsprop(learning_rate, decay=0.9, eps=1e-8, initial_scale=0, eps_in_sqrt=True, centered=False, momentum=None, nesterov=False, bias_correction=False)` |
    /// |---|---|---|
    /// | decay of `v` | `alpha = 0.99` | `decay = 0.9` |
    /// | `eps` | outside the square root: `√v + eps` | inside by default: `rsqrt(v + eps)`; `eps_in_sqrt=False` gives PyTorch's |
    /// | centered denominator | `√(v − a²) + eps` | `rsqrt(v − a² + eps)` (or `√(v − a²) + eps` with `eps_in_sqrt=False`) |
    /// | initial `v` | 0 | `initial_scale` (0; TF1 used 1) |
    /// | momentum | on the normalised gradient, before `lr`: `b ← μb + g/d`, `p ← p − lr·b` | `trace` *after* the learning-rate scaling: `b ← μb − lr·g/d`, `p ← p + b` |
    /// | Nesterov momentum | no | `nesterov` option |
    /// | bias correction | no | `bias_correction` option |
    /// | weight decay | `weight_decay` (L2) | chain `add_decayed_weights` |
    ///
    /// The two momentum placements are the same for a constant learning rate; with a schedule,
    /// PyTorch scales the whole buffer by the current `lr`, optax each past term by the `lr` of its
    /// step. The crate follows PyTorch.
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
    pub struct RmsProp {
        /// Learning rate (default `1e-2`).
        pub lr: f64 = 1e-2,
        /// Smoothing constant of the square average (default `0.99`).
        pub alpha: f64 = 0.99,
        /// Added to the denominator, outside the square root (default `1e-8`).
        pub eps: f64 = 1e-8,
        /// L2 penalty added to the gradient (default 0).
        pub weight_decay: f64 = 0.0,
        /// Momentum factor (default 0: no momentum buffer).
        pub momentum: f64 = 0.0,
        /// Normalise by the estimated variance `v − a²` instead of `v` (default `false`).
        pub centered: bool = false,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

step_scalars! {
    /// One RMSprop step's scalars, rounded once; `MOMENTUM`, `CENTERED` and `L2` select the
    /// kernel (all eight combinations are valid).
    struct RmsPropScalars {
        grad: GradIn,
        alpha: f32,
        one_minus_alpha: f32,
        grad_avg: Lerp,
        eps: f32,
        momentum: f32,
        neg_lr: f32,
    }
}

kernel! {
    RmsPropStep<const MOMENTUM: bool, const CENTERED: bool, const L2: bool>(RmsPropScalars)
    |s, p, g, state| {
        let g = s.grad.with_l2::<L, L2>(g, p);
        let v = (L::splat(s.one_minus_alpha) * g).mul_add(g, state[0] * L::splat(s.alpha));
        state[0] = v;
        let avg = if CENTERED {
            let i = 1 + MOMENTUM as usize;
            let a = s.grad_avg.apply(state[i], g);
            state[i] = a;
            (-a).mul_add(a, v).sqrt()
        } else {
            v.sqrt()
        };
        let avg = avg + L::splat(s.eps);
        if MOMENTUM {
            let buf = state[1] * L::splat(s.momentum) + g / avg;
            state[1] = buf;
            buf.mul_add(L::splat(s.neg_lr), p)
        } else {
            p + (L::splat(s.neg_lr) * g) / avg
        }
    }
}

impl sealed::Apply for RmsProp {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let s = RmsPropScalars {
            grad: GradIn::new(call.prescale, self.maximize, self.weight_decay),
            alpha: f32_of(self.alpha),
            one_minus_alpha: f32_of(1.0 - self.alpha),
            grad_avg: Lerp::new(1.0 - self.alpha),
            eps: f32_of(self.eps),
            momentum: f32_of(self.momentum),
            neg_lr: f32_of(-self.lr),
        };
        match (self.momentum > 0.0, self.centered, self.weight_decay != 0.0) {
            (false, false, false) => run::<_, 1>(call, &RmsPropStep::<false, false, false>(s)),
            (false, false, true) => run::<_, 1>(call, &RmsPropStep::<false, false, true>(s)),
            (false, true, false) => run::<_, 2>(call, &RmsPropStep::<false, true, false>(s)),
            (false, true, true) => run::<_, 2>(call, &RmsPropStep::<false, true, true>(s)),
            (true, false, false) => run::<_, 2>(call, &RmsPropStep::<true, false, false>(s)),
            (true, false, true) => run::<_, 2>(call, &RmsPropStep::<true, false, true>(s)),
            (true, true, false) => run::<_, 3>(call, &RmsPropStep::<true, true, false>(s)),
            (true, true, true) => run::<_, 3>(call, &RmsPropStep::<true, true, true>(s)),
        }
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

    fn state_names(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "momentum_buffer"],
            (false, true) => &["square_avg", "grad_avg"],
            (true, true) => &["square_avg", "momentum_buffer", "grad_avg"],
        }
    }
}

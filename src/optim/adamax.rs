//! Adamax: Adam with the infinity norm, with L2 weight decay.

use super::adam_moments::validate_adam_family;
use super::common::{GradIn, Lerp, f32_of, kernel, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// Adamax, as `torch.optim.Adamax`.
    ///
    /// For each element, with gradient `g`, parameter `p`, first moment `m` and exponentially
    /// weighted infinity norm `u`:
    ///
    /// ```text
    /// g ← −g                                 if maximize
    /// g ← fma(p, weight_decay, g)            if weight_decay ≠ 0
    /// m ← lerp(m, g, 1 − β1)                 (PyTorch's fused lerp, see Adam)
    /// u ← max(β2 · u, |g| + eps)             (torch.maximum: NaN wins, β2 · u on ties)
    /// p ← p + ((−lr / (1 − β1ᵗ)) · m) / u
    /// ```
    ///
    /// `fma(a, b, c)` is `a · b + c` with one rounding: the crate fuses exactly where PyTorch's
    /// CPU kernels do, and rounds every other operation as written, in this order.
    ///
    /// `lerp` is PyTorch's (see [`Adam`](crate::Adam)); `lr / (1 − β1ᵗ)` is computed in `f64` and
    /// rounded once to `f32`. The infinity norm needs no bias correction.
    ///
    /// State, in this order: `"exp_avg"`, `"exp_inf"`; both start at 0.
    ///
    /// optax's `adamax` computes the same update (`ν = max(|g| + eps, b2 · ν)`, `m̂ / ν`), with
    /// its bias correction in `f32` and `(1 − b1) · g + b1 · m` in place of the lerp, and no
    /// weight-decay or `maximize` option; the crate follows PyTorch.
    ///
    /// Non-finite gradients: a NaN gradient makes the element's `exp_avg`, `exp_inf` and
    /// parameter NaN; an infinite one makes `exp_inf` infinite and the parameter NaN (`∞/∞`).
    ///
    /// ```
    /// use fused_optim::{Adamax, Optimizer};
    ///
    /// let adamax = Adamax { lr: 0.1, betas: (0.5, 0.5), eps: 0.0, ..Adamax::default() };
    /// let mut p = [1.0_f32];
    /// let mut state = [0.0_f32; 2]; // exp_avg, exp_inf
    /// adamax.step(1, &mut p, &[2.0], &mut state)?;
    /// // m = 0.5·2 = 1, u = max(0, 2) = 2, p = 1 − (0.1 / 0.5)·1/2
    /// assert_eq!(state, [1.0, 2.0]);
    /// assert_eq!(p[0], 1.0 - 0.2 / 2.0);
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct Adamax {
        adam_family(lr = 2e-3, weight_decay = 0.0),
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

step_scalars! {
    /// One Adamax step's scalars, rounded once; `L2` selects the kernel.
    struct AdamaxScalars {
        grad: GradIn,
        exp_avg: Lerp,
        beta2: f32,
        eps: f32,
        neg_clr: f32,
    }
}

kernel! {
    AdamaxStep<const L2: bool>(AdamaxScalars)
    |s, p, g, state| {
        let g = s.grad.with_l2::<L, L2>(g, p);
        let m = s.exp_avg.apply(state[0], g);
        let u = (state[1] * L::splat(s.beta2)).max(g.abs() + L::splat(s.eps));
        state[0] = m;
        state[1] = u;
        p + (L::splat(s.neg_clr) * m) / u
    }
}

impl sealed::Apply for Adamax {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let (beta1, beta2) = self.betas;
        let bias_correction1 = 1.0 - libm::pow(beta1, call.t as f64);
        let s = AdamaxScalars {
            grad: GradIn::new(call.prescale, self.maximize, self.weight_decay),
            exp_avg: Lerp::new(1.0 - beta1),
            beta2: f32_of(beta2),
            eps: f32_of(self.eps),
            neg_clr: f32_of(-(self.lr / bias_correction1)),
        };
        if self.weight_decay != 0.0 {
            run::<_, 2>(call, &AdamaxStep::<true>(s))
        } else {
            run::<_, 2>(call, &AdamaxStep::<false>(s))
        }
    }
}

impl Optimizer for Adamax {
    fn validate(&self) -> Result<(), Error> {
        validate_adam_family(self)
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_inf"]
    }
}

//! Adadelta, with L2 weight decay.

use super::common::{GradIn, f32_of, kernel, non_negative, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// Adadelta, as `torch.optim.Adadelta` (Zeiler 2012, with PyTorch's `lr`).
    ///
    /// For each element, with gradient `g`, parameter `p`, square average `v` and accumulated
    /// squared update `u`:
    ///
    /// ```text
    /// g ← −g                                     if maximize
    /// g ← fma(p, weight_decay, g)                if weight_decay ≠ 0
    /// v ← fma((1 − rho) · g, g, rho · v)
    /// δ = (√(u + eps) / √(v + eps)) · g          (eps inside both square roots)
    /// u ← fma((1 − rho) · δ, δ, rho · u)
    /// p ← fma(δ, −lr, p)
    /// ```
    ///
    /// `fma(a, b, c)` is `a · b + c` with one rounding: the crate fuses exactly where PyTorch's
    /// CPU kernels do, and rounds every other operation as written, in this order.
    ///
    /// `rho`, `1 − rho`, `eps` and `−lr` enter the kernel rounded once to `f32`.
    ///
    /// State, in this order: `"square_avg"`, `"acc_delta"`; both start at 0.
    ///
    /// optax's `adadelta` (`rho = 0.9`, `eps = 1e-6`) computes the same update, with the
    /// averages rounded in another order (`(1 − rho) · y² + rho · x`) and no `maximize` option;
    /// PyTorch's `lr` (default 1: the paper has no learning rate) multiplies `δ`, as optax's
    /// learning rate does. The crate follows PyTorch.
    ///
    /// Non-finite gradients: a NaN gradient makes the element's state and parameter NaN; an
    /// infinite one makes `square_avg` infinite and `δ`, `acc_delta` and the parameter NaN
    /// (`√(u + eps) / ∞ · ∞`).
    ///
    /// ```
    /// use fused_optim::{Adadelta, Optimizer};
    ///
    /// let adadelta = Adadelta { rho: 0.5, eps: 0.0, ..Adadelta::default() };
    /// let mut p = [1.0_f32];
    /// let mut state = [0.0_f32, 4.0]; // square_avg 0, acc_delta 4 (as a checkpoint might hold)
    /// adadelta.step(1, &mut p, &[2.0], &mut state)?;
    /// // v = 0.5·2·2 = 2, δ = √4 / √2 · 2 = 2√2, u = 0.5·4 + 0.5·8 = 6, p = 1 − 2√2
    /// assert!((p[0] - (1.0 - 2.0 * 2f32.sqrt())).abs() < 1e-6);
    /// assert!((state[1] - 6.0).abs() < 1e-5);
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct Adadelta {
        /// Learning rate: the factor of the update `δ` (default `1.0`).
        pub lr: f64 = 1.0,
        /// Decay rate of both running averages (default `0.9`); `rho = 1` is allowed, as in
        /// PyTorch (the averages then never change).
        pub rho: f64 = 0.9,
        /// Added inside both square roots (default `1e-6`).
        pub eps: f64 = 1e-6,
        /// L2 penalty added to the gradient (default 0).
        pub weight_decay: f64 = 0.0,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

step_scalars! {
    /// One Adadelta step's scalars, rounded once; `L2` selects the kernel.
    struct AdadeltaScalars {
        grad: GradIn,
        rho: f32,
        one_minus_rho: f32,
        eps: f32,
        neg_lr: f32,
    }
}

kernel! {
    AdadeltaStep<const L2: bool>(AdadeltaScalars)
    |s, p, g, state| {
        let g = s.grad.with_l2::<L, L2>(g, p);
        let rho = L::splat(s.rho);
        let one_minus_rho = L::splat(s.one_minus_rho);
        let eps = L::splat(s.eps);
        let v = (one_minus_rho * g).mul_add(g, state[0] * rho);
        let delta = ((state[1] + eps).sqrt() / (v + eps).sqrt()) * g;
        state[0] = v;
        state[1] = (one_minus_rho * delta).mul_add(delta, state[1] * rho);
        delta.mul_add(L::splat(s.neg_lr), p)
    }
}

impl sealed::Apply for Adadelta {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let s = AdadeltaScalars {
            grad: GradIn::new(call.prescale, self.maximize, self.weight_decay),
            rho: f32_of(self.rho),
            one_minus_rho: f32_of(1.0 - self.rho),
            eps: f32_of(self.eps),
            neg_lr: f32_of(-self.lr),
        };
        if self.weight_decay != 0.0 {
            run::<_, 2>(call, &AdadeltaStep::<true>(s))
        } else {
            run::<_, 2>(call, &AdadeltaStep::<false>(s))
        }
    }
}

impl Optimizer for Adadelta {
    fn validate(&self) -> Result<(), Error> {
        non_negative("lr", self.lr)?;
        if !(0.0..=1.0).contains(&self.rho) {
            return Err(Error::InvalidHyperParameter {
                name: "rho",
                value: self.rho,
                expected: "in [0, 1]",
            });
        }
        non_negative("eps", self.eps)?;
        non_negative("weight_decay", self.weight_decay)
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["square_avg", "acc_delta"]
    }
}

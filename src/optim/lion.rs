//! Lion: sign momentum (Chen et al. 2023), with decoupled weight decay, as optax computes it.

use super::common::{GradIn, f32_of, kernel, non_negative, run, step_scalars, unit_interval};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};
use crate::simd::Lane;

hyper_parameters! {
    /// Lion (EvoLved Sign Momentum, Chen et al. 2023, "Symbolic Discovery of Optimization
    /// Algorithms"), with optax's `lion` semantics. PyTorch has no Lion.
    ///
    /// For each element, with gradient `g`, parameter `p` and momentum `m`:
    ///
    /// ```text
    /// g ← −g                                 if maximize
    /// c = β1 · m + (1 − β1) · g              (the interpolation the sign is taken of)
    /// u = sign(c)
    /// u ← u + weight_decay · p               if weight_decay ≠ 0 (decoupled: not in m)
    /// p ← p + (−lr) · u                      (= p · (1 − lr · weight_decay) − lr · sign(c))
    /// m ← β2 · m + (1 − β2) · g              (a plain sum of products, not PyTorch's lerp)
    /// ```
    ///
    /// `sign` is `jnp.sign`'s: −1 or +1, `sign(±0) = ±0` (a zero `c` does not move the
    /// parameter) and `sign(NaN) = NaN`. `β1`, `1 − β1`, `β2`, `1 − β2`, `weight_decay` and `−lr`
    /// enter the kernel rounded once to `f32`, and every operation is rounded as written, in
    /// optax's order (`scale_by_lion`, then `add_decayed_weights`, `scale_by_learning_rate` and
    /// `apply_updates`), so the crate gives optax's bits (checked on every value of the golden
    /// trajectories recorded from optax 0.2.8).
    ///
    /// State: `["exp_avg"]` (optax's `mu`; the name PyTorch ports of Lion use), starting at 0.
    ///
    /// # optax, the paper and PyTorch ports
    ///
    /// * The crate computes what optax computes, in its order: `(1 − b1) · g + b1 · m` sums the
    ///   same two rounded products as `β1 · m + (1 − β1) · g`, and the weight decay is added to
    ///   the signed direction before the learning rate scales it.
    /// * The paper (Algorithm 2) and the PyTorch ports write the decay as `p ← p · (1 − lr · wd)`
    ///   followed by `p ← p − lr · sign(c)`, as [`AdamW`](crate::AdamW) does: the same value in
    ///   exact arithmetic, rounded differently (by about an ulp of `p` per step: in the golden
    ///   trajectories with weight decay, about 30 % of the parameters differ after a step).
    /// * Defaults: `betas = (0.9, 0.99)` (paper, optax), `weight_decay = 1e-3` (optax's;
    ///   the paper's code and PyTorch ports default to 0), `lr = 1e-4` (the paper's code and
    ///   PyTorch ports; optax has no default).
    /// * `maximize` is this crate's addition, as for every optimizer.
    /// * PyTorch ports use `torch.sign`, for which `sign(NaN) = 0`; optax (and the crate) keep the
    ///   NaN, so that a NaN gradient shows up in the parameter instead of freezing it silently.
    ///
    /// Non-finite gradients: a NaN gradient makes the element's `exp_avg` and parameter NaN. An
    /// infinite gradient only contributes its sign to the parameter, which moves by `lr` as for
    /// any gradient of that sign (so it stays finite), and makes `exp_avg` infinite. `exp_avg`
    /// then stays infinite, so (when `β1 > 0`) `c` keeps that sign and the parameter keeps moving
    /// by `lr` in that direction at every later step, until a gradient of the opposite infinity
    /// makes `exp_avg` NaN.
    ///
    /// ```
    /// use fused_optim::{Lion, Optimizer};
    ///
    /// let lion = Lion { lr: 0.125, betas: (0.5, 0.75), weight_decay: 0.0, ..Lion::default() };
    /// let mut p = [1.0_f32, 1.0];
    /// let mut m = [0.0_f32; 2];
    /// lion.step(1, &mut p, &[3.0, 0.0], &mut m)?; // c = [1.5, 0]: p ← p − 0.125 · [1, 0]
    /// assert_eq!(p, [0.875, 1.0]);
    /// assert_eq!(m, [0.75, 0.0]); // m = 0.25 · g
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct Lion {
        /// Learning rate (default `1e-4`).
        pub lr: f64 = 1e-4,
        /// `(β1, β2)`: the interpolation factor of the signed term and the decay rate of the
        /// momentum (default `(0.9, 0.99)`).
        pub betas: (f64, f64) = (0.9, 0.99),
        /// Decoupled weight decay: `lr · weight_decay · p` is subtracted from `p` each step
        /// (default `1e-3`).
        pub weight_decay: f64 = 1e-3,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

step_scalars! {
    /// One Lion step's scalars, rounded once; `DECAY` (weight decay on) selects the kernel.
    struct LionScalars {
        grad: GradIn,
        weight_decay: f32,
        beta1: f32,
        one_minus_beta1: f32,
        beta2: f32,
        one_minus_beta2: f32,
        neg_lr: f32,
    }
}

/// `jnp.sign`: −1 or 1, and `x` itself for ±0 and NaN.
#[inline(always)]
fn sign<L: Lane>(x: L) -> L {
    let zero = L::splat(0.0);
    L::select(
        x.gt(zero),
        L::splat(1.0),
        L::select(x.lt(zero), L::splat(-1.0), x),
    )
}

kernel! {
    LionStep<const DECAY: bool>(LionScalars)
    |s, p, g, state| {
        let g = s.grad.apply(g);
        let m = state[0];
        let c = L::splat(s.beta1) * m + L::splat(s.one_minus_beta1) * g;
        state[0] = L::splat(s.beta2) * m + L::splat(s.one_minus_beta2) * g;
        let mut u = sign(c);
        if DECAY {
            u = u + L::splat(s.weight_decay) * p;
        }
        p + L::splat(s.neg_lr) * u
    }
}

impl sealed::Apply for Lion {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let (beta1, beta2) = self.betas;
        let s = LionScalars {
            grad: GradIn::new(call.prescale, self.maximize, 0.0),
            weight_decay: f32_of(self.weight_decay),
            beta1: f32_of(beta1),
            one_minus_beta1: f32_of(1.0 - beta1),
            beta2: f32_of(beta2),
            one_minus_beta2: f32_of(1.0 - beta2),
            neg_lr: f32_of(-self.lr),
        };
        if self.weight_decay != 0.0 {
            run::<_, 1>(call, &LionStep::<true>(s))
        } else {
            run::<_, 1>(call, &LionStep::<false>(s))
        }
    }
}

impl Optimizer for Lion {
    fn validate(&self) -> Result<(), Error> {
        non_negative("lr", self.lr)?;
        unit_interval("betas.0", self.betas.0)?;
        unit_interval("betas.1", self.betas.1)?;
        non_negative("weight_decay", self.weight_decay)
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["exp_avg"]
    }
}

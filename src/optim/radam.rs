//! RAdam: Adam with the variance rectification, with L2 or decoupled weight decay.

use super::adam_moments::{AdamMoments, validate_adam_family};
use super::common::{DecayKernels, WeightDecay, f32_of, kernel, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// RAdam, as `torch.optim.RAdam` (Liu et al. 2020).
    ///
    /// For each element, with gradient `g`, parameter `p`, first moment `m` and second moment
    /// `v`:
    ///
    /// ```text
    /// g ← −g                                        if maximize
    /// if weight_decay ≠ 0:
    ///     p ← p · (1 − lr · weight_decay)           if decoupled_weight_decay
    ///     g ← fma(p, weight_decay, g)               otherwise (L2)
    /// m ← lerp(m, g, 1 − β1)                        (PyTorch's fused lerp, see Adam)
    /// v ← fma((1 − β2) · g, g, β2 · v)
    /// bc1 = 1 − β1ᵗ,  bc2 = 1 − β2ᵗ                 (per call, in f64, like ρ and r)
    /// ρ∞ = 2 / (1 − β2) − 1,  ρₜ = ρ∞ − 2t · β2ᵗ / bc2
    /// if ρₜ > 5:
    ///     r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
    ///     p ← p − (((m / bc1) · lr) · ((1 / (√v + eps)) · √bc2)) · r
    /// else:
    ///     p ← p − (m / bc1) · lr                    (SGD with momentum: no v, no eps)
    /// ```
    ///
    /// `fma(a, b, c)` is `a · b + c` with one rounding: the crate fuses exactly where PyTorch's
    /// CPU kernels do, and rounds every other operation as written, in this order.
    ///
    /// Each operation is rounded as written, in PyTorch's order: `m / bc1` is a division by
    /// `f32(bc1)`, and `√bc2 / (√v + eps)` is PyTorch's scalar-by-tensor division, which it
    /// evaluates as a reciprocal times the scalar. `bc1`, `√bc2`, `lr`, `r` and
    /// `1 − lr · weight_decay` enter the kernel rounded once to `f32`. Whether the step is
    /// rectified depends on `t` alone (and β2): the two cases are two kernels, chosen once per
    /// call. `ρₜ ≤ 5` for the first 5 steps at least (`ρₜ < t`); with `β2 ≤ 2/3`, `ρ∞ ≤ 5` and no
    /// step is ever rectified.
    ///
    /// State, in this order: `"exp_avg"`, `"exp_avg_sq"`; both start at 0.
    ///
    /// optax's `radam` rectifies when `ρₜ ≥ 5` (PyTorch: `> 5`), adds `eps` to `√v̂` after the
    /// bias correction (`m̂ / (√v̂ + eps)`, PyTorch: `√bc2 / (√v + eps)`), computes its bias
    /// corrections in `f32`, and has no weight decay or `maximize`; the crate follows PyTorch.
    ///
    /// Non-finite gradients: a NaN gradient makes the element's moments and parameter NaN. An
    /// infinite one makes `exp_avg_sq` infinite; in a rectified step the parameter becomes NaN
    /// (`∞ · 0`), in an un-rectified step it follows `m`: `∓∞` when `1 − β1 < 0.5` (PyTorch's
    /// lerp then gives `m = ±∞`), NaN otherwise (its other lerp formula gives `∞ − ∞`).
    ///
    /// ```
    /// use fused_optim::{Optimizer, RAdam};
    ///
    /// let radam = RAdam { lr: 0.5, betas: (0.5, 0.999), ..RAdam::default() };
    /// let mut p = [1.0_f32];
    /// let mut state = [0.0_f32; 2]; // exp_avg, exp_avg_sq
    /// radam.step(1, &mut p, &[2.0], &mut state)?;
    /// // ρ₁ = 1: not rectified. m = 1, m / (1 − 0.5) = 2, p = 1 − 2 · 0.5.
    /// assert_eq!(p[0], 0.0);
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct RAdam {
        adam_family(lr = 1e-3, weight_decay = 0.0),
        /// Decay the parameters directly (RAdamW) instead of adding an L2 term to the gradient
        /// (default `false`).
        pub decoupled_weight_decay: bool = false,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

impl RAdam {
    /// `(ρₜ, ρ∞)`: the length of the approximated simple moving average at step `t`, and its
    /// limit. Step `t` is rectified when `ρₜ > 5`.
    pub fn rho(&self, t: u64) -> (f64, f64) {
        let beta2 = self.betas.1;
        let step = t as f64;
        let beta2_t = libm::pow(beta2, step);
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * step * beta2_t / (1.0 - beta2_t);
        (rho_t, rho_inf)
    }
}

step_scalars! {
    /// One RAdam step's scalars, rounded once; `RECTIFIED` (`ρₜ > 5`) and `DECAY` select the
    /// kernel.
    struct RAdamScalars {
        moments: AdamMoments,
        bias_correction1: f32,
        lr: f32,
        bias_correction2_sqrt: f32,
        eps: f32,
        rect: f32,
    }
}

kernel! {
    RAdamStep<const RECTIFIED: bool, const DECAY: u8>(RAdamScalars)
    |s, p, g, state| {
        let (p, _, m, v) = s.moments.update::<L, DECAY>(p, g, state);
        let update = (m / L::splat(s.bias_correction1)) * L::splat(s.lr);
        if RECTIFIED {
            let adaptive_lr =
                (L::splat(1.0) / (v.sqrt() + L::splat(s.eps))) * L::splat(s.bias_correction2_sqrt);
            p - (update * adaptive_lr) * L::splat(s.rect)
        } else {
            p - update
        }
    }
}

impl sealed::Apply for RAdam {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let (beta1, beta2) = self.betas;
        let step = call.t as f64;
        let bias_correction1 = 1.0 - libm::pow(beta1, step);
        let bias_correction2 = 1.0 - libm::pow(beta2, step);
        let (rho_t, rho_inf) = self.rho(call.t);
        let rectified = rho_t > 5.0;
        let rect = if rectified {
            libm::sqrt(
                (rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                    / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t),
            )
        } else {
            1.0
        };
        let s = RAdamScalars {
            moments: AdamMoments::new(call.prescale, self),
            bias_correction1: f32_of(bias_correction1),
            lr: f32_of(self.lr),
            bias_correction2_sqrt: f32_of(libm::pow(bias_correction2, 0.5)),
            eps: f32_of(self.eps),
            rect: f32_of(rect),
        };
        WeightDecay::of(self.weight_decay, self.decoupled_weight_decay).run(&(rectified, s), call)
    }
}

/// RAdam's kernels: rectified or not, for each weight-decay mode.
impl DecayKernels for (bool, RAdamScalars) {
    fn run<const DECAY: u8>(&self, call: Call<'_, '_>) -> Result<(), Error> {
        match *self {
            (false, s) => run::<_, 2>(call, &RAdamStep::<false, DECAY>(s)),
            (true, s) => run::<_, 2>(call, &RAdamStep::<true, DECAY>(s)),
        }
    }
}

impl Optimizer for RAdam {
    fn validate(&self) -> Result<(), Error> {
        validate_adam_family(self)
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }
}

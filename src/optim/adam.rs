//! Adam, with L2 or decoupled weight decay and AMSGrad.

use super::adam_moments::{AdamMoments, validate_adam_family};
use super::common::{DecayKernels, Divisor, WeightDecay, f32_of, kernel, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// Adam, as `torch.optim.Adam` (including its `decoupled_weight_decay` option, which is what
    /// [`AdamW`](crate::AdamW) sets).
    ///
    /// For each element, with gradient `g`, parameter `p`, first moment `m`, second moment `v`
    /// and (AMSGrad) running maximum `v̂`:
    ///
    /// ```text
    /// g ← −g                                       if maximize
    /// if weight_decay ≠ 0:
    ///     p ← p · (1 − lr · weight_decay)          if decoupled_weight_decay
    ///     g ← fma(p, weight_decay, g)              otherwise (L2)
    /// m ← lerp(m, g, 1 − β1)
    /// v ← fma((1 − β2) · g, g, β2 · v)
    /// bc1 = 1 − β1ᵗ,  bc2 = 1 − β2ᵗ                (per call, in f64)
    /// v̂ ← max(v̂, v)                                if amsgrad (max over the raw v, NaN wins)
    /// d = √(amsgrad ? v̂ : v) / √bc2 + eps
    /// p ← p + ((−lr / bc1) · m) / d
    /// ```
    ///
    /// `fma(a, b, c)` is `a · b + c` with one rounding: the crate fuses exactly where PyTorch's
    /// CPU kernels do, and rounds every other operation as written, in this order.
    ///
    /// `lerp(m, g, w)` is PyTorch's fused one: `fma(w, g − m, m)` when `|w| < 0.5`, else
    /// `fma(−(g − m), 1 − w, g)`, with `w` and `1 − w` in `f32`. `1 − lr · weight_decay`,
    /// `−lr / bc1` and `√bc2` (as `bc2 ** 0.5`) are computed in `f64` and rounded once to
    /// `f32`, as PyTorch's single-tensor path does for its scalars; `β2` and `1 − β2` enter
    /// rounded once too. The denominator is a true division by `f32(√bc2)`, as in PyTorch.
    ///
    /// State, in this order: `"exp_avg"`, `"exp_avg_sq"`, then `"max_exp_avg_sq"` if `amsgrad`;
    /// all start at 0.
    ///
    /// # PyTorch and optax
    ///
    /// | | PyTorch (the crate) | optax `adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0, mu_dtype=None, nesterov=False)` |
    /// |---|---|---|
    /// | `eps` | outside the square root, after bias correction: `√v/√bc2 + eps` | the same: `√(v/bc2 + eps_root) + eps`, plus an optional `eps_root` inside |
    /// | bias correction | `β^t` and `1 − β^t` in `f64` (Python floats), rounded once to `f32` | in `f32` (unless x64): `1 − f32(β)^t`. `f32(0.999) = 0.99900001`, so `bc2` is about 1.3e-5 too small and every update about 6e-6 (relative) smaller than PyTorch's over the first hundreds of steps |
    /// | where bias correction applies | `(lr / bc1) · m / (√v / √bc2 + eps)` (the crate: see above) | `(m / bc1) / (√(v / bc2) + eps)`: the same value, other rounding |
    /// | first moment | `lerp(m, g, 1 − β1)` | `(1 − b1)·g + b1·m` (no lerp) |
    /// | AMSGrad | `amsgrad=True`: max over the **raw** `v`, then divided by the current `√bc2` | `optax.amsgrad`: max over the **bias-corrected** `v/bc2` (by default; `bias_correction_nu=False` takes the raw `v` but then never divides by `bc2`) |
    /// | Nesterov | no (PyTorch's `NAdam` is a separate algorithm with a momentum schedule) | `nesterov=True` (optax's `nadam`) |
    /// | L2 weight decay | `weight_decay` | chain `add_decayed_weights` before `adam` |
    /// | decoupled weight decay | `decoupled_weight_decay=True` (= AdamW) | `optax.adamw` |
    ///
    /// The AMSGrad difference is a different algorithm, not a rounding: the denominator uses
    /// `max_s v_s / bc2_t` (PyTorch) against `max_s (v_s / bc2_s)` (optax). Since `bc2_s ≤ bc2_t`
    /// for `s ≤ t`, optax's is never the smaller, and it keeps the bias-corrected early values
    /// (`v_1 / bc2_1 = g_1²`) that PyTorch's raw maximum discounts, so optax's steps are never
    /// larger than PyTorch's. The crate follows PyTorch in every row.
    ///
    /// ```
    /// use fused_optim::{Adam, Optimizer};
    ///
    /// let adam = Adam { lr: 0.1, ..Adam::default() };
    /// let mut p = [1.0_f32];
    /// let mut state = [0.0_f32; 2]; // exp_avg, exp_avg_sq
    /// adam.step(1, &mut p, &[2.0], &mut state)?;
    /// // The first bias-corrected step moves every parameter by about lr.
    /// assert!((p[0] - 0.9).abs() < 1e-6);
    /// assert_eq!(state, [0.2, (0.001_f32 * 2.0) * 2.0]);
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct Adam {
        adam_family(lr = 1e-3, weight_decay = 0.0),
        /// Use the AMSGrad variant (default `false`).
        pub amsgrad: bool = false,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
        /// Decay the parameters directly (AdamW) instead of adding an L2 term to the gradient
        /// (default `false`).
        pub decoupled_weight_decay: bool = false,
    }
}

step_scalars! {
    /// One Adam step's scalars, rounded once; `AMSGRAD` and `DECAY` select the kernel.
    struct AdamScalars {
        moments: AdamMoments,
        /// `f32(√bc2)`; `sqrt(v)` (any `f32` `v`) is within [`Divisor`]'s range.
        bias_correction2_sqrt: Divisor,
        eps: f32,
        neg_step_size: f32,
    }
}

kernel! {
    AdamStep<const AMSGRAD: bool, const DECAY: u8>(AdamScalars)
    |s, p, g, state| {
        let (p, _, m, v) = s.moments.update::<L, DECAY>(p, g, state);
        let v = if AMSGRAD {
            let v_max = state[2].max(v);
            state[2] = v_max;
            v_max
        } else {
            v
        };
        let denom = s.bias_correction2_sqrt.divide(v.sqrt()) + L::splat(s.eps);
        p + (L::splat(s.neg_step_size) * m) / denom
    }
}

impl sealed::Apply for Adam {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let (beta1, beta2) = self.betas;
        let t = call.t as f64;
        let bias_correction1 = 1.0 - libm::pow(beta1, t);
        let bias_correction2 = 1.0 - libm::pow(beta2, t);
        let s = AdamScalars {
            moments: AdamMoments::new(call.prescale, self),
            bias_correction2_sqrt: Divisor::new(f32_of(libm::pow(bias_correction2, 0.5))),
            eps: f32_of(self.eps),
            neg_step_size: f32_of(-(self.lr / bias_correction1)),
        };
        WeightDecay::of(self.weight_decay, self.decoupled_weight_decay)
            .run(&(self.amsgrad, s), call)
    }
}

/// Adam's kernels: AMSGrad or not, for each weight-decay mode.
impl DecayKernels for (bool, AdamScalars) {
    fn run<const DECAY: u8>(&self, call: Call<'_, '_>) -> Result<(), Error> {
        match *self {
            (false, s) => run::<_, 2>(call, &AdamStep::<false, DECAY>(s)),
            (true, s) => run::<_, 3>(call, &AdamStep::<true, DECAY>(s)),
        }
    }
}

impl Optimizer for Adam {
    fn validate(&self) -> Result<(), Error> {
        validate_adam_family(self)
    }

    fn state_names(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["exp_avg", "exp_avg_sq"]
        }
    }
}

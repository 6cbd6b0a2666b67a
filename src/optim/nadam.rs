//! NAdam: Adam with Nesterov momentum and the momentum-decay schedule, with L2 or decoupled
//! weight decay.

use super::adam_moments::{AdamMoments, validate_adam_hyper_parameters};
use super::common::{DECOUPLED, L2, NO_DECAY, WeightDecay, f32_of, non_negative, run};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};
use crate::simd::{Lane, Update};

hyper_parameters! {
    /// NAdam, as `torch.optim.NAdam` (Dozat 2016, with PyTorch's momentum-decay schedule).
    ///
    /// For each element, with gradient `g`, parameter `p`, first moment `m` and second moment
    /// `v`:
    ///
    /// ```text
    /// g ← −g                                        if maximize
    /// if weight_decay ≠ 0:
    ///     p ← p · (1 − lr · weight_decay)           if decoupled_weight_decay
    ///     g ← g + weight_decay · p                  otherwise (L2)
    /// μₜ = β1 · (1 − ½ · 0.96^(t · momentum_decay))  (per call, in f64; likewise μₜ₊₁)
    /// Πₜ = mu_product(t)                            (= f32(Πₜ₋₁ · f32(μₜ)), Π₀ = 1; see below)
    /// m ← lerp(m, g, 1 − β1)                        (= β1 · m + (1 − β1) · g)
    /// v ← β2 · v + ((1 − β2) · g) · g
    /// d = √(v / (1 − β2ᵗ)) + eps                    (the division inside the square root)
    /// p ← p + (−lr · (1 − μₜ) / (1 − Πₜ)) · g / d
    /// p ← p + (−lr · μₜ₊₁ / (1 − Πₜ · μₜ₊₁)) · m / d
    /// ```
    ///
    /// The two coefficients, `1 − β2ᵗ` and `1 − lr · weight_decay` are computed in `f64` and
    /// rounded once to `f32`; each `(c · x) / d` is rounded as written (`addcdiv`).
    ///
    /// # `mu_product`, the per-step scalar state
    ///
    /// PyTorch keeps `Πₜ = μ₁ · … · μₜ` in `state["mu_product"]`, an `f32` tensor multiplied by
    /// `f32(μₜ)` at every step. The crate keeps nothing: [`NAdam::mu_product`] recomputes that
    /// running product from `t` (the same `f32` multiplications, in the same order), so the
    /// caller carries only `t`, as for every optimizer, and the step's coefficients are
    /// PyTorch's bits. Computing it takes one `pow` per step up to `t`, but the step stops as
    /// soon as the product falls below 2⁻⁵⁴ (`1 − Πₜ` is then exactly 1 in `f64`, so the
    /// coefficients no longer depend on it): about 55 iterations with the default betas (μₜ is
    /// close to β1/2 for the first thousands of steps), at most about `38 / (1 − β1)` with a
    /// large `momentum_decay`, and never more than `t`.
    ///
    /// State, in this order: `"exp_avg"`, `"exp_avg_sq"`; both start at 0.
    ///
    /// optax's `nadam` is a different algorithm that shares the name: it is Adam with the Nesterov
    /// first moment `β1 · m / (1 − β1ᵗ⁺¹) + (1 − β1) · g / (1 − β1ᵗ)` (Dozat's simplified form),
    /// without the μ schedule or the product, its bias corrections in `f32`, and no weight decay
    /// or `maximize` option. The crate follows PyTorch.
    ///
    /// Non-finite gradients: a NaN gradient makes the element's moments and parameter NaN; an
    /// infinite one makes `exp_avg_sq` infinite and the parameter NaN (`∞/∞`).
    ///
    /// ```
    /// use fused_optim::{NAdam, Optimizer};
    ///
    /// let nadam = NAdam { lr: 0.01, ..NAdam::default() };
    /// let mut p = [1.0_f32];
    /// let mut state = [0.0_f32; 2]; // exp_avg, exp_avg_sq
    /// for t in 1..=3 {
    ///     nadam.step(t, &mut p, &[2.0], &mut state)?;
    /// }
    /// assert!(p[0] < 1.0);
    /// // PyTorch's state["mu_product"] after step 1: f32(0.9 · (1 − ½ · 0.96^0.004)).
    /// assert_eq!(nadam.mu_product(1), (0.9 * (1.0 - 0.5 * 0.96_f64.powf(0.004))) as f32);
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct NAdam {
        /// Learning rate (default `2e-3`).
        pub lr: f64 = 2e-3,
        /// Decay rates `(β1, β2)` of the first and second moments (default `(0.9, 0.999)`).
        pub betas: (f64, f64) = (0.9, 0.999),
        /// Added to the denominator, outside the square root (default `1e-8`).
        pub eps: f64 = 1e-8,
        /// Weight decay (default 0): an L2 penalty, or decoupled if `decoupled_weight_decay`.
        pub weight_decay: f64 = 0.0,
        /// The `ψ` of the momentum schedule `μₜ = β1 · (1 − ½ · 0.96^(t·ψ))` (default `4e-3`).
        pub momentum_decay: f64 = 4e-3,
        /// Decay the parameters directly (NAdamW) instead of adding an L2 term to the gradient
        /// (default `false`).
        pub decoupled_weight_decay: bool = false,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

/// Below this, `1 − Πₜ` (and `1 − Πₜ · μₜ₊₁`) is exactly 1 in `f64`.
const NEGLIGIBLE_PRODUCT: f32 = 1.0 / (1u64 << 54) as f32;

impl NAdam {
    /// `μ` for step `t` (given as `f64`, as PyTorch reads its `f32` step counter).
    fn mu(&self, t: f64) -> f64 {
        self.betas.0 * (1.0 - 0.5 * libm::pow(0.96, t * self.momentum_decay))
    }

    /// PyTorch's running product after step `t`, computed until it is at most `floor`.
    fn running_product(&self, t: u64, floor: f32) -> f32 {
        let mut product = 1.0_f32;
        let mut i = 1;
        while i <= t && product > floor {
            let mu = self.mu(i as f64);
            let factor = f32_of(mu);
            if factor == 1.0 {
                break; // μ only grows towards β1: every later factor is 1 too
            }
            if mu == self.betas.0 {
                // μ has converged to β1: every later factor is the same, no `pow` needed.
                while i <= t && product > floor {
                    product *= factor;
                    i += 1;
                }
                break;
            }
            product *= factor;
            i += 1;
        }
        product
    }

    /// PyTorch's `state["mu_product"]` after step `t` (1 before the first step): the `f32`
    /// running product `f32(Πₜ₋₁ · f32(μₜ))`, recomputed from `t` with PyTorch's roundings.
    ///
    /// It takes up to `t` iterations (fewer once the product reaches 0); a step needs only
    /// the first few (see the type's documentation).
    pub fn mu_product(&self, t: u64) -> f32 {
        self.running_product(t, 0.0)
    }
}

/// One NAdam step's scalars, rounded once; `DECAY` selects the kernel.
#[derive(Clone, Copy, Debug)]
struct NAdamScalars {
    moments: AdamMoments,
    bias_correction2: f32,
    eps: f32,
    grad_coef: f32,
    exp_avg_coef: f32,
}

struct NAdamStep<const DECAY: u8>(NAdamScalars);

impl<const DECAY: u8> Update for NAdamStep<DECAY> {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let s = &self.0;
        let (p, g, m, v) = s.moments.update::<L, DECAY>(p, g, state);
        let denom = (v / L::splat(s.bias_correction2)).sqrt() + L::splat(s.eps);
        let p = p + (L::splat(s.grad_coef) * g) / denom;
        p + (L::splat(s.exp_avg_coef) * m) / denom
    }
}

impl sealed::Apply for NAdam {
    fn apply(&self, call: Call<'_, '_>) {
        let beta2 = self.betas.1;
        let step = call.t as f64;
        let bias_correction2 = 1.0 - libm::pow(beta2, step);
        let mu = self.mu(step);
        let mu_next = self.mu(step + 1.0);
        let mu_product = f64::from(self.running_product(call.t, NEGLIGIBLE_PRODUCT));
        let mu_product_next = mu_product * mu_next;
        let s = NAdamScalars {
            moments: AdamMoments::new(
                call.prescale,
                self.maximize,
                self.lr,
                self.weight_decay,
                self.betas,
            ),
            bias_correction2: f32_of(bias_correction2),
            eps: f32_of(self.eps),
            grad_coef: f32_of(-self.lr * (1.0 - mu) / (1.0 - mu_product)),
            exp_avg_coef: f32_of((-self.lr * mu_next) / (1.0 - mu_product_next)),
        };
        match WeightDecay::of(self.weight_decay, self.decoupled_weight_decay) {
            WeightDecay::None => run::<_, 2>(call, &NAdamStep::<NO_DECAY>(s)),
            WeightDecay::L2 => run::<_, 2>(call, &NAdamStep::<L2>(s)),
            WeightDecay::Decoupled => run::<_, 2>(call, &NAdamStep::<DECOUPLED>(s)),
        }
    }
}

impl Optimizer for NAdam {
    fn validate(&self) -> Result<(), Error> {
        validate_adam_hyper_parameters(self.lr, self.betas, self.eps, self.weight_decay)?;
        non_negative("momentum_decay", self.momentum_decay)
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }
}

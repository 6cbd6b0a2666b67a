//! RAdam: Adam with the variance rectification, with L2 or decoupled weight decay.

use crate::adam::{AdamMoments, validate_adam_hyper_parameters};
use crate::optimizer::{self, Optimizer, Prescale, f32_of, flag, sealed, specialize};
use crate::simd::{self, Lane, Update};
use crate::{Backend, Error};

/// RAdam, as `torch.optim.RAdam` (Liu et al. 2020).
///
/// For each element, with gradient `g`, parameter `p`, first moment `m` and second moment
/// `v`:
///
/// ```text
/// g ← −g                                        if maximize
/// if weight_decay ≠ 0:
///     p ← p · (1 − lr · weight_decay)           if decoupled_weight_decay
///     g ← g + weight_decay · p                  otherwise (L2)
/// m ← lerp(m, g, 1 − β1)                        (= β1 · m + (1 − β1) · g)
/// v ← β2 · v + ((1 − β2) · g) · g
/// bc1 = 1 − β1ᵗ,  bc2 = 1 − β2ᵗ                 (per call, in f64, like ρ and r)
/// ρ∞ = 2 / (1 − β2) − 1,  ρₜ = ρ∞ − 2t · β2ᵗ / bc2
/// if ρₜ > 5:
///     r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
///     p ← p − (((m / bc1) · lr) · ((1 / (√v + eps)) · √bc2)) · r
/// else:
///     p ← p − (m / bc1) · lr                    (SGD with momentum: no v, no eps)
/// ```
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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RAdam {
    /// Learning rate (default `1e-3`).
    pub lr: f64,
    /// Decay rates `(β1, β2)` of the first and second moments (default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Added to `√v`, in rectified steps only (default `1e-8`).
    pub eps: f64,
    /// Weight decay (default 0): an L2 penalty, or decoupled if `decoupled_weight_decay`.
    pub weight_decay: f64,
    /// Decay the parameters directly (RAdamW) instead of adding an L2 term to the gradient
    /// (default `false`).
    pub decoupled_weight_decay: bool,
    /// Maximize the objective instead of minimizing it (default `false`).
    pub maximize: bool,
}

impl Default for RAdam {
    fn default() -> Self {
        RAdam {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false,
        }
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

const RECTIFIED: u8 = 1;
const L2: u8 = 2;
const DECOUPLED: u8 = 4;
const LERP_HIGH: u8 = 8;

struct RAdamStep<const F: u8> {
    moments: AdamMoments,
    bias_correction1: f32,
    lr: f32,
    bias_correction2_sqrt: f32,
    eps: f32,
    rect: f32,
}

impl<const F: u8> Update for RAdamStep<F> {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let (decoupled, l2, lerp_high) = (F & DECOUPLED != 0, F & L2 != 0, F & LERP_HIGH != 0);
        let (p, _, m, v) = self.moments.update(p, g, state, decoupled, l2, lerp_high);
        let update = (m / L::splat(self.bias_correction1)) * L::splat(self.lr);
        if F & RECTIFIED != 0 {
            let adaptive_lr = (L::splat(1.0) / (v.sqrt() + L::splat(self.eps)))
                * L::splat(self.bias_correction2_sqrt);
            p - (update * adaptive_lr) * L::splat(self.rect)
        } else {
            p - update
        }
    }
}

impl sealed::Apply for RAdam {
    fn apply(
        &self,
        backend: Backend,
        t: u64,
        prescale: Prescale,
        params: &mut [f32],
        grads: &[f32],
        planes: &mut [&mut [f32]],
    ) {
        let (beta1, beta2) = self.betas;
        let step = t as f64;
        let bias_correction1 = 1.0 - libm::pow(beta1, step);
        let bias_correction2 = 1.0 - libm::pow(beta2, step);
        let (rho_t, rho_inf) = self.rho(t);
        let rectified = rho_t > 5.0;
        let rect = if rectified {
            libm::sqrt(
                (rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                    / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t),
            )
        } else {
            1.0
        };
        let moments = AdamMoments::new(
            prescale,
            self.maximize,
            self.lr,
            self.weight_decay,
            self.betas,
        );
        let decays = self.weight_decay != 0.0;
        let flags = flag(rectified, RECTIFIED)
            | flag(decays && !self.decoupled_weight_decay, L2)
            | flag(decays && self.decoupled_weight_decay, DECOUPLED)
            | flag(moments.exp_avg.is_high(), LERP_HIGH);
        specialize!(flags, bits = 4, |F| {
            let step = RAdamStep::<F> {
                moments,
                bias_correction1: f32_of(bias_correction1),
                lr: f32_of(self.lr),
                bias_correction2_sqrt: f32_of(libm::sqrt(bias_correction2)),
                eps: f32_of(self.eps),
                rect: f32_of(rect),
            };
            simd::run::<_, 2>(backend, &step, params, grads, optimizer::planes(planes));
        });
    }
}

impl Optimizer for RAdam {
    fn validate(&self) -> Result<(), Error> {
        validate_adam_hyper_parameters(self.lr, self.betas, self.eps, self.weight_decay)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }
}

//! Adamax: Adam with the infinity norm, with L2 weight decay.

use crate::adam::validate_adam_hyper_parameters;
use crate::optimizer::{self, GradIn, Lerp, Optimizer, Prescale, f32_of, flag, sealed, specialize};
use crate::simd::{self, Lane, Update};
use crate::{Backend, Error};

/// Adamax, as `torch.optim.Adamax`.
///
/// For each element, with gradient `g`, parameter `p`, first moment `m` and exponentially
/// weighted infinity norm `u`:
///
/// ```text
/// g ← −g                                 if maximize
/// g ← g + weight_decay · p               if weight_decay ≠ 0
/// m ← lerp(m, g, 1 − β1)                 (= β1 · m + (1 − β1) · g)
/// u ← max(β2 · u, |g| + eps)             (torch.maximum: NaN wins, β2 · u on ties)
/// p ← p + (−(lr / (1 − β1ᵗ)) · m) / u
/// ```
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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adamax {
    /// Learning rate (default `2e-3`).
    pub lr: f64,
    /// Decay rates `(β1, β2)` of the first moment and of the infinity norm
    /// (default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Added to `|g|` before the maximum (default `1e-8`).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Maximize the objective instead of minimizing it (default `false`).
    pub maximize: bool,
}

impl Default for Adamax {
    fn default() -> Self {
        Adamax {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

const L2: u8 = 1;
const LERP_HIGH: u8 = 2;

struct AdamaxStep<const F: u8> {
    grad: GradIn,
    weight_decay: f32,
    exp_avg: Lerp,
    beta2: f32,
    eps: f32,
    neg_clr: f32,
}

impl<const F: u8> Update for AdamaxStep<F> {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let mut g = self.grad.apply(g);
        if F & L2 != 0 {
            g = g + L::splat(self.weight_decay) * p;
        }
        let m = self.exp_avg.apply(state[0], g, F & LERP_HIGH != 0);
        let u = (state[1] * L::splat(self.beta2)).max(g.abs() + L::splat(self.eps));
        state[0] = m;
        state[1] = u;
        p + (L::splat(self.neg_clr) * m) / u
    }
}

impl sealed::Apply for Adamax {
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
        let bias_correction1 = 1.0 - libm::pow(beta1, t as f64);
        let exp_avg = Lerp::new(1.0 - beta1);
        let flags = flag(self.weight_decay != 0.0, L2) | flag(exp_avg.is_high(), LERP_HIGH);
        specialize!(flags, bits = 2, |F| {
            let step = AdamaxStep::<F> {
                grad: GradIn::new(prescale, self.maximize),
                weight_decay: f32_of(self.weight_decay),
                exp_avg,
                beta2: f32_of(beta2),
                eps: f32_of(self.eps),
                neg_clr: f32_of(-(self.lr / bias_correction1)),
            };
            simd::run::<_, 2>(backend, &step, params, grads, optimizer::planes(planes));
        });
    }
}

impl Optimizer for Adamax {
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
        &["exp_avg", "exp_inf"]
    }
}

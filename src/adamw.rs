//! AdamW: Adam with decoupled weight decay.

use crate::optimizer::{Optimizer, Prescale, sealed};
use crate::{Adam, Backend, Error};

/// AdamW, as `torch.optim.AdamW`: [`Adam`] with decoupled weight decay, default `1e-2`.
///
/// For each element (see [`Adam`] for the notation and rounding):
///
/// ```text
/// g ← −g                                       if maximize
/// p ← p · (1 − lr · weight_decay)
/// m ← lerp(m, g, 1 − β1)
/// v ← β2 · v + ((1 − β2) · g) · g
/// v̂ ← max(v̂, v)                                if amsgrad
/// p ← p + (−(lr / (1 − β1ᵗ)) · m) / (√(amsgrad ? v̂ : v) / √(1 − β2ᵗ) + eps)
/// ```
///
/// State: as [`Adam`]'s (`"exp_avg"`, `"exp_avg_sq"`, and `"max_exp_avg_sq"` with AMSGrad).
/// optax's `adamw` defaults `weight_decay` to `1e-4`; PyTorch's (and this crate's) is `1e-2`.
///
/// ```
/// use fused_optim::{AdamW, Optimizer};
///
/// let adamw = AdamW { lr: 0.1, weight_decay: 0.5, ..AdamW::default() };
/// let mut p = [1.0_f32];
/// let mut state = [0.0_f32; 2];
/// adamw.step(1, &mut p, &[0.0], &mut state)?; // zero gradient: only the decay acts
/// assert_eq!(p[0], 0.95);
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamW {
    /// Learning rate (default `1e-3`).
    pub lr: f64,
    /// Decay rates `(β1, β2)` of the first and second moments (default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Added to the denominator, outside the square root (default `1e-8`).
    pub eps: f64,
    /// Decoupled weight decay: `p ← p · (1 − lr · weight_decay)` each step (default `1e-2`).
    pub weight_decay: f64,
    /// Use the AMSGrad variant (default `false`).
    pub amsgrad: bool,
    /// Maximize the objective instead of minimizing it (default `false`).
    pub maximize: bool,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl From<AdamW> for Adam {
    fn from(w: AdamW) -> Adam {
        Adam {
            lr: w.lr,
            betas: w.betas,
            eps: w.eps,
            weight_decay: w.weight_decay,
            amsgrad: w.amsgrad,
            maximize: w.maximize,
            decoupled_weight_decay: true,
        }
    }
}

impl sealed::Apply for AdamW {
    fn apply(
        &self,
        backend: Backend,
        t: u64,
        prescale: Prescale,
        params: &mut [f32],
        grads: &[f32],
        planes: &mut [&mut [f32]],
    ) {
        Adam::from(*self).apply(backend, t, prescale, params, grads, planes);
    }
}

impl Optimizer for AdamW {
    fn validate(&self) -> Result<(), Error> {
        Adam::from(*self).validate()
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state_names(&self) -> &'static [&'static str] {
        Adam::from(*self).state_names()
    }
}

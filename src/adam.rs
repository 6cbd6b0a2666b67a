//! Adam, with L2 or decoupled weight decay and AMSGrad.

use crate::optimizer::{
    self, GradIn, Lerp, Optimizer, Prescale, f32_of, flag, non_negative, sealed, specialize,
    unit_interval,
};
use crate::simd::{self, Lane, Update};
use crate::{Backend, Error};

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
///     g ← g + weight_decay · p                 otherwise (L2)
/// m ← lerp(m, g, 1 − β1)                       (= β1 · m + (1 − β1) · g)
/// v ← β2 · v + ((1 − β2) · g) · g
/// bc1 = 1 − β1ᵗ,  bc2 = 1 − β2ᵗ                (per call, in f64)
/// v̂ ← max(v̂, v)                                if amsgrad (max over the raw v, NaN wins)
/// d = √(amsgrad ? v̂ : v) · (1 / √bc2) + eps
/// p ← p + (−(lr / bc1) · m) / d
/// ```
///
/// `lerp(m, g, w)` is PyTorch's: `m + w · (g − m)` when `|w| < 0.5`, else
/// `g − (g − m) · (1 − w)`. `1 − lr · weight_decay`, `lr / bc1` and `1 / √bc2` are computed
/// in `f64` and rounded once to `f32`, as PyTorch's single-tensor path does for its scalars.
///
/// **Differs from PyTorch:** PyTorch divides, `√v / f32(√bc2)`; the crate multiplies by
/// `f32(1 / √bc2)`. The result can differ by an ulp of `d`, and the step leaves the divider
/// (the slowest unit of a core) one operation per element instead of two, which makes the
/// step about 15 % faster wherever it is not waiting for memory. Both forms round twice, so
/// the error bound against exact arithmetic is the same (`tests/reference.rs`), and PyTorch's
/// golden trajectories are still matched within the tolerance of `tests/golden.rs`
/// (see `docs/conventions.md`).
///
/// State, in this order: `"exp_avg"`, `"exp_avg_sq"`, then `"max_exp_avg_sq"` if `amsgrad`;
/// all start at 0.
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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adam {
    /// Learning rate (default `1e-3`).
    pub lr: f64,
    /// Decay rates `(β1, β2)` of the first and second moments (default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Added to the denominator, outside the square root, after bias correction
    /// (default `1e-8`).
    pub eps: f64,
    /// Weight decay (default 0): an L2 penalty, or decoupled if `decoupled_weight_decay`.
    pub weight_decay: f64,
    /// Use the AMSGrad variant (default `false`).
    pub amsgrad: bool,
    /// Maximize the objective instead of minimizing it (default `false`).
    pub maximize: bool,
    /// Decay the parameters directly (AdamW) instead of adding an L2 term to the gradient
    /// (default `false`).
    pub decoupled_weight_decay: bool,
}

impl Default for Adam {
    fn default() -> Self {
        Adam {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }
    }
}

const AMSGRAD: u8 = 1;
const L2: u8 = 2;
const DECOUPLED: u8 = 4;
const LERP_HIGH: u8 = 8;

/// The part of a step Adam shares with NAdam and RAdam: the gradient transform, weight decay
/// (L2 or decoupled) and the two moment updates, with their scalars rounded once per call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamMoments {
    grad: GradIn,
    weight_decay: f32,
    decay: f32,
    /// The first moment's lerp; its [`Lerp::is_high`] is a kernel flag of each optimizer.
    pub(crate) exp_avg: Lerp,
    beta2: f32,
    one_minus_beta2: f32,
}

impl AdamMoments {
    /// The scalars of one call, from the optimizer's hyper-parameters.
    pub(crate) fn new(
        prescale: Prescale,
        maximize: bool,
        lr: f64,
        weight_decay: f64,
        (beta1, beta2): (f64, f64),
    ) -> Self {
        AdamMoments {
            grad: GradIn::new(prescale, maximize),
            weight_decay: f32_of(weight_decay),
            decay: f32_of(1.0 - lr * weight_decay),
            exp_avg: Lerp::new(1.0 - beta1),
            beta2: f32_of(beta2),
            one_minus_beta2: f32_of(1.0 - beta2),
        }
    }

    /// For one element: `g ← ±g` (prescaled), weight decay (`decoupled`: `p ← p · (1 − lr ·
    /// wd)`; `l2`: `g ← g + wd · p`), `m ← lerp(m, g, 1 − β1)` (`lerp_high`: its second
    /// form), `v ← β2 · v + ((1 − β2) · g) · g`. Writes `m` and `v` to `state[0]` and
    /// `state[1]` and returns `(p, g, m, v)`. The flags are the caller's kernel constants, so
    /// each test folds away.
    #[inline(always)]
    pub(crate) fn update<L: Lane>(
        &self,
        p: L,
        g: L,
        state: &mut [L],
        decoupled: bool,
        l2: bool,
        lerp_high: bool,
    ) -> (L, L, L, L) {
        let mut g = self.grad.apply(g);
        let mut p = p;
        if decoupled {
            p = p * L::splat(self.decay);
        }
        if l2 {
            g = g + L::splat(self.weight_decay) * p;
        }
        let m = self.exp_avg.apply(state[0], g, lerp_high);
        let v = state[1] * L::splat(self.beta2) + (L::splat(self.one_minus_beta2) * g) * g;
        state[0] = m;
        state[1] = v;
        (p, g, m, v)
    }
}

struct AdamStep<const F: u8> {
    moments: AdamMoments,
    inv_bias_correction2_sqrt: f32,
    eps: f32,
    neg_step_size: f32,
}

impl<const F: u8> Update for AdamStep<F> {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let (decoupled, l2, lerp_high) = (F & DECOUPLED != 0, F & L2 != 0, F & LERP_HIGH != 0);
        let (p, _, m, v) = self.moments.update(p, g, state, decoupled, l2, lerp_high);
        let v = if F & AMSGRAD != 0 {
            let v_max = state[2].max(v);
            state[2] = v_max;
            v_max
        } else {
            v
        };
        let denom = v.sqrt() * L::splat(self.inv_bias_correction2_sqrt) + L::splat(self.eps);
        p + (L::splat(self.neg_step_size) * m) / denom
    }
}

impl sealed::Apply for Adam {
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
        let t = t as f64;
        let bias_correction1 = 1.0 - libm::pow(beta1, t);
        let bias_correction2 = 1.0 - libm::pow(beta2, t);
        let moments = AdamMoments::new(
            prescale,
            self.maximize,
            self.lr,
            self.weight_decay,
            self.betas,
        );
        let decays = self.weight_decay != 0.0;
        let flags = flag(self.amsgrad, AMSGRAD)
            | flag(decays && !self.decoupled_weight_decay, L2)
            | flag(decays && self.decoupled_weight_decay, DECOUPLED)
            | flag(moments.exp_avg.is_high(), LERP_HIGH);
        specialize!(flags, bits = 4, |F| {
            let step = AdamStep::<F> {
                moments,
                inv_bias_correction2_sqrt: f32_of(1.0 / libm::sqrt(bias_correction2)),
                eps: f32_of(self.eps),
                neg_step_size: f32_of(-(self.lr / bias_correction1)),
            };
            if F & AMSGRAD != 0 {
                simd::run::<_, 3>(backend, &step, params, grads, optimizer::planes(planes));
            } else {
                simd::run::<_, 2>(backend, &step, params, grads, optimizer::planes(planes));
            }
        });
    }
}

/// The checks of the hyper-parameters Adam shares with Adamax, NAdam and RAdam: `lr`,
/// `eps` and `weight_decay` non-negative, both betas in `[0, 1)`, in that order.
pub(crate) fn validate_adam_hyper_parameters(
    lr: f64,
    (beta1, beta2): (f64, f64),
    eps: f64,
    weight_decay: f64,
) -> Result<(), Error> {
    non_negative("lr", lr)?;
    unit_interval("betas.0", beta1)?;
    unit_interval("betas.1", beta2)?;
    non_negative("eps", eps)?;
    non_negative("weight_decay", weight_decay)
}

impl Optimizer for Adam {
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
        if self.amsgrad {
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["exp_avg", "exp_avg_sq"]
        }
    }
}

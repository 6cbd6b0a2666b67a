//! Lion: sign momentum (Chen et al. 2023), with decoupled weight decay, as optax computes it.

use crate::optimizer::{
    self, GradIn, Optimizer, Prescale, f32_of, flag, non_negative, sealed, specialize,
    unit_interval,
};
use crate::simd::{self, Lane, Update};
use crate::{Backend, Error};

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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lion {
    /// Learning rate (default `1e-4`).
    pub lr: f64,
    /// `(β1, β2)`: the interpolation factor of the signed term and the decay rate of the
    /// momentum (default `(0.9, 0.99)`).
    pub betas: (f64, f64),
    /// Decoupled weight decay: `lr · weight_decay · p` is subtracted from `p` each step
    /// (default `1e-3`).
    pub weight_decay: f64,
    /// Maximize the objective instead of minimizing it (default `false`).
    pub maximize: bool,
}

impl Default for Lion {
    fn default() -> Self {
        Lion {
            lr: 1e-4,
            betas: (0.9, 0.99),
            weight_decay: 1e-3,
            maximize: false,
        }
    }
}

const DECAY: u8 = 1;

struct LionStep<const F: u8> {
    grad: GradIn,
    weight_decay: f32,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    neg_lr: f32,
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

impl<const F: u8> Update for LionStep<F> {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let g = self.grad.apply(g);
        let m = state[0];
        let c = L::splat(self.beta1) * m + L::splat(self.one_minus_beta1) * g;
        state[0] = L::splat(self.beta2) * m + L::splat(self.one_minus_beta2) * g;
        let mut u = sign(c);
        if F & DECAY != 0 {
            u = u + L::splat(self.weight_decay) * p;
        }
        p + L::splat(self.neg_lr) * u
    }
}

impl sealed::Apply for Lion {
    fn apply(
        &self,
        backend: Backend,
        _t: u64,
        prescale: Prescale,
        params: &mut [f32],
        grads: &[f32],
        planes: &mut [&mut [f32]],
    ) {
        let (beta1, beta2) = self.betas;
        let flags = flag(self.weight_decay != 0.0, DECAY);
        specialize!(flags, bits = 1, |F| {
            let step = LionStep::<F> {
                grad: GradIn::new(prescale, self.maximize),
                weight_decay: f32_of(self.weight_decay),
                beta1: f32_of(beta1),
                one_minus_beta1: f32_of(1.0 - beta1),
                beta2: f32_of(beta2),
                one_minus_beta2: f32_of(1.0 - beta2),
                neg_lr: f32_of(-self.lr),
            };
            simd::run::<_, 1>(backend, &step, params, grads, optimizer::planes(planes));
        });
    }
}

impl Optimizer for Lion {
    fn validate(&self) -> Result<(), Error> {
        non_negative("lr", self.lr)?;
        unit_interval("betas.0", self.betas.0)?;
        unit_interval("betas.1", self.betas.1)?;
        non_negative("weight_decay", self.weight_decay)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["exp_avg"]
    }
}

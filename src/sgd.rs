//! Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay.

use crate::optimizer::{
    self, GradIn, Optimizer, Prescale, f32_of, finite, flag, non_negative, sealed, specialize,
};
use crate::simd::{self, Lane, Update};
use crate::{Backend, Error};

/// Stochastic gradient descent, as `torch.optim.SGD`.
///
/// For each element, with gradient `g`, parameter `p` and (with momentum) buffer `b`:
///
/// ```text
/// g ← −g                                    if maximize
/// g ← g + weight_decay · p                  if weight_decay ≠ 0
/// if momentum ≠ 0:
///     b ← g                                 at t = 1 (PyTorch creates the buffer from g:
///                                            no dampening on the first step)
///     b ← momentum · b + (1 − dampening) · g at t > 1
///     g ← g + momentum · b                  if nesterov
///     g ← b                                 otherwise
/// p ← p − lr · g
/// ```
///
/// State: `["momentum_buffer"]` when `momentum ≠ 0`, none otherwise. At `t = 1` the buffer's
/// content is ignored (it is overwritten with `g`), so it needs no initial value.
///
/// Each product is rounded separately (PyTorch's CPU kernels fuse some of them; see the
/// crate docs). `weight_decay`, `momentum`, `lr` and `1 − dampening` enter the kernel rounded
/// once to `f32` from the `f64` hyper-parameters, as PyTorch passes Python floats.
///
/// The seeds' forms: plain gradient descent is the default with `momentum = 0`; heavy-ball
/// momentum `b ← βb + g` is `momentum = β`; the moving-average form `b ← βb + (1 − β)g` is
/// `momentum = dampening = β` (with `b = g` on the first step).
///
/// ```
/// use fused_optim::{Optimizer, Sgd};
///
/// let sgd = Sgd { lr: 0.1, momentum: 0.9, ..Sgd::default() };
/// let mut p = [1.0_f32];
/// let mut buf = [0.0_f32; 1];
/// sgd.step(1, &mut p, &[2.0], &mut buf)?; // b = 2, p = 1 − 0.1·2
/// assert_eq!((p[0], buf[0]), (0.8, 2.0));
/// sgd.step(2, &mut p, &[2.0], &mut buf)?; // b = 0.9·2 + 2 = 3.8, p = 0.8 − 0.38
/// assert_eq!((p[0], buf[0]), (0.8_f32 - 0.1 * 3.8, 3.8));
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate (default `1e-3`, PyTorch's since it made `lr` optional).
    pub lr: f64,
    /// Momentum factor (default 0: no momentum buffer).
    pub momentum: f64,
    /// Dampening of the gradient's contribution to the buffer (default 0).
    pub dampening: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default `false`); needs `momentum > 0` and `dampening = 0`.
    pub nesterov: bool,
    /// Maximize the objective instead of minimizing it (default `false`).
    pub maximize: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

const MOMENTUM: u8 = 1;
const FIRST: u8 = 2;
const NESTEROV: u8 = 4;
const L2: u8 = 8;

/// The per-call scalars; `F` holds the option flags.
struct SgdStep<const F: u8> {
    grad: GradIn,
    weight_decay: f32,
    momentum: f32,
    one_minus_dampening: f32,
    neg_lr: f32,
}

impl<const F: u8> Update for SgdStep<F> {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let mut g = self.grad.apply(g);
        if F & L2 != 0 {
            g = g + L::splat(self.weight_decay) * p;
        }
        if F & MOMENTUM != 0 {
            let buf = if F & FIRST != 0 {
                g
            } else {
                state[0] * L::splat(self.momentum) + L::splat(self.one_minus_dampening) * g
            };
            state[0] = buf;
            g = if F & NESTEROV != 0 {
                g + L::splat(self.momentum) * buf
            } else {
                buf
            };
        }
        p + L::splat(self.neg_lr) * g
    }
}

impl sealed::Apply for Sgd {
    fn apply(
        &self,
        backend: Backend,
        t: u64,
        prescale: Prescale,
        params: &mut [f32],
        grads: &[f32],
        planes: &mut [&mut [f32]],
    ) {
        let flags = flag(self.momentum != 0.0, MOMENTUM)
            | flag(t == 1, FIRST)
            | flag(self.nesterov, NESTEROV)
            | flag(self.weight_decay != 0.0, L2);
        specialize!(flags, bits = 4, |F| {
            let step = SgdStep::<F> {
                grad: GradIn::new(prescale, self.maximize),
                weight_decay: f32_of(self.weight_decay),
                momentum: f32_of(self.momentum),
                one_minus_dampening: f32_of(1.0 - self.dampening),
                neg_lr: f32_of(-self.lr),
            };
            if F & MOMENTUM != 0 {
                simd::run::<_, 1>(backend, &step, params, grads, optimizer::planes(planes));
            } else {
                simd::run::<_, 0>(backend, &step, params, grads, []);
            }
        });
    }
}

impl Optimizer for Sgd {
    fn validate(&self) -> Result<(), Error> {
        non_negative("lr", self.lr)?;
        non_negative("momentum", self.momentum)?;
        finite("dampening", self.dampening)?;
        non_negative("weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::IncompatibleOptions {
                reason: "nesterov momentum requires momentum > 0 and dampening = 0",
            });
        }
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state_names(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum_buffer"]
        } else {
            &[]
        }
    }
}

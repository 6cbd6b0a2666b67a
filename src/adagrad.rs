//! Adagrad with learning-rate decay and L2 weight decay.

use crate::optimizer::{
    self, GradIn, Optimizer, Prescale, f32_of, flag, non_negative, sealed, specialize,
};
use crate::simd::{self, Lane, Update};
use crate::{Backend, Error};

/// Adagrad, as `torch.optim.Adagrad`.
///
/// For each element, with gradient `g`, parameter `p` and accumulator `s`:
///
/// ```text
/// g   ← −g                                  if maximize
/// g   ← g + weight_decay · p                if weight_decay ≠ 0
/// clr = lr / (1 + (t − 1) · lr_decay)        (per call, in f64)
/// s   ← s + g · g
/// p   ← p + (−clr · g) / (√s + eps)
/// ```
///
/// State: `["sum"]`, initialised to `initial_accumulator_value` by
/// [`init_state`](Optimizer::init_state). `eps` is added *outside* the square root (PyTorch;
/// optax's `adagrad` adds it inside and starts the accumulator at 0.1).
///
/// ```
/// use fused_optim::{Adagrad, Optimizer};
///
/// let adagrad = Adagrad { lr: 0.5, eps: 0.0, ..Adagrad::default() };
/// let mut p = [1.0_f32];
/// let mut sum = [0.0_f32];
/// adagrad.step(1, &mut p, &[2.0], &mut sum)?; // s = 4, p = 1 − 0.5·2/2
/// assert_eq!((p[0], sum[0]), (0.5, 4.0));
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adagrad {
    /// Learning rate (default `1e-2`).
    pub lr: f64,
    /// Learning-rate decay (default 0).
    pub lr_decay: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Initial value of the accumulator `sum` (default 0).
    pub initial_accumulator_value: f64,
    /// Added to the denominator, outside the square root (default `1e-10`).
    pub eps: f64,
    /// Maximize the objective instead of minimizing it (default `false`).
    pub maximize: bool,
}

impl Default for Adagrad {
    fn default() -> Self {
        Adagrad {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

const L2: u8 = 1;

struct AdagradStep<const F: u8> {
    grad: GradIn,
    weight_decay: f32,
    neg_clr: f32,
    eps: f32,
}

impl<const F: u8> Update for AdagradStep<F> {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let mut g = self.grad.apply(g);
        if F & L2 != 0 {
            g = g + L::splat(self.weight_decay) * p;
        }
        let sum = state[0] + g * g;
        state[0] = sum;
        p + (L::splat(self.neg_clr) * g) / (sum.sqrt() + L::splat(self.eps))
    }
}

impl sealed::Apply for Adagrad {
    fn initial_value(&self, _plane: usize) -> f32 {
        f32_of(self.initial_accumulator_value)
    }

    fn apply(
        &self,
        backend: Backend,
        t: u64,
        prescale: Prescale,
        params: &mut [f32],
        grads: &[f32],
        planes: &mut [&mut [f32]],
    ) {
        let clr = self.lr / (1.0 + (t - 1) as f64 * self.lr_decay);
        let flags = flag(self.weight_decay != 0.0, L2);
        specialize!(flags, bits = 1, |F| {
            let step = AdagradStep::<F> {
                grad: GradIn::new(prescale, self.maximize),
                weight_decay: f32_of(self.weight_decay),
                neg_clr: f32_of(-clr),
                eps: f32_of(self.eps),
            };
            simd::run::<_, 1>(backend, &step, params, grads, optimizer::planes(planes));
        });
    }
}

impl Optimizer for Adagrad {
    fn validate(&self) -> Result<(), Error> {
        non_negative("lr", self.lr)?;
        non_negative("lr_decay", self.lr_decay)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        non_negative("eps", self.eps)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["sum"]
    }
}

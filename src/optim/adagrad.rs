//! Adagrad with learning-rate decay and L2 weight decay.

use super::common::{GradIn, f32_of, kernel, non_negative, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// Adagrad, as `torch.optim.Adagrad`.
    ///
    /// For each element, with gradient `g`, parameter `p` and accumulator `s`:
    ///
    /// ```text
    /// g   ← −g                                  if maximize
    /// g   ← fma(p, weight_decay, g)             if weight_decay ≠ 0
    /// clr = lr / (1 + (t − 1) · lr_decay)        (per call, in f64)
    /// s   ← fma(g, g, s)
    /// p   ← p + ((−clr) · g) / (√s + eps)
    /// ```
    ///
    /// `fma(a, b, c)` is `a · b + c` with one rounding: the crate fuses exactly where PyTorch's
    /// CPU kernels do, and rounds every other operation as written, in this order.
    ///
    /// State: `["sum"]`, initialised to `initial_accumulator_value` by
    /// [`init_state`](Optimizer::init_state). `eps` is added *outside* the square root (PyTorch;
    /// optax's `adagrad` adds it inside and starts the accumulator at 0.1).
    ///
    /// # PyTorch and optax
    ///
    /// | | PyTorch (the crate) | optax `adagrad(learning_rate, initial_accumulator_value=0.1, eps=1e-7)` |
    /// |---|---|---|
    /// | accumulator start | `0` | `0.1` |
    /// | `eps` | `1e-10`, **outside** the square root: `g / (√s + eps)` | `1e-7`, **inside**: `g · rsqrt(s + eps)`, and 0 where `s = 0` |
    /// | learning-rate decay | `lr_decay`: `lr / (1 + (t − 1)·lr_decay)` | none (use a schedule) |
    /// | weight decay | `weight_decay` (L2) | chain `add_decayed_weights` |
    ///
    /// The accumulator start and the `eps` placement change the first steps noticeably: with
    /// optax's defaults the first step is `lr · g / √(0.1 + g² + 1e-7)` instead of `lr · g / |g|`.
    /// The crate follows PyTorch.
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
    pub struct Adagrad {
        /// Learning rate (default `1e-2`).
        pub lr: f64 = 1e-2,
        /// Learning-rate decay (default 0).
        pub lr_decay: f64 = 0.0,
        /// L2 penalty added to the gradient (default 0).
        pub weight_decay: f64 = 0.0,
        /// Initial value of the accumulator `sum` (default 0).
        pub initial_accumulator_value: f64 = 0.0,
        /// Added to the denominator, outside the square root (default `1e-10`).
        pub eps: f64 = 1e-10,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

step_scalars! {
    /// One Adagrad step's scalars, rounded once; `L2` selects the kernel.
    struct AdagradScalars {
        grad: GradIn,
        neg_clr: f32,
        eps: f32,
    }
}

kernel! {
    AdagradStep<const L2: bool>(AdagradScalars)
    |s, p, g, state| {
        let g = s.grad.with_l2::<L, L2>(g, p);
        let sum = g.mul_add(g, state[0]);
        state[0] = sum;
        p + (L::splat(s.neg_clr) * g) / (sum.sqrt() + L::splat(s.eps))
    }
}

impl sealed::Apply for Adagrad {
    fn initial_value(&self, _plane: usize) -> f32 {
        f32_of(self.initial_accumulator_value)
    }

    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let clr = self.lr / (1.0 + (call.t - 1) as f64 * self.lr_decay);
        let s = AdagradScalars {
            grad: GradIn::new(call.prescale, self.maximize, self.weight_decay),
            neg_clr: f32_of(-clr),
            eps: f32_of(self.eps),
        };
        if self.weight_decay != 0.0 {
            run::<_, 1>(call, &AdagradStep::<true>(s))
        } else {
            run::<_, 1>(call, &AdagradStep::<false>(s))
        }
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

    fn state_names(&self) -> &'static [&'static str] {
        &["sum"]
    }
}

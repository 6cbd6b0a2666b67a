//! Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay.

use super::common::{GradIn, f32_of, finite, kernel, non_negative, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// Stochastic gradient descent, as `torch.optim.SGD`.
    ///
    /// For each element, with gradient `g`, parameter `p` and (with momentum) buffer `b`:
    ///
    /// ```text
    /// g ← −g                                    if maximize
    /// g ← fma(p, weight_decay, g)               if weight_decay ≠ 0
    /// if momentum ≠ 0:
    ///     b ← g                                 at t = 1 (PyTorch creates the buffer from g:
    ///                                            no dampening on the first step)
    ///     b ← fma(g, 1 − dampening, momentum · b) at t > 1
    ///     g ← fma(b, momentum, g)               if nesterov
    ///     g ← b                                 otherwise
    /// p ← fma(g, −lr, p)
    /// ```
    ///
    /// `fma(a, b, c)` is `a · b + c` with one rounding: the crate fuses exactly where PyTorch's
    /// CPU kernels do, and rounds every other operation as written, in this order.
    ///
    /// State: `["momentum_buffer"]` when `momentum ≠ 0`, none otherwise. At `t = 1` the buffer's
    /// content is ignored (it is overwritten with `g`), so it needs no initial value.
    ///
    /// `weight_decay`, `momentum`, `−lr` and `1 − dampening` enter the kernel rounded once to
    /// `f32` from the `f64` hyper-parameters, as PyTorch passes Python floats.
    ///
    /// Common forms: plain gradient descent is the default with `momentum = 0`; heavy-ball
    /// momentum `b ← βb + g` is `momentum = β`; the moving-average form `b ← βb + (1 − β)g` is
    /// `momentum = dampening = β` (with `b = g` on the first step).
    ///
    /// # PyTorch and optax
    ///
    /// | | PyTorch (the crate) | optax `sgd(learning_rate, momentum=None, nesterov=False)` |
    /// |---|---|---|
    /// | learning rate | default `1e-3` | required |
    /// | momentum | `b ← μb + (1 − d)g`; `b = g` on step 1 | `trace`: `b ← g + μb` from `b = 0`, so also `b = g` on step 1 |
    /// | dampening | yes, skipped on step 1 | none (equals `dampening = 0`) |
    /// | Nesterov | `g + μ·b_new` | `g + μ·b_new`: the same form |
    /// | weight decay | `weight_decay` (L2) | chain `add_decayed_weights` before `sgd` |
    ///
    /// With `dampening = 0` and no weight decay the two are the same algorithm. Neither uses the
    /// "look-ahead" Nesterov form (gradient evaluated at `p + μb`); both use the rewritten form above.
    /// The crate follows PyTorch, including the undampened first step.
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
    pub struct Sgd {
        /// Learning rate (default `1e-3`, PyTorch's since it made `lr` optional).
        pub lr: f64 = 1e-3,
        /// Momentum factor (default 0: no momentum buffer).
        pub momentum: f64 = 0.0,
        /// Dampening of the gradient's contribution to the buffer (default 0).
        pub dampening: f64 = 0.0,
        /// L2 penalty added to the gradient (default 0).
        pub weight_decay: f64 = 0.0,
        /// Nesterov momentum (default `false`); needs `momentum > 0` and `dampening = 0`.
        pub nesterov: bool = false,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

step_scalars! {
    /// One SGD step's scalars, rounded once. `MOMENTUM`, `FIRST` (the step that creates the
    /// buffer), `NESTEROV` and `L2` select the kernel; the valid combinations are listed in
    /// `apply`.
    struct SgdScalars {
        grad: GradIn,
        momentum: f32,
        one_minus_dampening: f32,
        neg_lr: f32,
    }
}

kernel! {
    SgdStep<
        const MOMENTUM: bool,
        const FIRST: bool,
        const NESTEROV: bool,
        const L2: bool,
    >(SgdScalars)
    |s, p, g, state| {
        let mut g = s.grad.with_l2::<L, L2>(g, p);
        if MOMENTUM {
            let buf = if FIRST {
                g
            } else {
                g.mul_add(
                    L::splat(s.one_minus_dampening),
                    state[0] * L::splat(s.momentum),
                )
            };
            state[0] = buf;
            g = if NESTEROV {
                buf.mul_add(L::splat(s.momentum), g)
            } else {
                buf
            };
        }
        g.mul_add(L::splat(s.neg_lr), p)
    }
}

impl sealed::Apply for Sgd {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let s = SgdScalars {
            grad: GradIn::new(call.prescale, self.maximize, self.weight_decay),
            momentum: f32_of(self.momentum),
            one_minus_dampening: f32_of(1.0 - self.dampening),
            neg_lr: f32_of(-self.lr),
        };
        let momentum = self.momentum != 0.0;
        let first = call.t == 1;
        let l2 = self.weight_decay != 0.0;
        // Nesterov needs momentum (validated); without momentum the step number is irrelevant.
        match (momentum, first, self.nesterov, l2) {
            (false, _, _, false) => run::<_, 0>(call, &SgdStep::<false, false, false, false>(s)),
            (false, _, _, true) => run::<_, 0>(call, &SgdStep::<false, false, false, true>(s)),
            (true, false, false, false) => {
                run::<_, 1>(call, &SgdStep::<true, false, false, false>(s))
            }
            (true, false, false, true) => {
                run::<_, 1>(call, &SgdStep::<true, false, false, true>(s))
            }
            (true, false, true, false) => {
                run::<_, 1>(call, &SgdStep::<true, false, true, false>(s))
            }
            (true, false, true, true) => run::<_, 1>(call, &SgdStep::<true, false, true, true>(s)),
            (true, true, false, false) => {
                run::<_, 1>(call, &SgdStep::<true, true, false, false>(s))
            }
            (true, true, false, true) => run::<_, 1>(call, &SgdStep::<true, true, false, true>(s)),
            (true, true, true, false) => run::<_, 1>(call, &SgdStep::<true, true, true, false>(s)),
            (true, true, true, true) => run::<_, 1>(call, &SgdStep::<true, true, true, true>(s)),
        }
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

    fn state_names(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum_buffer"]
        } else {
            &[]
        }
    }
}

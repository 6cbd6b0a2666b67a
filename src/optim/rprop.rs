//! Rprop: resilient back-propagation, per-element step sizes driven by gradient signs.

use super::common::{GradIn, f32_of, non_negative, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};
use crate::simd::{Lane, Update};

hyper_parameters! {
    /// Rprop, as `torch.optim.Rprop` (Riedmiller & Braun 1993, the variant without
    /// weight-backtracking that PyTorch implements).
    ///
    /// For each element, with gradient `g`, parameter `p`, previous (filtered) gradient `prev` and
    /// step size `s`:
    ///
    /// ```text
    /// g ← −g                                     if maximize
    /// f = etaplus    if sign(g · prev) > 0       (the same sign twice: accelerate)
    ///     etaminus   if sign(g · prev) < 0       (the sign flipped: a minimum was jumped over)
    ///     1          otherwise                   (a zero, or NaN: torch.sign(NaN) = 0)
    /// s ← clamp(s · f, step_sizes.0, step_sizes.1)
    /// g ← 0                                      if f = etaminus (skip this step, forget g)
    /// p ← p − sign(g) · s
    /// prev ← g
    /// ```
    ///
    /// `sign` is `torch.sign` on CPU: −1, 0 or +1, with `sign(±0) = +0` and `sign(NaN) = 0`.
    /// `g · prev` is rounded to `f32` before its sign is taken (so products that underflow count
    /// as 0, as in PyTorch), and `etaplus`, `etaminus` and the step-size bounds enter the kernel
    /// rounded once to `f32`; `sign(g) · s` is exact, so the parameter update is PyTorch's bit
    /// for bit. `clamp` is `torch.clamp`: a NaN step size stays NaN.
    ///
    /// State, in this order: `"prev"`, starting at 0, and `"step_size"`, which
    /// [`init_state`](Optimizer::init_state) fills with `lr` (rounded to `f32`), as PyTorch
    /// does. `lr` is used only there: like PyTorch's, a learning rate set after the state was
    /// initialised (a schedule) does not change the steps, which the `step_size` plane governs.
    /// Rprop is meant for full-batch gradients; nothing about it depends on `t`.
    ///
    /// optax has no Rprop. The original paper's Rprop⁻ is this algorithm; its other variants
    /// (Rprop⁺ with weight-backtracking, iRprop⁺) are not implemented, in PyTorch or here.
    ///
    /// Non-finite gradients: only the sign of the gradient reaches the parameter, so an infinite
    /// gradient moves the parameter by `±s`, like any other of its sign, and leaves `±∞` in
    /// `prev` (which only its sign matters for); the step size stays finite. A NaN gradient leaves
    /// the parameter and the step size unchanged (`sign(NaN) = 0`) and puts NaN in `prev`, which
    /// the next step then treats as a zero (`f = 1`).
    ///
    /// ```
    /// use fused_optim::{Optimizer, Rprop};
    ///
    /// let rprop = Rprop { lr: 0.5, ..Rprop::default() };
    /// let mut p = [1.0_f32, 1.0];
    /// let mut state = [0.0_f32; 4]; // prev, step_size
    /// rprop.init_state(&mut state)?; // prev = 0, step_size = lr
    /// assert_eq!(state, [0.0, 0.0, 0.5, 0.5]);
    /// rprop.step(1, &mut p, &[3.0, -3.0], &mut state)?; // f = 1: p ← p ∓ 0.5
    /// assert_eq!(p, [0.5, 1.5]);
    /// rprop.step(2, &mut p, &[1.0, 1.0], &mut state)?; // same sign: s = 0.6; flipped: s = 0.25
    /// assert_eq!(p, [0.5 - 0.6, 1.5]); // the flipped element skips this step
    /// assert_eq!(state, [1.0, 0.0, 0.6, 0.25]);
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct Rprop {
        /// The initial step size, written into the `step_size` plane by
        /// [`init_state`](Optimizer::init_state) (default `1e-2`).
        pub lr: f64 = 1e-2,
        /// `(etaminus, etaplus)`: the factors that shrink and grow the step size
        /// (default `(0.5, 1.2)`); `0 < etaminus < 1 < etaplus`.
        pub etas: (f64, f64) = (0.5, 1.2),
        /// `(min, max)`: the bounds of the step size (default `(1e-6, 50)`).
        pub step_sizes: (f64, f64) = (1e-6, 50.0),
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

step_scalars! {
    /// One Rprop step's scalars, rounded once (one kernel).
    struct RpropStep {
        grad: GradIn,
        etaminus: f32,
        etaplus: f32,
        step_size_min: f32,
        step_size_max: f32,
    }
}

/// `torch.sign` on CPU: −1, 0 or 1; `+0` for ±0 and for NaN.
#[inline(always)]
fn torch_sign<L: Lane>(x: L) -> L {
    let zero = L::splat(0.0);
    L::select(
        x.gt(zero),
        L::splat(1.0),
        L::select(x.lt(zero), L::splat(-1.0), zero),
    )
}

impl Update for RpropStep {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let g = self.grad.apply(g);
        let zero = L::splat(0.0);
        let etaminus = L::splat(self.etaminus);
        let direction = g * state[0];
        let factor = L::select(
            direction.gt(zero),
            L::splat(self.etaplus),
            L::select(direction.lt(zero), etaminus, L::splat(1.0)),
        );
        let step_size = (state[1] * factor)
            .max(L::splat(self.step_size_min))
            .min(L::splat(self.step_size_max));
        // g ← 0 where factor == etaminus (factor is never NaN).
        let g = L::select(
            factor.lt(etaminus),
            g,
            L::select(factor.gt(etaminus), g, zero),
        );
        state[0] = g;
        state[1] = step_size;
        p + (-torch_sign(g)) * step_size
    }
}

impl sealed::Apply for Rprop {
    fn initial_value(&self, plane: usize) -> f32 {
        if plane == 1 { f32_of(self.lr) } else { 0.0 }
    }

    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let step = RpropStep {
            grad: GradIn::new(call.prescale, self.maximize, 0.0),
            etaminus: f32_of(self.etas.0),
            etaplus: f32_of(self.etas.1),
            step_size_min: f32_of(self.step_sizes.0),
            step_size_max: f32_of(self.step_sizes.1),
        };
        run::<_, 2>(call, &step)
    }
}

impl Optimizer for Rprop {
    fn validate(&self) -> Result<(), Error> {
        non_negative("lr", self.lr)?;
        let (etaminus, etaplus) = self.etas;
        if !(etaminus > 0.0 && etaminus < 1.0) {
            return Err(Error::InvalidHyperParameter {
                name: "etas.0",
                value: etaminus,
                expected: "in (0, 1)",
            });
        }
        if !(etaplus > 1.0 && f32_of(etaplus).is_finite()) {
            return Err(Error::InvalidHyperParameter {
                name: "etas.1",
                value: etaplus,
                expected: "finite as f32 and > 1",
            });
        }
        non_negative("step_sizes.0", self.step_sizes.0)?;
        non_negative("step_sizes.1", self.step_sizes.1)?;
        if self.step_sizes.0 > self.step_sizes.1 {
            return Err(Error::IncompatibleOptions {
                reason: "the minimum step size step_sizes.0 exceeds the maximum step_sizes.1",
            });
        }
        Ok(())
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["prev", "step_size"]
    }
}

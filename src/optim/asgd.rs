//! ASGD: averaged stochastic gradient descent, with L2 weight decay.

use super::common::{GradIn, f32_of, finite, non_negative, run};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};
use crate::simd::{Lane, Update};

hyper_parameters! {
    /// Averaged SGD, as `torch.optim.ASGD` (Polyak & Juditsky 1992, with Bottou's decreasing
    /// step size, as PyTorch implements it).
    ///
    /// For each element, with gradient `g`, parameter `p` and average `ax`:
    ///
    /// ```text
    /// g  ← −g                                    if maximize
    /// g  ← g + weight_decay · p                  if weight_decay ≠ 0
    /// ηₜ = f32(lr / (1 + lambd · lr · (t − 1))^alpha)    (per call, in f64; η₁ = lr)
    /// μₜ = f32(1 / max(1, t − 1 − t0))           (per call, in f64; μ₁ = 1)
    /// p  ← p · (1 − lambd · ηₜ)
    /// p  ← p + (−ηₜ) · g
    /// ax ← ax + (p − ax) · μₜ                    if μₜ ≠ 1
    /// ax ← p                                     if μₜ = 1 (a copy: PyTorch's branch)
    /// ```
    ///
    /// PyTorch keeps `η` and `μ` as `f32` scalar tensors in the state (`state["eta"]`,
    /// `state["mu"]`), computing after step `t` the values step `t + 1` uses. The crate computes
    /// them from `t` in closed form ([`Asgd::eta`], [`Asgd::mu`]), with PyTorch's roundings: `η`
    /// and `μ` are rounded to `f32` as PyTorch stores them, and `1 − lambd · η` is computed in
    /// `f64` from the rounded `η`, then rounded once, as PyTorch computes it from `eta.item()`.
    /// The caller carries only `t`. Averaging (`μₜ < 1`) happens at the steps `t > t0 + 2`;
    /// before them `ax` is a copy of `p` (with the default `t0 = 1e6`, for the first million
    /// steps). The two cases (`μₜ = 1` or not) are two kernels, chosen once per call.
    ///
    /// State: `["ax"]`, starting at 0 (PyTorch's `eta`, `mu` and `step` are the scalars above).
    ///
    /// optax has no ASGD (its averaging is `optax.contrib` / `ema` of the parameters, a
    /// different rule); the crate follows PyTorch.
    ///
    /// Non-finite gradients: as for [`Sgd`](crate::Sgd), a NaN gradient makes the element's
    /// parameter and `ax` NaN, and an infinite one sends the parameter to `∓∞` (the sign of the
    /// step) and `ax` to `∓∞` (or NaN, when averaging meets the opposite infinity).
    ///
    /// ```
    /// use fused_optim::{Asgd, Optimizer};
    ///
    /// let asgd = Asgd { lr: 0.5, lambd: 0.0, ..Asgd::default() };
    /// let mut p = [1.0_f32];
    /// let mut ax = [0.0_f32];
    /// asgd.step(1, &mut p, &[1.0], &mut ax)?; // η = 0.5, μ = 1: p = 1 − 0.5, ax = p
    /// assert_eq!((p[0], ax[0]), (0.5, 0.5));
    /// assert_eq!((asgd.eta(1), asgd.mu(1)), (0.5, 1.0));
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct Asgd {
        /// Learning rate: the first step size `η₁` (default `1e-2`).
        pub lr: f64 = 1e-2,
        /// Decay term: both the step size's decay rate and the parameter decay `1 − lambd · η`
        /// (default `1e-4`).
        pub lambd: f64 = 1e-4,
        /// Power of the step-size decay (default `0.75`).
        pub alpha: f64 = 0.75,
        /// The step after which averaging starts (default `1e6`).
        pub t0: f64 = 1e6,
        /// L2 penalty added to the gradient (default 0).
        pub weight_decay: f64 = 0.0,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

impl Asgd {
    /// The step size `η` step `t` uses: PyTorch's `state["eta"]` before step `t`,
    /// `f32(lr / (1 + lambd · lr · (t − 1))^alpha)` (`lr` for `t = 1`).
    pub fn eta(&self, t: u64) -> f32 {
        let steps_done = t.saturating_sub(1) as f64;
        f32_of(self.lr / libm::pow(1.0 + self.lambd * self.lr * steps_done, self.alpha))
    }

    /// The averaging weight `μ` step `t` uses: PyTorch's `state["mu"]` before step `t`,
    /// `f32(1 / max(1, t − 1 − t0))` (1 for `t = 1`).
    pub fn mu(&self, t: u64) -> f32 {
        if t <= 1 {
            return 1.0;
        }
        f32_of(1.0 / f64::max(1.0, (t - 1) as f64 - self.t0))
    }
}

/// One ASGD step's scalars, rounded once; `L2` and `AVERAGE` (`μ ≠ 1`) select the kernel.
#[derive(Clone, Copy, Debug)]
struct AsgdScalars {
    grad: GradIn,
    decay: f32,
    neg_eta: f32,
    mu: f32,
}

struct AsgdStep<const L2: bool, const AVERAGE: bool>(AsgdScalars);

impl<const L2: bool, const AVERAGE: bool> Update for AsgdStep<L2, AVERAGE> {
    #[inline(always)]
    fn update<L: Lane>(&self, p: L, g: L, state: &mut [L]) -> L {
        let s = &self.0;
        let g = s.grad.with_l2::<L, L2>(g, p);
        let p = p * L::splat(s.decay);
        let p = p + L::splat(s.neg_eta) * g;
        state[0] = if AVERAGE {
            state[0] + (p - state[0]) * L::splat(s.mu)
        } else {
            p
        };
        p
    }
}

impl sealed::Apply for Asgd {
    fn apply(&self, call: Call<'_, '_>) {
        let eta = self.eta(call.t);
        let mu = self.mu(call.t);
        let s = AsgdScalars {
            grad: GradIn::new(call.prescale, self.maximize, self.weight_decay),
            decay: f32_of(1.0 - self.lambd * f64::from(eta)),
            neg_eta: -eta,
            mu,
        };
        match (self.weight_decay != 0.0, mu != 1.0) {
            (false, false) => run::<_, 1>(call, &AsgdStep::<false, false>(s)),
            (false, true) => run::<_, 1>(call, &AsgdStep::<false, true>(s)),
            (true, false) => run::<_, 1>(call, &AsgdStep::<true, false>(s)),
            (true, true) => run::<_, 1>(call, &AsgdStep::<true, true>(s)),
        }
    }
}

impl Optimizer for Asgd {
    fn validate(&self) -> Result<(), Error> {
        non_negative("lr", self.lr)?;
        non_negative("lambd", self.lambd)?;
        non_negative("alpha", self.alpha)?;
        finite("t0", self.t0)?;
        non_negative("weight_decay", self.weight_decay)
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["ax"]
    }
}

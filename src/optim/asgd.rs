//! ASGD: averaged stochastic gradient descent, with L2 weight decay.

use super::common::{GradIn, f32_of, kernel, non_negative, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// Averaged SGD, as `torch.optim.ASGD` (Polyak & Juditsky 1992, with Bottou's decreasing
    /// step size, as PyTorch implements it).
    ///
    /// For each element, with gradient `g`, parameter `p` and average `ax`:
    ///
    /// ```text
    /// g  ← −g                                    if maximize
    /// g  ← fma(p, weight_decay, g)               if weight_decay ≠ 0
    /// p  ← p · (1 − lambd · η)                   (the factor in f64 from the f32 η)
    /// p  ← fma(g, −η, p)
    /// ax ← ax + (p − ax) · μ                     if μ ≠ 1
    /// ax ← p                                     if μ = 1 (a copy: PyTorch's branch)
    /// then, once per step (the scalar state, for step t + 1):
    /// η  ← f32(lr / (1 + lambd · lr · t)^alpha)  (f64, with the lr of this step)
    /// μ  ← f32(1 / max(1, t − t0))               (f64)
    /// ```
    ///
    /// `fma(a, b, c)` is `a · b + c` with one rounding, where PyTorch's CPU kernels fuse;
    /// every other operation is rounded as written.
    ///
    /// # `eta` and `mu`, the scalar state
    ///
    /// PyTorch keeps `η` and `μ` as `f32` 0-d tensors (`state["eta"]`, `state["mu"]`) and
    /// computes, at the end of step `t`, the values step `t + 1` uses, from the learning rate
    /// of step `t`. So does the crate: they are the two values of
    /// [`scalar_names`](Optimizer::scalar_names), after the plane in the state buffer,
    /// set to `f32(lr)` and 1 by [`init_state`](Optimizer::init_state) and advanced by every
    /// [`step`](Optimizer::step) (see [`advance_scalars`](Optimizer::advance_scalars) for
    /// sharded steps). A learning rate that changes between steps (a schedule) therefore acts
    /// one step later, as in PyTorch, and a run resumes from PyTorch's `eta` and `mu`.
    /// [`Asgd::eta`] and [`Asgd::mu`] give the values step `t` uses with a constant learning
    /// rate. Averaging (`μ < 1`) happens at the steps `t > t0 + 2`; before them `ax` is a
    /// copy of `p` (with the default `t0 = 1e6`, for the first million steps). The two cases
    /// (`μ = 1` or not) are two kernels, chosen once per call. An `eta` that is negative or
    /// not finite, or a `mu` outside `(0, 1]`, is refused with [`Error::InvalidState`].
    ///
    /// State: the plane `"ax"` (starts at 0), then the scalars `"eta"`, `"mu"`.
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
    /// let mut asgd = Asgd { lr: 0.5, lambd: 0.0, ..Asgd::default() };
    /// let mut p = [1.0_f32];
    /// let mut state = [0.0_f32; 3]; // ax, then eta and mu
    /// asgd.init_state(&mut state)?;
    /// assert_eq!(state[1..], [0.5, 1.0]);
    /// asgd.step(1, &mut p, &[1.0], &mut state)?; // η = 0.5, μ = 1: p = 1 − 0.5, ax = p
    /// assert_eq!(state[..1], [0.5]);
    /// asgd.lr = 0.25; // a schedule: step 2 still uses the η computed with lr = 0.5
    /// asgd.step(2, &mut p, &[1.0], &mut state)?;
    /// assert_eq!(p[0], 0.0);
    /// assert_eq!(state[1], 0.25); // η for step 3, from lr = 0.25
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
    /// The step size `η` step `t` uses with a constant learning rate: PyTorch's
    /// `state["eta"]` before step `t`, `f32(lr / (1 + lambd · lr · (t − 1))^alpha)` (`lr` for
    /// `t = 1`).
    pub fn eta(&self, t: u64) -> f32 {
        let steps_done = t.saturating_sub(1) as f64;
        f32_of(self.lr / libm::pow(1.0 + self.lambd * self.lr * steps_done, self.alpha))
    }

    /// The averaging weight `μ` step `t` uses: PyTorch's `state["mu"]` before step `t`,
    /// whatever the learning rate,
    /// `f32(1 / max(1, t − 1 − t0))` (1 for `t = 1`).
    pub fn mu(&self, t: u64) -> f32 {
        if t <= 1 {
            return 1.0;
        }
        f32_of(1.0 / f64::max(1.0, (t - 1) as f64 - self.t0))
    }
}

step_scalars! {
    /// One ASGD step's scalars, rounded once; `L2` and `AVERAGE` (`μ ≠ 1`) select the kernel.
    struct AsgdScalars {
        grad: GradIn,
        decay: f32,
        neg_eta: f32,
        mu: f32,
    }
}

kernel! {
    AsgdStep<const L2: bool, const AVERAGE: bool>(AsgdScalars)
    |s, p, g, state| {
        let g = s.grad.with_l2::<L, L2>(g, p);
        let p = p * L::splat(s.decay);
        let p = g.mul_add(L::splat(s.neg_eta), p);
        state[0] = if AVERAGE {
            state[0] + (p - state[0]) * L::splat(s.mu)
        } else {
            p
        };
        p
    }
}

impl sealed::Apply for Asgd {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let (eta, mu) = (call.scalars[0], call.scalars[1]);
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

    fn initial_scalar(&self, index: usize) -> f32 {
        if index == 0 { f32_of(self.lr) } else { 1.0 }
    }

    fn check_scalars(&self, scalars: &[f32]) -> Result<(), Error> {
        let (eta, mu) = (scalars[0], scalars[1]);
        if !(eta.is_finite() && eta >= 0.0) {
            return Err(Error::InvalidState {
                name: "eta",
                value: eta,
                expected: "finite and >= 0",
            });
        }
        if !(mu > 0.0 && mu <= 1.0) {
            return Err(Error::InvalidState {
                name: "mu",
                value: mu,
                expected: "in (0, 1]",
            });
        }
        Ok(())
    }

    fn advance(&self, t: u64, scalars: &mut [f32]) {
        scalars[0] = self.eta(t.saturating_add(1));
        scalars[1] = self.mu(t.saturating_add(1));
    }
}

impl Optimizer for Asgd {
    fn validate(&self) -> Result<(), Error> {
        non_negative("lr", self.lr)?;
        non_negative("lambd", self.lambd)?;
        non_negative("alpha", self.alpha)?;
        // t0 only enters an f64 comparison (μ's max), so any finite f64 will do.
        if !self.t0.is_finite() {
            return Err(Error::InvalidHyperParameter {
                name: "t0",
                value: self.t0,
                expected: "finite",
            });
        }
        non_negative("weight_decay", self.weight_decay)
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["ax"]
    }

    fn scalar_names(&self) -> &'static [&'static str] {
        &["eta", "mu"]
    }
}

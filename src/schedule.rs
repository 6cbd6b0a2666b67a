//! Learning-rate schedules: pure functions of the epoch (or step) count, `no_std`.
//!
//! Each schedule is a small struct of hyper-parameters with PyTorch's names; [`Schedule::lr`]
//! returns the learning rate after `epoch` calls of PyTorch's `scheduler.step()` (PyTorch's
//! `last_epoch`; 0 is the initial learning rate), computed in `f64` from PyTorch's closed form
//! (`_get_closed_form_lr`) where PyTorch has one. Set it on the optimizer before each step:
//!
//! ```
//! use fused_optim::schedule::{Schedule, StepLr};
//! use fused_optim::{Optimizer, Sgd};
//!
//! let schedule = StepLr { base_lr: 0.1, step_size: 30, gamma: 0.1 };
//! let mut sgd = Sgd { lr: schedule.lr(0), ..Sgd::default() };
//! let (mut p, g) = ([1.0_f32], [0.5_f32]);
//! for epoch in 0..90 {
//!     sgd.set_lr(schedule.lr(epoch));
//!     sgd.step(epoch + 1, &mut p, &g, &mut [])?;
//! }
//! assert_eq!(schedule.lr(89), 0.1 * 0.1 * 0.1);
//! # Ok::<(), fused_optim::Error>(())
//! ```
//!
//! Unlike PyTorch's chainable `get_lr` (which multiplies the previous learning rate in place
//! and so accumulates rounding), the value for an epoch never depends on the epochs before it.
//!
//! | type | PyTorch | equation (`e`: the epoch) |
//! |---|---|---|
//! | [`StepLr`] | `StepLR` | `base_lr · gamma^⌊e / step_size⌋` |
//! | [`MultiStepLr`] | `MultiStepLR` | `base_lr · gamma^#{milestones ≤ e}` |
//! | [`ExponentialLr`] | `ExponentialLR` | `base_lr · gamma^e` |
//! | [`CosineAnnealingLr`] | `CosineAnnealingLR` | `η_min + (base_lr − η_min)·(1 + cos(π·e / T_max)) / 2` |
//! | [`LinearLr`] | `LinearLR` | `base_lr · (start + (end − start)·min(e, total_iters) / total_iters)` |
//! | [`OneCycleLr`] | `OneCycleLR` | cosine or linear phases between `max_lr / div_factor`, `max_lr` and the final rate |
//! | [`WarmupCosine`] | `SequentialLR([LinearLR, CosineAnnealingLR])` | linear warm-up, then cosine annealing |
//!
//! # Agreement with PyTorch
//!
//! `tests/schedules.rs` replays, for every schedule and 50 parameter sets (defaults, typical
//! and edge ones), the values PyTorch 2.15 gives for epochs 0 to 999, both its closed form and
//! what `scheduler.step()` produces (`tests/golden/schedules.py` records them):
//!
//! * Against the closed form (and against `step()` for [`OneCycleLr`], whose `get_lr` is
//!   already a function of the step) the crate evaluates the same `f64` operations in the same
//!   order, so the results are bit-identical except where `libm`'s `pow` and `cos` round
//!   differently from the C library's (checked: within 3 `u = 2⁻⁵³` relative for the powers,
//!   2 ulps at most; within `2u` of the schedule's largest rate for the cosines), and where
//!   [`LinearLr`] corrects the end of PyTorch's ramp.
//! * `step()`'s recursive forms round at each update, so they drift from the closed form by
//!   up to about `n/2` ulp after `n` updates (26 ulp at most over the fixtures).
//!   `CosineAnnealingLR`'s recursion is worse past its first minimum: there it divides two
//!   nearly-cancelled `1 + cos` terms, and carries a relative error up to about
//!   `(e + T_max²/π²)·u` into the following half-period (observed: 3.8·10⁴ ulp with
//!   `T_max = 333`). The crate's closed form has none of this.
//!
//! One consequence of following the closed forms: a cosine's value at epoch 0 is
//! `eta_min + (base_lr − eta_min)`, which can be an ulp away from `base_lr` (PyTorch's
//! `step()` starts from `base_lr` itself, its closed form rounds as the crate does).
//!
//! # Validation
//!
//! [`Schedule::validate`] refuses parameters that make no sense (NaN, infinite, negative rates,
//! decay factors outside `[0, 1]`, zero lengths) with [`Error::InvalidHyperParameter`].
//! [`Schedule::lr`] itself never fails and never panics, for any parameters and any epoch up
//! to `u64::MAX`; each type documents what it returns for the parameters `validate` refuses.
//! For parameters `validate` accepts, the learning rate is finite at every epoch, and so is
//! its `f32` rounding (every rate parameter must be finite as `f32`), so an optimizer
//! accepts it — except [`OneCycleLr`]'s extrapolated value at `e = total_steps`, which no step
//! uses (see there); `tests/schedules.rs` checks that over extreme parameters and epochs.

use core::f64::consts::PI;

use crate::Error;

/// A learning rate as a function of the epoch count.
pub trait Schedule {
    /// The learning rate after `epoch` scheduler steps (`epoch = 0`: the initial one).
    fn lr(&self, epoch: u64) -> f64;

    /// Checks the hyper-parameters (the default accepts everything).
    ///
    /// The crate's schedules return [`Error::InvalidHyperParameter`] with the PyTorch name of
    /// the first parameter that makes no sense.
    fn validate(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// `Err(InvalidHyperParameter)` unless `ok`.
fn check(ok: bool, name: &'static str, value: f64, expected: &'static str) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidHyperParameter {
            name,
            value,
            expected,
        })
    }
}

/// A learning rate: `>= 0` and finite as the `f32` an optimizer rounds it to (at most
/// `f32::MAX` plus half its ulp). Every schedule's rate is then a sum of at most two such
/// terms times factors in `[0, 1]`, which no `f64` operation can overflow.
fn rate(name: &'static str, value: f64) -> Result<(), Error> {
    check(
        (value as f32).is_finite() && value >= 0.0,
        name,
        value,
        "finite as f32 and >= 0",
    )
}

/// A decay factor: in `[0, 1]` (NaN is not).
fn decay(name: &'static str, value: f64) -> Result<(), Error> {
    check((0.0..=1.0).contains(&value), name, value, "in [0, 1]")
}

/// A length in epochs: `>= 1`.
fn length(name: &'static str, value: u64) -> Result<(), Error> {
    check(value >= 1, name, value as f64, ">= 1")
}

/// `torch.optim.lr_scheduler.StepLR`: the learning rate decays by `gamma` every `step_size`
/// epochs.
///
/// ```text
/// lr(e) = base_lr · gamma^⌊e / step_size⌋
/// ```
///
/// A `step_size` of 0 (which PyTorch rejects with a division by zero) never decays.
///
/// [`validate`](Schedule::validate) wants `base_lr` finite and `>= 0`, `gamma` in `[0, 1]`
/// (PyTorch also allows growth, `gamma > 1`, which overflows to infinity at large epochs; `lr`
/// computes it) and `step_size >= 1`.
///
/// ```
/// use fused_optim::schedule::{Schedule, StepLr};
///
/// let schedule = StepLr { base_lr: 0.05, step_size: 30, gamma: 0.1 };
/// schedule.validate()?;
/// assert_eq!(schedule.lr(29), 0.05);
/// assert_eq!(schedule.lr(30), 0.05 * 0.1);
/// assert_eq!(schedule.lr(60), 0.05 * libm::pow(0.1, 2.0));
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    /// The initial learning rate.
    pub base_lr: f64,
    /// Epochs between two decays.
    pub step_size: u64,
    /// Multiplicative factor of each decay (PyTorch's default `0.1`).
    pub gamma: f64,
}

impl Schedule for StepLr {
    fn lr(&self, epoch: u64) -> f64 {
        match epoch.checked_div(self.step_size) {
            Some(decays) => self.base_lr * libm::pow(self.gamma, decays as f64),
            None => self.base_lr,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        rate("base_lr", self.base_lr)?;
        length("step_size", self.step_size)?;
        decay("gamma", self.gamma)
    }
}

/// `torch.optim.lr_scheduler.MultiStepLR`: the learning rate decays by `gamma` at each
/// milestone.
///
/// ```text
/// lr(e) = base_lr · gamma^n(e),    n(e) = the number of milestones m with m ≤ e
/// ```
///
/// As PyTorch (which keeps the milestones in a `Counter`), the milestones may come in any
/// order, a milestone repeated `k` times decays by `gamma^k`, and a milestone at 0 decays the
/// initial learning rate. `n(e)` is PyTorch's `bisect_right(sorted(milestones), e)`; the slice
/// is scanned at every call (no allocation, `O(milestones)`).
///
/// [`validate`](Schedule::validate) wants `base_lr` finite and `>= 0` and `gamma` in
/// `[0, 1]`.
///
/// ```
/// use fused_optim::schedule::{MultiStepLr, Schedule};
///
/// let schedule = MultiStepLr { base_lr: 0.05, milestones: &[30, 80], gamma: 0.1 };
/// schedule.validate()?;
/// assert_eq!(schedule.lr(29), 0.05);
/// assert_eq!(schedule.lr(30), 0.05 * 0.1);
/// assert_eq!(schedule.lr(1000), 0.05 * libm::pow(0.1, 2.0));
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiStepLr<'a> {
    /// The initial learning rate.
    pub base_lr: f64,
    /// The epochs at which the learning rate decays (PyTorch asks for increasing ones; any
    /// order works).
    pub milestones: &'a [u64],
    /// Multiplicative factor of each decay (PyTorch's default `0.1`).
    pub gamma: f64,
}

impl Schedule for MultiStepLr<'_> {
    fn lr(&self, epoch: u64) -> f64 {
        let decays = self.milestones.iter().filter(|&&m| m <= epoch).count();
        self.base_lr * libm::pow(self.gamma, decays as f64)
    }

    fn validate(&self) -> Result<(), Error> {
        rate("base_lr", self.base_lr)?;
        decay("gamma", self.gamma)
    }
}

/// `torch.optim.lr_scheduler.ExponentialLR`: the learning rate decays by `gamma` every epoch.
///
/// ```text
/// lr(e) = base_lr · gamma^e
/// ```
///
/// PyTorch's `step()` multiplies the previous learning rate by `gamma`, rounding at each epoch;
/// this closed form rounds twice (in `pow` and in the product), so the two differ by up to
/// about `e/2` ulp.
///
/// [`validate`](Schedule::validate) wants `base_lr` finite and `>= 0` and `gamma` in `[0, 1]`
/// (PyTorch also allows `gamma > 1`, as in learning-rate range tests; `lr` computes it, and
/// it overflows to infinity at large epochs).
///
/// ```
/// use fused_optim::schedule::{ExponentialLr, Schedule};
///
/// let schedule = ExponentialLr { base_lr: 1.0, gamma: 0.5 };
/// schedule.validate()?;
/// assert_eq!(schedule.lr(0), 1.0);
/// assert_eq!(schedule.lr(3), 0.125);
/// assert_eq!(schedule.lr(u64::MAX), 0.0);
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialLr {
    /// The initial learning rate.
    pub base_lr: f64,
    /// Multiplicative factor of the decay at each epoch.
    pub gamma: f64,
}

impl Schedule for ExponentialLr {
    fn lr(&self, epoch: u64) -> f64 {
        self.base_lr * libm::pow(self.gamma, epoch as f64)
    }

    fn validate(&self) -> Result<(), Error> {
        rate("base_lr", self.base_lr)?;
        decay("gamma", self.gamma)
    }
}

/// `torch.optim.lr_scheduler.CosineAnnealingLR`: half a cosine from `base_lr` down to
/// `eta_min` over `t_max` epochs (SGDR without restarts).
///
/// ```text
/// lr(e) = eta_min + (base_lr − eta_min) · (1 + cos(π · e / t_max)) / 2
/// ```
///
/// evaluated as PyTorch's closed form does (`π · e` first, then `/ t_max`). Past `t_max` the
/// cosine goes on, as in PyTorch: the learning rate rises back to `base_lr` at `2 · t_max`,
/// and so on with period `2 · t_max` (use [`WarmupCosine`] with `warmup = 0` to stay at
/// `eta_min` instead). `eta_min` may exceed `base_lr` (the cosine then rises).
///
/// PyTorch's `step()` does not use this closed form but a recursive one,
/// `lr(e) = eta_min + (lr(e−1) − eta_min) · (1 + cos(π·e/t_max)) / (1 + cos(π·(e−1)/t_max))`
/// (with an additive special case right after each minimum). During the first `t_max` epochs
/// the two agree to a few ulp of `base_lr`; after a minimum the recursion divides two nearly
/// cancelled `1 + cos` terms, and its value is off by up to about `(e + t_max²/π²)` ulp of
/// `|base_lr − eta_min|` until the next minimum (see the module documentation).
///
/// A `t_max` of 0 (a division by zero in PyTorch) gives `base_lr` at every epoch.
/// [`validate`](Schedule::validate) wants `base_lr` and `eta_min` finite and `>= 0` and
/// `t_max >= 1`.
///
/// ```
/// use fused_optim::schedule::{CosineAnnealingLr, Schedule};
///
/// let schedule = CosineAnnealingLr { base_lr: 0.1, t_max: 100, eta_min: 0.001 };
/// schedule.validate()?;
/// assert_eq!(schedule.lr(0), 0.1);
/// assert!((schedule.lr(50) - 0.0505).abs() < 1e-15);
/// assert_eq!(schedule.lr(100), 0.001);
/// assert_eq!(schedule.lr(200), schedule.lr(0)); // periodic, as PyTorch's
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    /// The initial (and largest) learning rate.
    pub base_lr: f64,
    /// Epochs from `base_lr` to `eta_min` (PyTorch's `T_max`).
    pub t_max: u64,
    /// The smallest learning rate (PyTorch's default 0).
    pub eta_min: f64,
}

impl Schedule for CosineAnnealingLr {
    fn lr(&self, epoch: u64) -> f64 {
        if self.t_max == 0 {
            return self.base_lr;
        }
        cosine(self.base_lr, self.eta_min, epoch, self.t_max)
    }

    fn validate(&self) -> Result<(), Error> {
        rate("base_lr", self.base_lr)?;
        length("T_max", self.t_max)?;
        rate("eta_min", self.eta_min)
    }
}

/// PyTorch's `CosineAnnealingLR._get_closed_form_lr`, in its order of operations.
fn cosine(base_lr: f64, eta_min: f64, epoch: u64, t_max: u64) -> f64 {
    eta_min + (base_lr - eta_min) * (1.0 + libm::cos(PI * epoch as f64 / t_max as f64)) / 2.0
}

/// `torch.optim.lr_scheduler.LinearLR`: the learning rate's factor moves linearly from
/// `start_factor` to `end_factor` over `total_iters` epochs, then stays; a linear warm-up
/// when `end_factor = 1`.
///
/// ```text
/// lr(e) = base_lr · (start_factor + (end_factor − start_factor) · min(e, total_iters) / total_iters)
/// ```
///
/// evaluated in PyTorch's order (the product, then the division, then the sum). PyTorch's
/// defaults are `start_factor = 1/3`, `end_factor = 1`, `total_iters = 5`.
///
/// Two roundings are corrected: from `total_iters` on the factor is `end_factor` exactly,
/// and before it never leaves `[min(start, end), max(start, end)]`. PyTorch's closed form
/// rounds `(end − start) · total_iters / total_iters`, which need not give `end − start` back:
/// with `start_factor = 1/3`, `end_factor = 0` and `total_iters = 25` it ends at
/// `5.6·10⁻¹⁷ · base_lr`, not 0, and with `start_factor = 0.1`, `total_iters = 3` on a
/// *negative* rate, `−1.4·10⁻¹⁷ · base_lr` (its recursive `step()` ends at
/// `+3.3·10⁻¹⁶ · base_lr` there). The crate's values differ from PyTorch's closed form only
/// in such cases, by about an ulp of `start_factor · base_lr`.
///
/// `total_iters = 0` gives `base_lr · end_factor` at every epoch (the change is over before it
/// starts). PyTorch differs there: its closed form divides by zero, and its `step()` stays at
/// `base_lr · start_factor` for ever (its recursion only runs while `e <= total_iters`).
///
/// [`validate`](Schedule::validate) wants, as PyTorch, `start_factor` in `(0, 1]` and
/// `end_factor` in `[0, 1]`, and `base_lr` finite and `>= 0`.
///
/// ```
/// use fused_optim::schedule::{LinearLr, Schedule};
///
/// // Warm-up from 0.05 · 1e-3 to 1e-3 over 40 epochs.
/// let warmup = LinearLr { base_lr: 1e-3, start_factor: 0.05, end_factor: 1.0, total_iters: 40 };
/// warmup.validate()?;
/// assert_eq!(warmup.lr(0), 1e-3 * 0.05);
/// assert_eq!(warmup.lr(20), 1e-3 * (0.05 + 0.95 * 20.0 / 40.0));
/// assert_eq!(warmup.lr(40), 1e-3);
/// assert_eq!(warmup.lr(1000), 1e-3);
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearLr {
    /// The learning rate the factors multiply.
    pub base_lr: f64,
    /// The factor at epoch 0 (PyTorch's default `1/3`).
    pub start_factor: f64,
    /// The factor from epoch `total_iters` on (PyTorch's default 1).
    pub end_factor: f64,
    /// Epochs from `start_factor` to `end_factor` (PyTorch's default 5).
    pub total_iters: u64,
}

impl Schedule for LinearLr {
    fn lr(&self, epoch: u64) -> f64 {
        if self.total_iters == 0 {
            return self.base_lr * self.end_factor;
        }
        linear(
            self.base_lr,
            self.start_factor,
            self.end_factor,
            epoch,
            self.total_iters,
        )
    }

    fn validate(&self) -> Result<(), Error> {
        rate("base_lr", self.base_lr)?;
        check(
            self.start_factor > 0.0 && self.start_factor <= 1.0,
            "start_factor",
            self.start_factor,
            "in (0, 1]",
        )?;
        decay("end_factor", self.end_factor)
    }
}

/// PyTorch's `LinearLR._get_closed_form_lr` (`total_iters >= 1`), in its order of operations,
/// with the factor kept between `start` and `end`, and exactly `end` from `total_iters` on.
fn linear(base_lr: f64, start: f64, end: f64, epoch: u64, total_iters: u64) -> f64 {
    if epoch >= total_iters {
        return base_lr * end;
    }
    let factor = start + (end - start) * epoch as f64 / total_iters as f64;
    // `max`/`min`, not `clamp`, which panics on NaN bounds.
    base_lr * factor.max(start.min(end)).min(start.max(end))
}

/// How [`OneCycleLr`] moves between two learning rates (PyTorch's `anneal_strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Anneal {
    /// `"cos"` (PyTorch's default): `end + (start − end) / 2 · (cos(π · pct) + 1)`.
    #[default]
    Cos,
    /// `"linear"`: `(end − start) · pct + start`.
    Linear,
}

impl Anneal {
    /// From `start` (`pct = 0`) to `end` (`pct = 1`), as PyTorch's `_annealing_cos` and
    /// `_annealing_linear`, operation for operation.
    fn at(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            Anneal::Cos => end + (start - end) / 2.0 * (libm::cos(PI * pct) + 1.0),
            Anneal::Linear => (end - start) * pct + start,
        }
    }
}

/// `torch.optim.lr_scheduler.OneCycleLR`: the 1cycle policy (Smith & Topin), per batch.
///
/// With `initial = max_lr / div_factor` and `min = initial / final_div_factor`, the cycle has
/// two phases (fastai's; PyTorch's default), or three with `three_phase` (the paper's). Each
/// phase ends at a step `end` (a float), starts where the previous one ended (0 for the
/// first), and anneals between two rates with [`Anneal`]:
///
/// ```text
/// two phases:    end = pct_start·total_steps − 1    initial → max_lr
///                end = total_steps − 1              max_lr → min
/// three phases:  end = pct_start·total_steps − 1    initial → max_lr
///                end = 2·pct_start·total_steps − 2  max_lr → initial
///                end = total_steps − 1              initial → min
///
/// lr(e) = anneal(phase start rate, phase end rate, pct),  pct = (e − start) / (end − start)
/// ```
///
/// for the first phase with `e <= end` (else the last phase), as PyTorch's `get_lr`, which is
/// already a function of the step: the values equal PyTorch's `step()` bit for bit, up to
/// `libm`'s `cos` against the C library's. Momentum cycling (`cycle_momentum`) is not part of
/// a learning-rate schedule and is not provided. PyTorch's `epochs · steps_per_epoch` is
/// `total_steps` here.
///
/// Where PyTorch does something else than computing a value:
///
/// * `e = total_steps` (the value PyTorch computes after the last batch, for no step) follows
///   PyTorch's formula, extrapolating the last phase past its end: slightly above `min` with
///   `Cos`, below `min` (possibly negative, and when the last phase is shorter than one step
///   far outside the cycle's range, up to about 10¹⁶ times it: still a finite `f64`, but
///   possibly not a finite `f32`) with `Linear`. PyTorch raises `ValueError` for
///   `e > total_steps`; this schedule holds `lr(total_steps − 1)` (the end of the cycle, `min`
///   up to rounding) there, and at every epoch when `total_steps = 0`.
/// * A phase of zero length (`end = start`: for example `pct_start · total_steps = 1`, or
///   `pct_start = 1`) makes PyTorch raise `ZeroDivisionError` when a step falls in it; here
///   `pct = 1` there, so the phase's end rate.
///
/// [`validate`](Schedule::validate) wants `max_lr` finite and `>= 0`, `total_steps >= 1`,
/// `pct_start` in `[0, 1]` (in `[0, 0.5]` with `three_phase`, or the phases overlap, which
/// PyTorch allows), and `div_factor` and `final_div_factor` finite and `> 0` with finite
/// `initial` and `min`.
///
/// ```
/// use fused_optim::schedule::{Anneal, OneCycleLr, Schedule};
///
/// let schedule = OneCycleLr { anneal_strategy: Anneal::Linear, ..OneCycleLr::new(0.1, 100) };
/// schedule.validate()?;
/// assert_eq!(schedule.lr(0), 0.1 / 25.0); // initial = max_lr / div_factor
/// assert_eq!(schedule.lr(29), 0.1); // the end of the first phase: 0.3 · 100 − 1
/// let min = 0.1 / 25.0 / 1e4;
/// assert!((schedule.lr(99) - min).abs() < 1e-16); // the end of the cycle: min (`Linear`
///                                                  // rounds `(min − max_lr) + max_lr`)
/// assert!(schedule.lr(100) < 0.0); // PyTorch's extrapolation, one step past the cycle
/// assert_eq!(schedule.lr(101), schedule.lr(99)); // where PyTorch raises: the end of the cycle
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneCycleLr {
    /// The largest learning rate, at the end of the first phase.
    pub max_lr: f64,
    /// Steps in the cycle.
    pub total_steps: u64,
    /// The fraction of the cycle spent increasing the learning rate (PyTorch's default 0.3).
    pub pct_start: f64,
    /// Cosine or linear annealing (PyTorch's default cosine).
    pub anneal_strategy: Anneal,
    /// `initial = max_lr / div_factor` (PyTorch's default 25).
    pub div_factor: f64,
    /// `min = initial / final_div_factor` (PyTorch's default `1e4`).
    pub final_div_factor: f64,
    /// The paper's three phases instead of fastai's two (PyTorch's default `false`).
    pub three_phase: bool,
}

impl OneCycleLr {
    /// `max_lr` and `total_steps` with PyTorch's defaults for the other parameters.
    pub fn new(max_lr: f64, total_steps: u64) -> Self {
        OneCycleLr {
            max_lr,
            total_steps,
            pct_start: 0.3,
            anneal_strategy: Anneal::Cos,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }
}

impl Schedule for OneCycleLr {
    fn lr(&self, epoch: u64) -> f64 {
        let epoch = if epoch > self.total_steps {
            self.total_steps.saturating_sub(1)
        } else {
            epoch
        };
        let initial = self.max_lr / self.div_factor;
        let min = initial / self.final_div_factor;
        let total = self.total_steps as f64;
        // PyTorch: `total_steps - 1` is an int, converted exactly.
        let last = match self.total_steps {
            0 => -1.0,
            t => (t - 1) as f64,
        };
        // (end step, start rate, end rate) of each phase.
        let three;
        let two;
        let phases: &[(f64, f64, f64)] = if self.three_phase {
            three = [
                (self.pct_start * total - 1.0, initial, self.max_lr),
                (2.0 * self.pct_start * total - 2.0, self.max_lr, initial),
                (last, initial, min),
            ];
            &three
        } else {
            two = [
                (self.pct_start * total - 1.0, initial, self.max_lr),
                (last, self.max_lr, min),
            ];
            &two
        };
        let step = epoch as f64;
        let mut start_step = 0.0;
        for (i, &(end_step, start_lr, end_lr)) in phases.iter().enumerate() {
            if step <= end_step || i == phases.len() - 1 {
                let span = end_step - start_step;
                let pct = if span == 0.0 {
                    1.0
                } else {
                    (step - start_step) / span
                };
                return self.anneal_strategy.at(start_lr, end_lr, pct);
            }
            start_step = end_step;
        }
        min // unreachable: the last phase always matches
    }

    fn validate(&self) -> Result<(), Error> {
        rate("max_lr", self.max_lr)?;
        length("total_steps", self.total_steps)?;
        if self.three_phase {
            check(
                (0.0..=0.5).contains(&self.pct_start),
                "pct_start",
                self.pct_start,
                "in [0, 0.5] with three_phase",
            )?;
        } else {
            decay("pct_start", self.pct_start)?;
        }
        let initial = self.max_lr / self.div_factor;
        check(
            self.div_factor.is_finite() && self.div_factor > 0.0 && (initial as f32).is_finite(),
            "div_factor",
            self.div_factor,
            "finite and > 0, with max_lr / div_factor finite as f32",
        )?;
        check(
            self.final_div_factor.is_finite()
                && self.final_div_factor > 0.0
                && ((initial / self.final_div_factor) as f32).is_finite(),
            "final_div_factor",
            self.final_div_factor,
            "finite and > 0, with max_lr / div_factor / final_div_factor finite as f32",
        )
    }
}

/// Linear warm-up, then cosine annealing: from `start_factor · base_lr` up to `base_lr` over
/// `warmup` epochs, then half a cosine down to `eta_min` at epoch `total`, where it stays.
///
/// ```text
/// lr(e) = base_lr · (start_factor + (1 − start_factor) · e / warmup)              e < warmup
/// lr(e) = eta_min + (base_lr − eta_min) · (1 + cos(π · (e − warmup) / (total − warmup))) / 2
///                                                                      warmup ≤ e < total
/// lr(e) = eta_min                                                       e ≥ total
/// ```
///
/// The first line is [`LinearLr`] with `end_factor = 1` and `total_iters = warmup`, the second
/// [`CosineAnnealingLr`] with `t_max = total − warmup` at epoch `e − warmup`, each bit for bit
/// (at `e = total` the cosine is exactly `eta_min`). That is PyTorch's
///
/// ```text
/// SequentialLR(optimizer, milestones=[warmup], schedulers=[
///     LinearLR(optimizer, start_factor, end_factor=1.0, total_iters=warmup),
///     CosineAnnealingLR(optimizer, T_max=total - warmup, eta_min=eta_min)])
/// ```
///
/// for epochs `0..=total` (in closed form: PyTorch's `step()` is recursive in both parts; see
/// [`CosineAnnealingLr`]). After `total`, PyTorch's cosine rises again towards `base_lr`; this
/// schedule stays at `eta_min`. Unlike PyTorch's `LinearLR`, `start_factor = 0` (a warm-up
/// from 0) is allowed. `warmup = 0` is cosine annealing from the first epoch.
///
/// [`validate`](Schedule::validate) wants `base_lr` and `eta_min` finite and `>= 0`,
/// `start_factor` in `[0, 1]`, and `total > warmup`; with `total <= warmup`, `lr` warms up
/// and then gives `eta_min`.
///
/// ```
/// use fused_optim::schedule::{Schedule, WarmupCosine};
///
/// let schedule = WarmupCosine {
///     base_lr: 1e-3,
///     warmup: 100,
///     start_factor: 0.0,
///     total: 1100,
///     eta_min: 1e-5,
/// };
/// schedule.validate()?;
/// assert_eq!(schedule.lr(0), 0.0);
/// assert_eq!(schedule.lr(50), 1e-3 * 0.5);
/// assert_eq!(schedule.lr(100), 1e-3); // the peak
/// assert!((schedule.lr(600) - (1e-5 + 1e-3) / 2.0).abs() < 1e-18); // half-way down
/// assert_eq!(schedule.lr(1100), 1e-5);
/// assert_eq!(schedule.lr(u64::MAX), 1e-5);
/// # Ok::<(), fused_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WarmupCosine {
    /// The peak learning rate, reached at epoch `warmup`.
    pub base_lr: f64,
    /// Epochs of linear warm-up.
    pub warmup: u64,
    /// The warm-up's first learning rate, as a fraction of `base_lr`.
    pub start_factor: f64,
    /// The epoch at which the cosine reaches `eta_min` (warm-up included).
    pub total: u64,
    /// The final learning rate.
    pub eta_min: f64,
}

impl Schedule for WarmupCosine {
    fn lr(&self, epoch: u64) -> f64 {
        if epoch < self.warmup {
            linear(self.base_lr, self.start_factor, 1.0, epoch, self.warmup)
        } else if epoch >= self.total {
            self.eta_min
        } else {
            // warmup <= epoch < total, so neither subtraction wraps and t_max >= 1.
            cosine(
                self.base_lr,
                self.eta_min,
                epoch - self.warmup,
                self.total - self.warmup,
            )
        }
    }

    fn validate(&self) -> Result<(), Error> {
        rate("base_lr", self.base_lr)?;
        decay("start_factor", self.start_factor)?;
        check(
            self.total > self.warmup,
            "total",
            self.total as f64,
            "> warmup",
        )?;
        rate("eta_min", self.eta_min)
    }
}

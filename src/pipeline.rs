//! The fused gradient pipeline: loss-scale unscaling, skipping steps with non-finite
//! gradients, global-norm clipping, and one call over many parameter groups.
//!
//! A training engine with mixed precision and clipping would otherwise make three extra
//! passes over its gradients before the optimizer's: `GradScaler.unscale_` (multiply by
//! `1 / scale`, check for Inf/NaN), `clip_grad_norm_` (a norm, then a multiply). Here:
//!
//! 1. one read-only pass computes [`GradStats`]: the squared global norm of the *unscaled*
//!    gradients, which also tells whether they are all finite (skipped when neither
//!    `skip_non_finite` nor `max_norm` needs it);
//! 2. if a gradient is Inf or NaN and `skip_non_finite` is set, nothing is written and the
//!    caller is told ([`StepReport::stepped`] is `false`: PyTorch's `found_inf`; do not count
//!    the step);
//! 3. otherwise the optimizer step runs with the unscaling and the clip coefficient folded
//!    into its read of the gradient: `g ← (g · (1/scale)) · clip`, which gives exactly the
//!    bits of the three separate passes.
//!
//! ```
//! use fused_optim::pipeline::{GradPipeline, Group};
//! use fused_optim::{Adam, Optimizer};
//!
//! let adam = Adam::default();
//! let pipeline = GradPipeline { grad_scale: 1024.0, max_norm: Some(1.0), skip_non_finite: true };
//! let (mut w, mut b) = (vec![0.5_f32; 100], vec![0.0_f32; 10]);
//! let (gw, gb) = (vec![2048.0_f32; 100], vec![f32::INFINITY; 10]); // an overflow in `b`
//! let (mut sw, mut sb) = (vec![0.0; adam.state_len(100)], vec![0.0; adam.state_len(10)]);
//! let mut groups = [
//!     Group { params: &mut w, grads: &gw, state: &mut sw },
//!     Group { params: &mut b, grads: &gb, state: &mut sb },
//! ];
//! let report = pipeline.step(&adam, 1, &mut groups)?;
//! assert!(!report.stepped); // skipped: nothing written, do not count step 1
//! assert!(w.iter().all(|&x| x == 0.5));
//! # Ok::<(), fused_optim::Error>(())
//! ```
//!
//! # The norm, and why it is deterministic
//!
//! The squared norm is accumulated in `f64`. Each `g · (1/scale)` is rounded to `f32` first
//! (as the unscaling pass would store it), and its square is exact in `f64`, so overflow is
//! impossible and the sum is finite exactly when every unscaled gradient is. The summation
//! order is fixed: element `i` of a buffer is added, in order, to accumulator `i mod 16`; the
//! 16 accumulators are then combined pairwise (`a[j] += a[j + 8]`, then `+ 4`, `+ 2`, `+ 1`);
//! buffers (groups, shards) are combined in the order given with [`GradStats::combine`]. The
//! result is the same bits on every CPU and SIMD width. Shards can compute their
//! [`GradStats`] independently and combine them: the total equals a multi-group
//! [`GradPipeline::step`] over the same pieces in the same order. The clip coefficient is
//! `min(1, max_norm / (√sum + 1e-6))` computed in `f64` and rounded once to `f32`, which is
//! `clip_grad_norm_`'s formula with a more accurate norm (PyTorch sums in `f32`).

use crate::optimizer::{Call, Prescale, check_call, check_step, expect_len, split_state};
use crate::{Backend, Error, Optimizer};

/// One parameter tensor's buffers: its parameters, gradients and optimizer state (the
/// planes back to back, as [`Optimizer::step`] takes them).
#[derive(Debug)]
pub struct Group<'a> {
    /// The parameters, updated in place.
    pub params: &'a mut [f32],
    /// The gradients (carrying the loss scale, if any).
    pub grads: &'a [f32],
    /// The optimizer state: `optimizer.state_len(params.len())` floats.
    pub state: &'a mut [f32],
}

/// What the step does with the gradients besides the optimizer update.
///
/// The default does nothing extra: a multi-group step with plain gradients.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradPipeline {
    /// The loss scale the gradients carry (PyTorch's `GradScaler` scale); they are multiplied
    /// by `1 / grad_scale` (computed in `f64`, rounded to `f32`, as `GradScaler` does).
    /// Default 1 (no scaling). [`validate`](GradPipeline::validate) wants that `f32` factor
    /// finite and non-zero: `2.938735964636876e-39 <= grad_scale < 2¹⁵⁰`.
    pub grad_scale: f64,
    /// Clip the unscaled gradients of all groups together to this global L2 norm
    /// (`clip_grad_norm_(max_norm)`); `None` (the default) does not clip.
    pub max_norm: Option<f64>,
    /// Skip the whole step, writing nothing, when any unscaled gradient is Inf or NaN
    /// (`GradScaler`'s `found_inf` contract). Default `false`: non-finite gradients flow into
    /// their elements as in a plain step.
    ///
    /// **Differs from PyTorch:** the check is on the *unscaled* gradients `g · (1/scale)`,
    /// the values the optimizer would use; `GradScaler` checks the *scaled* ones. They differ
    /// only when unscaling overflows, which needs a loss scale below 1: with `grad_scale =
    /// 0.5`, a finite gradient of `3e38` unscales to `+∞`, and PyTorch steps into the
    /// infinity while the crate skips the step. The crate's rule never lets a step write a
    /// non-finite update caused by unscaling.
    pub skip_non_finite: bool,
}

impl Default for GradPipeline {
    fn default() -> Self {
        GradPipeline {
            grad_scale: 1.0,
            max_norm: None,
            skip_non_finite: false,
        }
    }
}

/// The squared L2 norm of a set of unscaled gradients, accumulated in the fixed order the
/// [module docs](self) describe.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradStats {
    /// `Σ (g · (1/scale))²`, in `f64`. Infinite or NaN when a gradient is.
    pub sum_sq: f64,
}

/// Accumulators of the norm pass (the lane count every back-end uses, whatever its width).
const ACCUMULATORS: usize = 16;

impl GradStats {
    /// No gradients yet: the identity of [`GradStats::combine`].
    pub const ZERO: GradStats = GradStats { sum_sq: 0.0 };

    /// The statistics of `grads` unscaled by `grad_scale` (see [`GradPipeline::grad_scale`]).
    pub fn of(grads: &[f32], grad_scale: f64) -> GradStats {
        let unscale = unscale_factor(grad_scale);
        let mut acc = [0.0f64; ACCUMULATORS];
        let chunks = grads.chunks_exact(ACCUMULATORS);
        let rest = chunks.remainder();
        for chunk in chunks {
            for (a, &g) in acc.iter_mut().zip(chunk) {
                let g = f64::from(g * unscale);
                *a += g * g;
            }
        }
        for (a, &g) in acc.iter_mut().zip(rest) {
            let g = f64::from(g * unscale);
            *a += g * g;
        }
        let mut width = ACCUMULATORS;
        while width > 1 {
            width /= 2;
            for j in 0..width {
                acc[j] += acc[j + width];
            }
        }
        GradStats { sum_sq: acc[0] }
    }

    /// The statistics of two sets of gradients together (`self` first).
    pub fn combine(self, other: GradStats) -> GradStats {
        GradStats {
            sum_sq: self.sum_sq + other.sum_sq,
        }
    }

    /// Whether every gradient was finite.
    pub fn is_finite(self) -> bool {
        self.sum_sq.is_finite()
    }

    /// The L2 norm, `√sum_sq`.
    pub fn norm(self) -> f64 {
        libm::sqrt(self.sum_sq)
    }
}

/// What a pipeline step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// `false` when the step was skipped for non-finite gradients: nothing was written, and
    /// the caller should not count the step.
    pub stepped: bool,
    /// The global norm of the unscaled gradients, when it was computed (clipping or skipping
    /// asked for it).
    pub grad_norm: Option<f64>,
    /// The coefficient the unscaled gradients were multiplied by (1 without clipping).
    pub clip_coef: f32,
}

impl GradPipeline {
    /// Checks the settings: `grad_scale` positive with its `f32` reciprocal (the factor the
    /// gradients are multiplied by) finite and non-zero, `max_norm` finite and `>= 0`.
    pub fn validate(&self) -> Result<(), Error> {
        let unscale = unscale_factor(self.grad_scale);
        if !(self.grad_scale > 0.0 && unscale.is_finite() && unscale > 0.0) {
            return Err(Error::InvalidHyperParameter {
                name: "grad_scale",
                value: self.grad_scale,
                expected: "> 0 with f32(1 / grad_scale) finite and non-zero \
                           (2.9e-39 <= grad_scale < 2^150)",
            });
        }
        if let Some(max_norm) = self.max_norm {
            crate::optim::common::non_negative("max_norm", max_norm)?;
        }
        Ok(())
    }

    /// Whether the step needs the norm pass.
    fn needs_stats(&self) -> bool {
        self.skip_non_finite || self.max_norm.is_some()
    }

    /// Takes step `t` of `optimizer` over every group, with the unscaling, skipping and
    /// clipping this pipeline asks for, on the fastest back-end.
    ///
    /// Every check (settings, hyper-parameters, `t`, every group's lengths) is made before
    /// anything is written. The groups share the optimizer's hyper-parameters; the result for
    /// each group is what a separate [`Optimizer::step`] on its unscaled, clipped gradients
    /// would give, bit for bit.
    pub fn step<O: Optimizer + ?Sized>(
        &self,
        optimizer: &O,
        t: u64,
        groups: &mut [Group<'_>],
    ) -> Result<StepReport, Error> {
        self.step_with(Backend::Auto, optimizer, t, groups)
    }

    /// [`step`](GradPipeline::step) on a chosen [`Backend`] (all give the same bits).
    pub fn step_with<O: Optimizer + ?Sized>(
        &self,
        backend: Backend,
        optimizer: &O,
        t: u64,
        groups: &mut [Group<'_>],
    ) -> Result<StepReport, Error> {
        self.validate()?;
        let backend = check_call(optimizer, backend, t, 0, 0)?;
        for group in groups.iter() {
            check_group(optimizer, group)?;
        }
        let stats = self.needs_stats().then(|| {
            groups.iter().fold(GradStats::ZERO, |total, group| {
                total.combine(GradStats::of(group.grads, self.grad_scale))
            })
        });
        let report = self.decide(stats);
        if report.stepped {
            let prescale = self.prescale(report);
            // The step's scalars differ between groups only through their scalar state:
            // then every group's are checked before the first is written (otherwise the
            // first group's apply refuses before writing, or none does).
            if !optimizer.scalar_names().is_empty() {
                for group in groups.iter() {
                    let scalars = &group.state[optimizer.state_planes() * group.params.len()..];
                    check_step(optimizer, backend, t, prescale, scalars)?;
                }
            }
            for group in groups.iter_mut() {
                apply(optimizer, backend, t, prescale, group)?;
            }
        }
        Ok(report)
    }

    /// Steps one shard of a larger set of gradients whose [`GradStats`] the caller has
    /// combined over all shards (each shard's from [`GradStats::of`]; `None` if neither
    /// skipping nor clipping is on). Every shard stepped with the same `total` makes the
    /// same decision and uses the same clip coefficient.
    pub fn step_sharded<O: Optimizer + ?Sized>(
        &self,
        optimizer: &O,
        t: u64,
        total: Option<GradStats>,
        group: Group<'_>,
    ) -> Result<StepReport, Error> {
        self.validate()?;
        let backend = check_call(optimizer, Backend::Auto, t, 0, 0)?;
        check_group(optimizer, &group)?;
        if self.needs_stats() && total.is_none() {
            return Err(Error::IncompatibleOptions {
                reason: "skipping or clipping needs the gradients' combined GradStats",
            });
        }
        let report = self.decide(total);
        if report.stepped {
            let mut group = group;
            apply(optimizer, backend, t, self.prescale(report), &mut group)?;
        }
        Ok(report)
    }

    /// Skip or step, with which clip coefficient.
    fn decide(&self, stats: Option<GradStats>) -> StepReport {
        let grad_norm = stats.map(GradStats::norm);
        let finite = stats.is_none_or(GradStats::is_finite);
        let clip_coef = match (self.max_norm, grad_norm) {
            (Some(max_norm), Some(norm)) => {
                let coef = max_norm / (norm + 1e-6);
                (if coef > 1.0 { 1.0 } else { coef }) as f32
            }
            _ => 1.0,
        };
        StepReport {
            stepped: finite || !self.skip_non_finite,
            grad_norm,
            clip_coef,
        }
    }

    fn prescale(&self, report: StepReport) -> Prescale {
        Prescale {
            unscale: unscale_factor(self.grad_scale),
            clip: report.clip_coef,
        }
    }
}

/// `1 / grad_scale` as `GradScaler` computes it: in `f64`, rounded once to `f32`.
fn unscale_factor(grad_scale: f64) -> f32 {
    (1.0 / grad_scale) as f32
}

fn check_group<O: Optimizer + ?Sized>(optimizer: &O, group: &Group<'_>) -> Result<(), Error> {
    let n = group.params.len();
    expect_len("grads", group.grads.len(), n)?;
    expect_len("state", group.state.len(), optimizer.state_len(n))?;
    optimizer.check_scalars(&group.state[optimizer.state_planes() * n..])
}

/// One group's step, its scalar state advanced; the lengths are checked.
fn apply<O: Optimizer + ?Sized>(
    optimizer: &O,
    backend: Backend,
    t: u64,
    prescale: Prescale,
    group: &mut Group<'_>,
) -> Result<(), Error> {
    let k = optimizer.state_planes();
    let (params, grads) = (&mut *group.params, group.grads);
    let (mut planes, scalars) = split_state(optimizer, group.state, params.len())?;
    let call = Call::new(backend, t, params, grads, &mut planes[..k], scalars);
    optimizer.apply(call.prescaled(prescale))?;
    optimizer.advance(t, scalars);
    Ok(())
}

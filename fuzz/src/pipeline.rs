//! Differential fuzz target for the gradient pipeline (`fused_optim::pipeline`): loss-scale
//! unscaling, skipping on non-finite gradients, global-norm clipping and multi-group steps.
//!
//! The input chooses an optimizer and its hyper-parameters (as in the `step` target), the
//! pipeline's settings (`grad_scale` including 0, negative, tiny, huge, NaN and Inf;
//! `max_norm` none or any value; `skip_non_finite`), the step number, 0 to 4 groups with their
//! lengths (one of them possibly mismatched) and values, and whether to start from `init_state`. It checks that:
//!
//! * nothing panics, `GradStats::of` included, for any `grad_scale`;
//! * a refused call leaves every buffer byte-identical on every back-end (available ones
//!   refuse with the same error), and so does a skipped step (`stepped == false`), which
//!   happens exactly when `skip_non_finite` is set and an unscaled gradient is Inf or NaN;
//! * `grad_norm` is the norm of the combined `GradStats` of the groups, in order, and the
//!   clip coefficient is 1 without `max_norm`;
//! * a three-pass reference agrees: the gradients unscaled, their norm taken again in the
//!   documented order (independently of `GradStats`), the clip coefficient computed from it
//!   as `clip_grad_norm_` does; the report's norm and coefficient are its bits, and each
//!   group's result is, bit for bit (NaN-aware), a plain scalar `step_with` on the gradients
//!   multiplied by `1 / grad_scale` (in `f64`, rounded to `f32`) and then by that coefficient;
//! * every available back-end gives the same bits and report;
//! * `step_sharded` on each group with the combined statistics gives the multi-group bits,
//!   and without them (when skipping or clipping needs them) is refused without writing.

use crate::*;
use fused_optim::pipeline::{GradPipeline, GradStats, Group, StepReport};
use fused_optim::{Backend, Error};

/// `Σ (g · unscale)²` in the order `GradStats::of` documents, written out again.
fn reference_sum_sq(grads: &[f32], unscale: f32) -> f64 {
    let mut acc = [0.0f64; 16];
    for (i, &g) in grads.iter().enumerate() {
        let u = f64::from(g * unscale);
        acc[i % 16] += u * u;
    }
    let mut width = 16;
    while width > 1 {
        width /= 2;
        for j in 0..width {
            acc[j] += acc[j + width];
        }
    }
    acc[0]
}

/// One group's buffers, owned.
#[derive(Clone, Debug)]
struct Buffers {
    params: Vec<f32>,
    grads: Vec<f32>,
    state: Vec<f32>,
}

fn groups_of(buffers: &mut [Buffers]) -> Vec<Group<'_>> {
    buffers
        .iter_mut()
        .map(|b| Group {
            params: &mut b.params,
            grads: &b.grads,
            state: &mut b.state,
        })
        .collect()
}

fn assert_all_untouched(
    what: &str,
    context: &dyn core::fmt::Debug,
    before: &[Buffers],
    after: &[Buffers],
) {
    for (b, a) in before.iter().zip(after) {
        assert_untouched(&format!("{what}: params"), context, &b.params, &a.params);
        assert_untouched(&format!("{what}: state"), context, &b.state, &a.state);
    }
}

fn assert_all_same(
    what: &str,
    context: &dyn core::fmt::Debug,
    expected: &[Buffers],
    found: &[Buffers],
) {
    for (e, f) in expected.iter().zip(found) {
        assert_same(&format!("{what}: params"), context, &e.params, &f.params);
        assert_same(&format!("{what}: state"), context, &e.state, &f.state);
    }
}

/// Reports agree (the norm NaN-aware).
fn same_report(a: &StepReport, b: &StepReport) -> bool {
    let norm = match (a.grad_norm, b.grad_norm) {
        (Some(x), Some(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (None, None) => true,
        _ => false,
    };
    norm && a.stepped == b.stepped && same(a.clip_coef, b.clip_coef)
}

/// Runs one input through the checks (panics on a finding).
pub fn run(data: &[u8]) {
    let mut s = Src::new(data);
    let opt = optimizer(&mut s);
    let opt: &dyn Optimizer = &opt;
    let d = GradPipeline::default();
    let pipeline = GradPipeline {
        grad_scale: Fuzz::fuzz(d.grad_scale, &mut s),
        max_norm: Fuzz::fuzz(d.max_norm, &mut s),
        skip_non_finite: Fuzz::fuzz(d.skip_non_finite, &mut s),
    };
    let t = s.step();
    let k = opt.state_planes();
    // The state of a group: its planes, then the per-tensor scalars (NAdam, ASGD).
    let scalars = opt.scalar_names().len();
    let count = usize::from(s.byte() % 5);
    let mismatch = s.byte();
    let lengths: Vec<usize> = (0..count).map(|_| s.length()).collect();
    let mut buffers: Vec<Buffers> = lengths
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let (grads_len, state_len) = match mismatch {
                224..=239 if usize::from(mismatch) % 4 == i => (n + 1, k * n + scalars),
                240..=255 if usize::from(mismatch) % 4 == i => (n, k * n + scalars + 1),
                _ => (n, k * n + scalars),
            };
            Buffers {
                params: s.values(n),
                grads: s.values(grads_len),
                state: s.values(state_len),
            }
        })
        .collect();
    if s.byte() & 1 == 1 {
        // Start from the optimizer's initial state where it accepts the buffer.
        for b in &mut buffers {
            let _ = opt.init_state(&mut b.state);
        }
    }
    let available: Vec<Backend> = every_backend()
        .into_iter()
        .filter(|b| b.is_available())
        .collect();
    let context = (opt, pipeline, t, &lengths, mismatch);

    // Never panics, whatever the scale (it is validated only by the steps).
    let stats: Vec<GradStats> = buffers
        .iter()
        .map(|b| GradStats::of(&b.grads, pipeline.grad_scale))
        .collect();
    let total = stats.iter().fold(GradStats::ZERO, |a, &b| a.combine(b));
    let _ = (total.is_finite(), total.norm());

    // The reference: the scalar back-end.
    let before = buffers.clone();
    let mut reference = buffers.clone();
    let result = pipeline.step_with(Backend::Scalar, opt, t, &mut groups_of(&mut reference));
    let report = match result {
        Err(error) => {
            assert_all_untouched("refused", &(context, error), &before, &reference);
            let expected = format!("{error:?}");
            for backend in every_backend() {
                let mut b = buffers.clone();
                let r = pipeline.step_with(backend, opt, t, &mut groups_of(&mut b));
                let Err(e) = r else {
                    panic!("{backend:?} accepted what Scalar refused ({expected}); {context:?}");
                };
                if available.contains(&backend) {
                    assert_eq!(format!("{e:?}"), expected, "{backend:?}; {context:?}");
                }
                assert_all_untouched("refused", &(backend, context, e), &before, &b);
            }
            // Group by group, with the statistics: the mismatched group is refused without
            // writing; nothing panics.
            for (i, b) in buffers.iter_mut().enumerate() {
                let group_before = b.clone();
                let group = groups_of(core::slice::from_mut(b)).pop().unwrap();
                let r = pipeline.step_sharded(opt, t, Some(total), group);
                let mismatched = mismatch >= 224 && usize::from(mismatch) % 4 == i;
                assert!(
                    !mismatched || r.is_err(),
                    "step_sharded accepted a bad group; {context:?}"
                );
                if r.is_err() {
                    assert_all_untouched(
                        "step_sharded refused",
                        &context,
                        &[group_before],
                        core::slice::from_ref(b),
                    );
                }
            }
            return;
        }
        Ok(report) => report,
    };
    assert!(
        mismatch < 224 || count <= usize::from(mismatch) % 4,
        "{context:?}"
    );
    assert!(pipeline.validate().is_ok() && opt.validate().is_ok() && t > 0);

    // The decision and the report.
    let needs_stats = pipeline.skip_non_finite || pipeline.max_norm.is_some();
    let unscale = (1.0 / pipeline.grad_scale) as f32;
    let any_non_finite = buffers
        .iter()
        .any(|b| b.grads.iter().any(|&g| !(g * unscale).is_finite()));
    assert_eq!(
        report.stepped,
        !(pipeline.skip_non_finite && any_non_finite),
        "{report:?}; {context:?}"
    );
    // The three-pass reference: unscale every gradient, take the norm in the documented
    // order (16 f64 accumulators per group, element i into accumulator i mod 16, a pairwise
    // tree, then the groups' sums in order), then clip_grad_norm_'s coefficient.
    let sum_sq = buffers
        .iter()
        .map(|b| reference_sum_sq(&b.grads, unscale))
        .fold(0.0, |total, s| total + s);
    let reference_norm = sum_sq.sqrt();
    assert!(
        !needs_stats
            || reference_norm.to_bits() == total.norm().to_bits()
            || (reference_norm.is_nan() && total.norm().is_nan()),
        "norm {reference_norm:e} vs GradStats {:e}; {context:?}",
        total.norm()
    );
    let reference_clip = match (pipeline.max_norm, needs_stats) {
        (Some(max_norm), true) => {
            let coef = max_norm / (reference_norm + 1e-6);
            (if coef > 1.0 { 1.0 } else { coef }) as f32
        }
        _ => 1.0,
    };
    assert!(
        reference_clip.to_bits() == report.clip_coef.to_bits()
            || (reference_clip.is_nan() && report.clip_coef.is_nan()),
        "clip {reference_clip:e} vs {report:?}; {context:?}"
    );
    let expected_norm = needs_stats.then(|| total.norm());
    assert!(
        same_report(
            &report,
            &StepReport {
                grad_norm: expected_norm,
                ..report
            }
        ),
        "norm {report:?} vs {expected_norm:?}; {context:?}"
    );
    if pipeline.max_norm.is_none() {
        assert_eq!(report.clip_coef, 1.0);
    }

    if !report.stepped {
        assert_all_untouched("skipped", &(report, context), &before, &reference);
    } else {
        // Each group: a plain step on the unscaled, clipped gradients.
        for (b, r) in buffers.iter().zip(&reference) {
            let grads: Vec<f32> = b
                .grads
                .iter()
                .map(|&g| (g * unscale) * reference_clip)
                .collect();
            let (mut p, mut st) = (b.params.clone(), b.state.clone());
            opt.step_with(Backend::Scalar, t, &mut p, &grads, &mut st)
                .expect("the pipeline accepted this group");
            assert_same(
                "pipeline vs plain step: params",
                &(report, context),
                &p,
                &r.params,
            );
            assert_same(
                "pipeline vs plain step: state",
                &(report, context),
                &st,
                &r.state,
            );
        }
    }

    // Every back-end: the same bits and report, or refused without writing.
    for backend in every_backend() {
        let mut b = buffers.clone();
        let r = pipeline.step_with(backend, opt, t, &mut groups_of(&mut b));
        if available.contains(&backend) {
            let r = r.unwrap_or_else(|e| panic!("{backend:?}: {e:?}; {context:?}"));
            assert!(
                same_report(&r, &report),
                "{backend:?}: {r:?} vs {report:?}; {context:?}"
            );
            assert_all_same("back-end", &(backend, context), &reference, &b);
        } else {
            assert!(
                matches!(r, Err(Error::BackendUnavailable { .. })),
                "{backend:?} unavailable but gave {r:?}"
            );
            assert_all_untouched("unavailable", &(backend, context), &before, &b);
        }
    }

    // Sharded: each group on its own with the combined statistics.
    let mut sharded = buffers.clone();
    for b in &mut sharded {
        let group = groups_of(core::slice::from_mut(b)).pop().unwrap();
        let r = pipeline
            .step_sharded(opt, t, needs_stats.then_some(total), group)
            .unwrap_or_else(|e| panic!("step_sharded: {e:?}; {context:?}"));
        assert!(
            same_report(&r, &report),
            "step_sharded: {r:?} vs {report:?}; {context:?}"
        );
    }
    assert_all_same("sharded", &context, &reference, &sharded);
    if needs_stats {
        let mut b = buffers.clone();
        for b in &mut b {
            let group = groups_of(core::slice::from_mut(b)).pop().unwrap();
            let r = pipeline.step_sharded(opt, t, None, group);
            assert!(
                matches!(r, Err(Error::IncompatibleOptions { .. })),
                "step_sharded without stats gave {r:?}; {context:?}"
            );
        }
        assert_all_untouched("sharded without stats", &context, &before, &b);
    }
}

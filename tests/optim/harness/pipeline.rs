//! The fused gradient pipeline against the passes it replaces: unscale, check, clip, step.

use fused_optim::pipeline::{GradPipeline, GradStats, Group};
use fused_optim::{Adam, Backend, Error, Optimizer};
use proptest::prelude::*;

use crate::common::*;
use crate::registry::{any_optimizer, every_variant};

/// The documented reduction, written out naively: element i into accumulator i mod 16, in
/// order, then a pairwise combine.
fn reference_sum_sq(grads: &[f32], unscale: f32) -> f64 {
    let mut acc = [0.0f64; 16];
    for (i, &g) in grads.iter().enumerate() {
        let u = f64::from(g * unscale);
        acc[i % 16] += u * u;
    }
    for width in [8, 4, 2, 1] {
        for j in 0..width {
            acc[j] += acc[j + width];
        }
    }
    acc[0]
}

/// A buffer set for several groups.
#[derive(Clone, Debug)]
struct Buffers {
    params: Vec<Vec<f32>>,
    grads: Vec<Vec<f32>>,
    states: Vec<Vec<f32>>,
}

impl Buffers {
    fn new(opt: &dyn Optimizer, lens: &[usize], seed: u64, grad_scale: f32) -> Self {
        let params = lens
            .iter()
            .enumerate()
            .map(|(i, &n)| pseudo_random(n, seed + i as u64));
        let grads = lens.iter().enumerate().map(|(i, &n)| {
            pseudo_random(n, seed + 100 + i as u64)
                .iter()
                .map(|g| g * grad_scale)
                .collect()
        });
        Buffers {
            params: params.collect(),
            grads: grads.collect(),
            states: lens.iter().map(|&n| initial_state(opt, n)).collect(),
        }
    }

    fn groups(&mut self) -> Vec<Group<'_>> {
        self.params
            .iter_mut()
            .zip(&self.grads)
            .zip(self.states.iter_mut())
            .map(|((params, grads), state)| Group {
                params,
                grads,
                state,
            })
            .collect()
    }

    fn same_as(&self, other: &Buffers) -> bool {
        let all = |a: &Vec<Vec<f32>>, b: &Vec<Vec<f32>>| {
            a.iter()
                .zip(b)
                .all(|(x, y)| first_difference(x, y).is_none())
        };
        all(&self.params, &other.params) && all(&self.states, &other.states)
    }

    fn identical(&self, other: &Buffers) -> bool {
        let all =
            |a: &Vec<Vec<f32>>, b: &Vec<Vec<f32>>| a.iter().zip(b).all(|(x, y)| identical(x, y));
        all(&self.params, &other.params) && all(&self.states, &other.states)
    }
}

/// Unscale, clip and step in three separate passes, as an engine without the pipeline would.
fn three_passes(
    opt: &dyn Optimizer,
    pipeline: &GradPipeline,
    t: u64,
    buffers: &mut Buffers,
) -> Option<f32> {
    let unscale = (1.0 / pipeline.grad_scale) as f32;
    let unscaled: Vec<Vec<f32>> = buffers
        .grads
        .iter()
        .map(|g| g.iter().map(|x| x * unscale).collect())
        .collect();
    let sum_sq = unscaled
        .iter()
        .fold(0.0, |s, g| s + reference_sum_sq(g, 1.0));
    if pipeline.skip_non_finite && !sum_sq.is_finite() {
        return None;
    }
    let clip = match pipeline.max_norm {
        Some(max_norm) => (max_norm / (sum_sq.sqrt() + 1e-6)).min(1.0) as f32,
        None => 1.0,
    };
    for ((p, g), s) in buffers
        .params
        .iter_mut()
        .zip(&unscaled)
        .zip(buffers.states.iter_mut())
    {
        let clipped: Vec<f32> = g.iter().map(|x| x * clip).collect();
        opt.step(t, p, &clipped, s).unwrap();
    }
    Some(clip)
}

#[test]
fn stats_follow_the_documented_order_and_are_accurate() {
    for n in [0, 1, 15, 16, 17, 1000, 4099] {
        for scale in [1.0, 1024.0, 1.0 / 3.0] {
            let grads = pseudo_random(n, n as u64);
            let stats = GradStats::of(&grads, scale);
            let unscale = (1.0 / scale) as f32;
            assert_eq!(
                stats.sum_sq.to_bits(),
                reference_sum_sq(&grads, unscale).to_bits()
            );
            // and close to the exact value (squares are exact in f64; only the sum rounds)
            let exact: f64 = grads.iter().map(|&g| f64::from(g * unscale).powi(2)).sum();
            assert!((stats.sum_sq - exact).abs() <= 1e-12 * exact, "n {n}");
            assert!(stats.is_finite());
        }
    }
    let mut grads = pseudo_random(100, 1);
    grads[37] = f32::NAN;
    assert!(!GradStats::of(&grads, 1.0).is_finite());
    grads[37] = f32::NEG_INFINITY;
    assert!(!GradStats::of(&grads, 1.0).is_finite());
    // A finite gradient that overflows when unscaled by a scale below 1 is non-finite too.
    grads[37] = f32::MAX;
    assert!(!GradStats::of(&grads, 0.25).is_finite());
    assert!(GradStats::of(&grads, 4.0).is_finite());
}

proptest! {
    #![proptest_config(config(256))]

    /// The pipeline step gives exactly the bits of unscale, clip and step done in three
    /// passes, on every back-end, for every optimizer and any groups.
    #[test]
    fn pipeline_equals_three_passes(
        opt in any_optimizer(),
        lens in proptest::collection::vec(0usize..300, 1..5),
        grad_scale in prop_oneof![Just(1.0f64), Just(65536.0), 0.01f64..1e4],
        max_norm in proptest::option::of(prop_oneof![Just(0.0f64), 1e-3f64..10.0]),
        skip_non_finite in any::<bool>(),
        seed in 0u64..1000,
        t in 1u64..4,
    ) {
        let opt = opt.as_dyn();
        let pipeline = GradPipeline { grad_scale, max_norm, skip_non_finite };
        let start = Buffers::new(opt, &lens, seed, grad_scale as f32);
        let mut expected = start.clone();
        let clip = three_passes(opt, &pipeline, t, &mut expected);
        for backend in backends() {
            let mut ours = start.clone();
            let report = pipeline.step_with(backend, opt, t, &mut ours.groups()).unwrap();
            prop_assert!(report.stepped);
            prop_assert_eq!(Some(report.clip_coef), clip);
            prop_assert!(ours.same_as(&expected), "{:?}", backend);
        }
    }

    /// Any Inf or NaN among the unscaled gradients of any group: with skipping, nothing is
    /// written anywhere and the step is reported as skipped, on every back-end.
    #[test]
    fn non_finite_gradients_skip_the_whole_step(
        opt in any_optimizer(),
        lens in proptest::collection::vec(1usize..200, 1..4),
        bad in prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(f32::NEG_INFINITY)],
        which in any::<prop::sample::Index>(),
        max_norm in proptest::option::of(1e-3f64..10.0),
    ) {
        let opt = opt.as_dyn();
        let mut buffers = Buffers::new(opt, &lens, 3, 1.0);
        let group = which.index(lens.len());
        let at = which.index(lens[group]);
        buffers.grads[group][at] = bad;
        let before = buffers.clone();
        let pipeline = GradPipeline { max_norm, skip_non_finite: true, ..GradPipeline::default() };
        for backend in backends() {
            let report = pipeline.step_with(backend, opt, 1, &mut buffers.groups()).unwrap();
            prop_assert!(!report.stepped);
            prop_assert!(report.grad_norm.is_some_and(|n| !n.is_finite()));
            prop_assert!(buffers.identical(&before));
        }
    }
}

/// Without unscaling, clipping or skipping, a multi-group step is each group's own step.
#[test]
fn multi_group_step_equals_separate_steps() {
    for any in every_variant() {
        let opt = any.as_dyn();
        let lens = [0, 1, 17, 64, 333];
        let mut together = Buffers::new(opt, &lens, 9, 1.0);
        let mut separate = together.clone();
        for t in 1..=3 {
            let report = GradPipeline::default()
                .step(opt, t, &mut together.groups())
                .unwrap();
            assert_eq!(
                report,
                fused_optim::pipeline::StepReport {
                    stepped: true,
                    grad_norm: None,
                    clip_coef: 1.0
                }
            );
            for ((p, g), s) in separate
                .params
                .iter_mut()
                .zip(&separate.grads)
                .zip(separate.states.iter_mut())
            {
                opt.step(t, p, g, s).unwrap();
            }
            assert!(together.identical(&separate), "{any:?}, step {t}");
        }
    }
}

/// Shards that reduce their own statistics and step with the combined total give the same
/// bits as one multi-group step over the same pieces.
#[test]
fn sharded_steps_equal_the_multi_group_step() {
    let opt = Adam {
        amsgrad: true,
        ..Adam::default()
    };
    let pipeline = GradPipeline {
        grad_scale: 512.0,
        max_norm: Some(0.5),
        skip_non_finite: true,
    };
    let lens = [100, 7, 1000, 33];
    let mut whole = Buffers::new(&opt, &lens, 4, 512.0);
    let mut shards = whole.clone();
    let report = pipeline.step(&opt, 1, &mut whole.groups()).unwrap();
    let total = shards.grads.iter().fold(GradStats::ZERO, |acc, g| {
        acc.combine(GradStats::of(g, pipeline.grad_scale))
    });
    for group in shards.groups() {
        let shard_report = pipeline.step_sharded(&opt, 1, Some(total), group).unwrap();
        assert_eq!(shard_report, report);
    }
    assert!(report.clip_coef < 1.0, "the test should clip");
    assert!(whole.identical(&shards));
    // Clipping without the combined statistics is refused.
    let mut b = whole.clone();
    let group = b.groups().into_iter().next().unwrap();
    assert!(matches!(
        pipeline.step_sharded(&opt, 2, None, group),
        Err(Error::IncompatibleOptions { .. })
    ));
}

/// Clipping brings the global norm of the gradients the optimizer sees to max_norm.
#[test]
fn clipping_bounds_the_global_norm() {
    let opt = fused_optim::Sgd {
        lr: 1.0,
        ..fused_optim::Sgd::default()
    };
    let lens = [50, 3, 200];
    let mut b = Buffers::new(&opt, &lens, 5, 1.0);
    let before = b.clone();
    let pipeline = GradPipeline {
        max_norm: Some(0.25),
        ..GradPipeline::default()
    };
    let report = pipeline.step(&opt, 1, &mut b.groups()).unwrap();
    assert!(report.grad_norm.unwrap() > 0.25 && report.clip_coef < 1.0);
    // SGD with lr 1: the parameter change is exactly the clipped gradient.
    let norm_sq: f64 = b
        .params
        .iter()
        .zip(&before.params)
        .flat_map(|(p, q)| p.iter().zip(q).map(|(x, y)| f64::from(y - x).powi(2)))
        .sum();
    assert!((norm_sq.sqrt() - 0.25).abs() < 1e-5, "{}", norm_sq.sqrt());
}

/// Every refusal comes before any write, in every group.
#[test]
fn bad_calls_write_nothing() {
    let opt = Adam::default();
    let lens = [10, 20, 30];
    let fresh = Buffers::new(&opt, &lens, 6, 1.0);
    let good = GradPipeline {
        max_norm: Some(1.0),
        skip_non_finite: true,
        ..GradPipeline::default()
    };
    // (settings, t, state of group .0 shortened by .1 floats)
    type Case = (GradPipeline, u64, Option<(usize, usize)>);
    let cases: Vec<Case> = vec![
        (
            GradPipeline {
                grad_scale: 0.0,
                ..good
            },
            1,
            None,
        ),
        (
            GradPipeline {
                grad_scale: f64::NAN,
                ..good
            },
            1,
            None,
        ),
        (
            GradPipeline {
                grad_scale: -2.0,
                ..good
            },
            1,
            None,
        ),
        (
            GradPipeline {
                max_norm: Some(-1.0),
                ..good
            },
            1,
            None,
        ),
        (
            GradPipeline {
                max_norm: Some(f64::INFINITY),
                ..good
            },
            1,
            None,
        ),
        (good, 0, None),
        // The last group's state is one float short: the first two must not be stepped.
        (good, 1, Some((2, 1))),
    ];
    for (pipeline, t, shorten) in cases {
        let mut b = fresh.clone();
        if let Some((group, by)) = shorten {
            let len = b.states[group].len() - by;
            b.states[group].truncate(len);
        }
        let before = b.clone();
        assert!(
            pipeline.step(&opt, t, &mut b.groups()).is_err(),
            "{pipeline:?}, t {t}"
        );
        assert!(b.identical(&before), "{pipeline:?}");
    }
    let bad_opt = Adam {
        lr: f64::NAN,
        ..Adam::default()
    };
    let mut b = fresh.clone();
    assert!(good.step(&bad_opt, 1, &mut b.groups()).is_err());
    assert!(b.identical(&fresh));
    assert!(matches!(
        good.step_with(Backend::Scalar, &opt, 1, &mut []),
        Ok(r) if r.stepped && r.grad_norm == Some(0.0)
    ));
}

/// The skip rule looks at the *unscaled* gradients (a documented departure from
/// `GradScaler`, which checks the scaled ones): with a loss scale of 0.5 a finite 3e38
/// unscales to +inf, so the step is skipped and nothing is written in any group (scalar state
/// included), for every optimizer variant on every back-end. At a loss scale of 1 the same
/// gradients are finite and the step is taken.
#[test]
fn skip_checks_the_unscaled_gradients() {
    let skip = GradPipeline {
        grad_scale: 0.5,
        max_norm: None,
        skip_non_finite: true,
    };
    let unscaled = (1.0 / skip.grad_scale) as f32;
    assert!(3e38_f32.is_finite() && (3e38_f32 * unscaled).is_infinite());
    for any in every_variant() {
        let opt = any.as_dyn();
        let mut buffers = Buffers::new(opt, &[5, 20], 8, 1.0);
        buffers.grads[1][13] = 3e38;
        let before = buffers.clone();
        for backend in backends() {
            let report = skip
                .step_with(backend, opt, 1, &mut buffers.groups())
                .unwrap();
            assert!(!report.stepped, "{any:?} on {backend:?}");
            assert_eq!(
                report.grad_norm,
                Some(f64::INFINITY),
                "{any:?} on {backend:?}"
            );
            assert!(
                buffers.identical(&before),
                "{any:?} on {backend:?}: written"
            );
        }
        let report = GradPipeline {
            grad_scale: 1.0,
            ..skip
        }
        .step(opt, 1, &mut buffers.groups())
        .unwrap();
        assert!(
            report.stepped && report.grad_norm.is_some_and(f64::is_finite),
            "{any:?}"
        );
        assert!(!buffers.identical(&before), "{any:?}: nothing stepped");
    }
}

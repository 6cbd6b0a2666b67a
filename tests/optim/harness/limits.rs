//! The edges a valid input can reach: the largest step numbers (no call may cost more than
//! O(1) beyond its elements), hyper-parameters whose per-step `f32` scalars overflow (refused
//! before any write), and the loss scales whose `f32` reciprocal does.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use fused_optim::pipeline::{GradPipeline, GradStats, Group};
use fused_optim::schedule::{
    Anneal, CosineAnnealingLr, ExponentialLr, LinearLr, MultiStepLr, OneCycleLr, Schedule, StepLr,
    WarmupCosine,
};
use fused_optim::{Adam, AdamW, Adamax, AnyOptimizer, Error, NAdam, Optimizer};

use crate::common::*;
use crate::registry::every_variant;

/// Runs `f` on its own thread and fails if it has not returned within `seconds`: a liveness
/// bound against work that grows with `t` (2⁶⁴ iterations never end), generous enough for
/// any machine and any build; not a timing measurement.
fn returns_within(seconds: u64, f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(seconds)) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(RecvTimeoutError::Timeout) => {
            panic!("did not return within {seconds} s: its cost grows with the step number")
        }
    }
}

/// The step numbers at the end of the range, and the first ones.
const LAST_STEPS: [u64; 5] = [1, 2, u64::MAX / 2, u64::MAX - 1, u64::MAX];

/// Optimizers whose per-step scalars take the most work to compute: NAdam's issue case
/// (`momentum_decay = 1`, whose running product sticks at a subnormal) and β1 close to 1.
fn slow_candidates() -> Vec<AnyOptimizer> {
    vec![
        NAdam {
            momentum_decay: 1.0,
            ..NAdam::default()
        }
        .into(),
        NAdam {
            betas: (0.999_999, 0.999_999),
            momentum_decay: 1e-12,
            ..NAdam::default()
        }
        .into(),
    ]
}

#[test]
fn every_step_is_constant_time_up_to_the_last_step_number() {
    returns_within(120, || {
        for optimizer in every_variant().into_iter().chain(slow_candidates()) {
            let n = 37;
            for backend in backends() {
                for t in LAST_STEPS {
                    let mut state = initial_state(&optimizer, n);
                    let mut params = pseudo_random(n, t);
                    let grads = pseudo_random(n, t.wrapping_add(1));
                    let result = optimizer.step_with(backend, t, &mut params, &grads, &mut state);
                    assert!(
                        result.is_ok(),
                        "{optimizer:?} step {t} on {backend:?}: {result:?}"
                    );
                    let scalars = optimizer.scalar_names().len();
                    let tail = state.len() - scalars;
                    optimizer
                        .advance_scalars(t, &mut state[tail..])
                        .expect("valid scalar state");
                }
            }
        }
    });
}

#[test]
fn the_pipeline_is_constant_time_up_to_the_last_step_number() {
    returns_within(120, || {
        let pipeline = GradPipeline {
            grad_scale: 1024.0,
            max_norm: Some(1.0),
            skip_non_finite: true,
        };
        for optimizer in every_variant().into_iter().chain(slow_candidates()) {
            for t in LAST_STEPS {
                let n = 19;
                let (mut p0, mut p1) = (pseudo_random(n, 1), pseudo_random(n + 3, 2));
                let (g0, g1) = (pseudo_random(n, 3), pseudo_random(n + 3, 4));
                let (mut s0, mut s1) = (
                    initial_state(&optimizer, n),
                    initial_state(&optimizer, n + 3),
                );
                let mut groups = [
                    Group {
                        params: &mut p0,
                        grads: &g0,
                        state: &mut s0,
                    },
                    Group {
                        params: &mut p1,
                        grads: &g1,
                        state: &mut s1,
                    },
                ];
                let report = pipeline.step(&optimizer, t, &mut groups);
                assert!(report.is_ok(), "{optimizer:?} step {t}: {report:?}");
            }
        }
    });
}

#[test]
fn nadams_running_product_reaches_its_fixed_point_in_few_steps() {
    // The case: the product sticks at a subnormal that 0.9·x rounds back to.
    returns_within(60, || {
        let nadam = NAdam {
            momentum_decay: 1.0,
            ..NAdam::default()
        };
        let last = nadam.mu_product(u64::MAX);
        assert_eq!(last, nadam.mu_product(100_000));
        assert!(last < f32::MIN_POSITIVE, "{last:e}");
        // β1 within an f32 ulp of 1 and ψ = 1: μ = β1 from step 18 255 on, then the product
        // shrinks by 2⁻²⁴ a step, ~10⁹ steps of the plain loop, which the closed form for a
        // constant factor replaces; and ψ just below 1/150, where the product dies while the
        // pow phase is still running.
        for (beta1, momentum_decay) in [(f32::from_bits(0x3f7f_ffff) as f64, 1.0), (0.9999, 0.0051)]
        {
            let nadam = NAdam {
                betas: (beta1, 0.999),
                momentum_decay,
                ..NAdam::default()
            };
            let last = nadam.mu_product(u64::MAX);
            // A fixed point of the last factor, at the bottom of the normal range or below.
            assert!(last <= f32::MIN_POSITIVE, "β1 {beta1}: {last:e}");
            assert_eq!(last * beta1 as f32, last, "β1 {beta1}: {last:e}");
            assert_eq!(last, nadam.mu_product(u64::MAX - 1));
        }
    });
}

/// Every schedule with parameters at the edges of what `validate` accepts.
fn edge_schedules() -> Vec<Box<dyn Schedule + Send>> {
    const MILESTONES: [u64; 4] = [1, 1 << 40, u64::MAX - 1, u64::MAX];
    let big = f32::MAX as f64;
    vec![
        Box::new(StepLr {
            base_lr: big,
            step_size: 1,
            gamma: 0.5,
        }),
        Box::new(MultiStepLr {
            base_lr: big,
            milestones: &MILESTONES,
            gamma: 0.1,
        }),
        Box::new(ExponentialLr {
            base_lr: big,
            gamma: 1.0 - 1e-16,
        }),
        Box::new(CosineAnnealingLr {
            base_lr: big,
            t_max: u64::MAX,
            eta_min: 0.0,
        }),
        Box::new(LinearLr {
            base_lr: big,
            start_factor: 1e-300,
            end_factor: 1.0,
            total_iters: u64::MAX,
        }),
        Box::new(OneCycleLr {
            anneal_strategy: Anneal::Linear,
            three_phase: true,
            pct_start: 0.5,
            ..OneCycleLr::new(big, u64::MAX)
        }),
        Box::new(WarmupCosine {
            base_lr: big,
            start_factor: 0.0,
            warmup: u64::MAX - 1,
            total: u64::MAX,
            eta_min: big,
        }),
    ]
}

#[test]
fn every_schedule_is_constant_time_and_finite_up_to_the_last_epoch() {
    returns_within(60, || {
        for schedule in edge_schedules() {
            schedule.validate().expect("edge parameters are valid");
            for epoch in LAST_STEPS.into_iter().chain([0, 3]) {
                let lr = schedule.lr(epoch);
                assert!(
                    lr.is_finite() && (lr as f32).is_finite() && lr >= 0.0,
                    "epoch {epoch}: {lr:e}"
                );
            }
        }
    });
}

/// Checks that `optimizer` refuses step `t` on every back-end and through every entry point
/// with `NonFiniteStepScalar` naming `scalar`, writing nothing.
fn refuses_the_step(optimizer: &dyn Optimizer, t: u64, scalar: &str) {
    let n = 67;
    let grads = pseudo_random(n, 9);
    let params = pseudo_random(n, 10);
    let state = initial_state(optimizer, n);
    let expect = |result: Result<(), Error>, how: &str| match result {
        Err(Error::NonFiniteStepScalar { name, value, t: at }) => {
            assert_eq!((name, at), (scalar, t), "{optimizer:?} {how}");
            assert!(!value.is_finite(), "{optimizer:?} {how}: {value}");
        }
        other => panic!("{optimizer:?} {how}: {other:?}"),
    };
    for backend in backends() {
        let (mut p, mut s) = (params.clone(), state.clone());
        expect(
            optimizer.step_with(backend, t, &mut p, &grads, &mut s),
            "step_with",
        );
        assert!(identical(&p, &params) && identical(&s, &state));

        let k = optimizer.state_planes();
        let (elements, scalars) = s.split_at_mut(k * n);
        let mut planes: Vec<&mut [f32]> = elements.chunks_mut(n).collect();
        if !scalars.is_empty() {
            planes.push(scalars);
        }
        expect(
            optimizer.step_planes_with(backend, t, &mut p, &grads, &mut planes),
            "step_planes_with",
        );
        assert!(identical(&p, &params) && identical(&s, &state));
    }
    #[cfg(feature = "rayon")]
    {
        let n = 100_000;
        let (grads, params) = (pseudo_random(n, 1), pseudo_random(n, 2));
        let state = initial_state(optimizer, n);
        let (mut p, mut s) = (params.clone(), state.clone());
        expect(
            optimizer.step_parallel(t, &mut p, &grads, &mut s),
            "step_parallel",
        );
        assert!(identical(&p, &params) && identical(&s, &state));
    }
    let (mut p, mut s) = (params.clone(), state.clone());
    let result = GradPipeline::default().step(
        optimizer,
        t,
        &mut [Group {
            params: &mut p,
            grads: &grads,
            state: &mut s,
        }],
    );
    expect(result.map(|_| ()), "pipeline");
    assert!(identical(&p, &params) && identical(&s, &state));
}

/// β1 this close to 1 makes `1 − β1ᵗ` about 10⁻¹⁵ for the first steps.
const BETA1_NEAR_ONE: f64 = 1.0 - 1e-15;

#[test]
fn a_step_size_past_f32_max_is_refused_before_any_write() {
    let betas = (BETA1_NEAR_ONE, 0.999);
    // lr / (1 − β1ᵗ) ≈ 10³⁰ / 10⁻¹⁵ at t = 1 and 2: past f32::MAX.
    for t in [1, 2] {
        refuses_the_step(
            &Adam {
                lr: 1e30,
                betas,
                ..Adam::default()
            },
            t,
            "neg_step_size",
        );
        refuses_the_step(
            &AdamW {
                lr: 1e30,
                betas,
                ..AdamW::default()
            },
            t,
            "neg_step_size",
        );
        refuses_the_step(
            &Adamax {
                lr: 1e30,
                betas,
                ..Adamax::default()
            },
            t,
            "neg_clr",
        );
    }
    // Far enough on, the same hyper-parameters give a finite step size: accepted.
    let adam = Adam {
        lr: 1e30,
        betas,
        ..Adam::default()
    };
    let (mut p, mut s) = (vec![1.0; 3], vec![0.0; 6]);
    assert!(adam.step(1 << 62, &mut p, &[0.5; 3], &mut s).is_ok());
}

#[test]
fn a_decoupled_decay_past_f32_max_is_refused_before_any_write() {
    // 1 − lr · weight_decay = 1 − 10⁴⁰.
    let adamw = AdamW {
        lr: 1e20,
        weight_decay: 1e20,
        ..AdamW::default()
    };
    refuses_the_step(&adamw, 1, "decay");
}

/// NAdam whose `f32(μₜ)` is 1 from the first step: β1 rounds to 1 in `f32` and the momentum
/// schedule has already converged, so `1 − Πₜ = 0` (PyTorch: `ZeroDivisionError`).
fn nadam_whose_product_stays_one() -> NAdam {
    NAdam {
        betas: (1.0 - 1e-9, 0.999),
        momentum_decay: 1e6,
        ..NAdam::default()
    }
}

#[test]
fn nadams_division_by_a_zero_bias_correction_is_refused_before_any_write() {
    let nadam = nadam_whose_product_stays_one();
    nadam.validate().expect("every hyper-parameter is in range");
    refuses_the_step(&nadam, 1, "grad_coef");
}

#[test]
fn the_pipeline_checks_every_groups_step_scalars_before_writing_the_first() {
    // Group 0's scalar state is fine (Π = 0.5), group 1's makes 1 − Π = 0.
    let nadam = nadam_whose_product_stays_one();
    let n = 5;
    let (params, grads) = (pseudo_random(n, 1), pseudo_random(n, 2));
    let mut state0 = initial_state(&nadam, n);
    *state0.last_mut().unwrap() = 0.5;
    let state1 = initial_state(&nadam, n);
    let (mut p0, mut s0, mut p1, mut s1) = (
        params.clone(),
        state0.clone(),
        params.clone(),
        state1.clone(),
    );
    for backend in backends() {
        let result = GradPipeline::default().step_with(
            backend,
            &nadam,
            1,
            &mut [
                Group {
                    params: &mut p0,
                    grads: &grads,
                    state: &mut s0,
                },
                Group {
                    params: &mut p1,
                    grads: &grads,
                    state: &mut s1,
                },
            ],
        );
        assert!(
            matches!(
                result,
                Err(Error::NonFiniteStepScalar {
                    name: "grad_coef",
                    ..
                })
            ),
            "{backend:?}: {result:?}"
        );
        assert!(identical(&p0, &params) && identical(&s0, &state0));
        assert!(identical(&p1, &params) && identical(&s1, &state1));
    }
    // Group 0 alone steps.
    let result = GradPipeline::default().step(
        &nadam,
        1,
        &mut [Group {
            params: &mut p0,
            grads: &grads,
            state: &mut s0,
        }],
    );
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn loss_scales_whose_f32_reciprocal_is_infinite_or_zero_are_refused() {
    let smallest = 2.938_735_964_636_876e-39; // 1 / (f32::MAX + ½ ulp), rounded up
    let largest = 2f64.powi(150) * (1.0 - f64::EPSILON); // f32(1 / it) is the least subnormal
    for (grad_scale, valid) in [
        (smallest, true),
        (largest, true),
        (1.0, true),
        (smallest * (1.0 - f64::EPSILON), false),
        (1e-39, false),
        (2f64.powi(150), false),
        (1e300, false),
        (f64::INFINITY, false),
        (0.0, false),
        (-1.0, false),
        (f64::NAN, false),
    ] {
        let pipeline = GradPipeline {
            grad_scale,
            ..GradPipeline::default()
        };
        match pipeline.validate() {
            Ok(()) => assert!(valid, "{grad_scale:e} accepted"),
            Err(Error::InvalidHyperParameter { name, .. }) => {
                assert!(!valid && name == "grad_scale", "{grad_scale:e} refused")
            }
            Err(other) => panic!("{grad_scale:e}: {other:?}"),
        }
        if valid {
            // The factor is finite and non-zero; a finite gradient's statistics stay finite.
            let sum_sq = GradStats::of(&[1.0], grad_scale).sum_sq;
            assert!(
                sum_sq.is_finite() && sum_sq > 0.0,
                "{grad_scale:e}: {sum_sq:e}"
            );
        }
    }
}

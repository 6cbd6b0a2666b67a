//! The promise: the SIMD and scalar paths, and any chunking of the slices, give bit-identical
//! parameters and state (NaN payloads aside), for every optimizer and option.
//!
//! Run this file under several instruction sets (`.ci/run` does: default, `+avx2,+fma`,
//! `-C target-cpu=native`), because `wide` compiles only the instructions the build enables.

mod common;

use common::*;
use fused_optim::Backend;
use proptest::prelude::*;

/// Steps `problem` on `backend`, returning parameters and state after every step.
fn trajectory(problem: &Problem, backend: Backend) -> Vec<(Vec<f32>, Vec<f32>)> {
    let opt = problem.optimizer.get();
    let first = problem.optimizer.first_step();
    let mut params = problem.params.clone();
    let mut state = problem.initial_state();
    let mut out = Vec::new();
    for (i, grads) in problem.grads.iter().enumerate() {
        opt.step_with(backend, first + i as u64, &mut params, grads, &mut state)
            .expect("valid call");
        out.push((params.clone(), state.clone()));
    }
    out
}

/// Panics at the first parameter or state value whose bits differ (NaN-aware) between two
/// trajectories, naming the step, the plane and the index.
fn assert_same_trajectory(
    a: &[(Vec<f32>, Vec<f32>)],
    b: &[(Vec<f32>, Vec<f32>)],
    context: impl std::fmt::Display,
) {
    assert_eq!(a.len(), b.len(), "{context}: steps");
    for (t, ((p0, s0), (p1, s1))) in a.iter().zip(b).enumerate() {
        let t = t + 1;
        assert_eq!(
            first_difference(p0, p1),
            None,
            "{context}: params after step {t}"
        );
        assert_eq!(
            first_difference(s0, s1),
            None,
            "{context}: state after step {t}"
        );
    }
}

fn check_simd_equals_scalar(problem: &Problem) -> Result<(), TestCaseError> {
    let scalar = trajectory(problem, Backend::Scalar);
    let simd = trajectory(problem, Backend::Simd);
    for (t, ((p0, s0), (p1, s1))) in scalar.iter().zip(&simd).enumerate() {
        prop_assert_eq!(
            first_difference(p0, p1),
            None,
            "params after step {}",
            t + 1
        );
        prop_assert_eq!(first_difference(s0, s1), None, "state after step {}", t + 1);
    }
    Ok(())
}

/// Steps `problem` with the slices cut at `cuts` (fractions of the length), each piece through
/// `step_planes` on its own, and compares with whole-slice steps after every step.
fn check_chunked_equals_whole(problem: &Problem, cuts: &[f64]) -> Result<(), TestCaseError> {
    let opt = problem.optimizer.get();
    let first = problem.optimizer.first_step();
    let n = problem.params.len();
    let k = opt.state_planes();
    let mut bounds: Vec<usize> = cuts.iter().map(|c| (c * n as f64) as usize).collect();
    bounds.extend([0, n]);
    bounds.sort_unstable();

    let whole = trajectory(problem, Backend::Auto);
    let mut params = problem.params.clone();
    let mut state = problem.initial_state();
    for (i, grads) in problem.grads.iter().enumerate() {
        for w in bounds.windows(2) {
            let (a, b) = (w[0], w[1]);
            let mut planes: Vec<&mut [f32]> = if n == 0 {
                (0..k).map(|_| &mut [][..]).collect()
            } else {
                state.chunks_mut(n).map(|plane| &mut plane[a..b]).collect()
            };
            opt.step_planes(
                first + i as u64,
                &mut params[a..b],
                &grads[a..b],
                &mut planes,
            )
            .expect("valid call");
        }
        let (p, s) = &whole[i];
        prop_assert_eq!(
            first_difference(&params, p),
            None,
            "params after step {}",
            i + 1
        );
        prop_assert_eq!(
            first_difference(&state, s),
            None,
            "state after step {}",
            i + 1
        );
    }
    Ok(())
}

const CASES: u32 = 512;

macro_rules! per_optimizer {
    ($($name:ident => $strategy:expr),* $(,)?) => {
        mod simd_equals_scalar {
            use super::*;
            proptest! {
                #![proptest_config(ProptestConfig::with_cases(CASES))]
                $(
                    #[test]
                    fn $name(problem in problem($strategy, 1000, 5, finite_element)) {
                        check_simd_equals_scalar(&problem)?;
                    }
                )*
            }
        }
        mod chunked_equals_whole {
            use super::*;
            proptest! {
                #![proptest_config(ProptestConfig::with_cases(CASES))]
                $(
                    #[test]
                    fn $name(
                        problem in problem($strategy, 1000, 4, finite_element),
                        cuts in proptest::collection::vec(0.0..1.0f64, 0..6),
                    ) {
                        check_chunked_equals_whole(&problem, &cuts)?;
                    }
                )*
            }
        }
    };
}

per_optimizer! {
    sgd => any_sgd().prop_map(AnyOptimizer::Sgd),
    adagrad => any_adagrad().prop_map(AnyOptimizer::Adagrad),
    rmsprop => any_rmsprop().prop_map(AnyOptimizer::RmsProp),
    adam => any_adam().prop_map(AnyOptimizer::Adam),
    adamw => any_adamw().prop_map(AnyOptimizer::AdamW),
    adamax => any_adamax().prop_map(AnyOptimizer::Adamax),
    nadam => any_nadam().prop_map(AnyOptimizer::NAdam),
    radam => any_radam().prop_map(AnyOptimizer::RAdam),
    adadelta => any_adadelta().prop_map(AnyOptimizer::Adadelta),
    rprop => any_rprop().prop_map(AnyOptimizer::Rprop),
    asgd => any_asgd().prop_map(AnyOptimizer::Asgd),
    lion => any_lion().prop_map(AnyOptimizer::Lion),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// NaN, ±Inf, subnormals, huge values and arbitrary bit patterns in parameters, gradients
    /// and state: still the same bits on both paths.
    #[test]
    fn simd_equals_scalar_on_any_values(problem in problem(any_optimizer(), 200, 3, any_element)) {
        check_simd_equals_scalar(&problem)?;
    }
}

/// Every kernel variant on every back-end, every length from 0 to 70 (below, at and around
/// every lane width, up to two 32-lane AVX-512 iterations and a tail),
/// three steps (so momentum's first and later steps both run, ASGD with `t0 = 0` averages in
/// the third, and RAdam, from step 5, crosses its rectification switch).
#[test]
fn every_variant_every_short_length() {
    for optimizer in every_variant() {
        for n in 0..=70 {
            let problem = Problem {
                optimizer: optimizer.clone(),
                params: pseudo_random(n, 1),
                grads: (0..3).map(|s| pseudo_random(n, 10 + s)).collect(),
                state: None,
            };
            let scalar = trajectory(&problem, Backend::Scalar);
            for backend in backends() {
                let other = trajectory(&problem, backend);
                assert_same_trajectory(
                    &scalar,
                    &other,
                    format!("{optimizer:?} on {backend:?}, n = {n}"),
                );
            }
            // The update did something: parameters moved (no kernel silently skipped).
            if n > 0 {
                assert_ne!(scalar[2].0, problem.params, "{optimizer:?}, n = {n}");
            }
        }
    }
}

/// Long slices: from 2¹⁸ elements the walk adds software prefetches of every stream (a
/// different loop), which must not change a bit either. Every kernel variant, on every
/// back-end, just above the switch (a length that leaves a scalar tail), three steps.
#[test]
fn every_variant_on_long_slices() {
    const PREFETCH_FROM: usize = 1 << 18;
    for optimizer in every_variant() {
        for n in [PREFETCH_FROM + 37] {
            let problem = Problem {
                optimizer: optimizer.clone(),
                params: pseudo_random(n, 2),
                grads: (0..3).map(|s| pseudo_random(n, 20 + s)).collect(),
                state: None,
            };
            let scalar = trajectory(&problem, Backend::Scalar);
            for backend in backends() {
                let other = trajectory(&problem, backend);
                assert_same_trajectory(
                    &scalar,
                    &other,
                    format!("{optimizer:?} on {backend:?}, n = {n}"),
                );
            }
            assert_ne!(scalar[2].0, problem.params, "{optimizer:?}, n = {n}");
        }
    }
}

#[test]
fn backends_report_themselves() {
    assert!(Backend::Scalar.is_available());
    assert!(Backend::Simd.is_available());
    assert_eq!(Backend::Scalar.lanes(), 1);
    assert!(Backend::Simd.lanes() >= 1);
    assert!(Backend::Auto.is_available());
    let auto = Backend::Auto.resolve();
    assert!(Backend::all().contains(&auto) && auto.is_available());
    for backend in Backend::all() {
        assert_eq!(backend.resolve(), backend);
    }
}

/// `step_parallel` gives `step`'s bits, whatever the number of threads.
#[cfg(feature = "rayon")]
mod parallel {
    use super::*;

    #[test]
    fn parallel_equals_serial_for_any_thread_count() {
        for (seed, any) in every_variant().into_iter().enumerate() {
            let opt = any.get();
            let first = any.first_step();
            // Below, at and above the split threshold, with a ragged tail.
            for n in [0, 1, 1000, 32_768, 32_769, 100_003, 300_017] {
                let params = pseudo_random(n, seed as u64);
                let grads: Vec<Vec<f32>> = (0..2)
                    .map(|s| pseudo_random(n, 100 + s + seed as u64))
                    .collect();
                let (mut p0, mut s0) = (params.clone(), initial_state(opt, n));
                for (t, g) in grads.iter().enumerate() {
                    opt.step(first + t as u64, &mut p0, g, &mut s0).unwrap();
                }
                for threads in [1, 2, 3, 8] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let (mut p1, mut s1) = (params.clone(), initial_state(opt, n));
                    pool.install(|| {
                        for (t, g) in grads.iter().enumerate() {
                            opt.step_parallel(first + t as u64, &mut p1, g, &mut s1)
                                .unwrap();
                        }
                    });
                    assert_eq!(
                        first_difference(&p0, &p1),
                        None,
                        "{any:?}, n {n}, {threads} threads"
                    );
                    assert_eq!(
                        first_difference(&s0, &s1),
                        None,
                        "{any:?}, n {n}, {threads} threads"
                    );
                }
            }
            // Errors are refused before any write, as by `step`.
            let mut p = pseudo_random(10, 1);
            let before = p.clone();
            assert!(
                opt.step_parallel(0, &mut p, &[0.0; 10], &mut initial_state(opt, 10))
                    .is_err()
            );
            assert!(
                opt.step_parallel(1, &mut p, &[0.0; 9], &mut initial_state(opt, 10))
                    .is_err()
            );
            assert!(identical(&p, &before));
        }
    }
}

//! The promise: every back-end, and any chunking of the slices, gives the scalar path's bits
//! (NaN payloads aside), for every optimizer and option. Worth running under several
//! instruction sets (`.ci/run` does), since `wide` compiles only those the build enables.

use fused_optim::{AnyOptimizer, Backend};
use proptest::prelude::*;

use crate::common::*;
use crate::registry::{any_optimizer, every_variant, first_step};

/// Steps `problem` on `backend`, returning parameters and state after every step.
fn trajectory(problem: &Problem, backend: Backend) -> Vec<(Vec<f32>, Vec<f32>)> {
    let opt = problem.optimizer.as_dyn();
    let first = first_step(&problem.optimizer);
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

/// The first parameter or state value whose bits differ (NaN-aware) between two
/// trajectories, naming the step, or `None`.
fn trajectory_difference(a: &[(Vec<f32>, Vec<f32>)], b: &[(Vec<f32>, Vec<f32>)]) -> Option<String> {
    assert_eq!(a.len(), b.len(), "steps");
    for (t, ((p0, s0), (p1, s1))) in (1..).zip(a.iter().zip(b)) {
        if let Some(d) = first_difference(p0, p1) {
            return Some(format!("params after step {t}: {d:?}"));
        }
        if let Some(d) = first_difference(s0, s1) {
            return Some(format!("state after step {t}: {d:?}"));
        }
    }
    None
}

fn check_every_backend_equals_scalar(problem: &Problem) -> Result<(), TestCaseError> {
    let scalar = trajectory(problem, Backend::Scalar);
    for backend in vector_backends() {
        let other = trajectory(problem, backend);
        let difference = trajectory_difference(&scalar, &other);
        prop_assert!(difference.is_none(), "{:?}: {:?}", backend, difference);
    }
    Ok(())
}

/// Steps `problem` with the slices cut at `cuts` (fractions of the length), each piece through
/// `step_planes_with` on its own, on every back-end, and compares with whole-slice steps on
/// the scalar path after every step.
fn check_chunked_equals_whole(problem: &Problem, cuts: &[f64]) -> Result<(), TestCaseError> {
    let opt = problem.optimizer.as_dyn();
    let first = first_step(&problem.optimizer);
    let n = problem.params.len();
    let k = opt.state_planes();
    let mut bounds: Vec<usize> = cuts.iter().map(|c| (c * n as f64) as usize).collect();
    bounds.extend([0, n]);
    bounds.sort_unstable();

    let whole = trajectory(problem, Backend::Scalar);
    for backend in backends() {
        let mut params = problem.params.clone();
        let mut state = problem.initial_state();
        for (i, grads) in problem.grads.iter().enumerate() {
            let (elements, scalars) = state.split_at_mut(k * n);
            for w in bounds.windows(2) {
                let (a, b) = (w[0], w[1]);
                let mut planes: Vec<&mut [f32]> = if n == 0 {
                    (0..k).map(|_| &mut [][..]).collect()
                } else {
                    elements
                        .chunks_mut(n)
                        .map(|plane| &mut plane[a..b])
                        .collect()
                };
                // The scalar state, whole, after the planes: read by every piece.
                if !scalars.is_empty() {
                    planes.push(&mut scalars[..]);
                }
                opt.step_planes_with(
                    backend,
                    first + i as u64,
                    &mut params[a..b],
                    &grads[a..b],
                    &mut planes,
                )
                .expect("valid call");
            }
            opt.advance_scalars(first + i as u64, scalars)
                .expect("valid scalars");
            let (p, s) = &whole[i];
            prop_assert_eq!(
                first_difference(&params, p),
                None,
                "{:?}: params after step {}",
                backend,
                i + 1
            );
            prop_assert_eq!(
                first_difference(&state, s),
                None,
                "{:?}: state after step {}",
                backend,
                i + 1
            );
        }
    }
    Ok(())
}

const CASES: u32 = 512;

/// `every_backend_equals_scalar::<name>` and `chunked_equals_whole::<name>` for every
/// registered optimizer, on its `strategy()`.
macro_rules! per_optimizer {
    ($($ty:ident $name:ident $reference:literal;)*) => {
        mod every_backend_equals_scalar {
            use super::*;
            proptest! {
                #![proptest_config(config(CASES))]
                $(
                    #[test]
                    fn $name(problem in problem(
                        crate::$name::strategy().prop_map(AnyOptimizer::from),
                        1000,
                        5,
                        finite_element,
                    )) {
                        check_every_backend_equals_scalar(&problem)?;
                    }
                )*
            }
        }
        mod chunked_equals_whole {
            use super::*;
            proptest! {
                #![proptest_config(config(CASES))]
                $(
                    #[test]
                    fn $name(
                        problem in problem(
                            crate::$name::strategy().prop_map(AnyOptimizer::from),
                            1000,
                            4,
                            finite_element,
                        ),
                        cuts in proptest::collection::vec(0.0..1.0f64, 0..6),
                    ) {
                        check_chunked_equals_whole(&problem, &cuts)?;
                    }
                )*
            }
        }
    };
}

fused_optim::for_each_optimizer!(per_optimizer);

proptest! {
    #![proptest_config(config(CASES))]

    /// NaN, ±Inf, subnormals, huge values and arbitrary bit patterns in parameters, gradients
    /// and state: still the scalar path's bits on every back-end.
    #[test]
    fn every_backend_equals_scalar_on_any_values(
        problem in problem(any_optimizer(), 200, 3, any_element),
    ) {
        check_every_backend_equals_scalar(&problem)?;
    }
}

/// Steps `optimizer` from `params` with `grads` on every back-end in lockstep, in the buffers
/// of `runs` (reused, so that long slices are not allocated per variant), and checks after
/// every step that each has the scalar path's bits, and at the end (for a non-empty slice)
/// that the parameters moved.
fn check_variant(
    optimizer: &AnyOptimizer,
    params: &[f32],
    grads: &[Vec<f32>],
    runs: &mut Vec<(Backend, Vec<f32>, Vec<f32>)>,
) {
    let opt = optimizer.as_dyn();
    let first = first_step(optimizer);
    let n = params.len();
    runs.resize_with(backends().len(), || {
        (Backend::Scalar, Vec::new(), Vec::new())
    });
    for ((backend, p, s), b) in runs.iter_mut().zip(backends()) {
        *backend = b;
        p.clear();
        p.extend_from_slice(params);
        s.clear();
        s.resize(opt.state_len(n), f32::NAN);
        opt.init_state(s).expect("valid optimizer");
    }
    for (t, g) in (first..).zip(grads) {
        for (backend, p, s) in runs.iter_mut() {
            opt.step_with(*backend, t, p, g, s).expect("valid call");
        }
        let ((_, p0, s0), others) = runs.split_first().expect("the scalar back-end");
        for (backend, p, s) in others {
            let at = |what| format!("{optimizer:?} on {backend:?}, n = {n}: {what} after step {t}");
            assert_eq!(first_difference(p0, p), None, "{}", at("params"));
            assert_eq!(first_difference(s0, s), None, "{}", at("state"));
        }
    }
    // The update did something: parameters moved (no kernel silently skipped).
    if n > 0 {
        assert_ne!(runs[0].1, params, "{optimizer:?}, n = {n}");
    }
}

/// Every kernel variant on every back-end, every length from 0 to 70 (below, at and around
/// every lane width, up to two 32-lane AVX-512 iterations and a tail), three steps (so
/// momentum's first and later steps both run, ASGD with `t0 = 0` averages in the third, and
/// RAdam crosses its rectification switch).
#[test]
fn every_variant_every_short_length() {
    let mut runs = Vec::new();
    for optimizer in every_variant() {
        for n in 0..=70 {
            let grads: Vec<Vec<f32>> = (0..3).map(|s| pseudo_random(n, 10 + s)).collect();
            check_variant(&optimizer, &pseudo_random(n, 1), &grads, &mut runs);
        }
    }
}

/// Long slices: from [`Backend::PREFETCH_FROM`] elements the walk adds software prefetches
/// of every stream (a different loop), which must not change a bit either. Every kernel
/// variant, on every back-end, just below the switch and just above it (lengths that leave a
/// scalar tail), three steps.
#[test]
fn every_variant_on_long_slices() {
    let from = Backend::PREFETCH_FROM;
    let mut runs = Vec::new();
    for n in [from - 1, from + 37] {
        let params = pseudo_random(n, 2);
        let grads: Vec<Vec<f32>> = (0..3).map(|s| pseudo_random(n, 20 + s)).collect();
        for optimizer in every_variant() {
            check_variant(&optimizer, &params, &grads, &mut runs);
        }
    }
}

/// What each back-end says of itself: lane counts, availability (as the CPU reports it), and
/// what [`Backend::Auto`] stands for.
#[test]
fn backends_report_themselves() {
    assert_eq!(Backend::Scalar.lanes(), 1);
    // `wide`'s widest vector the build enables: 16 lanes with AVX-512, else 8 (one AVX
    // register, or two SSE2 / NEON / simd128 ones), and the scalar lane without SIMD.
    let simd = if cfg!(target_feature = "avx512f") {
        16
    } else if cfg!(any(
        target_feature = "sse2",
        target_feature = "simd128",
        all(target_arch = "aarch64", target_feature = "neon")
    )) {
        8
    } else {
        1
    };
    assert_eq!(Backend::Simd.lanes(), simd);
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    let (avx2, avx512) = (
        std::is_x86_feature_detected!("avx2"),
        std::is_x86_feature_detected!("avx512f"),
    );
    #[cfg(not(all(target_arch = "x86_64", feature = "std")))]
    let (avx2, avx512) = (false, false);
    assert_eq!(Backend::Avx2.is_available(), avx2);
    assert_eq!(Backend::Avx512.is_available(), avx512);
    if avx2 {
        assert_eq!(Backend::Avx2.lanes(), 8);
    }
    if avx512 {
        assert_eq!(Backend::Avx512.lanes(), 16);
    }
    let auto = if avx512 {
        Backend::Avx512
    } else if avx2 {
        Backend::Avx2
    } else {
        Backend::Simd
    };
    assert_eq!(Backend::Auto.resolve(), auto);
    assert_eq!(Backend::Auto.lanes(), auto.lanes());
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
            let opt = any.as_dyn();
            let first = first_step(&any);
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

//! The shared half of the scalar-state tests (NAdam's `mu_product`, ASGD's `eta` and `mu`,
//! [`Optimizer::scalar_names`]): resuming from a checkpoint or from scalars set by hand,
//! sharding with `step_planes` and one `advance_scalars`, and a guard against steps that
//! never finish.
#![allow(dead_code)]

use std::fmt::Debug;
use std::sync::mpsc;
use std::time::Duration;

use fused_optim::{Backend, Optimizer};

use crate::common::{backends, first_difference, initial_state, pseudo_random};

/// Parameters and state (planes, then scalars).
pub type Run = (Vec<f32>, Vec<f32>);

/// The gradients of step `t` for `n` elements (deterministic).
pub fn grads(n: usize, t: u64) -> Vec<f32> {
    pseudo_random(n, 1000 + t)
}

/// Steps `run` through `steps` (each step's `t`) on `backend`, with [`grads`].
pub fn step_through<O: Optimizer + ?Sized>(
    opt: &O,
    backend: Backend,
    run: &mut Run,
    steps: impl IntoIterator<Item = u64>,
) {
    let (params, state) = run;
    for t in steps {
        let g = grads(params.len(), t);
        opt.step_with(backend, t, params, &g, state)
            .expect("valid call");
    }
}

/// A fresh run of `n` elements: [`pseudo_random`] parameters and `init_state`.
pub fn fresh<O: Optimizer>(opt: &O, n: usize) -> Run {
    (pseudo_random(n, 7), initial_state(opt, n))
}

/// Parameters and state of two runs are the same bits (NaN-aware).
pub fn assert_same(what: &str, a: &Run, b: &Run) {
    assert_eq!(first_difference(&a.0, &b.0), None, "{what}: params");
    assert_eq!(first_difference(&a.1, &b.1), None, "{what}: state");
}

/// Stopping after step `k` of `total`, copying parameters and state (planes and scalars)
/// into fresh buffers and continuing there gives the bits of not stopping, on every back-end.
/// Returns the uninterrupted run's state after step `k`, for checks of its scalars.
pub fn check_resumes_from_a_copy<O: Optimizer + Debug>(
    opt: &O,
    n: usize,
    k: u64,
    total: u64,
) -> Vec<f32> {
    let mut at_k = Vec::new();
    for backend in backends() {
        let mut whole = fresh(opt, n);
        step_through(opt, backend, &mut whole, 1..=k);
        at_k = whole.1.clone();
        // A checkpoint: every value copied, nothing else carried over.
        let mut resumed: Run = (vec![f32::NAN; n], vec![f32::NAN; opt.state_len(n)]);
        resumed.0.copy_from_slice(&whole.0);
        resumed.1.copy_from_slice(&whole.1);
        step_through(opt, backend, &mut whole, k + 1..=total);
        step_through(opt, backend, &mut resumed, k + 1..=total);
        assert_same(
            &format!("{opt:?} on {backend:?}, resumed after step {k}"),
            &whole,
            &resumed,
        );
    }
    at_k
}

/// The scalar state after step `k` is `scalars` (computed by hand by the caller), and a run
/// resumed from the planes after step `k` and `scalars` written by hand into a fresh buffer
/// gives the bits of not stopping, on every back-end.
pub fn check_resumes_from_scalars<O: Optimizer + Debug>(
    opt: &O,
    n: usize,
    k: u64,
    total: u64,
    scalars: &[f32],
) {
    let planes = opt.state_planes() * n;
    for backend in backends() {
        let mut whole = fresh(opt, n);
        step_through(opt, backend, &mut whole, 1..=k);
        let ctx = format!("{opt:?} on {backend:?} after step {k}");
        assert_eq!(
            first_difference(&whole.1[planes..], scalars),
            None,
            "{ctx}: the scalar state"
        );
        let mut resumed: Run = (whole.0.clone(), vec![f32::NAN; opt.state_len(n)]);
        resumed.1[..planes].copy_from_slice(&whole.1[..planes]);
        resumed.1[planes..].copy_from_slice(scalars);
        step_through(opt, backend, &mut whole, k + 1..=total);
        step_through(opt, backend, &mut resumed, k + 1..=total);
        assert_same(&format!("{ctx}, resumed from scalars"), &whole, &resumed);
    }
}

/// Steps `steps` steps of `n` elements two ways on every back-end: `step_with` over the
/// whole, and `step_planes_with` on the pieces between `cuts` (each piece given every plane's
/// range and the whole scalars slice), then one `advance_scalars`. Same bits after every step;
/// the pieces leave the scalars alone (every piece reads the values of the step's start).
pub fn check_sharded_equals_step<O: Optimizer + Debug>(
    opt: &O,
    n: usize,
    cuts: &[usize],
    steps: u64,
) {
    let k = opt.state_planes();
    let mut bounds: Vec<usize> = cuts.to_vec();
    bounds.extend([0, n]);
    bounds.sort_unstable();
    for backend in backends() {
        let mut whole = fresh(opt, n);
        let mut sharded = fresh(opt, n);
        for t in 1..=steps {
            step_through(opt, backend, &mut whole, [t]);
            let g = grads(n, t);
            let (elements, scalars) = sharded.1.split_at_mut(k * n);
            let before = scalars.to_vec();
            for w in bounds.windows(2) {
                let (a, b) = (w[0], w[1]);
                let mut planes: Vec<&mut [f32]> = elements
                    .chunks_mut(n)
                    .map(|plane| &mut plane[a..b])
                    .collect();
                planes.push(&mut scalars[..]);
                opt.step_planes_with(backend, t, &mut sharded.0[a..b], &g[a..b], &mut planes)
                    .expect("valid call");
                assert_eq!(
                    first_difference(scalars, &before),
                    None,
                    "read-only scalars"
                );
            }
            opt.advance_scalars(t, scalars).expect("valid scalars");
            assert_same(
                &format!("{opt:?} on {backend:?}, step {t}"),
                &whole,
                &sharded,
            );
        }
    }
}

/// Runs `f` on its own thread and fails if it has not returned within `seconds` (a guard
/// against a step that never ends, not a timing assertion: the budget is generous).
pub fn finishes_within<T: Send + 'static>(
    seconds: u64,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (send, receive) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        // The receiver may be gone after a time-out; nothing to do then.
        let _ = send.send(f());
    });
    match receive.recv_timeout(Duration::from_secs(seconds)) {
        Ok(value) => {
            worker.join().expect("the worker returned");
            value
        }
        // The worker panicked: its panic is the test's.
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it returns"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!(
                "{what} did not finish within {seconds} s (a step must cost O(1) beyond its elements)"
            )
        }
    }
}

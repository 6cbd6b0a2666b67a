//! The harness of the hand-computed cases (the `hand_computed` module of each optimizer's
//! tests): three elements with different gradients, tiled to a slice of [`N`] = 19 elements
//! so that the SIMD body (16 elements at any vector width up to 16 lanes) and the scalar tail
//! (3 elements) are both exercised, run on every back-end this machine has, and checked after
//! every step, bit for bit or (where exactness is impossible) to a relative tolerance of
//! [`REL_TOL`].
#![allow(dead_code)]

use std::fmt::Debug;

use fused_optim::Optimizer;

use crate::common::backends;

/// Slice length: 16 (one or more whole vectors on every back-end) + a 3-element tail.
pub const N: usize = 19;

/// Relative tolerance of the cases that cannot be exact.
pub const REL_TOL: f64 = 1e-6;

/// The parameters every case starts from (unless it says otherwise).
pub const P0: [f32; 3] = [1.0, -2.0, 0.5];

/// The gradients of the cases checked to [`REL_TOL`] (PyTorch's defaults).
pub const CLOSE_G1: [f32; 3] = [2.0, -1.0, 4.0];
pub const CLOSE_G2: [f32; 3] = [1.0, 4.0, -0.5];

/// `xs` negated (the gradients of the `maximize` cases).
pub fn neg(xs: [f32; 3]) -> [f32; 3] {
    xs.map(|x| -x)
}

/// `xs` repeated to [`N`] elements.
pub fn tile<T: Copy>(xs: [T; 3]) -> Vec<T> {
    (0..N).map(|i| xs[i % 3]).collect()
}

/// One step of a case: the gradient fed, and the parameters and state planes expected after.
pub struct Step<'a, T> {
    pub grad: [f32; 3],
    pub params: [T; 3],
    /// One row per state plane, in the order of `state_names()`.
    pub state: &'a [[T; 3]],
}

pub fn assert_bits(what: &str, actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(
            a.to_bits(),
            e.to_bits(),
            "{what}[{i}]: got {a:e}, expected {e:e}"
        );
    }
}

fn assert_close(what: &str, actual: &[f32], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let err = (f64::from(a) - e).abs();
        assert!(
            err <= REL_TOL * e.abs(),
            "{what}[{i}]: got {a:e}, expected {e:e} (relative error {:e})",
            err / e.abs()
        );
    }
}

/// Compares one step's parameters and state planes with the expected rows.
pub trait Expected: Copy {
    fn assert(what: &str, actual: &[f32], expected: [Self; 3]);
}

impl Expected for f32 {
    fn assert(what: &str, actual: &[f32], expected: [f32; 3]) {
        assert_bits(what, actual, &tile(expected));
    }
}

impl Expected for f64 {
    fn assert(what: &str, actual: &[f32], expected: [f64; 3]) {
        assert_close(what, actual, &tile(expected));
    }
}

/// Runs `steps` (t = 1, 2, ...) from parameters `p0` and a fresh `init_state`, which
/// `prepare` may then overwrite (a checkpoint's state, or junk a step must ignore), on every
/// available back-end, and checks parameters and every state plane after each step: bit for
/// bit when the expected values are `f32`, to [`REL_TOL`] when they are `f64`.
pub fn check_steps<O: Optimizer + Debug, T: Expected>(
    opt: &O,
    names: &[&str],
    p0: [f32; 3],
    prepare: impl Fn(&mut Vec<f32>),
    steps: &[Step<'_, T>],
) {
    assert_eq!(opt.state_names(), names, "{opt:?}: state planes");
    for backend in backends() {
        let mut params = tile(p0);
        let mut state = vec![0.0; opt.state_len(N)];
        opt.init_state(&mut state).unwrap();
        prepare(&mut state);
        for (t, step) in (1..).zip(steps) {
            opt.step_with(backend, t, &mut params, &tile(step.grad), &mut state)
                .unwrap();
            let ctx = format!("{opt:?} on {backend:?}, t = {t}");
            T::assert(&format!("{ctx}: params"), &params, step.params);
            assert_eq!(step.state.len(), names.len(), "{ctx}: planes");
            for ((name, plane), want) in names.iter().zip(state.chunks_exact(N)).zip(step.state) {
                T::assert(&format!("{ctx}: {name}"), plane, *want);
            }
        }
    }
}

/// [`check_steps`] from a fresh `init_state`, with expected values in `f64` compared to a
/// relative tolerance of [`REL_TOL`].
pub fn check_close<O: Optimizer + Debug>(
    opt: &O,
    names: &[&str],
    p0: [f32; 3],
    steps: &[Step<'_, f64>],
) {
    check_steps(opt, names, p0, |_| {}, steps);
}

/// [`check_steps`] from a fresh `init_state`, or with every state value first set to
/// `prefill` (to show that a step ignores it), expecting the values bit for bit.
pub fn check<O: Optimizer + Debug>(
    opt: &O,
    names: &[&str],
    p0: [f32; 3],
    prefill: Option<f32>,
    steps: &[Step<'_, f32>],
) {
    let prepare = |state: &mut Vec<f32>| {
        if let Some(x) = prefill {
            state.fill(x);
        }
    };
    check_steps(opt, names, p0, prepare, steps);
}

/// [`check_steps`] from the state `state0` (one row per plane, as a checkpoint would hold
/// it; the scalar state, if any, stays `init_state`'s), expecting the values bit for bit.
pub fn check_from<O: Optimizer + Debug>(
    opt: &O,
    names: &[&str],
    p0: [f32; 3],
    state0: &[[f32; 3]],
    steps: &[Step<'_, f32>],
) {
    assert_eq!(
        state0.len(),
        opt.state_planes(),
        "{opt:?}: one row per plane"
    );
    let prepare = |state: &mut Vec<f32>| {
        let planes: Vec<f32> = state0.iter().flat_map(|row| tile(*row)).collect();
        state[..planes.len()].copy_from_slice(&planes);
    };
    check_steps(opt, names, p0, prepare, steps);
}

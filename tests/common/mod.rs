//! Helpers shared by the optimizer tests: the back-ends, random values and problems, and
//! NaN-aware bit comparison. `hand`, `golden` and `reference` are the shared halves of the
//! hand-computed, golden and `f64`-reference tests.
#![allow(dead_code)]

pub mod exact;
pub mod golden;
pub mod hand;
pub mod reference;
pub mod scalars;

use fused_optim::{AnyOptimizer, Backend, Optimizer};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Every back-end this machine can run: [`Backend::Scalar`] first, then `Simd`, `Avx2` and
/// `Avx512` as available, then [`Backend::Auto`].
pub fn backends() -> Vec<Backend> {
    Backend::all()
        .into_iter()
        .chain([Backend::Auto])
        .filter(|b| b.is_available())
        .collect()
}

/// [`backends`] but [`Backend::Scalar`], the reference they are compared with.
pub fn vector_backends() -> Vec<Backend> {
    backends()
        .into_iter()
        .filter(|&b| b != Backend::Scalar)
        .collect()
}

/// `cases` cases, with failures kept next to the source file (`<file>.proptest-regressions`,
/// also for files below `tests/optim/`, which proptest's default would put elsewhere).
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::with_cases(cases)
    }
}

/// 0 half of the time (the option is off), otherwise a value in `range`.
pub fn maybe(range: core::ops::Range<f64>) -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), range]
}

/// A first-moment decay: the default, or any (both of PyTorch's lerp formulas).
pub fn beta1() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.9), 0.0..1.0]
}

/// A value of magnitude 10^[-6, 3], either sign, or an exact zero now and then.
pub fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        1 => Just(0.0f32),
        1 => Just(-0.0f32),
        18 => (-6.0f32..3.0, any::<bool>()).prop_map(|(e, neg)| {
            let x = 10f32.powf(e);
            if neg { -x } else { x }
        }),
    ]
}

/// Any f32 at all: NaN, ±Inf, subnormals, ±0, huge.
pub fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => value(),
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => Just(f32::MAX),
        1 => Just(f32::MIN_POSITIVE / 4.0),
        1 => any::<u32>().prop_map(f32::from_bits),
    ]
}

/// A problem: an optimizer, initial parameters, one gradient slice per step, and (for half of
/// the cases) arbitrary initial state values instead of `init_state`'s, as a checkpoint might
/// hold.
#[derive(Clone, Debug)]
pub struct Problem {
    pub optimizer: AnyOptimizer,
    pub params: Vec<f32>,
    pub grads: Vec<Vec<f32>>,
    pub state: Option<Vec<f32>>,
    /// For half of the cases, the scalar state (NAdam's `mu_product`, ASGD's `eta` and `mu`)
    /// of a checkpoint: `init_state`'s advanced past `count` steps from step `from` (so always
    /// valid, but anywhere on its range: an ASGD `mu` below 1 averages).
    pub scalars_after: Option<(u64, u64)>,
}

impl Problem {
    /// The state the problem starts from.
    pub fn initial_state(&self) -> Vec<f32> {
        let opt = self.optimizer.as_dyn();
        let n = self.params.len();
        let mut state = initial_state(opt, n);
        let planes = opt.state_planes() * n;
        // Arbitrary plane values, as a checkpoint may hold.
        if let Some(values) = &self.state {
            state[..planes].copy_from_slice(&values[..planes]);
        }
        // Only valid scalars are accepted: `init_state`'s, or those of a later step.
        if let Some((from, count)) = self.scalars_after {
            let scalars = &mut state[planes..];
            for t in (0..count).map(|i| from.saturating_add(i)) {
                opt.advance_scalars(t, scalars).expect("valid scalars");
            }
        }
        state
    }
}

pub fn problem(
    optimizer: impl Strategy<Value = AnyOptimizer>,
    max_len: usize,
    max_steps: usize,
    element: fn() -> BoxedStrategy<f32>,
) -> impl Strategy<Value = Problem> {
    (optimizer, 0..=max_len, 1..=max_steps).prop_flat_map(move |(optimizer, n, steps)| {
        (
            Just(optimizer),
            proptest::collection::vec(element(), n),
            proptest::collection::vec(proptest::collection::vec(element(), n), steps),
            // Either sign: a checkpoint may hold -0, and ties of -0 with +0 must break the
            // same way on every path.
            proptest::option::of(proptest::collection::vec(element(), 4 * n)),
            proptest::option::of((
                prop_oneof![Just(1u64), 1..1000u64, 1..u64::MAX, Just(u64::MAX)],
                1..=4u64,
            )),
        )
            .prop_map(|(optimizer, params, grads, state, scalars_after)| Problem {
                optimizer,
                params,
                grads,
                state,
                scalars_after,
            })
    })
}

pub fn finite_element() -> BoxedStrategy<f32> {
    value().boxed()
}

pub fn any_element() -> BoxedStrategy<f32> {
    any_f32().boxed()
}

/// The initial state of `optimizer` for `n` parameters.
pub fn initial_state(optimizer: &dyn Optimizer, n: usize) -> Vec<f32> {
    let mut state = vec![f32::NAN; optimizer.state_len(n)];
    optimizer.init_state(&mut state).expect("valid optimizer");
    state
}

/// Same bits, except that any NaN equals any NaN (payloads may differ between paths).
pub fn same_bits(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Index and values of the first element where `a` and `b` differ (see [`same_bits`]).
pub fn first_difference(a: &[f32], b: &[f32]) -> Option<(usize, f32, f32)> {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .position(|(x, y)| !same_bits(*x, *y))
        .map(|i| (i, a[i], b[i]))
}

/// Byte-for-byte equality, NaN payloads included: what "left untouched" means.
pub fn identical(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Deterministic pseudo-random values of mixed magnitudes (for tests that are not proptests).
pub fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let unit = (x >> 40) as f32 / (1u64 << 24) as f32; // [0, 1)
            let exponent = (x & 0xff) as f32 / 255.0 * 6.0 - 4.0; // [-4, 2]
            let sign = if x & 0x100 != 0 { -1.0 } else { 1.0 };
            sign * (0.5 + unit) * 10f32.powf(exponent)
        })
        .collect()
}

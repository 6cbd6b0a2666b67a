//! The `f64` reference's shared half: a tape of `f64` values from which reverse-mode
//! differentiation bounds how far an `f32` evaluation of the same equations may be from them
//! ([`Val`]), the random problems, and the comparison ([`check_optimizer`]). Each optimizer's
//! tests write its equations on the tape (PyTorch's `_single_tensor_*`, optax's `lion`).
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};
use std::sync::atomic::{AtomicU64, Ordering};

use fused_optim::{Backend, Optimizer};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError, TestRunner};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::common::vector_backends;

/// Number of random problems per optimizer.
const CASES: u32 = 4096;

/// `|ours − reference| ≤ C·e` for every element of the parameters and every state plane,
/// where `e` is the bound [`error_bounds`] computes.
///
/// Each rounding of the `f32` evaluation is a perturbation `δ_k` with `|δ_k| ≤ r_k`; to first
/// order in `u` the result differs from the exact one by `Σ_k (∂out/∂δ_k)·δ_k`, so
/// `|ours − reference| ≤ e = Σ_k |∂out/∂δ_k|·r_k`, where `k` runs over every operation of
/// the element's whole history (`r_k = u·|z_k| + 2⁻¹⁵⁰ + ε_f64·|z_k|`, the last term for the
/// reference's own `f64` rounding) and over every hyper-parameter or per-call scalar that
/// reaches the kernel rounded once to `f32` ([`Val::rounded`], [`Val::rounded_of`]). A value
/// that is an exact zero in both evaluations rounds nothing. The tape gives every `∂out/∂δ_k`
/// with its sign, so the bound follows the actual sensitivities (a momentum buffer's gain, a
/// first moment that cancels, centered RMSprop's `√(v − a²)`, L2 weight decay feeding the
/// parameter's error back into the gradient) where a fixed formula cannot. Exact but
/// non-smooth operations add their own term where `f32` may take the other branch
/// ([`Val::max`], [`Val::jnp_sign`]).
///
/// No smaller `C` holds: the bound is attained whenever the last rounding dominates. A larger
/// one is not needed: the neglected terms are `O(u²)` relative, and the kernels' different
/// grouping of a few operations (`(−lr·g)/d` for `−lr·(g/d)`, PyTorch's other lerp form) has
/// the same first-order bound or a smaller one. Each test prints its worst ratio.
const C: f64 = 1.0;

/// Unit roundoff of `f32`: `ε_f32 / 2`.
const U: f64 = f32::EPSILON as f64 / 2.0;

/// Largest absolute rounding error of an `f32` operation in the subnormal range.
const ETA: f64 = f64::from_bits((1023 - 150) << 52);

// ---------------------------------------------------------------------------------------
// The reference's numbers: f64 values recorded on a tape, to differentiate the result with
// respect to every rounding the f32 evaluation makes.
// ---------------------------------------------------------------------------------------

/// No parent.
const NONE: (usize, f64) = (usize::MAX, 0.0);

/// One value of the reference computation: its parents on the tape with the partial
/// derivatives of the value with respect to them, and `r`, the largest rounding error the
/// `f32` evaluation adds when it produces this value.
#[derive(Clone, Copy)]
struct Node {
    parents: [(usize, f64); 2],
    r: f64,
}

thread_local! {
    /// The computation of the element being run (see [`per_element`]).
    static TAPE: RefCell<Vec<Node>> = const { RefCell::new(Vec::new()) };
}

/// A value of the reference computation, in `f64`, and its node on the tape.
#[derive(Clone, Copy, Debug)]
pub struct Val {
    pub x: f64,
    id: usize,
    /// An exact zero in both evaluations (an exact zero input, or a product with one, …): an
    /// operation on it rounds nothing.
    zero: bool,
}

impl Val {
    fn node(x: f64, parents: [(usize, f64); 2], r: f64) -> Val {
        TAPE.with_borrow_mut(|tape| {
            tape.push(Node { parents, r });
            Val {
                x,
                id: tape.len() - 1,
                zero: false,
            }
        })
    }

    /// An `f32` input: exact.
    pub fn input(x: f32) -> Val {
        Val::exact(f64::from(x))
    }

    /// A hyper-parameter or per-call scalar that reaches the kernel rounded once to `f32`.
    pub fn rounded(x: f64) -> Val {
        Val::node(x, [NONE; 2], U * x.abs())
    }

    /// The result `x` of one rounded `f32` operation (the last term covers the reference's
    /// own `f64` rounding, 2²⁹ times smaller).
    pub fn op(x: f64, parents: [(usize, f64); 2]) -> Val {
        Val::node(x, parents, U * x.abs() + ETA + f64::EPSILON * x.abs())
    }

    /// [`Val::op`], or an exact zero (no rounding) if `zero`.
    fn op_or_zero(x: f64, parents: [(usize, f64); 2], zero: bool) -> Val {
        if zero {
            Val {
                zero: true,
                ..Val::node(x, parents, 0.0)
            }
        } else {
            Val::op(x, parents)
        }
    }

    pub fn sqrt(self) -> Val {
        let z = self.x.sqrt();
        // An exact 0 only comes from exact zeros (all-zero gradients): no error to amplify.
        let dz = if z > 0.0 { 0.5 / z } else { 0.0 };
        Val::op_or_zero(z, [(self.id, dz), NONE], self.zero)
    }

    /// `torch.maximum`: exact, but the `f32` evaluation may pick the other operand when they
    /// are within their errors of each other; it is then off by up to `e(larger) +
    /// e(smaller) + gap` more, which this node adds as its own error.
    pub fn max(self, y: Val) -> Val {
        let (larger, smaller) = if self.x >= y.x { (self, y) } else { (y, self) };
        let gap = larger.x - smaller.x;
        let [e_larger, e_smaller, ..] = error_bounds(&[larger, smaller]);
        let r = if gap <= e_larger + e_smaller {
            e_larger + e_smaller + gap
        } else {
            0.0
        };
        Val::node(larger.x, [(larger.id, 1.0), NONE], r)
    }

    /// `torch.minimum` / the upper bound of `clamp`: `−max(−x, −y)`, with the same near-tie
    /// term.
    pub fn min(self, y: Val) -> Val {
        -((-self).max(-y))
    }

    /// `|x|`: `max(x, −x)`, so that an `x` within its bound of 0 (where `f32` may take the
    /// other sign) adds `2·e(x) + 2|x|` of its own, as a near-tie of `max` does.
    pub fn abs(self) -> Val {
        self.max(-self)
    }

    /// A value that is exactly PyTorch's (or optax's) `f32` value: no error.
    pub fn exact(x: f64) -> Val {
        Val {
            zero: x == 0.0,
            ..Val::node(x, [NONE; 2], 0.0)
        }
    }

    /// The `f32` rounding of a per-call scalar computed in `f64` as a function `x(a)` of a
    /// value `a` of the tape (itself an `f32` value with its own bound): `dx_da` carries
    /// `a`'s error, `u·|x|` is the rounding.
    pub fn rounded_of(x: f64, a: Val, dx_da: f64) -> Val {
        Val::node(x, [(a.id, dx_da), NONE], U * x.abs())
    }

    /// `jnp.sign`: −1 or +1, `±0` for `±0`. Piecewise constant, so no derivative; but where
    /// `|x| ≤ e(x)` the `f32` evaluation may fall on the other side of 0 (or on 0), and its
    /// sign is then off by up to 2, which this node adds as its own error (counted in
    /// [`SIGNS_NEAR_SWITCH`]). Elsewhere the `f32` sign is the reference's (to first order).
    pub fn jnp_sign(self) -> Val {
        let s = if self.x > 0.0 {
            1.0
        } else if self.x < 0.0 {
            -1.0
        } else {
            self.x
        };
        if self.zero {
            return Val::exact(s);
        }
        let [e, ..] = error_bounds(&[self]);
        let r = if self.x.abs() <= e {
            SIGNS_NEAR_SWITCH.fetch_add(1, Ordering::Relaxed);
            // The flip then passes through up to 100 more rounded operations (`lr·u` and
            // `weight_decay·p` over up to 50 steps), each changing it by a factor `1 ± u`.
            2.0 * (1.0 + 100.0 * U)
        } else {
            0.0
        };
        Val::node(s, [NONE; 2], r)
    }
}

/// How many sign decisions (Lion's `sign(c)`) fell within the rounding bound of the switch
/// (see [`Val::jnp_sign`]).
pub static SIGNS_NEAR_SWITCH: AtomicU64 = AtomicU64::new(0);

impl Add for Val {
    type Output = Val;
    fn add(self, y: Val) -> Val {
        Val::op_or_zero(
            self.x + y.x,
            [(self.id, 1.0), (y.id, 1.0)],
            self.zero && y.zero,
        )
    }
}

impl Sub for Val {
    type Output = Val;
    fn sub(self, y: Val) -> Val {
        Val::op_or_zero(
            self.x - y.x,
            [(self.id, 1.0), (y.id, -1.0)],
            self.zero && y.zero,
        )
    }
}

impl Mul for Val {
    type Output = Val;
    fn mul(self, y: Val) -> Val {
        Val::op_or_zero(
            self.x * y.x,
            [(self.id, y.x), (y.id, self.x)],
            self.zero || y.zero,
        )
    }
}

impl Div for Val {
    type Output = Val;
    fn div(self, y: Val) -> Val {
        let z = self.x / y.x;
        Val::op_or_zero(z, [(self.id, 1.0 / y.x), (y.id, -z / y.x)], self.zero)
    }
}

impl Neg for Val {
    type Output = Val;
    fn neg(self) -> Val {
        Val {
            zero: self.zero,
            ..Val::node(-self.x, [(self.id, -1.0), NONE], 0.0)
        }
    }
}

/// Most values an element returns: its parameter and up to three state values.
const MAX_OUTPUTS: usize = 4;

/// `e(out) = Σ_k |∂out/∂δ_k|·r_k` over every node `k` of the tape, for each of `outputs`
/// (reverse-mode differentiation, one sweep for all of them).
pub fn error_bounds(outputs: &[Val]) -> [f64; MAX_OUTPUTS] {
    TAPE.with_borrow(|tape| {
        let mut adjoint = vec![[0.0f64; MAX_OUTPUTS]; tape.len()];
        for (j, out) in outputs.iter().enumerate() {
            adjoint[out.id][j] += 1.0;
        }
        let mut bounds = [0.0; MAX_OUTPUTS];
        for k in (0..tape.len()).rev() {
            let a = adjoint[k];
            if a == [0.0; MAX_OUTPUTS] {
                continue;
            }
            let node = tape[k];
            for (bound, a) in bounds.iter_mut().zip(a) {
                *bound += a.abs() * node.r;
            }
            for (parent, d) in node.parents {
                if parent != NONE.0 {
                    for (adj, a) in adjoint[parent].iter_mut().zip(a) {
                        *adj += a * d;
                    }
                }
            }
        }
        bounds
    })
}

/// A final value of the reference and the bound `e` on its distance to an `f32` evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Expected {
    x: f64,
    e: f64,
}

/// Parameters and state planes (in `state_names()` order) after the last step.
pub struct Outcome {
    params: Vec<Expected>,
    state: Vec<Vec<Expected>>,
}

/// Runs `element(i)` for each element `i < n` on a fresh tape. It returns the element's final
/// parameter followed by its final state values in plane order; elements are independent
/// (every operation of the update is element-wise), so each one's whole history is run at
/// once.
pub fn per_element(n: usize, mut element: impl FnMut(usize) -> Vec<Val>) -> Outcome {
    let mut outcome = Outcome {
        params: Vec::with_capacity(n),
        state: Vec::new(),
    };
    for i in 0..n {
        TAPE.with_borrow_mut(Vec::clear);
        let values = element(i);
        outcome.state.resize_with(values.len() - 1, Vec::new);
        let bounds = error_bounds(&values);
        let mut expected = values
            .iter()
            .zip(bounds)
            .map(|(v, e)| Expected { x: v.x, e });
        outcome.params.extend(expected.next());
        for (plane, value) in outcome.state.iter_mut().zip(expected) {
            plane.push(value);
        }
    }
    outcome
}

/// The gradient as the step sees it: `-grad` if maximizing.
pub fn grad_of(grad: f32, maximize: bool) -> Val {
    let g = Val::input(grad);
    if maximize { -g } else { g }
}

// ---------------------------------------------------------------------------------------
// Random problems.
// ---------------------------------------------------------------------------------------

/// Length, step count and the seed of the initial parameters and gradients.
#[derive(Clone, Copy, Debug)]
struct Problem {
    n: usize,
    steps: u32,
    seed: u64,
}

fn problem() -> impl Strategy<Value = Problem> {
    (1usize..=200, 1u32..=50, any::<u64>()).prop_map(|(n, steps, seed)| Problem { n, steps, seed })
}

/// Initial parameters `U(−2, 2)`; per step a gradient of scale `10^U(−6, 3)` with exact
/// zeros (probability 1/8 per element).
fn data(problem: Problem) -> (Vec<f32>, Vec<Vec<f32>>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(problem.seed);
    let params = (0..problem.n)
        .map(|_| rng.random_range(-2.0f32..2.0))
        .collect();
    let grads = (0..problem.steps)
        .map(|_| {
            let scale = 10f64.powf(rng.random_range(-6.0..3.0));
            (0..problem.n)
                .map(|_| {
                    if rng.random_bool(0.125) {
                        0.0
                    } else {
                        (scale * rng.random_range(-1.0..1.0)) as f32
                    }
                })
                .collect()
        })
        .collect();
    (params, grads)
}

/// `10^U(lo, hi)`.
pub fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo..hi).prop_map(|e| 10f64.powf(e))
}

/// 0 (off) or a positive value.
pub fn off_or(on: impl Strategy<Value = f64> + 'static) -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), on]
}

pub fn lr() -> impl Strategy<Value = f64> {
    log_uniform(-5.0, 0.0)
}

pub fn weight_decay() -> impl Strategy<Value = f64> {
    off_or(log_uniform(-5.0, -1.0))
}

pub fn eps() -> impl Strategy<Value = f64> {
    log_uniform(-10.0, -3.0)
}

/// A decay rate in `[0, 1)`: uniform (half of them below 0.5) or close to 1.
pub fn beta() -> impl Strategy<Value = f64> {
    prop_oneof![0.0..1.0f64, log_uniform(-4.0, -1.0).prop_map(|x| 1.0 - x)]
}

// ---------------------------------------------------------------------------------------
// The comparison.
// ---------------------------------------------------------------------------------------

/// Runs every step of the problem with the crate on `backend`; returns params and state.
fn run_crate<O: Optimizer>(
    opt: &O,
    backend: Backend,
    params: &[f32],
    grads: &[Vec<f32>],
) -> (Vec<f32>, Vec<f32>) {
    let mut params = params.to_vec();
    let mut state = vec![0.0; opt.state_len(params.len())];
    opt.init_state(&mut state).unwrap();
    for (t, grad) in (1..).zip(grads) {
        opt.step_with(backend, t, &mut params, grad, &mut state)
            .unwrap();
    }
    (params, state)
}

/// The largest `|ours − reference| / e` over `ours`; fails if it exceeds [`C`].
fn worst_ratio(what: &str, ours: &[f32], reference: &[Expected]) -> Result<f64, TestCaseError> {
    prop_assert_eq!(ours.len(), reference.len());
    let mut worst = 0.0f64;
    for (i, (&a, r)) in ours.iter().zip(reference).enumerate() {
        prop_assert!(r.e.is_finite(), "{}[{}]: no finite bound", what, i);
        let diff = (f64::from(a) - r.x).abs();
        let ratio = if diff == 0.0 { 0.0 } else { diff / r.e };
        prop_assert!(
            ratio <= C,
            "{}[{}]: crate {:e}, reference {:e} ± {:e} (|diff| = {:.3}·bound)",
            what,
            i,
            a,
            r.x,
            r.e,
            ratio
        );
        worst = worst.max(ratio);
    }
    Ok(worst)
}

/// Checks one optimizer on random problems against its reference: every back-end gives the
/// scalar path's bits, which are within [`C`] times the bound of the reference. Prints the
/// worst ratio; failures are kept next to the calling file.
#[track_caller]
pub fn check_optimizer<O, S>(
    name: &str,
    optimizers: S,
    reference: fn(&O, &[f32], &[Vec<f32>]) -> Outcome,
) where
    O: Optimizer + Debug,
    S: Strategy<Value = O>,
{
    let config = ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        source_file: Some(std::panic::Location::caller().file()),
        ..ProptestConfig::with_cases(CASES)
    };
    let worst = Cell::new(0.0f64);
    let result = TestRunner::new(config).run(&(optimizers, problem()), |(opt, problem)| {
        let (params, grads) = data(problem);
        let (p_scalar, s_scalar) = run_crate(&opt, Backend::Scalar, &params, &grads);
        let bits = |xs: &[f32]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for backend in vector_backends() {
            let (p, s) = run_crate(&opt, backend, &params, &grads);
            prop_assert_eq!(bits(&p_scalar), bits(&p), "params: Scalar ≠ {:?}", backend);
            prop_assert_eq!(bits(&s_scalar), bits(&s), "state: Scalar ≠ {:?}", backend);
        }

        let expected = reference(&opt, &params, &grads);
        prop_assert_eq!(expected.state.len(), opt.state_planes());
        let mut case_worst = worst_ratio("params", &p_scalar, &expected.params)?;
        for ((plane, name), want) in s_scalar
            .chunks_exact(problem.n)
            .zip(opt.state_names())
            .zip(&expected.state)
        {
            case_worst = case_worst.max(worst_ratio(name, plane, want)?);
        }
        worst.set(worst.get().max(case_worst));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    eprintln!(
        "{name}: worst |ours − reference| / bound over {CASES} cases: {:.4}",
        worst.get()
    );
}

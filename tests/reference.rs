//! The crate against a plain `f64` implementation of PyTorch's `_single_tensor_*` equations
//! (`torch/optim/{sgd,adagrad,rmsprop,adam,adamax,nadam,radam,adadelta,rprop,asgd}.py`) and of
//! optax's `lion` (`scale_by_lion`, then `add_decayed_weights`), on random problems.
//!
//! # What is compared
//!
//! For each optimizer a property draws hyper-parameters covering every option (momentum,
//! dampening, Nesterov, L2 and decoupled weight decay, maximize, AMSGrad, centered,
//! `lr_decay`, initial accumulator, Adam betas anywhere in `[0, 1)`, RMSprop `alpha` in
//! `[0.1, 0.999]`; Adamax, NAdam, RAdam and Lion betas as Adam's, NAdam's `momentum_decay`
//! 0 or `10^U(−4, 2)`, RAdam on both sides of its rectification switch, Adadelta's `rho`
//! anywhere in `[0, 1]` (1 included), Rprop's etas in `(0.05, 0.95)` × `(1.01, 3)` and step
//! bounds (minimum 0 or `10^U(−8, −2)`, maximum `10^U(−3, 2)`, some below `lr`), ASGD's
//! `lambd` 0 or `10^U(−6, 0)`, `alpha ∈ [0, 1.5]` and `t0` either 10⁶ (never averaging) or
//! `U(−5, 50)` (averaging from some step of the run)), a length `n ∈ 1..=200`, a step count `T ∈ 1..=50` and a seed. From the
//! seed come the initial parameters (`U(−2, 2)`) and, for every step, a fresh gradient:
//! a per-step scale `10^U(−6, 3)` times `U(−1, 1)` per element, each element being an exact
//! zero with probability 1/8. The crate runs the `T` steps on [`Backend::Scalar`] and on
//! [`Backend::Simd`] (which must agree bit for bit); the reference runs them on the same
//! `f32` inputs converted to `f64`, one element's whole history at a time (every operation
//! of these updates is element-wise). Parameters and every state plane are compared after
//! the last step.
//!
//! # Tolerance
//!
//! The crate evaluates the same equations in `f32`: every operation rounds its result `z`
//! (an error of at most `u·|z|`, `u = ε_f32/2 = 2⁻²⁴`, plus `2⁻¹⁵⁰` in the subnormal range),
//! and every hyper-parameter reaches the kernel rounded to `f32`. A fixed formula such as
//! `C·ε·(T·max|p| + Σ|Δp| + lr·T)` cannot bound the effect of this in every case: a
//! momentum buffer carries its errors forward with gain up to `1/(1 − momentum)`, Adam's first
//! moment can cancel to nearly 0 while its history is large (so `|Δp|` is tiny but its error
//! is not), centered RMSprop takes `√(v − a²)` of a difference, and L2 weight decay feeds the
//! parameter's error back into the next gradient. So the bound is computed, not guessed.
//!
//! Each rounding is a perturbation `δ_k` with `|δ_k| ≤ r_k`; to first order in `u` the `f32`
//! result differs from the exact one by `Σ_k (∂out/∂δ_k)·δ_k`, so
//!
//! ```text
//! |ours − reference| ≤ e = Σ_k |∂out/∂δ_k| · r_k
//! ```
//!
//! where `k` runs over every operation of the element's whole history (`r_k = u·|z_k| +
//! 2⁻¹⁵⁰ + ε_f64·|z_k|`, the last term for the reference's own `f64` rounding) and over every
//! hyper-parameter or per-call scalar that is rounded once to `f32` — `lr`, `weight_decay`,
//! `eps`, `momentum`, `1 − dampening`, `α`, `1 − α`, `1 − β1`, `β2`, `1 − β2`, Adagrad's
//! `clr` and initial accumulator, Adam's `lr/(1 − β1ᵗ)`, `√(1 − β2ᵗ)` and
//! `1 − lr·weight_decay`, Adamax's `lr/(1 − β1ᵗ)`, NAdam's `1 − β2ᵗ` and its two `addcdiv`
//! values, RAdam's `1 − β1ᵗ`, `√(1 − β2ᵗ)` and `r`, Adadelta's `rho` and `1 − rho`, Rprop's
//! etas, step-size bounds and initial step size `lr`, ASGD's `η`, `μ` and `1 − lambd·η`,
//! Lion's `β1`, `1 − β1`, `β2`, `1 − β2` (`r = u·|x|`; one rounding per call, shared by the
//! steps that use the same value). Per-step scalars that PyTorch keeps as `f32` tensors are
//! on the tape as the `f32` evaluation of their exact value: NAdam's `mu_product` is the
//! exact product `μ₁⋯μₜ` with one rounding per factor `f32(μₜ)` and one per product (as
//! PyTorch's `mu_product *= mu` rounds), and its two coefficients, computed in `f64` from it,
//! are nodes whose parent is that product (`∂c/∂Π`) plus their own rounding; ASGD's `η` is one
//! rounding of `lr/(1 + lambd·lr·(t − 1))^alpha`, and `1 − lambd·η` depends on it the same
//! way. A value that is an exact zero in both evaluations (an exact-zero gradient, a product
//! with one, a state that only ever saw them) rounds nothing, and is marked so: no `2⁻¹⁵⁰`
//! term for it. Parameters and gradients are exact `f32` inputs. The reference records
//! its operations on a tape and gets every `∂out/∂δ_k` by reverse-mode differentiation, so
//! the bound follows the actual sensitivities, signs included: an update `g/√(αv + (1−α)g²)`
//! that barely depends on `g` does not inflate it (adding the per-operation worst cases
//! instead made the bound grow exponentially with `T` under L2 weight decay). AMSGrad's
//! `max` is exact, but where its operands are within their bounds of each other `f32` may
//! take the other one; that node then adds `e(larger) + e(smaller) + gap` of its own.
//!
//! The other exact but non-smooth operations of the new optimizers use the same rule or
//! need none:
//!
//! * Adamax's `max(β2·u, |g| + eps)` is that `max`; `|g|` is `max(g, −g)`, so a `g` (under
//!   L2 weight decay, not an exact input) within its bound of 0 adds `2e(g) + 2|g|`. Rprop's
//!   `clamp(s·f, min, max)` is `max` then `min = −max(−·, −·)`.
//! * Rprop's sign decisions are exact: `sign(grad · prev)` is the sign of a product of two
//!   exact `f32` values (the gradient, and the previous one or 0), which the reference
//!   rounds to `f32` as PyTorch does (so an underflowing product counts as 0 in both); the
//!   parameter moves by `∓s`, exact but for `s`'s error and the subtraction. Nothing is
//!   excluded.
//! * Lion's `sign(c)`, `c = (1 − β1)·g + β1·m`, is taken of a rounded value. Where `|c| >
//!   e(c)` the `f32` sign is the reference's (to first order); where `|c| ≤ e(c)` it may be
//!   the other one, or 0, so the sign node adds an error of 2 (its largest change) of its own.
//!   Nothing is excluded: such an element's bound grows by about `2·lr` (the dependence on
//!   it is linear: `p` never feeds back into `c`), so it is checked only loosely. (The node's
//!   error is `2·(1 + 100u)`: the flip, of `O(1)` and not `O(u)`, is then scaled by up to 100
//!   rounded operations, whose `O(u)` relative changes of it are not negligible against the
//!   `O(u)` terms of the rest of the bound.) An exact
//!   zero `c` (the leading exact-zero gradients of an element) has an exact sign, 0. In
//!   4096 cases about 2 of the ~10⁷ sign decisions fall within the bound.
//! * RAdam's switch `ρₜ > 5` and ASGD's average-or-copy (`f32(μₜ) ≠ 1`) depend on `t` and
//!   the hyper-parameters alone, computed in `f64` as PyTorch computes them: both
//!   evaluations take the same branch.
//!
//! For plain SGD this is the form above: `e(p_T) = u·(Σ_t (|p_t| + |Δp_t|) + |Σ_t Δp_t|)` (the
//! subtractions, the products and the one rounding of `lr`). For state it is relative to that
//! state's history: for Adam's `exp_avg` (without weight decay),
//! `u·Σ_k β1^(T−k)·(2(1 − β1)·|g_k − m_(k−1)| + |m_k|)` plus the rounding of `1 − β1`.
//!
//! The property asserts, for every element of the parameters and of every state plane,
//! that `e` is finite and `|ours − reference| ≤ C·e` with [`C`] = 1. No smaller `C` holds:
//! the bound is attained whenever the last rounding dominates (one rounding of a value just
//! above a power of two costs nearly the full `u·|x|`, and a parameter that `f32` leaves
//! unchanged while the exact one drifts by less than half an ulp per step accumulates the
//! full `u·|p|` every step). A larger `C` is not needed: the neglected terms are `O(u²)`
//! relative, and the kernels' different grouping of a few operations (`(−lr·g)/d` for
//! `−lr·(g/d)`, PyTorch's `g − (g − m)·(1 − w)` lerp form when `w = 1 − β1 ≥ 0.5`) has the
//! same first-order bound or a smaller one (for the lerp, `(2 − w)·u·|g − m|` against
//! `3w·u·|g − m|` here).
//!
//! Worst observed `|ours − reference| / e` (`cargo test --release --test reference --
//! --nocapture` prints it for each run), on x86_64 (an AVX-512 machine): 0.92–0.99 for every
//! optimizer in runs of 4096 cases; over 100 000 cases per optimizer, default target /
//! `-C target-cpu=native`: SGD 0.996 / 0.999, Adagrad 0.997 / 0.994, RMSprop 0.995 / 0.993,
//! Adam 0.997 / 0.992, AdamW 0.988 / 0.995. It never exceeded 1 in the 10⁶ cases run.
//! The same `C` = 1 holds for the seven later optimizers (no smaller one: each attains
//! 0.97–1.00); worst ratios over 25 000 cases per optimizer (default target, x86_64):
//! Adamax 0.998 (0.9999 in one run of 4096), NAdam 0.953, RAdam 0.998, Adadelta 0.994, Rprop 0.996, ASGD 0.978,
//! Lion 1.000 (rounded, and measured before the sign node's `(1 + 100u)` factor: an element
//! whose sign flipped, whose difference is then almost all of its `2·lr` term; 12 sign
//! decisions fell within the bound in those cases). In runs of
//! 4096 cases: 0.88–0.99. (Marking exact zeros, added with them, removes `2⁻¹⁵⁰` terms from
//! the bounds of the first five too; their ratios stay within the ranges above.)
//!
//! The properties fail on a wrong reference (checked by perturbing it): dropping Adam's first
//! bias correction, applying SGD's dampening on the first step, putting Adagrad's `eps` inside
//! the square root, an off-by-one `lr_decay`, RMSprop's centered denominator without `a²`,
//! AdamW's decay without `lr`, Nesterov's look-ahead on `g` instead of the buffer, AMSGrad
//! without its running maximum, or even Adam's `1 − β2` computed from `β2` rounded to `f32`
//! (a relative change of `u/(1 − β2)` in `exp_avg_sq`). Likewise for the later seven:
//! Adamax's infinity norm without `β2`, or with `eps` added after the `max`; NAdam's second
//! coefficient with `μₜ` for `μₜ₊₁`, or its product of `μₜ₊₁`s; RAdam rectifying from
//! `ρₜ > 6`; Adadelta's `std` as `√v + eps`; Rprop keeping the gradient after a sign flip;
//! ASGD's `η` one step ahead, or its averaging from one step earlier; Lion's sign taken after
//! the momentum update, or `sign(0) = 1`. (Clamping Rprop's initial step size does not make
//! it fail, rightly: the first step clamps it anyway, with the factor 1.)

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};
use std::sync::atomic::{AtomicU64, Ordering};

use fused_optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Asgd, Backend, Lion, NAdam, Optimizer, RAdam, RmsProp,
    Rprop, Sgd,
};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError, TestRunner};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Number of random problems per optimizer.
const CASES: u32 = 4096;

/// `|ours − reference| ≤ C·e` (see the module documentation).
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
struct Val {
    x: f64,
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
    fn input(x: f32) -> Val {
        Val::exact(f64::from(x))
    }

    /// A hyper-parameter or per-call scalar that reaches the kernel rounded once to `f32`.
    fn rounded(x: f64) -> Val {
        Val::node(x, [NONE; 2], U * x.abs())
    }

    /// The result `x` of one rounded `f32` operation (the last term covers the reference's
    /// own `f64` rounding, 2²⁹ times smaller).
    fn op(x: f64, parents: [(usize, f64); 2]) -> Val {
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

    fn sqrt(self) -> Val {
        let z = self.x.sqrt();
        // An exact 0 only comes from exact zeros (all-zero gradients): no error to amplify.
        let dz = if z > 0.0 { 0.5 / z } else { 0.0 };
        Val::op_or_zero(z, [(self.id, dz), NONE], self.zero)
    }

    /// `torch.maximum`: exact, but the `f32` evaluation may pick the other operand when they
    /// are within their errors of each other; it is then off by up to `e(larger) +
    /// e(smaller) + gap` more, which this node adds as its own error.
    fn max(self, y: Val) -> Val {
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
    fn min(self, y: Val) -> Val {
        -((-self).max(-y))
    }

    /// `|x|`: `max(x, −x)`, so that an `x` within its bound of 0 (where `f32` may take the
    /// other sign) adds `2·e(x) + 2|x|` of its own, as a near-tie of `max` does.
    fn abs(self) -> Val {
        self.max(-self)
    }

    /// A value that is exactly PyTorch's (or optax's) `f32` value: no error.
    fn exact(x: f64) -> Val {
        Val {
            zero: x == 0.0,
            ..Val::node(x, [NONE; 2], 0.0)
        }
    }

    /// The `f32` rounding of a per-call scalar computed in `f64` as a function `x(a)` of a
    /// value `a` of the tape (itself an `f32` value with its own bound): `dx_da` carries
    /// `a`'s error, `u·|x|` is the rounding.
    fn rounded_of(x: f64, a: Val, dx_da: f64) -> Val {
        Val::node(x, [(a.id, dx_da), NONE], U * x.abs())
    }

    /// `jnp.sign`: −1 or +1, `±0` for `±0`. Piecewise constant, so no derivative; but where
    /// `|x| ≤ e(x)` the `f32` evaluation may fall on the other side of 0 (or on 0), and its
    /// sign is then off by up to 2, which this node adds as its own error (counted in
    /// [`SIGNS_NEAR_SWITCH`]). Elsewhere the `f32` sign is the reference's (to first order).
    fn jnp_sign(self) -> Val {
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
static SIGNS_NEAR_SWITCH: AtomicU64 = AtomicU64::new(0);

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
fn error_bounds(outputs: &[Val]) -> [f64; MAX_OUTPUTS] {
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
struct Expected {
    x: f64,
    e: f64,
}

/// Parameters and state planes (in `state_names()` order) after the last step.
struct Outcome {
    params: Vec<Expected>,
    state: Vec<Vec<Expected>>,
}

/// Runs `element(i)` for each element `i < n` on a fresh tape. It returns the element's final
/// parameter followed by its final state values in plane order; elements are independent
/// (every operation of the update is element-wise), so each one's whole history is run at
/// once.
fn per_element(n: usize, mut element: impl FnMut(usize) -> Vec<Val>) -> Outcome {
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
fn grad_of(grad: f32, maximize: bool) -> Val {
    let g = Val::input(grad);
    if maximize { -g } else { g }
}

// ---------------------------------------------------------------------------------------
// The reference: PyTorch's single-tensor equations, one function per optimizer.
// ---------------------------------------------------------------------------------------

/// `torch.optim.SGD`.
fn sgd_reference(o: &Sgd, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    per_element(params.len(), |i| {
        let lr = Val::rounded(o.lr);
        let weight_decay = Val::rounded(o.weight_decay);
        let momentum = Val::rounded(o.momentum);
        let one_minus_dampening = Val::rounded(1.0 - o.dampening);
        let mut p = Val::input(params[i]);
        let mut momentum_buffer = None;
        for grad in grads {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                g = g + weight_decay * p;
            }
            if o.momentum != 0.0 {
                let buf = match momentum_buffer {
                    // `buf = grad.detach().clone()` on the first step.
                    None => g,
                    Some(buf) => buf * momentum + one_minus_dampening * g,
                };
                momentum_buffer = Some(buf);
                g = if o.nesterov { g + momentum * buf } else { buf };
            }
            p = p - lr * g;
        }
        [Some(p), momentum_buffer].into_iter().flatten().collect()
    })
}

/// `torch.optim.Adagrad`.
fn adagrad_reference(o: &Adagrad, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    per_element(params.len(), |i| {
        let weight_decay = Val::rounded(o.weight_decay);
        let eps = Val::rounded(o.eps);
        let mut p = Val::input(params[i]);
        let mut sum = Val::rounded(o.initial_accumulator_value);
        for (step, grad) in (1..).zip(grads) {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                g = g + weight_decay * p;
            }
            let clr = Val::rounded(o.lr / (1.0 + f64::from(step - 1) * o.lr_decay));
            sum = sum + g * g;
            let std = sum.sqrt() + eps;
            p = p - clr * (g / std);
        }
        vec![p, sum]
    })
}

/// `torch.optim.RMSprop`.
fn rmsprop_reference(o: &RmsProp, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    per_element(params.len(), |i| {
        let lr = Val::rounded(o.lr);
        let weight_decay = Val::rounded(o.weight_decay);
        let eps = Val::rounded(o.eps);
        let momentum = Val::rounded(o.momentum);
        let alpha = Val::rounded(o.alpha);
        let one_minus_alpha = Val::rounded(1.0 - o.alpha);
        let mut p = Val::input(params[i]);
        let zero = Val::input(0.0);
        let (mut square_avg, mut momentum_buffer, mut grad_avg) = (zero, zero, zero);
        for grad in grads {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                g = g + weight_decay * p;
            }
            square_avg = square_avg * alpha + one_minus_alpha * g * g;
            let avg = if o.centered {
                // `grad_avg.lerp_(grad, 1 − alpha)`.
                grad_avg = grad_avg + one_minus_alpha * (g - grad_avg);
                (square_avg - grad_avg * grad_avg).sqrt()
            } else {
                square_avg.sqrt()
            };
            let avg = avg + eps;
            if o.momentum > 0.0 {
                momentum_buffer = momentum_buffer * momentum + g / avg;
                p = p - lr * momentum_buffer;
            } else {
                p = p - lr * (g / avg);
            }
        }
        let mut out = vec![p, square_avg];
        if o.momentum > 0.0 {
            out.push(momentum_buffer);
        }
        if o.centered {
            out.push(grad_avg);
        }
        out
    })
}

/// `torch.optim.Adam` (and `AdamW`, which is Adam with `decoupled_weight_decay`).
fn adam_reference(o: &Adam, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    let (beta1, beta2) = o.betas;
    per_element(params.len(), |i| {
        let weight_decay = Val::rounded(o.weight_decay);
        let decay = Val::rounded(1.0 - o.lr * o.weight_decay);
        let eps = Val::rounded(o.eps);
        let one_minus_beta1 = Val::rounded(1.0 - beta1);
        let beta2_ = Val::rounded(beta2);
        let one_minus_beta2 = Val::rounded(1.0 - beta2);
        let mut p = Val::input(params[i]);
        let zero = Val::input(0.0);
        let (mut exp_avg, mut exp_avg_sq, mut max_exp_avg_sq) = (zero, zero, zero);
        for (step, grad) in (1..).zip(grads) {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                if o.decoupled_weight_decay {
                    p = p * decay;
                } else {
                    g = g + weight_decay * p;
                }
            }
            // `exp_avg.lerp_(grad, 1 − beta1)`.
            exp_avg = exp_avg + one_minus_beta1 * (g - exp_avg);
            exp_avg_sq = exp_avg_sq * beta2_ + one_minus_beta2 * g * g;
            let bias_correction1 = 1.0 - beta1.powi(step);
            let bias_correction2 = 1.0 - beta2.powi(step);
            let step_size = Val::rounded(o.lr / bias_correction1);
            let bias_correction2_sqrt = Val::rounded(bias_correction2.sqrt());
            let second = if o.amsgrad {
                max_exp_avg_sq = max_exp_avg_sq.max(exp_avg_sq);
                max_exp_avg_sq
            } else {
                exp_avg_sq
            };
            let denom = second.sqrt() / bias_correction2_sqrt + eps;
            p = p - step_size * (exp_avg / denom);
        }
        let mut out = vec![p, exp_avg, exp_avg_sq];
        if o.amsgrad {
            out.push(max_exp_avg_sq);
        }
        out
    })
}

/// `torch.optim.AdamW`: `Adam` with `decoupled_weight_decay=True`.
fn adamw_reference(o: &AdamW, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    let adam = Adam {
        lr: o.lr,
        betas: o.betas,
        eps: o.eps,
        weight_decay: o.weight_decay,
        amsgrad: o.amsgrad,
        maximize: o.maximize,
        decoupled_weight_decay: true,
    };
    adam_reference(&adam, params, grads)
}

/// `torch.optim.Adamax`.
fn adamax_reference(o: &Adamax, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    let (beta1, beta2) = o.betas;
    per_element(params.len(), |i| {
        let weight_decay = Val::rounded(o.weight_decay);
        let eps = Val::rounded(o.eps);
        let one_minus_beta1 = Val::rounded(1.0 - beta1);
        let beta2_ = Val::rounded(beta2);
        let mut p = Val::input(params[i]);
        let zero = Val::input(0.0);
        let (mut exp_avg, mut exp_inf) = (zero, zero);
        for (step, grad) in (1..).zip(grads) {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                g = g + weight_decay * p;
            }
            exp_avg = exp_avg + one_minus_beta1 * (g - exp_avg);
            exp_inf = (exp_inf * beta2_).max(g.abs() + eps);
            let clr = Val::rounded(o.lr / (1.0 - beta1.powi(step)));
            p = p - clr * (exp_avg / exp_inf);
        }
        vec![p, exp_avg, exp_inf]
    })
}

/// `torch.optim.NAdam`.
fn nadam_reference(o: &NAdam, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    let (beta1, beta2) = o.betas;
    let mu_of = |step: f64| beta1 * (1.0 - 0.5 * 0.96f64.powf(step * o.momentum_decay));
    per_element(params.len(), |i| {
        let weight_decay = Val::rounded(o.weight_decay);
        let decay = Val::rounded(1.0 - o.lr * o.weight_decay);
        let eps = Val::rounded(o.eps);
        let one_minus_beta1 = Val::rounded(1.0 - beta1);
        let beta2_ = Val::rounded(beta2);
        let one_minus_beta2 = Val::rounded(1.0 - beta2);
        let mut p = Val::input(params[i]);
        let zero = Val::input(0.0);
        let (mut exp_avg, mut exp_avg_sq) = (zero, zero);
        // `state["mu_product"]`: an `f32` tensor multiplied by `f32(μₜ)` each step, so on the
        // tape as the exact product with one rounding per factor and per product.
        let mut mu_product = Val::exact(1.0);
        for (step, grad) in (1..).zip(grads) {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                if o.decoupled_weight_decay {
                    p = p * decay;
                } else {
                    g = g + weight_decay * p;
                }
            }
            let t = f64::from(step);
            let (mu, mu_next) = (mu_of(t), mu_of(t + 1.0));
            mu_product = mu_product * Val::rounded(mu);
            exp_avg = exp_avg + one_minus_beta1 * (g - exp_avg);
            exp_avg_sq = exp_avg_sq * beta2_ + one_minus_beta2 * g * g;
            let bias_correction2 = Val::rounded(1.0 - beta2.powi(step));
            let denom = (exp_avg_sq / bias_correction2).sqrt() + eps;
            // The two `addcdiv` values, in `f64` from `mu_product.item()`, rounded once.
            let pi = mu_product.x;
            let grad_coef = -o.lr * (1.0 - mu) / (1.0 - pi);
            let grad_coef = Val::rounded_of(grad_coef, mu_product, grad_coef / (1.0 - pi));
            let next = 1.0 - pi * mu_next;
            let exp_avg_coef = -o.lr * mu_next / next;
            let exp_avg_coef =
                Val::rounded_of(exp_avg_coef, mu_product, exp_avg_coef * mu_next / next);
            p = p + (grad_coef * g) / denom;
            p = p + (exp_avg_coef * exp_avg) / denom;
        }
        vec![p, exp_avg, exp_avg_sq]
    })
}

/// `torch.optim.RAdam`.
fn radam_reference(o: &RAdam, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    let (beta1, beta2) = o.betas;
    per_element(params.len(), |i| {
        let lr = Val::rounded(o.lr);
        let weight_decay = Val::rounded(o.weight_decay);
        let decay = Val::rounded(1.0 - o.lr * o.weight_decay);
        let eps = Val::rounded(o.eps);
        let one_minus_beta1 = Val::rounded(1.0 - beta1);
        let beta2_ = Val::rounded(beta2);
        let one_minus_beta2 = Val::rounded(1.0 - beta2);
        let one = Val::exact(1.0);
        let mut p = Val::input(params[i]);
        let zero = Val::input(0.0);
        let (mut exp_avg, mut exp_avg_sq) = (zero, zero);
        for (step, grad) in (1..).zip(grads) {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                if o.decoupled_weight_decay {
                    p = p * decay;
                } else {
                    g = g + weight_decay * p;
                }
            }
            exp_avg = exp_avg + one_minus_beta1 * (g - exp_avg);
            exp_avg_sq = exp_avg_sq * beta2_ + one_minus_beta2 * g * g;
            let t = f64::from(step);
            // Python's `float ** float`, as PyTorch computes them (the switch `ρₜ > 5` is then
            // PyTorch's, decided in `f64` on `t` and `β2` alone: no rounding of the crate's
            // `f32` evaluation can move it).
            let bias_correction1 = 1.0 - beta1.powf(t);
            let bias_correction2 = 1.0 - beta2.powf(t);
            let bias_corrected_exp_avg = exp_avg / Val::rounded(bias_correction1);
            let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
            let rho_t = rho_inf - 2.0 * t * beta2.powf(t) / bias_correction2;
            if rho_t > 5.0 {
                let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                    / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                    .sqrt();
                // `bias_correction2 ** 0.5 / (√v + eps)`: PyTorch's scalar-by-tensor division
                // is a reciprocal times the scalar.
                let adaptive_lr =
                    (one / (exp_avg_sq.sqrt() + eps)) * Val::rounded(bias_correction2.sqrt());
                p = p - ((bias_corrected_exp_avg * lr) * adaptive_lr) * Val::rounded(rect);
            } else {
                p = p - bias_corrected_exp_avg * lr;
            }
        }
        vec![p, exp_avg, exp_avg_sq]
    })
}

/// `torch.optim.Adadelta`.
fn adadelta_reference(o: &Adadelta, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    per_element(params.len(), |i| {
        let lr = Val::rounded(o.lr);
        let weight_decay = Val::rounded(o.weight_decay);
        let eps = Val::rounded(o.eps);
        let rho = Val::rounded(o.rho);
        let one_minus_rho = Val::rounded(1.0 - o.rho);
        let mut p = Val::input(params[i]);
        let zero = Val::input(0.0);
        let (mut square_avg, mut acc_delta) = (zero, zero);
        for grad in grads {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                g = g + weight_decay * p;
            }
            square_avg = square_avg * rho + one_minus_rho * g * g;
            let std = (square_avg + eps).sqrt();
            let delta = ((acc_delta + eps).sqrt() / std) * g;
            acc_delta = acc_delta * rho + one_minus_rho * delta * delta;
            p = p - lr * delta;
        }
        vec![p, square_avg, acc_delta]
    })
}

/// `torch.optim.Rprop`. Its sign decisions are exact: `grad · prev` is a product of two
/// `f32` inputs (the gradient, and the previous one or 0), rounded to `f32` as PyTorch
/// rounds it, so the reference takes its sign from that `f32` product, the crate's own
/// value. Only the step size carries rounding errors (`s · f`, and the roundings of `lr`,
/// the etas and the bounds), and `p ∓ s`.
fn rprop_reference(o: &Rprop, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    per_element(params.len(), |i| {
        let (etaminus, etaplus) = (Val::rounded(o.etas.0), Val::rounded(o.etas.1));
        let step_size_min = Val::rounded(o.step_sizes.0);
        let step_size_max = Val::rounded(o.step_sizes.1);
        let mut p = Val::input(params[i]);
        let mut step_size = Val::rounded(o.lr);
        let mut prev = 0.0f32;
        for grad in grads {
            let mut g = if o.maximize { -grad[i] } else { grad[i] };
            let direction = g * prev;
            // `sign[sign.eq(0)] = 1`: a multiplication by 1, exact.
            if direction > 0.0 {
                step_size = step_size * etaplus;
            } else if direction < 0.0 {
                step_size = step_size * etaminus;
            }
            step_size = step_size.max(step_size_min).min(step_size_max);
            if direction < 0.0 {
                g = 0.0;
            }
            if g > 0.0 {
                p = p - step_size;
            } else if g < 0.0 {
                p = p + step_size;
            }
            prev = g;
        }
        vec![p, Val::input(prev), step_size]
    })
}

/// `torch.optim.ASGD`. `state["eta"]` and `state["mu"]` are `f32` tensors holding
/// `lr / (1 + lambd·lr·(t − 1))^alpha` and `1 / max(1, t − 1 − t0)` (1 before the first
/// step): each is one rounding of that value; `1 − lambd·eta` is computed in `f64` from the
/// `f32` `eta` and rounded once. Whether `ax` averages or copies is PyTorch's test on the
/// `f32` `mu` (`mu.item() != 1`).
fn asgd_reference(o: &Asgd, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    per_element(params.len(), |i| {
        let weight_decay = Val::rounded(o.weight_decay);
        let mut p = Val::input(params[i]);
        let mut ax = Val::input(0.0);
        for (step, grad) in (1u32..).zip(grads) {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                g = g + weight_decay * p;
            }
            let done = f64::from(step - 1);
            let eta = Val::rounded(o.lr / (1.0 + o.lambd * o.lr * done).powf(o.alpha));
            if o.lambd != 0.0 {
                // (With `lambd = 0` the factor is exactly 1, and the product exact.)
                let decay = Val::rounded_of(1.0 - o.lambd * eta.x, eta, -o.lambd);
                p = p * decay;
            }
            p = p + (-eta) * g;
            let mu = if step == 1 {
                1.0
            } else {
                1.0 / f64::max(1.0, done - o.t0)
            };
            ax = if mu as f32 != 1.0 {
                ax + (p - ax) * Val::rounded(mu)
            } else {
                p
            };
        }
        vec![p, ax]
    })
}

/// optax's `lion` (`scale_by_lion`, `add_decayed_weights`, `scale_by_learning_rate`).
fn lion_reference(o: &Lion, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    let (beta1, beta2) = o.betas;
    per_element(params.len(), |i| {
        let lr = Val::rounded(o.lr);
        let weight_decay = Val::rounded(o.weight_decay);
        let beta1_ = Val::rounded(beta1);
        let one_minus_beta1 = Val::rounded(1.0 - beta1);
        let beta2_ = Val::rounded(beta2);
        let one_minus_beta2 = Val::rounded(1.0 - beta2);
        let mut p = Val::input(params[i]);
        let mut exp_avg = Val::input(0.0);
        for grad in grads {
            let g = grad_of(grad[i], o.maximize);
            let c = one_minus_beta1 * g + beta1_ * exp_avg;
            exp_avg = one_minus_beta2 * g + beta2_ * exp_avg;
            let mut u = c.jnp_sign();
            if o.weight_decay != 0.0 {
                u = u + weight_decay * p;
            }
            p = p - lr * u;
        }
        vec![p, exp_avg]
    })
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
fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo..hi).prop_map(|e| 10f64.powf(e))
}

/// 0 (off) or a positive value.
fn off_or(on: impl Strategy<Value = f64> + 'static) -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), on]
}

fn lr() -> impl Strategy<Value = f64> {
    log_uniform(-5.0, 0.0)
}

fn weight_decay() -> impl Strategy<Value = f64> {
    off_or(log_uniform(-5.0, -1.0))
}

fn eps() -> impl Strategy<Value = f64> {
    log_uniform(-10.0, -3.0)
}

/// A decay rate in `[0, 1)`: uniform (half of them below 0.5) or close to 1.
fn beta() -> impl Strategy<Value = f64> {
    prop_oneof![0.0..1.0f64, log_uniform(-4.0, -1.0).prop_map(|x| 1.0 - x)]
}

fn sgd() -> impl Strategy<Value = Sgd> {
    (
        lr(),
        off_or(0.0..0.99f64),
        off_or(0.0..=1.0f64),
        weight_decay(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, momentum, dampening, weight_decay, nesterov, maximize)| {
                let nesterov = nesterov && momentum > 0.0;
                Sgd {
                    lr,
                    momentum,
                    dampening: if nesterov { 0.0 } else { dampening },
                    weight_decay,
                    nesterov,
                    maximize,
                }
            },
        )
}

fn adagrad() -> impl Strategy<Value = Adagrad> {
    (
        lr(),
        off_or(log_uniform(-4.0, 0.0)),
        weight_decay(),
        off_or(log_uniform(-3.0, 1.0)),
        eps(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize)| Adagrad {
                lr,
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
                maximize,
            },
        )
}

fn rmsprop() -> impl Strategy<Value = RmsProp> {
    (
        lr(),
        0.1..=0.999f64,
        eps(),
        weight_decay(),
        off_or(0.0..0.99f64),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, alpha, eps, weight_decay, momentum, centered, maximize)| RmsProp {
                lr,
                alpha,
                eps,
                weight_decay,
                momentum,
                centered,
                maximize,
            },
        )
}

fn adam() -> impl Strategy<Value = Adam> {
    (
        lr(),
        beta(),
        beta(),
        eps(),
        weight_decay(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled)| Adam {
                lr,
                betas: (beta1, beta2),
                eps,
                weight_decay,
                amsgrad,
                maximize,
                decoupled_weight_decay: decoupled,
            },
        )
}

fn adamw() -> impl Strategy<Value = AdamW> {
    (
        lr(),
        beta(),
        beta(),
        eps(),
        off_or(log_uniform(-4.0, -1.0)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)| AdamW {
                lr,
                betas: (beta1, beta2),
                eps,
                weight_decay,
                amsgrad,
                maximize,
            },
        )
}

fn adamax() -> impl Strategy<Value = Adamax> {
    (lr(), beta(), beta(), eps(), weight_decay(), any::<bool>()).prop_map(
        |(lr, beta1, beta2, eps, weight_decay, maximize)| Adamax {
            lr,
            betas: (beta1, beta2),
            eps,
            weight_decay,
            maximize,
        },
    )
}

fn nadam() -> impl Strategy<Value = NAdam> {
    (
        lr(),
        beta(),
        beta(),
        eps(),
        weight_decay(),
        off_or(log_uniform(-4.0, 2.0)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize)| NAdam {
                lr,
                betas: (beta1, beta2),
                eps,
                weight_decay,
                momentum_decay,
                decoupled_weight_decay: decoupled,
                maximize,
            },
        )
}

fn radam() -> impl Strategy<Value = RAdam> {
    (
        lr(),
        beta(),
        beta(),
        eps(),
        weight_decay(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, beta1, beta2, eps, weight_decay, decoupled, maximize)| RAdam {
                lr,
                betas: (beta1, beta2),
                eps,
                weight_decay,
                decoupled_weight_decay: decoupled,
                maximize,
            },
        )
}

fn adadelta() -> impl Strategy<Value = Adadelta> {
    (
        log_uniform(-4.0, 0.5),
        prop_oneof![0.0..=1.0f64, beta(), Just(1.0)],
        eps(),
        weight_decay(),
        any::<bool>(),
    )
        .prop_map(|(lr, rho, eps, weight_decay, maximize)| Adadelta {
            lr,
            rho,
            eps,
            weight_decay,
            maximize,
        })
}

fn rprop() -> impl Strategy<Value = Rprop> {
    (
        lr(),
        0.05..0.95f64,
        1.01..3.0f64,
        off_or(log_uniform(-8.0, -2.0)),
        log_uniform(-3.0, 2.0),
        any::<bool>(),
    )
        .prop_map(|(lr, etaminus, etaplus, min, max, maximize)| Rprop {
            lr,
            etas: (etaminus, etaplus),
            step_sizes: (min.min(max), max),
            maximize,
        })
}

fn asgd() -> impl Strategy<Value = Asgd> {
    (
        lr(),
        off_or(log_uniform(-6.0, 0.0)),
        0.0..=1.5f64,
        prop_oneof![Just(1e6), -5.0..50.0f64],
        weight_decay(),
        any::<bool>(),
    )
        .prop_map(|(lr, lambd, alpha, t0, weight_decay, maximize)| Asgd {
            lr,
            lambd,
            alpha,
            t0,
            weight_decay,
            maximize,
        })
}

fn lion() -> impl Strategy<Value = Lion> {
    (
        log_uniform(-5.0, -1.0),
        beta(),
        beta(),
        weight_decay(),
        any::<bool>(),
    )
        .prop_map(|(lr, beta1, beta2, weight_decay, maximize)| Lion {
            lr,
            betas: (beta1, beta2),
            weight_decay,
            maximize,
        })
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

/// Checks one optimizer on random problems against its reference; prints the worst ratio.
fn check_optimizer<O, S>(
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
        source_file: Some(file!()),
        ..ProptestConfig::with_cases(CASES)
    };
    let worst = Cell::new(0.0f64);
    let result = TestRunner::new(config).run(&(optimizers, problem()), |(opt, problem)| {
        let (params, grads) = data(problem);
        let (p_scalar, s_scalar) = run_crate(&opt, Backend::Scalar, &params, &grads);
        let (p_simd, s_simd) = run_crate(&opt, Backend::Simd, &params, &grads);
        let bits = |xs: &[f32]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&p_scalar), bits(&p_simd), "params: Scalar ≠ Simd");
        prop_assert_eq!(bits(&s_scalar), bits(&s_simd), "state: Scalar ≠ Simd");

        let expected = reference(&opt, &params, &grads);
        prop_assert_eq!(expected.state.len(), opt.state_planes());
        let mut case_worst = worst_ratio("params", &p_simd, &expected.params)?;
        for ((plane, name), want) in s_simd
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

#[test]
fn sgd_matches_reference() {
    check_optimizer("SGD", sgd(), sgd_reference);
}

#[test]
fn adagrad_matches_reference() {
    check_optimizer("Adagrad", adagrad(), adagrad_reference);
}

#[test]
fn rmsprop_matches_reference() {
    check_optimizer("RMSprop", rmsprop(), rmsprop_reference);
}

#[test]
fn adam_matches_reference() {
    check_optimizer("Adam", adam(), adam_reference);
}

#[test]
fn adamw_matches_reference() {
    check_optimizer("AdamW", adamw(), adamw_reference);
}

#[test]
fn adamax_matches_reference() {
    check_optimizer("Adamax", adamax(), adamax_reference);
}

#[test]
fn nadam_matches_reference() {
    check_optimizer("NAdam", nadam(), nadam_reference);
}

#[test]
fn radam_matches_reference() {
    check_optimizer("RAdam", radam(), radam_reference);
}

#[test]
fn adadelta_matches_reference() {
    check_optimizer("Adadelta", adadelta(), adadelta_reference);
}

#[test]
fn rprop_matches_reference() {
    check_optimizer("Rprop", rprop(), rprop_reference);
}

#[test]
fn asgd_matches_reference() {
    check_optimizer("ASGD", asgd(), asgd_reference);
}

#[test]
fn lion_matches_reference() {
    check_optimizer("Lion", lion(), lion_reference);
    eprintln!(
        "Lion: sign decisions within the bound of the switch: {}",
        SIGNS_NEAR_SWITCH.load(Ordering::Relaxed)
    );
}

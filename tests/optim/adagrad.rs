//! Adagrad (`torch.optim.Adagrad`): what the harnesses need to know of it (random hyper-parameters,
//! kernel variants, refusals, non-finite outcomes), its hand-computed steps, its golden replay and
//! its `f64` reference.

use fused_optim::{Adagrad, Optimizer};
use proptest::prelude::*;

use crate::common::exact::{Buffers, fma, grad, k};
use crate::common::golden::{self, Golden, Hp};
use crate::common::maybe;
use crate::common::reference::{
    Outcome, Val, check_optimizer, eps, grad_of, log_uniform, lr, off_or, per_element, weight_decay,
};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = Adagrad> {
    (
        0.0..1.0f64,
        maybe(0.0..0.5),
        maybe(0.0..0.1),
        maybe(0.0..1.0),
        prop_oneof![Just(1e-10), 0.0..1e-3],
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

/// One configuration per kernel: with and without `lr_decay`, weight decay and maximize.
pub fn variants() -> Vec<Adagrad> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for lr_decay in [0.0, 0.1] {
                all.push(Adagrad {
                    lr: 0.1,
                    lr_decay,
                    weight_decay,
                    initial_accumulator_value: 0.1,
                    maximize,
                    ..Adagrad::default()
                });
            }
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(Adagrad, Refusal)> {
    let ada = Adagrad::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((Adagrad { lr: bad, ..ada }, Invalid("lr")));
        all.push((
            Adagrad {
                lr_decay: bad,
                ..ada
            },
            Invalid("lr_decay"),
        ));
        all.push((
            Adagrad {
                weight_decay: bad,
                ..ada
            },
            Invalid("weight_decay"),
        ));
        all.push((
            Adagrad {
                initial_accumulator_value: bad,
                ..ada
            },
            Invalid("initial_accumulator_value"),
        ));
        all.push((Adagrad { eps: bad, ..ada }, Invalid("eps")));
    }
    all
}

/// A NaN gradient makes the parameter and `sum` NaN; an infinite one makes the parameter
/// NaN (∞/∞) and `sum` infinite.
pub fn non_finite(opt: &Adagrad, _bad: f32, _t: u64) -> NonFinite {
    NonFinite::poisoned(Param::Nan, opt)
}

/// The first steps of every option, computed by hand (see [`crate::common::hand`]).
mod hand_computed {
    use super::*;
    use crate::common::hand::*;

    // ---------------------------------------------------------------------------------------
    // Adagrad. p ← p − clr·g / (√s + eps) with eps = 3, lr = 0.5. The effective gradients are
    // legs of Pythagorean triples (3-4-5, 5-12-13) so that √s ∈ {0, 1, 3, 5, 13} and
    // √s + 3 ∈ {3, 4, 6, 8, 16}: every quotient is exact.
    // ---------------------------------------------------------------------------------------

    /// Expected state and parameters of the plain Adagrad case, shared by the cases that
    /// reduce to it:
    /// t=1: s = [9, 25, 0],   √s + 3 = [6, 8, 3],  clr·g/(√s+3) = [1.5/6, −2.5/8, 0/3]
    ///      p = [1 − 0.25, −2 + 0.3125, 0.5 − 0] = [0.75, −1.6875, 0.5]
    /// t=2: s = [25, 169, 25], √s + 3 = [8, 16, 8], clr·g/(√s+3) = [2/8, 6/16, 2.5/8]
    ///      p = [0.75 − 0.25, −1.6875 − 0.375, 0.5 − 0.3125] = [0.5, −2.0625, 0.1875]
    fn adagrad_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
        [
            Step {
                grad: g1,
                params: [0.75, -1.6875, 0.5],
                state: &[[9.0, 25.0, 0.0]],
            },
            Step {
                grad: g2,
                params: [0.5, -2.0625, 0.1875],
                state: &[[25.0, 169.0, 25.0]],
            },
        ]
    }

    const ADAGRAD_G1: [f32; 3] = [3.0, -5.0, 0.0];
    const ADAGRAD_G2: [f32; 3] = [4.0, 12.0, 5.0];

    #[test]
    fn plain() {
        // See `adagrad_plain_steps`; the third element has a zero gradient at t = 1 (it does not
        // move: −0 / 3 = −0).
        let opt = Adagrad {
            lr: 0.5,
            eps: 3.0,
            ..Adagrad::default()
        };
        check(
            &opt,
            &["sum"],
            P0,
            None,
            &adagrad_plain_steps(ADAGRAD_G1, ADAGRAD_G2),
        );
    }

    #[test]
    fn lr_decay() {
        // lr_decay 1: clr = 0.5 / (1 + (t − 1)·1) = 0.5 at t=1 (as plain), 0.25 at t=2.
        // t=2: s as plain, clr·g/(√s+3) = [1/8, 3/16, 1.25/8] = [0.125, 0.1875, 0.15625]
        //      p = [0.75 − 0.125, −1.6875 − 0.1875, 0.5 − 0.15625] = [0.625, −1.875, 0.34375]
        let opt = Adagrad {
            lr: 0.5,
            lr_decay: 1.0,
            eps: 3.0,
            ..Adagrad::default()
        };
        let [t1, _] = adagrad_plain_steps(ADAGRAD_G1, ADAGRAD_G2);
        let t2 = Step {
            grad: ADAGRAD_G2,
            params: [0.625, -1.875, 0.34375],
            state: &[[25.0, 169.0, 25.0]],
        };
        check(&opt, &["sum"], P0, None, &[t1, t2]);
    }

    #[test]
    fn weight_decay() {
        // weight_decay 0.5: raw gradients chosen so that g + 0.5·p is the plain case's gradient;
        // everything else is then the plain case.
        // t=1: g = [2.5, −4, −0.25],        g + 0.5·P0 = [2.5 + 0.5, −4 − 1, −0.25 + 0.25]
        //        = [3, −5, 0]
        // t=2: g = [3.625, 12.84375, 4.75], g + 0.5·[0.75, −1.6875, 0.5]
        //        = [3.625 + 0.375, 12.84375 − 0.84375, 4.75 + 0.25] = [4, 12, 5]
        let opt = Adagrad {
            lr: 0.5,
            eps: 3.0,
            weight_decay: 0.5,
            ..Adagrad::default()
        };
        check(
            &opt,
            &["sum"],
            P0,
            None,
            &adagrad_plain_steps([2.5, -4.0, -0.25], [3.625, 12.84375, 4.75]),
        );
    }

    #[test]
    fn initial_accumulator_value() {
        // initial_accumulator_value 16, g1 = [3, −3, 3], g2 = [12, −12, 0].
        // t=1: s = 16 + 9 = 25, √s + 3 = 8, clr·g/8 = [0.1875, −0.1875, 0.1875]
        //      p = [0.8125, −1.8125, 0.3125]
        // t=2: s = [25 + 144, 25 + 144, 25] = [169, 169, 25], √s + 3 = [16, 16, 8]
        //      clr·g/(√s+3) = [6/16, −6/16, 0] → p = [0.4375, −1.4375, 0.3125]
        let opt = Adagrad {
            lr: 0.5,
            eps: 3.0,
            initial_accumulator_value: 16.0,
            ..Adagrad::default()
        };
        let mut state = vec![0.0; opt.state_len(N)];
        opt.init_state(&mut state).unwrap();
        assert!(state.iter().all(|&s| s == 16.0));
        check(
            &opt,
            &["sum"],
            P0,
            None,
            &[
                Step {
                    grad: [3.0, -3.0, 3.0],
                    params: [0.8125, -1.8125, 0.3125],
                    state: &[[25.0; 3]],
                },
                Step {
                    grad: [12.0, -12.0, 0.0],
                    params: [0.4375, -1.4375, 0.3125],
                    state: &[[169.0, 169.0, 25.0]],
                },
            ],
        );
    }

    #[test]
    fn maximize() {
        // maximize with the plain case's gradients negated is the plain case.
        let opt = Adagrad {
            lr: 0.5,
            eps: 3.0,
            maximize: true,
            ..Adagrad::default()
        };
        check(
            &opt,
            &["sum"],
            P0,
            None,
            &adagrad_plain_steps([-3.0, 5.0, 0.0], [-4.0, -12.0, -5.0]),
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/adagrad.txt
// ---------------------------------------------------------------------------------------

impl Golden for Adagrad {
    const TORCH: &'static str = "Adagrad";

    fn from_hp(hp: &mut Hp) -> Self {
        Adagrad {
            lr: hp.float("lr"),
            lr_decay: hp.float("lr_decay"),
            weight_decay: hp.float("weight_decay"),
            initial_accumulator_value: hp.float("initial_accumulator_value"),
            eps: hp.float("eps"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    golden::assert_coverage(&golden::check::<Adagrad>("adagrad.txt"), &[]);
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = Adagrad> {
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

/// `torch.optim.Adagrad`.
pub fn reference(o: &Adagrad, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
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

#[test]
fn matches_reference() {
    check_optimizer("Adagrad", reference_strategy(), reference);
}

/// A fused multiply-add exactly where PyTorch 2.15's CPU kernels fuse (docs/conventions.md):
/// the case fails if the kernel rounds the product on its own, on every back-end.
mod fma_where_pytorch_fuses {
    use super::*;
    use crate::common::hand::*;

    /// `state_sum.addcmul_(grad, grad, value=1)` is `fma(g, g, sum)`, one rounding; then
    /// `param.addcdiv_(grad, std, value=−clr)`, not fused: `p + (f32(−clr) · g) / (√s + eps)`.
    /// Adagrad(lr=0.1) from a checkpoint's sum; every element's sum (and parameter) differs
    /// when `g · g` is rounded first.
    #[test]
    fn adagrad_sum() {
        let opt = Adagrad {
            lr: 0.1,
            ..Adagrad::default()
        };
        let (neg_clr, eps) = (-0.1_f64 as f32, 1e-10_f64 as f32);
        let (p0, s0) = ([0.07_f32, -0.16, -1.01], [1.07_f32, 1.94, 0.7]);
        let g = [2.01_f32, 1.79, 2.31];
        let step = |fused: bool| -> ([f32; 3], [f32; 3]) {
            let s: [f32; 3] = std::array::from_fn(|i| {
                if fused {
                    g[i].mul_add(g[i], s0[i])
                } else {
                    g[i] * g[i] + s0[i]
                }
            });
            let p = std::array::from_fn(|i| p0[i] + (neg_clr * g[i]) / (s[i].sqrt() + eps));
            (p, s)
        };
        let ((p, s), (p_unfused, s_unfused)) = (step(true), step(false));
        for i in 0..3 {
            assert!(s[i] != s_unfused[i] && p[i] != p_unfused[i], "element {i}");
        }
        check_from(
            &opt,
            &["sum"],
            p0,
            &[s0],
            &[Step {
                grad: g,
                params: p,
                state: &[s],
            }],
        );
    }
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &Adagrad, step: Buffers<'_, '_>) {
    let Buffers {
        t,
        params,
        grads,
        plane,
        sqrt,
        ..
    } = step;
    let n = params.len();
    let tf = t as f64;
    let Adagrad {
        lr,
        lr_decay,
        weight_decay,
        eps,
        maximize,
        ..
    } = *optimizer;
    let clr = lr / (1.0 + (tf - 1.0) * lr_decay);
    for j in 0..n {
        let g = grad(grads[j], params[j], maximize, weight_decay, true);
        let sum = fma(g, g, plane[0][j]);
        plane[0][j] = sum;
        params[j] += (k(-clr) * g) / (sqrt(sum) + k(eps));
    }
}

//! Adamax (`torch.optim.Adamax`): what the harnesses need to know of it (random hyper-parameters,
//! kernel variants, refusals, non-finite outcomes), its hand-computed steps, its golden replay and
//! its `f64` reference.

use fused_optim::Adamax;
use proptest::prelude::*;

use crate::common::exact::{Buffers, grad, k, lerp, maximum};
use crate::common::golden::{self, Golden, Hp};
use crate::common::reference::{
    Outcome, Val, beta, check_optimizer, eps, grad_of, lr, per_element, weight_decay,
};
use crate::common::{beta1, maybe};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, BAD_UNIT, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = Adamax> {
    (
        0.0..1.0f64,
        (beta1(), prop_oneof![Just(0.999), 0.0..1.0]),
        prop_oneof![Just(1e-8), 0.0..1e-3],
        maybe(0.0..0.1),
        any::<bool>(),
    )
        .prop_map(|(lr, betas, eps, weight_decay, maximize)| Adamax {
            lr,
            betas,
            eps,
            weight_decay,
            maximize,
        })
}

/// One configuration per kernel: both lerp formulas of the first moment, weight decay and
/// maximize.
pub fn variants() -> Vec<Adamax> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for beta1 in [0.9, 0.3] {
                all.push(Adamax {
                    lr: 0.01,
                    betas: (beta1, 0.999),
                    weight_decay,
                    maximize,
                    ..Adamax::default()
                });
            }
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(Adamax, Refusal)> {
    let o = Adamax::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((Adamax { lr: bad, ..o }, Invalid("lr")));
        all.push((Adamax { eps: bad, ..o }, Invalid("eps")));
        all.push((
            Adamax {
                weight_decay: bad,
                ..o
            },
            Invalid("weight_decay"),
        ));
    }
    for bad in BAD_UNIT {
        for (betas, name) in [((bad, 0.999), "betas.0"), ((0.9, bad), "betas.1")] {
            all.push((Adamax { betas, ..o }, Invalid(name)));
        }
    }
    all
}

/// A NaN or infinite gradient makes the parameter and the state NaN or infinite (the
/// update is ∞/∞).
pub fn non_finite(opt: &Adamax, _bad: f32, _t: u64) -> NonFinite {
    NonFinite::poisoned(Param::Nan, opt)
}

/// The first steps of every option, computed by hand (see [`crate::common::hand`]).
mod hand_computed {
    #![allow(
        clippy::excessive_precision,
        reason = "exact dyadic values, written out in full rather than as the shortest f32 decimal"
    )]

    use super::*;
    use crate::common::hand::*;

    // ---------------------------------------------------------------------------------------
    // Adamax: lr = 7/16, betas (3/4, 1/2), eps = 1/4.
    //
    // 1 − β1ᵗ = 1/4, 7/16, so clr = lr / (1 − β1ᵗ) = 7/4, then 1. The lerp weight 1/4 is
    // PyTorch's `m + w·(g − m)` form. u = max(u/2, |g| + 1/4), p ← p − clr·m/u.
    // g1 = [3.75, −1.75, 0], g2 = [0.75, 3.75, −0.75]:
    // t=1: m = g1/4 = [0.9375, −0.4375, 0], u = [4, 2, 0.25]
    //      clr·m/u = [1.640625/4, −0.765625/2, 0] = [0.41015625, −0.3828125, 0]
    //      p = [0.58984375, −1.6171875, 0.5]
    // t=2: m = m + (g2 − m)/4 = [0.9375 − 0.046875, −0.4375 + 1.046875, −0.1875]
    //        = [0.890625, 0.609375, −0.1875]
    //      u = max([2, 1, 0.125], [1, 4, 1]) = [2, 4, 1] (the decayed norm wins in element 0)
    //      m/u = [0.4453125, 0.15234375, −0.1875]
    //      p = [0.14453125, −1.76953125, 0.6875]
    // ---------------------------------------------------------------------------------------

    const ADAMAX_G1: [f32; 3] = [3.75, -1.75, 0.0];
    const ADAMAX_G2: [f32; 3] = [0.75, 3.75, -0.75];
    const ADAMAX_U: [[f32; 3]; 2] = [[4.0, 2.0, 0.25], [2.0, 4.0, 1.0]];

    fn adamax(f: impl FnOnce(&mut Adamax)) -> Adamax {
        let mut o = Adamax {
            lr: 7.0 / 16.0,
            betas: (0.75, 0.5),
            eps: 0.25,
            ..Adamax::default()
        };
        f(&mut o);
        o
    }

    fn adamax_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
        [
            Step {
                grad: g1,
                params: [0.58984375, -1.6171875, 0.5],
                state: &[[0.9375, -0.4375, 0.0], ADAMAX_U[0]],
            },
            Step {
                grad: g2,
                params: [0.14453125, -1.76953125, 0.6875],
                state: &[[0.890625, 0.609375, -0.1875], ADAMAX_U[1]],
            },
        ]
    }

    const ADAMAX_NAMES: [&str; 2] = ["exp_avg", "exp_inf"];

    #[test]
    fn plain() {
        check(
            &adamax(|_| {}),
            &ADAMAX_NAMES,
            P0,
            None,
            &adamax_plain_steps(ADAMAX_G1, ADAMAX_G2),
        );
    }

    #[test]
    fn lerp_high() {
        // betas (1/2, 1/2), lr = 3/8: the lerp weight 1/2 is PyTorch's `g − (g − m)·(1 − w)` form;
        // 1 − β1ᵗ = 1/2, 3/4, so clr = 3/4, then 1/2. u as plain.
        // t=1: m = g1 − g1/2 = [1.875, −0.875, 0], clr·m/u = [0.3515625, −0.328125, 0]
        //      p = [0.6484375, −1.671875, 0.5]
        // t=2: m = g2 − (g2 − m)/2 = [0.75 + 0.5625, 3.75 − 2.3125, −0.75 + 0.375]
        //        = [1.3125, 1.4375, −0.375]
        //      clr·m/u = [0.328125, 0.1796875, −0.1875]
        //      p = [0.3203125, −1.8515625, 0.6875]
        let opt = adamax(|o| {
            o.lr = 0.375;
            o.betas.0 = 0.5;
        });
        check(
            &opt,
            &ADAMAX_NAMES,
            P0,
            None,
            &[
                Step {
                    grad: ADAMAX_G1,
                    params: [0.6484375, -1.671875, 0.5],
                    state: &[[1.875, -0.875, 0.0], ADAMAX_U[0]],
                },
                Step {
                    grad: ADAMAX_G2,
                    params: [0.3203125, -1.8515625, 0.6875],
                    state: &[[1.3125, 1.4375, -0.375], ADAMAX_U[1]],
                },
            ],
        );
    }

    #[test]
    fn weight_decay() {
        // weight_decay 1/2: raw gradients chosen so that g + p/2 is the plain case's gradient.
        // t=1: g = [3.25, −0.75, −0.25]:          g + P0/2 = [3.75, −1.75, 0]
        // t=2: g = [0.455078125, 4.55859375, −1]: g + [0.58984375, −1.6171875, 0.5]/2
        //        = [0.455078125 + 0.294921875, 4.55859375 − 0.80859375, −1 + 0.25] = g2 (plain)
        check(
            &adamax(|o| o.weight_decay = 0.5),
            &ADAMAX_NAMES,
            P0,
            None,
            &adamax_plain_steps([3.25, -0.75, -0.25], [0.455078125, 4.55859375, -1.0]),
        );
    }

    #[test]
    fn maximize() {
        // maximize with the plain case's gradients negated is the plain case (the zero gradient
        // becomes −0: m = 0 + (−0)/4 = +0, and p moves by −0).
        check(
            &adamax(|o| o.maximize = true),
            &ADAMAX_NAMES,
            P0,
            None,
            &adamax_plain_steps(neg(ADAMAX_G1), neg(ADAMAX_G2)),
        );
    }

    #[test]
    fn pytorch_defaults() {
        // lr 2e-3, betas (0.9, 0.999), eps 1e-8: not dyadic, checked to 1e-6 (relative).
        // t=1: m = 0.1·g1, u = |g1| + 1e-8, p = p0 − (2e-3 / 0.1)·m/u
        // t=2: m = 0.9·m + 0.1·g2, u = max(0.999·u, |g2| + 1e-8), p = p − (2e-3 / 0.19)·m/u
        let p0 = P0.map(f64::from);
        let g1 = CLOSE_G1.map(f64::from);
        let g2 = CLOSE_G2.map(f64::from);
        let m1 = g1.map(|g| 0.1 * g);
        let u1 = g1.map(|g| g.abs() + 1e-8);
        let p1: [f64; 3] = std::array::from_fn(|i| p0[i] - (2e-3 / 0.1) * m1[i] / u1[i]);
        let m2: [f64; 3] = std::array::from_fn(|i| 0.9 * m1[i] + 0.1 * g2[i]);
        let u2: [f64; 3] = std::array::from_fn(|i| (0.999 * u1[i]).max(g2[i].abs() + 1e-8));
        let p2: [f64; 3] = std::array::from_fn(|i| p1[i] - (2e-3 / 0.19) * m2[i] / u2[i]);
        check_close(
            &Adamax::default(),
            &ADAMAX_NAMES,
            P0,
            &[
                Step {
                    grad: CLOSE_G1,
                    params: p1,
                    state: &[m1, u1],
                },
                Step {
                    grad: CLOSE_G2,
                    params: p2,
                    state: &[m2, u2],
                },
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/adamax.txt
// ---------------------------------------------------------------------------------------

impl Golden for Adamax {
    const TORCH: &'static str = "Adamax";

    fn from_hp(hp: &mut Hp) -> Self {
        Adamax {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    let fixture = golden::check::<Adamax>("adamax.txt");
    golden::assert_coverage(&fixture, &[]);
    golden::assert_both_lerp_forms(&fixture);
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = Adamax> {
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

/// `torch.optim.Adamax`.
pub fn reference(o: &Adamax, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
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

#[test]
fn matches_reference() {
    check_optimizer("Adamax", reference_strategy(), reference);
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &Adamax, step: Buffers<'_, '_>) {
    let Buffers {
        t,
        params,
        grads,
        plane,
        ..
    } = step;
    let n = params.len();
    let tf = t as f64;
    let Adamax {
        lr,
        betas: (beta1, beta2),
        eps,
        weight_decay,
        maximize,
    } = *optimizer;
    let clr = lr / (1.0 - beta1.powf(tf));
    for j in 0..n {
        let g = grad(grads[j], params[j], maximize, weight_decay, true);
        let m = lerp(plane[0][j], g, 1.0 - beta1);
        let u = maximum(k(beta2) * plane[1][j], g.abs() + k(eps));
        (plane[0][j], plane[1][j]) = (m, u);
        params[j] += (k(-clr) * m) / u;
    }
}

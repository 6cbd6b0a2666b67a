//! Lion (optax's `lion`; PyTorch has none): what the harnesses need to know of it (random
//! hyper-parameters, kernel variants, refusals, non-finite outcomes), its hand-computed steps, its
//! golden replay and its `f64` reference.

use std::sync::atomic::Ordering;

use fused_optim::Lion;
use proptest::prelude::*;

use crate::common::exact::{Buffers, grad, jnp_sign, k};
use crate::common::golden::{self, Golden, Hp};
use crate::common::reference::{
    Outcome, SIGNS_NEAR_SWITCH, Val, beta, check_optimizer, grad_of, log_uniform, per_element,
    weight_decay,
};
use crate::common::{beta1, maybe};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, BAD_UNIT, Refusal};
use crate::harness::non_finite::{NonFinite, Param, check_sign_of_infinite_gradient};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = Lion> {
    (
        0.0..1.0f64,
        (beta1(), prop_oneof![Just(0.99), 0.0..1.0]),
        maybe(0.0..0.1),
        any::<bool>(),
    )
        .prop_map(|(lr, betas, weight_decay, maximize)| Lion {
            lr,
            betas,
            weight_decay,
            maximize,
        })
}

/// One configuration per kernel: with and without (decoupled) weight decay and maximize.
pub fn variants() -> Vec<Lion> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            all.push(Lion {
                lr: 0.01,
                weight_decay,
                maximize,
                ..Lion::default()
            });
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(Lion, Refusal)> {
    let o = Lion::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((Lion { lr: bad, ..o }, Invalid("lr")));
        all.push((
            Lion {
                weight_decay: bad,
                ..o
            },
            Invalid("weight_decay"),
        ));
    }
    for bad in BAD_UNIT {
        for (betas, name) in [((bad, 0.999), "betas.0"), ((0.9, bad), "betas.1")] {
            all.push((Lion { betas, ..o }, Invalid(name)));
        }
    }
    all
}

/// A NaN gradient makes the parameter and `exp_avg` NaN. Lion uses only the sign of its
/// update, so an infinite gradient moves the parameter by a finite step; `exp_avg` becomes
/// infinite.
pub fn non_finite(opt: &Lion, bad: f32, _t: u64) -> NonFinite {
    let param = if bad.is_nan() {
        Param::Nan
    } else {
        Param::Finite
    };
    NonFinite::poisoned(param, opt)
}

/// An infinite gradient reaches the parameter as its sign only: the step is the step any
/// gradient of that sign gives.
#[test]
fn infinite_gradient_steps_by_its_sign() {
    let lion = Lion {
        lr: 0.25,
        ..Lion::default()
    };
    check_sign_of_infinite_gradient(&lion);
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
    // Lion (optax), lr = 1/8, betas (1/2, 3/4): c = m/2 + g/2, m ← 3/4·m + g/4,
    // p ← p − (sign(c) [+ wd·p])/8. g1 = [2, −1, 0.5], g2 = [−0.5, −3, 0.25]:
    // t=1: c = g1/2 = [1, −0.5, 0.25], sign = [1, −1, 1], m = g1/4 = [0.5, −0.25, 0.125]
    //      p = P0 − sign/8 = [0.875, −1.875, 0.375]
    // t=2: c = [0.25 − 0.25, −0.125 − 1.5, 0.0625 + 0.125] = [0, −1.625, 0.1875]
    //      sign = [0, −1, 1] (a zero c does not move the parameter)
    //      m = [0.375 − 0.125, −0.1875 − 0.75, 0.09375 + 0.0625] = [0.25, −0.9375, 0.15625]
    //      p = [0.875, −1.75, 0.25]
    // ---------------------------------------------------------------------------------------

    const LION_G1: [f32; 3] = [2.0, -1.0, 0.5];
    const LION_G2: [f32; 3] = [-0.5, -3.0, 0.25];
    const LION_M: [[f32; 3]; 2] = [[0.5, -0.25, 0.125], [0.25, -0.9375, 0.15625]];

    fn lion(weight_decay: f64, maximize: bool) -> Lion {
        Lion {
            lr: 0.125,
            betas: (0.5, 0.75),
            weight_decay,
            maximize,
        }
    }

    fn lion_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
        [
            Step {
                grad: g1,
                params: [0.875, -1.875, 0.375],
                state: &[LION_M[0]],
            },
            Step {
                grad: g2,
                params: [0.875, -1.75, 0.25],
                state: &[LION_M[1]],
            },
        ]
    }

    #[test]
    fn plain() {
        check(
            &lion(0.0, false),
            &["exp_avg"],
            P0,
            None,
            &lion_plain_steps(LION_G1, LION_G2),
        );
    }

    #[test]
    fn maximize() {
        check(
            &lion(0.0, true),
            &["exp_avg"],
            P0,
            None,
            &lion_plain_steps(neg(LION_G1), neg(LION_G2)),
        );
    }

    #[test]
    fn weight_decay() {
        // weight_decay 1/2, decoupled (optax's order: u = sign(c) + p/2, p ← p − u/8); c and m
        // as plain.
        // t=1: u = [1 + 0.5, −1 − 1, 1 + 0.25] = [1.5, −2, 1.25], p = [0.8125, −1.75, 0.34375]
        // t=2: u = [0 + 0.40625, −1 − 0.875, 1 + 0.171875] = [0.40625, −1.875, 1.171875]
        //      p = [0.8125 − 0.05078125, −1.75 + 0.234375, 0.34375 − 0.146484375]
        //        = [0.76171875, −1.515625, 0.197265625]
        check(
            &lion(0.5, false),
            &["exp_avg"],
            P0,
            None,
            &[
                Step {
                    grad: LION_G1,
                    params: [0.8125, -1.75, 0.34375],
                    state: &[LION_M[0]],
                },
                Step {
                    grad: LION_G2,
                    params: [0.76171875, -1.515625, 0.197265625],
                    state: &[LION_M[1]],
                },
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/lion.txt
// ---------------------------------------------------------------------------------------

/// Recorded from optax (`optax.lion(learning_rate, b1, b2, weight_decay)`); PyTorch has no
/// Lion.
impl Golden for Lion {
    const TORCH: &'static str = "Lion";

    fn from_hp(hp: &mut Hp) -> Self {
        Lion {
            lr: hp.float("learning_rate"),
            betas: (hp.float("b1"), hp.float("b2")),
            weight_decay: hp.float("weight_decay"),
            maximize: false,
        }
    }
}

#[test]
fn golden() {
    let fixture = golden::check::<Lion>("lion.txt");
    golden::assert_coverage(&fixture, &[]);
    assert!(fixture.library.starts_with("optax"));
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = Lion> {
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

/// optax's `lion` (`scale_by_lion`, `add_decayed_weights`, `scale_by_learning_rate`).
pub fn reference(o: &Lion, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
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

#[test]
fn matches_reference() {
    check_optimizer("Lion", reference_strategy(), reference);
    eprintln!(
        "Lion: sign decisions within the bound of the switch: {}",
        SIGNS_NEAR_SWITCH.load(Ordering::Relaxed)
    );
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &Lion, step: Buffers<'_, '_>) {
    let Buffers {
        params,
        grads,
        plane,
        ..
    } = step;
    let n = params.len();
    let Lion {
        lr,
        betas: (beta1, beta2),
        weight_decay,
        maximize,
    } = *optimizer;
    for j in 0..n {
        let g = grad(grads[j], params[j], maximize, 0.0, false);
        let m = plane[0][j];
        let c = k(beta1) * m + k(1.0 - beta1) * g;
        let mut u = jnp_sign(c);
        if weight_decay != 0.0 {
            u += k(weight_decay) * params[j];
        }
        params[j] += k(-lr) * u;
        plane[0][j] = k(beta2) * m + k(1.0 - beta2) * g;
    }
}

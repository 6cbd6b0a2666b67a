//! Adadelta (`torch.optim.Adadelta`): what the harnesses need to know of it (random
//! hyper-parameters, kernel variants, refusals, non-finite outcomes), its hand-computed steps, its
//! golden replay and its `f64` reference.

use fused_optim::Adadelta;
use proptest::prelude::*;

use crate::common::exact::{Buffers, fma, grad, k};
use crate::common::golden::{self, Golden, Hp};
use crate::common::maybe;
use crate::common::reference::{
    Outcome, Val, beta, check_optimizer, eps, grad_of, log_uniform, per_element, weight_decay,
};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option (`rho` = 1 included).
pub fn strategy() -> impl Strategy<Value = Adadelta> {
    (
        0.0..2.0f64,
        prop_oneof![Just(0.9), Just(1.0), 0.0..1.0],
        prop_oneof![Just(1e-6), 0.0..1e-3],
        maybe(0.0..0.1),
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

/// One configuration per kernel: with and without weight decay and maximize.
pub fn variants() -> Vec<Adadelta> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            all.push(Adadelta {
                weight_decay,
                maximize,
                ..Adadelta::default()
            });
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(Adadelta, Refusal)> {
    let o = Adadelta::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((Adadelta { lr: bad, ..o }, Invalid("lr")));
        all.push((Adadelta { eps: bad, ..o }, Invalid("eps")));
        all.push((
            Adadelta {
                weight_decay: bad,
                ..o
            },
            Invalid("weight_decay"),
        ));
    }
    // rho may be 1 (PyTorch allows it).
    for bad in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1e-3,
        1.0 + 1e-9,
        1.5,
    ] {
        all.push((Adadelta { rho: bad, ..o }, Invalid("rho")));
    }
    all
}

/// A NaN or infinite gradient makes the parameter and the state NaN or infinite (its
/// update is ∞/∞ or 0·∞).
pub fn non_finite(opt: &Adadelta, _bad: f32, _t: u64) -> NonFinite {
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
    // Adadelta, lr = 1/2, rho = 3/4, eps = 1/16, from a checkpointed state (from zeros,
    // √eps / √(v + eps) is not dyadic for any dyadic gradient but 0):
    // square_avg v0 = [0.3125, 9.25, 1.5], acc_delta u0 = [6.1875, 7.5, 6.1875].
    // v ← 3/4·v + ((1/4)·g)·g, δ = (√(u + 1/16) / √(v + 1/16))·g, u ← 3/4·u + ((1/4)·δ)·δ,
    // p ← p − δ/2. g1 = [2.25, −1.5, −4.5], g2 = [−4.5, 1.5, −4.5]:
    // t=1: v = [0.234375 + 1.265625, 6.9375 + 0.5625, 1.125 + 5.0625] = [1.5, 7.5, 6.1875]
    //      √(u + eps) = [2.5, 2.75, 2.5], √(v + eps) = [1.25, 2.75, 2.5]
    //      δ = [2·2.25, 1·(−1.5), 1·(−4.5)] = [4.5, −1.5, −4.5]
    //      u = [4.640625 + 5.0625, 5.625 + 0.5625, 4.640625 + 5.0625]
    //        = [9.703125, 6.1875, 9.703125]
    //      p = [1 − 2.25, −2 + 0.75, 0.5 + 2.25] = [−1.25, −1.25, 2.75]
    // t=2: v = [1.125 + 5.0625, 5.625 + 0.5625, 4.640625 + 5.0625] = [6.1875, 6.1875, 9.703125]
    //      √(u + eps) = [3.125, 2.5, 3.125], √(v + eps) = [2.5, 2.5, 3.125]
    //      δ = [1.25·(−4.5), 1·1.5, 1·(−4.5)] = [−5.625, 1.5, −4.5]
    //      u = [7.27734375 + 7.91015625, 4.640625 + 0.5625, 7.27734375 + 5.0625]
    //        = [15.1875, 5.203125, 12.33984375]
    //      p = [−1.25 + 2.8125, −1.25 − 0.75, 2.75 + 2.25] = [1.5625, −2, 5]
    // ---------------------------------------------------------------------------------------

    const ADADELTA_G1: [f32; 3] = [2.25, -1.5, -4.5];
    const ADADELTA_G2: [f32; 3] = [-4.5, 1.5, -4.5];
    const ADADELTA_STATE0: [[f32; 3]; 2] = [[0.3125, 9.25, 1.5], [6.1875, 7.5, 6.1875]];
    const ADADELTA_NAMES: [&str; 2] = ["square_avg", "acc_delta"];

    fn adadelta(f: impl FnOnce(&mut Adadelta)) -> Adadelta {
        let mut o = Adadelta {
            lr: 0.5,
            rho: 0.75,
            eps: 1.0 / 16.0,
            ..Adadelta::default()
        };
        f(&mut o);
        o
    }

    fn adadelta_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
        [
            Step {
                grad: g1,
                params: [-1.25, -1.25, 2.75],
                state: &[[1.5, 7.5, 6.1875], [9.703125, 6.1875, 9.703125]],
            },
            Step {
                grad: g2,
                params: [1.5625, -2.0, 5.0],
                state: &[[6.1875, 6.1875, 9.703125], [15.1875, 5.203125, 12.33984375]],
            },
        ]
    }

    #[test]
    fn plain() {
        check_from(
            &adadelta(|_| {}),
            &ADADELTA_NAMES,
            P0,
            &ADADELTA_STATE0,
            &adadelta_plain_steps(ADADELTA_G1, ADADELTA_G2),
        );
    }

    #[test]
    fn weight_decay() {
        // weight_decay 1/4 (L2): g + p/4 is the plain case's gradient:
        // t=1: [2, −1, −4.625] + P0/4 = g1;
        // t=2: [−4.1875, 1.8125, −5.1875] + [−1.25, −1.25, 2.75]/4 = g2
        check_from(
            &adadelta(|o| o.weight_decay = 0.25),
            &ADADELTA_NAMES,
            P0,
            &ADADELTA_STATE0,
            &adadelta_plain_steps([2.0, -1.0, -4.625], [-4.1875, 1.8125, -5.1875]),
        );
    }

    #[test]
    fn maximize() {
        check_from(
            &adadelta(|o| o.maximize = true),
            &ADADELTA_NAMES,
            P0,
            &ADADELTA_STATE0,
            &adadelta_plain_steps(neg(ADADELTA_G1), neg(ADADELTA_G2)),
        );
    }

    #[test]
    fn pytorch_defaults() {
        // lr 1, rho 0.9, eps 1e-6, from zeros: not dyadic, checked to 1e-6 (relative).
        // t=1: v = 0.1·g1², δ = √1e-6 / √(v + 1e-6)·g1, u = 0.1·δ², p = p0 − δ
        // t=2: v = 0.9·v + 0.1·g2², δ = √(u + 1e-6) / √(v + 1e-6)·g2, u = 0.9·u + 0.1·δ², p = p − δ
        let p0 = P0.map(f64::from);
        let g1 = CLOSE_G1.map(f64::from);
        let g2 = CLOSE_G2.map(f64::from);
        let v1 = g1.map(|g| 0.1 * g * g);
        let d1: [f64; 3] = std::array::from_fn(|i| 1e-3 / (v1[i] + 1e-6).sqrt() * g1[i]);
        let u1 = d1.map(|d| 0.1 * d * d);
        let p1: [f64; 3] = std::array::from_fn(|i| p0[i] - d1[i]);
        let v2: [f64; 3] = std::array::from_fn(|i| 0.9 * v1[i] + 0.1 * g2[i] * g2[i]);
        let d2: [f64; 3] =
            std::array::from_fn(|i| (u1[i] + 1e-6).sqrt() / (v2[i] + 1e-6).sqrt() * g2[i]);
        let u2: [f64; 3] = std::array::from_fn(|i| 0.9 * u1[i] + 0.1 * d2[i] * d2[i]);
        let p2: [f64; 3] = std::array::from_fn(|i| p1[i] - d2[i]);
        check_close(
            &Adadelta::default(),
            &ADADELTA_NAMES,
            P0,
            &[
                Step {
                    grad: CLOSE_G1,
                    params: p1,
                    state: &[v1, u1],
                },
                Step {
                    grad: CLOSE_G2,
                    params: p2,
                    state: &[v2, u2],
                },
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/adadelta.txt
// ---------------------------------------------------------------------------------------

impl Golden for Adadelta {
    const TORCH: &'static str = "Adadelta";

    fn from_hp(hp: &mut Hp) -> Self {
        Adadelta {
            lr: hp.float("lr"),
            rho: hp.float("rho"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    golden::assert_coverage(&golden::check::<Adadelta>("adadelta.txt"), &[]);
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = Adadelta> {
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

/// `torch.optim.Adadelta`.
pub fn reference(o: &Adadelta, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
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

#[test]
fn matches_reference() {
    check_optimizer("Adadelta", reference_strategy(), reference);
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &Adadelta, step: Buffers<'_, '_>) {
    let Buffers {
        params,
        grads,
        plane,
        sqrt,
        ..
    } = step;
    let n = params.len();
    let Adadelta {
        lr,
        rho,
        eps,
        weight_decay,
        maximize,
    } = *optimizer;
    for j in 0..n {
        let g = grad(grads[j], params[j], maximize, weight_decay, true);
        let v = fma(k(1.0 - rho) * g, g, plane[0][j] * k(rho));
        let delta = (sqrt(plane[1][j] + k(eps)) / sqrt(v + k(eps))) * g;
        plane[0][j] = v;
        plane[1][j] = fma(k(1.0 - rho) * delta, delta, plane[1][j] * k(rho));
        params[j] = fma(delta, k(-lr), params[j]);
    }
}

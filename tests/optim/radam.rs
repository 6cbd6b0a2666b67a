//! RAdam (`torch.optim.RAdam`): what the harnesses need to know of it (random hyper-parameters,
//! kernel variants, refusals, non-finite outcomes), its hand-computed steps, its golden replay and
//! its `f64` reference.

use fused_optim::RAdam;
use proptest::prelude::*;

use crate::common::exact::{Buffers, decoupled, fma, grad, k, lerp};
use crate::common::golden::{self, Golden, Hp};
use crate::common::reference::{
    Outcome, Val, beta, check_optimizer, eps, grad_of, lr, per_element, weight_decay,
};
use crate::common::{beta1, maybe};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, BAD_UNIT, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories: with β2 = 0.999 step 5 is not rectified
/// and steps 6 and later are (with β2 = 0.8, steps 7 and later), so they cross the switch.
pub const FIRST_STEP: u64 = 5;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = RAdam> {
    (
        0.0..1.0f64,
        // 0.999 and 0.8 rectify from steps 6 and 7; most others never within the steps run.
        (beta1(), prop_oneof![Just(0.999), Just(0.8), 0.0..1.0]),
        prop_oneof![Just(1e-8), 0.0..1e-3],
        maybe(0.0..0.1),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, betas, eps, weight_decay, decoupled_weight_decay, maximize)| RAdam {
                lr,
                betas,
                eps,
                weight_decay,
                decoupled_weight_decay,
                maximize,
            },
        )
}

/// One configuration per kernel: rectified from step 6 (β2 = 0.999) or never (β2 = 0.5:
/// ρ∞ = 3), both lerp formulas of the first moment, L2 and decoupled weight decay, maximize.
pub fn variants() -> Vec<RAdam> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for beta1 in [0.9, 0.3] {
                for decoupled_weight_decay in [false, true] {
                    for beta2 in [0.999, 0.5] {
                        all.push(RAdam {
                            lr: 0.01,
                            betas: (beta1, beta2),
                            weight_decay,
                            decoupled_weight_decay,
                            maximize,
                            ..RAdam::default()
                        });
                    }
                }
            }
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(RAdam, Refusal)> {
    let o = RAdam::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((RAdam { lr: bad, ..o }, Invalid("lr")));
        all.push((RAdam { eps: bad, ..o }, Invalid("eps")));
        all.push((
            RAdam {
                weight_decay: bad,
                ..o
            },
            Invalid("weight_decay"),
        ));
    }
    for bad in BAD_UNIT {
        for (betas, name) in [((bad, 0.999), "betas.0"), ((0.9, bad), "betas.1")] {
            all.push((RAdam { betas, ..o }, Invalid(name)));
        }
    }
    all
}

/// A NaN gradient makes the parameter and the moments NaN. An infinite one makes the
/// parameter NaN in a rectified step; in an un-rectified one it follows the first moment:
/// ∓infinity when `1 − β1 < 0.5`, NaN otherwise (PyTorch's other lerp formula gives ∞ − ∞).
pub fn non_finite(opt: &RAdam, bad: f32, t: u64) -> NonFinite {
    let param = if !bad.is_nan() && opt.rho(t).0 <= 5.0 && 1.0 - opt.betas.0 < 0.5 {
        Param::Infinite
    } else {
        Param::Nan
    };
    NonFinite::poisoned(param, opt)
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
    // RAdam, lr = 1/4, betas (β1, 3/4). ρ₁ = 1 and ρ₂ < 3: neither step is rectified, so
    // p ← p − (m / (1 − β1ᵗ))·lr (v is kept but not used).
    // v = 3/4·v + ((1/4)·g)·g.
    //
    // β1 = 3/4 (lerp weight 1/4): 1 − β1ᵗ = 1/4, 7/16; m1 = g1/4, m2 = (3·g1 + 4·g2)/16, so
    // m2/(7/16) = (3·g1 + 4·g2)/7, an integer for g1 = [3, −1, 2], g2 = [−4, 6, −5]:
    // t=1: m = [0.75, −0.25, 0.5], m/(1/4) = g1, p = P0 − g1/4 = [0.25, −1.75, 0]
    //      v = g1²/4 = [2.25, 0.25, 1]
    // t=2: m = [−0.4375, 1.3125, −0.875], m/(7/16) = [−1, 3, −2], p = [0.5, −2.5, 0.5]
    //      v = [1.6875 + 4, 0.1875 + 9, 0.75 + 6.25] = [5.6875, 9.1875, 7]
    // ---------------------------------------------------------------------------------------

    const RADAM_G1: [f32; 3] = [3.0, -1.0, 2.0];
    const RADAM_G2: [f32; 3] = [-4.0, 6.0, -5.0];
    const RADAM_M: [[f32; 3]; 2] = [[0.75, -0.25, 0.5], [-0.4375, 1.3125, -0.875]];
    const RADAM_V: [[f32; 3]; 2] = [[2.25, 0.25, 1.0], [5.6875, 9.1875, 7.0]];
    const RADAM_NAMES: [&str; 2] = ["exp_avg", "exp_avg_sq"];

    fn radam(f: impl FnOnce(&mut RAdam)) -> RAdam {
        let mut o = RAdam {
            lr: 0.25,
            betas: (0.75, 0.75),
            ..RAdam::default()
        };
        f(&mut o);
        o
    }

    fn radam_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
        [
            Step {
                grad: g1,
                params: [0.25, -1.75, 0.0],
                state: &[RADAM_M[0], RADAM_V[0]],
            },
            Step {
                grad: g2,
                params: [0.5, -2.5, 0.5],
                state: &[RADAM_M[1], RADAM_V[1]],
            },
        ]
    }

    #[test]
    fn plain() {
        let opt = radam(|_| {});
        assert!(opt.rho(1).0 <= 5.0 && opt.rho(2).0 <= 5.0);
        check(
            &opt,
            &RADAM_NAMES,
            P0,
            None,
            &radam_plain_steps(RADAM_G1, RADAM_G2),
        );
    }

    #[test]
    fn weight_decay() {
        // weight_decay 1/2 (L2): g + p/2 is the plain case's gradient:
        // t=1: [2.5, 0, 1.75] + P0/2 = g1; t=2: [−4.125, 6.875, −5] + [0.25, −1.75, 0]/2 = g2
        check(
            &radam(|o| o.weight_decay = 0.5),
            &RADAM_NAMES,
            P0,
            None,
            &radam_plain_steps([2.5, 0.0, 1.75], [-4.125, 6.875, -5.0]),
        );
    }

    #[test]
    fn maximize() {
        check(
            &radam(|o| o.maximize = true),
            &RADAM_NAMES,
            P0,
            None,
            &radam_plain_steps(neg(RADAM_G1), neg(RADAM_G2)),
        );
    }

    #[test]
    fn decoupled_weight_decay() {
        // weight_decay 1, decoupled: p ← (1 − 1/4)·p first, then as plain.
        // t=1: p = [0.75, −1.5, 0.375] − g1/4 = [0, −1.25, −0.125]
        // t=2: p = [0, −0.9375, −0.09375] − [−1, 3, −2]/4 = [0.25, −1.6875, 0.40625]
        check(
            &radam(|o| {
                o.weight_decay = 1.0;
                o.decoupled_weight_decay = true;
            }),
            &RADAM_NAMES,
            P0,
            None,
            &[
                Step {
                    grad: RADAM_G1,
                    params: [0.0, -1.25, -0.125],
                    state: &[RADAM_M[0], RADAM_V[0]],
                },
                Step {
                    grad: RADAM_G2,
                    params: [0.25, -1.6875, 0.40625],
                    state: &[RADAM_M[1], RADAM_V[1]],
                },
            ],
        );
    }

    #[test]
    fn lerp_high() {
        // β1 = 1/2 (lerp weight 1/2): 1 − β1ᵗ = 1/2, 3/4; m1 = g1/2, m2 = (g1 + 2·g2)/4, so
        // m2/(3/4) = (g1 + 2·g2)/3, an integer for g2 = [0, 2, 2]:
        // t=1: m = [1.5, −0.5, 1], m/(1/2) = g1, p = [0.25, −1.75, 0], v as plain
        // t=2: m = g2 − (g2 − m)/2 = [0.75, 0.75, 1.5], m/(3/4) = [1, 1, 2], p = [0, −2, −0.5]
        //      v = [1.6875 + 0, 0.1875 + 1, 0.75 + 1] = [1.6875, 1.1875, 1.75]
        check(
            &radam(|o| o.betas.0 = 0.5),
            &RADAM_NAMES,
            P0,
            None,
            &[
                Step {
                    grad: RADAM_G1,
                    params: [0.25, -1.75, 0.0],
                    state: &[[1.5, -0.5, 1.0], RADAM_V[0]],
                },
                Step {
                    grad: [0.0, 2.0, 2.0],
                    params: [0.0, -2.0, -0.5],
                    state: &[[0.75, 0.75, 1.5], [1.6875, 1.1875, 1.75]],
                },
            ],
        );
    }

    #[test]
    fn pytorch_defaults_across_the_rectification_switch() {
        // lr 1e-3, betas (0.9, 0.999), eps 1e-8. Four steps with zero gradients leave p and the
        // state unchanged (m = v = 0: the update is 0), then steps 5 (ρ₅ = 4.996: not rectified)
        // and 6 (ρ₆ = 5.994: rectified) take g1 and g2. Not dyadic: checked to 1e-6 (relative).
        // t=5: m = 0.1·g1, v = 0.001·g1², p = p0 − (m / (1 − 0.9⁵))·1e-3
        // t=6: m = 0.9·m + 0.1·g2, v = 0.999·v + 0.001·g2², bc1 = 1 − 0.9⁶, bc2 = 1 − 0.999⁶
        //      ρ∞ = 1999, ρ₆ = ρ∞ − 12·0.999⁶/bc2, r = √((ρ₆ − 4)(ρ₆ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ₆))
        //      p = p − ((m/bc1)·1e-3)·(√bc2 / (√v + 1e-8))·r
        let opt = RAdam::default();
        assert!(opt.rho(5).0 <= 5.0 && opt.rho(6).0 > 5.0);
        let p0 = P0.map(f64::from);
        let g1 = CLOSE_G1.map(f64::from);
        let g2 = CLOSE_G2.map(f64::from);
        let m5 = g1.map(|g| 0.1 * g);
        let v5 = g1.map(|g| 0.001 * g * g);
        let p5: [f64; 3] = std::array::from_fn(|i| p0[i] - m5[i] / (1.0 - 0.9f64.powi(5)) * 1e-3);
        let m6: [f64; 3] = std::array::from_fn(|i| 0.9 * m5[i] + 0.1 * g2[i]);
        let v6: [f64; 3] = std::array::from_fn(|i| 0.999 * v5[i] + 0.001 * g2[i] * g2[i]);
        let (bc1, bc2) = (1.0 - 0.9f64.powi(6), 1.0 - 0.999f64.powi(6));
        let rho_inf = 1999.0;
        let rho = rho_inf - 12.0 * 0.999f64.powi(6) / bc2;
        let r = ((rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))
            .sqrt();
        let p6: [f64; 3] = std::array::from_fn(|i| {
            p5[i] - (m6[i] / bc1 * 1e-3) * (bc2.sqrt() / (v6[i].sqrt() + 1e-8)) * r
        });
        let (s5, s6) = ([m5, v5], [m6, v6]);
        let mut steps: Vec<Step<'_, f64>> = (0..4)
            .map(|_| Step {
                grad: [0.0; 3],
                params: p0,
                state: &[[0.0; 3], [0.0; 3]],
            })
            .collect();
        steps.push(Step {
            grad: CLOSE_G1,
            params: p5,
            state: &s5,
        });
        steps.push(Step {
            grad: CLOSE_G2,
            params: p6,
            state: &s6,
        });
        check_close(&opt, &RADAM_NAMES, P0, &steps);
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/radam.txt
// ---------------------------------------------------------------------------------------

impl Golden for RAdam {
    const TORCH: &'static str = "RAdam";

    fn from_hp(hp: &mut Hp) -> Self {
        RAdam {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            decoupled_weight_decay: hp.flag("decoupled_weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    let fixture = golden::check::<RAdam>("radam.txt");
    golden::assert_coverage(&fixture, &[]);
    golden::assert_both_lerp_forms(&fixture);
    // Steps on both sides of the rectification switch, and cases that never rectify.
    let (mut rectified, mut plain, mut never) = (0, 0, 0);
    for case in &fixture.cases {
        let mut hp = Hp::new(case);
        let opt = RAdam::from_hp(&mut hp);
        let steps = case.steps.len() as u64;
        let n = (1..=steps).filter(|&t| opt.rho(t).0 > 5.0).count();
        rectified += n;
        plain += steps as usize - n;
        never += usize::from(opt.rho(u64::MAX).1 <= 5.0);
    }
    assert!(rectified > 0 && plain > 0 && never > 0);
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = RAdam> {
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

/// `torch.optim.RAdam`.
pub fn reference(o: &RAdam, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
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

#[test]
fn matches_reference() {
    check_optimizer("RAdam", reference_strategy(), reference);
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &RAdam, step: Buffers<'_, '_>) {
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
    let RAdam {
        lr,
        betas: (beta1, beta2),
        eps,
        weight_decay,
        decoupled_weight_decay,
        maximize,
    } = *optimizer;
    let bias_correction1 = 1.0 - beta1.powf(tf);
    let beta2_t = beta2.powf(tf);
    let bias_correction2 = 1.0 - beta2_t;
    let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    let rho_t = rho_inf - 2.0 * tf * beta2_t / bias_correction2;
    let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
        / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
        .powf(0.5);
    for j in 0..n {
        let p = decoupled(params[j], lr, weight_decay, decoupled_weight_decay);
        let g = grad(grads[j], p, maximize, weight_decay, !decoupled_weight_decay);
        let m = lerp(plane[0][j], g, 1.0 - beta1);
        let v = fma(k(1.0 - beta2) * g, g, plane[1][j] * k(beta2));
        (plane[0][j], plane[1][j]) = (m, v);
        let update = (m / k(bias_correction1)) * k(lr);
        params[j] = if rho_t > 5.0 {
            let adaptive = (1.0 / (sqrt(v) + k(eps))) * k(bias_correction2.powf(0.5));
            p - (update * adaptive) * k(rect)
        } else {
            p - update
        };
    }
}

//! NAdam (`torch.optim.NAdam`): what the harnesses need to know of it (random hyper-parameters,
//! kernel variants, refusals, non-finite outcomes), its hand-computed steps, its golden replay and
//! its `f64` reference.

use fused_optim::NAdam;
use proptest::prelude::*;

use crate::common::exact::{Buffers, decoupled, fma, grad, k, lerp};
use crate::common::golden::{self, Golden, Hp};
use crate::common::reference::{
    Outcome, Val, beta, check_optimizer, eps, grad_of, log_uniform, lr, off_or, per_element,
    weight_decay,
};
use crate::common::{beta1, maybe};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, BAD_UNIT, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = NAdam> {
    (
        0.0..1.0f64,
        (beta1(), prop_oneof![Just(0.999), 0.0..1.0]),
        prop_oneof![Just(1e-8), 0.0..1e-3],
        maybe(0.0..0.1),
        prop_oneof![Just(4e-3), 0.0..2.0],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize)| {
                NAdam {
                    lr,
                    betas,
                    eps,
                    weight_decay,
                    momentum_decay,
                    decoupled_weight_decay,
                    maximize,
                }
            },
        )
}

/// One configuration per kernel: both lerp formulas of the first moment, L2 and decoupled
/// weight decay, and maximize.
pub fn variants() -> Vec<NAdam> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for beta1 in [0.9, 0.3] {
                for decoupled_weight_decay in [false, true] {
                    all.push(NAdam {
                        lr: 0.01,
                        betas: (beta1, 0.999),
                        weight_decay,
                        decoupled_weight_decay,
                        maximize,
                        ..NAdam::default()
                    });
                }
            }
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(NAdam, Refusal)> {
    let o = NAdam::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((NAdam { lr: bad, ..o }, Invalid("lr")));
        all.push((NAdam { eps: bad, ..o }, Invalid("eps")));
        all.push((
            NAdam {
                weight_decay: bad,
                ..o
            },
            Invalid("weight_decay"),
        ));
        all.push((
            NAdam {
                momentum_decay: bad,
                ..o
            },
            Invalid("momentum_decay"),
        ));
    }
    for bad in BAD_UNIT {
        for (betas, name) in [((bad, 0.999), "betas.0"), ((0.9, bad), "betas.1")] {
            all.push((NAdam { betas, ..o }, Invalid(name)));
        }
    }
    all
}

/// A NaN or infinite gradient makes the parameter and the moments NaN or infinite.
pub fn non_finite(opt: &NAdam, _bad: f32, _t: u64) -> NonFinite {
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
    // NAdam with momentum_decay = 0: μₜ = β1·(1 − ½·0.96⁰) = β1/2 =: a for every t, so
    // Πₜ = aᵗ, and the coefficients are c1 = −lr·(1 − a)/(1 − aᵗ), c2 = −lr·a/(1 − aᵗ⁺¹).
    // betas (β1, 3/4), eps = 1/4. 1 − β2ᵗ = 1/4, 7/16; v = 3/4·v + ((1/4)·g)·g.
    // Gradients with |g2| = |g1|: v1 = g1²/4 and v2 = 7/16·g1², so √(v/(1 − β2ᵗ)) = |g1| at both
    // steps, and d = |g1| + 1/4 = [4, 2, 1] with g1 = [3.75, −1.75, 0.75],
    // g2 = [−3.75, −1.75, 0.75].
    // v1 = [3.515625, 0.765625, 0.140625], v2 = [6.15234375, 1.33984375, 0.24609375].
    // p ← p + c1·g/d, then p ← p + c2·m/d.
    //
    // β1 = 3/4 (lerp weight 1/4, the `m + w·(g − m)` form): a = 3/8, Π = 3/8, 9/64.
    // lr = 5335/8192 (5335 = 5·11·97, so that 1 − a² = 55/64 and 1 − a³ = 485/512 divide it):
    // t=1: c1 = −lr = −5335/8192, c2 = −lr·(3/8)/(55/64) = −291/1024
    //      m = g1/4 = [0.9375, −0.4375, 0.1875]
    //      p = P0 + c1·g1/d + c2·m/d
    //        = [0.32285308837890625, −1.3679962158203125, −0.041717529296875]
    // t=2: c1 = −lr·(5/8)/(55/64) = −485/1024, c2 = −lr·(3/8)/(485/512) = −33/128
    //      m = m + (g2 − m)/4 = [−0.234375, −0.765625, 0.328125]
    //      p = [0.7819900512695312, −0.8548736572265625, −0.481536865234375]
    // ---------------------------------------------------------------------------------------

    const NADAM_G1: [f32; 3] = [3.75, -1.75, 0.75];
    const NADAM_G2: [f32; 3] = [-3.75, -1.75, 0.75];
    const NADAM_V: [[f32; 3]; 2] = [
        [3.515625, 0.765625, 0.140625],
        [6.15234375, 1.33984375, 0.24609375],
    ];
    const NADAM_NAMES: [&str; 2] = ["exp_avg", "exp_avg_sq"];

    fn nadam(f: impl FnOnce(&mut NAdam)) -> NAdam {
        let mut o = NAdam {
            lr: 5335.0 / 8192.0,
            betas: (0.75, 0.75),
            eps: 0.25,
            momentum_decay: 0.0,
            ..NAdam::default()
        };
        f(&mut o);
        o
    }

    fn nadam_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
        [
            Step {
                grad: g1,
                params: [0.32285308837890625, -1.3679962158203125, -0.041717529296875],
                state: &[[0.9375, -0.4375, 0.1875], NADAM_V[0]],
            },
            Step {
                grad: g2,
                params: [0.7819900512695312, -0.8548736572265625, -0.481536865234375],
                state: &[[-0.234375, -0.765625, 0.328125], NADAM_V[1]],
            },
        ]
    }

    #[test]
    fn plain() {
        let opt = nadam(|_| {});
        check(
            &opt,
            &NADAM_NAMES,
            P0,
            None,
            &nadam_plain_steps(NADAM_G1, NADAM_G2),
        );
        // PyTorch's state["mu_product"]: 3/8, then 9/64.
        assert_eq!(
            [opt.mu_product(0), opt.mu_product(1), opt.mu_product(2)],
            [1.0, 0.375, 0.140625]
        );
    }

    #[test]
    fn weight_decay() {
        // weight_decay 1/2 (L2): raw gradients chosen so that g + p/2 is the plain case's
        // gradient (p1 as in the plain case):
        // t=1: [3.25, −0.75, 0.5] + P0/2 = g1
        // t=2: [−3.911426544189453, −1.0660018920898438, 0.7708587646484375] + p1/2 = g2
        check(
            &nadam(|o| o.weight_decay = 0.5),
            &NADAM_NAMES,
            P0,
            None,
            &nadam_plain_steps(
                [3.25, -0.75, 0.5],
                [-3.911426544189453, -1.0660018920898438, 0.7708587646484375],
            ),
        );
    }

    #[test]
    fn maximize() {
        check(
            &nadam(|o| o.maximize = true),
            &NADAM_NAMES,
            P0,
            None,
            &nadam_plain_steps(neg(NADAM_G1), neg(NADAM_G2)),
        );
    }

    // β1 = 1/2 (lerp weight 1/2, the `g − (g − m)·(1 − w)` form): a = 1/4, Π = 1/4, 1/16.
    // lr = 945/1024 (945 = 15·63: 1 − a² = 15/16, 1 − a³ = 63/64):
    // t=1: c1 = −945/1024, c2 = −lr·(1/4)/(15/16) = −63/256, m = g1/2 = [1.875, −0.875, 0.375]
    // t=2: c1 = −lr·(3/4)/(15/16) = −189/256, c2 = −lr·(1/4)/(63/64) = −15/64
    //      m = g2 − (g2 − m)/2 = [−0.9375, −1.3125, 0.5625]
    const NADAM_HIGH_M: [[f32; 3]; 2] = [[1.875, -0.875, 0.375], [-0.9375, -1.3125, 0.5625]];

    #[test]
    fn lerp_high() {
        // p1 = P0 + c1·g1/d + c2·m/d = [0.01947021484375, −1.0848388671875, −0.284423828125]
        // p2 = [0.76654052734375, −0.2850341796875, −0.969970703125]
        let opt = nadam(|o| {
            o.lr = 945.0 / 1024.0;
            o.betas.0 = 0.5;
        });
        check(
            &opt,
            &NADAM_NAMES,
            P0,
            None,
            &[
                Step {
                    grad: NADAM_G1,
                    params: [0.01947021484375, -1.0848388671875, -0.284423828125],
                    state: &[NADAM_HIGH_M[0], NADAM_V[0]],
                },
                Step {
                    grad: NADAM_G2,
                    params: [0.76654052734375, -0.2850341796875, -0.969970703125],
                    state: &[NADAM_HIGH_M[1], NADAM_V[1]],
                },
            ],
        );
        assert_eq!([opt.mu_product(1), opt.mu_product(2)], [0.25, 0.0625]);
    }

    #[test]
    fn decoupled_weight_decay() {
        // The lerp-high case with decoupled weight decay 256/945: not dyadic, but
        // 1 − lr·weight_decay = 1 − 1/4 rounds to exactly 3/4. p ← 3/4·p first; the rest as
        // lerp-high.
        // t=1: p = [0.75, −1.5, 0.375] + c1·g1/d + c2·m/d = [−0.23052978515625, −0.5848388671875,
        //      −0.409423828125]
        // t=2: p = 3/4·p + ... = [0.5741729736328125, 0.361175537109375, −0.99261474609375]
        let opt = nadam(|o| {
            o.lr = 945.0 / 1024.0;
            o.betas.0 = 0.5;
            o.weight_decay = 256.0 / 945.0;
            o.decoupled_weight_decay = true;
        });
        check(
            &opt,
            &NADAM_NAMES,
            P0,
            None,
            &[
                Step {
                    grad: NADAM_G1,
                    params: [-0.23052978515625, -0.5848388671875, -0.409423828125],
                    state: &[NADAM_HIGH_M[0], NADAM_V[0]],
                },
                Step {
                    grad: NADAM_G2,
                    params: [0.5741729736328125, 0.361175537109375, -0.99261474609375],
                    state: &[NADAM_HIGH_M[1], NADAM_V[1]],
                },
            ],
        );
    }

    #[test]
    fn pytorch_defaults() {
        // lr 2e-3, betas (0.9, 0.999), eps 1e-8, momentum_decay 4e-3: μₜ = 0.9·(1 − ½·0.96^(t/250))
        // is not dyadic; checked to 1e-6 (relative) against the equations in f64.
        // t=1: m = 0.1·g1, v = 0.001·g1², d = √(v/0.001) + 1e-8 = |g1| + 1e-8
        //      p = p0 − 2e-3·(1 − μ1)/(1 − μ1)·g1/d − 2e-3·μ2/(1 − μ1·μ2)·m/d
        // t=2: m = 0.9·m + 0.1·g2, v = 0.999·v + 0.001·g2², d = √(v/(1 − 0.999²)) + 1e-8
        //      p = p − 2e-3·(1 − μ2)/(1 − μ1·μ2)·g2/d − 2e-3·μ3/(1 − μ1·μ2·μ3)·m/d
        let mu = |t: f64| 0.9 * (1.0 - 0.5 * 0.96f64.powf(t * 4e-3));
        let (mu1, mu2, mu3) = (mu(1.0), mu(2.0), mu(3.0));
        let lr = 2e-3;
        let p0 = P0.map(f64::from);
        let g1 = CLOSE_G1.map(f64::from);
        let g2 = CLOSE_G2.map(f64::from);
        let m1 = g1.map(|g| 0.1 * g);
        let v1 = g1.map(|g| 0.001 * g * g);
        let p1: [f64; 3] = std::array::from_fn(|i| {
            let d = (v1[i] / 0.001).sqrt() + 1e-8;
            p0[i]
                - lr * (1.0 - mu1) / (1.0 - mu1) * g1[i] / d
                - lr * mu2 / (1.0 - mu1 * mu2) * m1[i] / d
        });
        let m2: [f64; 3] = std::array::from_fn(|i| 0.9 * m1[i] + 0.1 * g2[i]);
        let v2: [f64; 3] = std::array::from_fn(|i| 0.999 * v1[i] + 0.001 * g2[i] * g2[i]);
        let p2: [f64; 3] = std::array::from_fn(|i| {
            let d = (v2[i] / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8;
            p1[i]
                - lr * (1.0 - mu2) / (1.0 - mu1 * mu2) * g2[i] / d
                - lr * mu3 / (1.0 - mu1 * mu2 * mu3) * m2[i] / d
        });
        check_close(
            &NAdam::default(),
            &NADAM_NAMES,
            P0,
            &[
                Step {
                    grad: CLOSE_G1,
                    params: p1,
                    state: &[m1, v1],
                },
                Step {
                    grad: CLOSE_G2,
                    params: p2,
                    state: &[m2, v2],
                },
            ],
        );
        assert_eq!(NAdam::default().mu_product(1), mu1 as f32);
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/nadam.txt
// ---------------------------------------------------------------------------------------

impl Golden for NAdam {
    const TORCH: &'static str = "NAdam";

    fn from_hp(hp: &mut Hp) -> Self {
        NAdam {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            momentum_decay: hp.float("momentum_decay"),
            decoupled_weight_decay: hp.flag("decoupled_weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    let fixture = golden::check::<NAdam>("nadam.txt");
    golden::assert_coverage(&fixture, &[]);
    golden::assert_both_lerp_forms(&fixture);
    assert!(fixture.cases.iter().all(|c| c.scalars == ["mu_product"]));
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = NAdam> {
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

/// `torch.optim.NAdam`.
pub fn reference(o: &NAdam, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
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

#[test]
fn matches_reference() {
    check_optimizer("NAdam", reference_strategy(), reference);
}

/// `mu_product` is scalar state the caller carries (issue 12): resumable from a checkpoint or
/// from a value set by hand, schedule-proof, shardable, and O(1) per step at any `t`.
mod scalar_state {
    use fused_optim::{NAdam, Optimizer};

    use crate::common::scalars::*;
    use crate::common::{backends, first_difference};

    /// PyTorch's `mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))`, a Python float.
    fn mu(opt: &NAdam, t: u64) -> f64 {
        opt.betas.0 * (1.0 - 0.5 * 0.96_f64.powf(t as f64 * opt.momentum_decay))
    }

    /// PyTorch's single-tensor NAdam step `t` written out with `f32` operations (no weight
    /// decay, no maximize), from `mu_product` before the step; returns the product after it.
    fn step_by_hand(
        opt: &NAdam,
        t: u64,
        product: f32,
        p: &mut [f32],
        g: &[f32],
        state: &mut [f32],
    ) -> f32 {
        let n = p.len();
        let (m, v) = state[..2 * n].split_at_mut(n);
        // mu_product *= mu: an f32 tensor times the Python float, rounded to f32 first.
        let product = product * mu(opt, t) as f32;
        let mu_next = mu(opt, t + 1);
        // The two addcdiv values, in f64 from mu_product.item(), each rounded once to f32.
        let pi = f64::from(product);
        let grad_coef = (-opt.lr * (1.0 - mu(opt, t)) / (1.0 - pi)) as f32;
        let exp_avg_coef = ((-opt.lr * mu_next) / (1.0 - pi * mu_next)) as f32;
        let bias_correction2 = (1.0 - opt.betas.1.powf(t as f64)) as f32;
        let (w, beta2, one_minus_beta2) = (
            (1.0 - opt.betas.0) as f32,
            opt.betas.1 as f32,
            (1.0 - opt.betas.1) as f32,
        );
        assert!(w < 0.5, "the lerp's first form");
        for i in 0..n {
            m[i] = w.mul_add(g[i] - m[i], m[i]); // exp_avg.lerp_(grad, 1 - beta1)
            v[i] = (one_minus_beta2 * g[i]).mul_add(g[i], v[i] * beta2); // mul_, addcmul_
            let denom = (v[i] / bias_correction2).sqrt() + opt.eps as f32;
            p[i] += (grad_coef * g[i]) / denom; // addcdiv_: not fused
            p[i] += (exp_avg_coef * m[i]) / denom;
        }
        product
    }

    /// Stopping after step 7 of 20, copying parameters and state (the planes and
    /// `mu_product`) into fresh buffers and continuing there: the bits of not stopping.
    #[test]
    fn resumes_from_a_checkpoint() {
        for opt in super::variants() {
            let state = check_resumes_from_a_copy(&opt, 37, 7, 20);
            assert_eq!(
                state[2 * 37].to_bits(),
                opt.mu_product(7).to_bits(),
                "{opt:?}"
            );
        }
    }

    /// A run resumed from the planes after step k and a `mu_product` set by hand: the product
    /// of PyTorch's `f32(μₜ)` factors, rounded at each step, which `NAdam::mu_product(k)`
    /// recomputes; the same bits as not stopping.
    #[test]
    fn resumes_from_mu_product_set_by_hand() {
        for opt in [
            NAdam::default(),
            NAdam {
                momentum_decay: 0.3,
                betas: (0.5, 0.9),
                ..NAdam::default()
            },
        ] {
            for k in [1, 2, 10, 60] {
                let by_hand = (1..=k).fold(1.0_f32, |product, t| product * mu(&opt, t) as f32);
                assert_eq!(
                    opt.mu_product(k).to_bits(),
                    by_hand.to_bits(),
                    "{opt:?}, {k}"
                );
                check_resumes_from_scalars(&opt, 19, k, k + 5, &[by_hand]);
            }
        }
    }

    /// A `momentum_decay` changed between steps (3 steps at PyTorch's 4e-3, then 0.5): the
    /// product keeps the factors of the old one, as PyTorch's running `mu_product` does, and
    /// the step after the change is PyTorch's step from that product, bit for bit.
    #[test]
    fn a_changed_momentum_decay_keeps_the_old_factors() {
        let n = 19;
        let before = NAdam {
            lr: 0.01,
            ..NAdam::default()
        };
        let after = NAdam {
            momentum_decay: 0.5,
            ..before
        };
        let product3 = (1..=3).fold(1.0_f32, |product, t| product * mu(&before, t) as f32);
        let product5 = (4..=5).fold(product3, |product, t| product * mu(&after, t) as f32);
        // Neither constant momentum_decay gives it: the product carries the old factors.
        assert_ne!(product5, after.mu_product(5));
        assert_ne!(product5, before.mu_product(5));
        for backend in backends() {
            let mut run = fresh(&before, n);
            step_through(&before, backend, &mut run, 1..=3);
            assert_eq!(run.1[2 * n].to_bits(), product3.to_bits(), "{backend:?}");
            let mut by_hand = run.clone();
            step_through(&after, backend, &mut run, 4..=5);
            assert_eq!(run.1[2 * n].to_bits(), product5.to_bits(), "{backend:?}");
            let mut product = product3;
            for t in 4..=5 {
                let (p, state) = &mut by_hand;
                product = step_by_hand(&after, t, product, p, &grads(n, t), state);
            }
            assert_eq!(
                first_difference(&run.0, &by_hand.0),
                None,
                "{backend:?}: params"
            );
            assert_eq!(first_difference(&run.1[..2 * n], &by_hand.1[..2 * n]), None);
        }
    }

    /// `step_planes` on pieces of the slices, every piece reading the same `mu_product` (the
    /// whole scalars slice, unchanged by the pieces), then one `advance_scalars`: the bits of
    /// one `step`, after every step.
    #[test]
    fn sharded_steps_read_the_same_scalars() {
        for opt in super::variants() {
            check_sharded_equals_step(&opt, 1000, &[1, 333, 334, 999], 5);
        }
    }

    /// A step costs O(1) beyond its elements at any `t`: NAdam (momentum_decay 1.0, which once
    /// made `mu_product` loop forever, and the default) at t = 2⁶⁴ − 1, 2⁶⁴ − 2 and 2⁵³ + 1 on
    /// one element, every entry point, and `NAdam::mu_product(u64::MAX)`, under a hang guard.
    #[test]
    fn steps_at_any_t_finish() {
        let opts = [
            NAdam {
                momentum_decay: 1.0,
                ..NAdam::default()
            },
            NAdam::default(),
        ];
        finishes_within(10, "NAdam steps at huge t", move || {
            for opt in opts {
                for t in [u64::MAX, u64::MAX - 1, (1 << 53) + 1] {
                    for backend in backends() {
                        let (mut p, mut state) = ([1.0_f32], [0.0_f32; 3]);
                        opt.init_state(&mut state).unwrap();
                        opt.step_with(backend, t, &mut p, &[0.5], &mut state)
                            .unwrap();
                        assert!(p[0] < 1.0 && (0.0..1.0).contains(&state[2]), "{opt:?}, {t}");
                        let (planes, scalars) = state.split_at_mut(2);
                        let (m, v) = planes.split_at_mut(1);
                        let mut slices: [&mut [f32]; 3] = [m, v, &mut scalars[..]];
                        opt.step_planes_with(backend, t, &mut p, &[0.5], &mut slices)
                            .unwrap();
                        opt.advance_scalars(t, scalars).unwrap();
                    }
                }
            }
        });
        for opt in opts {
            let product = finishes_within(10, "NAdam::mu_product(u64::MAX)", move || {
                opt.mu_product(u64::MAX)
            });
            // μ ≤ β1 = 0.9: the product has sunk to 0 or to a subnormal fixed point.
            assert!(
                (0.0..f32::MIN_POSITIVE).contains(&product),
                "{opt:?}: {product}"
            );
        }
    }
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &NAdam, step: Buffers<'_, '_>) {
    let Buffers {
        t,
        params,
        grads,
        plane,
        scalars,
        sqrt,
    } = step;
    let n = params.len();
    let tf = t as f64;
    let NAdam {
        lr,
        betas: (beta1, beta2),
        eps,
        weight_decay,
        momentum_decay,
        decoupled_weight_decay,
        maximize,
    } = *optimizer;
    let mu_of = |t: f64| beta1 * (1.0 - 0.5 * 0.96_f64.powf(t * momentum_decay));
    let (mu, mu_next) = (mu_of(tf), mu_of(tf + 1.0));
    let product = scalars[0] * k(mu);
    scalars[0] = product;
    let bias_correction2 = 1.0 - beta2.powf(tf);
    let c1 = (-lr * (1.0 - mu)) / (1.0 - f64::from(product));
    let c2 = (-lr * mu_next) / (1.0 - f64::from(product) * mu_next);
    for j in 0..n {
        let p = decoupled(params[j], lr, weight_decay, decoupled_weight_decay);
        let g = grad(grads[j], p, maximize, weight_decay, !decoupled_weight_decay);
        let m = lerp(plane[0][j], g, 1.0 - beta1);
        let v = fma(k(1.0 - beta2) * g, g, plane[1][j] * k(beta2));
        (plane[0][j], plane[1][j]) = (m, v);
        let d = sqrt(v / k(bias_correction2)) + k(eps);
        let p = p + (k(c1) * g) / d;
        params[j] = p + (k(c2) * m) / d;
    }
}

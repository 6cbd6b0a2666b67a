//! RMSprop (`torch.optim.RMSprop`): what the harnesses need to know of it (random hyper-parameters,
//! kernel variants, refusals, non-finite outcomes), its hand-computed steps, its golden replay and
//! its `f64` reference.

use std::collections::BTreeSet;

use fused_optim::RmsProp;
use proptest::prelude::*;

use crate::common::exact::{Buffers, fma, grad, k, lerp};
use crate::common::golden::{self, Golden, Hp};
use crate::common::maybe;
use crate::common::reference::{
    Outcome, Val, check_optimizer, eps, grad_of, lr, off_or, per_element, weight_decay,
};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = RmsProp> {
    (
        0.0..1.0f64,
        prop_oneof![Just(0.99), 0.0..1.0],
        prop_oneof![Just(1e-8), 0.0..1e-3],
        maybe(0.0..0.1),
        maybe(0.0..0.99),
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

/// One configuration per kernel: momentum, centered (both of PyTorch's lerp formulas for
/// `grad_avg`), weight decay and maximize.
pub fn variants() -> Vec<RmsProp> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for momentum in [0.0, 0.9] {
                for centered in [false, true] {
                    for alpha in [0.99, 0.3] {
                        all.push(RmsProp {
                            lr: 0.01,
                            alpha,
                            weight_decay,
                            momentum,
                            centered,
                            maximize,
                            ..RmsProp::default()
                        });
                    }
                }
            }
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(RmsProp, Refusal)> {
    let rms = RmsProp::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((RmsProp { lr: bad, ..rms }, Invalid("lr")));
        all.push((RmsProp { alpha: bad, ..rms }, Invalid("alpha")));
        all.push((RmsProp { eps: bad, ..rms }, Invalid("eps")));
        all.push((
            RmsProp {
                weight_decay: bad,
                ..rms
            },
            Invalid("weight_decay"),
        ));
        all.push((
            RmsProp {
                momentum: bad,
                ..rms
            },
            Invalid("momentum"),
        ));
    }
    all
}

/// A NaN or infinite gradient makes the parameter (∞/∞) and the state it updates NaN or
/// infinite.
pub fn non_finite(opt: &RmsProp, _bad: f32, _t: u64) -> NonFinite {
    NonFinite::poisoned(Param::Nan, opt)
}

/// The first steps of every option, computed by hand (see [`crate::common::hand`]).
mod hand_computed {
    use super::*;
    use crate::common::hand::*;

    // ---------------------------------------------------------------------------------------
    // RMSprop, eps = 0, lr = 0.5.
    //
    // Not centered: alpha = 15/16, v = 15/16·v + 1/16·g². From v = 0, √v1 = |g1|/4, and
    // √v2 = √(15·g1² + 16·g2²)/16, a square for (g1, g2) = (−4, 7) (1024), (−3, 2.75) (256)
    // and (2, −0.5) (64).
    //
    // Centered: alpha = 1/2 (the grad_avg lerp weight is 0.5: PyTorch's `end − (end − a)·0.5`
    // form). v1 − a1² = g1²/2 − g1²/4 = g1²/4; with g2 = 0.75·g1, v2 = 17/32·g1², a2 = 5/8·g1,
    // v2 − a2² = 9/64·g1², so both square roots are exact (g1 = 4, −8, 2).
    // ---------------------------------------------------------------------------------------

    const RMS_G1: [f32; 3] = [-4.0, -3.0, 2.0];
    const RMS_G2: [f32; 3] = [7.0, 2.75, -0.5];
    const RMS_V: [[f32; 3]; 2] = [[1.0, 0.5625, 0.25], [4.0, 1.0, 0.25]];

    /// The plain RMSprop case (alpha 15/16), shared by the cases that reduce to it:
    /// t=1: v = g1²/16 = [1, 0.5625, 0.25], √v = [1, 0.75, 0.5], g/√v = [−4, −4, 4]
    ///      p = P0 − 0.5·g/√v = [1 + 2, −2 + 2, 0.5 − 2] = [3, 0, −1.5]
    /// t=2: v = 15/16·v + g2²/16 = [15/16 + 49/16, 135/256 + 121/256, 15/64 + 1/64] = [4, 1, 0.25]
    ///      √v = [2, 1, 0.5], g/√v = [3.5, 2.75, −1]
    ///      p = [3 − 1.75, 0 − 1.375, −1.5 + 0.5] = [1.25, −1.375, −1]
    fn rmsprop_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
        [
            Step {
                grad: g1,
                params: [3.0, 0.0, -1.5],
                state: &[RMS_V[0]],
            },
            Step {
                grad: g2,
                params: [1.25, -1.375, -1.0],
                state: &[RMS_V[1]],
            },
        ]
    }

    #[test]
    fn plain() {
        let opt = RmsProp {
            lr: 0.5,
            alpha: 15.0 / 16.0,
            eps: 0.0,
            ..RmsProp::default()
        };
        check(
            &opt,
            &["square_avg"],
            P0,
            None,
            &rmsprop_plain_steps(RMS_G1, RMS_G2),
        );
    }

    #[test]
    fn weight_decay() {
        // weight_decay 0.25: raw gradients chosen so that g + 0.25·p is the plain case's.
        // t=1: g = [−4.25, −2.5, 1.875],  + 0.25·[1, −2, 0.5]   = [−4, −3, 2]
        // t=2: g = [6.25, 2.75, −0.125],  + 0.25·[3, 0, −1.5]   = [7, 2.75, −0.5]
        let opt = RmsProp {
            lr: 0.5,
            alpha: 15.0 / 16.0,
            eps: 0.0,
            weight_decay: 0.25,
            ..RmsProp::default()
        };
        check(
            &opt,
            &["square_avg"],
            P0,
            None,
            &rmsprop_plain_steps([-4.25, -2.5, 1.875], [6.25, 2.75, -0.125]),
        );
    }

    #[test]
    fn momentum() {
        // momentum 0.5: b ← 0.5·b + g/√v, p ← p − 0.5·b; g/√v as in the plain case.
        // t=1: b = [−4, −4, 4], p = [3, 0, −1.5]
        // t=2: b = [−2 + 3.5, −2 + 2.75, 2 − 1] = [1.5, 0.75, 1]
        //      p = [3 − 0.75, 0 − 0.375, −1.5 − 0.5] = [2.25, −0.375, −2]
        let opt = RmsProp {
            lr: 0.5,
            alpha: 15.0 / 16.0,
            eps: 0.0,
            momentum: 0.5,
            ..RmsProp::default()
        };
        check(
            &opt,
            &["square_avg", "momentum_buffer"],
            P0,
            None,
            &[
                Step {
                    grad: RMS_G1,
                    params: [3.0, 0.0, -1.5],
                    state: &[RMS_V[0], [-4.0, -4.0, 4.0]],
                },
                Step {
                    grad: RMS_G2,
                    params: [2.25, -0.375, -2.0],
                    state: &[RMS_V[1], [1.5, 0.75, 1.0]],
                },
            ],
        );
    }

    #[test]
    fn maximize() {
        // maximize with the plain case's gradients negated is the plain case.
        let opt = RmsProp {
            lr: 0.5,
            alpha: 15.0 / 16.0,
            eps: 0.0,
            maximize: true,
            ..RmsProp::default()
        };
        check(
            &opt,
            &["square_avg"],
            P0,
            None,
            &rmsprop_plain_steps([4.0, 3.0, -2.0], [-7.0, -2.75, 0.5]),
        );
    }

    const RMS_C_G1: [f32; 3] = [4.0, -8.0, 2.0];
    const RMS_C_G2: [f32; 3] = [3.0, -6.0, 1.5];
    /// Centered square_avg: t=1 v = g1²/2; t=2 v = v/2 + g2²/2 = [4 + 4.5, 16 + 18, 1 + 1.125].
    const RMS_C_V: [[f32; 3]; 2] = [[8.0, 32.0, 2.0], [8.5, 34.0, 2.125]];
    /// Centered grad_avg: t=1 a = lerp(0, g1, 0.5) = g1/2; t=2 a = (a + g2)/2 = [2.5, −5, 1.25].
    const RMS_C_A: [[f32; 3]; 2] = [[2.0, -4.0, 1.0], [2.5, -5.0, 1.25]];

    #[test]
    fn centered() {
        // alpha 1/2.
        // t=1: v − a² = [8 − 4, 32 − 16, 2 − 1] = [4, 16, 1], √ = [2, 4, 1]
        //      g/√ = [2, −2, 2], p = P0 − 0.5·[2, −2, 2] = [0, −1, −0.5]
        // t=2: v − a² = [8.5 − 6.25, 34 − 25, 2.125 − 1.5625] = [2.25, 9, 0.5625],
        //      √ = [1.5, 3, 0.75]
        //      g/√ = [2, −2, 2], p = [−1, 0, −1.5]
        let opt = RmsProp {
            lr: 0.5,
            alpha: 0.5,
            eps: 0.0,
            centered: true,
            ..RmsProp::default()
        };
        check(
            &opt,
            &["square_avg", "grad_avg"],
            P0,
            None,
            &[
                Step {
                    grad: RMS_C_G1,
                    params: [0.0, -1.0, -0.5],
                    state: &[RMS_C_V[0], RMS_C_A[0]],
                },
                Step {
                    grad: RMS_C_G2,
                    params: [-1.0, 0.0, -1.5],
                    state: &[RMS_C_V[1], RMS_C_A[1]],
                },
            ],
        );
    }

    #[test]
    fn centered_momentum() {
        // alpha 1/2, momentum 0.5; g/√(v − a²) = [2, −2, 2] at both steps (see above).
        // t=1: b = [2, −2, 2], p = P0 − 0.5·b = [0, −1, −0.5]
        // t=2: b = 0.5·b + [2, −2, 2] = [3, −3, 3], p = [0 − 1.5, −1 + 1.5, −0.5 − 1.5]
        //        = [−1.5, 0.5, −2]
        let opt = RmsProp {
            lr: 0.5,
            alpha: 0.5,
            eps: 0.0,
            centered: true,
            momentum: 0.5,
            ..RmsProp::default()
        };
        check(
            &opt,
            &["square_avg", "momentum_buffer", "grad_avg"],
            P0,
            None,
            &[
                Step {
                    grad: RMS_C_G1,
                    params: [0.0, -1.0, -0.5],
                    state: &[RMS_C_V[0], [2.0, -2.0, 2.0], RMS_C_A[0]],
                },
                Step {
                    grad: RMS_C_G2,
                    params: [-1.5, 0.5, -2.0],
                    state: &[RMS_C_V[1], [3.0, -3.0, 3.0], RMS_C_A[1]],
                },
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/rmsprop.txt
// ---------------------------------------------------------------------------------------

impl Golden for RmsProp {
    const TORCH: &'static str = "RMSprop";

    fn from_hp(hp: &mut Hp) -> Self {
        RmsProp {
            lr: hp.float("lr"),
            alpha: hp.float("alpha"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            momentum: hp.float("momentum"),
            centered: hp.flag("centered"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    let fixture = golden::check::<RmsProp>("rmsprop.txt");
    golden::assert_coverage(&fixture, &[]);
    // Both of PyTorch's lerp formulas for grad_avg: weight 1 − alpha below 0.5 and from 0.5.
    let weights: BTreeSet<bool> = fixture
        .cases
        .iter()
        .filter(|c| c.hp["centered"] == "1")
        .map(|c| 1.0 - c.hp["alpha"].parse::<f64>().unwrap() >= 0.5)
        .collect();
    assert_eq!(
        weights.len(),
        2,
        "centered cases cover one lerp formula only"
    );
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = RmsProp> {
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

/// `torch.optim.RMSprop`.
pub fn reference(o: &RmsProp, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
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

#[test]
fn matches_reference() {
    check_optimizer("RMSprop", reference_strategy(), reference);
}

/// A fused multiply-add exactly where PyTorch 2.15's CPU kernels fuse (docs/conventions.md):
/// the case fails if the kernel rounds the product on its own, on every back-end.
mod fma_where_pytorch_fuses {
    use super::*;
    use crate::common::hand::*;

    /// Centered RMSprop's `square_avg.addcmul(grad_avg, grad_avg, value=−1)` is
    /// `fma(−a, a, v)`, one rounding, under the square root. RMSprop(lr=0.01, centered=True)
    /// with PyTorch's alpha 0.99 and eps 1e-8, from a checkpoint's `square_avg` and
    /// `grad_avg`:
    ///
    /// ```text
    /// v ← fma(f32(1 − α) · g, g, v · f32(α))      (mul_, then addcmul_)
    /// a ← fma(f32(1 − α), g − a, a)               (lerp_, weight 0.01 < 0.5)
    /// p ← p + (f32(−lr) · g) / (√fma(−a, a, v) + f32(eps))   (addcdiv_: not fused)
    /// ```
    ///
    /// Every element's parameter differs when `a · a` is rounded first.
    #[test]
    fn centered_rmsprop_variance() {
        let opt = RmsProp {
            lr: 0.01,
            centered: true,
            ..RmsProp::default()
        };
        let (alpha, one_minus_alpha) = (0.99_f64 as f32, (1.0 - 0.99_f64) as f32);
        let (neg_lr, eps) = (-0.01_f64 as f32, 1e-8_f64 as f32);
        let p0 = [0.66_f32, 1.6, -0.92];
        let (v0, a0) = ([2.68_f32, 2.63, 2.88], [-1.68_f32, 1.44, -1.69]);
        let g = [2.36_f32, 1.04, -2.87];
        let v: [f32; 3] =
            std::array::from_fn(|i| (one_minus_alpha * g[i]).mul_add(g[i], v0[i] * alpha));
        let a: [f32; 3] = std::array::from_fn(|i| one_minus_alpha.mul_add(g[i] - a0[i], a0[i]));
        let step = |fused: bool| -> [f32; 3] {
            std::array::from_fn(|i| {
                let variance = if fused {
                    (-a[i]).mul_add(a[i], v[i])
                } else {
                    v[i] - a[i] * a[i]
                };
                p0[i] + (neg_lr * g[i]) / (variance.sqrt() + eps)
            })
        };
        let (p, p_unfused) = (step(true), step(false));
        for i in 0..3 {
            assert_ne!(p[i], p_unfused[i], "element {i}");
        }
        check_from(
            &opt,
            &["square_avg", "grad_avg"],
            p0,
            &[v0, a0],
            &[Step {
                grad: g,
                params: p,
                state: &[v, a],
            }],
        );
    }
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &RmsProp, step: Buffers<'_, '_>) {
    let Buffers {
        params,
        grads,
        plane,
        sqrt,
        ..
    } = step;
    let n = params.len();
    let RmsProp {
        lr,
        alpha,
        eps,
        weight_decay,
        momentum,
        centered,
        maximize,
    } = *optimizer;
    let buf = usize::from(momentum > 0.0);
    for j in 0..n {
        let g = grad(grads[j], params[j], maximize, weight_decay, true);
        let v = fma(k(1.0 - alpha) * g, g, plane[0][j] * k(alpha));
        plane[0][j] = v;
        let avg = if centered {
            let a = lerp(plane[1 + buf][j], g, 1.0 - alpha);
            plane[1 + buf][j] = a;
            sqrt(fma(-a, a, v))
        } else {
            sqrt(v)
        } + k(eps);
        if momentum > 0.0 {
            let b = plane[1][j] * k(momentum) + g / avg;
            plane[1][j] = b;
            params[j] = fma(b, k(-lr), params[j]);
        } else {
            params[j] += (k(-lr) * g) / avg;
        }
    }
}

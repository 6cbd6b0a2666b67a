//! Adam (`torch.optim.Adam`): what the harnesses need to know of it (random hyper-parameters,
//! kernel variants, refusals, non-finite outcomes), its hand-computed steps, its golden replay and
//! its `f64` reference.

use fused_optim::{Adam, Optimizer};
use proptest::prelude::*;

use crate::common::exact::{Buffers, adam_step};
use crate::common::golden::{self, Golden, Hp};
use crate::common::reference::{
    Outcome, Val, beta, check_optimizer, eps, grad_of, lr, per_element, weight_decay,
};
use crate::common::{backends, maybe};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, BAD_UNIT, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = Adam> {
    (
        0.0..1.0f64,
        (
            prop_oneof![Just(0.9), 0.0..1.0],
            prop_oneof![Just(0.999), 0.0..1.0],
        ),
        prop_oneof![Just(1e-8), 0.0..1e-3],
        maybe(0.0..0.1),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)| Adam {
                lr,
                betas,
                eps,
                weight_decay,
                amsgrad,
                maximize,
                decoupled_weight_decay,
            },
        )
}

/// One configuration per kernel: AMSGrad, both lerp formulas of the first moment, L2 and
/// decoupled weight decay, and maximize.
pub fn variants() -> Vec<Adam> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for amsgrad in [false, true] {
                for beta1 in [0.9, 0.3] {
                    for decoupled_weight_decay in [false, true] {
                        all.push(Adam {
                            lr: 0.01,
                            betas: (beta1, 0.999),
                            weight_decay,
                            amsgrad,
                            maximize,
                            decoupled_weight_decay,
                            ..Adam::default()
                        });
                    }
                }
            }
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(Adam, Refusal)> {
    let adam = Adam::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((Adam { lr: bad, ..adam }, Invalid("lr")));
        all.push((Adam { eps: bad, ..adam }, Invalid("eps")));
        all.push((
            Adam {
                weight_decay: bad,
                ..adam
            },
            Invalid("weight_decay"),
        ));
    }
    for bad in BAD_UNIT {
        all.push((
            Adam {
                betas: (bad, 0.999),
                ..adam
            },
            Invalid("betas.0"),
        ));
        all.push((
            Adam {
                betas: (0.9, bad),
                ..adam
            },
            Invalid("betas.1"),
        ));
    }
    all
}

/// A NaN or infinite gradient makes the parameter (∞/∞) and the moments NaN or infinite.
pub fn non_finite(opt: &Adam, _bad: f32, _t: u64) -> NonFinite {
    NonFinite::poisoned(Param::Nan, opt)
}

/// AMSGrad's running maximum is `torch.maximum(max_exp_avg_sq, exp_avg_sq)`: NaN wins from
/// either side, and on a tie (here -0 against +0) the running maximum keeps its own value.
#[test]
fn amsgrad_maximum_follows_torch_maximum() {
    let adam = Adam {
        amsgrad: true,
        ..Adam::default()
    };
    let n = 40;
    for backend in backends() {
        // exp_avg = 0, exp_avg_sq = 0, max_exp_avg_sq = -0 (element 3: NaN, element 5: 1).
        let mut state = vec![0.0f32; 3 * n];
        state[2 * n..].fill(-0.0);
        state[2 * n + 3] = f32::NAN;
        state[2 * n + 5] = 1.0;
        let mut grads = vec![0.0f32; n];
        grads[7] = f32::NAN; // exp_avg_sq becomes NaN: the maximum is NaN too.
        let mut params = vec![1.0f32; n];
        adam.step_with(backend, 1, &mut params, &grads, &mut state)
            .unwrap();
        let max = &state[2 * n..];
        assert_eq!(
            max[0].to_bits(),
            (-0.0f32).to_bits(),
            "{backend:?}: tie keeps -0"
        );
        assert!(
            max[3].is_nan() && max[7].is_nan(),
            "{backend:?}: NaN from either side"
        );
        assert_eq!(max[5], 1.0, "{backend:?}");
        assert_eq!(params[0], 1.0);
    }
}

/// The first steps of every option, computed by hand (see [`crate::common::hand`]).
pub mod hand_computed {
    use super::*;
    use crate::common::hand::*;

    // ---------------------------------------------------------------------------------------
    // Adam, betas (0.75, 0), lr = 7/16, eps = 0.
    //
    // β2 = 0 makes 1 − β2ᵗ = 1 at every step (the only β2 for which √(1 − β2ᵗ) is exact at
    // t = 1 and t = 2), so v = g² and the denominator is |g|. β1 = 0.75 uses PyTorch's
    // `m + 0.25·(g − m)` lerp form; 1 − β1 = 0.25 and 1 − β1² = 7/16, so lr / (1 − β1ᵗ) is
    // 1.75 at t=1 and exactly 1 at t=2.
    //
    // g1 = [2, −1, 4], g2 = [1, 4, −0.5]:
    // t=1: m = 0.25·g1 = [0.5, −0.25, 1], v = [4, 1, 16]
    //      p = P0 − 1.75·m/|g1| = P0 − 0.4375·sign(g1) = [0.5625, −1.5625, 0.0625]
    // t=2: m = 0.75·m + 0.25·g2 = [0.375 + 0.25, −0.1875 + 1, 0.75 − 0.125]
    //        = [0.625, 0.8125, 0.625]
    //      v = g2² = [1, 16, 0.25], m/√v = [0.625, 0.203125, 1.25]
    //      p = [0.5625 − 0.625, −1.5625 − 0.203125, 0.0625 − 1.25] = [−0.0625, −1.765625, −1.1875]
    // ---------------------------------------------------------------------------------------

    pub const ADAM_G1: [f32; 3] = [2.0, -1.0, 4.0];
    pub const ADAM_G2: [f32; 3] = [1.0, 4.0, -0.5];
    pub const ADAM_M: [[f32; 3]; 2] = [[0.5, -0.25, 1.0], [0.625, 0.8125, 0.625]];
    pub const ADAM_V: [[f32; 3]; 2] = [[4.0, 1.0, 16.0], [1.0, 16.0, 0.25]];

    fn adam(f: impl FnOnce(&mut Adam)) -> Adam {
        let mut opt = Adam {
            lr: 7.0 / 16.0,
            betas: (0.75, 0.0),
            eps: 0.0,
            ..Adam::default()
        };
        f(&mut opt);
        opt
    }

    fn adam_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
        [
            Step {
                grad: g1,
                params: [0.5625, -1.5625, 0.0625],
                state: &[ADAM_M[0], ADAM_V[0]],
            },
            Step {
                grad: g2,
                params: [-0.0625, -1.765625, -1.1875],
                state: &[ADAM_M[1], ADAM_V[1]],
            },
        ]
    }

    #[test]
    fn plain() {
        check(
            &adam(|_| {}),
            &["exp_avg", "exp_avg_sq"],
            P0,
            None,
            &adam_plain_steps(ADAM_G1, ADAM_G2),
        );
    }

    #[test]
    fn l2_weight_decay() {
        // weight_decay 0.5 (L2): raw gradients chosen so that g + 0.5·p is the plain case's.
        // t=1: g = [1.5, 0, 3.75],                 + 0.5·[1, −2, 0.5]            = [2, −1, 4]
        // t=2: g = [0.71875, 4.78125, −0.53125],   + 0.5·[0.5625, −1.5625, 0.0625] = [1, 4, −0.5]
        check(
            &adam(|o| o.weight_decay = 0.5),
            &["exp_avg", "exp_avg_sq"],
            P0,
            None,
            &adam_plain_steps([1.5, 0.0, 3.75], [0.71875, 4.78125, -0.53125]),
        );
    }

    #[test]
    fn maximize() {
        // maximize with the plain case's gradients negated is the plain case.
        check(
            &adam(|o| o.maximize = true),
            &["exp_avg", "exp_avg_sq"],
            P0,
            None,
            &adam_plain_steps([-2.0, 1.0, -4.0], [-1.0, -4.0, 0.5]),
        );
    }

    #[test]
    fn amsgrad_max_differs_from_v() {
        // t=1: v̂ = max(0, v) = [4, 1, 16], p as plain.
        // t=2: v = [1, 16, 0.25] drops below v̂ for the first and third elements:
        //      v̂ = [4, 16, 16], m/√v̂ = [0.625/2, 0.8125/4, 0.625/4] = [0.3125, 0.203125, 0.15625]
        //      p = [0.5625 − 0.3125, −1.765625, 0.0625 − 0.15625] = [0.25, −1.765625, −0.09375]
        check(
            &adam(|o| o.amsgrad = true),
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
            P0,
            None,
            &[
                Step {
                    grad: ADAM_G1,
                    params: [0.5625, -1.5625, 0.0625],
                    state: &[ADAM_M[0], ADAM_V[0], [4.0, 1.0, 16.0]],
                },
                Step {
                    grad: ADAM_G2,
                    params: [0.25, -1.765625, -0.09375],
                    state: &[ADAM_M[1], ADAM_V[1], [4.0, 16.0, 16.0]],
                },
            ],
        );
    }

    #[test]
    #[expect(
        clippy::excessive_precision,
        reason = "exact dyadic values, written out in full rather than as the shortest f32 decimal"
    )]
    fn decoupled_weight_decay() {
        // weight_decay 0.5, decoupled: p ← p·(1 − 7/16·0.5) = p·25/32 before the Adam update
        // (which is the plain case's: −0.4375·sign(g1), then −m/|g2| = −[0.625, 0.203125, 1.25]).
        // t=1: p = [0.78125, −1.5625, 0.390625] − [0.4375, −0.4375, 0.4375]
        //        = [0.34375, −1.125, −0.046875]
        // t=2: p·25/32 = [275/1024, −225/256, −75/2048]
        //        = [0.2685546875, −0.87890625, −0.03662109375]
        //      p = [0.2685546875 − 0.625, −0.87890625 − 0.203125, −0.03662109375 − 1.25]
        //        = [−0.3564453125, −1.08203125, −1.28662109375]
        check(
            &adam(|o| {
                o.weight_decay = 0.5;
                o.decoupled_weight_decay = true;
            }),
            &["exp_avg", "exp_avg_sq"],
            P0,
            None,
            &[
                Step {
                    grad: ADAM_G1,
                    params: [0.34375, -1.125, -0.046875],
                    state: &[ADAM_M[0], ADAM_V[0]],
                },
                Step {
                    grad: ADAM_G2,
                    params: [-0.3564453125, -1.08203125, -1.28662109375],
                    state: &[ADAM_M[1], ADAM_V[1]],
                },
            ],
        );
    }

    #[test]
    fn nonzero_beta2() {
        // betas (0.75, 0.75), otherwise the plain case.
        // t=1 (exact): v = 0.25·g1² = [1, 0.25, 4], √(1 − β2) = 0.5, √v/0.5 = |g1|: p and m as
        //      plain.
        // t=2: v = 0.75·v + 0.25·g2² = [0.75 + 0.25, 0.1875 + 4, 3 + 0.0625] = [1, 4.1875, 3.0625]
        //      (exact), but √(1 − β2²) = √7/4 is not: p is checked to 1e-6 (relative) against
        //      p = p1 − m/(√v·4/√7)
        //        = [0.5625 − 0.625·√7/4, −1.5625 − 0.8125·√7/√67, 0.0625 − 0.625·√7/7].
        let opt = adam(|o| o.betas = (0.75, 0.75));
        let names = ["exp_avg", "exp_avg_sq"];
        let v1 = [1.0, 0.25, 4.0];
        let t1 = Step {
            grad: ADAM_G1,
            params: [0.5625, -1.5625, 0.0625],
            state: &[ADAM_M[0], v1],
        };
        check(&opt, &names, P0, None, &[t1]);

        let s7 = 7f64.sqrt();
        let m = ADAM_M.map(|row| row.map(f64::from));
        let v = [v1.map(f64::from), [1.0, 4.1875, 3.0625]];
        check_close(
            &opt,
            &names,
            P0,
            &[
                Step {
                    grad: ADAM_G1,
                    params: [0.5625, -1.5625, 0.0625],
                    state: &[m[0], v[0]],
                },
                Step {
                    grad: ADAM_G2,
                    params: [
                        0.5625 - 0.625 * s7 / 4.0,
                        -1.5625 - 0.8125 * s7 / 67f64.sqrt(),
                        0.0625 - 0.625 * s7 / 7.0,
                    ],
                    state: &[m[1], v[1]],
                },
            ],
        );
    }

    /// The denominator's bias correction is PyTorch's true division by `f32(√bc2)`, not a
    /// multiplication by `f32(1/√bc2)` (which an earlier version used; it fails here).
    /// β1 = 0, β2 = 0.5, lr = 0.5, eps = 0, so m = g, v = fma(0.5·g, g, 0.5·v) (exact here),
    /// step size lr/bc1 = 0.5, and every value below is one f32 operation on the previous ones.
    ///
    /// t=1: bc2 = 0.5, f32(√0.5) = 0.70710677 (the reciprocal form: f32(1/√0.5) = 1.4142135).
    ///      g = [1, 2, 5]; v = [0.5, 2, 12.5]; √v = [0.70710677, 1.4142135, 3.535534]
    ///      denom = √v/0.70710677 = [1, 2, 5]   (reciprocal form: [0.99999994, 1.9999999, 5])
    ///      p = [1, −2, 0.5] + (−0.5·g)/denom = [0.5, −2.5, 0]   (reciprocal: [0.49999994, ...])
    /// t=2: bc2 = 0.75, f32(√0.75) = 0.8660254.
    ///      g = [2, −1, 4]; v = [2.25, 1.5, 14.25]; √v = [1.5, 1.2247449, 3.7749171]
    ///      denom = [1.7320509, 1.4142137, 4.358899]
    ///      p = [−0.07735026, −2.1464467, −0.45883146]   (reciprocal: [..., ..., −0.4588315])
    #[test]
    fn bias_correction2_is_a_division_as_in_pytorch() {
        check(
            &Adam {
                lr: 0.5,
                betas: (0.0, 0.5),
                eps: 0.0,
                ..Adam::default()
            },
            &["exp_avg", "exp_avg_sq"],
            P0,
            None,
            &[
                Step {
                    grad: [1.0, 2.0, 5.0],
                    params: [0.5, -2.5, 0.0],
                    state: &[[1.0, 2.0, 5.0], [0.5, 2.0, 12.5]],
                },
                Step {
                    grad: [2.0, -1.0, 4.0],
                    params: [-0.07735026, -2.1464467, -0.45883146],
                    state: &[[2.0, -1.0, 4.0], [2.25, 1.5, 14.25]],
                },
            ],
        );
    }

    /// PyTorch's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8) are not dyadic: checked to
    /// 1e-6 (relative) against the equations written out in `f64`, for Adam (`decay = 1`) and
    /// AdamW (`decay = 1 − lr·weight_decay = 1 − 1e-5`).
    ///
    /// t=1: m = 0.1·g1, v = 0.001·g1², m/(1 − 0.9) = g1, √v/√(1 − 0.999) = |g1|:
    ///      p1 = decay·p0 − 1e-3·g1/(|g1| + 1e-8)
    /// t=2: m = 0.09·g1 + 0.1·g2, v = 0.000999·g1² + 0.001·g2²,
    ///      p2 = decay·p1 − (1e-3/0.19)·m/(√(v/0.001999) + 1e-8)
    pub fn defaults_expected(decay: f64) -> [([f64; 3], [[f64; 3]; 2]); 2] {
        let p0 = P0.map(f64::from);
        let g1 = ADAM_G1.map(f64::from);
        let g2 = ADAM_G2.map(f64::from);
        let m1 = g1.map(|g| 0.1 * g);
        let v1 = g1.map(|g| 0.001 * g * g);
        let p1: [f64; 3] =
            std::array::from_fn(|i| decay * p0[i] - 1e-3 * g1[i] / (g1[i].abs() + 1e-8));
        let m2: [f64; 3] = std::array::from_fn(|i| 0.09 * g1[i] + 0.1 * g2[i]);
        let v2: [f64; 3] =
            std::array::from_fn(|i| 0.000999 * g1[i] * g1[i] + 0.001 * g2[i] * g2[i]);
        let p2: [f64; 3] = std::array::from_fn(|i| {
            decay * p1[i] - (1e-3 / 0.19) * m2[i] / ((v2[i] / 0.001999).sqrt() + 1e-8)
        });
        [(p1, [m1, v1]), (p2, [m2, v2])]
    }

    #[test]
    fn pytorch_defaults() {
        let [(p1, s1), (p2, s2)] = defaults_expected(1.0);
        check_close(
            &Adam::default(),
            &["exp_avg", "exp_avg_sq"],
            P0,
            &[
                Step {
                    grad: ADAM_G1,
                    params: p1,
                    state: &s1,
                },
                Step {
                    grad: ADAM_G2,
                    params: p2,
                    state: &s2,
                },
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/adam.txt
// ---------------------------------------------------------------------------------------

impl Golden for Adam {
    const TORCH: &'static str = "Adam";

    fn from_hp(hp: &mut Hp) -> Self {
        Adam {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            amsgrad: hp.flag("amsgrad"),
            maximize: hp.flag("maximize"),
            decoupled_weight_decay: hp.flag("decoupled_weight_decay"),
        }
    }
}

#[test]
fn golden() {
    let fixture = golden::check::<Adam>("adam.txt");
    golden::assert_coverage(&fixture, &[]);
    golden::assert_both_lerp_forms(&fixture);
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = Adam> {
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

/// `torch.optim.Adam` (and `AdamW`, which is Adam with `decoupled_weight_decay`).
pub fn reference(o: &Adam, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
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

#[test]
fn matches_reference() {
    check_optimizer("Adam", reference_strategy(), reference);
}

/// A fused multiply-add exactly where PyTorch 2.15's CPU kernels fuse, and not where they do
/// not (docs/conventions.md): each case fails if the kernel fuses differently, on every
/// back-end. Adam with PyTorch's defaults but `betas.0`, one step (t = 1) from a checkpoint's
/// moments `m0`, `v0`:
///
/// ```text
/// m ← lerp(m0, g, w), w = f32(1 − β1)          (ATen's two-branch fused lerp)
/// v ← fma(f32(1 − β2) · g, g, v0 · f32(β2))    (mul_, then addcmul_)
/// d = √v / f32(√(1 − β2)) + f32(eps)
/// p ← p + (f32(−lr / (1 − β1)) · m) / d       (addcdiv_: not fused)
/// ```
mod fma_where_pytorch_fuses {
    use super::*;
    use crate::common::hand::*;

    /// The checkpoint's second moment (any positive value).
    const V0: [f32; 3] = [1.0, 0.25, 2.0];

    /// How the step is rounded: the lerp fused or not, and the addcdiv as PyTorch (not
    /// fused) or fused in one of two ways.
    #[derive(Clone, Copy, PartialEq)]
    enum Rounding {
        PyTorch,
        LerpUnfused,
        /// `fma(f32(−step), m / d, p)`.
        AddcdivFusedQuotient,
        /// `fma(f32(−step) · m, 1 / d, p)`.
        AddcdivFusedReciprocal,
    }

    /// Adam's step written out with f32 operations: (params, exp_avg, exp_avg_sq).
    fn step(
        beta1: f64,
        p0: [f32; 3],
        m0: [f32; 3],
        g: [f32; 3],
        rounding: Rounding,
    ) -> ([f32; 3], [f32; 3], [f32; 3]) {
        let w = (1.0 - beta1) as f32;
        let (beta2, one_minus_beta2) = (0.999_f64 as f32, (1.0 - 0.999_f64) as f32);
        let bias_correction2_sqrt = (1.0 - 0.999_f64).sqrt() as f32;
        let neg_step_size = (-(1e-3 / (1.0 - beta1))) as f32;
        let eps = 1e-8_f64 as f32;
        let m: [f32; 3] = std::array::from_fn(|i| {
            let (start, end) = (m0[i], g[i]);
            let fused = rounding != Rounding::LerpUnfused;
            match (w < 0.5, fused) {
                (true, true) => w.mul_add(end - start, start),
                (true, false) => start + w * (end - start),
                (false, true) => (-(end - start)).mul_add(1.0 - w, end),
                (false, false) => end - (end - start) * (1.0 - w),
            }
        });
        let v: [f32; 3] =
            std::array::from_fn(|i| (one_minus_beta2 * g[i]).mul_add(g[i], V0[i] * beta2));
        let p = std::array::from_fn(|i| {
            let d = v[i].sqrt() / bias_correction2_sqrt + eps;
            match rounding {
                Rounding::PyTorch | Rounding::LerpUnfused => p0[i] + (neg_step_size * m[i]) / d,
                Rounding::AddcdivFusedQuotient => neg_step_size.mul_add(m[i] / d, p0[i]),
                Rounding::AddcdivFusedReciprocal => (neg_step_size * m[i]).mul_add(1.0 / d, p0[i]),
            }
        });
        (p, m, v)
    }

    fn check_case(beta1: f64, p0: [f32; 3], m0: [f32; 3], g: [f32; 3]) {
        let opt = Adam {
            betas: (beta1, 0.999),
            ..Adam::default()
        };
        let (p, m, v) = step(beta1, p0, m0, g, Rounding::PyTorch);
        check_from(
            &opt,
            &["exp_avg", "exp_avg_sq"],
            p0,
            &[m0, V0],
            &[Step {
                grad: g,
                params: p,
                state: &[m, v],
            }],
        );
    }

    /// `exp_avg.lerp_(grad, 0.1)` (β1 = 0.9): the weight is below 0.5, so ATen computes
    /// `fma(w, g − m, m)`. Every element's `exp_avg` differs when `w · (g − m)` is rounded
    /// first.
    #[test]
    fn lerp_below_one_half() {
        let (p0, m0, g) = (P0, [-0.53_f32, 0.33, -0.92], [1.57_f32, -2.07, 1.69]);
        let (_, m, _) = step(0.9, p0, m0, g, Rounding::PyTorch);
        let (_, m_unfused, _) = step(0.9, p0, m0, g, Rounding::LerpUnfused);
        for i in 0..3 {
            assert_ne!(m[i], m_unfused[i], "element {i}");
        }
        check_case(0.9, p0, m0, g);
    }

    /// `exp_avg.lerp_(grad, 0.7)` (β1 = 0.3): the weight is at least 0.5, so ATen computes
    /// from the end, `fma(−(g − m), 1 − w, g)`. Every element's `exp_avg` differs when the
    /// product is rounded first.
    #[test]
    fn lerp_from_one_half() {
        let (p0, m0, g) = (P0, [1.74_f32, -1.81, -1.26], [-1.95_f32, 0.18, -0.25]);
        let (_, m, _) = step(0.3, p0, m0, g, Rounding::PyTorch);
        let (_, m_unfused, _) = step(0.3, p0, m0, g, Rounding::LerpUnfused);
        for i in 0..3 {
            assert_ne!(m[i], m_unfused[i], "element {i}");
        }
        check_case(0.3, p0, m0, g);
    }

    /// `param.addcdiv_(exp_avg, denom, value=−step_size)` is not fused: `p + (v · m) / d`,
    /// three roundings (the division stops GCC's contraction). Every element's parameter
    /// differs under either fused form, `fma(v, m / d, p)` or `fma(v · m, 1 / d, p)`.
    #[test]
    fn addcdiv_is_not_fused() {
        let p0 = [-0.04_f32, 0.05, -0.83];
        let (m0, g) = ([-1.46_f32, 1.43, -0.64], [-1.81_f32, 2.16, -2.77]);
        let (p, ..) = step(0.9, p0, m0, g, Rounding::PyTorch);
        for fused in [
            Rounding::AddcdivFusedQuotient,
            Rounding::AddcdivFusedReciprocal,
        ] {
            let (p_fused, ..) = step(0.9, p0, m0, g, fused);
            for i in 0..3 {
                assert_ne!(p[i], p_fused[i], "element {i}");
            }
        }
        check_case(0.9, p0, m0, g);
    }
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &Adam, step: Buffers<'_, '_>) {
    let Buffers {
        t,
        params,
        grads,
        plane,
        sqrt,
        ..
    } = step;
    adam_step(*optimizer, t as f64, params, grads, plane, sqrt);
}

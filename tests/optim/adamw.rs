//! AdamW (`torch.optim.AdamW`: Adam with decoupled weight decay): what the harnesses need to know
//! of it (random hyper-parameters, kernel variants, refusals, non-finite outcomes), its
//! hand-computed steps, its golden replay and its `f64` reference.

use fused_optim::{Adam, AdamW};
use proptest::prelude::*;

use crate::common::exact::{Buffers, adam_step};
use crate::common::golden::{self, Golden, Hp};
use crate::common::reference::{Outcome, beta, check_optimizer, eps, log_uniform, lr, off_or};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, BAD_UNIT, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option (Adam's, without the decay mode).
pub fn strategy() -> impl Strategy<Value = AdamW> {
    crate::adam::strategy().prop_map(|a| AdamW {
        lr: a.lr,
        betas: a.betas,
        eps: a.eps,
        weight_decay: a.weight_decay,
        amsgrad: a.amsgrad,
        maximize: a.maximize,
    })
}

/// One configuration per kernel: AMSGrad, both lerp formulas of the first moment, with and
/// without weight decay, and maximize.
pub fn variants() -> Vec<AdamW> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for amsgrad in [false, true] {
                for beta1 in [0.9, 0.3] {
                    all.push(AdamW {
                        lr: 0.01,
                        betas: (beta1, 0.999),
                        weight_decay,
                        amsgrad,
                        maximize,
                        ..AdamW::default()
                    });
                }
            }
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(AdamW, Refusal)> {
    let adamw = AdamW::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((AdamW { lr: bad, ..adamw }, Invalid("lr")));
        all.push((AdamW { eps: bad, ..adamw }, Invalid("eps")));
        all.push((
            AdamW {
                weight_decay: bad,
                ..adamw
            },
            Invalid("weight_decay"),
        ));
    }
    for bad in BAD_UNIT {
        all.push((
            AdamW {
                betas: (bad, 0.999),
                ..adamw
            },
            Invalid("betas.0"),
        ));
        all.push((
            AdamW {
                betas: (0.9, bad),
                ..adamw
            },
            Invalid("betas.1"),
        ));
    }
    all
}

/// As Adam: a NaN or infinite gradient makes the parameter and the moments NaN or infinite.
pub fn non_finite(opt: &AdamW, _bad: f32, _t: u64) -> NonFinite {
    NonFinite::poisoned(Param::Nan, opt)
}

/// The first steps of every option, computed by hand (see [`crate::common::hand`]).
mod hand_computed {
    use super::*;
    use crate::adam::hand_computed::{ADAM_G1, ADAM_G2, ADAM_V, defaults_expected};
    use crate::common::hand::*;

    // ---------------------------------------------------------------------------------------
    // AdamW, betas (0.5, 0), lr = 0.75, weight_decay = 0.25, eps = 0.
    //
    // Decay factor 1 − 0.75·0.25 = 13/16. β1 = 0.5 is PyTorch's `g − (g − m)·0.5` lerp form;
    // 1 − β1ᵗ = 0.5, 0.75, so lr / (1 − β1ᵗ) = 1.5, then 1. v = g² (β2 = 0).
    // g1 = [2, −1, 4], g2 = [1, 4, −0.5]:
    // t=1: p·13/16 = [0.8125, −1.625, 0.40625], m = g1/2 = [1, −0.5, 2], v = [4, 1, 16]
    //      p = [0.8125, −1.625, 0.40625] − 1.5·m/|g1| (= 0.75·sign g1) = [0.0625, −0.875, −0.34375]
    // t=2: p·13/16 = [13/256, −91/128, −143/512] = [0.05078125, −0.7109375, −0.279296875]
    //      m = (m + g2)/2 = [1, 1.75, 0.75], v = [1, 16, 0.25]
    //      m/√v = [1, 0.4375, 1.5]
    //      p = [0.05078125 − 1, −0.7109375 − 0.4375, −0.279296875 − 1.5]
    //        = [−0.94921875, −1.1484375, −1.779296875]
    // ---------------------------------------------------------------------------------------

    const ADAMW_M: [[f32; 3]; 2] = [[1.0, -0.5, 2.0], [1.0, 1.75, 0.75]];

    fn adamw(amsgrad: bool) -> AdamW {
        AdamW {
            lr: 0.75,
            betas: (0.5, 0.0),
            eps: 0.0,
            weight_decay: 0.25,
            amsgrad,
            ..AdamW::default()
        }
    }

    #[test]
    #[expect(
        clippy::excessive_precision,
        reason = "exact dyadic values, written out in full rather than as the shortest f32 decimal"
    )]
    fn decay() {
        check(
            &adamw(false),
            &["exp_avg", "exp_avg_sq"],
            P0,
            None,
            &[
                Step {
                    grad: ADAM_G1,
                    params: [0.0625, -0.875, -0.34375],
                    state: &[ADAMW_M[0], ADAM_V[0]],
                },
                Step {
                    grad: ADAM_G2,
                    params: [-0.94921875, -1.1484375, -1.779296875],
                    state: &[ADAMW_M[1], ADAM_V[1]],
                },
            ],
        );
    }

    #[test]
    #[expect(
        clippy::excessive_precision,
        reason = "exact dyadic values, written out in full rather than as the shortest f32 decimal"
    )]
    fn amsgrad() {
        // t=2: v̂ = max([4, 1, 16], [1, 16, 0.25]) = [4, 16, 16], m/√v̂ = [0.5, 0.4375, 0.1875]
        //      p = [0.05078125 − 0.5, −0.7109375 − 0.4375, −0.279296875 − 0.1875]
        //        = [−0.44921875, −1.1484375, −0.466796875]
        check(
            &adamw(true),
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
            P0,
            None,
            &[
                Step {
                    grad: ADAM_G1,
                    params: [0.0625, -0.875, -0.34375],
                    state: &[ADAMW_M[0], ADAM_V[0], [4.0, 1.0, 16.0]],
                },
                Step {
                    grad: ADAM_G2,
                    params: [-0.44921875, -1.1484375, -0.466796875],
                    state: &[ADAMW_M[1], ADAM_V[1], [4.0, 16.0, 16.0]],
                },
            ],
        );
    }

    #[test]
    fn pytorch_defaults() {
        let [(p1, s1), (p2, s2)] = defaults_expected(1.0 - 1e-5);
        check_close(
            &AdamW::default(),
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
// Golden trajectories: tests/golden/adamw.txt
// ---------------------------------------------------------------------------------------

impl Golden for AdamW {
    const TORCH: &'static str = "AdamW";

    fn from_hp(hp: &mut Hp) -> Self {
        assert!(
            hp.flag("decoupled_weight_decay"),
            "{}: PyTorch's AdamW always decouples",
            hp.case.name
        );
        AdamW {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            amsgrad: hp.flag("amsgrad"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    // PyTorch's AdamW forces decoupled_weight_decay = True.
    golden::assert_coverage(
        &golden::check::<AdamW>("adamw.txt"),
        &["decoupled_weight_decay"],
    );
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = AdamW> {
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

/// `torch.optim.AdamW`: `Adam` with `decoupled_weight_decay=True`.
pub fn reference(o: &AdamW, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    let adam = Adam {
        lr: o.lr,
        betas: o.betas,
        eps: o.eps,
        weight_decay: o.weight_decay,
        amsgrad: o.amsgrad,
        maximize: o.maximize,
        decoupled_weight_decay: true,
    };
    crate::adam::reference(&adam, params, grads)
}

#[test]
fn matches_reference() {
    check_optimizer("AdamW", reference_strategy(), reference);
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &AdamW, step: Buffers<'_, '_>) {
    let Buffers {
        t,
        params,
        grads,
        plane,
        sqrt,
        ..
    } = step;
    adam_step(Adam::from(*optimizer), t as f64, params, grads, plane, sqrt);
}

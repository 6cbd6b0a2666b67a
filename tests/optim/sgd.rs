//! SGD (`torch.optim.SGD`): what the harnesses need to know of it (random hyper-parameters, kernel
//! variants, refusals, non-finite outcomes), its hand-computed steps, its golden replay and its
//! `f64` reference.

use fused_optim::Sgd;
use proptest::prelude::*;

use crate::common::exact::{Buffers, fma, grad, k};
use crate::common::golden::{self, Golden, Hp};
use crate::common::maybe;
use crate::common::reference::{
    Outcome, Val, check_optimizer, grad_of, lr, off_or, per_element, weight_decay,
};
use crate::harness::errors::Refusal::{Incompatible, Invalid};
use crate::harness::errors::{BAD_FINITE, BAD_NON_NEGATIVE, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = Sgd> {
    (
        0.0..1.0f64,
        maybe(0.0..0.99),
        maybe(0.0..1.0),
        maybe(0.0..0.1),
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

/// One configuration per kernel: plain, momentum (its own first step), dampening and
/// Nesterov, each with and without weight decay and maximize.
pub fn variants() -> Vec<Sgd> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for (momentum, dampening, nesterov) in [
                (0.0, 0.0, false),
                (0.9, 0.0, false),
                (0.9, 0.3, false),
                (0.9, 0.0, true),
            ] {
                all.push(Sgd {
                    lr: 0.1,
                    momentum,
                    dampening,
                    weight_decay,
                    nesterov,
                    maximize,
                });
            }
        }
    }
    all
}

/// Hyper-parameters that must be refused, one thing wrong at a time.
pub fn refused() -> Vec<(Sgd, Refusal)> {
    let sgd = Sgd::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((Sgd { lr: bad, ..sgd }, Invalid("lr")));
        all.push((
            Sgd {
                momentum: bad,
                ..sgd
            },
            Invalid("momentum"),
        ));
        all.push((
            Sgd {
                weight_decay: bad,
                ..sgd
            },
            Invalid("weight_decay"),
        ));
    }
    for bad in BAD_FINITE {
        let sgd = Sgd {
            momentum: 0.9,
            ..sgd
        };
        all.push((
            Sgd {
                dampening: bad,
                ..sgd
            },
            Invalid("dampening"),
        ));
    }
    // Options PyTorch refuses together.
    all.push((
        Sgd {
            nesterov: true,
            ..sgd
        },
        Incompatible,
    ));
    all.push((
        Sgd {
            nesterov: true,
            momentum: 0.9,
            dampening: 0.1,
            ..sgd
        },
        Incompatible,
    ));
    all
}

/// A NaN gradient makes the parameter and the momentum buffer NaN; an infinite one sends
/// the parameter to ∓infinity (the sign of the step).
pub fn non_finite(opt: &Sgd, bad: f32, _t: u64) -> NonFinite {
    let param = if bad.is_nan() {
        Param::Nan
    } else {
        Param::Infinite
    };
    NonFinite::poisoned(param, opt)
}

/// The first steps of every option, computed by hand (see [`crate::common::hand`]).
mod hand_computed {
    use super::*;
    use crate::common::hand::*;

    // ---------------------------------------------------------------------------------------
    // SGD. Gradients g1 = [2, −1, 0.25], g2 = [1, 4, −0.5] from P0 = [1, −2, 0.5].
    // ---------------------------------------------------------------------------------------

    const SGD_G1: [f32; 3] = [2.0, -1.0, 0.25];
    const SGD_G2: [f32; 3] = [1.0, 4.0, -0.5];

    #[test]
    fn plain() {
        // p ← p − 0.5·g.
        // t=1: [1 − 1, −2 + 0.5, 0.5 − 0.125]          = [0, −1.5, 0.375]
        // t=2: [0 − 0.5, −1.5 − 2, 0.375 + 0.25]        = [−0.5, −3.5, 0.625]
        let opt = Sgd {
            lr: 0.5,
            ..Sgd::default()
        };
        check(
            &opt,
            &[],
            P0,
            None,
            &[
                Step {
                    grad: SGD_G1,
                    params: [0.0, -1.5, 0.375],
                    state: &[],
                },
                Step {
                    grad: SGD_G2,
                    params: [-0.5, -3.5, 0.625],
                    state: &[],
                },
            ],
        );
    }

    #[test]
    fn weight_decay() {
        // g' = g + 0.5·p, p ← p − 0.25·g'.
        // t=1: g' = [2 + 0.5, −1 − 1, 0.25 + 0.25] = [2.5, −2, 0.5]
        //      p  = [1 − 0.625, −2 + 0.5, 0.5 − 0.125] = [0.375, −1.5, 0.375]
        // t=2: g' = [1 + 0.1875, 4 − 0.75, −0.5 + 0.1875] = [1.1875, 3.25, −0.3125]
        //      p  = [0.375 − 0.296875, −1.5 − 0.8125, 0.375 + 0.078125]
        //         = [0.078125, −2.3125, 0.453125]
        let opt = Sgd {
            lr: 0.25,
            weight_decay: 0.5,
            ..Sgd::default()
        };
        check(
            &opt,
            &[],
            P0,
            None,
            &[
                Step {
                    grad: SGD_G1,
                    params: [0.375, -1.5, 0.375],
                    state: &[],
                },
                Step {
                    grad: SGD_G2,
                    params: [0.078125, -2.3125, 0.453125],
                    state: &[],
                },
            ],
        );
    }

    #[test]
    fn momentum_overwrites_buffer_at_step_one() {
        // momentum 0.5, lr 0.5. The buffer is filled with NaN before step 1: PyTorch creates it
        // from g at the first step, so its old content must not leak in.
        // t=1: b = g1 = [2, −1, 0.25];  p = P0 − 0.5·b = [0, −1.5, 0.375]
        // t=2: b = 0.5·b + g2 = [1 + 1, −0.5 + 4, 0.125 − 0.5] = [2, 3.5, −0.375]
        //      p = [0 − 1, −1.5 − 1.75, 0.375 + 0.1875] = [−1, −3.25, 0.5625]
        let opt = Sgd {
            lr: 0.5,
            momentum: 0.5,
            ..Sgd::default()
        };
        check(
            &opt,
            &["momentum_buffer"],
            P0,
            Some(f32::NAN),
            &[
                Step {
                    grad: SGD_G1,
                    params: [0.0, -1.5, 0.375],
                    state: &[[2.0, -1.0, 0.25]],
                },
                Step {
                    grad: SGD_G2,
                    params: [-1.0, -3.25, 0.5625],
                    state: &[[2.0, 3.5, -0.375]],
                },
            ],
        );
    }

    #[test]
    fn momentum_dampening_ignored_at_step_one() {
        // momentum 0.5, dampening 0.5, lr 0.5.
        // t=1: b = g1 (no dampening on the first step, as PyTorch) = [2, −1, 0.25]
        //      (with dampening it would be [1, −0.5, 0.125]);  p = [0, −1.5, 0.375]
        // t=2: b = 0.5·b + (1 − 0.5)·g2 = [1 + 0.5, −0.5 + 2, 0.125 − 0.25] = [1.5, 1.5, −0.125]
        //      p = [0 − 0.75, −1.5 − 0.75, 0.375 + 0.0625] = [−0.75, −2.25, 0.4375]
        let opt = Sgd {
            lr: 0.5,
            momentum: 0.5,
            dampening: 0.5,
            ..Sgd::default()
        };
        check(
            &opt,
            &["momentum_buffer"],
            P0,
            None,
            &[
                Step {
                    grad: SGD_G1,
                    params: [0.0, -1.5, 0.375],
                    state: &[[2.0, -1.0, 0.25]],
                },
                Step {
                    grad: SGD_G2,
                    params: [-0.75, -2.25, 0.4375],
                    state: &[[1.5, 1.5, -0.125]],
                },
            ],
        );
    }

    #[test]
    fn nesterov() {
        // momentum 0.5, nesterov, lr 0.5: step with g + 0.5·b.
        // t=1: b = g1 = [2, −1, 0.25];  g' = g1 + 0.5·b = [3, −1.5, 0.375]
        //      p = [1 − 1.5, −2 + 0.75, 0.5 − 0.1875] = [−0.5, −1.25, 0.3125]
        // t=2: b = 0.5·b + g2 = [2, 3.5, −0.375];  g' = g2 + 0.5·b = [2, 5.75, −0.6875]
        //      p = [−0.5 − 1, −1.25 − 2.875, 0.3125 + 0.34375] = [−1.5, −4.125, 0.65625]
        let opt = Sgd {
            lr: 0.5,
            momentum: 0.5,
            nesterov: true,
            ..Sgd::default()
        };
        check(
            &opt,
            &["momentum_buffer"],
            P0,
            None,
            &[
                Step {
                    grad: SGD_G1,
                    params: [-0.5, -1.25, 0.3125],
                    state: &[[2.0, -1.0, 0.25]],
                },
                Step {
                    grad: SGD_G2,
                    params: [-1.5, -4.125, 0.65625],
                    state: &[[2.0, 3.5, -0.375]],
                },
            ],
        );
    }

    #[test]
    fn maximize() {
        // p ← p + 0.5·g.
        // t=1: [1 + 1, −2 − 0.5, 0.5 + 0.125]   = [2, −2.5, 0.625]
        // t=2: [2 + 0.5, −2.5 + 2, 0.625 − 0.25] = [2.5, −0.5, 0.375]
        let opt = Sgd {
            lr: 0.5,
            maximize: true,
            ..Sgd::default()
        };
        check(
            &opt,
            &[],
            P0,
            None,
            &[
                Step {
                    grad: SGD_G1,
                    params: [2.0, -2.5, 0.625],
                    state: &[],
                },
                Step {
                    grad: SGD_G2,
                    params: [2.5, -0.5, 0.375],
                    state: &[],
                },
            ],
        );
    }

    #[test]
    fn maximize_momentum_weight_decay() {
        // maximize, weight_decay 0.5, momentum 0.5, lr 0.25: g' = −g + 0.5·p (the sign flips
        // before the decay is added), b as in the momentum case, p ← p − 0.25·b.
        // t=1: g' = [−2 + 0.5, 1 − 1, −0.25 + 0.25] = [−1.5, 0, 0] = b
        //      p  = [1 + 0.375, −2, 0.5] = [1.375, −2, 0.5]
        // t=2: g' = [−1 + 0.6875, −4 − 1, 0.5 + 0.25] = [−0.3125, −5, 0.75]
        //      b  = [−0.75 − 0.3125, 0 − 5, 0 + 0.75] = [−1.0625, −5, 0.75]
        //      p  = [1.375 + 0.265625, −2 + 1.25, 0.5 − 0.1875] = [1.640625, −0.75, 0.3125]
        let opt = Sgd {
            lr: 0.25,
            momentum: 0.5,
            weight_decay: 0.5,
            maximize: true,
            ..Sgd::default()
        };
        check(
            &opt,
            &["momentum_buffer"],
            P0,
            None,
            &[
                Step {
                    grad: SGD_G1,
                    params: [1.375, -2.0, 0.5],
                    state: &[[-1.5, 0.0, 0.0]],
                },
                Step {
                    grad: SGD_G2,
                    params: [1.640625, -0.75, 0.3125],
                    state: &[[-1.0625, -5.0, 0.75]],
                },
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/sgd.txt
// ---------------------------------------------------------------------------------------

impl Golden for Sgd {
    const TORCH: &'static str = "SGD";

    fn from_hp(hp: &mut Hp) -> Self {
        Sgd {
            lr: hp.float("lr"),
            momentum: hp.float("momentum"),
            dampening: hp.float("dampening"),
            weight_decay: hp.float("weight_decay"),
            nesterov: hp.flag("nesterov"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    golden::assert_coverage(&golden::check::<Sgd>("sgd.txt"), &[]);
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = Sgd> {
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

/// `torch.optim.SGD`.
pub fn reference(o: &Sgd, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
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

#[test]
fn matches_reference() {
    check_optimizer("SGD", reference_strategy(), reference);
}

/// A fused multiply-add exactly where PyTorch 2.15's CPU kernels fuse (docs/conventions.md):
/// each case fails if the kernel rounds the product on its own, on every back-end.
mod fma_where_pytorch_fuses {
    use super::*;
    use crate::common::hand::*;

    /// Issue 12's case, `SGD(lr=0.01, weight_decay=1e-4, maximize=True)`, one step. PyTorch:
    ///
    /// ```text
    /// g ← −g
    /// g ← g.add(p, alpha=weight_decay) = fma(p, f32(1e-4), g)
    /// p ← p.add(g, alpha=−lr)          = fma(g, f32(−0.01), p)
    /// ```
    ///
    /// p0 = −14.466755867004395, g = 1433.5267333984375 gives PyTorch's −0.13147421181201935
    /// (rounding each product: −0.13147449493408203, the crate's value before issue 12; this
    /// element needs the second FMA). p0 = ∓120.43, g = ±125.72 need both FMAs.
    #[test]
    fn sgd_weight_decay_and_step() {
        let opt = Sgd {
            lr: 0.01,
            weight_decay: 1e-4,
            maximize: true,
            ..Sgd::default()
        };
        let (wd, neg_lr) = (1e-4_f64 as f32, -0.01_f64 as f32);
        let p0 = [-14.466755867004395_f64 as f32, -120.43, 120.43];
        let g = [1433.5267333984375_f64 as f32, 125.72, -125.72];
        let fused: [f32; 3] = std::array::from_fn(|i| {
            let g = p0[i].mul_add(wd, -g[i]);
            g.mul_add(neg_lr, p0[i])
        });
        assert_eq!(fused[0], -0.13147421181201935_f64 as f32, "PyTorch's value");
        for (wd_fused, step_fused) in [(false, true), (true, false), (false, false)] {
            let other: [f32; 3] = std::array::from_fn(|i| {
                let g = if wd_fused {
                    p0[i].mul_add(wd, -g[i])
                } else {
                    p0[i] * wd - g[i]
                };
                if step_fused {
                    g.mul_add(neg_lr, p0[i])
                } else {
                    g * neg_lr + p0[i]
                }
            });
            assert_ne!(other[1], fused[1], "the case needs both FMAs");
            if !step_fused {
                assert_eq!(other[0], -0.13147449493408203_f64 as f32);
            }
        }
        check_from(
            &opt,
            &[],
            p0,
            &[],
            &[Step {
                grad: g,
                params: fused,
                state: &[],
            }],
        );
    }
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &Sgd, step: Buffers<'_, '_>) {
    let Buffers {
        t,
        params,
        grads,
        plane,
        ..
    } = step;
    let n = params.len();
    let Sgd {
        lr,
        momentum,
        dampening,
        weight_decay,
        nesterov,
        maximize,
    } = *optimizer;
    for j in 0..n {
        let mut g = grad(grads[j], params[j], maximize, weight_decay, true);
        if momentum != 0.0 {
            let b = if t == 1 {
                g
            } else {
                fma(g, k(1.0 - dampening), k(momentum) * plane[0][j])
            };
            plane[0][j] = b;
            g = if nesterov { fma(b, k(momentum), g) } else { b };
        }
        params[j] = fma(g, k(-lr), params[j]);
    }
}

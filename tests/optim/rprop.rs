//! Rprop (`torch.optim.Rprop`): what the harnesses need to know of it (random hyper-parameters,
//! kernel variants, refusals, non-finite outcomes), its hand-computed steps, its golden replay and
//! its `f64` reference.

use fused_optim::{Optimizer, Rprop};
use proptest::prelude::*;

use crate::common::exact::{Buffers, grad, k, maximum, minimum, torch_sign};
use crate::common::golden::{self, Golden, Hp};
use crate::common::reference::{
    Outcome, Val, check_optimizer, log_uniform, lr, off_or, per_element,
};
use crate::harness::errors::Refusal::{Incompatible, Invalid};
use crate::harness::errors::{BAD_NON_NEGATIVE, Refusal};
use crate::harness::non_finite::{NonFinite, Param, Plane, check_sign_of_infinite_gradient};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = Rprop> {
    (
        0.0..1.0f64,
        prop_oneof![Just((0.5, 1.2)), (0.01..0.99f64, 1.01..3.0f64)],
        prop_oneof![Just((1e-6, 50.0)), (0.0..1e-2f64, 1e-2..100.0f64)],
        any::<bool>(),
    )
        .prop_map(|(lr, etas, step_sizes, maximize)| Rprop {
            lr,
            etas,
            step_sizes,
            maximize,
        })
}

/// One configuration per kernel: with and without maximize (Rprop has no weight decay).
pub fn variants() -> Vec<Rprop> {
    [false, true]
        .map(|maximize| Rprop {
            lr: 0.01,
            maximize,
            ..Rprop::default()
        })
        .to_vec()
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(Rprop, Refusal)> {
    let o = Rprop::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((Rprop { lr: bad, ..o }, Invalid("lr")));
        all.push((
            Rprop {
                step_sizes: (bad, 50.0),
                ..o
            },
            Invalid("step_sizes.0"),
        ));
        all.push((
            Rprop {
                step_sizes: (1e-6, bad),
                ..o
            },
            Invalid("step_sizes.1"),
        ));
    }
    // The etas must straddle 1.
    for bad in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.5,
        0.0,
        1.0,
        1.5,
    ] {
        all.push((
            Rprop {
                etas: (bad, 1.2),
                ..o
            },
            Invalid("etas.0"),
        ));
    }
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5, 1.0] {
        all.push((
            Rprop {
                etas: (0.5, bad),
                ..o
            },
            Invalid("etas.1"),
        ));
    }
    // The minimum step size above the maximum (PyTorch would clamp every step size to the
    // maximum).
    all.push((
        Rprop {
            step_sizes: (1.0, 0.5),
            ..o
        },
        Incompatible,
    ));
    all
}

/// Rprop uses the gradient's sign only. A NaN gradient leaves the parameter and the step
/// size unchanged (`torch.sign(NaN) = 0`) and only `prev` becomes NaN; an infinite one moves
/// the parameter by a finite step, the step size stays finite and `prev` holds the infinity
/// (or 0, when the sign flipped and the step was skipped).
pub fn non_finite(_opt: &Rprop, bad: f32, _t: u64) -> NonFinite {
    if bad.is_nan() {
        NonFinite {
            param: Param::Unchanged,
            planes: vec![Plane::NonFinite, Plane::Finite],
        }
    } else {
        NonFinite {
            param: Param::Finite,
            planes: vec![Plane::InfiniteOrZero, Plane::Finite],
        }
    }
}

/// An infinite gradient reaches the parameter as its sign only: the step is the step any
/// gradient of that sign gives.
#[test]
fn infinite_gradient_steps_by_its_sign() {
    let rprop = Rprop {
        lr: 0.25,
        ..Rprop::default()
    };
    check_sign_of_infinite_gradient(&rprop);
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
    // Rprop, lr = 1/2 (the initial step size), etas (1/2, 3/2), step_sizes (1/16, 4); three steps.
    // g1 = [2, −1, 0.5], g2 = [3, 4, 0], g3 = [1, 1, −1]:
    // t=1: prev = 0: f = 1 everywhere, s = 1/2, p = P0 − sign(g1)/2 = [0.5, −1.5, 0], prev = g1
    // t=2: g·prev = [6, −4, 0]: f = [3/2, 1/2, 1], s = [0.75, 0.25, 0.5]
    //      element 1 flipped sign: its gradient is zeroed (no move, prev = 0); element 2's is 0
    //      p = [0.5 − 0.75, −1.5, 0] = [−0.25, −1.5, 0], prev = [3, 0, 0]
    // t=3: g·prev = [3, 0, 0]: f = [3/2, 1, 1], s = [1.125, 0.25, 0.5]
    //      p = [−0.25 − 1.125, −1.5 − 0.25, 0 + 0.5] = [−1.375, −1.75, 0.5], prev = g3
    // ---------------------------------------------------------------------------------------

    const RPROP_G: [[f32; 3]; 3] = [[2.0, -1.0, 0.5], [3.0, 4.0, 0.0], [1.0, 1.0, -1.0]];
    const RPROP_NAMES: [&str; 2] = ["prev", "step_size"];

    fn rprop(maximize: bool) -> Rprop {
        Rprop {
            lr: 0.5,
            etas: (0.5, 1.5),
            step_sizes: (1.0 / 16.0, 4.0),
            maximize,
        }
    }

    #[test]
    fn init_state_fills_the_step_size_with_lr() {
        let opt = rprop(false);
        let mut state = vec![f32::NAN; opt.state_len(N)];
        opt.init_state(&mut state).unwrap();
        assert_bits("prev", &state[..N], &[0.0; N]);
        assert_bits("step_size", &state[N..], &[0.5; N]);
    }

    #[test]
    fn plain() {
        check(
            &rprop(false),
            &RPROP_NAMES,
            P0,
            None,
            &[
                Step {
                    grad: RPROP_G[0],
                    params: [0.5, -1.5, 0.0],
                    state: &[RPROP_G[0], [0.5; 3]],
                },
                Step {
                    grad: RPROP_G[1],
                    params: [-0.25, -1.5, 0.0],
                    state: &[[3.0, 0.0, 0.0], [0.75, 0.25, 0.5]],
                },
                Step {
                    grad: RPROP_G[2],
                    params: [-1.375, -1.75, 0.5],
                    state: &[RPROP_G[2], [1.125, 0.25, 0.5]],
                },
            ],
        );
    }

    #[test]
    fn maximize() {
        // The plain case with negated gradients; `prev` holds the negated gradient, so the zero
        // gradient of element 2 at t=2 is stored as −0 (PyTorch's `-grad`; its sign is 0 all
        // the same).
        check(
            &rprop(true),
            &RPROP_NAMES,
            P0,
            None,
            &[
                Step {
                    grad: neg(RPROP_G[0]),
                    params: [0.5, -1.5, 0.0],
                    state: &[RPROP_G[0], [0.5; 3]],
                },
                Step {
                    // +0, not −0: negated, it is the −0 `prev` keeps.
                    grad: [-3.0, -4.0, 0.0],
                    params: [-0.25, -1.5, 0.0],
                    state: &[[3.0, 0.0, -0.0], [0.75, 0.25, 0.5]],
                },
                Step {
                    grad: neg(RPROP_G[2]),
                    params: [-1.375, -1.75, 0.5],
                    state: &[RPROP_G[2], [1.125, 0.25, 0.5]],
                },
            ],
        );
    }

    #[test]
    fn step_size_bounds() {
        // lr = 3/4, etas (1/4, 2), step_sizes (1/4, 1): growth and shrinkage hit the bounds.
        // g1 = [2, −1, 0.5], g2 = [3, 4, 0.5], g3 = [1, 1, −1]:
        // t=1: s = 3/4, p = P0 − sign(g1)·3/4 = [0.25, −1.25, −0.25], prev = g1
        // t=2: f = [2, 1/4, 2]: s = [clamp(1.5), clamp(0.1875), clamp(1.5)] = [1, 0.25, 1]
        //      p = [0.25 − 1, −1.25 (skipped), −0.25 − 1] = [−0.75, −1.25, −1.25],
        //      prev = [3, 0, 0.5]
        // t=3: f = [2, 1, 1/4]: s = [1, 0.25, 0.25]
        //      p = [−0.75 − 1, −1.25 − 0.25, −1.25 (skipped)] = [−1.75, −1.5, −1.25],
        //      prev = [1, 1, 0]
        let opt = Rprop {
            lr: 0.75,
            etas: (0.25, 2.0),
            step_sizes: (0.25, 1.0),
            maximize: false,
        };
        check(
            &opt,
            &RPROP_NAMES,
            P0,
            None,
            &[
                Step {
                    grad: [2.0, -1.0, 0.5],
                    params: [0.25, -1.25, -0.25],
                    state: &[[2.0, -1.0, 0.5], [0.75; 3]],
                },
                Step {
                    grad: [3.0, 4.0, 0.5],
                    params: [-0.75, -1.25, -1.25],
                    state: &[[3.0, 0.0, 0.5], [1.0, 0.25, 1.0]],
                },
                Step {
                    grad: [1.0, 1.0, -1.0],
                    params: [-1.75, -1.5, -1.25],
                    state: &[[1.0, 1.0, 0.0], [1.0, 0.25, 0.25]],
                },
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/rprop.txt
// ---------------------------------------------------------------------------------------

impl Golden for Rprop {
    const TORCH: &'static str = "Rprop";

    fn from_hp(hp: &mut Hp) -> Self {
        Rprop {
            lr: hp.float("lr"),
            etas: hp.pair("etas"),
            step_sizes: hp.pair("step_sizes"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    golden::assert_coverage(&golden::check::<Rprop>("rprop.txt"), &[]);
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = Rprop> {
    (
        lr(),
        0.05..0.95f64,
        1.01..3.0f64,
        off_or(log_uniform(-8.0, -2.0)),
        log_uniform(-3.0, 2.0),
        any::<bool>(),
    )
        .prop_map(|(lr, etaminus, etaplus, min, max, maximize)| Rprop {
            lr,
            etas: (etaminus, etaplus),
            step_sizes: (min.min(max), max),
            maximize,
        })
}

/// `torch.optim.Rprop`. Its sign decisions are exact: `grad · prev` is a product of two
/// `f32` inputs (the gradient, and the previous one or 0), rounded to `f32` as PyTorch
/// rounds it, so the reference takes its sign from that `f32` product, the crate's own
/// value. Only the step size carries rounding errors (`s · f`, and the roundings of `lr`,
/// the etas and the bounds), and `p ∓ s`.
pub fn reference(o: &Rprop, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    per_element(params.len(), |i| {
        let (etaminus, etaplus) = (Val::rounded(o.etas.0), Val::rounded(o.etas.1));
        let step_size_min = Val::rounded(o.step_sizes.0);
        let step_size_max = Val::rounded(o.step_sizes.1);
        let mut p = Val::input(params[i]);
        let mut step_size = Val::rounded(o.lr);
        let mut prev = 0.0f32;
        for grad in grads {
            let mut g = if o.maximize { -grad[i] } else { grad[i] };
            let direction = g * prev;
            // `sign[sign.eq(0)] = 1`: a multiplication by 1, exact.
            if direction > 0.0 {
                step_size = step_size * etaplus;
            } else if direction < 0.0 {
                step_size = step_size * etaminus;
            }
            step_size = step_size.max(step_size_min).min(step_size_max);
            if direction < 0.0 {
                g = 0.0;
            }
            if g > 0.0 {
                p = p - step_size;
            } else if g < 0.0 {
                p = p + step_size;
            }
            prev = g;
        }
        vec![p, Val::input(prev), step_size]
    })
}

#[test]
fn matches_reference() {
    check_optimizer("Rprop", reference_strategy(), reference);
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &Rprop, step: Buffers<'_, '_>) {
    let Buffers {
        params,
        grads,
        plane,
        ..
    } = step;
    let n = params.len();
    let Rprop {
        etas: (etaminus, etaplus),
        step_sizes: (smallest, largest),
        maximize,
        ..
    } = *optimizer;
    for j in 0..n {
        let g = grad(grads[j], params[j], maximize, 0.0, false);
        let direction = torch_sign(g * plane[0][j]);
        let f = if direction > 0.0 {
            k(etaplus)
        } else if direction < 0.0 {
            k(etaminus)
        } else {
            1.0
        };
        let s = minimum(maximum(plane[1][j] * f, k(smallest)), k(largest));
        let g = if f == k(etaminus) { 0.0 } else { g };
        (plane[0][j], plane[1][j]) = (g, s);
        params[j] -= torch_sign(g) * s;
    }
}

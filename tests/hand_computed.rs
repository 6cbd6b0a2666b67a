//! The first two steps (t = 1 and t = 2) of every optimizer and every option, computed by
//! hand from PyTorch's `_single_tensor_*` equations.
//!
//! Hyper-parameters and inputs are dyadic (0.5, 0.25, 7/16, ...) and chosen so that every
//! intermediate value — products, sums, square roots, quotients, `lr / (1 − β1ᵗ)`,
//! `√(1 − β2ᵗ)` — is exactly representable in `f32`. Every rounding is then exact, so the
//! crate must reproduce the hand-derived values **bit for bit**, whatever order it evaluates
//! them in. Each case states its derivation in a comment; the expected values are literals,
//! never produced by the crate nor by a re-implementation of its kernels. (They were also
//! checked against `torch.optim` in `float32`, which gives the same bits.)
//!
//! Each case uses three elements with different gradients, tiled to a slice of `N` = 19
//! elements, so that the SIMD body (16 elements at any vector width up to 16 lanes) and the
//! scalar tail (3 elements) are both exercised, on every back-end this machine has.
//!
//! Where exactness is impossible (`√(1 − β2²)` for `β2 ≠ 0`, PyTorch's default
//! hyper-parameters) the expected values are written out in `f64` and compared with a
//! relative tolerance of `REL_TOL` = 1e-6; those cases say so.

mod common;
#[path = "common/hand.rs"]
mod hand;

use std::fmt::Debug;

use fused_optim::{Adagrad, Adam, AdamW, Optimizer, RmsProp, Sgd};
use hand::{N, P0, Step, check_close, check_steps};

/// [`check_steps`] from a fresh `init_state`, or with every state value first set to
/// `prefill` (to show that a step ignores it), expecting the values bit for bit.
fn check<O: Optimizer + Debug>(
    opt: &O,
    names: &[&str],
    p0: [f32; 3],
    prefill: Option<f32>,
    steps: &[Step<'_, f32>],
) {
    let prepare = |state: &mut Vec<f32>| {
        if let Some(x) = prefill {
            state.fill(x);
        }
    };
    check_steps(opt, names, p0, prepare, steps);
}

// ---------------------------------------------------------------------------------------
// SGD. Gradients g1 = [2, −1, 0.25], g2 = [1, 4, −0.5] from P0 = [1, −2, 0.5].
// ---------------------------------------------------------------------------------------

const SGD_G1: [f32; 3] = [2.0, -1.0, 0.25];
const SGD_G2: [f32; 3] = [1.0, 4.0, -0.5];

#[test]
fn sgd_plain() {
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
fn sgd_weight_decay() {
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
fn sgd_momentum_overwrites_buffer_at_step_one() {
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
fn sgd_momentum_dampening_ignored_at_step_one() {
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
fn sgd_nesterov() {
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
fn sgd_maximize() {
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
fn sgd_maximize_momentum_weight_decay() {
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

// ---------------------------------------------------------------------------------------
// Adagrad. p ← p − clr·g / (√s + eps) with eps = 3, lr = 0.5. The effective gradients are
// legs of Pythagorean triples (3-4-5, 5-12-13) so that √s ∈ {0, 1, 3, 5, 13} and
// √s + 3 ∈ {3, 4, 6, 8, 16}: every quotient is exact.
// ---------------------------------------------------------------------------------------

/// Expected state and parameters of the plain Adagrad case, shared by the cases that
/// reduce to it:
/// t=1: s = [9, 25, 0],   √s + 3 = [6, 8, 3],  clr·g/(√s+3) = [1.5/6, −2.5/8, 0/3]
///      p = [1 − 0.25, −2 + 0.3125, 0.5 − 0] = [0.75, −1.6875, 0.5]
/// t=2: s = [25, 169, 25], √s + 3 = [8, 16, 8], clr·g/(√s+3) = [2/8, 6/16, 2.5/8]
///      p = [0.75 − 0.25, −1.6875 − 0.375, 0.5 − 0.3125] = [0.5, −2.0625, 0.1875]
fn adagrad_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
    [
        Step {
            grad: g1,
            params: [0.75, -1.6875, 0.5],
            state: &[[9.0, 25.0, 0.0]],
        },
        Step {
            grad: g2,
            params: [0.5, -2.0625, 0.1875],
            state: &[[25.0, 169.0, 25.0]],
        },
    ]
}

const ADAGRAD_G1: [f32; 3] = [3.0, -5.0, 0.0];
const ADAGRAD_G2: [f32; 3] = [4.0, 12.0, 5.0];

#[test]
fn adagrad_plain() {
    // See `adagrad_plain_steps`; the third element has a zero gradient at t = 1 (it does not
    // move: −0 / 3 = −0).
    let opt = Adagrad {
        lr: 0.5,
        eps: 3.0,
        ..Adagrad::default()
    };
    check(
        &opt,
        &["sum"],
        P0,
        None,
        &adagrad_plain_steps(ADAGRAD_G1, ADAGRAD_G2),
    );
}

#[test]
fn adagrad_lr_decay() {
    // lr_decay 1: clr = 0.5 / (1 + (t − 1)·1) = 0.5 at t=1 (as plain), 0.25 at t=2.
    // t=2: s as plain, clr·g/(√s+3) = [1/8, 3/16, 1.25/8] = [0.125, 0.1875, 0.15625]
    //      p = [0.75 − 0.125, −1.6875 − 0.1875, 0.5 − 0.15625] = [0.625, −1.875, 0.34375]
    let opt = Adagrad {
        lr: 0.5,
        lr_decay: 1.0,
        eps: 3.0,
        ..Adagrad::default()
    };
    let [t1, _] = adagrad_plain_steps(ADAGRAD_G1, ADAGRAD_G2);
    let t2 = Step {
        grad: ADAGRAD_G2,
        params: [0.625, -1.875, 0.34375],
        state: &[[25.0, 169.0, 25.0]],
    };
    check(&opt, &["sum"], P0, None, &[t1, t2]);
}

#[test]
fn adagrad_weight_decay() {
    // weight_decay 0.5: raw gradients chosen so that g + 0.5·p is the plain case's gradient;
    // everything else is then the plain case.
    // t=1: g = [2.5, −4, −0.25],        g + 0.5·P0 = [2.5 + 0.5, −4 − 1, −0.25 + 0.25] = [3, −5, 0]
    // t=2: g = [3.625, 12.84375, 4.75], g + 0.5·[0.75, −1.6875, 0.5]
    //        = [3.625 + 0.375, 12.84375 − 0.84375, 4.75 + 0.25] = [4, 12, 5]
    let opt = Adagrad {
        lr: 0.5,
        eps: 3.0,
        weight_decay: 0.5,
        ..Adagrad::default()
    };
    check(
        &opt,
        &["sum"],
        P0,
        None,
        &adagrad_plain_steps([2.5, -4.0, -0.25], [3.625, 12.84375, 4.75]),
    );
}

#[test]
fn adagrad_initial_accumulator_value() {
    // initial_accumulator_value 16, g1 = [3, −3, 3], g2 = [12, −12, 0].
    // t=1: s = 16 + 9 = 25, √s + 3 = 8, clr·g/8 = [0.1875, −0.1875, 0.1875]
    //      p = [0.8125, −1.8125, 0.3125]
    // t=2: s = [25 + 144, 25 + 144, 25] = [169, 169, 25], √s + 3 = [16, 16, 8]
    //      clr·g/(√s+3) = [6/16, −6/16, 0] → p = [0.4375, −1.4375, 0.3125]
    let opt = Adagrad {
        lr: 0.5,
        eps: 3.0,
        initial_accumulator_value: 16.0,
        ..Adagrad::default()
    };
    let mut state = vec![0.0; opt.state_len(N)];
    opt.init_state(&mut state).unwrap();
    assert!(state.iter().all(|&s| s == 16.0));
    check(
        &opt,
        &["sum"],
        P0,
        None,
        &[
            Step {
                grad: [3.0, -3.0, 3.0],
                params: [0.8125, -1.8125, 0.3125],
                state: &[[25.0; 3]],
            },
            Step {
                grad: [12.0, -12.0, 0.0],
                params: [0.4375, -1.4375, 0.3125],
                state: &[[169.0, 169.0, 25.0]],
            },
        ],
    );
}

#[test]
fn adagrad_maximize() {
    // maximize with the plain case's gradients negated is the plain case.
    let opt = Adagrad {
        lr: 0.5,
        eps: 3.0,
        maximize: true,
        ..Adagrad::default()
    };
    check(
        &opt,
        &["sum"],
        P0,
        None,
        &adagrad_plain_steps([-3.0, 5.0, 0.0], [-4.0, -12.0, -5.0]),
    );
}

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
fn rmsprop_plain() {
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
fn rmsprop_weight_decay() {
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
fn rmsprop_momentum() {
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
fn rmsprop_maximize() {
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
fn rmsprop_centered() {
    // alpha 1/2.
    // t=1: v − a² = [8 − 4, 32 − 16, 2 − 1] = [4, 16, 1], √ = [2, 4, 1]
    //      g/√ = [2, −2, 2], p = P0 − 0.5·[2, −2, 2] = [0, −1, −0.5]
    // t=2: v − a² = [8.5 − 6.25, 34 − 25, 2.125 − 1.5625] = [2.25, 9, 0.5625], √ = [1.5, 3, 0.75]
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
fn rmsprop_centered_momentum() {
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
// t=2: m = 0.75·m + 0.25·g2 = [0.375 + 0.25, −0.1875 + 1, 0.75 − 0.125] = [0.625, 0.8125, 0.625]
//      v = g2² = [1, 16, 0.25], m/√v = [0.625, 0.203125, 1.25]
//      p = [0.5625 − 0.625, −1.5625 − 0.203125, 0.0625 − 1.25] = [−0.0625, −1.765625, −1.1875]
// ---------------------------------------------------------------------------------------

const ADAM_G1: [f32; 3] = [2.0, -1.0, 4.0];
const ADAM_G2: [f32; 3] = [1.0, 4.0, -0.5];
const ADAM_M: [[f32; 3]; 2] = [[0.5, -0.25, 1.0], [0.625, 0.8125, 0.625]];
const ADAM_V: [[f32; 3]; 2] = [[4.0, 1.0, 16.0], [1.0, 16.0, 0.25]];

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
fn adam_plain() {
    check(
        &adam(|_| {}),
        &["exp_avg", "exp_avg_sq"],
        P0,
        None,
        &adam_plain_steps(ADAM_G1, ADAM_G2),
    );
}

#[test]
fn adam_l2_weight_decay() {
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
fn adam_maximize() {
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
fn adam_amsgrad_max_differs_from_v() {
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
fn adam_decoupled_weight_decay() {
    // weight_decay 0.5, decoupled: p ← p·(1 − 7/16·0.5) = p·25/32 before the Adam update
    // (which is the plain case's: −0.4375·sign(g1), then −m/|g2| = −[0.625, 0.203125, 1.25]).
    // t=1: p = [0.78125, −1.5625, 0.390625] − [0.4375, −0.4375, 0.4375]
    //        = [0.34375, −1.125, −0.046875]
    // t=2: p·25/32 = [275/1024, −225/256, −75/2048] = [0.2685546875, −0.87890625, −0.03662109375]
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
fn adam_nonzero_beta2() {
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

/// The one place where Adam's arithmetic departs from PyTorch's: the bias correction of the
/// denominator is a multiplication by `f32(1/√bc2)` (one divider operation per element fewer)
/// where PyTorch divides by `f32(√bc2)`. β1 = 0, β2 = 0.5, lr = 0.5, eps = 0, so m = g,
/// v = 0.5·v + (0.5·g)·g, step size lr/bc1 = 0.5, and every value below is one f32 operation
/// on the previous ones (rounded to nearest).
///
/// t=1: bc2 = 0.5, f32(1/√0.5) = 1.4142135 (PyTorch: f32(√0.5) = 0.70710677).
///      g = [1, 2, 5]; v = [0.5, 2, 12.5]; √v = [0.70710677, 1.4142135, 3.535534]
///      denom = √v·1.4142135 = [0.99999994, 1.9999999, 5]   (PyTorch's √v/0.70710677 = [1, 2, 5])
///      p = [1, −2, 0.5] + (−0.5·g)/denom = [0.49999994, −2.5, 0]   (PyTorch's: [0.5, −2.5, 0])
/// t=2: bc2 = 0.75, f32(1/√0.75) = 1.1547005 (PyTorch: f32(√0.75) = 0.8660254).
///      g = [2, −1, 4]; v = [2.25, 1.5, 14.25]; √v = [1.5, 1.2247449, 3.7749171]
///      denom = [1.7320508, 1.4142135, 4.3588986]   (PyTorch's: [1.7320509, 1.4142137, 4.358899])
///      p = [−0.07735032, −2.1464467, −0.4588315]   (PyTorch's: [..., ..., −0.45883146])
#[test]
fn adam_bias_correction2_is_multiplied_by_its_reciprocal() {
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
                params: [0.49999994, -2.5, 0.0],
                state: &[[1.0, 2.0, 5.0], [0.5, 2.0, 12.5]],
            },
            Step {
                grad: [2.0, -1.0, 4.0],
                params: [-0.07735032, -2.1464467, -0.4588315],
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
fn defaults_expected(decay: f64) -> [([f64; 3], [[f64; 3]; 2]); 2] {
    let p0 = P0.map(f64::from);
    let g1 = ADAM_G1.map(f64::from);
    let g2 = ADAM_G2.map(f64::from);
    let m1 = g1.map(|g| 0.1 * g);
    let v1 = g1.map(|g| 0.001 * g * g);
    let p1: [f64; 3] = std::array::from_fn(|i| decay * p0[i] - 1e-3 * g1[i] / (g1[i].abs() + 1e-8));
    let m2: [f64; 3] = std::array::from_fn(|i| 0.09 * g1[i] + 0.1 * g2[i]);
    let v2: [f64; 3] = std::array::from_fn(|i| 0.000999 * g1[i] * g1[i] + 0.001 * g2[i] * g2[i]);
    let p2: [f64; 3] = std::array::from_fn(|i| {
        decay * p1[i] - (1e-3 / 0.19) * m2[i] / ((v2[i] / 0.001999).sqrt() + 1e-8)
    });
    [(p1, [m1, v1]), (p2, [m2, v2])]
}

#[test]
fn adam_pytorch_defaults() {
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

#[test]
fn adamw_pytorch_defaults() {
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
fn adamw_decay() {
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
fn adamw_amsgrad() {
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

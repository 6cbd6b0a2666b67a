//! The first two steps (three for Rprop) of Adamax, NAdam, RAdam, Adadelta, Rprop, ASGD and
//! Lion, for every option, computed by hand from PyTorch's `_single_tensor_*` equations
//! (optax's `lion` for Lion).
//!
//! As in `tests/hand_computed.rs`: hyper-parameters and inputs are dyadic and chosen so that
//! every intermediate value — products, sums, square roots, quotients, `lr / (1 − β1ᵗ)`,
//! NAdam's coefficients `−lr·(1 − μₜ)/(1 − Πₜ)`, ASGD's `ηₜ` — is exactly representable in
//! `f32`. Every rounding is then exact, so the crate must reproduce the hand-derived values
//! **bit for bit**, whatever order it evaluates them in, on every back-end this machine has.
//! Each case states its derivation in a comment; the expected values are literals, never
//! produced by the crate nor by a re-implementation of its kernels. (They were also checked
//! against `torch.optim` 2.15.0 in `float32`, and Lion's against optax 0.2.8, which give the
//! same bits.)
//!
//! Each case uses three elements with different gradients, tiled to a slice of `N` = 19
//! elements, so that the SIMD body and the scalar tail are both exercised.
//!
//! Where exactness is impossible (PyTorch's default hyper-parameters, NAdam's momentum
//! schedule with `momentum_decay ≠ 0`, RAdam's rectification term) the expected values are
//! written out in `f64` and compared with a relative tolerance of `REL_TOL` = 1e-6; those
//! cases say so.

#![allow(
    clippy::excessive_precision,
    reason = "exact dyadic values, written out in full rather than as the shortest f32 decimal"
)]

mod common;
#[path = "common/hand.rs"]
mod hand;

use std::fmt::Debug;

use fused_optim::{Adadelta, Adamax, Asgd, Lion, NAdam, Optimizer, RAdam, Rprop};
use hand::{N, P0, Step, assert_bits, check_close, check_steps, tile};

/// `xs` negated (the gradients of the `maximize` cases).
fn neg(xs: [f32; 3]) -> [f32; 3] {
    xs.map(|x| -x)
}

/// [`check_steps`] from the state `state0` (one row per plane, as a checkpoint would hold it)
/// or, if `None`, a fresh `init_state`, expecting the values bit for bit.
fn check<O: Optimizer + Debug>(
    opt: &O,
    names: &[&str],
    p0: [f32; 3],
    state0: Option<&[[f32; 3]]>,
    steps: &[Step<'_, f32>],
) {
    let prepare = |state: &mut Vec<f32>| {
        if let Some(rows) = state0 {
            *state = rows.iter().flat_map(|row| tile(*row)).collect();
        }
    };
    check_steps(opt, names, p0, prepare, steps);
}

/// Gradients of the cases checked to [`REL_TOL`] (PyTorch's defaults).
const CLOSE_G1: [f32; 3] = [2.0, -1.0, 4.0];
const CLOSE_G2: [f32; 3] = [1.0, 4.0, -0.5];

// ---------------------------------------------------------------------------------------
// Adamax: lr = 7/16, betas (3/4, 1/2), eps = 1/4.
//
// 1 − β1ᵗ = 1/4, 7/16, so clr = lr / (1 − β1ᵗ) = 7/4, then 1. The lerp weight 1/4 is
// PyTorch's `m + w·(g − m)` form. u = max(u/2, |g| + 1/4), p ← p − clr·m/u.
// g1 = [3.75, −1.75, 0], g2 = [0.75, 3.75, −0.75]:
// t=1: m = g1/4 = [0.9375, −0.4375, 0], u = [4, 2, 0.25]
//      clr·m/u = [1.640625/4, −0.765625/2, 0] = [0.41015625, −0.3828125, 0]
//      p = [0.58984375, −1.6171875, 0.5]
// t=2: m = m + (g2 − m)/4 = [0.9375 − 0.046875, −0.4375 + 1.046875, −0.1875]
//        = [0.890625, 0.609375, −0.1875]
//      u = max([2, 1, 0.125], [1, 4, 1]) = [2, 4, 1] (the decayed norm wins in element 0)
//      m/u = [0.4453125, 0.15234375, −0.1875]
//      p = [0.14453125, −1.76953125, 0.6875]
// ---------------------------------------------------------------------------------------

const ADAMAX_G1: [f32; 3] = [3.75, -1.75, 0.0];
const ADAMAX_G2: [f32; 3] = [0.75, 3.75, -0.75];
const ADAMAX_U: [[f32; 3]; 2] = [[4.0, 2.0, 0.25], [2.0, 4.0, 1.0]];

fn adamax(f: impl FnOnce(&mut Adamax)) -> Adamax {
    let mut o = Adamax {
        lr: 7.0 / 16.0,
        betas: (0.75, 0.5),
        eps: 0.25,
        ..Adamax::default()
    };
    f(&mut o);
    o
}

fn adamax_plain_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
    [
        Step {
            grad: g1,
            params: [0.58984375, -1.6171875, 0.5],
            state: &[[0.9375, -0.4375, 0.0], ADAMAX_U[0]],
        },
        Step {
            grad: g2,
            params: [0.14453125, -1.76953125, 0.6875],
            state: &[[0.890625, 0.609375, -0.1875], ADAMAX_U[1]],
        },
    ]
}

const ADAMAX_NAMES: [&str; 2] = ["exp_avg", "exp_inf"];

#[test]
fn adamax_plain() {
    check(
        &adamax(|_| {}),
        &ADAMAX_NAMES,
        P0,
        None,
        &adamax_plain_steps(ADAMAX_G1, ADAMAX_G2),
    );
}

#[test]
fn adamax_lerp_high() {
    // betas (1/2, 1/2), lr = 3/8: the lerp weight 1/2 is PyTorch's `g − (g − m)·(1 − w)` form;
    // 1 − β1ᵗ = 1/2, 3/4, so clr = 3/4, then 1/2. u as plain.
    // t=1: m = g1 − g1/2 = [1.875, −0.875, 0], clr·m/u = [0.3515625, −0.328125, 0]
    //      p = [0.6484375, −1.671875, 0.5]
    // t=2: m = g2 − (g2 − m)/2 = [0.75 + 0.5625, 3.75 − 2.3125, −0.75 + 0.375]
    //        = [1.3125, 1.4375, −0.375]
    //      clr·m/u = [0.328125, 0.1796875, −0.1875]
    //      p = [0.3203125, −1.8515625, 0.6875]
    let opt = adamax(|o| {
        o.lr = 0.375;
        o.betas.0 = 0.5;
    });
    check(
        &opt,
        &ADAMAX_NAMES,
        P0,
        None,
        &[
            Step {
                grad: ADAMAX_G1,
                params: [0.6484375, -1.671875, 0.5],
                state: &[[1.875, -0.875, 0.0], ADAMAX_U[0]],
            },
            Step {
                grad: ADAMAX_G2,
                params: [0.3203125, -1.8515625, 0.6875],
                state: &[[1.3125, 1.4375, -0.375], ADAMAX_U[1]],
            },
        ],
    );
}

#[test]
fn adamax_weight_decay() {
    // weight_decay 1/2: raw gradients chosen so that g + p/2 is the plain case's gradient.
    // t=1: g = [3.25, −0.75, −0.25]:          g + P0/2 = [3.75, −1.75, 0]
    // t=2: g = [0.455078125, 4.55859375, −1]: g + [0.58984375, −1.6171875, 0.5]/2
    //        = [0.455078125 + 0.294921875, 4.55859375 − 0.80859375, −1 + 0.25] = g2 (plain)
    check(
        &adamax(|o| o.weight_decay = 0.5),
        &ADAMAX_NAMES,
        P0,
        None,
        &adamax_plain_steps([3.25, -0.75, -0.25], [0.455078125, 4.55859375, -1.0]),
    );
}

#[test]
fn adamax_maximize() {
    // maximize with the plain case's gradients negated is the plain case (the zero gradient
    // becomes −0: m = 0 + (−0)/4 = +0, and p moves by −0).
    check(
        &adamax(|o| o.maximize = true),
        &ADAMAX_NAMES,
        P0,
        None,
        &adamax_plain_steps(neg(ADAMAX_G1), neg(ADAMAX_G2)),
    );
}

#[test]
fn adamax_pytorch_defaults() {
    // lr 2e-3, betas (0.9, 0.999), eps 1e-8: not dyadic, checked to 1e-6 (relative).
    // t=1: m = 0.1·g1, u = |g1| + 1e-8, p = p0 − (2e-3 / 0.1)·m/u
    // t=2: m = 0.9·m + 0.1·g2, u = max(0.999·u, |g2| + 1e-8), p = p − (2e-3 / 0.19)·m/u
    let p0 = P0.map(f64::from);
    let g1 = CLOSE_G1.map(f64::from);
    let g2 = CLOSE_G2.map(f64::from);
    let m1 = g1.map(|g| 0.1 * g);
    let u1 = g1.map(|g| g.abs() + 1e-8);
    let p1: [f64; 3] = std::array::from_fn(|i| p0[i] - (2e-3 / 0.1) * m1[i] / u1[i]);
    let m2: [f64; 3] = std::array::from_fn(|i| 0.9 * m1[i] + 0.1 * g2[i]);
    let u2: [f64; 3] = std::array::from_fn(|i| (0.999 * u1[i]).max(g2[i].abs() + 1e-8));
    let p2: [f64; 3] = std::array::from_fn(|i| p1[i] - (2e-3 / 0.19) * m2[i] / u2[i]);
    check_close(
        &Adamax::default(),
        &ADAMAX_NAMES,
        P0,
        &[
            Step {
                grad: CLOSE_G1,
                params: p1,
                state: &[m1, u1],
            },
            Step {
                grad: CLOSE_G2,
                params: p2,
                state: &[m2, u2],
            },
        ],
    );
}

// ---------------------------------------------------------------------------------------
// NAdam with momentum_decay = 0: μₜ = β1·(1 − ½·0.96⁰) = β1/2 =: a for every t, so
// Πₜ = aᵗ, and the coefficients are c1 = −lr·(1 − a)/(1 − aᵗ), c2 = −lr·a/(1 − aᵗ⁺¹).
// betas (β1, 3/4), eps = 1/4. 1 − β2ᵗ = 1/4, 7/16; v = 3/4·v + ((1/4)·g)·g.
// Gradients with |g2| = |g1|: v1 = g1²/4 and v2 = 7/16·g1², so √(v/(1 − β2ᵗ)) = |g1| at both
// steps, and d = |g1| + 1/4 = [4, 2, 1] with g1 = [3.75, −1.75, 0.75], g2 = [−3.75, −1.75, 0.75].
// v1 = [3.515625, 0.765625, 0.140625], v2 = [6.15234375, 1.33984375, 0.24609375].
// p ← p + c1·g/d, then p ← p + c2·m/d.
//
// β1 = 3/4 (lerp weight 1/4, the `m + w·(g − m)` form): a = 3/8, Π = 3/8, 9/64.
// lr = 5335/8192 (5335 = 5·11·97, so that 1 − a² = 55/64 and 1 − a³ = 485/512 divide it):
// t=1: c1 = −lr = −5335/8192, c2 = −lr·(3/8)/(55/64) = −291/1024
//      m = g1/4 = [0.9375, −0.4375, 0.1875]
//      p = P0 + c1·g1/d + c2·m/d = [0.32285308837890625, −1.3679962158203125, −0.041717529296875]
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
fn nadam_plain() {
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
fn nadam_weight_decay() {
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
fn nadam_maximize() {
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
fn nadam_lerp_high() {
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
fn nadam_decoupled_weight_decay() {
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
fn nadam_pytorch_defaults() {
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
fn radam_plain() {
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
fn radam_weight_decay() {
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
fn radam_maximize() {
    check(
        &radam(|o| o.maximize = true),
        &RADAM_NAMES,
        P0,
        None,
        &radam_plain_steps(neg(RADAM_G1), neg(RADAM_G2)),
    );
}

#[test]
fn radam_decoupled_weight_decay() {
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
fn radam_lerp_high() {
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
fn radam_pytorch_defaults_across_the_rectification_switch() {
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
    let r =
        ((rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho)).sqrt();
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

// ---------------------------------------------------------------------------------------
// Adadelta, lr = 1/2, rho = 3/4, eps = 1/16, from a checkpointed state (from zeros,
// √eps / √(v + eps) is not dyadic for any dyadic gradient but 0):
// square_avg v0 = [0.3125, 9.25, 1.5], acc_delta u0 = [6.1875, 7.5, 6.1875].
// v ← 3/4·v + ((1/4)·g)·g, δ = (√(u + 1/16) / √(v + 1/16))·g, u ← 3/4·u + ((1/4)·δ)·δ,
// p ← p − δ/2. g1 = [2.25, −1.5, −4.5], g2 = [−4.5, 1.5, −4.5]:
// t=1: v = [0.234375 + 1.265625, 6.9375 + 0.5625, 1.125 + 5.0625] = [1.5, 7.5, 6.1875]
//      √(u + eps) = [2.5, 2.75, 2.5], √(v + eps) = [1.25, 2.75, 2.5]
//      δ = [2·2.25, 1·(−1.5), 1·(−4.5)] = [4.5, −1.5, −4.5]
//      u = [4.640625 + 5.0625, 5.625 + 0.5625, 4.640625 + 5.0625] = [9.703125, 6.1875, 9.703125]
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
fn adadelta_plain() {
    check(
        &adadelta(|_| {}),
        &ADADELTA_NAMES,
        P0,
        Some(&ADADELTA_STATE0),
        &adadelta_plain_steps(ADADELTA_G1, ADADELTA_G2),
    );
}

#[test]
fn adadelta_weight_decay() {
    // weight_decay 1/4 (L2): g + p/4 is the plain case's gradient:
    // t=1: [2, −1, −4.625] + P0/4 = g1; t=2: [−4.1875, 1.8125, −5.1875] + [−1.25, −1.25, 2.75]/4
    //      = g2
    check(
        &adadelta(|o| o.weight_decay = 0.25),
        &ADADELTA_NAMES,
        P0,
        Some(&ADADELTA_STATE0),
        &adadelta_plain_steps([2.0, -1.0, -4.625], [-4.1875, 1.8125, -5.1875]),
    );
}

#[test]
fn adadelta_maximize() {
    check(
        &adadelta(|o| o.maximize = true),
        &ADADELTA_NAMES,
        P0,
        Some(&ADADELTA_STATE0),
        &adadelta_plain_steps(neg(ADADELTA_G1), neg(ADADELTA_G2)),
    );
}

#[test]
fn adadelta_pytorch_defaults() {
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
fn rprop_init_state_fills_the_step_size_with_lr() {
    let opt = rprop(false);
    let mut state = vec![f32::NAN; opt.state_len(N)];
    opt.init_state(&mut state).unwrap();
    assert_bits("prev", &state[..N], &[0.0; N]);
    assert_bits("step_size", &state[N..], &[0.5; N]);
}

#[test]
fn rprop_plain() {
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
fn rprop_maximize() {
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
fn rprop_step_size_bounds() {
    // lr = 3/4, etas (1/4, 2), step_sizes (1/4, 1): growth and shrinkage hit the bounds.
    // g1 = [2, −1, 0.5], g2 = [3, 4, 0.5], g3 = [1, 1, −1]:
    // t=1: s = 3/4, p = P0 − sign(g1)·3/4 = [0.25, −1.25, −0.25], prev = g1
    // t=2: f = [2, 1/4, 2]: s = [clamp(1.5), clamp(0.1875), clamp(1.5)] = [1, 0.25, 1]
    //      p = [0.25 − 1, −1.25 (skipped), −0.25 − 1] = [−0.75, −1.25, −1.25], prev = [3, 0, 0.5]
    // t=3: f = [2, 1, 1/4]: s = [1, 0.25, 0.25]
    //      p = [−0.75 − 1, −1.25 − 0.25, −1.25 (skipped)] = [−1.75, −1.5, −1.25], prev = [1, 1, 0]
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

// ---------------------------------------------------------------------------------------
// ASGD, lr = 1/4, lambd = 0 (so η = lr and the decay 1 − λη = 1 at every step; see
// `asgd_lambd` for the decay), g1 = [2, −1, 0.5], g2 = [1, 4, −0.5]:
// t=1: p = P0 − g1/4 = [0.5, −1.75, 0.375]; μ₁ = 1: ax = p
// t=2: p = p − g2/4 = [0.25, −2.75, 0.5]
//      t0 = 1e6: μ₂ = 1, ax = p (PyTorch's copy)
//      t0 = −1:  μ₂ = 1/max(1, 1 − (−1)) = 1/2, ax = ax + (p − ax)/2 = [0.375, −2.25, 0.4375]
//      t0 = −3:  μ₂ = 1/4, ax = ax + (p − ax)/4 = [0.4375, −2, 0.40625]
// ---------------------------------------------------------------------------------------

const ASGD_G1: [f32; 3] = [2.0, -1.0, 0.5];
const ASGD_G2: [f32; 3] = [1.0, 4.0, -0.5];
const ASGD_P: [[f32; 3]; 2] = [[0.5, -1.75, 0.375], [0.25, -2.75, 0.5]];

fn asgd(t0: f64, f: impl FnOnce(&mut Asgd)) -> Asgd {
    let mut o = Asgd {
        lr: 0.25,
        lambd: 0.0,
        t0,
        ..Asgd::default()
    };
    f(&mut o);
    o
}

/// The averaging steps (t0 = −1).
fn asgd_average_steps(g1: [f32; 3], g2: [f32; 3]) -> [Step<'static, f32>; 2] {
    [
        Step {
            grad: g1,
            params: ASGD_P[0],
            state: &[ASGD_P[0]],
        },
        Step {
            grad: g2,
            params: ASGD_P[1],
            state: &[[0.375, -2.25, 0.4375]],
        },
    ]
}

#[test]
fn asgd_copy() {
    let opt = asgd(1e6, |_| {});
    assert_eq!([opt.mu(1), opt.mu(2), opt.eta(2)], [1.0, 1.0, 0.25]);
    check(
        &opt,
        &["ax"],
        P0,
        None,
        &[
            Step {
                grad: ASGD_G1,
                params: ASGD_P[0],
                state: &[ASGD_P[0]],
            },
            Step {
                grad: ASGD_G2,
                params: ASGD_P[1],
                state: &[ASGD_P[1]],
            },
        ],
    );
}

#[test]
fn asgd_average() {
    let opt = asgd(-1.0, |_| {});
    assert_eq!([opt.mu(1), opt.mu(2)], [1.0, 0.5]);
    check(
        &opt,
        &["ax"],
        P0,
        None,
        &asgd_average_steps(ASGD_G1, ASGD_G2),
    );
    let opt = asgd(-3.0, |_| {});
    assert_eq!(opt.mu(2), 0.25);
    check(
        &opt,
        &["ax"],
        P0,
        None,
        &[
            Step {
                grad: ASGD_G1,
                params: ASGD_P[0],
                state: &[ASGD_P[0]],
            },
            Step {
                grad: ASGD_G2,
                params: ASGD_P[1],
                state: &[[0.4375, -2.0, 0.40625]],
            },
        ],
    );
}

#[test]
fn asgd_weight_decay() {
    // weight_decay 1/2 (L2), t0 = −1: g + p/2 is the averaging case's gradient:
    // t=1: [1.5, 0, 0.25] + P0/2 = g1; t=2: [0.75, 4.875, −0.6875] + [0.5, −1.75, 0.375]/2 = g2
    check(
        &asgd(-1.0, |o| o.weight_decay = 0.5),
        &["ax"],
        P0,
        None,
        &asgd_average_steps([1.5, 0.0, 0.25], [0.75, 4.875, -0.6875]),
    );
}

#[test]
fn asgd_maximize() {
    check(
        &asgd(-1.0, |o| o.maximize = true),
        &["ax"],
        P0,
        None,
        &asgd_average_steps(neg(ASGD_G1), neg(ASGD_G2)),
    );
}

#[test]
fn asgd_lambd() {
    // lambd = 12, alpha = 1/2 (λ·lr = 3: useless for training, exact as a test):
    // η₁ = lr = 1/4, η₂ = lr / (1 + 3)^½ = 1/8; decays 1 − λη = 1 − 3 = −2, then 1 − 3/2 = −1/2.
    // t=1: p = −2·P0 − g1/4 = [−2 − 0.5, 4 + 0.25, −1 − 0.125] = [−2.5, 4.25, −1.125]
    // t=2: p = −p/2 − g2/8 = [1.25 − 0.125, −2.125 − 0.5, 0.5625 + 0.0625] = [1.125, −2.625, 0.625]
    // (t0 = 1e6: ax = p.)
    let opt = asgd(1e6, |o| {
        o.lambd = 12.0;
        o.alpha = 0.5;
    });
    assert_eq!([opt.eta(1), opt.eta(2)], [0.25, 0.125]);
    check(
        &opt,
        &["ax"],
        P0,
        None,
        &[
            Step {
                grad: ASGD_G1,
                params: [-2.5, 4.25, -1.125],
                state: &[[-2.5, 4.25, -1.125]],
            },
            Step {
                grad: ASGD_G2,
                params: [1.125, -2.625, 0.625],
                state: &[[1.125, -2.625, 0.625]],
            },
        ],
    );
}

#[test]
fn asgd_pytorch_defaults() {
    // lr 1e-2, lambd 1e-4, alpha 0.75, t0 1e6 (ax = p): not dyadic, checked to 1e-6.
    // t=1: η = 1e-2, p = p0·(1 − 1e-6) − 1e-2·g1
    // t=2: η = 1e-2 / (1 + 1e-6)^0.75, p = p·(1 − 1e-4·η) − η·g2
    let p0 = P0.map(f64::from);
    let g1 = CLOSE_G1.map(f64::from);
    let g2 = CLOSE_G2.map(f64::from);
    let eta2 = 1e-2 / (1.0f64 + 1e-6).powf(0.75);
    let p1: [f64; 3] = std::array::from_fn(|i| p0[i] * (1.0 - 1e-6) - 1e-2 * g1[i]);
    let p2: [f64; 3] = std::array::from_fn(|i| p1[i] * (1.0 - 1e-4 * eta2) - eta2 * g2[i]);
    check_close(
        &Asgd::default(),
        &["ax"],
        P0,
        &[
            Step {
                grad: CLOSE_G1,
                params: p1,
                state: &[p1],
            },
            Step {
                grad: CLOSE_G2,
                params: p2,
                state: &[p2],
            },
        ],
    );
}

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
fn lion_plain() {
    check(
        &lion(0.0, false),
        &["exp_avg"],
        P0,
        None,
        &lion_plain_steps(LION_G1, LION_G2),
    );
}

#[test]
fn lion_maximize() {
    check(
        &lion(0.0, true),
        &["exp_avg"],
        P0,
        None,
        &lion_plain_steps(neg(LION_G1), neg(LION_G2)),
    );
}

#[test]
fn lion_weight_decay() {
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

//! ASGD (`torch.optim.ASGD`): what the harnesses need to know of it (random hyper-parameters,
//! kernel variants, refusals, non-finite outcomes), its hand-computed steps, its golden replay and
//! its `f64` reference.

use fused_optim::{Asgd, Optimizer};
use proptest::prelude::*;

use crate::common::exact::{Buffers, fma, grad, k};
use crate::common::golden::{self, Golden, Hp};
use crate::common::maybe;
use crate::common::reference::{
    Outcome, Val, check_optimizer, grad_of, log_uniform, lr, off_or, per_element, weight_decay,
};
use crate::harness::errors::Refusal::Invalid;
use crate::harness::errors::{BAD_NON_NEGATIVE, Refusal};
use crate::harness::non_finite::{NonFinite, Param};

/// The first step of the harnesses' trajectories.
pub const FIRST_STEP: u64 = 1;

/// Random hyper-parameters covering every option.
pub fn strategy() -> impl Strategy<Value = Asgd> {
    (
        0.0..1.0f64,
        maybe(0.0..1.0),
        prop_oneof![Just(0.75), 0.0..1.5],
        // The default never averages within a test; small t0 average from step t0 + 3.
        prop_oneof![Just(1e6), -5.0..5.0f64],
        maybe(0.0..0.1),
        any::<bool>(),
    )
        .prop_map(|(lr, lambd, alpha, t0, weight_decay, maximize)| Asgd {
            lr,
            lambd,
            alpha,
            t0,
            weight_decay,
            maximize,
        })
}

/// One configuration per kernel: `ax` a copy of `p` (`t0` = 10⁶) or averaging from step 3
/// (`t0` = 0), with and without weight decay and maximize.
pub fn variants() -> Vec<Asgd> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for t0 in [1e6, 0.0] {
                all.push(Asgd {
                    lr: 0.1,
                    lambd: 0.01,
                    t0,
                    weight_decay,
                    maximize,
                    ..Asgd::default()
                });
            }
        }
    }
    all
}

/// Hyper-parameters that must be refused, one wrong at a time.
pub fn refused() -> Vec<(Asgd, Refusal)> {
    let o = Asgd::default();
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        all.push((Asgd { lr: bad, ..o }, Invalid("lr")));
        all.push((Asgd { lambd: bad, ..o }, Invalid("lambd")));
        all.push((Asgd { alpha: bad, ..o }, Invalid("alpha")));
        all.push((
            Asgd {
                weight_decay: bad,
                ..o
            },
            Invalid("weight_decay"),
        ));
    }
    // t0 only enters an f64 comparison: any finite f64 is valid (1e300: never average).
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        all.push((Asgd { t0: bad, ..o }, Invalid("t0")));
    }
    assert_eq!(Asgd { t0: 1e300, ..o }.validate(), Ok(()));
    all
}

/// A NaN gradient makes the parameter and `ax` NaN; an infinite one sends the parameter to
/// ∓infinity (the sign of the step).
pub fn non_finite(opt: &Asgd, bad: f32, _t: u64) -> NonFinite {
    let param = if bad.is_nan() {
        Param::Nan
    } else {
        Param::Infinite
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
    fn copy() {
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
    fn average() {
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
    fn weight_decay() {
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
    fn maximize() {
        check(
            &asgd(-1.0, |o| o.maximize = true),
            &["ax"],
            P0,
            None,
            &asgd_average_steps(neg(ASGD_G1), neg(ASGD_G2)),
        );
    }

    #[test]
    fn lambd() {
        // lambd = 12, alpha = 1/2 (λ·lr = 3: useless for training, exact as a test):
        // η₁ = lr = 1/4, η₂ = lr / (1 + 3)^½ = 1/8;
        // decays 1 − λη = 1 − 3 = −2, then 1 − 3/2 = −1/2.
        // t=1: p = −2·P0 − g1/4 = [−2 − 0.5, 4 + 0.25, −1 − 0.125] = [−2.5, 4.25, −1.125]
        // t=2: p = −p/2 − g2/8 = [1.25 − 0.125, −2.125 − 0.5, 0.5625 + 0.0625]
        //        = [1.125, −2.625, 0.625]
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
    fn pytorch_defaults() {
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
}

// ---------------------------------------------------------------------------------------
// Golden trajectories: tests/golden/asgd.txt
// ---------------------------------------------------------------------------------------

impl Golden for Asgd {
    const TORCH: &'static str = "ASGD";

    fn from_hp(hp: &mut Hp) -> Self {
        Asgd {
            lr: hp.float("lr"),
            lambd: hp.float("lambd"),
            alpha: hp.float("alpha"),
            t0: hp.float("t0"),
            weight_decay: hp.float("weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }
}

#[test]
fn golden() {
    let fixture = golden::check::<Asgd>("asgd.txt");
    golden::assert_coverage(&fixture, &[]);
    // Both kernels: a copy of p (μ = 1) and averaging (μ < 1).
    let averaging = fixture.cases.iter().any(|case| {
        let opt = Asgd::from_hp(&mut Hp::new(case));
        opt.mu(case.steps.len() as u64) < 1.0
    });
    assert!(averaging, "no case averages");
    assert!(fixture.cases.iter().all(|c| c.scalars == ["eta", "mu"]));
}

// ---------------------------------------------------------------------------------------
// The f64 reference
// ---------------------------------------------------------------------------------------

/// Random hyper-parameters for the reference: every option, in ranges where the bound is
/// finite.
fn reference_strategy() -> impl Strategy<Value = Asgd> {
    (
        lr(),
        off_or(log_uniform(-6.0, 0.0)),
        0.0..=1.5f64,
        prop_oneof![Just(1e6), -5.0..50.0f64],
        weight_decay(),
        any::<bool>(),
    )
        .prop_map(|(lr, lambd, alpha, t0, weight_decay, maximize)| Asgd {
            lr,
            lambd,
            alpha,
            t0,
            weight_decay,
            maximize,
        })
}

/// `torch.optim.ASGD`. `state["eta"]` and `state["mu"]` are `f32` tensors holding
/// `lr / (1 + lambd·lr·(t − 1))^alpha` and `1 / max(1, t − 1 − t0)` (1 before the first
/// step): each is one rounding of that value; `1 − lambd·eta` is computed in `f64` from the
/// `f32` `eta` and rounded once. Whether `ax` averages or copies is PyTorch's test on the
/// `f32` `mu` (`mu.item() != 1`).
pub fn reference(o: &Asgd, params: &[f32], grads: &[Vec<f32>]) -> Outcome {
    per_element(params.len(), |i| {
        let weight_decay = Val::rounded(o.weight_decay);
        let mut p = Val::input(params[i]);
        let mut ax = Val::input(0.0);
        for (step, grad) in (1u32..).zip(grads) {
            let mut g = grad_of(grad[i], o.maximize);
            if o.weight_decay != 0.0 {
                g = g + weight_decay * p;
            }
            let done = f64::from(step - 1);
            let eta = Val::rounded(o.lr / (1.0 + o.lambd * o.lr * done).powf(o.alpha));
            if o.lambd != 0.0 {
                // (With `lambd = 0` the factor is exactly 1, and the product exact.)
                let decay = Val::rounded_of(1.0 - o.lambd * eta.x, eta, -o.lambd);
                p = p * decay;
            }
            p = p + (-eta) * g;
            let mu = if step == 1 {
                1.0
            } else {
                1.0 / f64::max(1.0, done - o.t0)
            };
            ax = if mu as f32 != 1.0 {
                ax + (p - ax) * Val::rounded(mu)
            } else {
                p
            };
        }
        vec![p, ax]
    })
}

#[test]
fn matches_reference() {
    check_optimizer("ASGD", reference_strategy(), reference);
}

/// `eta` and `mu` are scalar state the caller carries (issue 12): computed at the end of each
/// step from that step's learning rate (so a schedule acts as in PyTorch), resumable from a
/// checkpoint or from values set by hand, shardable, and O(1) per step at any `t`.
mod scalar_state {
    use fused_optim::{Asgd, Optimizer};

    use crate::common::backends;
    use crate::common::scalars::*;

    /// PyTorch's `eta` for step `t + 1`, computed at the end of step `t` from the lr of step
    /// `t`: `lr / (1 + lambd * lr * t) ** alpha`, a Python float stored in an f32 tensor.
    fn eta_after(opt: &Asgd, lr: f64, t: u64) -> f32 {
        (lr / (1.0 + opt.lambd * lr * t as f64).powf(opt.alpha)) as f32
    }

    /// PyTorch's `mu` for step `t + 1`: `1 / max(1, t - t0)`.
    fn mu_after(opt: &Asgd, t: u64) -> f32 {
        (1.0 / f64::max(1.0, t as f64 - opt.t0)) as f32
    }

    /// Issue 12's case: ASGD with PyTorch's defaults (lambd 1e-4, alpha 0.75, t0 1e6), lr
    /// 0.01 for step 1 and 0.005 for step 2, p = [1], g = [1]. PyTorch computes step 2's `eta`
    /// at the end of step 1 from lr 0.01, so the new lr acts from step 3: p = 0.98 after step 2
    /// (0.979998, the decay `1 − lambd · eta` aside)
    /// (an eta from the current lr would give 0.985). Every back-end, bit for bit against
    /// PyTorch's update written out with f32 operations:
    ///
    /// ```text
    /// p ← p · f32(1 − lambd · eta)     (param.mul_(1 - lambd * eta.item()))
    /// p ← fma(g, −eta, p)              (param.add_(grad, alpha=-eta.item()))
    /// ```
    ///
    /// with eta₁ = f32(0.01) and eta₂ = f32(0.01 / (1 + 1e-4 · 0.01 · 1)^0.75).
    #[test]
    fn a_schedule_acts_one_step_late() {
        let opt = Asgd {
            lr: 0.01,
            ..Asgd::default()
        };
        let step = |p: f32, eta: f32| {
            let p = p * (1.0 - opt.lambd * f64::from(eta)) as f32;
            1.0_f32.mul_add(-eta, p)
        };
        let eta1 = 0.01_f32;
        let eta2 = eta_after(&opt, 0.01, 1);
        let expected = step(step(1.0, eta1), eta2);
        assert!((expected - 0.98).abs() < 1e-5, "{expected}");
        // From the current lr instead: what the crate computed before (0.985).
        let one_step_ahead = step(step(1.0, eta1), eta_after(&opt, 0.005, 1));
        assert!((one_step_ahead - 0.985).abs() < 1e-5, "{one_step_ahead}");
        for backend in backends() {
            let mut asgd = opt;
            let (mut p, mut state) = ([1.0_f32], [0.0_f32; 3]);
            asgd.init_state(&mut state).unwrap();
            assert_eq!(state[1..], [eta1, 1.0]);
            asgd.step_with(backend, 1, &mut p, &[1.0], &mut state)
                .unwrap();
            assert_eq!(state[1].to_bits(), eta2.to_bits(), "{backend:?}");
            asgd.lr = 0.005;
            asgd.step_with(backend, 2, &mut p, &[1.0], &mut state)
                .unwrap();
            assert_eq!(p[0].to_bits(), expected.to_bits(), "{backend:?}");
            assert_eq!(
                state[0].to_bits(),
                expected.to_bits(),
                "ax: PyTorch's copy (mu = 1)"
            );
            // eta for step 3 comes from the lr of step 2; mu stays 1 (t0 = 1e6).
            let eta3 = eta_after(&asgd, 0.005, 2);
            assert_eq!(
                [state[1], state[2]].map(f32::to_bits),
                [eta3, 1.0].map(f32::to_bits)
            );
        }
    }

    /// Stopping after step k, copying parameters and state (`ax`, `eta`, `mu`) into fresh
    /// buffers and continuing there: the bits of not stopping, averaging or not.
    #[test]
    fn resumes_from_a_checkpoint() {
        for opt in super::variants() {
            for k in [1, 2, 7] {
                let state = check_resumes_from_a_copy(&opt, 37, k, 12);
                let scalars = [opt.eta(k + 1), opt.mu(k + 1)];
                assert_eq!(state[37..].to_vec(), scalars, "{opt:?}, {k}");
            }
        }
    }

    /// A run resumed from the plane after step k and `eta`, `mu` set by hand (PyTorch's
    /// formulas for step k + 1, which `Asgd::eta` and `Asgd::mu` give): the same bits as not
    /// stopping. `t0 = 3` so that `mu` falls below 1 (averaging) within the run.
    #[test]
    fn resumes_from_eta_and_mu_set_by_hand() {
        let opt = Asgd {
            lr: 0.05,
            lambd: 0.01,
            t0: 3.0,
            weight_decay: 0.001,
            ..Asgd::default()
        };
        for k in [1, 4, 5, 9] {
            let scalars = [eta_after(&opt, opt.lr, k), mu_after(&opt, k)];
            assert_eq!(scalars, [opt.eta(k + 1), opt.mu(k + 1)], "step {k}");
            check_resumes_from_scalars(&opt, 19, k, k + 6, &scalars);
        }
        assert!(mu_after(&opt, 9) < 1.0, "the run averages");
    }

    /// `step_planes` on pieces of the slices, every piece reading the same `eta` and `mu` (the
    /// whole scalars slice, unchanged by the pieces), then one `advance_scalars`: the bits of
    /// one `step`, after every step (`t0 = 0` variants average from step 3).
    #[test]
    fn sharded_steps_read_the_same_scalars() {
        for opt in super::variants() {
            check_sharded_equals_step(&opt, 1000, &[1, 333, 334, 999], 5);
        }
    }

    /// A step costs O(1) beyond its elements at any `t`: ASGD (copying and averaging) at
    /// t = 2⁶⁴ − 1, 2⁶⁴ − 2 and 2⁵³ + 1 on one element, every entry point, under a hang guard.
    #[test]
    fn steps_at_any_t_finish() {
        finishes_within(10, "ASGD steps at huge t", || {
            for opt in [
                Asgd::default(),
                Asgd {
                    t0: 0.0,
                    ..Asgd::default()
                },
            ] {
                for t in [u64::MAX, u64::MAX - 1, (1 << 53) + 1] {
                    for backend in backends() {
                        let (mut p, mut state) = ([1.0_f32], [0.0_f32; 3]);
                        opt.init_state(&mut state).unwrap();
                        opt.step_with(backend, t, &mut p, &[0.5], &mut state)
                            .unwrap();
                        assert!(p[0] < 1.0, "{opt:?}, {t}");
                        assert_eq!(
                            state[1..],
                            [opt.eta(t.saturating_add(1)), opt.mu(t.saturating_add(1))]
                        );
                        let (ax, scalars) = state.split_at_mut(1);
                        let mut slices: [&mut [f32]; 2] = [ax, &mut scalars[..]];
                        opt.step_planes_with(backend, t, &mut p, &[0.5], &mut slices)
                            .unwrap();
                        opt.advance_scalars(t, scalars).unwrap();
                    }
                }
            }
        });
    }
}

/// One step from the rustdoc equations, element by element (`tests/common/exact.rs`).
pub fn exact(optimizer: &Asgd, step: Buffers<'_, '_>) {
    let Buffers {
        t,
        params,
        grads,
        plane,
        scalars,
        ..
    } = step;
    let n = params.len();
    let tf = t as f64;
    let Asgd {
        lr,
        lambd,
        alpha,
        t0,
        weight_decay,
        maximize,
    } = *optimizer;
    let (eta, mu) = (scalars[0], scalars[1]);
    for j in 0..n {
        let g = grad(grads[j], params[j], maximize, weight_decay, true);
        let p = params[j] * k(1.0 - lambd * f64::from(eta));
        let p = fma(g, -eta, p);
        plane[0][j] = if mu != 1.0 {
            plane[0][j] + (p - plane[0][j]) * mu
        } else {
            p
        };
        params[j] = p;
    }
    scalars[0] = k(lr / (1.0 + lambd * lr * tf).powf(alpha));
    scalars[1] = k(1.0 / f64::max(1.0, tf - t0));
}

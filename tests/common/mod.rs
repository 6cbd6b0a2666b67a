//! Helpers shared by the integration tests: random optimizers covering every option, random
//! slices with mixed magnitudes, and NaN-aware bit comparison.
#![allow(dead_code)]

use fused_optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Asgd, Backend, Lion, NAdam, Optimizer, RAdam, RmsProp,
    Rprop, Sgd,
};
use proptest::prelude::*;

/// Any optimizer of the crate, with its hyper-parameters.
#[derive(Clone, Debug)]
pub enum AnyOptimizer {
    Sgd(Sgd),
    Adagrad(Adagrad),
    RmsProp(RmsProp),
    Adam(Adam),
    AdamW(AdamW),
    Adamax(Adamax),
    NAdam(NAdam),
    RAdam(RAdam),
    Adadelta(Adadelta),
    Rprop(Rprop),
    Asgd(Asgd),
    Lion(Lion),
}

impl AnyOptimizer {
    pub fn get(&self) -> &dyn Optimizer {
        match self {
            AnyOptimizer::Sgd(o) => o,
            AnyOptimizer::Adagrad(o) => o,
            AnyOptimizer::RmsProp(o) => o,
            AnyOptimizer::Adam(o) => o,
            AnyOptimizer::AdamW(o) => o,
            AnyOptimizer::Adamax(o) => o,
            AnyOptimizer::NAdam(o) => o,
            AnyOptimizer::RAdam(o) => o,
            AnyOptimizer::Adadelta(o) => o,
            AnyOptimizer::Rprop(o) => o,
            AnyOptimizer::Asgd(o) => o,
            AnyOptimizer::Lion(o) => o,
        }
    }

    /// The number of the first step the tests take: 1, except for RAdam, whose rectified
    /// kernel runs from step 6 at the earliest (`ρₜ < t`), so that its trajectories cross
    /// the switch. Step `i` (0-based) of a test's trajectory is `first_step() + i`.
    pub fn first_step(&self) -> u64 {
        match self {
            AnyOptimizer::RAdam(_) => RADAM_FIRST_STEP,
            _ => 1,
        }
    }
}

/// Where the tests' RAdam trajectories start, so that they cross the rectification switch:
/// with β2 = 0.999, step 5 is not rectified and steps 6 and later are; with β2 = 0.8, steps 7
/// and later are.
pub const RADAM_FIRST_STEP: u64 = 5;

/// Every concrete back-end this machine can run ([`Backend::Scalar`] first).
pub fn backends() -> Vec<Backend> {
    Backend::all()
        .into_iter()
        .filter(|b| b.is_available())
        .collect()
}

/// 0 half of the time (the option is off), otherwise a value in `range`.
fn maybe(range: core::ops::Range<f64>) -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), range]
}

pub fn any_sgd() -> impl Strategy<Value = Sgd> {
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

pub fn any_adagrad() -> impl Strategy<Value = Adagrad> {
    (
        0.0..1.0f64,
        maybe(0.0..0.5),
        maybe(0.0..0.1),
        maybe(0.0..1.0),
        prop_oneof![Just(1e-10), 0.0..1e-3],
        any::<bool>(),
    )
        .prop_map(
            |(lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize)| Adagrad {
                lr,
                lr_decay,
                weight_decay,
                initial_accumulator_value,
                eps,
                maximize,
            },
        )
}

pub fn any_rmsprop() -> impl Strategy<Value = RmsProp> {
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

pub fn any_adam() -> impl Strategy<Value = Adam> {
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

pub fn any_adamw() -> impl Strategy<Value = AdamW> {
    any_adam().prop_map(|a| AdamW {
        lr: a.lr,
        betas: a.betas,
        eps: a.eps,
        weight_decay: a.weight_decay,
        amsgrad: a.amsgrad,
        maximize: a.maximize,
    })
}

/// A first-moment decay: the default, or any (both of PyTorch's lerp formulas).
fn beta1() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.9), 0.0..1.0]
}

pub fn any_adamax() -> impl Strategy<Value = Adamax> {
    (
        0.0..1.0f64,
        (beta1(), prop_oneof![Just(0.999), 0.0..1.0]),
        prop_oneof![Just(1e-8), 0.0..1e-3],
        maybe(0.0..0.1),
        any::<bool>(),
    )
        .prop_map(|(lr, betas, eps, weight_decay, maximize)| Adamax {
            lr,
            betas,
            eps,
            weight_decay,
            maximize,
        })
}

pub fn any_nadam() -> impl Strategy<Value = NAdam> {
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

pub fn any_radam() -> impl Strategy<Value = RAdam> {
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

pub fn any_adadelta() -> impl Strategy<Value = Adadelta> {
    (
        0.0..2.0f64,
        prop_oneof![Just(0.9), Just(1.0), 0.0..1.0],
        prop_oneof![Just(1e-6), 0.0..1e-3],
        maybe(0.0..0.1),
        any::<bool>(),
    )
        .prop_map(|(lr, rho, eps, weight_decay, maximize)| Adadelta {
            lr,
            rho,
            eps,
            weight_decay,
            maximize,
        })
}

pub fn any_rprop() -> impl Strategy<Value = Rprop> {
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

pub fn any_asgd() -> impl Strategy<Value = Asgd> {
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

pub fn any_lion() -> impl Strategy<Value = Lion> {
    (
        0.0..1.0f64,
        (beta1(), prop_oneof![Just(0.99), 0.0..1.0]),
        maybe(0.0..0.1),
        any::<bool>(),
    )
        .prop_map(|(lr, betas, weight_decay, maximize)| Lion {
            lr,
            betas,
            weight_decay,
            maximize,
        })
}

pub fn any_optimizer() -> impl Strategy<Value = AnyOptimizer> {
    prop_oneof![
        any_sgd().prop_map(AnyOptimizer::Sgd),
        any_adagrad().prop_map(AnyOptimizer::Adagrad),
        any_rmsprop().prop_map(AnyOptimizer::RmsProp),
        any_adam().prop_map(AnyOptimizer::Adam),
        any_adamw().prop_map(AnyOptimizer::AdamW),
        any_adamax().prop_map(AnyOptimizer::Adamax),
        any_nadam().prop_map(AnyOptimizer::NAdam),
        any_radam().prop_map(AnyOptimizer::RAdam),
        any_adadelta().prop_map(AnyOptimizer::Adadelta),
        any_rprop().prop_map(AnyOptimizer::Rprop),
        any_asgd().prop_map(AnyOptimizer::Asgd),
        any_lion().prop_map(AnyOptimizer::Lion),
    ]
}

/// A value of magnitude 10^[-6, 3], either sign, or an exact zero now and then.
pub fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        1 => Just(0.0f32),
        1 => Just(-0.0f32),
        18 => (-6.0f32..3.0, any::<bool>()).prop_map(|(e, neg)| {
            let x = 10f32.powf(e);
            if neg { -x } else { x }
        }),
    ]
}

/// Any f32 at all: NaN, ±Inf, subnormals, ±0, huge.
pub fn any_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => value(),
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => Just(f32::MAX),
        1 => Just(f32::MIN_POSITIVE / 4.0),
        1 => any::<u32>().prop_map(f32::from_bits),
    ]
}

/// A problem: an optimizer, initial parameters, one gradient slice per step, and (for half of
/// the cases) arbitrary initial state values instead of `init_state`'s, as a checkpoint might
/// hold.
#[derive(Clone, Debug)]
pub struct Problem {
    pub optimizer: AnyOptimizer,
    pub params: Vec<f32>,
    pub grads: Vec<Vec<f32>>,
    pub state: Option<Vec<f32>>,
}

impl Problem {
    /// The state the problem starts from.
    pub fn initial_state(&self) -> Vec<f32> {
        let opt = self.optimizer.get();
        match &self.state {
            Some(values) => values[..opt.state_len(self.params.len())].to_vec(),
            None => initial_state(opt, self.params.len()),
        }
    }
}

pub fn problem(
    optimizer: impl Strategy<Value = AnyOptimizer>,
    max_len: usize,
    max_steps: usize,
    element: fn() -> BoxedStrategy<f32>,
) -> impl Strategy<Value = Problem> {
    (optimizer, 0..=max_len, 1..=max_steps).prop_flat_map(move |(optimizer, n, steps)| {
        (
            Just(optimizer),
            proptest::collection::vec(element(), n),
            proptest::collection::vec(proptest::collection::vec(element(), n), steps),
            // Either sign: a checkpoint may hold -0, and ties of -0 with +0 must break the
            // same way on every path.
            proptest::option::of(proptest::collection::vec(element(), 4 * n)),
        )
            .prop_map(|(optimizer, params, grads, state)| Problem {
                optimizer,
                params,
                grads,
                state,
            })
    })
}

pub fn finite_element() -> BoxedStrategy<f32> {
    value().boxed()
}

pub fn any_element() -> BoxedStrategy<f32> {
    any_f32().boxed()
}

/// The initial state of `optimizer` for `n` parameters.
pub fn initial_state(optimizer: &dyn Optimizer, n: usize) -> Vec<f32> {
    let mut state = vec![f32::NAN; optimizer.state_len(n)];
    optimizer.init_state(&mut state).expect("valid optimizer");
    state
}

/// Same bits, except that any NaN equals any NaN (payloads may differ between paths).
pub fn same_bits(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Index and values of the first element where `a` and `b` differ (see [`same_bits`]).
pub fn first_difference(a: &[f32], b: &[f32]) -> Option<(usize, f32, f32)> {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .position(|(x, y)| !same_bits(*x, *y))
        .map(|i| (i, a[i], b[i]))
}

/// Byte-for-byte equality, NaN payloads included: what "left untouched" means.
pub fn identical(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// One configuration for every combination of options that selects a different kernel
/// (momentum, Nesterov, weight decay modes, AMSGrad, centered, the two lerp forms, maximize,
/// RAdam's rectification, ASGD's averaging). Some kernels depend on the step number too:
/// RAdam's rectified steps come from step 6 on (hence [`AnyOptimizer::first_step`]), ASGD
/// with `t0 = 0` averages from step 3 on, and SGD's momentum has its own first step.
pub fn every_variant() -> Vec<AnyOptimizer> {
    let mut all = Vec::new();
    for maximize in [false, true] {
        for weight_decay in [0.0, 0.01] {
            for (momentum, dampening, nesterov) in [
                (0.0, 0.0, false),
                (0.9, 0.0, false),
                (0.9, 0.3, false),
                (0.9, 0.0, true),
            ] {
                all.push(AnyOptimizer::Sgd(Sgd {
                    lr: 0.1,
                    momentum,
                    dampening,
                    weight_decay,
                    nesterov,
                    maximize,
                }));
            }
            for lr_decay in [0.0, 0.1] {
                all.push(AnyOptimizer::Adagrad(Adagrad {
                    lr: 0.1,
                    lr_decay,
                    weight_decay,
                    initial_accumulator_value: 0.1,
                    maximize,
                    ..Adagrad::default()
                }));
            }
            for momentum in [0.0, 0.9] {
                for centered in [false, true] {
                    for alpha in [0.99, 0.3] {
                        all.push(AnyOptimizer::RmsProp(RmsProp {
                            lr: 0.01,
                            alpha,
                            weight_decay,
                            momentum,
                            centered,
                            maximize,
                            ..RmsProp::default()
                        }));
                    }
                }
            }
            for amsgrad in [false, true] {
                for beta1 in [0.9, 0.3] {
                    for decoupled_weight_decay in [false, true] {
                        all.push(AnyOptimizer::Adam(Adam {
                            lr: 0.01,
                            betas: (beta1, 0.999),
                            weight_decay,
                            amsgrad,
                            maximize,
                            decoupled_weight_decay,
                            ..Adam::default()
                        }));
                    }
                    all.push(AnyOptimizer::AdamW(AdamW {
                        lr: 0.01,
                        betas: (beta1, 0.999),
                        weight_decay,
                        amsgrad,
                        maximize,
                        ..AdamW::default()
                    }));
                }
            }
            for beta1 in [0.9, 0.3] {
                all.push(AnyOptimizer::Adamax(Adamax {
                    lr: 0.01,
                    betas: (beta1, 0.999),
                    weight_decay,
                    maximize,
                    ..Adamax::default()
                }));
                for decoupled_weight_decay in [false, true] {
                    all.push(AnyOptimizer::NAdam(NAdam {
                        lr: 0.01,
                        betas: (beta1, 0.999),
                        weight_decay,
                        decoupled_weight_decay,
                        maximize,
                        ..NAdam::default()
                    }));
                    // β2 = 0.999: rectified from step 6; β2 = 0.5: never (ρ∞ = 3).
                    for beta2 in [0.999, 0.5] {
                        all.push(AnyOptimizer::RAdam(RAdam {
                            lr: 0.01,
                            betas: (beta1, beta2),
                            weight_decay,
                            decoupled_weight_decay,
                            maximize,
                            ..RAdam::default()
                        }));
                    }
                }
            }
            all.push(AnyOptimizer::Adadelta(Adadelta {
                weight_decay,
                maximize,
                ..Adadelta::default()
            }));
            // t0 = 1e6: ax is a copy of p; t0 = 0: averaging from step 3.
            for t0 in [1e6, 0.0] {
                all.push(AnyOptimizer::Asgd(Asgd {
                    lr: 0.1,
                    lambd: 0.01,
                    t0,
                    weight_decay,
                    maximize,
                    ..Asgd::default()
                }));
            }
            // Lion's weight decay is decoupled (one kernel with, one without).
            all.push(AnyOptimizer::Lion(Lion {
                lr: 0.01,
                weight_decay,
                maximize,
                ..Lion::default()
            }));
            if weight_decay == 0.0 {
                // Rprop has no weight decay.
                all.push(AnyOptimizer::Rprop(Rprop {
                    lr: 0.01,
                    maximize,
                    ..Rprop::default()
                }));
            }
        }
    }
    all
}

/// Deterministic pseudo-random values of mixed magnitudes (for tests that are not proptests).
pub fn pseudo_random(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let unit = (x >> 40) as f32 / (1u64 << 24) as f32; // [0, 1)
            let exponent = (x & 0xff) as f32 / 255.0 * 6.0 - 4.0; // [-4, 2]
            let sign = if x & 0x100 != 0 { -1.0 } else { 1.0 };
            sign * (0.5 + unit) * 10f32.powf(exponent)
        })
        .collect()
}

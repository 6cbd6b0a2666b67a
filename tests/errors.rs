//! Bad input never panics and never writes: every refused call leaves every buffer
//! byte-identical and returns the typed error that names the problem.

mod common;

use common::*;
use fused_optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Asgd, Backend, Error, Lion, NAdam, Optimizer, RAdam,
    RmsProp, Rprop, Sgd,
};
use proptest::prelude::*;

const BAD_NON_NEGATIVE: [f64; 4] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e-3];
const BAD_FINITE: [f64; 3] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
const BAD_UNIT: [f64; 6] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e-3, 1.0, 1.5];

/// Every optimizer with one hyper-parameter made invalid, and the name the error must give.
fn invalid_optimizers() -> Vec<(AnyOptimizer, &'static str)> {
    let mut all = Vec::new();
    for bad in BAD_NON_NEGATIVE {
        let sgd = Sgd::default();
        all.push((AnyOptimizer::Sgd(Sgd { lr: bad, ..sgd }), "lr"));
        all.push((
            AnyOptimizer::Sgd(Sgd {
                momentum: bad,
                ..sgd
            }),
            "momentum",
        ));
        all.push((
            AnyOptimizer::Sgd(Sgd {
                weight_decay: bad,
                ..sgd
            }),
            "weight_decay",
        ));

        let ada = Adagrad::default();
        all.push((AnyOptimizer::Adagrad(Adagrad { lr: bad, ..ada }), "lr"));
        all.push((
            AnyOptimizer::Adagrad(Adagrad {
                lr_decay: bad,
                ..ada
            }),
            "lr_decay",
        ));
        all.push((
            AnyOptimizer::Adagrad(Adagrad {
                weight_decay: bad,
                ..ada
            }),
            "weight_decay",
        ));
        all.push((
            AnyOptimizer::Adagrad(Adagrad {
                initial_accumulator_value: bad,
                ..ada
            }),
            "initial_accumulator_value",
        ));
        all.push((AnyOptimizer::Adagrad(Adagrad { eps: bad, ..ada }), "eps"));

        let rms = RmsProp::default();
        all.push((AnyOptimizer::RmsProp(RmsProp { lr: bad, ..rms }), "lr"));
        all.push((
            AnyOptimizer::RmsProp(RmsProp { alpha: bad, ..rms }),
            "alpha",
        ));
        all.push((AnyOptimizer::RmsProp(RmsProp { eps: bad, ..rms }), "eps"));
        all.push((
            AnyOptimizer::RmsProp(RmsProp {
                weight_decay: bad,
                ..rms
            }),
            "weight_decay",
        ));
        all.push((
            AnyOptimizer::RmsProp(RmsProp {
                momentum: bad,
                ..rms
            }),
            "momentum",
        ));

        let adam = Adam::default();
        all.push((AnyOptimizer::Adam(Adam { lr: bad, ..adam }), "lr"));
        all.push((AnyOptimizer::Adam(Adam { eps: bad, ..adam }), "eps"));
        all.push((
            AnyOptimizer::Adam(Adam {
                weight_decay: bad,
                ..adam
            }),
            "weight_decay",
        ));

        let adamw = AdamW::default();
        all.push((AnyOptimizer::AdamW(AdamW { lr: bad, ..adamw }), "lr"));
        all.push((AnyOptimizer::AdamW(AdamW { eps: bad, ..adamw }), "eps"));
        all.push((
            AnyOptimizer::AdamW(AdamW {
                weight_decay: bad,
                ..adamw
            }),
            "weight_decay",
        ));

        let o = Adamax::default();
        all.push((AnyOptimizer::Adamax(Adamax { lr: bad, ..o }), "lr"));
        all.push((AnyOptimizer::Adamax(Adamax { eps: bad, ..o }), "eps"));
        all.push((
            AnyOptimizer::Adamax(Adamax {
                weight_decay: bad,
                ..o
            }),
            "weight_decay",
        ));

        let o = NAdam::default();
        all.push((AnyOptimizer::NAdam(NAdam { lr: bad, ..o }), "lr"));
        all.push((AnyOptimizer::NAdam(NAdam { eps: bad, ..o }), "eps"));
        all.push((
            AnyOptimizer::NAdam(NAdam {
                weight_decay: bad,
                ..o
            }),
            "weight_decay",
        ));
        all.push((
            AnyOptimizer::NAdam(NAdam {
                momentum_decay: bad,
                ..o
            }),
            "momentum_decay",
        ));

        let o = RAdam::default();
        all.push((AnyOptimizer::RAdam(RAdam { lr: bad, ..o }), "lr"));
        all.push((AnyOptimizer::RAdam(RAdam { eps: bad, ..o }), "eps"));
        all.push((
            AnyOptimizer::RAdam(RAdam {
                weight_decay: bad,
                ..o
            }),
            "weight_decay",
        ));

        let o = Adadelta::default();
        all.push((AnyOptimizer::Adadelta(Adadelta { lr: bad, ..o }), "lr"));
        all.push((AnyOptimizer::Adadelta(Adadelta { eps: bad, ..o }), "eps"));
        all.push((
            AnyOptimizer::Adadelta(Adadelta {
                weight_decay: bad,
                ..o
            }),
            "weight_decay",
        ));

        let o = Rprop::default();
        all.push((AnyOptimizer::Rprop(Rprop { lr: bad, ..o }), "lr"));
        all.push((
            AnyOptimizer::Rprop(Rprop {
                step_sizes: (bad, 50.0),
                ..o
            }),
            "step_sizes.0",
        ));
        all.push((
            AnyOptimizer::Rprop(Rprop {
                step_sizes: (1e-6, bad),
                ..o
            }),
            "step_sizes.1",
        ));

        let o = Asgd::default();
        all.push((AnyOptimizer::Asgd(Asgd { lr: bad, ..o }), "lr"));
        all.push((AnyOptimizer::Asgd(Asgd { lambd: bad, ..o }), "lambd"));
        all.push((AnyOptimizer::Asgd(Asgd { alpha: bad, ..o }), "alpha"));
        all.push((
            AnyOptimizer::Asgd(Asgd {
                weight_decay: bad,
                ..o
            }),
            "weight_decay",
        ));

        let o = Lion::default();
        all.push((AnyOptimizer::Lion(Lion { lr: bad, ..o }), "lr"));
        all.push((
            AnyOptimizer::Lion(Lion {
                weight_decay: bad,
                ..o
            }),
            "weight_decay",
        ));
    }
    for bad in BAD_FINITE {
        all.push((
            AnyOptimizer::Asgd(Asgd {
                t0: bad,
                ..Asgd::default()
            }),
            "t0",
        ));
        let sgd = Sgd {
            momentum: 0.9,
            ..Sgd::default()
        };
        all.push((
            AnyOptimizer::Sgd(Sgd {
                dampening: bad,
                ..sgd
            }),
            "dampening",
        ));
    }
    for bad in BAD_UNIT {
        let adam = Adam::default();
        all.push((
            AnyOptimizer::Adam(Adam {
                betas: (bad, 0.999),
                ..adam
            }),
            "betas.0",
        ));
        all.push((
            AnyOptimizer::Adam(Adam {
                betas: (0.9, bad),
                ..adam
            }),
            "betas.1",
        ));
        let adamw = AdamW::default();
        all.push((
            AnyOptimizer::AdamW(AdamW {
                betas: (bad, 0.999),
                ..adamw
            }),
            "betas.0",
        ));
        all.push((
            AnyOptimizer::AdamW(AdamW {
                betas: (0.9, bad),
                ..adamw
            }),
            "betas.1",
        ));
        for (betas, name) in [((bad, 0.999), "betas.0"), ((0.9, bad), "betas.1")] {
            all.push((
                AnyOptimizer::Adamax(Adamax {
                    betas,
                    ..Adamax::default()
                }),
                name,
            ));
            all.push((
                AnyOptimizer::NAdam(NAdam {
                    betas,
                    ..NAdam::default()
                }),
                name,
            ));
            all.push((
                AnyOptimizer::RAdam(RAdam {
                    betas,
                    ..RAdam::default()
                }),
                name,
            ));
            all.push((
                AnyOptimizer::Lion(Lion {
                    betas,
                    ..Lion::default()
                }),
                name,
            ));
        }
    }
    // Adadelta's rho may be 1 (PyTorch allows it); Rprop's etas must straddle 1.
    for bad in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1e-3,
        1.0 + 1e-9,
        1.5,
    ] {
        all.push((
            AnyOptimizer::Adadelta(Adadelta {
                rho: bad,
                ..Adadelta::default()
            }),
            "rho",
        ));
    }
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
            AnyOptimizer::Rprop(Rprop {
                etas: (bad, 1.2),
                ..Rprop::default()
            }),
            "etas.0",
        ));
    }
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5, 1.0] {
        all.push((
            AnyOptimizer::Rprop(Rprop {
                etas: (0.5, bad),
                ..Rprop::default()
            }),
            "etas.1",
        ));
    }
    all
}

/// Options PyTorch refuses together.
fn incompatible_optimizers() -> Vec<AnyOptimizer> {
    vec![
        AnyOptimizer::Sgd(Sgd {
            nesterov: true,
            ..Sgd::default()
        }),
        AnyOptimizer::Sgd(Sgd {
            nesterov: true,
            momentum: 0.9,
            dampening: 0.1,
            ..Sgd::default()
        }),
        // Rprop's minimum step size above its maximum (PyTorch would clamp every step size
        // to the maximum).
        AnyOptimizer::Rprop(Rprop {
            step_sizes: (1.0, 0.5),
            ..Rprop::default()
        }),
    ]
}

/// Buffers filled with arbitrary values; returns them and a copy to compare against.
struct Buffers {
    params: Vec<f32>,
    grads: Vec<f32>,
    state: Vec<f32>,
}

impl Buffers {
    fn new(n: usize, grads: usize, state: usize, seed: u64) -> Self {
        Buffers {
            params: pseudo_random(n, seed),
            grads: pseudo_random(grads, seed + 1),
            state: pseudo_random(state, seed + 2)
                .iter()
                .map(|x| x.abs())
                .collect(),
        }
    }

    /// Runs a call that must fail with `expected`, on both `step_with` back-ends and on
    /// `step_planes`, and checks nothing was written.
    fn refuse(&mut self, any: &AnyOptimizer, t: u64, expected: impl Fn(&Error) -> bool) {
        let opt = any.get();
        let (params, grads, state) = (self.params.clone(), self.grads.clone(), self.state.clone());
        for backend in std::iter::once(Backend::Auto).chain(backends()) {
            let err = opt
                .step_with(backend, t, &mut self.params, &self.grads, &mut self.state)
                .expect_err("the call must be refused");
            assert!(expected(&err), "{any:?}: unexpected {err:?}");
            assert!(!err.to_string().is_empty());
            assert!(identical(&self.params, &params), "{any:?}: params written");
            assert!(identical(&self.state, &state), "{any:?}: state written");
            assert!(identical(&self.grads, &grads));
        }
    }
}

#[test]
fn invalid_hyper_parameters_are_refused_before_any_write() {
    for (any, name) in invalid_optimizers() {
        let opt = any.get();
        assert!(
            matches!(opt.validate(), Err(Error::InvalidHyperParameter { name: n, .. }) if n == name)
        );
        let n = 37;
        let mut buffers = Buffers::new(n, n, opt.state_len(n), 7);
        buffers.refuse(
            &any,
            1,
            |e| matches!(e, Error::InvalidHyperParameter { name: n, .. } if *n == name),
        );
        // init_state refuses too, and leaves the buffer alone.
        let before = buffers.state.clone();
        assert!(opt.init_state(&mut buffers.state).is_err());
        assert!(identical(&buffers.state, &before));
    }
}

#[test]
fn incompatible_options_are_refused_before_any_write() {
    for any in incompatible_optimizers() {
        let mut buffers = Buffers::new(20, 20, 20, 3);
        buffers.refuse(&any, 1, |e| matches!(e, Error::IncompatibleOptions { .. }));
    }
}

#[test]
fn step_zero_is_refused_before_any_write() {
    for any in every_variant() {
        let mut buffers = Buffers::new(19, 19, any.get().state_len(19), 11);
        buffers.refuse(&any, 0, |e| *e == Error::ZeroStep);
    }
}

#[test]
fn length_mismatches_are_refused_before_any_write() {
    for any in every_variant() {
        let opt = any.get();
        let n = 33;
        let k = opt.state_planes();
        for grads in [0, n - 1, n + 1] {
            let mut buffers = Buffers::new(n, grads, k * n, 5);
            buffers.refuse(&any, 2, |e| {
                matches!(e, Error::LengthMismatch { what: "grads", expected, found }
                    if *expected == n && *found == grads)
            });
        }
        for state in [0, k * n + 1, k * n.saturating_sub(1), (k + 1) * n] {
            if state == k * n {
                continue;
            }
            let mut buffers = Buffers::new(n, n, state, 6);
            buffers.refuse(&any, 2, |e| {
                matches!(e, Error::LengthMismatch { what: "state", expected, found }
                    if *expected == k * n && *found == state)
            });
        }
    }
}

#[test]
fn plane_mismatches_are_refused_before_any_write() {
    for opt in every_variant() {
        let opt = opt.get();
        let n = 21;
        let k = opt.state_planes();
        let params = pseudo_random(n, 1);
        let grads = pseudo_random(n, 2);
        let mut storage = vec![pseudo_random(n + 1, 3); k + 1];
        let before = storage.clone();

        // One plane too many, one too few.
        for count in [k + 1, k.saturating_sub(1)] {
            if count == k {
                continue;
            }
            let mut p = params.clone();
            let mut planes: Vec<&mut [f32]> = storage
                .iter_mut()
                .take(count)
                .map(|s| &mut s[..n])
                .collect();
            let err = opt.step_planes(1, &mut p, &grads, &mut planes).unwrap_err();
            assert_eq!(
                err,
                Error::PlaneCount {
                    expected: k,
                    found: count
                }
            );
            assert!(identical(&p, &params));
        }
        // The right count, one plane of the wrong length (the last one).
        if k > 0 {
            let mut p = params.clone();
            let mut planes: Vec<&mut [f32]> = storage
                .iter_mut()
                .take(k)
                .enumerate()
                .map(|(i, s)| if i + 1 == k { &mut s[..] } else { &mut s[..n] })
                .collect();
            let err = opt.step_planes(1, &mut p, &grads, &mut planes).unwrap_err();
            assert!(
                matches!(err, Error::LengthMismatch { what: "state plane", expected, found }
                if expected == n && found == n + 1)
            );
            assert!(identical(&p, &params));
        }
        for (s, b) in storage.iter().zip(&before) {
            assert!(identical(s, b));
        }
    }
}

#[test]
fn init_state_refuses_lengths_that_are_not_whole_planes() {
    for opt in every_variant() {
        let opt = opt.get();
        let k = opt.state_planes();
        if k == 1 {
            continue; // every length is a whole number of single planes
        }
        let bad = if k == 0 { 5 } else { 3 * k + 1 };
        let mut state = pseudo_random(bad, 9);
        let before = state.clone();
        assert!(matches!(
            opt.init_state(&mut state),
            Err(Error::LengthMismatch { what: "state", .. })
        ));
        assert!(identical(&state, &before));
    }
}

#[test]
fn errors_display_what_is_wrong() {
    let err = Adam {
        lr: f64::NAN,
        ..Adam::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid lr: NaN (expected finite and >= 0)"
    );
    let err = Adam {
        betas: (1.0, 0.999),
        ..Adam::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(err.to_string(), "invalid betas.0: 1 (expected in [0, 1))");
    let err = Sgd::default()
        .step(1, &mut [0.0; 3], &[0.0; 2], &mut [])
        .unwrap_err();
    assert_eq!(err.to_string(), "grads has length 2, expected 3");
    assert_eq!(
        Sgd::default()
            .step(0, &mut [], &[], &mut [])
            .unwrap_err()
            .to_string(),
        "step number t must be >= 1 (steps count from 1)"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(Error::ZeroStep);
    assert!(boxed.to_string().contains("t must be"));
}

/// A back-end this machine cannot run (AVX on aarch64, say) is refused, not emulated.
#[test]
fn unavailable_backends_are_refused_before_any_write() {
    for backend in Backend::all().into_iter().filter(|b| !b.is_available()) {
        let opt = Adam::default();
        let mut params = pseudo_random(40, 1);
        let mut state = vec![0.0; 80];
        let before = params.clone();
        let err = opt.step_with(backend, 1, &mut params, &pseudo_random(40, 2), &mut state);
        assert_eq!(err, Err(Error::BackendUnavailable { backend }));
        assert!(identical(&params, &before) && state.iter().all(|&x| x == 0.0));
    }
}

#[derive(Clone, Debug)]
enum Corruption {
    Grads(usize),
    State(usize),
    StepZero,
    HyperParameter(usize),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any optimizer, any values (NaN, Inf, subnormal...), one thing wrong with the call:
    /// an error, and every buffer byte-identical.
    #[test]
    fn any_bad_call_writes_nothing(
        opt in any_optimizer(),
        n in 0usize..300,
        values in proptest::collection::vec(any_f32(), 1500),
        corruption in prop_oneof![
            (0usize..600).prop_map(Corruption::Grads),
            (0usize..1500).prop_map(Corruption::State),
            Just(Corruption::StepZero),
            (0usize..1000).prop_map(Corruption::HyperParameter),
        ],
    ) {
        let invalid = invalid_optimizers();
        let valid_state = opt.get().state_len(n);
        let (opt, t, grads_len, state_len) = match corruption {
            Corruption::Grads(len) if len != n => (opt, 1, len, valid_state),
            Corruption::State(len) if len != valid_state => (opt, 1, n, len),
            Corruption::HyperParameter(i) => {
                let bad = invalid[i % invalid.len()].0.clone();
                let len = bad.get().state_len(n);
                (bad, 1, n, len)
            }
            _ => (opt, 0, n, valid_state),
        };
        let opt = opt.get();
        let mut params = values[..n].to_vec();
        let grads = values[n..n + grads_len].to_vec();
        let mut state = values[values.len() - state_len..].to_vec();
        let (p0, s0) = (params.clone(), state.clone());
        prop_assert!(opt.step(t, &mut params, &grads, &mut state).is_err());
        prop_assert!(identical(&params, &p0));
        prop_assert!(identical(&state, &s0));
    }
}

/// The learning rate is reachable through `dyn Optimizer`, and a bad one set that way is
/// refused at the next step like any other.
#[test]
fn lr_through_the_trait() {
    for any in every_variant() {
        let mut boxed: Box<dyn Optimizer> = match any {
            AnyOptimizer::Sgd(o) => Box::new(o),
            AnyOptimizer::Adagrad(o) => Box::new(o),
            AnyOptimizer::RmsProp(o) => Box::new(o),
            AnyOptimizer::Adam(o) => Box::new(o),
            AnyOptimizer::AdamW(o) => Box::new(o),
            AnyOptimizer::Adamax(o) => Box::new(o),
            AnyOptimizer::NAdam(o) => Box::new(o),
            AnyOptimizer::RAdam(o) => Box::new(o),
            AnyOptimizer::Adadelta(o) => Box::new(o),
            AnyOptimizer::Rprop(o) => Box::new(o),
            AnyOptimizer::Asgd(o) => Box::new(o),
            AnyOptimizer::Lion(o) => Box::new(o),
        };
        boxed.set_lr(0.25);
        assert_eq!(boxed.lr(), 0.25);
        assert!(format!("{boxed:?}").contains("lr: 0.25"));
        boxed.set_lr(-1.0);
        let mut p = [1.0f32; 4];
        let mut s = vec![0.0; boxed.state_len(4)];
        assert!(matches!(
            boxed.step(1, &mut p, &[1.0; 4], &mut s),
            Err(Error::InvalidHyperParameter { name: "lr", .. })
        ));
        assert_eq!(p, [1.0; 4]);
    }
}

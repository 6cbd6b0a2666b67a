//! Bad input never panics and never writes: every refused call leaves every buffer
//! byte-identical and returns the typed error that names the problem.

use fused_optim::pipeline::{GradPipeline, GradStats, Group};
use fused_optim::{Adam, AnyOptimizer, Backend, Error, HyperParameter, Optimizer, Sgd};
use proptest::prelude::*;

use crate::common::*;
use crate::registry::{any_optimizer, every_variant, refused};

/// The smallest `f64` that rounds to an infinite `f32`: `f32::MAX` plus half its ulp (the
/// tie rounds to even, which is the infinity). The kernels use hyper-parameters as `f32`.
pub const F32_OVERFLOW: f64 = 3.4028235677973366e38;

/// Values a hyper-parameter that must be finite (as `f32`) and non-negative is refused with.
pub const BAD_NON_NEGATIVE: [f64; 7] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -1e-3,
    F32_OVERFLOW,
    1e39,
    f64::MAX,
];
/// Values a hyper-parameter that must be finite (as `f32`) is refused with.
pub const BAD_FINITE: [f64; 5] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    F32_OVERFLOW,
    -F32_OVERFLOW,
];
/// Values a decay rate in `[0, 1)` is refused with.
pub const BAD_UNIT: [f64; 6] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e-3, 1.0, 1.5];

/// The error a refused optimizer (each module's `refused()`) must give.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Refusal {
    /// `Error::InvalidHyperParameter` naming this hyper-parameter (`"betas.0"` for a pair's
    /// first value).
    Invalid(&'static str),
    /// `Error::IncompatibleOptions`: options PyTorch refuses together.
    Incompatible,
}

impl Refusal {
    fn matches(self, err: &Error) -> bool {
        match self {
            Refusal::Invalid(name) => {
                matches!(err, Error::InvalidHyperParameter { name: n, .. } if *n == name)
            }
            Refusal::Incompatible => matches!(err, Error::IncompatibleOptions { .. }),
        }
    }
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

    /// Runs a call that must fail with `expected` on every back-end, through `step_with` and
    /// (when the state splits into whole planes) `step_planes_with`, and checks nothing was
    /// written.
    fn refuse(&mut self, any: &AnyOptimizer, t: u64, expected: impl Fn(&Error) -> bool) {
        let opt = any.as_dyn();
        let (params, grads, state) = (self.params.clone(), self.grads.clone(), self.state.clone());
        let n = self.params.len();
        let k = opt.state_planes();
        let s = opt.scalar_names().len();
        for backend in backends() {
            let err = opt
                .step_with(backend, t, &mut self.params, &self.grads, &mut self.state)
                .expect_err("the call must be refused");
            assert!(expected(&err), "{any:?} on {backend:?}: unexpected {err:?}");
            assert!(!err.to_string().is_empty());
            if n > 0 && self.state.len() == k * n + s && self.grads.len() == n {
                // The planes, then (if any) the scalar state as one more slice.
                let (elements, scalars) = self.state.split_at_mut(k * n);
                let mut planes: Vec<&mut [f32]> = elements.chunks_mut(n).collect();
                if s > 0 {
                    planes.push(scalars);
                }
                let err = opt
                    .step_planes_with(backend, t, &mut self.params, &self.grads, &mut planes)
                    .expect_err("the call must be refused");
                assert!(expected(&err), "{any:?} on {backend:?}: unexpected {err:?}");
            }
            assert!(identical(&self.params, &params), "{any:?}: params written");
            assert!(identical(&self.state, &state), "{any:?}: state written");
            assert!(identical(&self.grads, &grads));
        }
    }
}

#[test]
fn invalid_hyper_parameters_are_refused_before_any_write() {
    let mut checked = 0;
    for (mut any, refusal) in refused() {
        let Refusal::Invalid(name) = refusal else {
            continue;
        };
        // The name is one of the optimizer's hyper-parameters (`"betas.0"`: of `betas`).
        let field = name.split('.').next().unwrap();
        let mut fields = Vec::new();
        any.hyper_parameters(&mut |f, value| {
            fields.push((f, matches!(value, HyperParameter::Pair(_))))
        });
        assert!(
            fields
                .iter()
                .any(|&(f, pair)| f == field && pair == name.contains('.')),
            "{any:?}: no hyper-parameter {name} in {fields:?}"
        );
        let opt = any.as_dyn();
        assert!(refusal.matches(&opt.validate().unwrap_err()), "{any:?}");
        let n = 37;
        let mut buffers = Buffers::new(n, n, opt.state_len(n), 7);
        buffers.refuse(&any, 1, |e| refusal.matches(e));
        // init_state refuses too, and leaves the buffer alone.
        let before = buffers.state.clone();
        assert!(opt.init_state(&mut buffers.state).is_err());
        assert!(identical(&buffers.state, &before));
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn incompatible_options_are_refused_before_any_write() {
    let mut checked = 0;
    for (any, refusal) in refused() {
        if refusal != Refusal::Incompatible {
            continue;
        }
        assert!(refusal.matches(&any.validate().unwrap_err()), "{any:?}");
        let mut buffers = Buffers::new(20, 20, 20, 3);
        buffers.refuse(&any, 1, |e| refusal.matches(e));
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn step_zero_is_refused_before_any_write() {
    for any in every_variant() {
        let mut buffers = Buffers::new(19, 19, any.state_len(19), 11);
        buffers.refuse(&any, 0, |e| *e == Error::ZeroStep);
    }
}

#[test]
fn length_mismatches_are_refused_before_any_write() {
    for any in every_variant() {
        let opt = any.as_dyn();
        let n = 33;
        let full = opt.state_len(n); // the planes and the scalar state
        for grads in [0, n - 1, n + 1] {
            let mut buffers = Buffers::new(n, grads, full, 5);
            buffers.refuse(&any, 2, |e| {
                matches!(e, Error::LengthMismatch { what: "grads", expected, found }
                    if *expected == n && *found == grads)
            });
        }
        for state in [0, full + 1, full.saturating_sub(1), full + n] {
            if state == full {
                continue;
            }
            let mut buffers = Buffers::new(n, n, state, 6);
            buffers.refuse(&any, 2, |e| {
                matches!(e, Error::LengthMismatch { what: "state", expected, found }
                    if *expected == full && *found == state)
            });
        }
    }
}

#[test]
fn plane_mismatches_are_refused_before_any_write() {
    for any in every_variant() {
        let opt = any.as_dyn();
        let n = 21;
        let k = opt.state_planes();
        // With scalar state, `step_planes` takes one more slice: the scalars.
        let expected_count = k + usize::from(!opt.scalar_names().is_empty());
        let params = pseudo_random(n, 1);
        let grads = pseudo_random(n, 2);
        let mut storage = vec![pseudo_random(n + 1, 3); expected_count + 1];
        let before = storage.clone();

        for backend in backends() {
            // One plane too many, one too few.
            for count in [expected_count + 1, expected_count.saturating_sub(1)] {
                if count == expected_count {
                    continue;
                }
                let mut p = params.clone();
                let mut planes: Vec<&mut [f32]> = storage
                    .iter_mut()
                    .take(count)
                    .map(|s| &mut s[..n])
                    .collect();
                let err = opt
                    .step_planes_with(backend, 1, &mut p, &grads, &mut planes)
                    .unwrap_err();
                assert_eq!(
                    err,
                    Error::PlaneCount {
                        expected: expected_count,
                        found: count
                    }
                );
                assert!(identical(&p, &params));
            }
            // The right count, one plane of the wrong length (the last one).
            if k > 0 {
                let mut p = params.clone();
                let mut scalars = initial_state(opt, 0);
                let mut planes: Vec<&mut [f32]> = storage
                    .iter_mut()
                    .take(k)
                    .enumerate()
                    .map(|(i, s)| if i + 1 == k { &mut s[..] } else { &mut s[..n] })
                    .collect();
                if !scalars.is_empty() {
                    planes.push(&mut scalars[..]);
                }
                let err = opt
                    .step_planes_with(backend, 1, &mut p, &grads, &mut planes)
                    .unwrap_err();
                assert!(
                    matches!(err, Error::LengthMismatch { what: "state plane", expected, found }
                    if expected == n && found == n + 1)
                );
                assert!(identical(&p, &params));
            }
        }
        for (s, b) in storage.iter().zip(&before) {
            assert!(identical(s, b));
        }
    }
}

#[test]
fn init_state_refuses_lengths_that_are_not_whole_planes() {
    let mut checked = 0;
    for any in every_variant() {
        let k = any.state_planes();
        if k == 1 {
            continue; // every length is a whole number of single planes
        }
        // Past the scalar state (which comes after the planes), not a whole number of planes.
        let bad = opt_scalars(&any) + if k == 0 { 5 } else { 3 * k + 1 };
        let mut state = pseudo_random(bad, 9);
        let before = state.clone();
        assert!(matches!(
            any.init_state(&mut state),
            Err(Error::LengthMismatch { what: "state", .. })
        ));
        assert!(identical(&state, &before));
        checked += 1;
    }
    assert!(checked > 0);
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
        "invalid lr: NaN (expected finite as f32 and >= 0)"
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
    let mut state = [0.0, 0.0, 1.5]; // exp_avg, exp_avg_sq, mu_product
    let err = fused_optim::NAdam::default()
        .step(1, &mut [0.0], &[0.0], &mut state)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid state mu_product: 1.5 (expected in [0, 1])"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(Error::ZeroStep);
    assert!(boxed.to_string().contains("t must be"));
}

/// Every back-end either runs (where available) or is refused before any write, not
/// emulated (AVX on aarch64, say); and which ones are available is what the CPU reports. On
/// a machine with every back-end (AVX-512) nothing is refused here: the refusal runs where a
/// back-end is missing (Miri's baseline pass, aarch64).
#[test]
fn backends_run_where_available_and_are_refused_elsewhere() {
    let opt = Adam::default();
    for backend in Backend::all().into_iter().chain([Backend::Auto]) {
        let mut params = pseudo_random(40, 1);
        let mut state = vec![0.0; 80];
        let before = params.clone();
        let result = opt.step_with(backend, 1, &mut params, &pseudo_random(40, 2), &mut state);
        if backend.is_available() {
            assert_eq!(result, Ok(()), "{backend:?}");
            assert!(!identical(&params, &before), "{backend:?}: nothing stepped");
        } else {
            assert_eq!(result, Err(Error::BackendUnavailable { backend }));
            assert!(identical(&params, &before) && state.iter().all(|&x| x == 0.0));
        }
    }
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    let available = [
        std::is_x86_feature_detected!("avx2"),
        std::is_x86_feature_detected!("avx512f"),
    ];
    #[cfg(not(all(target_arch = "x86_64", feature = "std")))]
    let available = [false, false];
    assert_eq!(
        [Backend::Avx2.is_available(), Backend::Avx512.is_available()],
        available
    );
    assert!(Backend::Scalar.is_available() && Backend::Simd.is_available());
}

#[derive(Clone, Debug)]
enum Corruption {
    Grads(usize),
    State(usize),
    StepZero,
    HyperParameter(usize),
    /// An invalid value of the scalar state, if the optimizer has any (else step 0).
    Scalar(usize, usize),
}

proptest! {
    #![proptest_config(config(512))]

    /// Any optimizer, any values (NaN, Inf, subnormal...), one thing wrong with the call:
    /// an error on every back-end, and every buffer byte-identical.
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
            (0usize..8, 0usize..16).prop_map(|(i, v)| Corruption::Scalar(i, v)),
        ],
    ) {
        let refused = refused();
        let valid_state = opt.state_len(n);
        let (opt, t, grads_len, state_len) = match corruption {
            Corruption::Grads(len) if len != n => (opt, 1, len, valid_state),
            Corruption::State(len) if len != valid_state => (opt, 1, n, len),
            Corruption::HyperParameter(i) => {
                let bad = refused[i % refused.len()].0;
                let len = bad.state_len(n);
                (bad, 1, n, len)
            }
            Corruption::Scalar(..) if !opt.scalar_names().is_empty() => (opt, 1, n, valid_state),
            _ => (opt, 0, n, valid_state),
        };
        let mut params = values[..n].to_vec();
        let grads = values[n..n + grads_len].to_vec();
        let mut state = values[values.len() - state_len..].to_vec();
        if let Corruption::Scalar(i, v) = corruption {
            // Valid scalars but one (the planes stay arbitrary).
            let planes = opt.state_planes() * n;
            let mut scalars = initial_state(&opt, 0);
            if let Some(name) = opt.scalar_names().get(i % scalars.len().max(1)) {
                let bad = scalar_values(name).1;
                let at = i % scalars.len();
                scalars[at] = bad[v % bad.len()];
                state[planes..].copy_from_slice(&scalars);
            }
        }
        let (p0, s0) = (params.clone(), state.clone());
        for backend in backends() {
            prop_assert!(opt.step_with(backend, t, &mut params, &grads, &mut state).is_err());
            prop_assert!(identical(&params, &p0));
            prop_assert!(identical(&state, &s0));
        }
    }
}

/// The learning rate is reachable through `dyn Optimizer`, and a bad one set that way is
/// refused at the next step like any other.
#[test]
fn lr_through_the_trait() {
    for mut any in every_variant() {
        let boxed: &mut dyn Optimizer = any.as_dyn_mut();
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

/// Length of the optimizer's scalar state.
fn opt_scalars(any: &AnyOptimizer) -> usize {
    any.scalar_names().len()
}

/// The values each scalar of the scalar state ([`Optimizer::scalar_names`]) accepts at the
/// edges of its range, and those it refuses with `Error::InvalidState`.
fn scalar_values(name: &str) -> (&'static [f32], &'static [f32]) {
    const TINY: f32 = f32::from_bits(1); // the smallest subnormal
    const ABOVE_ONE: f32 = 1.000_000_1; // the next f32 after 1
    match name {
        // NAdam: in [0, 1].
        "mu_product" => (
            &[0.0, -0.0, TINY, 0.5, 1.0],
            &[
                f32::NAN,
                -TINY,
                -0.5,
                ABOVE_ONE,
                2.0,
                f32::INFINITY,
                f32::NEG_INFINITY,
            ],
        ),
        // ASGD: finite and >= 0.
        "eta" => (
            &[0.0, -0.0, TINY, 1e3, f32::MAX],
            &[f32::NAN, -TINY, -1.0, f32::INFINITY, f32::NEG_INFINITY],
        ),
        // ASGD: in (0, 1].
        "mu" => (
            &[TINY, 0.5, 1.0],
            &[
                0.0,
                -0.0,
                f32::NAN,
                -1.0,
                ABOVE_ONE,
                f32::INFINITY,
                f32::NEG_INFINITY,
            ],
        ),
        _ => panic!("no values for the scalar state {name:?}: add them here"),
    }
}

/// The optimizer variants with scalar state, and every invalid scalar state of each:
/// `init_state`'s scalars with the one at `index` set to `value`.
fn invalid_scalar_states() -> Vec<(AnyOptimizer, usize, f32, Vec<f32>)> {
    let mut all = Vec::new();
    for any in every_variant() {
        for (index, name) in any.scalar_names().iter().enumerate() {
            for &value in scalar_values(name).1 {
                let mut scalars = initial_state(&any, 0);
                scalars[index] = value;
                all.push((any, index, value, scalars));
            }
        }
    }
    assert!(!all.is_empty(), "NAdam and ASGD have scalar state");
    all
}

/// `Error::InvalidState` naming scalar `index` of `any` and its `value` (NaN-aware).
fn invalid_state(any: &AnyOptimizer, index: usize, value: f32) -> impl Fn(&Error) -> bool {
    let name = any.scalar_names()[index];
    move |e| {
        matches!(e, Error::InvalidState { name: n, value: v, .. }
            if *n == name && same_bits(*v, value))
    }
}

/// An invalid scalar state (NaN, out of range) is refused with `Error::InvalidState` before
/// any write, by `step`, `step_with` on every back-end, `step_planes(_with)` (the scalars
/// slice) and `step_parallel`; whatever the number of elements.
#[test]
fn invalid_scalar_state_is_refused_before_any_write() {
    for (any, index, value, scalars) in invalid_scalar_states() {
        let expected = invalid_state(&any, index, value);
        for n in [0, 1, 23] {
            let planes = any.state_planes() * n;
            let mut buffers = Buffers::new(n, n, any.state_len(n), 13);
            buffers.state[planes..].copy_from_slice(&scalars);
            buffers.refuse(&any, 1, &expected);
            let before = buffers.state.clone();
            let err = any
                .step(1, &mut buffers.params, &buffers.grads, &mut buffers.state)
                .unwrap_err();
            assert!(expected(&err), "{any:?}: {err:?}");
            assert!(err.to_string().starts_with("invalid state "), "{err}");
            if n > 0 {
                let (elements, scalars) = buffers.state.split_at_mut(planes);
                let mut slices: Vec<&mut [f32]> = elements.chunks_mut(n).collect();
                slices.push(scalars);
                let err = any
                    .step_planes(1, &mut buffers.params, &buffers.grads, &mut slices)
                    .unwrap_err();
                assert!(expected(&err), "{any:?}: {err:?}");
            }
            #[cfg(feature = "rayon")]
            {
                let err = any
                    .step_parallel(1, &mut buffers.params, &buffers.grads, &mut buffers.state)
                    .unwrap_err();
                assert!(expected(&err), "{any:?}: {err:?}");
            }
            assert!(identical(&buffers.state, &before), "{any:?}: state written");
        }
    }
}

/// The valid edges of every scalar's range are accepted by every entry point.
#[test]
fn scalar_state_at_the_edges_of_its_range_is_accepted() {
    for any in every_variant() {
        for (index, name) in any.scalar_names().iter().enumerate() {
            for &value in scalar_values(name).0 {
                let n = 5;
                let mut state = initial_state(&any, n);
                let planes = any.state_planes() * n;
                state[planes + index] = value;
                for backend in backends() {
                    let (mut params, mut s) = (pseudo_random(n, 1), state.clone());
                    any.step_with(backend, 1, &mut params, &[0.5; 5], &mut s)
                        .unwrap_or_else(|e| panic!("{any:?}, {name} = {value}: {e}"));
                }
                any.advance_scalars(1, &mut state[planes..]).unwrap();
            }
        }
    }
}

/// `step_planes(_with)` takes the scalar state as one trailing slice holding all of it:
/// shorter or longer is refused (`LengthMismatch` naming "scalars") before any write.
#[test]
fn step_planes_needs_the_whole_scalar_state() {
    for any in every_variant() {
        let s = any.scalar_names().len();
        if s == 0 {
            continue;
        }
        let n = 17;
        let k = any.state_planes();
        let params = pseudo_random(n, 1);
        let grads = pseudo_random(n, 2);
        let mut planes_storage = initial_state(&any, n)[..k * n].to_vec();
        let init = initial_state(&any, 0);
        for len in [0, s - 1, s + 1, 2 * s] {
            let mut scalars: Vec<f32> = init.iter().copied().cycle().take(len).collect();
            let before = (planes_storage.clone(), scalars.clone());
            for backend in backends() {
                let mut p = params.clone();
                let mut slices: Vec<&mut [f32]> = planes_storage.chunks_mut(n).collect();
                slices.push(&mut scalars);
                let err = any
                    .step_planes_with(backend, 1, &mut p, &grads, &mut slices)
                    .unwrap_err();
                assert_eq!(
                    err,
                    Error::LengthMismatch {
                        what: "scalars",
                        expected: s,
                        found: len
                    },
                    "{any:?} on {backend:?}"
                );
                assert!(identical(&p, &params));
            }
            assert!(identical(&planes_storage, &before.0) && identical(&scalars, &before.1));
        }
    }
}

/// `init_state` refuses a buffer too short for the scalar state (which follows the planes),
/// and writes `init_state`'s scalars into one that holds exactly them (no elements).
#[test]
fn init_state_refuses_buffers_shorter_than_the_scalar_state() {
    for any in every_variant() {
        let s = any.scalar_names().len();
        for len in 0..s {
            let mut state = pseudo_random(len, 3);
            let before = state.clone();
            assert_eq!(
                any.init_state(&mut state),
                Err(Error::LengthMismatch {
                    what: "state",
                    expected: s,
                    found: len
                }),
                "{any:?}"
            );
            assert!(identical(&state, &before));
        }
        let mut scalars = vec![f32::NAN; s];
        any.init_state(&mut scalars).unwrap();
        let k = any.state_planes();
        let mut whole = vec![f32::NAN; any.state_len(3)];
        any.init_state(&mut whole).unwrap();
        assert!(identical(&scalars, &whole[3 * k..]), "{any:?}");
        assert!(scalars.iter().all(|x| !x.is_nan()), "{any:?}");
    }
}

/// `advance_scalars` checks everything a step checks that concerns it (hyper-parameters,
/// `t >= 1`, the length of the scalars, their values) before writing; without scalar state it
/// takes an empty slice only.
#[test]
fn advance_scalars_refuses_before_any_write() {
    for any in every_variant() {
        let s = any.scalar_names().len();
        let init = initial_state(&any, 0);
        let mut scalars = init.clone();
        assert_eq!(any.advance_scalars(0, &mut scalars), Err(Error::ZeroStep));
        assert!(identical(&scalars, &init));
        for len in [Some(s + 1), s.checked_sub(1)].into_iter().flatten() {
            let mut wrong = vec![0.5; len];
            assert_eq!(
                any.advance_scalars(1, &mut wrong),
                Err(Error::LengthMismatch {
                    what: "scalars",
                    expected: s,
                    found: len
                }),
                "{any:?}"
            );
            assert!(wrong.iter().all(|&x| x == 0.5));
        }
        any.advance_scalars(1, &mut scalars).unwrap();
    }
    for (any, index, value, scalars) in invalid_scalar_states() {
        let mut s = scalars.clone();
        let err = any.advance_scalars(3, &mut s).unwrap_err();
        assert!(invalid_state(&any, index, value)(&err), "{any:?}: {err:?}");
        assert!(identical(&s, &scalars));
    }
    let mut checked = 0;
    for (bad, refusal) in refused() {
        if bad.scalar_names().is_empty() {
            continue;
        }
        // Valid scalars (0.5 is in every scalar's range): the hyper-parameter is what is wrong.
        let mut scalars: Vec<f32> = bad.scalar_names().iter().map(|_| 0.5).collect();
        let before = scalars.clone();
        let err = bad.advance_scalars(1, &mut scalars).unwrap_err();
        assert!(refusal.matches(&err), "{bad:?}: {err:?}");
        assert!(identical(&scalars, &before));
        checked += 1;
    }
    assert!(checked > 0);
}

/// The pipeline checks every group's scalar state before it writes anything: an invalid one
/// in the last group leaves every group untouched (`step_with` on every back-end, `step`,
/// `step_sharded`).
#[test]
fn pipeline_refuses_invalid_scalar_state_in_any_group() {
    fn groups<'a>(
        params: &'a mut [Vec<f32>],
        grads: &'a [Vec<f32>],
        states: &'a mut [Vec<f32>],
    ) -> Vec<Group<'a>> {
        params
            .iter_mut()
            .zip(grads)
            .zip(states.iter_mut())
            .map(|((params, grads), state)| Group {
                params,
                grads,
                state,
            })
            .collect()
    }
    let pipeline = GradPipeline {
        grad_scale: 4.0,
        max_norm: Some(1.0),
        skip_non_finite: true,
    };
    for (any, index, value, bad_scalars) in invalid_scalar_states() {
        let expected = invalid_state(&any, index, value);
        let lens = [7, 0, 30];
        let mut params: Vec<Vec<f32>> = lens.iter().map(|&n| pseudo_random(n, 1)).collect();
        let grads: Vec<Vec<f32>> = lens.iter().map(|&n| pseudo_random(n, 2)).collect();
        let mut states: Vec<Vec<f32>> = lens.iter().map(|&n| initial_state(&any, n)).collect();
        let planes = any.state_planes() * lens[2];
        states[2][planes..].copy_from_slice(&bad_scalars);
        let before = (params.clone(), states.clone());
        for backend in backends() {
            let err = pipeline
                .step_with(
                    backend,
                    &any,
                    1,
                    &mut groups(&mut params, &grads, &mut states),
                )
                .unwrap_err();
            assert!(expected(&err), "{any:?} on {backend:?}: {err:?}");
        }
        let err = pipeline
            .step(&any, 1, &mut groups(&mut params, &grads, &mut states))
            .unwrap_err();
        assert!(expected(&err), "{any:?}: {err:?}");
        let total = grads.iter().fold(GradStats::ZERO, |acc, g| {
            acc.combine(GradStats::of(g, pipeline.grad_scale))
        });
        let last = groups(&mut params, &grads, &mut states).pop().unwrap();
        let err = pipeline
            .step_sharded(&any, 1, Some(total), last)
            .unwrap_err();
        assert!(expected(&err), "{any:?}: {err:?}");
        for (a, b) in params
            .iter()
            .zip(&before.0)
            .chain(states.iter().zip(&before.1))
        {
            assert!(identical(a, b), "{any:?}: written");
        }
    }
}

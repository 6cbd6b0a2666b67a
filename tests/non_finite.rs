//! NaN and infinite gradients are not errors: as in PyTorch they flow into their own element's
//! parameter and state, and leave every other element exactly as a clean step leaves it.
//!
//! What each optimizer makes of them (documented in the crate docs and on each type):
//! * a NaN gradient makes the element's parameter and every state value it updates NaN,
//!   except in Rprop, where `torch.sign(NaN) = 0` leaves the parameter and the step size
//!   unchanged (only `prev` becomes NaN);
//! * an infinite gradient sends SGD's and ASGD's parameter to ∓infinity (the sign of the
//!   step), and makes Adagrad's, RMSprop's, Adam's, Adamax's, NAdam's and Adadelta's parameter
//!   NaN (their update is ∞/∞ or 0·∞), with infinite or NaN state. RAdam's becomes NaN in a
//!   rectified step and follows its first moment in an un-rectified one: ∓infinity when
//!   `1 − β1 < 0.5`, NaN otherwise (PyTorch's other lerp formula gives ∞ − ∞);
//! * Rprop and Lion use only the gradient's sign, so an infinite gradient moves the parameter
//!   by a finite step; Lion's `exp_avg` becomes infinite, Rprop's step size stays finite and
//!   its `prev` holds the infinity (or 0, when the sign flipped and the step was skipped).

mod common;

use common::*;
use fused_optim::{Backend, Optimizer};

/// Parameters and state after a run.
type Run = (Vec<f32>, Vec<f32>);

const N: usize = 41;

/// Takes three steps (from the optimizer's [`AnyOptimizer::first_step`]), clean or with `bad`
/// at `at` in the last gradient, and returns the parameters before the last step and the
/// (clean, dirty) parameters and state after it.
fn clean_and_dirty(
    any: &AnyOptimizer,
    bad: f32,
    at: usize,
    backend: Backend,
) -> (Vec<f32>, Run, Run) {
    let opt = any.get();
    let first = any.first_step();
    let params = pseudo_random(N, 3);
    let mut before = Vec::new();
    let mut run = |poison: bool| {
        let mut p = params.clone();
        let mut s = initial_state(opt, N);
        for i in 0..3 {
            let mut g = pseudo_random(N, 21 + i);
            if i == 2 {
                before.clone_from(&p);
                if poison {
                    g[at] = bad;
                }
            }
            opt.step_with(backend, first + i, &mut p, &g, &mut s)
                .unwrap();
        }
        (p, s)
    };
    let clean = run(false);
    let dirty = run(true);
    (before, clean, dirty)
}

/// What the poisoned element's parameter becomes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Param {
    Nan,
    Infinite,
    /// Finite (Rprop's may not move: a flipped sign skips the step).
    Finite,
    /// The bits it had before the step.
    Unchanged,
}

/// What the poisoned element's value in a state plane becomes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Plane {
    NonFinite,
    Finite,
    /// ±∞, or 0 (Rprop's `prev` when the step is skipped).
    InfiniteOrZero,
}

/// The documented outcome of gradient `bad` at step `t` (see the module documentation).
fn outcome(any: &AnyOptimizer, bad: f32, t: u64) -> (Param, Vec<Plane>) {
    let k = any.get().state_planes();
    let poisoned = vec![Plane::NonFinite; k];
    if bad.is_nan() {
        return match any {
            AnyOptimizer::Rprop(_) => (Param::Unchanged, vec![Plane::NonFinite, Plane::Finite]),
            _ => (Param::Nan, poisoned),
        };
    }
    match any {
        AnyOptimizer::Sgd(_) | AnyOptimizer::Asgd(_) => (Param::Infinite, poisoned),
        AnyOptimizer::Rprop(_) => (Param::Finite, vec![Plane::InfiniteOrZero, Plane::Finite]),
        AnyOptimizer::Lion(_) => (Param::Finite, poisoned),
        AnyOptimizer::RAdam(o) if o.rho(t).0 <= 5.0 && 1.0 - o.betas.0 < 0.5 => {
            (Param::Infinite, poisoned)
        }
        _ => (Param::Nan, poisoned),
    }
}

fn check(bad: f32) {
    let mut seen = std::collections::BTreeSet::new();
    for any in every_variant() {
        let k = any.get().state_planes();
        let t = any.first_step() + 2;
        let (param, planes) = outcome(&any, bad, t);
        seen.insert(format!("{param:?}"));
        for at in [0, 17, 40] {
            for backend in backends() {
                let (before, (p0, s0), (p1, s1)) = clean_and_dirty(&any, bad, at, backend);
                for j in (0..N).filter(|&j| j != at) {
                    assert!(same_bits(p0[j], p1[j]), "{any:?}: param {j} changed");
                    for plane in 0..k {
                        let idx = plane * N + j;
                        assert!(same_bits(s0[idx], s1[idx]), "{any:?}: state {idx} changed");
                    }
                }
                let p = p1[at];
                let ok = match param {
                    Param::Nan => p.is_nan(),
                    Param::Infinite => p.is_infinite(),
                    Param::Finite => p.is_finite(),
                    Param::Unchanged => p.to_bits() == before[at].to_bits(),
                };
                assert!(
                    ok,
                    "{any:?} with {bad}: param became {p}, expected {param:?}"
                );
                for (plane, expected) in planes.iter().enumerate() {
                    let value = s1[plane * N + at];
                    let ok = match expected {
                        Plane::NonFinite => !value.is_finite(),
                        Plane::Finite => value.is_finite(),
                        Plane::InfiniteOrZero => value.is_infinite() || value == 0.0,
                    };
                    assert!(
                        ok,
                        "{any:?} with {bad}: state plane {plane} became {value}, expected \
                         {expected:?}"
                    );
                }
            }
        }
    }
    println!("{bad}: parameter outcomes seen {seen:?}");
}

#[test]
fn nan_gradient_poisons_only_its_element() {
    check(f32::NAN);
}

#[test]
fn infinite_gradient_poisons_only_its_element() {
    for bad in [f32::INFINITY, f32::NEG_INFINITY] {
        check(bad);
    }
}

/// An infinite gradient reaches Lion's and Rprop's parameter as its sign only: the step is the
/// step any gradient of that sign gives.
#[test]
fn sign_based_optimizers_take_the_sign_of_an_infinite_gradient() {
    use fused_optim::{Lion, Rprop};
    for backend in backends() {
        for bad in [f32::INFINITY, f32::NEG_INFINITY] {
            let lion = Lion {
                lr: 0.25,
                ..Lion::default()
            };
            let rprop = Rprop {
                lr: 0.25,
                ..Rprop::default()
            };
            let opts: [&dyn Optimizer; 2] = [&lion, &rprop];
            for opt in opts {
                let finite = bad.signum() * 3.0;
                let run = |g: f32| {
                    let mut p = vec![1.0f32; N];
                    let mut s = initial_state(opt, N);
                    opt.step_with(backend, 1, &mut p, &[g; N], &mut s).unwrap();
                    p
                };
                assert_eq!(run(bad), run(finite), "{opt:?} on {backend:?} with {bad}");
            }
        }
    }
}

/// AMSGrad's running maximum is `torch.maximum(max_exp_avg_sq, exp_avg_sq)`: NaN wins from
/// either side, and on a tie (here -0 against +0) the running maximum keeps its own value.
#[test]
fn amsgrad_maximum_follows_torch_maximum() {
    use fused_optim::{Adam, Optimizer};
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

//! NaN and infinite gradients are not errors: as in PyTorch they flow into their own element's
//! parameter and state, and leave every other element exactly as a clean step leaves it. What
//! they do to their own element is each optimizer's `non_finite(..)`.

use fused_optim::{AnyOptimizer, Backend, Optimizer};

use crate::common::*;
use crate::registry::{every_variant, first_step, non_finite};

/// What the poisoned element's parameter becomes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param {
    Nan,
    Infinite,
    /// Finite (Rprop's may not move: a flipped sign skips the step).
    Finite,
    /// The bits it had before the step.
    Unchanged,
}

/// What the poisoned element's value in a state plane becomes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Plane {
    NonFinite,
    Finite,
    /// ±∞, or 0 (Rprop's `prev` when the step is skipped).
    InfiniteOrZero,
}

/// The documented outcome of a NaN or infinite gradient for its element.
#[derive(Clone, Debug, PartialEq)]
pub struct NonFinite {
    pub param: Param,
    /// One per state plane, in the order of `state_names()`.
    pub planes: Vec<Plane>,
}

impl NonFinite {
    /// `param`, and every state value the step updates non-finite.
    pub fn poisoned(param: Param, optimizer: &dyn Optimizer) -> NonFinite {
        NonFinite {
            param,
            planes: vec![Plane::NonFinite; optimizer.state_planes()],
        }
    }
}

/// Parameters and state after a run.
type Run = (Vec<f32>, Vec<f32>);

const N: usize = 41;

/// Takes three steps (from the optimizer's first step), clean or with `bad` at `at` in the
/// last gradient, and returns the parameters before the last step and the (clean, dirty)
/// parameters and state after it.
fn clean_and_dirty(
    any: &AnyOptimizer,
    bad: f32,
    at: usize,
    backend: Backend,
) -> (Vec<f32>, Run, Run) {
    let opt = any.as_dyn();
    let first = first_step(any);
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

fn check(bad: f32) {
    let mut seen = std::collections::BTreeSet::new();
    for any in every_variant() {
        let k = any.state_planes();
        let t = first_step(&any) + 2;
        let NonFinite { param, planes } = non_finite(&any, bad, t);
        assert_eq!(planes.len(), k, "{any:?}: one outcome per state plane");
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

/// For the optimizers that use only the gradient's sign (Lion, Rprop): a step with an
/// infinite gradient is the step a finite gradient of the same sign gives, on every back-end.
pub fn check_sign_of_infinite_gradient(opt: &dyn Optimizer) {
    for backend in backends() {
        for bad in [f32::INFINITY, f32::NEG_INFINITY] {
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

//! NaN and infinite gradients are not errors: as in PyTorch they flow into their own element's
//! parameter and state, and leave every other element exactly as a clean step leaves it.
//!
//! What each optimizer makes of them (documented in the crate docs):
//! * a NaN gradient makes the element's parameter and every state value it updates NaN;
//! * an infinite gradient sends SGD's parameter to ∓infinity (the sign of the step), and makes
//!   Adagrad's, RMSprop's and Adam's parameter NaN (their update is ∞/∞), with infinite or NaN
//!   state.

mod common;

use common::*;
use fused_optim::Backend;

/// Parameters and state after a run.
type Run = (Vec<f32>, Vec<f32>);

/// Takes three steps, clean or with `bad` at `at` in the last gradient, and returns
/// (clean, dirty) parameters and state.
fn clean_and_dirty(any: &AnyOptimizer, bad: f32, at: usize, backend: Backend) -> (Run, Run) {
    let opt = any.get();
    let n = 41;
    let params = pseudo_random(n, 3);
    let run = |poison: bool| {
        let mut p = params.clone();
        let mut s = initial_state(opt, n);
        for t in 1..=3 {
            let mut g = pseudo_random(n, 20 + t);
            if poison && t == 3 {
                g[at] = bad;
            }
            opt.step_with(backend, t, &mut p, &g, &mut s).unwrap();
        }
        (p, s)
    };
    (run(false), run(true))
}

fn check(bad: f32, param_ok: impl Fn(&AnyOptimizer, f32) -> bool) {
    for any in every_variant() {
        let k = any.get().state_planes();
        let n = 41;
        for at in [0, 17, 40] {
            for backend in backends() {
                let ((p0, s0), (p1, s1)) = clean_and_dirty(&any, bad, at, backend);
                for j in (0..n).filter(|&j| j != at) {
                    assert!(same_bits(p0[j], p1[j]), "{any:?}: param {j} changed");
                    for plane in 0..k {
                        let idx = plane * n + j;
                        assert!(same_bits(s0[idx], s1[idx]), "{any:?}: state {idx} changed");
                    }
                }
                assert!(
                    param_ok(&any, p1[at]),
                    "{any:?} with {bad}: param became {}",
                    p1[at]
                );
                // The element's state is poisoned too (or, for momentum-free SGD, there is none).
                for plane in 0..k {
                    let value = s1[plane * n + at];
                    assert!(
                        !value.is_finite(),
                        "{any:?}: state plane {plane} stayed {value}"
                    );
                }
            }
        }
    }
}

#[test]
fn nan_gradient_poisons_only_its_element() {
    check(f32::NAN, |_, p| p.is_nan());
}

#[test]
fn infinite_gradient_poisons_only_its_element() {
    for bad in [f32::INFINITY, f32::NEG_INFINITY] {
        check(bad, |any, p| match any {
            AnyOptimizer::Sgd(_) => p.is_infinite(),
            _ => p.is_nan(),
        });
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

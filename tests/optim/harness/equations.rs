//! Each optimizer's rustdoc equations, written again one element at a time in plain `f32`
//! (`tests/common/exact.rs`, not derived from the kernels), against every back-end this
//! machine has, bit for bit, over random hyper-parameters, inputs and checkpoints.

use fused_optim::Optimizer;
use proptest::prelude::*;

use crate::common::exact;
use crate::common::*;
use crate::registry::{any_optimizer, first_step};

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn every_backend_computes_the_documented_equations(
        problem in problem(
            any_optimizer(),
            40,
            4,
            any_element,
        ),
    ) {
        let optimizer = &problem.optimizer;
        let t0 = first_step(optimizer);
        let mut reference = (problem.params.clone(), problem.initial_state());
        let mut runs: Vec<_> = backends()
            .into_iter()
            .map(|b| (b, problem.params.clone(), problem.initial_state()))
            .collect();
        for (i, grads) in problem.grads.iter().enumerate() {
            let t = t0 + i as u64;
            let (p, s) = &mut reference;
            exact::step(optimizer, t, p, grads, s, &f32::sqrt);
            for (backend, params, state) in &mut runs {
                optimizer
                    .step_with(*backend, t, params, grads, state)
                    .expect("a valid problem");
                prop_assert_eq!(
                    first_difference(&reference.0, params), None,
                    "params, {:?} step {}", backend, t
                );
                prop_assert_eq!(
                    first_difference(&reference.1, state), None,
                    "state, {:?} step {}", backend, t
                );
            }
        }
    }
}

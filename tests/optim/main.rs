//! The optimizers' tests: one module per optimizer (`tests/optim/<name>.rs`, declared from
//! the crate's registry, `fused_optim::for_each_optimizer!`), and the harnesses that run every
//! registered optimizer through the same checks (`tests/optim/harness/`).
//!
//! Each optimizer's module provides what the harnesses need to know of it: `FIRST_STEP`,
//! `strategy()`, `variants()`, `refused()` and `non_finite(..)` (see [`registry`]).

#[path = "../common/mod.rs"]
mod common;
mod harness;

/// Declares the optimizers' modules and derives [`registry`] from them.
macro_rules! optimizers {
    ($($ty:ident $name:ident $reference:literal;)*) => {
        $(mod $name;)*

        /// The optimizers' modules, seen through [`AnyOptimizer`](fused_optim::AnyOptimizer).
        pub mod registry {
            use fused_optim::AnyOptimizer;
            use proptest::prelude::*;
            use proptest::strategy::Union;

            use crate::harness::errors::Refusal;
            use crate::harness::non_finite::NonFinite;

            /// Random hyper-parameters of any optimizer (each `strategy()`), each optimizer
            /// equally likely.
            pub fn any_optimizer() -> BoxedStrategy<AnyOptimizer> {
                Union::new([$(crate::$name::strategy().prop_map(AnyOptimizer::from).boxed()),*])
                    .boxed()
            }

            /// Every kernel variant of every optimizer (each `variants()`): one configuration
            /// for every combination of options that selects a different kernel.
            pub fn every_variant() -> Vec<AnyOptimizer> {
                let mut all = Vec::new();
                $(all.extend(crate::$name::variants().into_iter().map(AnyOptimizer::from));)*
                all
            }

            /// Every optimizer's hyper-parameters that must be refused (each `refused()`).
            pub fn refused() -> Vec<(AnyOptimizer, Refusal)> {
                let mut all = Vec::new();
                $(all.extend(
                    crate::$name::refused()
                        .into_iter()
                        .map(|(opt, refusal)| (AnyOptimizer::from(opt), refusal)),
                );)*
                all
            }

            /// The number of the first step the harnesses' trajectories take (`FIRST_STEP`):
            /// step `i` (0-based) of a trajectory is `first_step(o) + i`.
            pub fn first_step(optimizer: &AnyOptimizer) -> u64 {
                match optimizer {
                    $(AnyOptimizer::$ty(_) => crate::$name::FIRST_STEP,)*
                    _ => unreachable!("{optimizer:?} is not in the registry"),
                }
            }

            /// One step of the optimizer's independent per-element reference (each module's
            /// `exact`, written from the rustdoc equations), on planes and scalars.
            pub fn exact(optimizer: &AnyOptimizer, step: crate::common::exact::Buffers<'_, '_>) {
                match optimizer {
                    $(AnyOptimizer::$ty(o) => crate::$name::exact(o, step),)*
                    _ => unreachable!("{optimizer:?} is not in the registry"),
                }
            }

            /// What gradient `bad` (NaN or ±∞) at step `t` does to its element (`non_finite`).
            pub fn non_finite(optimizer: &AnyOptimizer, bad: f32, t: u64) -> NonFinite {
                match optimizer {
                    $(AnyOptimizer::$ty(o) => crate::$name::non_finite(o, bad, t),)*
                    _ => unreachable!("{optimizer:?} is not in the registry"),
                }
            }
        }
    };
}

fused_optim::for_each_optimizer!(optimizers);

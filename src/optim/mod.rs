//! The optimizers, one file each, and the registry that lists them.
//!
//! | type | reference semantics | state planes |
//! |---|---|---|
//! | [`Sgd`] | `torch.optim.SGD` | (`momentum_buffer`) |
//! | [`Adagrad`] | `torch.optim.Adagrad` | `sum` |
//! | [`RmsProp`] | `torch.optim.RMSprop` | `square_avg`, (`momentum_buffer`), (`grad_avg`) |
//! | [`Adam`] | `torch.optim.Adam` | `exp_avg`, `exp_avg_sq`, (`max_exp_avg_sq`) |
//! | [`AdamW`] | `torch.optim.AdamW` | as Adam |
//! | [`Adamax`] | `torch.optim.Adamax` | `exp_avg`, `exp_inf` |
//! | [`NAdam`] | `torch.optim.NAdam` | `exp_avg`, `exp_avg_sq` |
//! | [`RAdam`] | `torch.optim.RAdam` | `exp_avg`, `exp_avg_sq` |
//! | [`Adadelta`] | `torch.optim.Adadelta` | `square_avg`, `acc_delta` |
//! | [`Rprop`] | `torch.optim.Rprop` | `prev`, `step_size` |
//! | [`Asgd`] | `torch.optim.ASGD` | `ax` |
//! | [`Lion`] | optax's `lion` (PyTorch has none) | `exp_avg` |
//!
//! Planes in parentheses exist only with the option that needs them (momentum, centered,
//! AMSGrad); [`Optimizer::state_names`] lists them for the options set. Each type's
//! documentation writes out its update: that is the one place the equations live.
//!
//! # The registry
//!
//! [`for_each_optimizer!`](crate::for_each_optimizer) is the one list of the optimizers; the
//! crate builds [`AnyOptimizer`] from it, and the tests, fuzz targets, benches and the
//! training driver derive their optimizer lists from it too. Adding an optimizer is a file
//! here, a `mod` line and a registry line (`docs/adding-an-optimizer.md`).

mod adadelta;
mod adagrad;
mod adam;
pub(crate) mod adam_moments;
mod adamax;
mod adamw;
mod asgd;
pub(crate) mod common;
mod lion;
mod nadam;
mod radam;
mod rmsprop;
mod rprop;
mod sgd;

pub use adadelta::Adadelta;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use adamw::AdamW;
pub use asgd::Asgd;
pub use lion::Lion;
pub use nadam::NAdam;
pub use radam::RAdam;
pub use rmsprop::RmsProp;
pub use rprop::Rprop;
pub use sgd::Sgd;

use crate::Error;
use crate::optimizer::{Call, HyperParameter, Optimizer, sealed};

/// Calls `$callback!` with the registry: one `Type module "reference";` entry per optimizer,
/// in the crate's order (new optimizers are appended).
///
/// `Type` is the optimizer's type (at the crate root), `module` its lowercase name (the
/// name [`AnyOptimizer::name`] returns and the name of its source and test files),
/// `"reference"` the implementation whose semantics it follows.
///
/// ```
/// macro_rules! names {
///     ($($ty:ident $name:ident $reference:literal;)*) => {
///         [$(stringify!($name)),*]
///     };
/// }
/// let names = fused_optim::for_each_optimizer!(names);
/// assert_eq!(names, fused_optim::AnyOptimizer::NAMES);
/// assert_eq!(names[0], "sgd");
/// ```
#[macro_export]
macro_rules! for_each_optimizer {
    ($callback:ident) => {
        $callback! {
            Sgd sgd "torch.optim.SGD";
            Adagrad adagrad "torch.optim.Adagrad";
            RmsProp rmsprop "torch.optim.RMSprop";
            Adam adam "torch.optim.Adam";
            AdamW adamw "torch.optim.AdamW";
            Adamax adamax "torch.optim.Adamax";
            NAdam nadam "torch.optim.NAdam";
            RAdam radam "torch.optim.RAdam";
            Adadelta adadelta "torch.optim.Adadelta";
            Rprop rprop "torch.optim.Rprop";
            Asgd asgd "torch.optim.ASGD";
            Lion lion "optax.lion";
        }
    };
}

/// Builds [`AnyOptimizer`] from the registry.
macro_rules! any_optimizer {
    ($($ty:ident $name:ident $reference:literal;)*) => {
        /// Any optimizer of the crate, with its hyper-parameters: for code that picks the
        /// optimizer at run time (a command line, a configuration, a C ABI).
        ///
        /// It implements [`Optimizer`] by handing every call to the optimizer it holds, so
        /// it gives exactly that optimizer's bits.
        ///
        /// ```
        /// use fused_optim::{AnyOptimizer, Optimizer};
        ///
        /// let opt = AnyOptimizer::default_for("adamw").expect("a registered name");
        /// assert_eq!(opt.name(), "adamw");
        /// assert_eq!(opt.reference(), "torch.optim.AdamW");
        /// let mut p = [1.0_f32];
        /// let mut state = vec![0.0_f32; opt.state_len(1)];
        /// opt.step(1, &mut p, &[0.5], &mut state)?;
        /// assert!(p[0] < 1.0);
        /// # Ok::<(), fused_optim::Error>(())
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum AnyOptimizer {
            $(
                #[doc = concat!("[`", stringify!($ty), "`] (", $reference, ").")]
                $ty($ty),
            )*
        }

        impl AnyOptimizer {
            /// The registry's names, in its order (`"sgd"`, `"adagrad"`, ...).
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// Every optimizer with its default hyper-parameters, in the registry's order.
            pub fn defaults() -> impl Iterator<Item = AnyOptimizer> {
                [$(AnyOptimizer::$ty($ty::default())),*].into_iter()
            }

            /// The optimizer called `name` (one of [`AnyOptimizer::NAMES`]) with its default
            /// hyper-parameters.
            pub fn default_for(name: &str) -> Option<AnyOptimizer> {
                match name {
                    $(stringify!($name) => Some(AnyOptimizer::$ty($ty::default())),)*
                    _ => None,
                }
            }

            /// The optimizer's registry name (`"adam"`, ...).
            pub fn name(&self) -> &'static str {
                match self {
                    $(AnyOptimizer::$ty(_) => stringify!($name),)*
                }
            }

            /// The implementation whose semantics it follows (`"torch.optim.Adam"`, ...).
            pub fn reference(&self) -> &'static str {
                match self {
                    $(AnyOptimizer::$ty(_) => $reference,)*
                }
            }

            /// The optimizer held, as a trait object.
            pub fn as_dyn(&self) -> &dyn Optimizer {
                match self {
                    $(AnyOptimizer::$ty(o) => o,)*
                }
            }

            /// The optimizer held, as a mutable trait object.
            pub fn as_dyn_mut(&mut self) -> &mut dyn Optimizer {
                match self {
                    $(AnyOptimizer::$ty(o) => o,)*
                }
            }
        }

        $(
            impl From<$ty> for AnyOptimizer {
                fn from(optimizer: $ty) -> Self {
                    AnyOptimizer::$ty(optimizer)
                }
            }
        )*
    };
}

crate::for_each_optimizer!(any_optimizer);

impl sealed::Apply for AnyOptimizer {
    fn initial_value(&self, plane: usize) -> f32 {
        self.as_dyn().initial_value(plane)
    }

    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        self.as_dyn().apply(call)
    }

    fn initial_scalar(&self, index: usize) -> f32 {
        self.as_dyn().initial_scalar(index)
    }

    fn check_scalars(&self, scalars: &[f32]) -> Result<(), Error> {
        self.as_dyn().check_scalars(scalars)
    }

    fn advance(&self, t: u64, scalars: &mut [f32]) {
        self.as_dyn().advance(t, scalars);
    }
}

impl sealed::Fields for AnyOptimizer {
    fn learning_rate(&self) -> f64 {
        self.as_dyn().learning_rate()
    }

    fn learning_rate_mut(&mut self) -> &mut f64 {
        self.as_dyn_mut().learning_rate_mut()
    }

    fn visit_fields(&mut self, visit: &mut dyn FnMut(&'static str, HyperParameter<'_>)) {
        self.as_dyn_mut().visit_fields(visit);
    }
}

impl Optimizer for AnyOptimizer {
    fn validate(&self) -> Result<(), Error> {
        self.as_dyn().validate()
    }

    fn state_names(&self) -> &'static [&'static str] {
        self.as_dyn().state_names()
    }

    fn scalar_names(&self) -> &'static [&'static str] {
        self.as_dyn().scalar_names()
    }
}

//! The one error type of the crate.

use core::fmt;

use crate::Backend;

/// Why a step (or a state initialisation) was refused.
///
/// Every error is returned **before** any element of any buffer is written: a refused call
/// leaves parameters and state byte-identical.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A buffer's length does not fit the parameters' length.
    LengthMismatch {
        /// Which buffer: `"grads"`, `"state"` or `"state plane"`.
        what: &'static str,
        /// The length the call needed.
        expected: usize,
        /// The length it was given.
        found: usize,
    },
    /// The number of state planes passed to
    /// [`Optimizer::step_planes`](crate::Optimizer::step_planes) is not the optimizer's.
    PlaneCount {
        /// Planes the optimizer (with its options) keeps.
        expected: usize,
        /// Planes given.
        found: usize,
    },
    /// The step number `t` was 0; steps count from 1, as PyTorch's `state["step"]` after its
    /// increment.
    ZeroStep,
    /// A hyper-parameter is NaN, infinite or outside its range.
    InvalidHyperParameter {
        /// The PyTorch name of the hyper-parameter (`"lr"`, `"betas.0"`, ...).
        name: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range, in words (`"finite and >= 0"`, ...).
        expected: &'static str,
    },
    /// Two options that PyTorch does not allow together (for example Nesterov momentum with
    /// dampening).
    IncompatibleOptions {
        /// What is wrong, in words.
        reason: &'static str,
    },
    /// A value of the scalar state ([`Optimizer::scalar_names`](crate::Optimizer::scalar_names))
    /// is NaN, infinite or outside its range: a state that no step of the optimizer can
    /// produce (for example one never initialised with
    /// [`init_state`](crate::Optimizer::init_state)).
    InvalidState {
        /// The PyTorch name of the state value (`"mu_product"`, `"eta"`, `"mu"`).
        name: &'static str,
        /// The value found.
        value: f32,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// Every hyper-parameter is in range, but a scalar this step computes from them and from
    /// `t` (rounded once to `f32`, as the kernel uses it) is infinite or NaN: for example
    /// Adam's step size `lr / (1 − β1ᵗ)` past `f32::MAX` for a huge `lr` and `β1` near 1, or
    /// NAdam's `lr · (1 − μₜ) / (1 − Πₜ)` when `f32(μ)` reaches 1 (PyTorch raises
    /// `ZeroDivisionError` there). Such a step would write infinities or NaN into every
    /// element; it is refused before any write.
    NonFiniteStepScalar {
        /// The scalar's name in the kernel (`"neg_step_size"`, `"grad_coef"`, ...).
        name: &'static str,
        /// Its value.
        value: f32,
        /// The step number.
        t: u64,
    },
    /// The requested [`Backend`] cannot run on this CPU or build.
    BackendUnavailable {
        /// The back-end asked for.
        backend: Backend,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::LengthMismatch {
                what,
                expected,
                found,
            } => write!(f, "{what} has length {found}, expected {expected}"),
            Error::PlaneCount { expected, found } => {
                write!(
                    f,
                    "{found} state planes given, the optimizer keeps {expected}"
                )
            }
            Error::ZeroStep => f.write_str("step number t must be >= 1 (steps count from 1)"),
            Error::InvalidHyperParameter {
                name,
                value,
                expected,
            } => write!(f, "invalid {name}: {value} (expected {expected})"),
            Error::IncompatibleOptions { reason } => f.write_str(reason),
            Error::InvalidState {
                name,
                value,
                expected,
            } => write!(f, "invalid state {name}: {value} (expected {expected})"),
            Error::NonFiniteStepScalar { name, value, t } => write!(
                f,
                "step {t}: the step's scalar {name} is {value} in f32 (the hyper-parameters \
                 make the update non-finite)"
            ),
            Error::BackendUnavailable { backend } => {
                write!(f, "backend {backend:?} is not available on this machine")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

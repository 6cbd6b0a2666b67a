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
            Error::BackendUnavailable { backend } => {
                write!(f, "backend {backend:?} is not available on this machine")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

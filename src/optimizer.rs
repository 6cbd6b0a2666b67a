//! The [`Optimizer`] trait: what every optimizer offers, written once.
//!
//! An optimizer type (`Sgd`, `Adam`, ...) holds hyper-parameters only. Its state lives in the
//! caller's memory as *planes*: `k` slices of `n` floats each (`k` depends on the options, see
//! [`Optimizer::state_names`]). [`Optimizer::step`] takes the planes back to back in one slice
//! (`[plane 0 | plane 1 | ...]`); [`Optimizer::step_planes`] takes them as separate slices, so
//! an engine can hand any sub-range of its buffers to a thread.

use crate::simd::Lane;
use crate::{Backend, Error};

/// The most state planes any optimizer keeps.
pub(crate) const MAX_PLANES: usize = 4;

pub(crate) mod sealed {
    use super::Prescale;
    use crate::Backend;

    /// What each optimizer file implements; not nameable outside the crate.
    pub trait Apply {
        /// Initial value of state plane `plane` (PyTorch's initial state).
        fn initial_value(&self, plane: usize) -> f32 {
            let _ = plane;
            0.0
        }

        /// One step. Everything has been validated: hyper-parameters, `t >= 1`, the back-end,
        /// `grads.len() == params.len()`, and `planes` has exactly `state_planes()` slices of
        /// `params.len()` each. `prescale` is what the gradients are multiplied by first
        /// (loss-scale unscaling and gradient clipping; [`Prescale::NONE`] for a plain step).
        fn apply(
            &self,
            backend: Backend,
            t: u64,
            prescale: Prescale,
            params: &mut [f32],
            grads: &[f32],
            planes: &mut [&mut [f32]],
        );
    }
}

/// A fused optimizer step over caller-owned `f32` slices.
///
/// Implemented by every optimizer of the crate; bring it into scope to call `step`:
///
/// ```
/// use fused_optim::{Adam, Optimizer};
///
/// let adam = Adam { lr: 1e-2, ..Adam::default() };
/// let mut params = [1.0_f32, -2.0, 3.0];
/// let grads = [0.5_f32, -0.5, 0.0];
/// let mut state = vec![0.0_f32; adam.state_len(params.len())];
/// adam.init_state(&mut state)?;
/// for t in 1..=10 {
///     adam.step(t, &mut params, &grads, &mut state)?;
/// }
/// assert!(params[0] < 1.0 && params[1] > -2.0 && params[2] == 3.0);
/// # Ok::<(), fused_optim::Error>(())
/// ```
///
/// # The calling contract
///
/// * `params` and `grads` have the same length `n`; the state holds
///   [`state_planes`](Optimizer::state_planes)` * n` floats, initialised once by
///   [`init_state`](Optimizer::init_state).
/// * `t` is the 1-based number of the step being taken (1 on the first call). The caller keeps
///   it, so a checkpoint is just parameters, state and `t`.
/// * Any failed check returns an [`Error`] before anything is written.
/// * Elements are independent: stepping `params[a..b]` with the matching grads and state
///   ranges gives exactly the bits stepping the whole slice gives.
/// * NaN or infinite gradients are not filtered: like PyTorch, they propagate into the
///   parameter and state of *their own element* and nowhere else.
pub trait Optimizer: sealed::Apply + core::fmt::Debug + Send + Sync {
    /// Checks the hyper-parameters (finite, in range, compatible options).
    fn validate(&self) -> Result<(), Error>;

    /// The learning rate, for code that holds a `dyn Optimizer` (a schedule, a CLI).
    fn lr(&self) -> f64;

    /// Sets the learning rate (checked at the next step, like every hyper-parameter).
    fn set_lr(&mut self, lr: f64);

    /// The PyTorch names of the state planes, in the order they are laid out, for the
    /// options set (for example `["exp_avg", "exp_avg_sq"]` for Adam without AMSGrad).
    fn state_names(&self) -> &'static [&'static str];

    /// Number of state planes: how many `f32` of state each parameter needs.
    fn state_planes(&self) -> usize {
        self.state_names().len()
    }

    /// Length of the state buffer for `n` parameters.
    fn state_len(&self, n: usize) -> usize {
        self.state_planes().saturating_mul(n)
    }

    /// Writes the initial state (PyTorch's: zeros, or Adagrad's `initial_accumulator_value`)
    /// into `state`, laid out as [`step`](Optimizer::step) expects. Its length must be a
    /// multiple of [`state_planes`](Optimizer::state_planes).
    fn init_state(&self, state: &mut [f32]) -> Result<(), Error> {
        self.validate()?;
        let k = self.state_planes();
        if k == 0 {
            return expect_len("state", state.len(), 0);
        }
        if !state.len().is_multiple_of(k) {
            return expect_len("state", state.len(), state.len() - state.len() % k);
        }
        let n = state.len() / k;
        if n > 0 {
            for (plane, values) in state.chunks_exact_mut(n).enumerate() {
                values.fill(self.initial_value(plane));
            }
        }
        Ok(())
    }

    /// Takes step `t` (1-based) with the fastest back-end.
    ///
    /// `state` holds the planes back to back: `state_planes() * params.len()` floats.
    fn step(
        &self,
        t: u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
    ) -> Result<(), Error> {
        self.step_with(Backend::Auto, t, params, grads, state)
    }

    /// [`step`](Optimizer::step) on a chosen [`Backend`]. Every back-end gives the same bits.
    fn step_with(
        &self,
        backend: Backend,
        t: u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
    ) -> Result<(), Error> {
        let backend = check_call(self, backend, t, params.len(), grads.len())?;
        let k = self.state_planes();
        expect_len("state", state.len(), k * params.len())?;
        let mut planes = split_planes(state, params.len());
        self.apply(backend, t, Prescale::NONE, params, grads, &mut planes[..k]);
        Ok(())
    }

    /// [`step`](Optimizer::step) split across the threads of rayon's current pool.
    ///
    /// The slices are cut into pieces of at least 32 768 elements at multiples of 64, and
    /// each piece is stepped on its own; since elements are independent, the result is
    /// bit-identical to [`step`](Optimizer::step) whatever the number of threads.
    #[cfg(feature = "rayon")]
    fn step_parallel(
        &self,
        t: u64,
        params: &mut [f32],
        grads: &[f32],
        state: &mut [f32],
    ) -> Result<(), Error> {
        let backend = check_call(self, Backend::Auto, t, params.len(), grads.len())?;
        let k = self.state_planes();
        expect_len("state", state.len(), k * params.len())?;
        let planes = split_planes(state, params.len());
        crate::parallel::step(self, backend, t, Prescale::NONE, params, grads, planes);
        Ok(())
    }

    /// Takes step `t` with the state given as one slice per plane, each `params.len()` long.
    ///
    /// This is the form for sharding: split `params`, `grads` and every plane at the same
    /// indices and step each piece on its own (or on its own thread); the result is
    /// bit-identical to one call over the whole.
    fn step_planes(
        &self,
        t: u64,
        params: &mut [f32],
        grads: &[f32],
        planes: &mut [&mut [f32]],
    ) -> Result<(), Error> {
        self.step_planes_with(Backend::Auto, t, params, grads, planes)
    }

    /// [`step_planes`](Optimizer::step_planes) on a chosen [`Backend`].
    fn step_planes_with(
        &self,
        backend: Backend,
        t: u64,
        params: &mut [f32],
        grads: &[f32],
        planes: &mut [&mut [f32]],
    ) -> Result<(), Error> {
        let backend = check_call(self, backend, t, params.len(), grads.len())?;
        let expected = self.state_planes();
        if planes.len() != expected {
            return Err(Error::PlaneCount {
                expected,
                found: planes.len(),
            });
        }
        for plane in planes.iter() {
            expect_len("state plane", plane.len(), params.len())?;
        }
        self.apply(backend, t, Prescale::NONE, params, grads, planes);
        Ok(())
    }
}

/// Cuts a planar state buffer into its planes of `n` (the slots past the last plane, or all
/// of them when `n == 0`, stay empty).
pub(crate) fn split_planes(state: &mut [f32], n: usize) -> [&mut [f32]; MAX_PLANES] {
    let mut planes: [&mut [f32]; MAX_PLANES] = Default::default();
    if n > 0 {
        for (slot, plane) in planes.iter_mut().zip(state.chunks_exact_mut(n)) {
            *slot = plane;
        }
    }
    planes
}

/// The checks every step makes, in one place.
pub(crate) fn check_call<O: Optimizer + ?Sized>(
    optimizer: &O,
    backend: Backend,
    t: u64,
    n: usize,
    grads: usize,
) -> Result<Backend, Error> {
    optimizer.validate()?;
    if t == 0 {
        return Err(Error::ZeroStep);
    }
    expect_len("grads", grads, n)?;
    backend.check()
}

pub(crate) fn expect_len(what: &'static str, found: usize, expected: usize) -> Result<(), Error> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            expected,
            found,
        })
    }
}

/// Reborrows validated planes as the fixed-size array a kernel walks.
///
/// Missing planes (which validation rules out) become empty slices, which makes the walk a
/// no-op rather than a panic.
pub(crate) fn planes<'a, const K: usize>(planes: &'a mut [&mut [f32]]) -> [&'a mut [f32]; K] {
    let mut it = planes.iter_mut();
    core::array::from_fn(|_| match it.next() {
        Some(plane) => &mut **plane,
        None => &mut [],
    })
}

/// `Ok` if `value` is finite and `>= 0`.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<(), Error> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidHyperParameter {
            name,
            value,
            expected: "finite and >= 0",
        })
    }
}

/// `Ok` if `value` is finite.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<(), Error> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidHyperParameter {
            name,
            value,
            expected: "finite",
        })
    }
}

/// `Ok` if `0 <= value < 1`.
pub(crate) fn unit_interval(name: &'static str, value: f64) -> Result<(), Error> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidHyperParameter {
            name,
            value,
            expected: "in [0, 1)",
        })
    }
}

/// Rounds a per-call scalar, computed in `f64`, once to `f32`.
#[inline]
pub(crate) fn f32_of(x: f64) -> f32 {
    x as f32
}

/// What the gradients are multiplied by before an optimizer sees them: the inverse of a
/// mixed-precision loss scale, then a global-norm clipping coefficient (each `1.0` when
/// unused), in that order, as `GradScaler.unscale_` and `clip_grad_norm_` would in separate
/// passes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prescale {
    /// `1 / loss_scale`, as `GradScaler` computes it (in `f64`, rounded to `f32`).
    pub(crate) unscale: f32,
    /// The clipping coefficient, at most 1.
    pub(crate) clip: f32,
}

impl Prescale {
    /// No unscaling, no clipping.
    pub(crate) const NONE: Prescale = Prescale {
        unscale: 1.0,
        clip: 1.0,
    };
}

/// The gradient an optimizer's update works on, prepared once per call:
/// `g ← ((g · unscale) · clip)`, negated if `maximize`.
///
/// It costs two multiplications per element and gives exactly the bits of unscaling,
/// clipping and negating in three passes: multiplying by `±clip` is `±` the product with
/// `clip`, exactly, and multiplying by 1 changes nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GradIn {
    unscale: f32,
    clip_sign: f32,
}

impl GradIn {
    /// The gradient transform for `prescale` and `maximize`.
    pub(crate) fn new(prescale: Prescale, maximize: bool) -> Self {
        GradIn {
            unscale: prescale.unscale,
            clip_sign: if maximize {
                -prescale.clip
            } else {
                prescale.clip
            },
        }
    }

    /// The gradient the update uses.
    #[inline(always)]
    pub(crate) fn apply<L: Lane>(self, g: L) -> L {
        (g * L::splat(self.unscale)) * L::splat(self.clip_sign)
    }
}

/// PyTorch's `lerp_(end, weight)` on CPU, without its fused multiply-add:
/// `start + w * (end - start)` when `|w| < 0.5`, else `end - (end - start) * (1 - w)`,
/// with `w` and `1 - w` in `f32`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lerp {
    weight: f32,
    one_minus_weight: f32,
}

impl Lerp {
    /// The lerp by `weight` (computed in `f64`, rounded once).
    pub(crate) fn new(weight: f64) -> Self {
        let weight = f32_of(weight);
        Lerp {
            weight,
            one_minus_weight: 1.0 - weight,
        }
    }

    /// Whether PyTorch uses the `end - (end - start) * (1 - w)` form for this weight; the
    /// caller turns it into a kernel flag so the choice is made once per call.
    pub(crate) fn is_high(self) -> bool {
        self.weight.abs() >= 0.5 // the weight is finite: validated
    }

    /// `lerp(start, end)`; `high` must be [`Lerp::is_high`] (a constant in each kernel).
    #[inline(always)]
    pub(crate) fn apply<L: Lane>(self, start: L, end: L, high: bool) -> L {
        let diff = end - start;
        if high {
            end - diff * L::splat(self.one_minus_weight)
        } else {
            start + L::splat(self.weight) * diff
        }
    }
}

/// `bit` if `on`, else 0: one option's contribution to a kernel's flag set.
#[inline]
pub(crate) const fn flag(on: bool, bit: u8) -> u8 {
    if on { bit } else { 0 }
}

/// Turns a run-time flag set into a `const` generic, so each combination of options gets its
/// own kernel, chosen once per call: `specialize!(flags, bits = 3, |F| body)` evaluates `body`
/// with `const F: u8` equal to `flags` (which must be below `2^bits`).
macro_rules! specialize {
    (@arms $flags:expr, $f:ident, $body:expr, $($n:literal)*) => {
        match $flags {
            $($n => {
                const $f: u8 = $n;
                $body
            })*
            _ => {}
        }
    };
    ($flags:expr, bits = 1, |$f:ident| $body:expr) => {
        specialize!(@arms $flags, $f, $body, 0 1)
    };
    ($flags:expr, bits = 2, |$f:ident| $body:expr) => {
        specialize!(@arms $flags, $f, $body, 0 1 2 3)
    };
    ($flags:expr, bits = 3, |$f:ident| $body:expr) => {
        specialize!(@arms $flags, $f, $body, 0 1 2 3 4 5 6 7)
    };
    ($flags:expr, bits = 4, |$f:ident| $body:expr) => {
        specialize!(@arms $flags, $f, $body, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
}
pub(crate) use specialize;

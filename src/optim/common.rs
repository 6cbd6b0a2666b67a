//! What the optimizers' kernels share: the gradient read, PyTorch's lerp, the weight-decay
//! modes, the hyper-parameter checks, and the call into the slice walk.

use crate::Error;
use crate::optimizer::{Call, Prescale};
use crate::simd::{self, Lane, Update};

/// Declares a kernel: the step type `Name<const ...>(Scalars)` and its per-element update,
/// whose closure-like arguments name the step's scalars, the parameter, the gradient and the
/// state values of one element (lane).
macro_rules! kernel {
    (
        $name:ident<$(const $c:ident: $t:ty),* $(,)?>($scalars:ty)
        |$s:ident, $p:ident, $g:ident, $state:ident| $body:block
    ) => {
        struct $name<$(const $c: $t),*>($scalars);

        impl<$(const $c: $t),*> $crate::simd::Update for $name<$($c),*> {
            #[inline(always)]
            fn update<L: $crate::simd::Lane>(&self, $p: L, $g: L, $state: &mut [L]) -> L {
                let $s = &self.0;
                $body
            }
        }
    };
}
pub(crate) use kernel;

/// Runs `update` over a validated call with `K` state planes.
#[inline]
pub(crate) fn run<U: Update, const K: usize>(call: Call<'_, '_>, update: &U) {
    simd::run::<U, K>(
        call.backend,
        update,
        call.params,
        call.grads,
        planes::<K>(call.planes),
    );
}

/// Reborrows validated planes as the fixed-size array a kernel walks.
///
/// Missing planes (which validation rules out) become empty slices, which makes the walk a
/// no-op rather than a panic.
fn planes<'a, const K: usize>(planes: &'a mut [&mut [f32]]) -> [&'a mut [f32]; K] {
    let mut it = planes.iter_mut();
    core::array::from_fn(|_| match it.next() {
        Some(plane) => &mut **plane,
        None => &mut [],
    })
}

/// Rounds a per-call scalar, computed in `f64`, once to `f32`.
#[inline]
pub(crate) fn f32_of(x: f64) -> f32 {
    x as f32
}

/// How an optimizer applies its weight decay; each mode is its own kernel (a `const DECAY:
/// u8` parameter taking [`NO_DECAY`], [`L2`] or [`DECOUPLED`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WeightDecay {
    /// `weight_decay = 0`: nothing is computed (not even `0 · p`, which is NaN for an
    /// infinite parameter).
    None,
    /// `g ← g + weight_decay · p`.
    L2,
    /// `p ← p · (1 − lr · weight_decay)`.
    Decoupled,
}

impl WeightDecay {
    /// The mode for a validated `weight_decay` and the optimizer's decoupling option.
    pub(crate) fn of(weight_decay: f64, decoupled: bool) -> Self {
        match (weight_decay != 0.0, decoupled) {
            (false, _) => WeightDecay::None,
            (true, false) => WeightDecay::L2,
            (true, true) => WeightDecay::Decoupled,
        }
    }
}

/// A family of kernels with a `const DECAY: u8` parameter, run by [`WeightDecay::run`].
pub(crate) trait DecayKernels {
    /// Runs the family's kernel for `DECAY` ([`NO_DECAY`], [`L2`] or [`DECOUPLED`]).
    fn run<const DECAY: u8>(&self, call: Call<'_, '_>);
}

impl WeightDecay {
    /// Runs the kernel of `kernels` for this mode.
    #[inline]
    pub(crate) fn run<K: DecayKernels>(self, kernels: &K, call: Call<'_, '_>) {
        match self {
            WeightDecay::None => kernels.run::<NO_DECAY>(call),
            WeightDecay::L2 => kernels.run::<L2>(call),
            WeightDecay::Decoupled => kernels.run::<DECOUPLED>(call),
        }
    }
}

/// The kernel constant of [`WeightDecay::None`].
pub(crate) const NO_DECAY: u8 = 0;
/// The kernel constant of [`WeightDecay::L2`].
pub(crate) const L2: u8 = 1;
/// The kernel constant of [`WeightDecay::Decoupled`].
pub(crate) const DECOUPLED: u8 = 2;

/// The gradient an optimizer's update works on, prepared once per call:
/// `g ← ((g · unscale) · clip)`, negated if `maximize`, then (with L2 weight decay)
/// `g ← g + weight_decay · p`.
///
/// The transform costs two multiplications per element and gives exactly the bits of
/// unscaling, clipping and negating in three passes: multiplying by `±clip` is `±` the
/// product with `clip`, exactly, and multiplying by 1 changes nothing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GradIn {
    unscale: f32,
    clip_sign: f32,
    weight_decay: f32,
}

impl GradIn {
    /// The gradient read for `prescale`, `maximize` and an L2 `weight_decay` (used only by
    /// [`GradIn::with_l2`]).
    pub(crate) fn new(prescale: Prescale, maximize: bool, weight_decay: f64) -> Self {
        GradIn {
            unscale: prescale.unscale,
            clip_sign: if maximize {
                -prescale.clip
            } else {
                prescale.clip
            },
            weight_decay: f32_of(weight_decay),
        }
    }

    /// The transformed gradient.
    #[inline(always)]
    pub(crate) fn apply<L: Lane>(self, g: L) -> L {
        (g * L::splat(self.unscale)) * L::splat(self.clip_sign)
    }

    /// The transformed gradient, plus `weight_decay · p` if `L2` (the kernel's constant):
    /// `fma(p, weight_decay, g)`, PyTorch's `grad.add(param, alpha=weight_decay)`.
    #[inline(always)]
    pub(crate) fn with_l2<L: Lane, const L2: bool>(self, g: L, p: L) -> L {
        let g = self.apply(g);
        if L2 {
            p.mul_add(L::splat(self.weight_decay), g)
        } else {
            g
        }
    }
}

/// PyTorch's `lerp_(end, weight)` on CPU: `fma(w, end − start, start)` when `|w| < 0.5`,
/// else `fma(−(end − start), 1 − w, end)`, with `w` and `1 − w` in `f32` (ATen's
/// `lerp_vec` and its scalar tail).
///
/// Both forms are `fma(end − start, c, base)` (with `base = start, c = w`, or `base = end,
/// c = −(1 − w)`: negating a factor negates the exact product), so one kernel serves both
/// and the form is a per-call choice of `base`, not a kernel variant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lerp {
    coefficient: f32,
    from_end: bool,
}

impl Lerp {
    /// The lerp by `weight` (computed in `f64`, rounded once).
    pub(crate) fn new(weight: f64) -> Self {
        let weight = f32_of(weight);
        let from_end = weight.abs() >= 0.5; // the weight is finite: validated
        Lerp {
            coefficient: if from_end { -(1.0 - weight) } else { weight },
            from_end,
        }
    }

    /// `lerp(start, end)`.
    #[inline(always)]
    pub(crate) fn apply<L: Lane>(self, start: L, end: L) -> L {
        let base = if self.from_end { end } else { start };
        (end - start).mul_add(L::splat(self.coefficient), base)
    }
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

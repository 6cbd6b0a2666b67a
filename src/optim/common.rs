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

        impl<$(const $c: $t),*> $crate::optim::common::Finite for $name<$($c),*> {
            fn non_finite(&self) -> Option<(&'static str, f32)> {
                $crate::optim::common::Finite::non_finite(&self.0)
            }
        }

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

/// Runs `update` over a validated call with `K` state planes, unless one of its scalars is
/// infinite or NaN: then nothing is written and the call is refused with
/// [`Error::NonFiniteStepScalar`].
#[inline]
pub(crate) fn run<U: Update + Finite, const K: usize>(
    call: Call<'_, '_>,
    update: &U,
) -> Result<(), Error> {
    if let Some((name, value)) = update.non_finite() {
        return Err(Error::NonFiniteStepScalar {
            name,
            value,
            t: call.t,
        });
    }
    simd::run::<U, K>(
        call.backend,
        update,
        call.params,
        call.grads,
        planes::<K>(call.planes),
    );
    Ok(())
}

/// A step's scalars, checked before any element is touched: the first one that is infinite
/// or NaN, by name.
pub(crate) trait Finite {
    /// The first non-finite scalar (its field name, or `""` for a bare `f32`) and its value.
    fn non_finite(&self) -> Option<(&'static str, f32)>;
}

impl Finite for f32 {
    fn non_finite(&self) -> Option<(&'static str, f32)> {
        (!self.is_finite()).then_some(("", *self))
    }
}

impl Finite for bool {
    fn non_finite(&self) -> Option<(&'static str, f32)> {
        None
    }
}

/// Declares a struct of per-step scalars (`f32`s, flags and other such structs) with its
/// [`Finite`] check, field by field in order.
macro_rules! step_scalars {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field:ident: $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug)]
        $vis struct $name {
            $($(#[$field_meta])* $field: $ty),*
        }

        impl $crate::optim::common::Finite for $name {
            fn non_finite(&self) -> Option<(&'static str, f32)> {
                $(
                    if let Some((name, value)) =
                        $crate::optim::common::Finite::non_finite(&self.$field)
                    {
                        return Some((if name.is_empty() { stringify!($field) } else { name }, value));
                    }
                )*
                None
            }
        }
    };
}
pub(crate) use step_scalars;

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
    fn run<const DECAY: u8>(&self, call: Call<'_, '_>) -> Result<(), Error>;
}

impl WeightDecay {
    /// Runs the kernel of `kernels` for this mode.
    #[inline]
    pub(crate) fn run<K: DecayKernels>(self, kernels: &K, call: Call<'_, '_>) -> Result<(), Error> {
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

step_scalars! {
    /// The gradient an optimizer's update works on, prepared once per call:
    /// `g ← ((g · unscale) · clip)`, negated if `maximize`, then (with L2 weight decay)
    /// `g ← g + weight_decay · p`.
    ///
    /// The transform costs two multiplications per element and gives exactly the bits of
    /// unscaling, clipping and negating in three passes: multiplying by `±clip` is `±` the
    /// product with `clip`, exactly, and multiplying by 1 changes nothing.
    pub(crate) struct GradIn {
        unscale: f32,
        clip_sign: f32,
        weight_decay: f32,
    }
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

step_scalars! {
    /// PyTorch's `lerp_(end, weight)` on CPU: `fma(w, end − start, start)` when `|w| < 0.5`,
    /// else `fma(−(end − start), 1 − w, end)`, with `w` and `1 − w` in `f32` (ATen's
    /// `lerp_vec` and its scalar tail).
    ///
    /// Both forms are `fma(end − start, c, base)` (with `base = start, c = w`, or `base = end,
    /// c = −(1 − w)`: negating a factor negates the exact product), so one kernel serves both
    /// and the form is a per-call choice of `base`, not a kernel variant.
    pub(crate) struct Lerp {
        coefficient: f32,
        from_end: bool,
    }
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

step_scalars! {
    /// Division of every lane by one per-call constant `c`: `x / c`, correctly rounded, as the
    /// division PyTorch writes (Adam's `sqrt(v) / sqrt(bc2)`).
    ///
    /// Where the lane has a hardware FMA, it multiplies by `r = f32(1 / c)` and corrects the
    /// quotient once (Markstein's theorem: `q = RN(x·r)` is within an ulp of `x / c`, the residual
    /// `ρ = x − q·c` is exact, and `RN(q + ρ·r)` is the correctly rounded quotient when `r` is
    /// the correctly rounded reciprocal), which replaces a division (10–16 cycles of throughput
    /// on AVX2/AVX-512) by a multiplication and two FMAs. The bits are the division's: checked
    /// for every mantissa of `x` against 36 divisors in the unit tests (12 off x86_64), and
    /// for 2 000 divisors once (`FUSED_OPTIM_DIVISORS=2000`, see `benches/README.md`). Where
    /// the FMA is emulated, it divides.
    ///
    /// The two ways agree for `c` a normal in `[2⁻³², 1]` and `x` zero, infinite, NaN or of
    /// magnitude in `[2⁻¹⁰⁰, 2⁹⁵]` (no overflow of `x·r`, no underflow of the residual); a user
    /// must guarantee that range (Adam: `x = sqrt(v)`, at least `2⁻⁷⁵` unless zero, at most
    /// `2⁶⁴`, and `c = f32(√bc2) ≥ 2⁻²⁷`).
    pub(crate) struct Divisor {
        divisor: f32,
        reciprocal: f32,
    }
}

impl Divisor {
    /// Division by `divisor` (a normal in `[2⁻³², 1]`, see above).
    pub(crate) fn new(divisor: f32) -> Self {
        Divisor {
            divisor,
            reciprocal: 1.0 / divisor,
        }
    }

    /// `x / c`, the lane's cheaper way.
    #[inline(always)]
    pub(crate) fn divide<L: Lane>(self, x: L) -> L {
        if L::HARDWARE_FMA {
            self.by_reciprocal(x)
        } else {
            x / L::splat(self.divisor)
        }
    }

    /// `x / c` through the reciprocal and one correction. The residual is computed as
    /// `−(q·c − x)` so that `x = −0` gives `−0`; an infinite `x` makes the residual NaN,
    /// and then `q` (infinite, or NaN for a NaN `x`) is the quotient.
    #[inline(always)]
    fn by_reciprocal<L: Lane>(self, x: L) -> L {
        let (c, r) = (L::splat(self.divisor), L::splat(self.reciprocal));
        let q = x * r;
        let residual = -q.mul_add(c, -x);
        let corrected = residual.mul_add(r, q);
        L::select(corrected.is_nan(), q, corrected)
    }
}

/// `Ok` if `value` is `>= 0` and finite also as the `f32` a kernel uses (at most
/// `f32::MAX` plus half its ulp: `3.4028235677973366e38`).
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<(), Error> {
    if f32_of(value).is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidHyperParameter {
            name,
            value,
            expected: "finite as f32 and >= 0",
        })
    }
}

/// `Ok` if `value` is finite also as the `f32` a kernel uses.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<(), Error> {
    if f32_of(value).is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidHyperParameter {
            name,
            value,
            expected: "finite as f32",
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

#[cfg(test)]
pub(crate) mod tests {
    use super::Divisor;

    /// A small xorshift generator: the unit tests' cases are the same on every run.
    pub(crate) fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn check(c: f32, x: f32) {
        let (got, want) = (Divisor::new(c).by_reciprocal(x), x / c);
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{x:e} / {c:e}: {got:e} ({:#x}), division {want:e} ({:#x})",
            got.to_bits(),
            want.to_bits()
        );
    }

    /// Every mantissa of `x` in `[1, 2)` against divisors with hard mantissas (all ones, one
    /// past a power of two, thirds) and random ones, at both ends of the exponent range
    /// (the result depends only on the mantissas while nothing overflows or underflows).
    #[test]
    #[cfg_attr(miri, ignore)] // 3·10⁸ cases
    fn the_reciprocal_form_is_the_division_for_every_mantissa() {
        let mut divisors = std::vec![
            1.0,
            0.5,
            f32::from_bits(0x3f7f_ffff), // 1 − 2⁻²⁴
            f32::from_bits(0x3f00_0001), // ½ + 2⁻²⁴
            0.75,
            2.0 / 3.0,
            1.0 / 3.0,
            0.1,
            f32::from_bits(0x2f80_0000), // 2⁻³²
            f32::from_bits(0x2fff_ffff), // just below 2⁻³¹
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15;
        // 36 divisors natively; 12 elsewhere (CI runs other architectures under emulation);
        // FUSED_OPTIM_DIVISORS=2000 repeats the one-off run benches/README.md quotes.
        let count = match std::env::var("FUSED_OPTIM_DIVISORS") {
            Ok(n) => n.parse().expect("FUSED_OPTIM_DIVISORS: a count"),
            Err(_) if cfg!(target_arch = "x86_64") => 36,
            Err(_) => 12,
        };
        while divisors.len() < count {
            // Mantissa random, exponent in [2⁻³², 1).
            let bits = next(&mut state);
            let exponent = 95 + (bits >> 32) % 32;
            divisors.push(f32::from_bits(
                (exponent as u32) << 23 | (bits as u32 & 0x7f_ffff),
            ));
        }
        for &c in &divisors {
            for mantissa in 0..1 << 23 {
                check(c, f32::from_bits(0x3f80_0000 | mantissa));
            }
        }
    }

    /// Random `x` over the whole promised range and both signs, random divisors, and the
    /// special values: zeros, infinities, NaN, the range's ends.
    #[test]
    fn the_reciprocal_form_is_the_division_over_the_promised_range() {
        let mut state = 0x2545_f491_4f6c_dd1d;
        let specials = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::from_bits(0x0d80_0000), // 2⁻¹⁰⁰
            f32::from_bits(0x6f7f_ffff), // just below 2⁹⁵
        ];
        for _ in 0..if cfg!(miri) { 2_000 } else { 2_000_000 } {
            let bits = next(&mut state);
            let exponent = 95 + (bits >> 32) % 32;
            let c = f32::from_bits((exponent as u32) << 23 | (bits as u32 & 0x7f_ffff));
            let bits = next(&mut state);
            let exponent = 27 + (bits >> 32) % 195; // 2⁻¹⁰⁰ ..= 2⁹⁴·(2 − ε)
            let sign = ((bits >> 40) as u32 & 1) << 31;
            let x = f32::from_bits(sign | (exponent as u32) << 23 | (bits as u32 & 0x7f_ffff));
            check(c, x);
            check(c, specials[(bits >> 48) as usize % specials.len()]);
        }
        check(1.0, -0.0);
        check(f32::from_bits(0x3f7f_ffff), f32::from_bits(0x0d80_0000));
    }
}

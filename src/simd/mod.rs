//! Lane types, instruction-set selection and the one slice walk every optimizer uses.
//!
//! Everything that knows about instruction sets lives in this module:
//!
//! * [`Lane`] is the small set of element-wise operations an optimizer's update may use.
//!   Each optimizer writes its update once, generic over `L: Lane`.
//! * `scalar.rs` implements it for `f32` (one element), `portable.rs` for the `wide` vector
//!   that the build's target features allow (SSE2/AVX/AVX-512 on x86, NEON on aarch64,
//!   simd128 on wasm).
//! * `x86/` implements it with AVX2 and AVX-512 intrinsics (one file each), compiles the walk for those
//!   instruction sets with `#[target_feature]` and selects one at run time (x86_64 with
//!   `std`), so a default build runs at the speed of the best instruction set of the CPU.
//! * [`Backend`] names a lane type; `run` picks one and walks the slices: whole vectors first,
//!   then the remaining elements one at a time with the scalar lane.
//!
//! # Why every path gives the same bits
//!
//! The lane operations are `+ - * /`, `sqrt`, negation, `abs`, ordered comparisons with
//! `select`, and comparison-based `max`/`min`. IEEE 754 defines the arithmetic as exact or
//! correctly rounded and every back-end implements it that way, so a lane computes exactly
//! what `f32` computes element by element. `max`/`min` are defined here once (as
//! `torch.maximum`/`torch.minimum`: NaN-propagating, the first operand on ties) and built from
//! comparisons, not from the instructions, whose NaN and signed-zero rules differ between ISAs. No fused multiply-add and no approximate reciprocal is used.
//! Only the payload of a NaN may differ between paths; NaN-ness never does.

#[cfg(fused_optim_vfma)]
mod arm;
mod fma;
mod portable;
mod scalar;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86;

use core::ops::{Add, Div, Mul, Neg, Sub};

use crate::Error;

/// The element-wise operations an optimizer update may use.
///
/// Implemented by `f32` (one lane) and by the build's `wide` vector. Every method must give,
/// lane by lane, exactly the bits the `f32` implementation gives.
pub(crate) trait Lane:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// Number of `f32` in one lane value.
    const LANES: usize;

    /// All lanes set to `x`.
    fn splat(x: f32) -> Self;

    /// Reads the first [`Self::LANES`] elements of `src`.
    fn load(src: &[f32]) -> Self;

    /// Writes the lanes to the first [`Self::LANES`] elements of `dst`.
    fn store(self, dst: &mut [f32]);

    /// Correctly rounded square root (NaN for negative input).
    fn sqrt(self) -> Self;

    /// `self · b + c` with one rounding: IEEE 754's fusedMultiplyAdd, on every back-end
    /// (the hardware instruction where the back-end has one, a correctly rounded software
    /// emulation where it has none).
    fn mul_add(self, b: Self, c: Self) -> Self;

    /// Whether [`Lane::mul_add`] is one hardware instruction (else it is emulated, and costs
    /// several times a division): a choice between two ways to the same bits, never of bits.
    const HARDWARE_FMA: bool;

    /// A per-lane condition, from a comparison; consumed by [`Lane::select`].
    type Mask: Copy;

    /// `self < rhs`, lane by lane (false where either is NaN).
    fn lt(self, rhs: Self) -> Self::Mask;

    /// `self > rhs`, lane by lane (false where either is NaN).
    fn gt(self, rhs: Self) -> Self::Mask;

    /// `if mask { if_true } else { if_false }`, lane by lane.
    fn select(mask: Self::Mask, if_true: Self, if_false: Self) -> Self;

    /// Absolute value: the sign bit cleared (NaN stays NaN).
    fn abs(self) -> Self;

    /// `self` is NaN, lane by lane.
    fn is_nan(self) -> Self::Mask;

    /// Either condition, lane by lane.
    fn or(a: Self::Mask, b: Self::Mask) -> Self::Mask;

    /// `if rhs.is_nan() || rhs < self { rhs } else { self }`, lane by lane: `torch.minimum`
    /// (NaN-propagating; `self` on ties). Built from comparisons on every back-end, since the
    /// instructions' NaN and signed-zero rules differ between instruction sets.
    #[inline(always)]
    fn min(self, rhs: Self) -> Self {
        Self::select(Self::or(rhs.is_nan(), rhs.lt(self)), rhs, self)
    }

    /// `if rhs.is_nan() || self < rhs { rhs } else { self }`, lane by lane: `torch.maximum`,
    /// NaN-propagating (a NaN in either operand gives NaN), and `self` on ties, so
    /// `max(-0.0, +0.0)` is `-0.0`.
    #[inline(always)]
    fn max(self, rhs: Self) -> Self {
        Self::select(Self::or(rhs.is_nan(), self.lt(rhs)), rhs, self)
    }

    /// A hint to start loading the cache line at `address` into the cache. Never dereferences
    /// it, so any address is allowed (the walk passes addresses past the end of its slices).
    /// Does nothing unless the lane type overrides it (the x86 lanes do).
    #[inline(always)]
    fn prefetch(address: *const f32) {
        let _ = address;
    }
}

/// The per-element work of one optimizer step, prepared once per call.
///
/// `update` receives a parameter, its gradient and the optimizer's state values for the same
/// element (one per state plane, in the optimizer's documented order), writes the new state
/// into `state` and returns the new parameter.
pub(crate) trait Update {
    /// One element (lane) of the step.
    fn update<L: Lane>(&self, param: L, grad: L, state: &mut [L]) -> L;
}

/// Which lane implementation executes a step.
///
/// All back-ends give bit-identical parameters and state (NaN payloads aside); they differ only
/// in speed. [`Backend::Auto`] picks the fastest one available, which is what
/// [`Optimizer::step`](crate::Optimizer::step) uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// The fastest back-end available on this CPU: [`Backend::Avx512`], else
    /// [`Backend::Avx2`], else [`Backend::Simd`].
    Auto,
    /// One `f32` at a time; the reference every other back-end must match.
    Scalar,
    /// Explicit SIMD through the `wide` crate, with the instruction set the build's target
    /// features enable (SSE2 on default x86_64 builds, AVX-512 with `-C target-cpu=native` on a
    /// CPU that has it, NEON on aarch64, simd128 on wasm with `+simd128`). On targets without
    /// SIMD (Cortex-M, wasm without simd128) it is the scalar path.
    Simd,
    /// AVX2 with FMA, chosen at run time: available on x86_64 with the `std` feature when the
    /// CPU has AVX2 and FMA, whatever the build's target features.
    Avx2,
    /// AVX-512 (AVX-512F), chosen at run time: available on x86_64 with the `std` feature when
    /// the CPU has it, whatever the build's target features.
    Avx512,
}

impl Backend {
    /// Slices at least this long are walked with software prefetches of every stream (on the
    /// back-ends that have a prefetch instruction); shorter ones without. Prefetching never
    /// changes a result: tests step slices on both sides of this length.
    pub const PREFETCH_FROM: usize = PREFETCH_FROM;

    /// Every concrete back-end (not [`Backend::Auto`]), available here or not.
    pub const fn all() -> [Backend; 4] {
        [
            Backend::Scalar,
            Backend::Simd,
            Backend::Avx2,
            Backend::Avx512,
        ]
    }

    /// Whether this back-end can run on this machine (CPU, OS and build).
    pub fn is_available(self) -> bool {
        match self {
            Backend::Auto | Backend::Scalar | Backend::Simd => true,
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            Backend::Avx2 => x86::has_avx2(),
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            Backend::Avx512 => x86::has_avx512(),
            #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
            Backend::Avx2 | Backend::Avx512 => false,
        }
    }

    /// The concrete back-end [`Backend::Auto`] stands for here (other values map to themselves).
    pub fn resolve(self) -> Backend {
        match self {
            Backend::Auto if Backend::Avx512.is_available() => Backend::Avx512,
            Backend::Auto if Backend::Avx2.is_available() => Backend::Avx2,
            Backend::Auto => Backend::Simd,
            other => other,
        }
    }

    /// Number of `f32` the back-end processes per iteration (the rest of a slice, fewer than
    /// this, goes through the scalar lane).
    pub fn lanes(self) -> usize {
        match self.resolve() {
            Backend::Scalar => <f32 as Lane>::LANES,
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            Backend::Avx2 => x86::AVX2_LANES,
            #[cfg(all(feature = "std", target_arch = "x86_64"))]
            Backend::Avx512 => x86::AVX512_LANES,
            _ => <portable::Vector as Lane>::LANES,
        }
    }

    /// `Ok(resolved backend)` if this back-end can run here.
    pub(crate) fn check(self) -> Result<Backend, Error> {
        if self.is_available() {
            Ok(self.resolve())
        } else {
            Err(Error::BackendUnavailable { backend: self })
        }
    }
}

/// Runs `update` over every element with the given (already checked) back-end.
///
/// `params`, `grads` and every state plane must have the same length; the caller has checked
/// this, and `walk` relies on it only for speed, never for memory safety.
#[inline]
pub(crate) fn run<U: Update, const K: usize>(
    backend: Backend,
    update: &U,
    params: &mut [f32],
    grads: &[f32],
    state: [&mut [f32]; K],
) {
    match backend.resolve() {
        Backend::Scalar => walk::<f32, U, K>(update, params, grads, state),
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        Backend::Avx512 => x86::walk_avx512(update, params, grads, state),
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        Backend::Avx2 => x86::walk_avx2(update, params, grads, state),
        _ => walk::<portable::Vector, U, K>(update, params, grads, state),
    }
}

/// The slice walk: whole `L` vectors, then the tail one element at a time.
///
/// Every element's result depends only on that element's inputs, which is why any split of
/// the slices (chunks, shards, threads) gives the same bits as one call over the whole.
#[inline(always)]
fn walk<L: Lane, U: Update, const K: usize>(
    update: &U,
    params: &mut [f32],
    grads: &[f32],
    state: [&mut [f32]; K],
) {
    let n = params.len().min(grads.len());
    let n = state.iter().fold(n, |n, plane| n.min(plane.len()));
    // Every slice cut to the same length `n`, so that one loop bound covers every access and
    // the compiler drops the per-plane bounds checks.
    let (params, grads) = (&mut params[..n], &grads[..n]);
    let mut state = state.map(|plane| &mut plane[..n]);
    let body = n - n % L::LANES;
    if n >= PREFETCH_FROM {
        walk_range::<L, U, K, true>(update, params, grads, &mut state, 0, body);
    } else {
        walk_range::<L, U, K, false>(update, params, grads, &mut state, 0, body);
    }
    walk_range::<f32, U, K, false>(update, params, grads, &mut state, body, n);
}

/// Slices at least this long are walked with software prefetches ([`Lane::prefetch`]) of
/// every stream, [`PREFETCH_AHEAD`] elements ahead: 1 MiB or more per stream, so the data
/// of a step is past the core's own L2 and usually streams from L3 or memory.
///
/// Measured on AMD Zen 5 (AVX-512, one thread; Adam, criterion, ratios within one run):
/// +8 % at n = 1M and +10 to +15 % at 16M, where one core's share of memory bandwidth
/// is bounded by how many misses it has in flight; but −7 % at 65 536, where the data is
/// near the core and the prefetch instructions only take issue slots. Prefetching does
/// not change any result.
const PREFETCH_FROM: usize = 1 << 18;

/// How far ahead of the current element the prefetches reach: 4 KiB per stream (measured at
/// 16M: `prefetcht0` 1, 2 and 4 KiB ahead and `prefetcht1` 2 and 8 KiB ahead; 4 KiB with
/// `prefetcht0` was fastest).
const PREFETCH_AHEAD: usize = 1024;

#[inline(always)]
fn walk_range<L: Lane, U: Update, const K: usize, const PREFETCH: bool>(
    update: &U,
    params: &mut [f32],
    grads: &[f32],
    state: &mut [&mut [f32]; K],
    start: usize,
    end: usize,
) {
    // `start` is a multiple of `L::LANES` (0, or the end of the vector body for the scalar
    // lane, whose LANES is 1).
    for chunk in start / L::LANES..end / L::LANES {
        let i = chunk * L::LANES;
        let lanes = i..i + L::LANES;
        // One prefetch per stream and 64-byte line (every iteration for 16-lane vectors).
        if PREFETCH && i % 16 == 0 {
            let ahead = i + PREFETCH_AHEAD;
            L::prefetch(params.as_ptr().wrapping_add(ahead));
            L::prefetch(grads.as_ptr().wrapping_add(ahead));
            for plane in state.iter() {
                L::prefetch(plane.as_ptr().wrapping_add(ahead));
            }
        }
        // A plain loop, not `core::array::from_fn`: its closure was left out of line (a call
        // and a `vzeroupper` per vector in `-C target-cpu=native` builds, 5× slower).
        let mut s = [L::splat(0.0); K];
        for (value, plane) in s.iter_mut().zip(state.iter()) {
            *value = L::load(&plane[lanes.clone()]);
        }
        let p = update.update(
            L::load(&params[lanes.clone()]),
            L::load(&grads[lanes.clone()]),
            &mut s,
        );
        p.store(&mut params[lanes.clone()]);
        for (plane, value) in state.iter_mut().zip(s) {
            value.store(&mut plane[lanes.clone()]);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec::Vec;

    /// Uses every lane operation on (param, grad, state) and writes results into all three.
    struct Probe;

    impl Update for Probe {
        fn update<L: Lane>(&self, p: L, g: L, s: &mut [L]) -> L {
            let picked = L::select(p.lt(g), p.abs(), g.min(p));
            s[0] = L::select(p.gt(g), p.max(g), (-s[0]).sqrt());
            s[1] = p.min(g) + p.max(g) * (p / g) - g.abs();
            picked
        }
    }

    const SPECIAL: [f32; 14] = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.5,
        -3.5,
        f32::NAN,
        -f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE / 8.0,
        -f32::MIN_POSITIVE / 8.0,
        f32::MAX,
        f32::MIN,
    ];

    fn same(a: f32, b: f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// Every operation, on every pair of special values (ties, ±0, NaN of either sign,
    /// infinities, subnormals), gives the scalar lane's bits on every back-end.
    #[test]
    fn every_lane_operation_matches_scalar_on_special_values() {
        let n = SPECIAL.len() * SPECIAL.len();
        let params: Vec<f32> = (0..n).map(|i| SPECIAL[i / SPECIAL.len()]).collect();
        let grads: Vec<f32> = (0..n).map(|i| SPECIAL[i % SPECIAL.len()]).collect();
        let state: Vec<f32> = (0..2 * n)
            .map(|i| SPECIAL[(i * 7) % SPECIAL.len()])
            .collect();
        let run_on = |backend: Backend| {
            let (mut p, mut s) = (params.clone(), state.clone());
            let (s0, s1) = s.split_at_mut(n);
            run(backend, &Probe, &mut p, &grads, [s0, s1]);
            (p, s)
        };
        let (p0, s0) = run_on(Backend::Scalar);
        // The scalar reference itself follows torch.minimum / torch.maximum.
        assert_eq!(<f32 as Lane>::min(0.0, -0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(<f32 as Lane>::min(-0.0, 0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(<f32 as Lane>::max(-0.0, 0.0).to_bits(), (-0.0f32).to_bits());
        assert!(<f32 as Lane>::min(1.0, f32::NAN).is_nan());
        assert!(<f32 as Lane>::max(f32::NAN, 1.0).is_nan());
        for backend in Backend::all().into_iter().filter(|b| b.is_available()) {
            let (p1, s1) = run_on(backend);
            for i in 0..n {
                assert!(
                    same(p0[i], p1[i]),
                    "{backend:?}: param {i}: {} vs {}",
                    p0[i],
                    p1[i]
                );
            }
            for i in 0..2 * n {
                assert!(
                    same(s0[i], s1[i]),
                    "{backend:?}: state {i}: {} vs {}",
                    s0[i],
                    s1[i]
                );
            }
        }
    }
}

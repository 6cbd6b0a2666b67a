//! The checks behind the cargo-fuzz targets of `fused-optim`, as a library, so that the
//! committed corpus also replays as an ordinary test (`tests/seeds.rs`: natively and under
//! Miri) and a crash artifact becomes a regression test by being copied into the corpus.
//!
//! * [`step`]: every optimizer's `step_with` / `step_planes_with` (back-ends, shards, refusals);
//! * [`pipeline`]: the gradient pipeline (unscaling, skipping, clipping, groups, shards).
//!
//! This file holds what both share: the input reader, hyper-parameter generation around each
//! optimizer's defaults, and NaN-aware comparisons.
//!
//! The optimizers come from the crate's registry: the first input byte picks one of
//! [`AnyOptimizer::defaults`] (modulo their number; the registry appends new optimizers, so a
//! first byte below the count, as in every committed seed, keeps its meaning; `tests/seeds.rs`
//! checks the seeds named after an optimizer), and every hyper-parameter it hands out through
//! [`Optimizer::hyper_parameters`] is fuzzed around its default, in declaration order, through
//! the [`Fuzz`] trait. A new optimizer, or a new field of one, is fuzzed with no change here.

pub mod pipeline;
pub mod step;

use fused_optim::{AnyOptimizer, Backend, HyperParameter, Optimizer};

/// The fuzz input, read front to back; past its end every byte reads as 0 (so every input,
/// even the empty one, is a complete case, and zeros mean "defaults").
pub struct Src<'a> {
    data: &'a [u8],
}

impl<'a> Src<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Src { data }
    }
}

impl Src<'_> {
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        core::array::from_fn(|_| self.byte())
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    /// A slice length: mostly 0..=69 (every lane width, two AVX-512 vectors and a tail),
    /// sometimes up to 1023.
    pub fn length(&mut self) -> usize {
        match self.byte() {
            tag @ 0..=199 => usize::from(tag) % 70,
            _ => usize::from(self.u16()) % 1024,
        }
    }

    /// A step number: 1 by default, 0, small ones, and huge ones.
    pub fn step(&mut self) -> u64 {
        const SPECIAL: [u64; 8] = [
            0,
            u64::MAX,
            u64::MAX - 1,
            (1 << 53) + 1,
            1 << 32,
            u32::MAX as u64,
            1_000_000,
            i64::MAX as u64,
        ];
        match self.byte() {
            tag @ 0..=191 => 1 + u64::from(tag) % 16,
            tag @ 192..=247 => SPECIAL[usize::from(tag) % SPECIAL.len()],
            _ => self.u64(),
        }
    }

    /// An element of a parameter, gradient or state buffer.
    pub fn value(&mut self) -> f32 {
        const SPECIAL: [f32; 24] = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f32::NAN,
            -f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::MIN_POSITIVE / 2.0,     // subnormal
            -f32::MIN_POSITIVE / 1024.0, // subnormal
            f32::from_bits(1),           // smallest subnormal
            f32::from_bits(0x007f_ffff), // largest subnormal
            f32::MAX,
            f32::MIN,
            1e30,
            -1e30,
            1e-30,
            f32::EPSILON,
            1.0 + f32::EPSILON,
            0.5,
            1e19,
            f32::from_bits(0x7fc0_0001), // NaN with a payload
        ];
        match self.byte() {
            // One byte: exact small values in [-8, 8) by eighths (0 among them).
            tag @ 0..=127 => f32::from(tag as i8 - 64) * 0.125,
            tag @ 128..=191 => SPECIAL[usize::from(tag) % SPECIAL.len()],
            // Any exponent (subnormal, normal, Inf/NaN) with a short mantissa.
            tag @ 192..=223 => {
                let sign = u32::from(tag & 1) << 31;
                let exponent = u32::from(self.byte()) << 23;
                let mantissa = u32::from(self.byte()) << 15;
                f32::from_bits(sign | exponent | mantissa)
            }
            _ => f32::from_bits(self.u32()),
        }
    }

    pub fn values(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.value()).collect()
    }
}

/// A hyper-parameter drawn around its default value.
pub trait Fuzz: Sized {
    fn fuzz(default: Self, s: &mut Src<'_>) -> Self;
}

impl Fuzz for f64 {
    fn fuzz(default: f64, s: &mut Src<'_>) -> f64 {
        const SPECIAL: [f64; 32] = [
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1.0,
            1.0,
            0.5,
            0.9,
            0.99,
            0.999,
            1.0 - f64::EPSILON / 2.0, // largest f64 below 1
            1.0 + f64::EPSILON,
            2.0,
            10.0,
            1e-8,
            1e-45, // below f32's smallest subnormal: rounds to 0 as f32
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            3.4028235e38, // f32::MAX
            3.5e38,       // rounds to f32 infinity
            1e300,
            -1e-300,
            1e10,
            0.999_999_999_999,
            1e-3,
            1e-2,
            -0.5,
            100.0,
        ];
        match s.byte() {
            0..=127 => default,
            tag @ 128..=191 => SPECIAL[usize::from(tag) % SPECIAL.len()],
            // [0, 1] in 1/255 steps: betas, alphas, momenta, dampening.
            192..=215 => f64::from(s.byte()) / 255.0,
            // The default scaled by a power of two (keeps the sign; may overflow or vanish).
            216..=239 => default * 2f64.powi(i32::from(s.byte() as i8)),
            _ => f64::from_bits(s.u64()),
        }
    }
}

impl Fuzz for f32 {
    fn fuzz(default: f32, s: &mut Src<'_>) -> f32 {
        f64::fuzz(f64::from(default), s) as f32
    }
}

impl Fuzz for bool {
    fn fuzz(_default: bool, s: &mut Src<'_>) -> bool {
        s.byte() & 1 == 1
    }
}

macro_rules! fuzz_integer {
    ($($ty:ty),*) => {$(
        impl Fuzz for $ty {
            fn fuzz(default: $ty, s: &mut Src<'_>) -> $ty {
                match s.byte() {
                    0..=127 => default,
                    128..=191 => <$ty>::MAX,
                    192..=223 => <$ty>::MIN,
                    _ => s.u64() as $ty,
                }
            }
        }
    )*};
}

fuzz_integer!(u8, u16, u32, u64, usize, i8, i16, i32, i64);

/// `None`, or a value around 1 (an optional threshold such as a clipping norm).
impl Fuzz for Option<f64> {
    fn fuzz(default: Option<f64>, s: &mut Src<'_>) -> Option<f64> {
        match s.byte() {
            0..=127 => default,
            128..=191 => None,
            _ => Some(f64::fuzz(1.0, s)),
        }
    }
}

impl<A: Fuzz, B: Fuzz> Fuzz for (A, B) {
    fn fuzz(default: (A, B), s: &mut Src<'_>) -> (A, B) {
        let a = A::fuzz(default.0, s);
        let b = B::fuzz(default.1, s);
        (a, b)
    }
}

/// Equal bits, or both NaN (only NaN payloads may differ between back-ends).
pub fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

#[track_caller]
pub fn assert_same(what: &str, context: &dyn core::fmt::Debug, expected: &[f32], found: &[f32]) {
    assert_eq!(
        expected.len(),
        found.len(),
        "{what}: length changed; {context:?}"
    );
    for (i, (&e, &f)) in expected.iter().zip(found).enumerate() {
        assert!(
            same(e, f),
            "{what}[{i}]: expected {e:e} ({:#010x}), found {f:e} ({:#010x}); {context:?}",
            e.to_bits(),
            f.to_bits(),
        );
    }
}

/// Byte-identical (refused calls must not write anything, NaN payloads included).
#[track_caller]
pub fn assert_untouched(what: &str, context: &dyn core::fmt::Debug, before: &[f32], after: &[f32]) {
    let before: Vec<u32> = before.iter().map(|x| x.to_bits()).collect();
    let after: Vec<u32> = after.iter().map(|x| x.to_bits()).collect();
    assert_eq!(
        before, after,
        "{what} written by a refused call; {context:?}"
    );
}

/// The state buffer's planes, `n` floats each (`k * n <= state.len()`).
pub fn planes_of(state: &mut [f32], k: usize, n: usize) -> Vec<&mut [f32]> {
    let mut rest = state;
    let mut planes = Vec::with_capacity(k);
    for _ in 0..k {
        let (plane, tail) = core::mem::take(&mut rest).split_at_mut(n);
        planes.push(plane);
        rest = tail;
    }
    planes
}

/// Every back-end, available or not, and `Auto`.
pub fn every_backend() -> Vec<Backend> {
    let mut all = vec![Backend::Auto];
    all.extend(Backend::all());
    all
}

/// The optimizer chosen by the next input byte (the first one, in every target), with its
/// hyper-parameters drawn from the bytes after it.
pub fn optimizer(s: &mut Src<'_>) -> AnyOptimizer {
    let count = AnyOptimizer::NAMES.len();
    let index = usize::from(s.byte()) % count;
    let mut optimizer = AnyOptimizer::defaults()
        .nth(index)
        .expect("defaults() yields one optimizer per name");
    optimizer.hyper_parameters(&mut |name, value| match value {
        HyperParameter::Real(x) => *x = Fuzz::fuzz(*x, s),
        HyperParameter::Pair(pair) => *pair = Fuzz::fuzz(*pair, s),
        HyperParameter::Flag(on) => *on = Fuzz::fuzz(*on, s),
        // A new kind of field needs a `Fuzz` arm here: fail on the first input rather than
        // leave it unfuzzed.
        other => panic!("hyper-parameter {name}: no Fuzz for {other:?}"),
    });
    optimizer
}

//! The software FMA against the hardware one, and the vector form against the scalar form.
//!
//! Every case checks [`fma_f32`] against std's `f32::mul_add` (here the `vfmadd`/`fmadd`
//! instruction or glibc's correctly rounded `fmaf`; under Miri its own correctly rounded
//! `fma`), bit for bit (NaN: NaN-ness only). Where the vector form is compiled (SSE2 /
//! simd128), every case also goes through `software::fma_f32x8_with::<FAST>`, `FAST = true`
//! and `false`, in lane `i` of an otherwise random vector for each of the eight `i`, against
//! `fma_f32` in that lane and the precomputed results in the random lanes (the exhaustive
//! family and Miri: one lane per case, rotating). Each random lane alone would take the fast
//! path, so whether it runs is decided by the case's lane.
//!
//! Suites (ported from the stand-alone crate the software FMA was written in, without its
//! big-integer reference, at fewer random cases): every triple of 42 specials; signed zeros,
//! ties, the overflow threshold and published libm double-rounding bugs with explicit expected
//! bits; products exactly on an f32 midpoint with sticky addends; double-rounding traps (sums
//! within 2^-29 relative of a midpoint); every subnormal addend against products near
//! ±2^-150 (134 M cases, in two tests to use two threads); random subnormal inputs and
//! results; the overflow threshold 2^128 - 2^103; operands 20 to 300 binades apart; random
//! bit patterns; random values in narrow exponent windows. 136 M cases (2.2 M in all eight
//! lanes), 300 M vector calls: about 11 s of CPU, 6 s on two idle cores at the test
//! profile's opt-level 2 (`cargo test --lib --all-features simd::fma`).
//!
//! The case counts were checked to catch three deliberate bugs, each failing several suites:
//! dropping the toward-zero step (`bits.wrapping_sub(toward_zero & mask)` -> `bits`) in
//! `fma_f32`, testing `e != 0.0` instead of `e.abs() > 0.0` in `fma_f32`, and a 29-bit
//! fast-path mask (`0x1FFF_FFFF`) in the vector form. Under Miri only the explicit cases and
//! 216 specials run, one lane each (about 10 s).
extern crate std;

use super::*;
use std::{format, string::String, vec::Vec};

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        assert!(lo <= hi, "empty range {lo}..={hi}");
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }

    fn bool(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }

    fn sign(&mut self) -> f32 {
        if self.bool() { -1.0 } else { 1.0 }
    }

    /// A random 24-bit significand `1.xxx` (as an integer in `[2^23, 2^24)`).
    fn sig(&mut self) -> u64 {
        (1 << 23) | (self.next_u64() & 0x7f_ffff)
    }
}

/// `2^k` as f64, `k` in `[-1074, 1023]` (exact).
fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// The f32 `m * 2^k`, which must be exact.
fn mk(m: u64, k: i32) -> f32 {
    let v = m as f64 * pow2(k);
    let f = v as f32;
    assert_eq!(f as f64, v, "mk({m}, {k}) not exact in f32");
    f
}

fn same(x: f32, y: f32) -> bool {
    (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
}

fn check(a: f32, b: f32, c: f32) {
    let (soft, hard) = (fma_f32(a, b, c), a.mul_add(b, c));
    assert!(
        same(soft, hard),
        "fma({a:e}, {b:e}, {c:e}) = {soft:e}, std {hard:e}"
    );
}

#[test]
fn signed_zeros_and_specials() {
    let nz = -0.0f32;
    for (a, b, c, want) in [
        (0.0, -1.0, 0.0, 0.0),
        (nz, 1.0, nz, nz),
        (1.0, 1.0, -1.0, 0.0),
        (f32::from_bits(1), -f32::from_bits(1), 0.0, nz),
        (f32::from_bits(3), 0.5, 0.0, f32::from_bits(2)),
        (f32::MAX, 2.0, -f32::MAX, f32::MAX),
    ] {
        assert_eq!(
            fma_f32(a, b, c).to_bits(),
            want.to_bits(),
            "fma({a:e}, {b:e}, {c:e})"
        );
        check(a, b, c);
    }
}

/// The vector form, lane by lane, against the scalar form.
#[cfg(any(target_feature = "sse2", target_feature = "simd128"))]
mod lanes {
    use super::{Rng, fma_f32, same};
    use crate::simd::fma::software::fma_f32x8_with;
    use std::format;
    use wide::{f32x8, u32x8};

    /// Random vectors whose every lane takes the fast path, with their results.
    pub(super) struct Filler {
        /// `(a, b, c, bits of the result)`.
        pool: [(f32x8, f32x8, f32x8, u32x8); Self::N],
        next: usize,
    }

    impl Filler {
        const N: usize = 16;

        pub(super) fn new() -> Self {
            let mut r = Rng(0x6a09_e667_f3bc_c908);
            let mut lane = || loop {
                let (ea, eb) = (r.range(-30, 30) as i32, r.range(-30, 30) as i32);
                let a = super::mk(r.sig(), ea - 23) * r.sign();
                let b = super::mk(r.sig(), eb - 23) * r.sign();
                let c = super::mk(r.sig(), ea + eb + r.range(-26, 26) as i32 - 23) * r.sign();
                let s = f64::from(a) * f64::from(b) + f64::from(c);
                if s.to_bits() & 0x0FFF_FFFF != 0 {
                    let want = fma_f32(a, b, c);
                    assert!(
                        same(want, a.mul_add(b, c)),
                        "filler fma({a:e}, {b:e}, {c:e})"
                    );
                    return (a, b, c, want.to_bits());
                }
            };
            let pool = core::array::from_fn(|_| {
                let (mut a, mut b, mut c, mut want) = ([0.0; 8], [0.0; 8], [0.0; 8], [0; 8]);
                for i in 0..8 {
                    (a[i], b[i], c[i], want[i]) = lane();
                }
                (
                    f32x8::new(a),
                    f32x8::new(b),
                    f32x8::new(c),
                    u32x8::new(want),
                )
            });
            Filler { pool, next: 0 }
        }

        /// Runs `(a, b, c)` in lane `lane` of the next random vector through both variants;
        /// calls `fail(what, inputs, got, want)` for each wrong lane.
        pub(super) fn run(
            &mut self,
            lane: usize,
            (a, b, c, want): (f32, f32, f32, f32),
            fail: &mut impl FnMut(&str, (f32, f32, f32), f32, f32),
        ) {
            let (fa, fb, fc, fr) = self.pool[self.next];
            self.next = (self.next + 1) % Self::N;
            let m = u32x8::new(core::array::from_fn(
                |j| if j == lane { u32::MAX } else { 0 },
            ));
            let fm = f32x8::from_bits(m);
            let (x, y, z) = (
                fm.bitselect(f32x8::splat(a), fa),
                fm.bitselect(f32x8::splat(b), fb),
                fm.bitselect(f32x8::splat(c), fc),
            );
            let expected = m.bitselect(u32x8::splat(want.to_bits()), fr);
            for (name, got) in [
                ("f32x8 FAST", fma_f32x8_with::<true>(x, y, z)),
                ("f32x8 !FAST", fma_f32x8_with::<false>(x, y, z)),
            ] {
                if got.to_bits().simd_eq(expected).to_bitmask() == 0xff {
                    continue;
                }
                let (got, want) = (got.to_array(), f32x8::from_bits(expected).to_array());
                let (xa, ya, za) = (x.to_array(), y.to_array(), z.to_array());
                for j in 0..8 {
                    if !same(got[j], want[j]) {
                        let what = if j == lane {
                            format!("{name} lane {j}")
                        } else {
                            format!("{name} random lane {j} next to lane {lane}")
                        };
                        fail(&what, (xa[j], ya[j], za[j]), got[j], want[j]);
                    }
                }
            }
        }
    }
}

/// Checks cases as they come and collects the first failures.
struct Checker {
    name: &'static str,
    /// Every lane per case, or one (always under Miri): lane `(n + n / 16) % 8` for the
    /// `n`-th case (0-based).
    all_lanes: bool,
    cases: u64,
    /// Cases where naive double rounding `(a*b + c in f64) as f32` is wrong.
    naive_wrong: u64,
    failed_cases: u64,
    /// Failed checks (scalar, or one lane of one variant).
    failed_checks: u64,
    failures: Vec<String>,
    #[cfg(any(target_feature = "sse2", target_feature = "simd128"))]
    filler: lanes::Filler,
}

impl Checker {
    fn new(name: &'static str) -> Self {
        Checker {
            name,
            all_lanes: !cfg!(miri),
            cases: 0,
            naive_wrong: 0,
            failed_cases: 0,
            failed_checks: 0,
            failures: Vec::new(),
            #[cfg(any(target_feature = "sse2", target_feature = "simd128"))]
            filler: lanes::Filler::new(),
        }
    }

    fn one_lane(name: &'static str) -> Self {
        Checker {
            all_lanes: false,
            ..Self::new(name)
        }
    }

    fn fail(
        failed: &mut u64,
        failures: &mut Vec<String>,
        what: &str,
        (a, b, c): (f32, f32, f32),
        got: f32,
        want: f32,
    ) {
        *failed += 1;
        if failures.len() < 12 {
            failures.push(format!(
                "{what}: fma({a:e} [{:08x}], {b:e} [{:08x}], {c:e} [{:08x}]) = {got:e} [{:08x}], \
                 want {want:e} [{:08x}]",
                a.to_bits(),
                b.to_bits(),
                c.to_bits(),
                got.to_bits(),
                want.to_bits()
            ));
        }
    }

    fn push(&mut self, a: f32, b: f32, c: f32) {
        let (n, before) = (self.cases, self.failed_checks);
        self.cases += 1;
        let soft = fma_f32(a, b, c);
        let hard = a.mul_add(b, c);
        if !same((f64::from(a) * f64::from(b) + f64::from(c)) as f32, hard) {
            self.naive_wrong += 1;
        }
        let (failed, failures) = (&mut self.failed_checks, &mut self.failures);
        if !same(soft, hard) {
            Self::fail(failed, failures, "fma_f32 vs std", (a, b, c), soft, hard);
        }
        #[cfg(any(target_feature = "sse2", target_feature = "simd128"))]
        {
            let mut fail =
                |what: &str, abc, got, want| Self::fail(failed, failures, what, abc, got, want);
            if self.all_lanes {
                for lane in 0..8 {
                    self.filler.run(lane, (a, b, c, soft), &mut fail);
                }
            } else {
                self.filler
                    .run(((n + n / 16) % 8) as usize, (a, b, c, soft), &mut fail);
            }
        }
        #[cfg(not(any(target_feature = "sse2", target_feature = "simd128")))]
        let _ = n;
        if self.failed_checks != before {
            self.failed_cases += 1;
        }
    }

    /// Panics with the first failures; returns the number of cases and of naive misroundings.
    fn finish(self) -> (u64, u64) {
        std::eprintln!(
            "{}: {} cases, naive f64 double rounding wrong on {}",
            self.name,
            self.cases,
            self.naive_wrong
        );
        assert!(
            self.failures.is_empty(),
            "{}: {} of {} cases fail ({} failed checks), the first:\n{}",
            self.name,
            self.failed_cases,
            self.cases,
            self.failed_checks,
            self.failures.join("\n")
        );
        (self.cases, self.naive_wrong)
    }
}

fn specials() -> Vec<f32> {
    let mut v = std::vec![
        0.0,
        f32::from_bits(1), // min subnormal
        f32::from_bits(2),
        f32::from_bits(0x007f_ffff), // max subnormal
        f32::MIN_POSITIVE,
        f32::from_bits(0x0080_0001),
        pow2(-75) as f32,
        pow2(-76) as f32 * 3.0,
        0.5,
        1.0,
        1.0 + f32::EPSILON,
        1.0 - f32::EPSILON / 2.0,
        1.5,
        3.0,
        pow2(64) as f32,
        pow2(103) as f32,
        f32::MAX,
        f32::from_bits(0x7f7f_fffe),
        f32::INFINITY,
    ];
    for x in v.clone() {
        v.push(-x);
    }
    v.push(f32::NAN);
    v.push(f32::from_bits(0xffc0_0000)); // -qNaN
    v.push(f32::from_bits(0x7f80_0001)); // sNaN
    v.push(f32::from_bits(0x7fc1_2345)); // qNaN with payload
    v
}

/// Every triple of 42 special values (Miri: of 6, one lane per case).
#[test]
fn specials_all_triples() {
    let s = if cfg!(miri) {
        std::vec![
            -0.0,
            f32::from_bits(1),
            1.0,
            -f32::MAX,
            f32::NEG_INFINITY,
            f32::NAN
        ]
    } else {
        specials()
    };
    let mut ch = Checker::new("specials_all_triples");
    for &a in &s {
        for &b in &s {
            for &c in &s {
                ch.push(a, b, c);
            }
        }
    }
    ch.finish();
}

#[test]
fn signed_zeros_and_specials_explicit() {
    let nz = -0.0f32;
    let bits = f32::to_bits;
    let cases: &[(f32, f32, f32, f32)] = &[
        (0.0, -1.0, 0.0, 0.0), // -0 + +0 = +0
        (nz, 1.0, nz, nz),     // -0 + -0 = -0
        (nz, nz, nz, 0.0),     // +0 + -0 = +0
        (nz, 1.0, 0.0, 0.0),
        (0.0, 1.0, nz, 0.0),
        (1.0, 1.0, -1.0, 0.0), // exact cancellation -> +0
        (-1.0, 1.0, 1.0, 0.0),
        (3.0, -0.5, 1.5, 0.0),
        (f32::from_bits(1), f32::from_bits(1), 0.0, 0.0), // tiny positive -> +0
        (f32::from_bits(1), -f32::from_bits(1), 0.0, nz), // tiny negative -> -0
        (f32::from_bits(1), -f32::from_bits(1), nz, nz),
        (f32::from_bits(1), 0.5, 0.0, 0.0), // 2^-150 tie -> 0 (even)
        (f32::from_bits(3), 0.5, 0.0, f32::from_bits(2)), // 1.5*2^-149 tie -> 2 (even)
        (f32::from_bits(1), 0.75, 0.0, f32::from_bits(1)), // .75 ulp -> 1
        (f32::MAX, 2.0, -f32::MAX, f32::MAX), // no intermediate overflow
        (f32::MAX, 1.0, pow2(103) as f32, f32::INFINITY), // exactly at threshold: tie -> Inf
        (
            f32::MAX,
            1.0,
            (pow2(103) * (1.0 - pow2(-24))) as f32,
            f32::MAX,
        ),
        (f32::MAX, 1.0, pow2(102) as f32, f32::MAX),
        (-f32::MAX, 1.0, -(pow2(103) as f32), f32::NEG_INFINITY),
        (f32::MAX, 1.0 + f32::EPSILON, 0.0, f32::INFINITY),
        (
            f32::MAX,
            1.0 + f32::EPSILON,
            -f32::MAX,
            (f32::MAX as f64 * f32::EPSILON as f64) as f32,
        ),
        (f32::INFINITY, 1.0, -f32::MAX, f32::INFINITY),
        (1.0, 1.0, f32::NEG_INFINITY, f32::NEG_INFINITY),
        (f32::MAX, f32::MAX, f32::NEG_INFINITY, f32::NEG_INFINITY), // finite product, inf addend
        // published libm double-rounding bugs (openlibm #160, MS UCRT docs PR #3526,
        // compiler-builtins #1262); expected bits from an exact big-integer reference
        (
            0.9474001,
            4.639901e-7,
            -0.24325085,
            f32::from_bits(0xbe79_16a3),
        ),
        (
            -1.9369631e13,
            2.1513551e-7,
            -1.7354427e-24,
            f32::from_bits(0xca7e_56df),
        ),
        (
            f32::from_bits(0x9700_0800),
            f32::from_bits(0x1cff_f001),
            f32::from_bits(0x0001_0002),
            f32::from_bits(0x0001_0001),
        ),
        // subnormal-result midpoint trap: (2^22+1) 2^-149 + 2^-150 - 2^-196 -> (2^22+1) 2^-149
        (
            mk((1 << 23) + 1, -98),
            mk((1 << 23) - 1, -98),
            mk((1 << 22) + 1, -149),
            mk((1 << 22) + 1, -149),
        ),
    ];
    for &(a, b, c, want) in cases {
        let got = fma_f32(a, b, c);
        assert_eq!(
            bits(got),
            bits(want),
            "fma({a:e}, {b:e}, {c:e}) = {got:e}, want {want:e}"
        );
        assert_eq!(
            bits(a.mul_add(b, c)),
            bits(want),
            "std fma({a:e}, {b:e}, {c:e})"
        );
    }
    let nans = [
        (f32::INFINITY, 0.0, 1.0),
        (0.0, f32::NEG_INFINITY, 1.0),
        (f32::INFINITY, 0.0, f32::NAN),
        (f32::INFINITY, 1.0, f32::NEG_INFINITY),
        (f32::INFINITY, -1.0, f32::INFINITY),
        (f32::NAN, 0.0, 0.0),
        (1.0, 1.0, f32::NAN),
    ];
    for (a, b, c) in nans {
        assert!(
            fma_f32(a, b, c).is_nan(),
            "fma({a:e}, {b:e}, {c:e}) not NaN"
        );
    }
    let mut ch = Checker::new("signed_zeros_and_specials_explicit");
    for &(a, b, c, _) in cases {
        ch.push(a, b, c);
    }
    for (a, b, c) in nans {
        ch.push(a, b, c);
    }
    ch.finish();
}

/// A random odd integer with exactly `k` bits.
fn odd_bits(r: &mut Rng, k: u32) -> u64 {
    if k == 1 {
        return 1;
    }
    (1u64 << (k - 1)) | (r.next_u64() & ((1u64 << (k - 1)) - 1)) | 1
}

/// Products `a*b` exactly halfway between two f32 (25 significant bits), with addends that
/// keep the tie, break it by a sticky amount far below f64 precision, or are zero.
#[test]
#[cfg_attr(miri, ignore)]
fn ties_after_product() {
    let mut r = Rng(0x1234_5678_9abc_def1);
    let mut ch = Checker::new("ties_after_product");
    let mut made = 0;
    while made < 20_000 {
        let k1 = r.range(2, 23) as u32;
        let k2 = (25 - k1 + r.range(0, 1) as u32).clamp(2, 24);
        let (u, v) = (odd_bits(&mut r, k1), odd_bits(&mut r, k2));
        if 64 - (u * v).leading_zeros() != 25 {
            continue;
        }
        // p = u*v*2^t, magnitude 2^(t+24); t covers subnormal to overflow.
        let t = r.range(-174, 103) as i32;
        let ka = r.range(
            (-149).max(t - 104 - 24).into(),
            (104 - k1 as i32 + 1).min(t + 149).into(),
        ) as i32;
        let kb = t - ka;
        if !(-149..=127 - k2 as i32 + 1).contains(&kb)
            || ka + k1 as i32 > 128
            || kb + k2 as i32 > 128
        {
            continue;
        }
        let a = mk(u, ka) * r.sign();
        let b = mk(v, kb) * r.sign();
        made += 1;
        let pe = t + 24; // exponent of the product's leading bit
        ch.push(a, b, 0.0);
        ch.push(a, b, -0.0);
        for _ in 0..6 {
            // sticky addend well below the product's f64 ulp (and some not)
            let ce = pe - r.range(20, 140) as i32;
            if (-126..128).contains(&ce) {
                let c = mk(r.sig(), ce - 23).max(f32::from_bits(1));
                ch.push(a, b, c * r.sign());
            }
            // subnormal sticky
            ch.push(
                a,
                b,
                f32::from_bits(r.range(1, 0x7f_ffff) as u32) * r.sign(),
            );
            // tie-preserving: a multiple of the result's ulp grid 2^(t+1)
            let g = t + 1;
            if g >= -149 && g + 24 <= 128 {
                let c = mk(r.next_u64() & 0xff_ffff, g) * r.sign();
                ch.push(a, b, c);
            }
        }
    }
    let (_, naive_wrong) = ch.finish();
    assert!(naive_wrong > 0, "no double-rounding trap generated");
}

/// Addend `c` on the grid `2^(m+1)` and product `p = ±2^m (1 + d)`, `0 < |d| < 2^-29`, so
/// the f64 sum rounds onto an f32 midpoint: the classic double-rounding trap. Family A,
/// every `i` in `1..2^11`: `(2^23+i)(2^23-i) = 2^46 - i^2`. Family B: `b = RN(2^k/a)`.
#[test]
#[cfg_attr(miri, ignore)]
fn double_rounding_traps() {
    let mut r = Rng(0xdead_beef_cafe_f00d);
    let mut ch = Checker::new("double_rounding_traps");
    let ks = |r: &mut Rng| -> u64 {
        match r.range(0, 5) {
            0 => 1 << 23,
            1 => (1 << 23) + 1,
            2 => (1 << 24) - 1,
            3 => (1 << 24) - 2,
            _ => r.sig(),
        }
    };
    // Family A: |d| = i^2 2^-46 <= 2^-24; traps for i < 2^8.
    for i in 1u64..(1 << 11) {
        for _ in 0..3 {
            let m = r.range(-150, 100) as i32; // p ~ 2^m (times 1 - tiny)
            let ka = r.range((-126).max(m - 127).into(), 127.min(m + 126).into()) as i32;
            let kb = m - ka;
            let a = mk((1 << 23) + i, ka - 23) * r.sign();
            let b = mk((1 << 23) - i, kb - 23) * r.sign();
            let g = m + 1; // grid of c
            if g >= -149 && g + 24 <= 128 {
                for _ in 0..2 {
                    ch.push(a, b, mk(ks(&mut r), g) * r.sign());
                    // subnormal-grid / coarser c
                    ch.push(a, b, mk(r.next_u64() & 0x7f_ffff, g) * r.sign());
                }
            }
        }
    }
    // Family B: b = RN(2^k / a), keeping |a*b / 2^k - 1| < 2^-29.
    let mut kept = 0;
    while kept < 40_000 {
        let ea = r.range(-126, 127) as i32;
        let a = mk(r.sig(), ea - 23);
        let m = r.range((-150).max(ea - 126).into(), 127.min(ea + 127).into()) as i32;
        let b = (pow2(m) / a as f64) as f32;
        if b == 0.0 || !b.is_finite() || (b.to_bits() & 0x7f80_0000) == 0 {
            continue;
        }
        let d = a as f64 * b as f64 / pow2(m) - 1.0;
        if d == 0.0 || d.abs() >= pow2(-29) {
            continue;
        }
        kept += 1;
        let (a, b) = (a * r.sign(), b * r.sign());
        let g = m + 1;
        if g >= -149 && g + 24 <= 128 {
            for _ in 0..3 {
                ch.push(a, b, mk(ks(&mut r), g) * r.sign());
                ch.push(a, b, mk(r.next_u64() & 0xff_ffff, g) * r.sign());
            }
        }
    }
    let (_, naive_wrong) = ch.finish();
    assert!(naive_wrong > 0, "no double-rounding trap generated");
}

/// All 2^23 subnormal addends (both signs) in `addends` with products ±2^-150 (1 ± tiny),
/// which is every subnormal-result midpoint trap, and products exactly ±2^-150. One lane per
/// case (every case is slow: subnormal results take a microcode assist in each f32
/// conversion), rotating so that each product and sign pair visits every lane.
fn subnormal_results(name: &'static str, addends: core::ops::Range<u32>) {
    let mut ch = Checker::one_lane(name);
    let two75 = pow2(-75) as f32;
    let products = [
        (mk((1 << 23) + 1, -75 - 23), mk((1 << 23) - 1, -75 - 23)), // 2^-150 (1 - 2^-46)
        (mk((1 << 23) + 3, -75 - 23), mk((1 << 23) - 3, -75 - 23)), // 2^-150 (1 - 9*2^-46)
        (two75, two75),                                             // 2^-150 exactly
        (mk((1 << 23) + 1, -75 - 23), two75),                       // 2^-150 (1 + 2^-23)
    ];
    for k in addends {
        let c = f32::from_bits(k);
        for &(a, b) in &products {
            ch.push(a, b, c);
            ch.push(-a, b, c);
            ch.push(a, b, -c);
            ch.push(-a, b, -c);
        }
    }
    let (_, naive_wrong) = ch.finish();
    assert!(naive_wrong > 0, "no double-rounding trap generated");
}

/// [`subnormal_results`], the lower half of the subnormals (in two tests, for two threads).
#[test]
#[cfg_attr(miri, ignore)]
fn subnormal_results_exhaustive_addend_low() {
    subnormal_results("subnormal_results_exhaustive_addend_low", 0..1 << 22);
}

/// [`subnormal_results`], the upper half of the subnormals.
#[test]
#[cfg_attr(miri, ignore)]
fn subnormal_results_exhaustive_addend_high() {
    subnormal_results("subnormal_results_exhaustive_addend_high", 1 << 22..1 << 23);
}

/// Random subnormal inputs and results.
#[test]
#[cfg_attr(miri, ignore)]
fn subnormal_inputs_random() {
    let mut r = Rng(0x5151_5151_0000_0001);
    let mut ch = Checker::new("subnormal_inputs_random");
    for _ in 0..200_000 {
        let (a, b) = match r.range(0, 3) {
            0 => {
                // subnormal * large: the product anywhere
                let a = f32::from_bits(r.range(1, 0x7f_ffff) as u32);
                let eb = r.range(-20, 127) as i32;
                (a, mk(r.sig(), eb - 23))
            }
            1 => {
                // two normals with a product in the f32 subnormal range
                let ea = r.range(-126, 0) as i32;
                let eb = r
                    .range((-170 - ea).into(), (-110 - ea).into())
                    .clamp(-126, 127) as i32;
                (mk(r.sig(), ea - 23), mk(r.sig(), eb - 23))
            }
            _ => {
                let a = f32::from_bits(r.range(1, 0x7f_ffff) as u32);
                (a, f32::from_bits(r.range(0x3f00_0000, 0x4b00_0000) as u32))
            }
        };
        let c = match r.range(0, 3) {
            0 => f32::from_bits(r.range(0, 0x7f_ffff) as u32),
            1 => f32::from_bits(r.range(0x0080_0000, 0x0200_0000) as u32),
            2 => -(a * b), // cancellation (a*b rounded): a small exact residual or 0
            _ => 0.0,
        };
        ch.push(a * r.sign(), b * r.sign(), c * r.sign());
    }
    ch.finish();
}

/// Products near 2^128 and addends around the overflow threshold 2^128 - 2^103.
#[test]
#[cfg_attr(miri, ignore)]
fn overflow_threshold() {
    let mut r = Rng(0x0f0f_0f0f_1234_4321);
    let mut ch = Checker::new("overflow_threshold");
    let signs = [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)];
    let near = [
        f32::MAX,
        f32::from_bits(0x7f7f_fffe),
        f32::from_bits(0x7f7f_fff0),
        pow2(127) as f32,
    ];
    let bs = [
        1.0f32,
        1.0 - f32::EPSILON / 2.0,
        1.0 + f32::EPSILON,
        0.5,
        2.0,
        1.0 - f32::EPSILON,
    ];
    let mut cs = std::vec![0.0f32, f32::from_bits(1), f32::MIN_POSITIVE, 1.0, f32::MAX];
    for k in 70..=127 {
        cs.push(pow2(k) as f32);
        cs.push((pow2(k) * (1.0 - pow2(-24))) as f32);
        cs.push((pow2(k) * (1.0 + pow2(-23))) as f32);
    }
    for &a in &near {
        for &b in &bs {
            for &c in &cs {
                for (sa, sc) in signs {
                    ch.push(a * sa, b, c * sc);
                }
            }
        }
    }
    // Products exactly at the threshold 2^128 - 2^103 = (2^25 - 1) 2^103,
    // 2^25 - 1 = 31 * 601 * 1801, with tiny addends of both signs.
    let mut tiny = std::vec![0.0f32, f32::from_bits(1), f32::from_bits(0x007f_ffff)];
    for k in (-149..=79).step_by(4) {
        tiny.push(pow2(k) as f32);
    }
    for (u, v) in [(31u64, 601 * 1801u64), (601, 31 * 1801), (1801, 31 * 601)] {
        for ka in (-20..=(103 + 20)).step_by(3) {
            let (fa, fb) = (u as f64 * pow2(ka), v as f64 * pow2(103 - ka));
            if fa > f32::MAX as f64 || fb > f32::MAX as f64 {
                continue;
            }
            let (a, b) = (mk(u, ka), mk(v, 103 - ka));
            assert_eq!(a as f64 * b as f64, pow2(128) - pow2(103));
            for &c in &tiny {
                for (sa, sc) in signs {
                    ch.push(a * sa, b, c * sc);
                }
            }
        }
    }
    for _ in 0..100_000 {
        let ea = r.range(0, 127) as i32;
        let eb = 127 - ea + r.range(-1, 0) as i32;
        let a = mk(r.sig(), ea - 23);
        let b = mk(r.sig(), eb - 23);
        let c = match r.range(0, 3) {
            0 => mk(r.sig(), r.range(80, 127) as i32 - 23),
            1 => pow2(r.range(100, 105) as i32) as f32,
            2 => f32::from_bits(r.range(0x7f70_0000, 0x7f7f_ffff) as u32),
            _ => 0.0,
        };
        ch.push(a * r.sign(), b * r.sign(), c * r.sign());
    }
    ch.finish();
}

/// `|c| >> |a*b|` and `|a*b| >> |c|` by 20 to 300 binades (pure sticky bits).
#[test]
#[cfg_attr(miri, ignore)]
fn sticky_far_apart() {
    let mut r = Rng(0x7777_1111_2222_3333);
    let mut ch = Checker::new("sticky_far_apart");
    // A random f32 with leading exponent `e` (normal or subnormal), if there is one.
    let value = |r: &mut Rng, e: i32| -> Option<f32> {
        if !(-149..=127).contains(&e) {
            None
        } else if e >= -126 {
            Some(mk(r.sig(), e - 23))
        } else {
            Some(mk(
                1 << (e + 149) | (r.next_u64() & ((1 << (e + 149)) - 1)),
                -149,
            ))
        }
    };
    // Two f32 whose product has leading exponent `pe` (up to a carry).
    let product = |r: &mut Rng, pe: i32| -> Option<(f32, f32)> {
        let (lo, hi) = ((-149).max(pe - 127), 127.min(pe + 149));
        if lo > hi {
            return None;
        }
        let ea = r.range(lo.into(), hi.into()) as i32;
        Some((value(r, ea)?, value(r, pe - ea)?))
    };
    for _ in 0..200_000 {
        let big = r.range(-100, 127) as i32;
        let small = big - r.range(20, 300) as i32;
        let (ce, pe) = if r.bool() { (big, small) } else { (small, big) };
        if let (Some(c), Some((a, b))) = (value(&mut r, ce), product(&mut r, pe)) {
            ch.push(a * r.sign(), b * r.sign(), c * r.sign());
        }
    }
    ch.finish();
}

/// Uniformly random bit patterns (every class: NaN, Inf, subnormal, zero).
#[test]
#[cfg_attr(miri, ignore)]
fn random_bit_patterns() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ch = Checker::new("random_bit_patterns");
    for _ in 0..400_000 {
        let (a, b, c) = (
            f32::from_bits(r.u32()),
            f32::from_bits(r.u32()),
            f32::from_bits(r.u32()),
        );
        ch.push(a, b, c);
    }
    ch.finish();
}

/// Random values in narrow exponent windows where `a*b` and `c` overlap (cancellation, ties,
/// carries across binades), at several absolute scales.
#[test]
#[cfg_attr(miri, ignore)]
fn random_narrow_exponents() {
    let mut r = Rng(0x0123_4567_89ab_cdef);
    let mut ch = Checker::new("random_narrow_exponents");
    let centers = [-140i32, -75, -40, 0, 40, 63];
    // Sometimes few significant bits, to make exact products and ties.
    let sig = |r: &mut Rng| -> u64 {
        let m = r.sig();
        if r.range(0, 3) == 0 {
            m & !((1 << r.range(0, 23)) - 1)
        } else {
            m
        }
    };
    for n in 0..600_000 {
        let ctr = centers[n % centers.len()];
        let ea = (ctr + r.range(-3, 3) as i32).clamp(-126, 127);
        let eb = (r.range(-3, 3) as i32 + if ctr < -100 { 10 } else { ctr }).clamp(-126, 127);
        let a = mk(sig(&mut r), ea - 23);
        let b = mk(sig(&mut r), eb - 23);
        let c = match r.range(0, 4) {
            0 => -(a * b) * (1.0 + r.range(-4, 4) as f32 * f32::EPSILON),
            1 => -(a * b),
            _ => {
                let ce = (ea + eb + r.range(-30, 30) as i32).clamp(-149, 127);
                if ce >= -126 {
                    mk(sig(&mut r), ce - 23)
                } else {
                    mk(r.next_u64() & 0x7f_ffff, -149)
                }
            }
        };
        ch.push(a * r.sign(), b * r.sign(), c * r.sign());
    }
    ch.finish();
}

//! NAdam: Adam with Nesterov momentum and the momentum-decay schedule, with L2 or decoupled
//! weight decay.

use super::adam_moments::{AdamMoments, validate_adam_family};
use super::common::{DecayKernels, WeightDecay, f32_of, kernel, non_negative, run, step_scalars};
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// NAdam, as `torch.optim.NAdam` (Dozat 2016, with PyTorch's momentum-decay schedule).
    ///
    /// For each element, with gradient `g`, parameter `p`, first moment `m` and second moment
    /// `v`:
    ///
    /// ```text
    /// g ← −g                                        if maximize
    /// if weight_decay ≠ 0:
    ///     p ← p · (1 − lr · weight_decay)           if decoupled_weight_decay
    ///     g ← fma(p, weight_decay, g)               otherwise (L2)
    /// μₜ = β1 · (1 − ½ · 0.96^(t · momentum_decay))  (f64; likewise μₜ₊₁)
    /// Π ← Π · μₜ                                    (the f32 scalar state mu_product)
    /// m ← lerp(m, g, 1 − β1)                        (PyTorch's fused lerp, see Adam)
    /// v ← fma((1 − β2) · g, g, β2 · v)
    /// d = √(v / (1 − β2ᵗ)) + eps                    (the division inside the square root)
    /// p ← p + ((−lr · (1 − μₜ) / (1 − Π)) · g) / d
    /// p ← p + ((−lr · μₜ₊₁ / (1 − Π · μₜ₊₁)) · m) / d
    /// ```
    ///
    /// `fma(a, b, c)` is `a · b + c` with one rounding, where PyTorch's CPU kernels fuse;
    /// every other operation is rounded as written. The two coefficients (with `Π` read as
    /// `f64`, as PyTorch's `mu_product.item()`), `1 − β2ᵗ` and `1 − lr · weight_decay` are
    /// computed in `f64` and rounded once to `f32`, as are `β2`, `1 − β2` and `μₜ` (before it
    /// multiplies `Π`).
    ///
    /// # `mu_product`, the scalar state
    ///
    /// PyTorch keeps `Π = μ₁ · … · μₜ` in `state["mu_product"]`, an `f32` 0-d tensor
    /// multiplied by `f32(μₜ)` at every step. So does the crate: it is the one value of
    /// [`scalar_names`](Optimizer::scalar_names), at the end of the state buffer after the
    /// planes, set to 1 by [`init_state`](Optimizer::init_state) and advanced by every
    /// [`step`](Optimizer::step) (O(1) per step; see
    /// [`advance_scalars`](Optimizer::advance_scalars) for sharded steps). A run resumes
    /// from PyTorch's `mu_product`, and a `momentum_decay` that changes between steps acts as
    /// in PyTorch. [`NAdam::mu_product`] recomputes the value after `t` steps with a constant
    /// `momentum_decay`. A `mu_product` outside `[0, 1]` (or NaN) is refused with
    /// [`Error::InvalidState`].
    ///
    /// State, in this order: the planes `"exp_avg"`, `"exp_avg_sq"` (start at 0), then the
    /// scalar `"mu_product"` (starts at 1).
    ///
    /// optax's `nadam` is a different algorithm that shares the name: it is Adam with the Nesterov
    /// first moment `β1 · m / (1 − β1ᵗ⁺¹) + (1 − β1) · g / (1 − β1ᵗ)` (Dozat's simplified form),
    /// without the μ schedule or the product, its bias corrections in `f32`, and no weight decay
    /// or `maximize` option. The crate follows PyTorch.
    ///
    /// Non-finite gradients: a NaN gradient makes the element's moments and parameter NaN; an
    /// infinite one makes `exp_avg_sq` infinite and the parameter NaN (`∞/∞`).
    ///
    /// ```
    /// use fused_optim::{NAdam, Optimizer};
    ///
    /// let nadam = NAdam { lr: 0.01, ..NAdam::default() };
    /// let mut p = [1.0_f32];
    /// let mut state = [0.0_f32; 3]; // exp_avg, exp_avg_sq, then mu_product
    /// nadam.init_state(&mut state)?;
    /// for t in 1..=3 {
    ///     nadam.step(t, &mut p, &[2.0], &mut state)?;
    /// }
    /// assert!(p[0] < 1.0);
    /// // The state ends with PyTorch's state["mu_product"] after step 3.
    /// assert_eq!(state[2], nadam.mu_product(3));
    /// // After step 1 it is f32(0.9 · (1 − ½ · 0.96^0.004)).
    /// assert_eq!(nadam.mu_product(1), (0.9 * (1.0 - 0.5 * 0.96_f64.powf(0.004))) as f32);
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct NAdam {
        adam_family(lr = 2e-3, weight_decay = 0.0),
        /// The `ψ` of the momentum schedule `μₜ = β1 · (1 − ½ · 0.96^(t·ψ))` (default `4e-3`).
        pub momentum_decay: f64 = 4e-3,
        /// Decay the parameters directly (NAdamW) instead of adding an L2 term to the gradient
        /// (default `false`).
        pub decoupled_weight_decay: bool = false,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

impl NAdam {
    /// `μ` for step `t` (given as `f64`, as PyTorch reads its `f32` step counter).
    fn mu(&self, t: f64) -> f64 {
        self.betas.0 * (1.0 - 0.5 * libm::pow(0.96, t * self.momentum_decay))
    }

    /// The running product after step `t` from the one after step `t − 1`:
    /// `f32(Πₜ₋₁ · f32(μₜ))`, PyTorch's `mu_product *= mu`.
    fn next_product(&self, t: u64, product: f32) -> f32 {
        product * f32_of(self.mu(t as f64))
    }

    /// PyTorch's `state["mu_product"]` after `t` steps with this `momentum_decay` (1 before
    /// the first step), recomputed with PyTorch's roundings: what the scalar state holds
    /// after `t` steps of [`step`](Optimizer::step) (for example to resume from a PyTorch
    /// checkpoint that lacks it, or to check one).
    ///
    /// Its cost is bounded for every `t` up to `u64::MAX`: one `pow` per step until the
    /// product reaches a fixed point (0, a subnormal, or a factor `f32(μ)` of 1) or until
    /// `0.96^(t·ψ)` underflows to 0 (then `μ = β1` exactly for every later step, at most
    /// 18 255 / ψ steps, and the product dies within a few hundred steps when `ψ < 1/200`),
    /// then the rest of the product by that one constant factor in closed form, a run of
    /// equal mantissa decrements at a time (at most a few thousand runs per binade). A step
    /// never calls it: it multiplies the caller's product by one factor, O(1).
    pub fn mu_product(&self, t: u64) -> f32 {
        let mut product = 1.0_f32;
        let mut i = 1;
        while i <= t {
            if libm::pow(0.96, i as f64 * self.momentum_decay) == 0.0 {
                // μᵢ = β1 · (1 − ½ · 0) = β1 exactly, now and at every later step.
                return repeated_product(product, f32_of(self.betas.0), t - i + 1);
            }
            let next = self.next_product(i, product);
            if next == product {
                // A fixed point: μₜ never decreases and stays below 1, so once a factor
                // leaves the product unchanged every later one does too.
                break;
            }
            product = next;
            i += 1;
        }
        product
    }
}

/// `x ← f32(x · c)` repeated `steps` times (stopping at a fixed point), for `x ≥ 0`: the same
/// bits as the loop, without running it step by step.
///
/// For `c = C · 2⁻²⁴` in `[½, 1)` and `x = M · 2^q` (`M` its integer mantissa), one step maps
/// `M` to `RN(M − M·Δ / 2²⁴)` with `Δ = 2²⁴ − C`, that is `M − d` with `d = RN(M·Δ / 2²⁴)`,
/// as long as the result stays in the binade (or in the subnormals, whose grid is the same).
/// After one real step has shown `d` (from `M₀`), every later `M < M₀` with `M·Δ >
/// (2d − 1)·2²³` and `M − d > 2²³` (normal) also loses exactly `d`, with no tie: so a whole run
/// is one subtraction. Other factors (`c < ½` halves `x` per step; `c = 1` is a fixed point)
/// and the steps between runs go one by one.
fn repeated_product(mut x: f32, c: f32, mut steps: u64) -> f32 {
    while steps > 0 {
        let y = x * c;
        if y == x {
            return x;
        }
        steps -= 1;
        let (before, after) = (x.to_bits(), y.to_bits());
        x = y;
        let exponent = after >> 23;
        if !(0.5..1.0).contains(&c) || before >> 23 != exponent || steps == 0 {
            continue;
        }
        let mantissa = |bits: u32| {
            let m = u64::from(bits & 0x7f_ffff);
            if exponent == 0 { m } else { m | 1 << 23 }
        };
        let (m0, m1) = (mantissa(before), mantissa(after));
        let d = m0 - m1;
        let delta = (1u64 << 24) - (u64::from(c.to_bits() & 0x7f_ffff) | 1 << 23);
        let lowest = (((2 * d - 1) << 23) / delta + 1).max(if exponent == 0 {
            d
        } else {
            (1 << 23) + d + 1
        });
        if m1 < lowest {
            continue;
        }
        let run = ((m1 - lowest) / d + 1).min(steps);
        steps -= run;
        let m = m1 - run * d;
        x = f32::from_bits(exponent << 23 | (m as u32 & 0x7f_ffff));
    }
    x
}

step_scalars! {
    /// One NAdam step's scalars, rounded once; `DECAY` selects the kernel.
    struct NAdamScalars {
        moments: AdamMoments,
        bias_correction2: f32,
        eps: f32,
        grad_coef: f32,
        exp_avg_coef: f32,
    }
}

kernel! {
    NAdamStep<const DECAY: u8>(NAdamScalars)
    |s, p, g, state| {
        let (p, g, m, v) = s.moments.update::<L, DECAY>(p, g, state);
        let denom = (v / L::splat(s.bias_correction2)).sqrt() + L::splat(s.eps);
        let p = p + (L::splat(s.grad_coef) * g) / denom;
        p + (L::splat(s.exp_avg_coef) * m) / denom
    }
}

impl sealed::Apply for NAdam {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        let beta2 = self.betas.1;
        let step = call.t as f64;
        let bias_correction2 = 1.0 - libm::pow(beta2, step);
        let mu = self.mu(step);
        let mu_next = self.mu(step + 1.0);
        let mu_product = f64::from(self.next_product(call.t, call.scalars[0]));
        let mu_product_next = mu_product * mu_next;
        let s = NAdamScalars {
            moments: AdamMoments::new(call.prescale, self),
            bias_correction2: f32_of(bias_correction2),
            eps: f32_of(self.eps),
            grad_coef: f32_of(-self.lr * (1.0 - mu) / (1.0 - mu_product)),
            exp_avg_coef: f32_of((-self.lr * mu_next) / (1.0 - mu_product_next)),
        };
        WeightDecay::of(self.weight_decay, self.decoupled_weight_decay).run(&s, call)
    }

    fn initial_scalar(&self, _index: usize) -> f32 {
        1.0
    }

    fn check_scalars(&self, scalars: &[f32]) -> Result<(), Error> {
        let product = scalars[0];
        if (0.0..=1.0).contains(&product) {
            Ok(())
        } else {
            Err(Error::InvalidState {
                name: "mu_product",
                value: product,
                expected: "in [0, 1]",
            })
        }
    }

    fn advance(&self, t: u64, scalars: &mut [f32]) {
        scalars[0] = self.next_product(t, scalars[0]);
    }
}

/// NAdam's kernel for each weight-decay mode.
impl DecayKernels for NAdamScalars {
    fn run<const DECAY: u8>(&self, call: Call<'_, '_>) -> Result<(), Error> {
        run::<_, 2>(call, &NAdamStep::<DECAY>(*self))
    }
}

impl Optimizer for NAdam {
    fn validate(&self) -> Result<(), Error> {
        validate_adam_family(self)?;
        non_negative("momentum_decay", self.momentum_decay)
    }

    fn state_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }

    fn scalar_names(&self) -> &'static [&'static str] {
        &["mu_product"]
    }
}

#[cfg(test)]
mod tests {
    use super::repeated_product;
    use crate::NAdam;
    use crate::optim::common::tests::next;

    fn naive(mut x: f32, c: f32, steps: u64) -> f32 {
        for _ in 0..steps {
            let y = x * c;
            if y == x {
                break;
            }
            x = y;
        }
        x
    }

    /// The closed form against the plain loop, bit for bit.
    fn check(x: f32, c: f32, steps: u64) {
        assert_eq!(
            repeated_product(x, c, steps).to_bits(),
            naive(x, c, steps).to_bits(),
            "{x:e} · {c} ^ {steps}"
        );
    }

    /// Against the plain loop: factors near 1 (long runs), hard ones (½, 1 − 2⁻²⁴, 1 − 2⁻²³),
    /// random ones, starting values across the normal and subnormal range, and step counts
    /// that end inside a run.
    #[test]
    #[cfg_attr(miri, ignore)] // millions of steps
    fn the_closed_form_is_the_loop() {
        let mut state = 0x853c_49e6_748f_ea9b;
        let mut factors = std::vec![
            0.5,
            f32::from_bits(0x3f7f_ffff),
            f32::from_bits(0x3f7f_fffe),
            0.999,
            0.9,
            0.75,
            0.3,
            1.0,
        ];
        // Fewer cases off x86_64: CI runs other architectures under emulation.
        let scale = if cfg!(target_arch = "x86_64") { 1 } else { 8 };
        for _ in 0..40 / scale {
            // Mostly close to 1: Δ below 2¹⁶.
            let delta = (next(&mut state) % (1 << 16)) as u32 + 1;
            factors.push(f32::from_bits(0x3f80_0000 - delta));
        }
        for &c in &factors {
            for _ in 0..25 {
                let x = match next(&mut state) % 3 {
                    0 => 1.0,
                    1 => f32::from_bits((next(&mut state) % 0x3f80_0000) as u32),
                    _ => f32::from_bits((next(&mut state) % 0x0080_0000) as u32), // subnormal
                };
                let steps = next(&mut state) % 300_000;
                check(x, c, steps);
            }
        }
    }

    /// Starts just above a binade's bottom, with factors whose runs end there: where a run
    /// must stop one step early (a result below 2²³ would fall on the finer grid below).
    #[test]
    #[cfg_attr(miri, ignore)] // millions of steps
    fn runs_stop_at_the_bottom_of_a_binade() {
        let mut state = 0x0123_4567;
        let scale = if cfg!(target_arch = "x86_64") { 1 } else { 8 };
        for _ in 0..600 / scale {
            let delta = (next(&mut state) % 4096) as u32 + 1;
            let c = f32::from_bits(0x3f80_0000 - delta);
            let steps = (state >> 20) % 50_000;
            for j in 0..20u32 {
                let x = f32::from_bits(0x3f80_0000 + j * 7919);
                check(x, c, steps);
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)] // millions of steps
    fn mu_product_is_the_step_by_step_product() {
        for (beta1, psi) in [(0.9, 4e-3), (0.999, 0.01), (1.0 - 1e-7, 0.5), (0.99, 1.0)] {
            let nadam = NAdam {
                betas: (beta1, 0.999),
                momentum_decay: psi,
                ..NAdam::default()
            };
            let mut product = 1.0_f32;
            for t in 1..=200_000u64 {
                product = nadam.next_product(t, product);
                if t % 9_973 == 0 || t < 50 {
                    assert_eq!(nadam.mu_product(t), product, "β1 {beta1}, ψ {psi}, t {t}");
                }
            }
        }
    }
}

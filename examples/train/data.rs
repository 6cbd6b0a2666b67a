//! The seeded linear-regression data set, its MSE loss and analytic gradient, and the
//! least-squares optimum from the normal equations.
//!
//! Parameters are laid out as `θ = [w₁, …, w_d, b]`: one weight per feature, then the
//! intercept.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The slope of every feature in the generating model `y = 3·(x₁ + … + x_d) + noise`.
pub const TRUE_SLOPE: f32 = 3.0;

/// How to generate the data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataSpec {
    /// Number of rows.
    pub samples: usize,
    /// Number of inputs per row, each drawn from U(0, 1).
    pub features: usize,
    /// The noise added to each target is drawn from U(0, noise).
    pub noise: f32,
    /// Seed of the generator (and of the mini-batch shuffles).
    pub seed: u64,
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec {
            samples: 100,
            features: 1,
            noise: 1.0,
            seed: 42,
        }
    }
}

/// A regression data set: `samples` rows of `features` inputs (row-major) and their targets.
#[derive(Clone, Debug)]
pub struct Dataset {
    x: Vec<f32>,
    y: Vec<f32>,
    features: usize,
}

impl Dataset {
    /// `x ~ U(0, 1)`, `y = 3·(x₁ + … + x_d) + U(0, noise)`, from a seeded generator.
    pub fn generate(spec: &DataSpec) -> Dataset {
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let mut x = Vec::with_capacity(spec.samples * spec.features);
        let mut y = Vec::with_capacity(spec.samples);
        for _ in 0..spec.samples {
            let row_start = x.len();
            x.extend((0..spec.features).map(|_| rng.random::<f32>()));
            let signal: f32 = x[row_start..].iter().map(|&xi| TRUE_SLOPE * xi).sum();
            y.push(signal + spec.noise * rng.random::<f32>());
        }
        Dataset {
            x,
            y,
            features: spec.features,
        }
    }

    /// Number of rows.
    pub fn samples(&self) -> usize {
        self.y.len()
    }

    /// Number of parameters: one weight per feature, then the intercept.
    pub fn params(&self) -> usize {
        self.features + 1
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.features..(i + 1) * self.features]
    }

    /// `w·xᵢ + b − yᵢ`, in `f64`.
    fn residual<T: Copy + Into<f64>>(&self, theta: &[T], i: usize) -> f64 {
        let (w, b) = theta.split_at(self.features);
        let dot: f64 = w
            .iter()
            .zip(self.row(i))
            .map(|(&w, &x)| w.into() * f64::from(x))
            .sum();
        dot + b[0].into() - f64::from(self.y[i])
    }

    /// The mean squared error over every row, accumulated in `f64` so that the excess over
    /// the optimum is not rounding noise.
    pub fn loss<T: Copy + Into<f64>>(&self, theta: &[T]) -> f64 {
        let sum: f64 = (0..self.samples())
            .map(|i| self.residual(theta, i).powi(2))
            .sum();
        sum / self.samples() as f64
    }

    /// The gradient of the mean squared error over the rows `batch`, written into `grad`:
    /// `(2/|B|) Σᵢ rᵢ·[xᵢ, 1]` with `rᵢ` the residual. Allocates nothing.
    pub fn gradient(&self, theta: &[f32], batch: &[usize], grad: &mut [f32]) {
        grad.fill(0.0);
        let scale = 2.0 / batch.len() as f64;
        for &i in batch {
            let r = (scale * self.residual(theta, i)) as f32;
            let (gw, gb) = grad.split_at_mut(self.features);
            for (g, &x) in gw.iter_mut().zip(self.row(i)) {
                *g += r * x;
            }
            gb[0] += r;
        }
    }

    /// The normal equations of the least-squares problem with `A = [X | 1]`, as the augmented
    /// matrix `[AᵀA | Aᵀy]`: `params()` rows of `params() + 1`, in `f64`.
    fn normal_equations(&self) -> Vec<f64> {
        let k = self.params();
        let width = k + 1;
        let mut m = vec![0.0_f64; k * width];
        let mut a = vec![1.0_f64; k]; // one row of A
        for i in 0..self.samples() {
            for (aj, &x) in a.iter_mut().zip(self.row(i)) {
                *aj = f64::from(x);
            }
            let yi = f64::from(self.y[i]);
            for r in 0..k {
                for c in 0..k {
                    m[r * width + c] += a[r] * a[c];
                }
                m[r * width + k] += a[r] * yi;
            }
        }
        m
    }

    /// The smoothness `L` of the loss: the largest eigenvalue of its Hessian `(2/n)·AᵀA`
    /// (the largest curvature), by power iteration. Gradient descent is stable for learning
    /// rates below `2/L`.
    pub fn smoothness(&self) -> f64 {
        let k = self.params();
        let m = self.normal_equations();
        let hessian = |r: usize, c: usize| 2.0 * m[r * (k + 1) + c] / self.samples() as f64;
        // AᵀA has positive entries, so its top eigenvector is positive: start from ones.
        let mut v = vec![1.0 / (k as f64).sqrt(); k];
        let mut lambda = 0.0;
        for _ in 0..200 {
            let hv: Vec<f64> = (0..k)
                .map(|r| (0..k).map(|c| hessian(r, c) * v[c]).sum())
                .collect();
            lambda = hv.iter().map(|x| x * x).sum::<f64>().sqrt();
            v = hv.into_iter().map(|x| x / lambda).collect();
        }
        lambda
    }

    /// The least-squares optimum `θ* = (AᵀA)⁻¹Aᵀy`, solving the normal equations in `f64`
    /// (Gauss–Jordan elimination with partial pivoting). `None` if `AᵀA` is singular, as it
    /// is with fewer samples than parameters.
    pub fn least_squares(&self) -> Option<Vec<f64>> {
        let k = self.params();
        let width = k + 1;
        let mut m = self.normal_equations();
        let tolerance = 1e-12 * (0..k).map(|r| m[r * width + r]).sum::<f64>();
        for col in 0..k {
            let pivot = (col..k).max_by(|&p, &q| {
                m[p * width + col]
                    .abs()
                    .total_cmp(&m[q * width + col].abs())
            })?;
            if m[pivot * width + col].abs() <= tolerance {
                return None;
            }
            for c in 0..width {
                m.swap(col * width + c, pivot * width + c);
            }
            for r in (0..k).filter(|&r| r != col) {
                let factor = m[r * width + col] / m[col * width + col];
                for c in col..width {
                    m[r * width + c] -= factor * m[col * width + c];
                }
            }
        }
        Some(
            (0..k)
                .map(|r| m[r * width + k] / m[r * width + r])
                .collect(),
        )
    }
}

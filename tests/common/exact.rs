//! The independent `f32` reference of every optimizer: each test module's `exact` writes its
//! rustdoc equations out one element at a time with the shared rules here (std's
//! `f32::mul_add` for every `fma`, `f64` scalars rounded once), the square root passed in:
//! IEEE's for comparing with the crate, or PyTorch's (a table of its exceptions) for
//! comparing with the fixtures.
//!
//! The golden tests use it to prove that the one difference between the crate and PyTorch is
//! the square root: this reference with PyTorch's roots reproduces the recorded trajectories
//! bit for bit, and with IEEE's roots it reproduces the crate bit for bit.

use fused_optim::{Adam, AnyOptimizer, Optimizer};

/// `f32(x)`: a Python float entering a kernel.
pub fn k(x: f64) -> f32 {
    x as f32
}

/// `fma(a, b, c)`, one rounding.
pub fn fma(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}

/// PyTorch's `lerp_(end, w)` on CPU.
pub fn lerp(start: f32, end: f32, weight: f64) -> f32 {
    let w = k(weight);
    let d = end - start;
    if w.abs() < 0.5 {
        fma(w, d, start)
    } else {
        fma(-d, 1.0 - w, end)
    }
}

/// `torch.maximum(a, b)`: NaN-propagating, `a` on ties.
pub fn maximum(a: f32, b: f32) -> f32 {
    if b.is_nan() || a < b { b } else { a }
}

/// `torch.minimum(a, b)`: NaN-propagating, `a` on ties.
pub fn minimum(a: f32, b: f32) -> f32 {
    if b.is_nan() || b < a { b } else { a }
}

/// `torch.sign`: −1, 0 or 1, and 0 for NaN.
pub fn torch_sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `jnp.sign`: −1 or 1, and `x` itself for ±0 and NaN.
pub fn jnp_sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

/// The gradient after `maximize` and (when `l2`) the L2 term.
pub fn grad(g: f32, p: f32, maximize: bool, weight_decay: f64, l2: bool) -> f32 {
    let g = if maximize { -g } else { g };
    if l2 && weight_decay != 0.0 {
        fma(p, k(weight_decay), g)
    } else {
        g
    }
}

/// Whether the optimizer takes a square root (where PyTorch's MKL root differs from IEEE's).
pub fn has_sqrt(optimizer: &AnyOptimizer) -> bool {
    matches!(
        optimizer,
        AnyOptimizer::Adagrad(_)
            | AnyOptimizer::RmsProp(_)
            | AnyOptimizer::Adam(_)
            | AnyOptimizer::AdamW(_)
            | AnyOptimizer::NAdam(_)
            | AnyOptimizer::RAdam(_)
            | AnyOptimizer::Adadelta(_)
    )
}

/// Step `t` over `params` with the state buffer `state` (planes, then scalars), as
/// `Optimizer::step` lays it out; `sqrt` is the square root to use.
pub fn step(
    optimizer: &AnyOptimizer,
    t: u64,
    params: &mut [f32],
    grads: &[f32],
    state: &mut [f32],
    sqrt: &dyn Fn(f32) -> f32,
) {
    let n = params.len();
    let planes = optimizer.state_planes();
    let (elements, scalars) = state.split_at_mut(planes * n);
    let mut plane: Vec<&mut [f32]> = if n == 0 {
        Vec::new()
    } else {
        elements.chunks_mut(n).collect()
    };
    let step = Buffers {
        t,
        params,
        grads,
        plane: &mut plane,
        scalars,
        sqrt,
    };
    crate::registry::exact(optimizer, step);
}

/// One step's buffers, as each test module's `exact` takes them.
pub struct Buffers<'a, 'b> {
    /// The step number.
    pub t: u64,
    pub params: &'a mut [f32],
    pub grads: &'a [f32],
    /// The state planes, each `params.len()` long.
    pub plane: &'a mut [&'b mut [f32]],
    /// The scalar state after the planes.
    pub scalars: &'a mut [f32],
    /// The square root to use (IEEE's, or PyTorch's recorded one).
    pub sqrt: &'a dyn Fn(f32) -> f32,
}

/// `p · f32(1 − lr · weight_decay)` if the decay is decoupled and on.
pub fn decoupled(p: f32, lr: f64, weight_decay: f64, decoupled: bool) -> f32 {
    if decoupled && weight_decay != 0.0 {
        p * k(1.0 - lr * weight_decay)
    } else {
        p
    }
}

pub fn adam_step(
    adam: Adam,
    t: f64,
    params: &mut [f32],
    grads: &[f32],
    plane: &mut [&mut [f32]],
    sqrt: &dyn Fn(f32) -> f32,
) {
    let Adam {
        lr,
        betas: (beta1, beta2),
        eps,
        weight_decay,
        amsgrad,
        maximize,
        decoupled_weight_decay,
    } = adam;
    let bias_correction1 = 1.0 - beta1.powf(t);
    let bias_correction2 = 1.0 - beta2.powf(t);
    let step_size = lr / bias_correction1;
    for j in 0..params.len() {
        let p = decoupled(params[j], lr, weight_decay, decoupled_weight_decay);
        let g = grad(grads[j], p, maximize, weight_decay, !decoupled_weight_decay);
        let m = lerp(plane[0][j], g, 1.0 - beta1);
        let v = fma(k(1.0 - beta2) * g, g, plane[1][j] * k(beta2));
        (plane[0][j], plane[1][j]) = (m, v);
        let s = if amsgrad {
            let max = maximum(plane[2][j], v);
            plane[2][j] = max;
            max
        } else {
            v
        };
        let denom = sqrt(s) / k(bias_correction2.powf(0.5)) + k(eps);
        params[j] = p + (k(-step_size) * m) / denom;
    }
}

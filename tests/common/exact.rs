//! An independent `f32` reference of every optimizer, written from its rustdoc equations one
//! element at a time (std's `f32::mul_add` for every `fma`,
//! `f64` scalars rounded once), with the square root passed in: IEEE's for comparing with
//! the crate, or PyTorch's (a table of its exceptions) for comparing with the fixtures.
//!
//! The golden tests use it to prove that the one difference between the crate and PyTorch is
//! the square root: this reference with PyTorch's roots reproduces the recorded trajectories
//! bit for bit, and with IEEE's roots it reproduces the crate bit for bit.

use fused_optim::{
    Adadelta, Adagrad, Adam, Adamax, AnyOptimizer, Asgd, Lion, NAdam, Optimizer, RAdam, RmsProp,
    Rprop, Sgd,
};

/// `f32(x)`: a Python float entering a kernel.
fn k(x: f64) -> f32 {
    x as f32
}

/// `fma(a, b, c)`, one rounding.
fn fma(a: f32, b: f32, c: f32) -> f32 {
    a.mul_add(b, c)
}

/// PyTorch's `lerp_(end, w)` on CPU.
fn lerp(start: f32, end: f32, weight: f64) -> f32 {
    let w = k(weight);
    let d = end - start;
    if w.abs() < 0.5 {
        fma(w, d, start)
    } else {
        fma(-d, 1.0 - w, end)
    }
}

/// `torch.maximum(a, b)`: NaN-propagating, `a` on ties.
fn maximum(a: f32, b: f32) -> f32 {
    if b.is_nan() || a < b { b } else { a }
}

/// `torch.minimum(a, b)`: NaN-propagating, `a` on ties.
fn minimum(a: f32, b: f32) -> f32 {
    if b.is_nan() || b < a { b } else { a }
}

/// `torch.sign`: −1, 0 or 1, and 0 for NaN.
fn torch_sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `jnp.sign`: −1 or 1, and `x` itself for ±0 and NaN.
fn jnp_sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

/// The gradient after `maximize` and (when `l2`) the L2 term.
fn grad(g: f32, p: f32, maximize: bool, weight_decay: f64, l2: bool) -> f32 {
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
    let tf = t as f64;
    match *optimizer {
        AnyOptimizer::Adagrad(Adagrad {
            lr,
            lr_decay,
            weight_decay,
            eps,
            maximize,
            ..
        }) => {
            let clr = lr / (1.0 + (tf - 1.0) * lr_decay);
            for j in 0..n {
                let g = grad(grads[j], params[j], maximize, weight_decay, true);
                let sum = fma(g, g, plane[0][j]);
                plane[0][j] = sum;
                params[j] += (k(-clr) * g) / (sqrt(sum) + k(eps));
            }
        }
        AnyOptimizer::RmsProp(RmsProp {
            lr,
            alpha,
            eps,
            weight_decay,
            momentum,
            centered,
            maximize,
        }) => {
            let buf = usize::from(momentum > 0.0);
            for j in 0..n {
                let g = grad(grads[j], params[j], maximize, weight_decay, true);
                let v = fma(k(1.0 - alpha) * g, g, plane[0][j] * k(alpha));
                plane[0][j] = v;
                let avg = if centered {
                    let a = lerp(plane[1 + buf][j], g, 1.0 - alpha);
                    plane[1 + buf][j] = a;
                    sqrt(fma(-a, a, v))
                } else {
                    sqrt(v)
                } + k(eps);
                if momentum > 0.0 {
                    let b = plane[1][j] * k(momentum) + g / avg;
                    plane[1][j] = b;
                    params[j] = fma(b, k(-lr), params[j]);
                } else {
                    params[j] += (k(-lr) * g) / avg;
                }
            }
        }
        AnyOptimizer::Adam(adam) => adam_step(adam, tf, params, grads, &mut plane, sqrt),
        AnyOptimizer::AdamW(adamw) => {
            adam_step(Adam::from(adamw), tf, params, grads, &mut plane, sqrt)
        }
        AnyOptimizer::NAdam(NAdam {
            lr,
            betas: (beta1, beta2),
            eps,
            weight_decay,
            momentum_decay,
            decoupled_weight_decay,
            maximize,
        }) => {
            let mu_of = |t: f64| beta1 * (1.0 - 0.5 * 0.96_f64.powf(t * momentum_decay));
            let (mu, mu_next) = (mu_of(tf), mu_of(tf + 1.0));
            let product = scalars[0] * k(mu);
            scalars[0] = product;
            let bias_correction2 = 1.0 - beta2.powf(tf);
            let c1 = (-lr * (1.0 - mu)) / (1.0 - f64::from(product));
            let c2 = (-lr * mu_next) / (1.0 - f64::from(product) * mu_next);
            for j in 0..n {
                let p = decoupled(params[j], lr, weight_decay, decoupled_weight_decay);
                let g = grad(grads[j], p, maximize, weight_decay, !decoupled_weight_decay);
                let m = lerp(plane[0][j], g, 1.0 - beta1);
                let v = fma(k(1.0 - beta2) * g, g, plane[1][j] * k(beta2));
                (plane[0][j], plane[1][j]) = (m, v);
                let d = sqrt(v / k(bias_correction2)) + k(eps);
                let p = p + (k(c1) * g) / d;
                params[j] = p + (k(c2) * m) / d;
            }
        }
        AnyOptimizer::RAdam(RAdam {
            lr,
            betas: (beta1, beta2),
            eps,
            weight_decay,
            decoupled_weight_decay,
            maximize,
        }) => {
            let bias_correction1 = 1.0 - beta1.powf(tf);
            let beta2_t = beta2.powf(tf);
            let bias_correction2 = 1.0 - beta2_t;
            let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
            let rho_t = rho_inf - 2.0 * tf * beta2_t / bias_correction2;
            let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .powf(0.5);
            for j in 0..n {
                let p = decoupled(params[j], lr, weight_decay, decoupled_weight_decay);
                let g = grad(grads[j], p, maximize, weight_decay, !decoupled_weight_decay);
                let m = lerp(plane[0][j], g, 1.0 - beta1);
                let v = fma(k(1.0 - beta2) * g, g, plane[1][j] * k(beta2));
                (plane[0][j], plane[1][j]) = (m, v);
                let update = (m / k(bias_correction1)) * k(lr);
                params[j] = if rho_t > 5.0 {
                    let adaptive = (1.0 / (sqrt(v) + k(eps))) * k(bias_correction2.powf(0.5));
                    p - (update * adaptive) * k(rect)
                } else {
                    p - update
                };
            }
        }
        AnyOptimizer::Adadelta(Adadelta {
            lr,
            rho,
            eps,
            weight_decay,
            maximize,
        }) => {
            for j in 0..n {
                let g = grad(grads[j], params[j], maximize, weight_decay, true);
                let v = fma(k(1.0 - rho) * g, g, plane[0][j] * k(rho));
                let delta = (sqrt(plane[1][j] + k(eps)) / sqrt(v + k(eps))) * g;
                plane[0][j] = v;
                plane[1][j] = fma(k(1.0 - rho) * delta, delta, plane[1][j] * k(rho));
                params[j] = fma(delta, k(-lr), params[j]);
            }
        }
        AnyOptimizer::Sgd(Sgd {
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
            maximize,
        }) => {
            for j in 0..n {
                let mut g = grad(grads[j], params[j], maximize, weight_decay, true);
                if momentum != 0.0 {
                    let b = if t == 1 {
                        g
                    } else {
                        fma(g, k(1.0 - dampening), k(momentum) * plane[0][j])
                    };
                    plane[0][j] = b;
                    g = if nesterov { fma(b, k(momentum), g) } else { b };
                }
                params[j] = fma(g, k(-lr), params[j]);
            }
        }
        AnyOptimizer::Adamax(Adamax {
            lr,
            betas: (beta1, beta2),
            eps,
            weight_decay,
            maximize,
        }) => {
            let clr = lr / (1.0 - beta1.powf(tf));
            for j in 0..n {
                let g = grad(grads[j], params[j], maximize, weight_decay, true);
                let m = lerp(plane[0][j], g, 1.0 - beta1);
                let u = maximum(k(beta2) * plane[1][j], g.abs() + k(eps));
                (plane[0][j], plane[1][j]) = (m, u);
                params[j] += (k(-clr) * m) / u;
            }
        }
        AnyOptimizer::Rprop(Rprop {
            etas: (etaminus, etaplus),
            step_sizes: (smallest, largest),
            maximize,
            ..
        }) => {
            for j in 0..n {
                let g = grad(grads[j], params[j], maximize, 0.0, false);
                let direction = torch_sign(g * plane[0][j]);
                let f = if direction > 0.0 {
                    k(etaplus)
                } else if direction < 0.0 {
                    k(etaminus)
                } else {
                    1.0
                };
                let s = minimum(maximum(plane[1][j] * f, k(smallest)), k(largest));
                let g = if f == k(etaminus) { 0.0 } else { g };
                (plane[0][j], plane[1][j]) = (g, s);
                params[j] -= torch_sign(g) * s;
            }
        }
        AnyOptimizer::Asgd(Asgd {
            lr,
            lambd,
            alpha,
            t0,
            weight_decay,
            maximize,
        }) => {
            let (eta, mu) = (scalars[0], scalars[1]);
            for j in 0..n {
                let g = grad(grads[j], params[j], maximize, weight_decay, true);
                let p = params[j] * k(1.0 - lambd * f64::from(eta));
                let p = fma(g, -eta, p);
                plane[0][j] = if mu != 1.0 {
                    plane[0][j] + (p - plane[0][j]) * mu
                } else {
                    p
                };
                params[j] = p;
            }
            scalars[0] = k(lr / (1.0 + lambd * lr * tf).powf(alpha));
            scalars[1] = k(1.0 / f64::max(1.0, tf - t0));
        }
        AnyOptimizer::Lion(Lion {
            lr,
            betas: (beta1, beta2),
            weight_decay,
            maximize,
        }) => {
            for j in 0..n {
                let g = grad(grads[j], params[j], maximize, 0.0, false);
                let m = plane[0][j];
                let c = k(beta1) * m + k(1.0 - beta1) * g;
                let mut u = jnp_sign(c);
                if weight_decay != 0.0 {
                    u += k(weight_decay) * params[j];
                }
                params[j] += k(-lr) * u;
                plane[0][j] = k(beta2) * m + k(1.0 - beta2) * g;
            }
        }
        ref other => panic!("no exact reference for {other:?}"),
    }
}

/// `p · f32(1 − lr · weight_decay)` if the decay is decoupled and on.
fn decoupled(p: f32, lr: f64, weight_decay: f64, decoupled: bool) -> f32 {
    if decoupled && weight_decay != 0.0 {
        p * k(1.0 - lr * weight_decay)
    } else {
        p
    }
}

fn adam_step(
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

//! Throughput of one optimizer step, per optimizer, option, size and back-end, next to a
//! same-traffic reference kernel that shows what memory allows on the machine it runs on.
//!
//! ```text
//! cargo bench --bench step                      # everything (long: ~20 min)
//! cargo bench --bench step -- 'adam/'           # one optimizer
//! cargo bench --bench step --features rayon -- '_2_threads'   # step_parallel, 2 threads
//! FUSED_OPTIM_BENCH_SIZES=4096,65536 cargo bench --bench step
//! ```
//!
//! Memory traffic per element and step (f32 = 4 bytes), which the reference kernel matches:
//!
//! | optimizer (options)              | reads                 | writes       | bytes |
//! |----------------------------------|-----------------------|--------------|-------|
//! | SGD                              | p, g                  | p            | 12    |
//! | SGD momentum / Nesterov          | p, g, buf             | p, buf       | 20    |
//! | Adagrad                          | p, g, sum             | p, sum       | 20    |
//! | RMSprop                          | p, g, v               | p, v         | 20    |
//! | RMSprop centered + momentum      | p, g, v, buf, a       | p, v, buf, a | 36    |
//! | Adam / AdamW                     | p, g, m, v            | p, m, v      | 28    |
//! | Adam / AdamW AMSGrad             | p, g, m, v, v̂         | p, m, v, v̂   | 36    |
//! | Adamax                           | p, g, m, u            | p, m, u      | 28    |
//! | NAdam / RAdam                    | p, g, m, v            | p, m, v      | 28    |
//! | Adadelta                         | p, g, v, u            | p, v, u      | 28    |
//! | Rprop                            | p, g, prev, step      | p, prev, step| 28    |
//! | ASGD                             | p, g, ax              | p, ax        | 20    |
//! | Lion                             | p, g, m               | p, m         | 20    |

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fused_optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Asgd, Backend, Lion, NAdam, Optimizer, RAdam, RmsProp,
    Rprop, Sgd,
};

const DEFAULT_SIZES: [usize; 5] = [1 << 10, 1 << 12, 1 << 16, 1 << 20, 1 << 24];

fn sizes() -> Vec<usize> {
    match std::env::var("FUSED_OPTIM_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("FUSED_OPTIM_BENCH_SIZES: comma-separated sizes")
            })
            .collect(),
        Err(_) => DEFAULT_SIZES.to_vec(),
    }
}

fn optimizers() -> Vec<(&'static str, Box<dyn Optimizer>)> {
    vec![
        (
            "sgd",
            Box::new(Sgd {
                lr: 1e-3,
                ..Sgd::default()
            }),
        ),
        (
            "sgd_momentum",
            Box::new(Sgd {
                lr: 1e-3,
                momentum: 0.9,
                ..Sgd::default()
            }),
        ),
        (
            "sgd_nesterov",
            Box::new(Sgd {
                lr: 1e-3,
                momentum: 0.9,
                nesterov: true,
                ..Sgd::default()
            }),
        ),
        ("adagrad", Box::new(Adagrad::default())),
        ("rmsprop", Box::new(RmsProp::default())),
        (
            "rmsprop_centered_momentum",
            Box::new(RmsProp {
                centered: true,
                momentum: 0.9,
                ..RmsProp::default()
            }),
        ),
        ("adam", Box::new(Adam::default())),
        (
            "adam_amsgrad",
            Box::new(Adam {
                amsgrad: true,
                ..Adam::default()
            }),
        ),
        ("adamw", Box::new(AdamW::default())),
        (
            "adamw_amsgrad",
            Box::new(AdamW {
                amsgrad: true,
                ..AdamW::default()
            }),
        ),
        ("adamax", Box::new(Adamax::default())),
        ("nadam", Box::new(NAdam::default())),
        ("radam", Box::new(RAdam::default())),
        ("adadelta", Box::new(Adadelta::default())),
        ("rprop", Box::new(Rprop::default())),
        ("asgd", Box::new(Asgd::default())),
        ("lion", Box::new(Lion::default())),
    ]
}

/// The same-traffic reference: one pass that reads the parameters, the gradients and every
/// state plane and writes the parameters and every plane back, with one add each: a step of
/// pure memory traffic, auto-vectorised by the compiler.
fn reference(params: &mut [f32], grads: &[f32], state: &mut [f32], planes: usize) {
    let n = params.len();
    let (a, rest) = state.split_at_mut(if planes >= 1 { n } else { 0 });
    let (b, c) = rest.split_at_mut(if planes >= 2 { n } else { 0 });
    match planes {
        0 => params.iter_mut().zip(grads).for_each(|(p, g)| *p += *g),
        1 => params.iter_mut().zip(grads).zip(a).for_each(|((p, g), a)| {
            *p += *g;
            *a += *g;
        }),
        2 => params
            .iter_mut()
            .zip(grads)
            .zip(a)
            .zip(b)
            .for_each(|(((p, g), a), b)| {
                *p += *g;
                *a += *g;
                *b += *g;
            }),
        _ => params
            .iter_mut()
            .zip(grads)
            .zip(a)
            .zip(b)
            .zip(c)
            .for_each(|((((p, g), a), b), c)| {
                *p += *g;
                *a += *g;
                *b += *g;
                *c += *g;
            }),
    }
}

fn bench(c: &mut Criterion) {
    let backends: Vec<Backend> = Backend::all()
        .into_iter()
        .filter(|b| b.is_available())
        .collect();
    for (name, opt) in optimizers() {
        let mut group = c.benchmark_group(name);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        group.sample_size(20);
        for n in sizes() {
            let k = opt.state_planes();
            let mut params: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.01).collect();
            // No zero gradients: an element whose gradient is 0 decays its moments through the
            // subnormal range, where x86 cores take slow microcode assists; that would measure
            // how many iterations ran before, not the kernel.
            let grads: Vec<f32> = (0..n).map(|i| ((i % 89) as f32 - 44.5) * 1e-3).collect();
            let mut state = vec![0.0f32; opt.state_len(n)];
            opt.init_state(&mut state).unwrap();
            group.throughput(Throughput::Elements(n as u64));
            for &backend in &backends {
                group.bench_with_input(BenchmarkId::new(format!("{backend:?}"), n), &n, |b, _| {
                    let mut t = 0;
                    b.iter(|| {
                        t += 1;
                        opt.step_with(backend, t, &mut params, black_box(&grads), &mut state)
                            .unwrap();
                    })
                });
            }
            let (mut ref_params, mut ref_state) = (params.clone(), state.clone());
            group.bench_with_input(BenchmarkId::new("reference", n), &n, |b, _| {
                b.iter(|| reference(&mut ref_params, black_box(&grads), &mut ref_state, k))
            });
        }
        group.finish();
    }
}

/// `step_parallel` on a 2-thread pool (feature `rayon`), for Adam and AdamW: the number to
/// set against PyTorch's fused optimizers with `torch.set_num_threads(2)`.
#[cfg(feature = "rayon")]
fn bench_parallel(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let optimizers: [(&str, Box<dyn Optimizer>); 2] = [
        ("adam", Box::new(Adam::default())),
        ("adamw", Box::new(AdamW::default())),
    ];
    for (name, opt) in optimizers {
        let mut group = c.benchmark_group(format!("{name}_2_threads"));
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        group.sample_size(20);
        for n in sizes() {
            let mut params: Vec<f32> = (0..n).map(|i| (i % 97) as f32 * 0.01).collect();
            let grads: Vec<f32> = (0..n).map(|i| ((i % 89) as f32 - 44.5) * 1e-3).collect();
            let mut state = vec![0.0f32; opt.state_len(n)];
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new("Auto", n), &n, |b, _| {
                let mut t = 0;
                pool.install(|| {
                    b.iter(|| {
                        t += 1;
                        opt.step_parallel(t, &mut params, black_box(&grads), &mut state)
                            .unwrap();
                    })
                })
            });
        }
        group.finish();
    }
}

#[cfg(not(feature = "rayon"))]
fn bench_parallel(_: &mut Criterion) {}

criterion_group!(benches, bench, bench_parallel);
criterion_main!(benches);

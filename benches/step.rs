//! Throughput of one optimizer step, per optimizer, option, size and back-end, next to a
//! same-traffic reference kernel that shows what memory allows on the machine it runs on.
//!
//! ```text
//! cargo bench --bench step                      # everything (long: ~20 min)
//! cargo bench --bench step -- 'adam/'           # one optimizer
//! cargo bench --bench step --features rayon -- '_2_threads'   # step_parallel, 2 threads
//! FUSED_OPTIM_BENCH_SIZES=4096,65536 cargo bench --bench step
//! FUSED_OPTIM_BENCH_GROUPS=1 cargo bench --bench step   # list the groups (JSON lines), no bench
//! ```
//!
//! The groups come from the crate's registry ([`fused_optim::AnyOptimizer::defaults`], in its
//! order): every optimizer with its defaults (group `<name>`), then with its costly options
//! (group `<name>_<options>`): every option that adds state planes, all of them on, found
//! through [`Optimizer::hyper_parameters`] (see [`costly`]), so a new optimizer and its
//! options are benched with no change here. [`EXTRA`] adds the variants that cost compute but
//! no traffic.
//!
//! Memory traffic per element and step, which the reference kernel matches: an optimizer with
//! `k = state_planes()` planes reads the parameter, the gradient and its `k` state values and
//! writes the parameter and the `k` state values back: `4 (3 + 2k)` bytes (f32), from 12 for
//! plain SGD to 36 for Adam with AMSGrad. (`state_names()` names the planes.)

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use fused_optim::{AnyOptimizer, Backend, HyperParameter, Optimizer};

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

/// A variant that costs compute but adds no state plane, so that [`costly`] does not find it.
struct Extra {
    /// The registry name of the optimizer.
    of: &'static str,
    /// The group is `<of>_<suffix>`.
    suffix: &'static str,
    /// The fields set on top of the defaults: a `Real` to the value given, a `Flag` on.
    set: &'static [(&'static str, f64)],
}

const EXTRA: &[Extra] = &[
    // Nesterov's extra add per element (it needs momentum).
    Extra {
        of: "sgd",
        suffix: "nesterov",
        set: &[("momentum", 0.9), ("nesterov", 1.0)],
    },
];

/// The value an option that is off by default is turned on at: a `Real` that defaults to 0
/// (momentum) gets PyTorch's customary 0.9, a `Flag` (amsgrad, centered) is set.
const ON: f64 = 0.9;

/// `optimizer` with its costly options on, and their names: every option that, turned on
/// alone (see [`ON`]), is accepted and adds state planes; all of them together. `None` if it
/// has none (or they do not go together).
fn costly(optimizer: AnyOptimizer) -> Option<(AnyOptimizer, Vec<&'static str>)> {
    let mut options = Vec::new();
    let mut fields = optimizer;
    fields.hyper_parameters(&mut |name, _| {
        let mut alone = optimizer;
        if turn_on(&mut alone, name)
            && alone.validate().is_ok()
            && alone.state_planes() > optimizer.state_planes()
        {
            options.push(name);
        }
    });
    let mut all = optimizer;
    for &name in &options {
        turn_on(&mut all, name);
    }
    (!options.is_empty() && all.validate().is_ok()).then_some((all, options))
}

/// Turns on the field `name` if it is off (a `Flag` unset or a `Real` at 0); whether it was.
fn turn_on(optimizer: &mut AnyOptimizer, name: &str) -> bool {
    let mut changed = false;
    optimizer.hyper_parameters(&mut |field, value| match value {
        HyperParameter::Flag(on) if field == name && !*on => (*on, changed) = (true, true),
        HyperParameter::Real(x) if field == name && *x == 0.0 => (*x, changed) = (ON, true),
        _ => {}
    });
    changed
}

/// Sets the field `name` (a `Real` to `value`, a `Flag` on if `value != 0`).
fn set(optimizer: &mut AnyOptimizer, name: &str, value: f64) {
    let mut found = false;
    optimizer.hyper_parameters(&mut |field, parameter| match parameter {
        HyperParameter::Real(x) if field == name => (*x, found) = (value, true),
        HyperParameter::Flag(on) if field == name => (*on, found) = (value != 0.0, true),
        _ => {}
    });
    assert!(found, "EXTRA: {} has no field {name}", optimizer.name());
}

/// The bench groups: for each registered optimizer, its defaults, its costly options (group
/// names join the options in alphabetical order: `rmsprop_centered_momentum`), then its
/// [`EXTRA`] variants.
fn optimizers() -> Vec<(String, AnyOptimizer)> {
    for extra in EXTRA {
        let name = extra.of;
        assert!(
            AnyOptimizer::NAMES.contains(&name),
            "EXTRA: no optimizer {name}"
        );
    }
    let mut groups = Vec::new();
    for optimizer in AnyOptimizer::defaults() {
        let name = optimizer.name();
        groups.push((name.to_string(), optimizer));
        if let Some((variant, mut options)) = costly(optimizer) {
            options.sort_unstable();
            groups.push((format!("{name}_{}", options.join("_")), variant));
        }
        for extra in EXTRA.iter().filter(|extra| extra.of == name) {
            let mut variant = optimizer;
            for &(field, value) in extra.set {
                set(&mut variant, field, value);
            }
            variant.validate().expect("EXTRA: a valid variant");
            groups.push((format!("{name}_{}", extra.suffix), variant));
        }
    }
    groups
}

/// The same-traffic reference: one pass that reads the parameters, the gradients and every
/// state plane and writes the parameters and every plane back, with one add each: a step of
/// pure memory traffic, auto-vectorised by the compiler.
fn reference(params: &mut [f32], grads: &[f32], state: &mut [f32], planes: usize) {
    let n = params.len();
    let (a, rest) = state.split_at_mut(if planes >= 1 { n } else { 0 });
    let (b, rest) = rest.split_at_mut(if planes >= 2 { n } else { 0 });
    let (c, d) = rest.split_at_mut(if planes >= 3 { n } else { 0 });
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
        3 => params
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
        // The crate's most (`MAX_PLANES`); no optimizer keeps four yet.
        4 => params
            .iter_mut()
            .zip(grads)
            .zip(a)
            .zip(b)
            .zip(c)
            .zip(d)
            .for_each(|(((((p, g), a), b), c), d)| {
                *p += *g;
                *a += *g;
                *b += *g;
                *c += *g;
                *d += *g;
            }),
        k => unimplemented!("a reference kernel for {k} state planes"),
    }
}

fn bench(c: &mut Criterion) {
    let backends: Vec<Backend> = Backend::all()
        .into_iter()
        .filter(|b| b.is_available())
        .collect();
    for (name, opt) in optimizers() {
        // One virtual call per step, as a `dyn Optimizer` caller makes.
        let opt = opt.as_dyn();
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

/// The optimizers `step_parallel` is benched for: the ones `benches/compare.py` sets against
/// PyTorch's fused optimizers and DeepSpeed with 2 threads (a choice of comparison, not a
/// property of the optimizers).
#[cfg(feature = "rayon")]
const PARALLEL: [&str; 2] = ["adam", "adamw"];

/// `step_parallel` on a 2-thread pool (feature `rayon`), for [`PARALLEL`]: the number to set
/// against PyTorch's fused optimizers with `torch.set_num_threads(2)`.
#[cfg(feature = "rayon")]
fn bench_parallel(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for name in PARALLEL {
        let opt = AnyOptimizer::default_for(name).expect("PARALLEL: registered names");
        let opt = opt.as_dyn();
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

/// `FUSED_OPTIM_BENCH_GROUPS`: prints the groups of [`bench`] instead of benching them, one
/// JSON object a line, for `benches/compare.py`: the group, the optimizer's registry name and
/// reference (`torch.optim.Adam`), and as `kwargs` its learning rate and every hyper-parameter
/// the group sets away from the defaults, by field name (PyTorch's names).
fn print_groups() {
    for (group, mut optimizer) in optimizers() {
        let mut defaults = AnyOptimizer::default_for(optimizer.name()).expect("registered");
        let mut default_values = Vec::new();
        defaults.hyper_parameters(&mut |_, value| default_values.push(format!("{value:?}")));
        let mut kwargs = Vec::new();
        let mut i = 0;
        optimizer.hyper_parameters(&mut |name, value| {
            if name == "lr" || format!("{value:?}") != default_values[i] {
                kwargs.push(format!("\"{name}\": {}", json(name, value)));
            }
            i += 1;
        });
        println!(
            "{{\"group\": \"{group}\", \"optimizer\": \"{}\", \"reference\": \"{}\", \
             \"kwargs\": {{{}}}}}",
            optimizer.name(),
            optimizer.reference(),
            kwargs.join(", ")
        );
    }
}

/// A hyper-parameter's value in JSON.
fn json(name: &str, value: HyperParameter<'_>) -> String {
    match value {
        HyperParameter::Real(x) => format!("{x:?}"),
        HyperParameter::Pair((a, b)) => format!("[{a:?}, {b:?}]"),
        HyperParameter::Flag(on) => on.to_string(),
        other => unimplemented!("{name}: no JSON for {other:?}"),
    }
}

criterion_group!(benches, bench, bench_parallel);

// `criterion_main!`, with the group listing in front.
fn main() {
    if std::env::var_os("FUSED_OPTIM_BENCH_GROUPS").is_some() {
        print_groups();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

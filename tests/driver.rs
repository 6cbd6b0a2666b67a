//! Tests of the training driver (`examples/train`), whose modules are compiled in here so
//! that the training code itself is tested: convergence of every optimizer to the
//! least-squares optimum, the seeds' outcomes on the toy landscapes, an allocation-free
//! training loop, and the command line's error handling.

// The driver's modules, as the example compiles them; not every item is used here.
#![allow(dead_code)]

#[path = "../examples/train/cli.rs"]
mod cli;
#[path = "../examples/train/data.rs"]
mod data;
#[path = "../examples/train/problems.rs"]
mod problems;
#[path = "../examples/train/report.rs"]
mod report;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use data::{DataSpec, Dataset};
use fused_optim::{AnyOptimizer, Optimizer};
use problems::{Basin, Batching, Kind, Problem, Run, Setup, Training, XCosMinima};

/// The driver's kind called `name` (a registry name or a variant of the driver's).
fn kind(name: &str) -> Kind {
    Kind::named(name).unwrap_or_else(|| panic!("no kind {name}"))
}

// ---------------------------------------------------------------------------------------
// The optimizers: the crate's registry, the driver's variants and its tuning table

/// Every registered optimizer runs, with its defaults, in the registry's order; each variant
/// follows the optimizer it sets up and is that optimizer with the variant's fields set.
#[test]
fn kinds_are_the_registry_and_the_variants() {
    let kinds = Kind::all();
    let registered: Vec<&str> = kinds
        .iter()
        .map(|kind| kind.name())
        .filter(|name| AnyOptimizer::NAMES.contains(name))
        .collect();
    assert_eq!(registered, AnyOptimizer::NAMES);
    assert_eq!(
        kinds.len(),
        AnyOptimizer::NAMES.len() + problems::VARIANTS.len()
    );
    for kind in &kinds {
        let optimizer = kind.optimizer();
        assert!(optimizer.validate().is_ok(), "{kind:?}: {optimizer:?}");
        if let Some(defaults) = AnyOptimizer::default_for(kind.name()) {
            assert_eq!(optimizer, defaults);
        }
    }
    for variant in problems::VARIANTS {
        let prefix = format!("{}_", variant.of);
        assert!(variant.name.starts_with(&prefix), "{variant:?}");
        let at = |name| kinds.iter().position(|kind| kind.name() == name);
        assert!(
            at(variant.of) < at(variant.name),
            "{variant:?} follows its optimizer"
        );
        let optimizer = kind(variant.name).optimizer();
        assert_eq!(optimizer.name(), variant.of);
        assert_ne!(optimizer, AnyOptimizer::default_for(variant.of).unwrap());
    }
    assert_eq!(kind("sgd_nesterov").optimizer(), {
        let mut sgd = fused_optim::Sgd::default();
        (sgd.momentum, sgd.nesterov) = (0.9, true);
        AnyOptimizer::from(sgd)
    });
}

/// The tuning table names kinds that exist, once each; a name it does not hold (an
/// optimizer added to the crate, not yet tuned) runs at its defaults.
#[test]
fn tuning_table_names_kinds_and_falls_back_to_defaults() {
    for (i, tuning) in problems::TUNING.iter().enumerate() {
        assert!(Kind::named(tuning.kind).is_some(), "{tuning:?}");
        assert!(
            problems::TUNING[..i].iter().all(|t| t.kind != tuning.kind),
            "{} twice",
            tuning.kind
        );
    }
    assert_eq!(problems::tuning_of("no_such"), problems::Tuning::DEFAULTS);
    // The paths an untuned optimizer takes (no rate: its default), as rmsprop and adadelta,
    // tuned to their defaults, take them.
    for name in ["rmsprop", "adadelta"] {
        let default = kind(name).optimizer().lr();
        assert_eq!(problems::tuning_of(name).linear, None);
        assert_eq!(Problem::XCos.toy_setup(kind(name)).lr(), default);
        assert_eq!(Problem::Neuron.toy_setup(kind(name)).lr(), default);
        let mini = problems::linear_setup(kind(name), 2.5, Batching::Mini(1), 100);
        assert_eq!(mini.lr(), default);
    }
}

// ---------------------------------------------------------------------------------------
// Linear regression

/// The default data set: 100 samples × 1 feature, y = 3x + U(0, 1), seed 42.
fn default_data() -> (Dataset, Vec<f64>, f64) {
    let data = Dataset::generate(&DataSpec::default());
    let optimum = data
        .least_squares()
        .expect("the normal equations are regular");
    let best = data.loss(&optimum);
    (data, optimum, best)
}

fn distance(params: &[f32], optimum: &[f64]) -> f64 {
    params
        .iter()
        .zip(optimum)
        .map(|(&p, &q)| (f64::from(p) - q).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Linear regression's full-batch defaults for `kind` on `data`.
fn full_batch_setup(data: &Dataset, kind: Kind) -> Setup {
    problems::linear_setup(kind, data.smoothness(), Batching::Full, data.samples())
}

fn train(data: &Dataset, setup: &Setup, batching: Batching, epochs: usize, target: f64) -> Run {
    let training = Training {
        batching,
        epochs,
        seed: 42,
        record: false,
    };
    problems::train_linear(data, setup, &training, target).expect("valid setup")
}

#[test]
fn least_squares_recovers_noiseless_weights() {
    let spec = DataSpec {
        samples: 50,
        features: 3,
        noise: 0.0,
        seed: 7,
    };
    let data = Dataset::generate(&spec);
    let optimum = data.least_squares().expect("regular");
    for (i, &w) in optimum.iter().enumerate() {
        let expected = if i < 3 { 3.0 } else { 0.0 };
        assert!((w - expected).abs() < 1e-5, "θ*[{i}] = {w}");
    }
    assert!(data.loss(&optimum) < 1e-10);
}

#[test]
fn least_squares_is_a_minimum_of_the_loss() {
    let (data, optimum, best) = default_data();
    // The closed form reproduces the generating model: slope near 3, intercept near E[noise].
    assert!((optimum[0] - 3.0).abs() < 0.3, "w* = {}", optimum[0]);
    assert!((optimum[1] - 0.5).abs() < 0.2, "b* = {}", optimum[1]);
    // And no nearby point does better.
    for i in 0..optimum.len() {
        for delta in [-1e-3, 1e-3] {
            let mut nearby = optimum.clone();
            nearby[i] += delta;
            assert!(data.loss(&nearby) > best, "θ*[{i}] + {delta} is better");
        }
    }
}

#[test]
fn too_few_samples_make_the_normal_equations_singular() {
    let spec = DataSpec {
        samples: 2,
        features: 2,
        ..DataSpec::default()
    };
    assert_eq!(Dataset::generate(&spec).least_squares(), None);
}

#[test]
fn gradient_matches_finite_differences() {
    let spec = DataSpec {
        samples: 30,
        features: 2,
        ..DataSpec::default()
    };
    let data = Dataset::generate(&spec);
    let theta = [1.0_f32, -0.5, 0.25];
    let rows: Vec<usize> = (0..30).collect();
    let mut grad = [0.0_f32; 3];
    data.gradient(&theta, &rows, &mut grad);
    let h = 1e-6;
    for i in 0..3 {
        let mut plus: Vec<f64> = theta.iter().map(|&t| f64::from(t)).collect();
        let mut minus = plus.clone();
        plus[i] += h;
        minus[i] -= h;
        let numeric = (data.loss(&plus) - data.loss(&minus)) / (2.0 * h);
        let analytic = f64::from(grad[i]);
        assert!(
            (analytic - numeric).abs() <= 1e-5 * numeric.abs().max(1.0),
            "∂/∂θ{i}: analytic {analytic}, numeric {numeric}"
        );
    }
}

/// The convergence claim, with full batches and each optimizer's default hyper-parameters
/// (seeded, deterministic): after 2000 epochs (twice the default run) every optimizer
///
/// * came within 1 % of the optimal loss within 100 epochs, except four whose algorithm
///   makes them slower: RMSprop (lr 0.01, steps that do not grow with the gradient), Lion
///   (steps of ±lr = 0.01: w* ≈ 3 is 300 steps away) and Adadelta (steps that start at about
///   √eps = 1e-3 and grow only as its accumulated updates do), within 1000 (the default
///   run's length); and RAdam, whose variance rectification damps its steps (its factor r
///   grows from 0.03 at step 6 to only 0.2 at step 100), within 200;
/// * is still there: loss within 0.1 % of the optimum, and parameters within 1e-4 of θ*
///   (Euclidean norm over weight and intercept), except for those with a known floor:
///   - RMSprop, whose steps stay about `lr` long near the optimum, ends in an oscillation of
///     about 0.7·lr = 7e-3; Lion's sign steps end in one of about lr = 1e-2 per parameter;
///     AdamW's decoupled weight decay still pulls the parameters towards 0 by about 1e-2:
///     for these three, 2e-2;
///   - ASGD shrinks the parameters by `lambd` = 1e-4 at every step (and averages only after
///     t0 = 1e6 steps), which biases them by about 2e-3: 5e-3;
///   - Adadelta, whose self-tuned rate √(acc_delta / square_avg) does not shrink near the
///     optimum, reaches it with its default lr 1 and then slowly drifts away (loss 0.4 % above
///     it at 2000 epochs, |θ − θ*| 1.5e-2 and growing; see
///     `adadelta_settles_only_below_its_default_rate`): loss within 1 %, 3e-2.
#[test]
fn every_optimizer_reaches_the_least_squares_optimum() {
    const EPOCHS: usize = 2000;
    let (data, optimum, best) = default_data();
    for kind in Kind::all() {
        let setup = full_batch_setup(&data, kind);
        let run = train(&data, &setup, Batching::Full, EPOCHS, 1.01 * best);
        let name = kind.name();
        assert_eq!(run.steps, EPOCHS);
        let reached = run.reached.expect("comes within 1 %");
        let limit = match name {
            "rmsprop" | "lion" | "adadelta" => 1000,
            "radam" => 200,
            _ => 100,
        };
        assert!(
            reached <= limit,
            "{name}: within 1 % only at epoch {reached}"
        );
        let (excess, tolerance) = match name {
            "rmsprop" | "lion" | "adamw" => (1e-3, 2e-2),
            "asgd" => (1e-3, 5e-3),
            "adadelta" => (1e-2, 3e-2),
            _ => (1e-3, 1e-4),
        };
        assert!(
            run.loss <= best * (1.0 + excess),
            "{name}: loss {} vs optimum {best}",
            run.loss
        );
        let d = distance(&run.params, &optimum);
        assert!(d <= tolerance, "{name}: |θ - θ*| = {d} > {tolerance}");
    }
}

/// Adadelta's default lr 1 reaches the optimum (within 1 % at epoch 893), then drifts away
/// from it: its rate √(acc_delta / square_avg) adapts to the steps it takes rather than
/// shrinking, and at lr 1 the oscillation across the stiff direction slowly grows (an f64
/// re-implementation does the same). Below lr ≈ 0.75 it settles, more slowly.
#[test]
fn adadelta_settles_only_below_its_default_rate() {
    let (data, optimum, best) = default_data();
    let setup = full_batch_setup(&data, kind("adadelta"));
    assert_eq!(setup.lr(), 1.0);
    let loss = |epochs| train(&data, &setup, Batching::Full, epochs, best).loss;
    let (at_1000, at_10000) = (loss(1000), loss(10_000));
    assert!(at_1000 <= 1.001 * best, "{at_1000}");
    assert!(at_10000 > 1.02 * best, "{at_10000}: no longer drifts");
    let settled = setup.with("lr", 0.7);
    let run = train(&data, &settled, Batching::Full, 10_000, 1.01 * best);
    assert!(run.reached.is_some_and(|epoch| epoch <= 1200), "{run:?}");
    assert!(distance(&run.params, &optimum) <= 1e-4, "{run:?}");
}

/// Without its weight decay AdamW is Adam, and converges as tightly.
#[test]
fn adamw_without_weight_decay_reaches_the_optimum() {
    let (data, optimum, best) = default_data();
    let setup = full_batch_setup(&data, kind("adamw")).with("weight_decay", 0.0);
    assert_eq!(setup.get("weight_decay"), Some(0.0));
    let run = train(&data, &setup, Batching::Full, 2000, best);
    assert!(distance(&run.params, &optimum) <= 1e-4);
}

/// With mini-batches of 10 (reshuffled each epoch) and the default learning rates for them,
/// every optimizer but Rprop comes within 1 % of the optimal loss within 100 epochs (Adadelta,
/// whose steps grow from about √eps and are held back by the gradient noise in its squared
/// average, within 300), and ends within 15 % of it: gradient noise keeps a constant-rate
/// optimizer from settling. Rprop is a full-batch method: the noisy gradient's sign keeps
/// flipping, each flip halves the step size, and it stalls far from the optimum.
#[test]
fn every_optimizer_converges_with_mini_batches() {
    let (data, _, best) = default_data();
    let batching = Batching::Mini(10);
    for kind in Kind::all() {
        let setup = problems::linear_setup(kind, data.smoothness(), batching, data.samples());
        let name = kind.name();
        let epochs = if name == "adadelta" { 300 } else { 100 };
        let run = train(&data, &setup, batching, epochs, 1.01 * best);
        assert_eq!(run.steps, 10 * epochs);
        if name == "rprop" {
            assert!(run.reached.is_none() && run.loss > 1.5 * best, "{run:?}");
            continue;
        }
        assert!(run.reached.is_some(), "{name} never within 1 %");
        assert!(run.loss <= 1.15 * best, "{name}: loss {}", run.loss);
    }
}

#[test]
fn training_is_deterministic_and_seeded() {
    let (data, _, best) = default_data();
    let setup = full_batch_setup(&data, kind("adam"));
    let run = |seed| {
        let training = Training {
            batching: Batching::Mini(1),
            epochs: 3,
            seed,
            record: true,
        };
        problems::train_linear(&data, &setup, &training, best).expect("valid")
    };
    let (a, b, c) = (run(1), run(1), run(2));
    assert_eq!(a.params, b.params);
    assert_eq!(a.losses, b.losses);
    assert_ne!(a.params, c.params, "the shuffles depend on the seed");
    assert_eq!(a.losses.len(), 3 * 100 + 1);
}

#[test]
fn default_learning_rates_follow_the_smoothness_and_the_batches() {
    let lr = |name, batching| problems::linear_setup(kind(name), 2.5, batching, 100).lr();
    assert_eq!(lr("sgd", Batching::Full), 0.5); // 1.25 / L
    assert_eq!(lr("sgd_nesterov", Batching::Full), 0.1); // 0.25 / L
    // The square-root rule, rounded to two digits.
    assert_eq!(lr("sgd", Batching::Mini(25)), 0.25);
    assert_eq!(lr("sgd", Batching::Mini(1)), 0.05);
    assert_eq!(lr("adam", Batching::Mini(10)), 0.16);
    assert_eq!(lr("asgd", Batching::Full), 0.5); // plain SGD's
    for name in ["adagrad", "rmsprop", "adadelta", "rprop", "lion"] {
        assert_eq!(lr(name, Batching::Mini(1)), lr(name, Batching::Full));
    }
    // The ones tuned to their defaults keep them.
    for name in ["rmsprop", "adadelta", "rprop"] {
        let default = AnyOptimizer::default_for(name).expect("registered").lr();
        assert_eq!(lr(name, Batching::Full), default, "{name}");
    }
}

/// The smoothness L is the largest curvature: gradient descent converges with a rate just
/// below 2/L and diverges just above it.
#[test]
fn smoothness_bounds_the_stable_learning_rate() {
    let (data, _, best) = default_data();
    let smoothness = data.smoothness();
    // About 2 λmax(E[aaᵀ]) = 2.54 for a = [x, 1], x ~ U(0, 1); this sample gives a bit more.
    assert!((2.4..3.0).contains(&smoothness), "{smoothness}");
    let gd = |factor: f64| {
        let setup = Setup::new(kind("sgd"), factor / smoothness);
        train(&data, &setup, Batching::Full, 2000, best).loss
    };
    assert!(gd(1.98) < 1.001 * best);
    assert!(gd(2.02) > 1e3, "diverges");
}

// ---------------------------------------------------------------------------------------
// Toy landscapes

fn gd(lr: f64) -> Setup {
    Setup::new(kind("sgd"), lr)
}

fn descend(landscape: &problems::Landscape, setup: &Setup, start: &[f32], steps: usize) -> Run {
    problems::minimize(landscape, setup, start, steps, None, true).expect("valid setup")
}

#[test]
fn xcos_slope_is_the_derivative() {
    let slope = |x: f32| {
        let mut grad = [0.0];
        problems::xcos(&[x], &mut grad);
        grad[0]
    };
    assert_eq!(slope(0.0), 1.0);
    assert!((slope(1.0) + 1.0).abs() < 1e-6); // cos π − π·sin π
    assert!((slope(0.5) + std::f32::consts::FRAC_PI_2).abs() < 1e-6); // −π/2
}

#[test]
fn xcos_minima_are_near_the_seeds_values() {
    let minima = XCosMinima::compute();
    assert!((minima.local - -0.2739).abs() < 1e-3, "{minima:?}");
    assert!((minima.global - 1.0904).abs() < 1e-3, "{minima:?}");
    for x in [minima.local, minima.global] {
        let f = problems::xcos_value;
        assert!(
            f(x - 1e-3) > f(x) && f(x + 1e-3) > f(x),
            "{x} is not a minimum"
        );
    }
    assert!(problems::xcos_value(minima.global) < problems::xcos_value(minima.local));
    // The basins are bounded by the maxima near −1.091, 0.273 and 2.049.
    for (bound, expected) in [
        (minima.local_basin[0], -1.091),
        (minima.local_basin[1], 0.273),
        (minima.global_basin[0], 0.273),
        (minima.global_basin[1], 2.049),
    ] {
        assert!((bound - expected).abs() < 2e-3, "{minima:?}");
    }
    assert_eq!(minima.basin(0.0), Basin::Local);
    assert_eq!(minima.basin(0.5), Basin::Global);
    assert_eq!(minima.basin(-1.5), Basin::Neither);
}

#[test]
fn gd_from_one_half_finds_the_global_minimum() {
    let minima = XCosMinima::compute();
    let run = descend(&problems::XCOS, &gd(0.1), &[0.5], 100);
    assert_eq!(run.steps, 100);
    let x = f64::from(run.params[0]);
    assert!((x - minima.global).abs() < 1e-3, "ends at {x}");
}

#[test]
fn gd_from_minus_one_stays_in_the_local_basin() {
    let minima = XCosMinima::compute();
    let run = descend(&problems::XCOS, &gd(0.1), &[-1.0], 100);
    for &x in &run.path {
        assert_eq!(minima.basin(f64::from(x)), Basin::Local, "visits {x}");
    }
    let x = f64::from(run.params[0]);
    assert!((x - minima.local).abs() < 1e-3, "ends at {x}");
}

#[test]
fn a_learning_rate_just_above_one_escapes_to_the_global_basin() {
    let minima = XCosMinima::compute();
    let in_global = |run: &Run| {
        run.path
            .iter()
            .position(|&x| minima.basin(f64::from(x)) == Basin::Global)
    };
    // lr = 1 bounces between −1 and 0 for ever, inside the local basin ...
    let bounce = descend(&problems::XCOS, &gd(1.0), &[-1.0], 100);
    assert_eq!(in_global(&bounce), None);
    assert_eq!(bounce.params[0], -1.0);
    // ... the seed's 1.0005 lets the bounce grow until it lands in the global basin.
    let escape = descend(&problems::XCOS, &gd(1.0005), &[-1.0], 100);
    let step = in_global(&escape).expect("reaches the global basin");
    assert!((5..=20).contains(&step), "at step {step}");
    // Too large a step to settle there: it leaves [−2, 2] soon after.
    assert!(escape.steps < 100);
}

#[test]
fn saddle_stalls_plain_gradient_descent_and_momentum_passes_it() {
    for kind in Kind::all() {
        let setup = Problem::Saddle.toy_setup(kind);
        let run = descend(&problems::SADDLE, &setup, &[1.0], 100);
        let crossed = run.path.iter().any(|&x| x < 0.0);
        match kind.name() {
            // The gradient 3x² vanishes as x → 0: these creep towards the saddle. ASGD is
            // plain SGD; RAdam's rectification keeps its steps small (its factor r grows
            // from 0.03 at step 6 to 0.2 at step 100); Adadelta's steps start at about √eps
            // and have barely grown.
            "sgd" | "adagrad" | "rmsprop" | "asgd" | "radam" => {
                assert!(!crossed, "{} crossed", kind.name());
                assert_eq!(run.steps, 100);
                assert!(run.params[0] > 0.0 && run.params[0] < 0.2, "{run:?}");
            }
            "adadelta" => {
                assert!(!crossed && run.steps == 100, "{run:?}");
                assert!(run.params[0] > 0.5 && run.params[0] < 0.9, "{run:?}");
            }
            // Momentum carries Adamax past it, but its steps are the gradient over the
            // largest one seen (the first, 3): it stays near 0 as the gradient vanishes.
            "adamax" => {
                assert!(crossed && run.steps == 100, "{run:?}");
                assert!(run.params[0].abs() < 0.1, "{run:?}");
            }
            // Momentum and normalised steps carry these through, and down x³ out of [−2, 2].
            _ => {
                assert!(crossed, "{} stalled", kind.name());
                assert!(run.steps < 100);
            }
        }
    }
    // Plain GD: x ← x − 0.3x², so x_t ≈ 1/(1 + 0.3t) to first order.
    let run = descend(&problems::SADDLE, &gd(0.1), &[1.0], 100);
    let x = f64::from(run.params[0]);
    assert!((0.025..0.035).contains(&x), "{x}");
}

#[test]
fn neuron_gradient_matches_finite_differences() {
    let params = [-2.0_f32, -2.0];
    let mut grad = [0.0; 2];
    problems::neuron(&params, &mut grad);
    let mut scratch = [0.0; 2];
    let h = 1e-2_f32;
    for i in 0..2 {
        let (mut plus, mut minus) = (params, params);
        plus[i] += h;
        minus[i] -= h;
        let numeric = (problems::neuron(&plus, &mut scratch)
            - problems::neuron(&minus, &mut scratch))
            / (2.0 * f64::from(h));
        let analytic = f64::from(grad[i]);
        assert!(
            (analytic - numeric).abs() < 1e-4 * numeric.abs().max(1e-3),
            "{i}: {analytic} vs {numeric}"
        );
    }
}

/// The seed's neuron from w = b = −2: every optimizer fits it (loss below 1e-4) within the
/// seed's 1000 epochs, and the momentum methods get there before plain gradient descent.
#[test]
fn every_optimizer_fits_the_sigmoid_neuron() {
    let [w, b] = problems::neuron_optimum();
    assert!((w - 1.7918).abs() < 1e-4 && (b + 2.2822).abs() < 1e-4);
    let mut epochs_to_fit = Vec::new();
    for kind in Kind::all() {
        let setup = Problem::Neuron.toy_setup(kind);
        let run = problems::minimize(
            &problems::NEURON,
            &setup,
            &[-2.0, -2.0],
            1000,
            Some(1e-4),
            false,
        )
        .expect("valid");
        let reached = run
            .reached
            .unwrap_or_else(|| panic!("{} never fits", kind.name()));
        epochs_to_fit.push((kind, reached));
        if setup.get("weight_decay").unwrap_or(0.0) == 0.0 {
            let (dw, db) = (f64::from(run.params[0]) - w, f64::from(run.params[1]) - b);
            // ASGD shrinks the parameters by lambd = 1e-4 per step, against gradients that
            // the flat sigmoid makes small: a bias of about 2e-2.
            let tolerance = if kind.name() == "asgd" { 5e-2 } else { 1e-3 };
            assert!(
                dw.abs() < tolerance && db.abs() < tolerance,
                "{}: {run:?}",
                kind.name()
            );
        }
    }
    let epochs = |name| {
        epochs_to_fit
            .iter()
            .find(|(k, _)| *k == kind(name))
            .map(|&(_, e)| e)
            .expect("run")
    };
    assert!(epochs("sgd_momentum") < epochs("sgd"));
    assert!(epochs("sgd_nesterov") < epochs("sgd_momentum"));
}

// ---------------------------------------------------------------------------------------
// No allocation inside the training loops

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Counts the allocations of the current thread (tests run on several threads).
struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// A run allocates the same whatever its length: nothing per step.
#[test]
fn training_loops_do_not_allocate() {
    let (data, _, best) = default_data();
    for kind in Kind::all() {
        for batching in [Batching::Full, Batching::Mini(7)] {
            for record in [false, true] {
                let setup = full_batch_setup(&data, kind);
                let run = |epochs| {
                    let training = Training {
                        batching,
                        epochs,
                        seed: 1,
                        record,
                    };
                    allocations(|| {
                        problems::train_linear(&data, &setup, &training, best).expect("valid");
                    })
                };
                assert_eq!(run(2), run(20), "{kind:?} {batching:?} record {record}");
            }
        }
        let setup = Problem::Neuron.toy_setup(kind);
        let run = |steps| {
            allocations(|| {
                problems::minimize(
                    &problems::NEURON,
                    &setup,
                    &[-2.0, -2.0],
                    steps,
                    Some(1e-4),
                    true,
                )
                .expect("valid");
            })
        };
        assert_eq!(run(2), run(200), "{kind:?} on the neuron");
    }
}

// ---------------------------------------------------------------------------------------
// Command line

fn parse(args: &[&str]) -> Result<cli::Config, clap::Error> {
    cli::parse(std::iter::once("train").chain(args.iter().copied()))
}

/// Asserts a usage error: exit code 2, printed as one line naming `needle`, then the usage.
fn assert_usage_error(args: &[&str], needle: &str) {
    let err = parse(args).expect_err("a usage error");
    assert_eq!(err.exit_code(), 2, "{args:?}");
    assert!(err.use_stderr());
    let text = cli::render_error(&err);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("error: "), "{text}");
    assert!(lines[0].contains(needle), "{args:?}: {text}");
    assert_eq!(lines[1], "", "one line of error: {text}");
    assert!(lines[2].starts_with("Usage: train"), "{text}");
    assert!(!text.contains("panicked"));
}

#[test]
fn default_command_line_is_linear_regression_with_every_optimizer() {
    let config = parse(&[]).expect("valid");
    assert_eq!(config.problems, [Problem::Linear]);
    assert_eq!(config.optimizers, Kind::all());
    assert_eq!(config.batching, Batching::Full);
    assert_eq!(config.data, DataSpec::default());
    assert_eq!(config.epochs(Problem::Linear), 1000);
}

#[test]
fn flags_select_problems_optimizers_and_hyper_parameters() {
    let config = parse(&[
        "--problem",
        "all",
        "--optimizer",
        "adam,sgd,adam",
        "--lr",
        "0.02",
        "--batch-size",
        "1",
        "--epochs",
        "7",
    ])
    .expect("valid");
    assert_eq!(config.problems, Problem::ALL);
    assert_eq!(config.optimizers, [kind("adam"), kind("sgd")]);
    assert_eq!(config.batching, Batching::Mini(1));
    assert_eq!(config.epochs(Problem::Neuron), 7);
    for setup in config.setups(|kind| Setup::new(kind, 1.0)) {
        assert_eq!(setup.lr(), 0.02, "--lr overrides the scaled default");
    }
    for kind in Kind::all() {
        let config = parse(&["--optimizer", kind.name()]).expect("valid");
        assert_eq!(config.optimizers, [kind]);
    }
    let config = parse(&["--problem", "xcos,saddle", "--momentum", "0.5"]).expect("valid");
    assert_eq!(config.problems, [Problem::XCos, Problem::Saddle]);
    let setups = config.setups(|kind| Problem::XCos.toy_setup(kind));
    // Set where the optimizer has a momentum (SGD's kinds and RMSprop), nowhere else.
    let with_momentum: Vec<&str> = setups
        .iter()
        .filter(|s| s.get("momentum").is_some())
        .map(|s| s.kind.name())
        .collect();
    for name in ["sgd", "sgd_momentum", "sgd_nesterov", "rmsprop"] {
        assert!(with_momentum.contains(&name), "{name}: {with_momentum:?}");
    }
    assert!(!with_momentum.contains(&"adam"));
    assert!(
        setups
            .iter()
            .all(|s| s.get("momentum").is_none_or(|m| m == 0.5))
    );
    let config = parse(&["--optimizer", "rprop,lion", "--weight-decay", "0.5"]).expect("valid");
    let setups = config.setups(|kind| Setup::new(kind, 1.0));
    assert_eq!(setups[0].get("weight_decay"), None, "rprop has none");
    assert_eq!(setups[1].get("weight_decay"), Some(0.5));
}

#[test]
fn bad_flags_are_usage_errors() {
    assert_usage_error(&["--optimizer", "nope"], "'nope' for '--optimizer");
    assert_usage_error(&["--problem", "nope"], "unknown problem");
    assert_usage_error(&["--batch-size", "-3"], "'-3' for '--batch-size");
    assert_usage_error(&["--batch-size", "0"], "positive integer or 'full'");
    assert_usage_error(&["--lr", "NaN"], "'NaN' for '--lr");
    assert_usage_error(&["--lr", "-0.1"], "finite number >= 0");
    assert_usage_error(&["--epochs", "many"], "'many' for '--epochs");
    assert_usage_error(&["--epochs", "0"], "integer from 1 to 1000000");
    assert_usage_error(&["--features", "101"], "integer from 1 to 100");
    assert_usage_error(
        &[
            "--batch-size",
            "1",
            "--epochs",
            "200000",
            "--csv",
            "out.csv",
        ],
        "--csv keeps every step",
    );
    assert_usage_error(&["--samples", "2", "--features", "2"], "--samples");
    assert_usage_error(&["--no-such-flag"], "--no-such-flag");
    // The crate's own validation, reported the same way.
    assert_usage_error(
        &["--optimizer", "sgd_nesterov", "--momentum", "0"],
        "sgd_nesterov",
    );
}

#[test]
fn help_is_not_an_error() {
    let err = parse(&["--help"]).expect_err("help exits early");
    assert_eq!(err.exit_code(), 0);
    assert!(!err.use_stderr());
    let help = err.to_string();
    assert!(help.contains("--batch-size"));
    // The optimizers are listed from the registry.
    for kind in Kind::all() {
        assert!(
            help.contains(kind.name()),
            "{} missing from {help}",
            kind.name()
        );
    }
    assert!(
        help.contains("rprop (its lr is the initial step size)"),
        "{help}"
    );
    assert!(help.contains("every optimizer but rprop"), "{help}");
}

// ---------------------------------------------------------------------------------------
// Report

#[test]
fn table_aligns_text_left_and_numbers_right() {
    let mut table = report::Table::new(&["name", "value"], &[0]);
    table.row(vec!["a".into(), "1.5".into()]);
    table.row(vec!["long name".into(), "10".into()]);
    assert_eq!(
        table.to_string(),
        "name       value\n---------  -----\na            1.5\nlong name     10\n"
    );
}

#[test]
fn csv_has_a_line_per_step() {
    let series = [report::Series {
        problem: "linear",
        label: "adam".into(),
        losses: vec![1.0, 0.5],
    }];
    let mut out = Vec::new();
    report::write_csv(&mut out, &series).expect("writes to memory");
    assert_eq!(
        String::from_utf8(out).expect("UTF-8"),
        "problem,optimizer,step,loss\nlinear,adam,0,1e0\nlinear,adam,1,5e-1\n"
    );
}

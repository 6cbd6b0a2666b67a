//! The problems the driver trains, the optimizers it runs on them and the two training loops.
//!
//! The optimizers are the crate's registry ([`AnyOptimizer::NAMES`], each with its defaults)
//! plus the driver's [`VARIANTS`] of them; the learning rates the driver picks per problem
//! are the [`TUNING`] table, keyed by name. An optimizer the table does not name runs with its
//! own defaults everywhere, so a new optimizer of the crate appears here with no change.
//!
//! Every gradient is analytic and written into a buffer allocated once, before the loop, as
//! are the optimizer state, the shuffled row order and (when asked for) the recorded losses:
//! the loops themselves allocate nothing.

use std::f64::consts::PI;
use std::str::FromStr;
use std::time::{Duration, Instant};

use fused_optim::{AnyOptimizer, Error, HyperParameter, Optimizer};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::data::Dataset;

/// A variant of a registered optimizer that the driver runs beside its defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Variant {
    /// Its name in the tables and on the command line: `<registry name>_<what it sets>`.
    pub name: &'static str,
    /// The registry name of the optimizer it sets up.
    pub of: &'static str,
    /// The hyper-parameters it sets on top of the defaults, by field name (a flag is set by
    /// any value but 0).
    pub set: &'static [(&'static str, f64)],
}

/// SGD is shown plain, with heavy-ball momentum and with Nesterov momentum.
pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "sgd_momentum",
        of: "sgd",
        set: &[("momentum", 0.9)],
    },
    Variant {
        name: "sgd_nesterov",
        of: "sgd",
        set: &[("momentum", 0.9), ("nesterov", 1.0)],
    },
];

/// What the driver runs: a registered optimizer with the crate's defaults (its registry name,
/// `adam`) or one of the [`VARIANTS`] (`sgd_momentum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind(&'static str);

impl Kind {
    /// Every kind: the registry's optimizers in its order, each followed by its variants.
    pub fn all() -> Vec<Kind> {
        AnyOptimizer::NAMES
            .iter()
            .flat_map(|&name| {
                let variants = VARIANTS.iter().filter(move |v| v.of == name);
                std::iter::once(Kind(name)).chain(variants.map(|v| Kind(v.name)))
            })
            .collect()
    }

    /// The kind called `name`, if there is one.
    pub fn named(name: &str) -> Option<Kind> {
        Kind::all().into_iter().find(|kind| kind.0 == name)
    }

    pub fn name(self) -> &'static str {
        self.0
    }

    /// The crate's optimizer with this kind's defaults.
    pub fn optimizer(self) -> AnyOptimizer {
        if let Some(optimizer) = AnyOptimizer::default_for(self.0) {
            return optimizer;
        }
        let variant = VARIANTS
            .iter()
            .find(|v| v.name == self.0)
            .expect("a kind is a registry name or a variant");
        let mut optimizer =
            AnyOptimizer::default_for(variant.of).expect("a variant of a registered optimizer");
        for &(field, value) in variant.set {
            assert!(
                set_field(&mut optimizer, field, value),
                "{}: {} has no field {field}",
                variant.name,
                variant.of
            );
        }
        optimizer
    }

    /// The driver's learning rates for this kind (see [`tuning_of`]).
    pub fn tuning(self) -> Tuning {
        tuning_of(self.0)
    }

    /// Whether [`TUNING`] names this kind.
    pub fn is_tuned(self) -> bool {
        TUNING.iter().any(|tuning| tuning.kind == self.0)
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(name: &str) -> Result<Kind, String> {
        Kind::named(name).ok_or_else(|| {
            let names: Vec<&str> = Kind::all().into_iter().map(Kind::name).collect();
            format!("unknown optimizer (expected one of {})", names.join(", "))
        })
    }
}

/// Sets the hyper-parameter `name` of `optimizer` (a real to `value`, a flag on unless
/// `value` is 0); whether it has one.
pub fn set_field(optimizer: &mut AnyOptimizer, name: &str, value: f64) -> bool {
    let mut found = false;
    optimizer.hyper_parameters(&mut |field, parameter| match parameter {
        HyperParameter::Real(x) if field == name => (*x, found) = (value, true),
        HyperParameter::Flag(on) if field == name => (*on, found) = (value != 0.0, true),
        _ => {}
    });
    found
}

/// The real hyper-parameter `name` of `optimizer`, if it has one.
pub fn get_field(optimizer: &AnyOptimizer, name: &str) -> Option<f64> {
    let mut value = None;
    let mut copy = *optimizer;
    copy.hyper_parameters(&mut |field, parameter| {
        if let (true, HyperParameter::Real(x)) = (field == name, parameter) {
            value = Some(*x);
        }
    });
    value
}

/// A learning rate of linear regression with full batches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// This rate.
    Fixed(f64),
    /// This factor over the smoothness L of the loss (its largest curvature).
    OverSmoothness(f64),
}

/// The learning rates the driver picks for one kind, per problem; `None` keeps the
/// optimizer's default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tuning {
    /// The kind's name (see [`Kind`]).
    pub kind: &'static str,
    /// Linear regression, full batches.
    pub linear: Option<Rate>,
    /// Whether mini-batches scale the linear rate by √(rows / samples), the square-root rule
    /// for noisier gradients.
    pub batch_scaled: bool,
    /// The toy landscapes x·cos(πx) and x³.
    pub toy: Option<f64>,
    /// The sigmoid neuron.
    pub neuron: Option<f64>,
    /// What `--help` says about it, if anything.
    pub note: Option<&'static str>,
}

impl Tuning {
    /// A kind [`TUNING`] does not name: the optimizer's defaults everywhere.
    pub const DEFAULTS: Tuning = Tuning {
        kind: "",
        linear: None,
        batch_scaled: false,
        toy: None,
        neuron: None,
        note: None,
    };
}

use Rate::{Fixed, OverSmoothness};

/// The driver's learning rates, by kind (a kind not listed runs at its defaults; `None`: the
/// optimizer's default rate):
///
/// * Linear regression with full batches: plain gradient descent takes 1.25/L (it is stable
///   below 2/L), and so does ASGD (plain SGD with a slowly decaying rate, averaging only after
///   a million steps); with momentum 0.9 (heavy-ball or Nesterov) 0.25/L; the adaptive
///   optimizers normalise their steps, so theirs do not depend on L: Adagrad, Adamax and
///   Adadelta 1 (Adadelta's is a factor of its self-tuned steps: its default), Adam, AdamW,
///   NAdam and RAdam 0.5, Lion 0.01 (its steps are ±lr, so it ends oscillating by about that
///   much), RMSprop its default 0.01 (its steps do not shrink near the optimum, so it ends in
///   an oscillation of about its rate), and Rprop its default initial step size 0.01 (it
///   adapts its step sizes itself).
/// * With mini-batches the rate is scaled by √(rows / samples), except Adagrad's (its
///   accumulated squared gradients already shrink its steps as they multiply), RMSprop's and
///   Lion's (already small), Adadelta's (a factor, not a step length) and Rprop's (an initial
///   step size: it is a full-batch method and stalls with mini-batches anyway, as noisy
///   gradient signs keep shrinking its steps).
/// * The toy landscapes: the seed's rate 0.1 for gradient descent and most others; RMSprop
///   and Adadelta keep their defaults (0.01, and 1, a factor of self-tuned steps that start at
///   about √eps). On the sigmoid neuron the seed's 1, except for RMSprop (its default 0.01),
///   Lion 0.01 and Adam, AdamW and NAdam 0.1, whose normalised or sign steps need less.
#[rustfmt::skip]
pub const TUNING: &[Tuning] = &[
    //     kind            linear (full batches)       scaled toy        neuron
    tuning("sgd",          Some(OverSmoothness(1.25)), true,  Some(0.1), Some(1.0)),
    tuning("sgd_momentum", Some(OverSmoothness(0.25)), true,  Some(0.1), Some(1.0)),
    tuning("sgd_nesterov", Some(OverSmoothness(0.25)), true,  Some(0.1), Some(1.0)),
    tuning("adagrad",      Some(Fixed(1.0)),           false, Some(0.1), Some(1.0)),
    tuning("rmsprop",      None,                       false, None,      None),
    tuning("adam",         Some(Fixed(0.5)),           true,  Some(0.1), Some(0.1)),
    tuning("adamw",        Some(Fixed(0.5)),           true,  Some(0.1), Some(0.1)),
    tuning("adamax",       Some(Fixed(1.0)),           true,  Some(0.1), Some(1.0)),
    tuning("nadam",        Some(Fixed(0.5)),           true,  Some(0.1), Some(0.1)),
    tuning("radam",        Some(Fixed(0.5)),           true,  Some(0.1), Some(1.0)),
    tuning("adadelta",     None,                       false, None,      None),
    Tuning {
        note: Some("its lr is the initial step size"),
        ..tuning("rprop",  None,                       false, Some(0.1), Some(1.0))
    },
    tuning("asgd",         Some(OverSmoothness(1.25)), true,  Some(0.1), Some(1.0)),
    tuning("lion",         Some(Fixed(0.01)),          false, Some(0.1), Some(0.01)),
];

/// The [`TUNING`] row of the kind called `name`, or [`Tuning::DEFAULTS`] if it has none.
pub fn tuning_of(name: &str) -> Tuning {
    TUNING
        .iter()
        .find(|tuning| tuning.kind == name)
        .copied()
        .unwrap_or(Tuning::DEFAULTS)
}

const fn tuning(
    kind: &'static str,
    linear: Option<Rate>,
    batch_scaled: bool,
    toy: Option<f64>,
    neuron: Option<f64>,
) -> Tuning {
    Tuning {
        kind,
        linear,
        batch_scaled,
        toy,
        neuron,
        note: None,
    }
}

/// An optimizer as the driver runs it: its kind, and the crate's optimizer with the kind's
/// defaults, the driver's learning rate and the flags' overrides.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    pub kind: Kind,
    pub optimizer: AnyOptimizer,
}

impl Setup {
    /// `kind` (its defaults: momentum 0.9 for the SGD momentum variants, the crate's weight
    /// decay, ...) with learning rate `lr`.
    pub fn new(kind: Kind, lr: f64) -> Setup {
        Setup::defaults(kind).with("lr", lr)
    }

    /// `kind` with its defaults, learning rate included.
    pub fn defaults(kind: Kind) -> Setup {
        Setup {
            kind,
            optimizer: kind.optimizer(),
        }
    }

    /// This setup with the hyper-parameter `name` set to `value`, if the optimizer has it
    /// (Rprop has no weight decay, most have no momentum).
    pub fn with(mut self, name: &str, value: f64) -> Setup {
        set_field(&mut self.optimizer, name, value);
        self
    }

    /// The real hyper-parameter `name`, if the optimizer has it.
    pub fn get(&self, name: &str) -> Option<f64> {
        get_field(&self.optimizer, name)
    }

    pub fn lr(&self) -> f64 {
        self.optimizer.lr()
    }

    /// The hyper-parameters the driver sets, for the tables: `lr 0.1 momentum 0.9`
    /// (momentum and weight decay where the optimizer has them and they are not 0).
    pub fn describe(&self) -> String {
        // `{:?}` rather than `{}`: 1e-5 rather than 0.00001.
        let mut text = format!("lr {:?}", self.lr());
        for (field, label) in [("momentum", "momentum"), ("weight_decay", "wd")] {
            if let Some(value) = self.get(field).filter(|&value| value != 0.0) {
                text += &format!(" {label} {value:?}");
            }
        }
        text
    }
}

/// The problems the driver can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Least-squares linear regression on the seeded data set.
    Linear,
    /// `x·cos(πx)` on [−2, 2]: a local and a global minimum.
    XCos,
    /// `x³` on [−2, 2]: a saddle (a flat inflection point) at 0.
    Saddle,
    /// One sigmoid neuron fitted to two points.
    Neuron,
}

impl Problem {
    pub const ALL: [Problem; 4] = [
        Problem::Linear,
        Problem::XCos,
        Problem::Saddle,
        Problem::Neuron,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Problem::Linear => "linear",
            Problem::XCos => "xcos",
            Problem::Saddle => "saddle",
            Problem::Neuron => "neuron",
        }
    }

    /// The default hyper-parameters of `kind` on a toy landscape (see [`linear_setup`] for
    /// linear regression): its [`TUNING`] rate, or its default.
    pub fn toy_setup(self, kind: Kind) -> Setup {
        let tuning = kind.tuning();
        let lr = match self {
            Problem::Neuron => tuning.neuron,
            _ => tuning.toy,
        };
        let setup = Setup::defaults(kind);
        lr.map_or(setup, |lr| setup.with("lr", lr))
    }

    /// The default number of epochs (of steps, for the toy landscapes).
    pub fn default_epochs(self, batching: Batching) -> usize {
        match (self, batching) {
            (Problem::Linear, Batching::Full) => 1000,
            (Problem::Linear, Batching::Mini(_)) => 100,
            (Problem::XCos, _) => 100,
            (Problem::Saddle, _) => 100,
            (Problem::Neuron, _) => 1000,
        }
    }
}

/// How linear regression walks the data in an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batching {
    /// One step per epoch on the gradient over every row.
    Full,
    /// Steps on batches of this many rows, reshuffled each epoch; 1 is per-sample SGD.
    Mini(usize),
}

impl Batching {
    /// Rows per step for a data set of `samples` rows.
    pub fn rows(self, samples: usize) -> usize {
        match self {
            Batching::Full => samples,
            Batching::Mini(size) => size.clamp(1, samples.max(1)),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Batching::Full => "full batch".into(),
            Batching::Mini(1) => "per-sample SGD, reshuffled each epoch".into(),
            Batching::Mini(size) => format!("mini-batches of {size}, reshuffled each epoch"),
        }
    }
}

/// Linear regression's default hyper-parameters for `kind`, given the smoothness `L` of the
/// loss (its largest curvature, see `Dataset::smoothness`) and the batches: its [`TUNING`]
/// rate (or its default), scaled by √(rows / samples) with mini-batches if the table says so,
/// and rounded to two significant digits, so that the printed rate reproduces the run.
pub fn linear_setup(kind: Kind, smoothness: f64, batching: Batching, samples: usize) -> Setup {
    let tuning = kind.tuning();
    let setup = Setup::defaults(kind);
    let lr = match tuning.linear {
        None => setup.lr(),
        Some(Rate::Fixed(lr)) => lr,
        Some(Rate::OverSmoothness(factor)) => factor / smoothness,
    };
    let scale = if tuning.batch_scaled {
        (batching.rows(samples) as f64 / samples as f64).sqrt()
    } else {
        1.0
    };
    setup.with("lr", two_digits(lr * scale))
}

/// `x` rounded to two significant digits.
fn two_digits(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10_f64.powi(1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// The outcome of one training run.
#[derive(Clone, Debug)]
pub struct Run {
    /// The final parameters.
    pub params: Vec<f32>,
    /// The final loss.
    pub loss: f64,
    /// Steps taken (fewer than asked if a toy run left its domain).
    pub steps: usize,
    /// The first step after which the loss was at or below the target (0: at the start).
    pub reached: Option<usize>,
    /// If recorded, the loss at the start and after every step.
    pub losses: Vec<f64>,
    /// Toy landscapes, if recorded: the parameters at the start and after every step, back
    /// to back.
    pub path: Vec<f32>,
    /// Wall time of the loop (steps, gradients and losses).
    pub elapsed: Duration,
}

/// Records a run's losses as it goes, into buffers reserved up front: pushing never
/// reallocates.
struct Trace {
    target: Option<f64>,
    reached: Option<usize>,
    record: bool,
    losses: Vec<f64>,
    path: Vec<f32>,
}

impl Trace {
    fn new(target: Option<f64>, steps: usize, record: bool, path_width: usize) -> Trace {
        let (losses, path) = if record {
            let points = steps + 1;
            (
                Vec::with_capacity(points),
                Vec::with_capacity(points * path_width),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        Trace {
            target,
            reached: None,
            record,
            losses,
            path,
        }
    }

    /// The loss (and, for a toy, the parameters) after `step` steps.
    fn push(&mut self, step: usize, loss: f64, params: &[f32]) {
        if self.reached.is_none() && self.target.is_some_and(|target| loss <= target) {
            self.reached = Some(step);
        }
        if self.record {
            self.losses.push(loss);
            self.path.extend_from_slice(params);
        }
    }

    fn finish(self, params: Vec<f32>, loss: f64, steps: usize, elapsed: Duration) -> Run {
        Run {
            params,
            loss,
            steps,
            reached: self.reached,
            losses: self.losses,
            path: self.path,
            elapsed,
        }
    }
}

/// How to train linear regression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Training {
    pub batching: Batching,
    pub epochs: usize,
    /// Seed of the per-epoch shuffles (the same for every optimizer, so all see the same
    /// batches).
    pub seed: u64,
    /// Record every loss (for the CSV).
    pub record: bool,
}

/// Trains linear regression on `data` from θ = 0 with the MSE loss; `target` is the loss
/// whose first crossing is reported (1 % above the optimum, in the table).
pub fn train_linear(
    data: &Dataset,
    setup: &Setup,
    training: &Training,
    target: f64,
) -> Result<Run, Error> {
    let optimizer = setup.optimizer;
    let samples = data.samples();
    let rows = training.batching.rows(samples);
    let steps = training.epochs * samples.div_ceil(rows);

    // Everything the loop touches, allocated once.
    let mut params = vec![0.0_f32; data.params()];
    let mut grad = vec![0.0_f32; params.len()];
    let mut state = vec![0.0_f32; optimizer.state_len(params.len())];
    optimizer.init_state(&mut state)?;
    let mut order: Vec<usize> = (0..samples).collect();
    let mut rng = StdRng::seed_from_u64(training.seed);
    let mut trace = Trace::new(Some(target), steps, training.record, 0);

    let start = Instant::now();
    let mut loss = data.loss(&params);
    trace.push(0, loss, &[]);
    let mut t = 0;
    for _ in 0..training.epochs {
        if rows < samples {
            order.shuffle(&mut rng);
        }
        for batch in order.chunks(rows) {
            data.gradient(&params, batch, &mut grad);
            t += 1;
            optimizer.step(t as u64, &mut params, &grad, &mut state)?;
            loss = data.loss(&params);
            trace.push(t, loss, &[]);
        }
    }
    Ok(trace.finish(params, loss, t, start.elapsed()))
}

/// A toy objective: its loss and analytic gradient, and the box it is studied on.
#[derive(Clone, Copy, Debug)]
pub struct Landscape {
    /// Writes the gradient at `params` into `grad` and returns the loss.
    pub objective: fn(params: &[f32], grad: &mut [f32]) -> f64,
    /// A run stops when a parameter leaves `[−bound, bound]` (or becomes NaN).
    pub bound: f32,
}

/// `f(x) = x·cos(πx)` on [−2, 2].
pub const XCOS: Landscape = Landscape {
    objective: xcos,
    bound: 2.0,
};

/// `f(x) = x³` on [−2, 2].
pub const SADDLE: Landscape = Landscape {
    objective: cube,
    bound: 2.0,
};

/// The sigmoid neuron, unbounded.
pub const NEURON: Landscape = Landscape {
    objective: neuron,
    bound: f32::INFINITY,
};

/// Minimises `landscape` from `start` for up to `steps` steps; `target` as in
/// [`train_linear`].
pub fn minimize(
    landscape: &Landscape,
    setup: &Setup,
    start: &[f32],
    steps: usize,
    target: Option<f64>,
    record: bool,
) -> Result<Run, Error> {
    let optimizer = setup.optimizer;
    let mut params = start.to_vec();
    let mut grad = vec![0.0_f32; params.len()];
    let mut state = vec![0.0_f32; optimizer.state_len(params.len())];
    optimizer.init_state(&mut state)?;
    let mut trace = Trace::new(target, steps, record, params.len());
    let inside = |params: &[f32]| params.iter().all(|p| p.abs() <= landscape.bound);

    let start = Instant::now();
    let mut loss = (landscape.objective)(&params, &mut grad);
    trace.push(0, loss, &params);
    let mut t = 0;
    while t < steps && inside(&params) {
        t += 1;
        optimizer.step(t as u64, &mut params, &grad, &mut state)?;
        loss = (landscape.objective)(&params, &mut grad);
        trace.push(t, loss, &params);
    }
    Ok(trace.finish(params, loss, t, start.elapsed()))
}

/// `f(x) = x·cos(πx)`, `f′(x) = cos(πx) − πx·sin(πx)`.
pub fn xcos(params: &[f32], grad: &mut [f32]) -> f64 {
    let x = f64::from(params[0]);
    grad[0] = xcos_slope(x) as f32;
    xcos_value(x)
}

pub fn xcos_value(x: f64) -> f64 {
    x * (PI * x).cos()
}

fn xcos_slope(x: f64) -> f64 {
    let (sin, cos) = (PI * x).sin_cos();
    cos - PI * x * sin
}

/// `f(x) = x³`, `f′(x) = 3x²`.
pub fn cube(params: &[f32], grad: &mut [f32]) -> f64 {
    let x = f64::from(params[0]);
    grad[0] = (3.0 * x * x) as f32;
    x * x * x
}

/// The seed's two points `(x, y)` for the sigmoid neuron.
pub const NEURON_DATA: [(f64, f64); 2] = [(0.5, 0.2), (2.5, 0.9)];

/// The seed's sigmoid neuron, `params = [w, b]`: `Σ ½(σ(wx + b) − y)²` over [`NEURON_DATA`],
/// with gradient `Σ (σ − y)·σ(1 − σ)·[x, 1]`.
pub fn neuron(params: &[f32], grad: &mut [f32]) -> f64 {
    let (w, b) = (f64::from(params[0]), f64::from(params[1]));
    let (mut loss, mut grad_w, mut grad_b) = (0.0, 0.0, 0.0);
    for (x, y) in NEURON_DATA {
        let out = 1.0 / (1.0 + (-(w * x + b)).exp());
        let delta = (out - y) * out * (1.0 - out);
        loss += 0.5 * (out - y) * (out - y);
        grad_w += delta * x;
        grad_b += delta;
    }
    grad[0] = grad_w as f32;
    grad[1] = grad_b as f32;
    loss
}

/// The neuron's exact fit (loss 0): `wx + b = logit(y)` at both points.
pub fn neuron_optimum() -> [f64; 2] {
    let logit = |y: f64| (y / (1.0 - y)).ln();
    let [(x0, y0), (x1, y1)] = NEURON_DATA;
    let w = (logit(y1) - logit(y0)) / (x1 - x0);
    [w, logit(y0) - w * x0]
}

/// The landmarks of `x·cos(πx)` on [−2, 2], computed from `f′` by a scan and bisection: its
/// two interior minima and the maxima that bound their basins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct XCosMinima {
    /// The shallower minimum, near −0.274.
    pub local: f64,
    /// The deeper minimum, near 1.090.
    pub global: f64,
    /// `[lo, hi]` of each basin: between the maxima on either side of the minimum.
    pub local_basin: [f64; 2],
    pub global_basin: [f64; 2],
}

/// Where a point of `x·cos(πx)` lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basin {
    Local,
    Global,
    Neither,
}

impl XCosMinima {
    pub fn compute() -> XCosMinima {
        // The zeros of f′ on a range a little wider than [−2, 2], so that the maxima bounding
        // the basins of the interior minima are found too. Minima and maxima alternate.
        let (lo, hi, cells) = (-2.5, 2.5, 5000);
        let grid = |i: usize| lo + (hi - lo) * i as f64 / cells as f64;
        let zeros: Vec<f64> = (0..cells)
            .map(|i| (grid(i), grid(i + 1)))
            .filter(|&(a, b)| xcos_slope(a).signum() != xcos_slope(b).signum())
            .map(|(a, b)| bisect(xcos_slope, a, b))
            .collect();
        let f = xcos_value;
        let mut minima: Vec<(f64, [f64; 2])> = zeros
            .windows(3)
            .filter(|w| w[1].abs() < 2.0 && f(w[1]) < f(w[0]))
            .map(|w| (w[1], [w[0], w[2]]))
            .collect();
        // Shallower first.
        minima.sort_by(|a, b| f(b.0).total_cmp(&f(a.0)));
        let [(local, local_basin), (global, global_basin)] = minima[..] else {
            unreachable!("x·cos(πx) has two minima in (−2, 2), found {minima:?}");
        };
        XCosMinima {
            local,
            global,
            local_basin,
            global_basin,
        }
    }

    pub fn basin(&self, x: f64) -> Basin {
        let inside = |[lo, hi]: [f64; 2]| lo < x && x < hi;
        if inside(self.local_basin) {
            Basin::Local
        } else if inside(self.global_basin) {
            Basin::Global
        } else {
            Basin::Neither
        }
    }
}

/// A zero of `f` in `[a, b]`, where `f` changes sign, to full `f64` precision.
fn bisect(f: fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    let sign_a = f(a).signum();
    for _ in 0..100 {
        let mid = 0.5 * (a + b);
        if f(mid).signum() == sign_a {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}

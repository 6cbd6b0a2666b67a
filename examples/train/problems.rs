//! The problems the driver trains and the two training loops.
//!
//! Every gradient is analytic and written into a buffer allocated once, before the loop, as
//! are the optimizer state, the shuffled row order and (when asked for) the recorded losses:
//! the loops themselves allocate nothing.

use std::f64::consts::PI;
use std::str::FromStr;
use std::time::{Duration, Instant};

use fused_optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Asgd, Error, Lion, NAdam, Optimizer, RAdam, RmsProp,
    Rprop, Sgd,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::data::Dataset;

/// The optimizers the driver compares: the crate's twelve types, with SGD shown plain, with
/// heavy-ball momentum and with Nesterov momentum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sgd,
    Momentum,
    Nesterov,
    Adagrad,
    RmsProp,
    Adam,
    AdamW,
    Adamax,
    NAdam,
    RAdam,
    Adadelta,
    Rprop,
    Asgd,
    Lion,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Sgd,
        Kind::Momentum,
        Kind::Nesterov,
        Kind::Adagrad,
        Kind::RmsProp,
        Kind::Adam,
        Kind::AdamW,
        Kind::Adamax,
        Kind::NAdam,
        Kind::RAdam,
        Kind::Adadelta,
        Kind::Rprop,
        Kind::Asgd,
        Kind::Lion,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Sgd => "sgd",
            Kind::Momentum => "momentum",
            Kind::Nesterov => "nesterov",
            Kind::Adagrad => "adagrad",
            Kind::RmsProp => "rmsprop",
            Kind::Adam => "adam",
            Kind::AdamW => "adamw",
            Kind::Adamax => "adamax",
            Kind::NAdam => "nadam",
            Kind::RAdam => "radam",
            Kind::Adadelta => "adadelta",
            Kind::Rprop => "rprop",
            Kind::Asgd => "asgd",
            Kind::Lion => "lion",
        }
    }

    /// Whether the crate's type has a `momentum` hyper-parameter.
    fn has_momentum(self) -> bool {
        matches!(
            self,
            Kind::Sgd | Kind::Momentum | Kind::Nesterov | Kind::RmsProp
        )
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(name: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| {
                let names = Kind::ALL.map(Kind::name).join(", ");
                format!("unknown optimizer (expected one of {names})")
            })
    }
}

/// An optimizer with the hyper-parameters the driver sets; the others keep the crate's
/// (PyTorch's) defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    pub kind: Kind,
    pub lr: f64,
    /// Used by the kinds that have momentum (SGD's and RMSprop's).
    pub momentum: f64,
    /// L2 penalty; decoupled for AdamW and Lion; Rprop has none.
    pub weight_decay: f64,
}

impl Setup {
    /// `kind` with learning rate `lr`, momentum 0.9 for `momentum` and `nesterov` (0 for the
    /// others) and the crate's default weight decay (0, or 0.01 for AdamW and 1e-3 for Lion).
    pub fn new(kind: Kind, lr: f64) -> Setup {
        let momentum = match kind {
            Kind::Momentum | Kind::Nesterov => 0.9,
            _ => 0.0,
        };
        let weight_decay = match kind {
            Kind::AdamW => AdamW::default().weight_decay,
            Kind::Lion => Lion::default().weight_decay,
            _ => 0.0,
        };
        Setup {
            kind,
            lr,
            momentum,
            weight_decay,
        }
    }

    /// The crate's optimizer.
    pub fn build(&self) -> Box<dyn Optimizer> {
        let Setup {
            kind,
            lr,
            momentum,
            weight_decay,
        } = *self;
        match kind {
            Kind::Sgd | Kind::Momentum | Kind::Nesterov => Box::new(Sgd {
                lr,
                momentum,
                weight_decay,
                nesterov: kind == Kind::Nesterov,
                ..Sgd::default()
            }),
            Kind::Adagrad => Box::new(Adagrad {
                lr,
                weight_decay,
                ..Adagrad::default()
            }),
            Kind::RmsProp => Box::new(RmsProp {
                lr,
                momentum,
                weight_decay,
                ..RmsProp::default()
            }),
            Kind::Adam => Box::new(Adam {
                lr,
                weight_decay,
                ..Adam::default()
            }),
            Kind::AdamW => Box::new(AdamW {
                lr,
                weight_decay,
                ..AdamW::default()
            }),
            Kind::Adamax => Box::new(Adamax {
                lr,
                weight_decay,
                ..Adamax::default()
            }),
            Kind::NAdam => Box::new(NAdam {
                lr,
                weight_decay,
                ..NAdam::default()
            }),
            Kind::RAdam => Box::new(RAdam {
                lr,
                weight_decay,
                ..RAdam::default()
            }),
            Kind::Adadelta => Box::new(Adadelta {
                lr,
                weight_decay,
                ..Adadelta::default()
            }),
            // Rprop's `lr` is its initial step size; it has no weight decay.
            Kind::Rprop => Box::new(Rprop {
                lr,
                ..Rprop::default()
            }),
            Kind::Asgd => Box::new(Asgd {
                lr,
                weight_decay,
                ..Asgd::default()
            }),
            Kind::Lion => Box::new(Lion {
                lr,
                weight_decay,
                ..Lion::default()
            }),
        }
    }

    /// The hyper-parameters set, for the tables: `lr 0.1 momentum 0.9`.
    pub fn describe(&self) -> String {
        // `{:?}` rather than `{}`: 1e-5 rather than 0.00001.
        let mut text = format!("lr {:?}", self.lr);
        if self.kind.has_momentum() && self.momentum != 0.0 {
            text += &format!(" momentum {:?}", self.momentum);
        }
        if self.weight_decay != 0.0 && self.kind != Kind::Rprop {
            text += &format!(" wd {:?}", self.weight_decay);
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
    /// linear regression): the seed's rate for gradient descent, smaller ones for the
    /// optimizers that normalise their steps.
    pub fn toy_setup(self, kind: Kind) -> Setup {
        use Kind::*;
        let lr = match (self, kind) {
            // A factor of its self-tuned steps, which start at about √eps: PyTorch's 1.
            (_, Adadelta) => 1.0,
            (Problem::Neuron, RmsProp | Lion) => 0.01,
            (Problem::Neuron, Adam | AdamW | NAdam) => 0.1,
            (Problem::Neuron, _) => 1.0,
            (_, RmsProp) => 0.01,
            (_, _) => 0.1,
        };
        Setup::new(kind, lr)
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
/// loss (its largest curvature, see `Dataset::smoothness`) and the batches.
///
/// With full batches: plain gradient descent takes 1.25/L (it is stable below 2/L), and so
/// does ASGD (plain SGD with a slowly decaying rate, averaging only after a million steps);
/// with momentum 0.9 (heavy-ball or Nesterov) 0.25/L; the adaptive optimizers normalise
/// their steps, so theirs do not depend on L: Adagrad, Adamax and Adadelta 1 (Adadelta's is
/// a factor of its self-tuned steps), Adam, AdamW, NAdam and RAdam 0.5, Lion 0.01 (its
/// steps are ±lr, so it ends oscillating by about that much), RMSprop 0.01 (its steps do not
/// shrink near the optimum, so it ends in an oscillation of about its rate), and Rprop's
/// initial step size 0.01 (it adapts its step sizes itself).
///
/// With mini-batches the rate is scaled by √(rows / samples), the square-root rule for
/// noisier gradients, except Adagrad's (its accumulated squared gradients already shrink its
/// steps as they multiply), RMSprop's and Lion's (already small), Adadelta's (a factor, not a
/// step length) and Rprop's (an initial step size: it is a full-batch method and stalls with
/// mini-batches anyway, as noisy gradient signs keep shrinking its steps). Rates are rounded
/// to two significant digits, so that the printed rate reproduces the run.
pub fn linear_setup(kind: Kind, smoothness: f64, batching: Batching, samples: usize) -> Setup {
    let lr = match kind {
        Kind::Sgd => 1.25 / smoothness,
        Kind::Momentum | Kind::Nesterov => 0.25 / smoothness,
        Kind::Adagrad => 1.0,
        Kind::RmsProp => 0.01,
        Kind::Adam | Kind::AdamW => 0.5,
        Kind::NAdam | Kind::RAdam => 0.5,
        Kind::Adamax | Kind::Adadelta => 1.0,
        Kind::Rprop => 0.01,
        Kind::Asgd => 1.25 / smoothness,
        Kind::Lion => 0.01,
    };
    let scale = match kind {
        Kind::Adagrad | Kind::RmsProp | Kind::Adadelta | Kind::Rprop | Kind::Lion => 1.0,
        _ => (batching.rows(samples) as f64 / samples as f64).sqrt(),
    };
    Setup::new(kind, two_digits(lr * scale))
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
    let optimizer = setup.build();
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
    let optimizer = setup.build();
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

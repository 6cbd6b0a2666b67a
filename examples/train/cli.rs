//! The command line: flags parsed by clap (derive), checked, and turned into a [`Config`].
//!
//! Every bad flag or value, including hyper-parameters the crate itself refuses, comes back
//! as a `clap::Error` with exit code 2, which [`render_error`] prints as one line and the
//! usage.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};
use fused_optim::Optimizer;

use crate::data::DataSpec;
use crate::problems::{Batching, Kind, Problem, Setup};

/// Trains small models with the fused-optim kernels and shows that every optimizer
/// converges.
#[derive(Debug, Parser)]
#[command(name = "train", allow_negative_numbers = true)]
struct Args {
    /// Problems, comma-separated: linear (least squares), xcos (x*cos(pi*x)), saddle (x^3),
    /// neuron (sigmoid neuron), or all
    #[arg(long, value_name = "NAMES", value_delimiter = ',', default_value = "linear",
          value_parser = problems)]
    problem: Vec<&'static [Problem]>,

    // The help texts that list optimizers are built from the registry (see `optimizer_help`).
    #[arg(long, value_name = "NAMES", value_delimiter = ',', help = optimizer_help())]
    optimizer: Vec<Kind>,

    /// Learning rate of every optimizer [default: tuned per optimizer and problem; see the
    /// tables]
    #[arg(long, value_parser = non_negative)]
    lr: Option<f64>,

    #[arg(long, value_parser = non_negative, help = field_help("momentum", "Momentum", ""))]
    momentum: Option<f64>,

    #[arg(long, value_parser = non_negative,
          help = field_help("weight_decay", "Weight decay", ", L2 or decoupled as each applies it"))]
    weight_decay: Option<f64>,

    /// Rows per step of linear regression: full, or a number (1 = per-sample SGD); batches
    /// are reshuffled each epoch
    #[arg(long, value_name = "N|full", default_value = "full", value_parser = batch_size)]
    batch_size: Batching,

    /// Epochs of linear regression, steps of a toy landscape [default: linear 1000 with
    /// full batches, 100 otherwise; xcos 100; saddle 100; neuron 1000]
    #[arg(long, value_name = "N", value_parser = up_to(1_000_000))]
    epochs: Option<usize>,

    /// Rows of the regression data
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = up_to(1_000_000))]
    samples: usize,

    /// Features of the regression data, each drawn from U(0, 1)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = up_to(100))]
    features: usize,

    /// Noise of the regression data: y = 3*(x_1 + ... + x_d) + U(0, NOISE)
    #[arg(long, default_value_t = 1.0, value_parser = non_negative_f32)]
    noise: f32,

    /// Seed of the data and of the mini-batch shuffles
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Write the loss at every step of every run to this CSV file
    /// (columns problem,optimizer,step,loss)
    #[arg(long, value_name = "PATH")]
    csv: Option<PathBuf>,
}

/// The most steps of a linear-regression run that `--csv` records.
const MAX_RECORDED_STEPS: usize = 10_000_000;

/// What to run, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub problems: Vec<Problem>,
    pub optimizers: Vec<Kind>,
    pub lr: Option<f64>,
    pub momentum: Option<f64>,
    pub weight_decay: Option<f64>,
    pub data: DataSpec,
    pub batching: Batching,
    pub epochs: Option<usize>,
    pub csv: Option<PathBuf>,
}

impl Config {
    /// Each selected optimizer with its `defaults` and the flags' overrides (each set where
    /// the optimizer has that hyper-parameter).
    pub fn setups(&self, defaults: impl Fn(Kind) -> Setup) -> Vec<Setup> {
        let overrides = [
            ("lr", self.lr),
            ("momentum", self.momentum),
            ("weight_decay", self.weight_decay),
        ];
        self.optimizers
            .iter()
            .map(|&kind| {
                overrides
                    .iter()
                    .fold(defaults(kind), |setup, &(field, value)| match value {
                        Some(value) => setup.with(field, value),
                        None => setup,
                    })
            })
            .collect()
    }

    /// Epochs (steps, for a toy landscape) to run `problem` for.
    pub fn epochs(&self, problem: Problem) -> usize {
        self.epochs
            .unwrap_or_else(|| problem.default_epochs(self.batching))
    }
}

/// Parses and checks the command line (`args` starts with the program name).
///
/// `--help` and `--version` also come back as errors, with exit code 0.
pub fn parse<I, T>(args: I) -> Result<Config, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = Args::try_parse_from(args)?;
    let optimizers = if args.optimizer.is_empty() {
        Kind::all()
    } else {
        args.optimizer
    };
    let config = Config {
        problems: unique(args.problem.concat()),
        optimizers: unique(optimizers),
        lr: args.lr,
        momentum: args.momentum,
        weight_decay: args.weight_decay,
        data: DataSpec {
            samples: args.samples,
            features: args.features,
            noise: args.noise,
            seed: args.seed,
        },
        batching: args.batch_size,
        epochs: args.epochs,
        csv: args.csv,
    };

    if config.problems.contains(&Problem::Linear) {
        let DataSpec {
            samples, features, ..
        } = config.data;
        if samples <= features {
            return Err(invalid(format!(
                "--samples ({samples}) must exceed --features ({features}) for the \
                 least-squares optimum to be unique"
            )));
        }
        let steps =
            config.epochs(Problem::Linear) * samples.div_ceil(config.batching.rows(samples));
        if config.csv.is_some() && steps > MAX_RECORDED_STEPS {
            return Err(invalid(format!(
                "--csv keeps every step in memory, at most {MAX_RECORDED_STEPS} per run; \
                 this one takes {steps} (use fewer --epochs or a larger --batch-size)"
            )));
        }
    }
    // The crate checks hyper-parameters itself; ask it now, so that a bad value or
    // combination from the flags is a usage error rather than a failure halfway through.
    for setup in config.setups(|kind| Setup::new(kind, 1.0)) {
        if let Err(err) = setup.optimizer.validate() {
            let name = setup.kind.name();
            return Err(invalid(format!(
                "invalid hyper-parameters for {name}: {err}"
            )));
        }
    }
    Ok(config)
}

/// A parse error as the driver prints it: clap's one-line message, then the usage.
pub fn render_error(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let message = text.lines().next().unwrap_or("error: invalid arguments");
    let usage = Args::command().render_usage();
    format!("{message}\n\n{usage}\n\nFor more information, try '--help'.\n")
}

/// `items` without repeats, in order.
fn unique<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    kept
}

fn invalid(message: String) -> clap::Error {
    Args::command().error(ErrorKind::ValueValidation, message)
}

/// `--optimizer`'s help: every kind, with its note from the tuning table.
fn optimizer_help() -> String {
    let names: Vec<String> = Kind::all()
        .into_iter()
        .map(|kind| match kind.tuning().note {
            Some(note) => format!("{} ({note})", kind.name()),
            None => kind.name().to_string(),
        })
        .collect();
    format!(
        "Optimizers, comma-separated: {} [default: all]",
        names.join(", ")
    )
}

/// The help of a flag that sets the hyper-parameter `field`: `what`, which kinds have it,
/// `how`, and its defaults.
fn field_help(field: &str, what: &str, how: &str) -> String {
    let mut having = Vec::new();
    let mut missing = Vec::new();
    let mut defaults: Vec<(f64, Vec<&str>)> = Vec::new();
    for kind in Kind::all() {
        match Setup::defaults(kind).get(field) {
            None => missing.push(kind.name()),
            Some(value) => {
                having.push(kind.name());
                match defaults.iter_mut().find(|(v, _)| *v == value) {
                    Some((_, kinds)) => kinds.push(kind.name()),
                    None => defaults.push((value, vec![kind.name()])),
                }
            }
        }
    }
    // Which kinds: the shorter list.
    let which = if missing.len() < having.len() {
        match missing.len() {
            0 => "every optimizer".to_string(),
            _ => format!("every optimizer but {}", and_list(&missing)),
        }
    } else {
        and_list(&having)
    };
    let zero = defaults.iter().position(|(value, _)| *value == 0.0);
    let mut parts: Vec<String> = defaults
        .iter()
        .enumerate()
        .filter(|&(i, _)| Some(i) != zero)
        .map(|(_, (value, kinds))| format!("{value:?} for {}", and_list(kinds)))
        .collect();
    if zero.is_some() {
        parts.push("0 otherwise".into());
    }
    format!("{what} of {which}{how} [default: {}]", parts.join(", "))
}

/// `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn problems(name: &str) -> Result<&'static [Problem], String> {
    match name {
        "all" => Ok(&Problem::ALL),
        _ => Problem::ALL
            .iter()
            .position(|problem| problem.name() == name)
            .map(|i| &Problem::ALL[i..=i])
            .ok_or_else(|| {
                let names = Problem::ALL.map(Problem::name).join(", ");
                format!("unknown problem (expected one of {names}, or all)")
            }),
    }
}

fn batch_size(text: &str) -> Result<Batching, String> {
    match (text, text.parse()) {
        ("full", _) => Ok(Batching::Full),
        (_, Ok(n)) if n > 0 => Ok(Batching::Mini(n)),
        _ => Err("expected a positive integer or 'full'".into()),
    }
}

/// A parser of integers in `1..=max`.
fn up_to(max: usize) -> impl Fn(&str) -> Result<usize, String> + Clone {
    move |text| match text.parse() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected an integer from 1 to {max}")),
    }
}

fn non_negative(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err("expected a finite number >= 0".into()),
    }
}

fn non_negative_f32(text: &str) -> Result<f32, String> {
    let x = non_negative(text)? as f32;
    if x.is_finite() {
        Ok(x)
    } else {
        Err("expected a number >= 0 that fits an f32".into())
    }
}

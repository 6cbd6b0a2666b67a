//! The training driver: trains small models with the crate's optimizers and prints tables
//! showing that each converges.
//!
//! ```text
//! cargo run --release --example train                      # linear regression, every optimizer
//! cargo run --release --example train -- --problem all    # and the toy landscapes
//! cargo run --release --example train -- --help
//! ```
//!
//! How the kernels are embedded: the caller owns every buffer. Each run allocates its
//! parameters, gradient and optimizer state (`optimizer.state_len(n)` floats, filled by
//! `init_state`) once, then loops: write the gradient into the buffer, call
//! `optimizer.step(t, params, grad, state)` with the 1-based step count `t`. See
//! `problems.rs`.

mod cli;
mod data;
mod problems;
mod report;

use std::error::Error;
use std::fs::File;
use std::io;
use std::path::Path;
use std::process::ExitCode;

use cli::Config;
use data::Dataset;
use problems::{Basin, Batching, Kind, Problem, Rate, Setup, Training, XCosMinima};
use report::{Series, Table, count, duration, fixed, sci};

fn main() -> ExitCode {
    let config = match cli::parse(std::env::args_os()) {
        Ok(config) => config,
        Err(err) if err.use_stderr() => {
            eprint!("{}", cli::render_error(&err));
            return ExitCode::from(2);
        }
        Err(help_or_version) => {
            let _ = help_or_version.print();
            return ExitCode::SUCCESS;
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: &Config) -> Result<(), Box<dyn Error>> {
    // Create the CSV file first, so that a bad path fails before the training.
    let csv_file = match &config.csv {
        Some(path) => Some((path, File::create(path).map_err(|e| cannot_write(path, e))?)),
        None => None,
    };
    let mut csv = Vec::new();
    for (i, &problem) in config.problems.iter().enumerate() {
        if i > 0 {
            println!();
        }
        match problem {
            Problem::Linear => linear(config, &mut csv)?,
            Problem::XCos => xcos(config, &mut csv)?,
            Problem::Saddle => saddle(config, &mut csv)?,
            Problem::Neuron => neuron(config, &mut csv)?,
        }
    }
    if let Some((path, file)) = csv_file {
        report::write_csv(file, &csv).map_err(|e| cannot_write(path, e))?;
        println!(
            "\nWrote the loss at every step of every run to {}.",
            path.display()
        );
    }
    Ok(())
}

fn cannot_write(path: &Path, err: io::Error) -> String {
    format!("cannot write {}: {err}", path.display())
}

/// Linear regression with every selected optimizer, against the least-squares optimum.
fn linear(config: &Config, csv: &mut Vec<Series>) -> Result<(), Box<dyn Error>> {
    let spec = &config.data;
    let data = Dataset::generate(spec);
    let optimum = data
        .least_squares()
        .ok_or("the normal equations are singular; use more samples")?;
    let best = data.loss(&optimum);
    let target = 1.01 * best;
    let smoothness = data.smoothness();
    let epochs = config.epochs(Problem::Linear);
    let steps_per_epoch = spec.samples.div_ceil(config.batching.rows(spec.samples));
    let training = Training {
        batching: config.batching,
        epochs,
        seed: spec.seed,
        record: config.csv.is_some(),
    };

    let (features, noise) = (spec.features, spec.noise);
    let (model, plural) = match features {
        1 => ("y = 3x".to_string(), ""),
        _ => (format!("y = 3(x_1 + ... + x_{features})"), "s"),
    };
    println!(
        "Linear regression: {} samples x {features} feature{plural}, x ~ U(0, 1), \
         {model} + U(0, {noise}) noise, seed {}",
        spec.samples, spec.seed
    );
    println!(
        "MSE with an intercept from w = b = 0; {}, {epochs} epochs ({} steps).",
        config.batching.describe(),
        epochs * steps_per_epoch
    );
    let (w, b) = optimum.split_at(features);
    println!(
        "Least-squares optimum (normal equations): w* = {}, b* = {:.4}, loss L* = {best:.6}",
        vector(w),
        b[0]
    );
    println!(
        "Smoothness of the loss (its largest curvature): L = {smoothness:.4}{}.\n",
        smoothness_rates()
    );

    let mut table = Table::new(
        &[
            "optimizer",
            "hyper-parameters",
            "final loss",
            "excess loss",
            "|w - w*|",
            "epochs to 1%",
            "steps to 1%",
            "time",
        ],
        &[0, 1],
    );
    let (mut reached, mut ended) = (0, 0);
    let setups = config
        .setups(|kind| problems::linear_setup(kind, smoothness, config.batching, spec.samples));
    for setup in &setups {
        let run = problems::train_linear(&data, setup, &training, target)?;
        let distance = run
            .params
            .iter()
            .zip(&optimum)
            .map(|(&p, &q)| (f64::from(p) - q).powi(2))
            .sum::<f64>()
            .sqrt();
        reached += usize::from(run.reached.is_some());
        ended += usize::from(run.loss <= target);
        table.row(vec![
            setup.kind.name().into(),
            setup.describe(),
            fixed(run.loss, 6),
            sci(run.loss - best),
            sci(distance),
            count(run.reached.map(|step| step.div_ceil(steps_per_epoch))),
            count(run.reached),
            duration(run.elapsed),
        ]);
        csv.push(Series {
            problem: "linear",
            label: setup.kind.name().into(),
            losses: run.losses,
        });
    }
    print!("{table}");
    println!(
        "\nexcess loss = final loss - L*; |w - w*| over every weight and the intercept; \
         'to 1%' = first epoch (step) with loss <= 1.01 L*."
    );
    for &(kind, when, note) in LINEAR_NOTES {
        if setups
            .iter()
            .any(|setup| setup.kind.name() == kind && when(setup, config.batching))
        {
            println!("{note}");
        }
    }
    if config.batching != Batching::Full {
        println!(
            "With mini-batches a constant learning rate leaves gradient noise: the loss comes \
             within 1% of L*, then fluctuates around it."
        );
    }
    let n = setups.len();
    println!(
        "{reached} of {n} optimizers come within 1% of the optimal loss; {ended} of {n} end there."
    );
    if reached < n {
        println!("The others need more --epochs (or another --lr) on this problem.");
    }
    Ok(())
}

/// Gradient descent on x·cos(πx): which minimum it finds, from where and with which
/// learning rate; then every selected optimizer from the local basin.
fn xcos(config: &Config, csv: &mut Vec<Series>) -> Result<(), Box<dyn Error>> {
    let minima = XCosMinima::compute();
    let steps = config.epochs(Problem::XCos);
    let describe = |name: &str, x: f64, [lo, hi]: [f64; 2]| {
        let f = problems::xcos_value(x);
        format!("{name} minimum x = {x:.4} (f = {f:.4}, basin ({lo:.3}, {hi:.3}))")
    };
    println!(
        "f(x) = x*cos(pi*x) on [-2, 2], {steps} steps; its minima, by bisection on f':\n{}\n{}\n",
        describe("local ", minima.local, minima.local_basin),
        describe("global", minima.global, minima.global_basin),
    );

    // The seed's experiment, "gd": plain gradient descent from either basin, and a sweep of
    // the learning rate from the local one; then every selected optimizer from there.
    let sgd = Kind::named("sgd").ok_or("the crate has no sgd")?;
    let gd = |lr| Setup::new(sgd, lr);
    let mut runs: Vec<(&str, Setup, f32)> = vec![
        ("gd", gd(0.1), 0.5),
        ("gd", gd(0.1), -1.0),
        ("gd", gd(0.01), -1.0),
        ("gd", gd(0.5), -1.0),
        ("gd", gd(1.0), -1.0),
        ("gd", gd(1.0005), -1.0),
    ];
    let setups = config.setups(|kind| Problem::XCos.toy_setup(kind));
    runs.extend(setups.iter().map(|setup| (setup.kind.name(), *setup, -1.0)));

    let mut table = Table::new(
        &[
            "run",
            "hyper-parameters",
            "x0",
            "steps",
            "final x",
            "f(x)",
            "enters global basin",
            "ends",
        ],
        &[0, 1, 7],
    );
    for (name, setup, x0) in runs {
        let run = problems::minimize(&problems::XCOS, &setup, &[x0], steps, None, true)?;
        let x = f64::from(run.params[0]);
        let entered = run
            .path
            .iter()
            .position(|&x| minima.basin(f64::from(x)) == Basin::Global);
        let near = |minimum: f64| (x - minimum).abs() < 1e-3;
        let ends = match minima.basin(x) {
            _ if run.steps < steps => format!("left [-2, 2] at step {}", run.steps),
            Basin::Local if near(minima.local) => "at the local minimum".into(),
            Basin::Global if near(minima.global) => "at the global minimum".into(),
            Basin::Local => "in the local basin, not settled".into(),
            Basin::Global => "in the global basin, not settled".into(),
            Basin::Neither => "between the basins".into(),
        };
        table.row(vec![
            name.into(),
            setup.describe(),
            format!("{x0:.1}"),
            run.steps.to_string(),
            fixed(x, 4),
            fixed(run.loss, 4),
            match entered {
                None => "never".into(),
                Some(0) => "starts there".into(),
                Some(step) => format!("at step {step}"),
            },
            ends,
        ]);
        csv.push(Series {
            problem: "xcos",
            label: format!("{name} {} x0 {x0}", setup.describe()),
            losses: run.losses,
        });
    }
    print!("{table}");
    println!(
        "\nFrom 0.5, gd with lr 0.1 finds the global minimum; from -1.0 it stays in the local \
         basin. A learning rate just above 1 throws it out of the local basin into the global \
         one (where it is far too large to settle)."
    );
    Ok(())
}

/// Every selected optimizer on x³ from x = 1: does it stall at the flat point or pass it?
fn saddle(config: &Config, csv: &mut Vec<Series>) -> Result<(), Box<dyn Error>> {
    let steps = config.epochs(Problem::Saddle);
    println!(
        "f(x) = x^3 on [-2, 2] from x = 1, {steps} steps: the gradient 3x^2 vanishes at the \
         saddle x = 0.\n"
    );
    let mut table = Table::new(
        &[
            "optimizer",
            "hyper-parameters",
            "steps",
            "final x",
            "f'(x)",
            "passes x = 0",
            "outcome",
        ],
        &[0, 1, 6],
    );
    for setup in config.setups(|kind| Problem::Saddle.toy_setup(kind)) {
        let run = problems::minimize(&problems::SADDLE, &setup, &[1.0], steps, None, true)?;
        let x = f64::from(run.params[0]);
        let crossed = run.path.iter().position(|&x| x < 0.0);
        let outcome = match crossed {
            None => "stalls at the saddle",
            Some(_) if run.steps < steps => "passes it, leaves [-2, 2]",
            Some(_) => "passes it",
        };
        table.row(vec![
            setup.kind.name().into(),
            setup.describe(),
            run.steps.to_string(),
            fixed(x, 4),
            sci(3.0 * x * x),
            crossed.map_or("never".into(), |step| format!("at step {step}")),
            outcome.into(),
        ]);
        csv.push(Series {
            problem: "saddle",
            label: setup.kind.name().into(),
            losses: run.losses,
        });
    }
    print!("{table}");
    Ok(())
}

/// The seed's sigmoid neuron: every selected optimizer from w = b = −2.
fn neuron(config: &Config, csv: &mut Vec<Series>) -> Result<(), Box<dyn Error>> {
    let epochs = config.epochs(Problem::Neuron);
    let [w_star, b_star] = problems::neuron_optimum();
    let target = 1e-4;
    println!(
        "Sigmoid neuron s(w*x + b) fitted to (0.5, 0.2) and (2.5, 0.9), loss sum of \
         (s - y)^2 / 2, from w = b = -2, {epochs} epochs.\nExact fit: w* = {w_star:.4}, \
         b* = {b_star:.4} (loss 0). {}\n",
        neuron_rates()
    );
    let mut table = Table::new(
        &[
            "optimizer",
            "hyper-parameters",
            "final loss",
            "w",
            "b",
            "epochs to 1e-4",
        ],
        &[0, 1],
    );
    for setup in config.setups(|kind| Problem::Neuron.toy_setup(kind)) {
        let run = problems::minimize(
            &problems::NEURON,
            &setup,
            &[-2.0, -2.0],
            epochs,
            Some(target),
            config.csv.is_some(),
        )?;
        table.row(vec![
            setup.kind.name().into(),
            setup.describe(),
            sci(run.loss),
            fixed(f64::from(run.params[0]), 4),
            fixed(f64::from(run.params[1]), 4),
            count(run.reached),
        ]);
        csv.push(Series {
            problem: "neuron",
            label: setup.kind.name().into(),
            losses: run.losses,
        });
    }
    print!("{table}");
    Ok(())
}

/// Notes printed under the linear-regression table for the optimizers among the runs (by kind
/// name, when the run is as given): what their results show about them.
type When = fn(&Setup, Batching) -> bool;
const LINEAR_NOTES: &[(&str, When, &str)] = &[
    (
        "adamw",
        |setup, _| setup.get("weight_decay").is_some_and(|wd| wd > 0.0),
        "adamw's decoupled weight decay pulls w towards 0; the pull fades only as its \
         squared-gradient average decays, so it approaches w* slowly.",
    ),
    (
        "lion",
        |_, _| true,
        "lion's steps are +-lr on every parameter: it ends oscillating about w* by about lr.",
    ),
    (
        "asgd",
        |_, _| true,
        "asgd decays the parameters by lambd = 1e-4 every step, which biases them by about \
         2e-3; it averages them only after t0 = 1e6 steps.",
    ),
    (
        "adadelta",
        |_, batching| batching == Batching::Full,
        "adadelta's self-tuned steps start at about sqrt(eps) = 1e-3 and do not shrink near \
         the optimum: with lr 1 it gets there, then slowly drifts away (lr 0.7 settles, after \
         about 1140 epochs).",
    ),
    (
        "rprop",
        |_, batching| batching != Batching::Full,
        "rprop is a full-batch method: with mini-batches the gradient's sign keeps flipping, \
         which keeps shrinking its step sizes, so it stalls.",
    ),
];

/// `; with full batches, sgd's and asgd's default rate is 1.25/L, ...`: the rates of the
/// tuning table that follow the smoothness (empty if none does).
fn smoothness_rates() -> String {
    let mut factors: Vec<(f64, Vec<String>)> = Vec::new();
    for kind in Kind::all() {
        if let Some(Rate::OverSmoothness(factor)) = kind.tuning().linear {
            let name = format!("{}'s", kind.name());
            match factors.iter_mut().find(|(f, _)| *f == factor) {
                Some((_, names)) => names.push(name),
                None => factors.push((factor, vec![name])),
            }
        }
    }
    let clauses: Vec<String> = factors
        .iter()
        .enumerate()
        .map(|(i, (factor, names))| {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let verb = if i == 0 { " default rate is" } else { "" };
            format!("{}{verb} {factor}/L", cli::and_list(&names))
        })
        .collect();
    match clauses.is_empty() {
        true => String::new(),
        false => format!("; with full batches, {}", clauses.join(", ")),
    }
}

/// Which rates the neuron uses: the seed's 1, less for the normalised and sign steps.
fn neuron_rates() -> String {
    let (mut less, mut untuned) = (Vec::new(), Vec::new());
    for kind in Kind::all() {
        if !kind.is_tuned() {
            untuned.push(kind.name());
        } else if Problem::Neuron.toy_setup(kind).lr() < 1.0 {
            less.push(kind.name());
        }
    }
    let mut text = match less.len() {
        0 => "The seed's eta = 1".to_string(),
        _ => format!(
            "The seed's eta = 1 for all but {}, whose normalised or sign steps need less",
            cli::and_list(&less)
        ),
    };
    if !untuned.is_empty() {
        text += &format!(
            "; {} run at their defaults (the driver has no rates for them)",
            cli::and_list(&untuned)
        );
    }
    text + "."
}

/// `[2.9812]`, or the first few entries of a long vector.
fn vector(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().take(6).map(|v| format!("{v:.4}")).collect();
    let more = if values.len() > 6 { ", ..." } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

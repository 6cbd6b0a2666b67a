//! The golden trajectories' shared half: the fixture parser, the replay through the public
//! API and the tolerance. Each optimizer's tests implement [`Golden`] and replay their
//! fixture, `tests/golden/<name>.txt`, recorded by `tests/golden/generate.py` (see its
//! docstring) from `torch.optim` 2.15.0 (CPU, `float32`, the `_single_tensor_*` functions),
//! or from optax 0.2.8 for Lion. No Python is needed here: the fixtures are parsed with `std`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use fused_optim::{Backend, Optimizer};

/// The `k` of the tolerance: for a value `x` (a parameter or a state element) after step `t`,
///
/// ```text
/// |ours − torch| ≤ k · t · ε · S · K,      k = 4,  ε = f32::EPSILON = 2⁻²³
/// ```
///
/// * `S` is the magnitude the value's rounding errors are relative to, per element: the
///   largest `|x|` so far (steps `0..=t`, ours and PyTorch's), and for state planes also the
///   largest input term so far ([`Golden::input_scale`]): with `G = |g| + wd · |p|` (`wd` the
///   L2 weight decay, 0 if none or decoupled, `p` before the step), `G` for the planes that
///   sum gradients linearly and `c · G²` for those that sum squares with weight `c`.
/// * `K` is 1, except for centered RMSprop, where it is the largest `v / (v − a²)` so far
///   (PyTorch's `square_avg` and `grad_avg`): the condition number of `√(v − a²)`, the
///   algorithm's sensitivity to a one-ulp difference in either.
///
/// Why the two differ at all: the crate rounds every product separately (no fused
/// multiply-add), while PyTorch's CPU build fuses the product and the sum in `add(alpha=)`,
/// `addcmul`, `lerp` and the weight-decay `add`, and its `f32` square root on the recording
/// machine is not always correctly rounded. Each such operation differs by at most half an
/// ulp of its terms, a value goes through a few per step, and the state carries the
/// differences from step to step: hence linear in `t`, relative to `S` rather than `|x|`
/// (a difference made when `x` was large stays when `x` later cancels to nearly 0). `k = 4`
/// is the smallest power of two that holds on the committed fixtures; docs/conventions.md
/// discusses the worst cases. With `--nocapture` every test prints how many values are
/// bit-identical and its worst deviations, with where they occurred.
pub const K_TOLERANCE: f64 = 4.0;

/// The relative spacing of `f32`: `2⁻²³`.
const EPS: f64 = f32::EPSILON as f64;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

/// One step of a case: the gradient given and PyTorch's values after the step.
pub struct Step {
    pub grad: Vec<f32>,
    pub params: Vec<f32>,
    /// PyTorch's state tensors, in the order of [`Case::planes`].
    pub state: Vec<Vec<f32>>,
    /// PyTorch's 0-d state tensors, in the order of [`Case::scalars`].
    pub scalars: Vec<f32>,
}

/// One trajectory.
pub struct Case {
    pub name: String,
    pub hp: BTreeMap<String, String>,
    /// PyTorch's state tensor names, in PyTorch's order.
    pub planes: Vec<String>,
    /// PyTorch's 0-d state tensors other than `step` (NAdam's `mu_product`, ASGD's `eta`
    /// and `mu`).
    pub scalars: Vec<String>,
    pub p0: Vec<f32>,
    pub steps: Vec<Step>,
}

pub struct Fixture {
    pub file: String,
    /// The library that recorded it: `torch 2.15.0+...` or `optax 0.2.8 (jax ...)`.
    pub library: String,
    pub capability: String,
    pub optimizer: String,
    pub cases: Vec<Case>,
}

/// Reads `tests/golden/<file>`; panics with the line on any malformed record.
pub fn load(file: &str) -> Fixture {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "golden", file]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (see tests/golden/generate.py)", path.display()));
    let mut fixture = Fixture {
        file: file.to_string(),
        library: String::new(),
        capability: String::new(),
        optimizer: String::new(),
        cases: Vec::new(),
    };
    for (number, line) in text.lines().enumerate() {
        let bad = |what: &str| -> ! { panic!("{file}:{}: {what}: {line:.80}", number + 1) };
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(' ').collect();
        let (tag, rest) = (fields[0], &fields[1..]);
        if tag == "torch" || tag == "optax" || tag == "capability" || tag == "optimizer" {
            let value = rest
                .first()
                .unwrap_or_else(|| bad("missing value"))
                .to_string();
            match tag {
                "torch" => fixture.library = format!("torch {value}"),
                // `optax <version> jax <version>`
                "optax" => fixture.library = format!("optax {}", rest.join(" ")),
                "capability" => fixture.capability = value,
                _ => fixture.optimizer = value,
            }
            continue;
        }
        if tag == "case" {
            fixture.cases.push(Case {
                name: rest
                    .first()
                    .unwrap_or_else(|| bad("unnamed case"))
                    .to_string(),
                hp: BTreeMap::new(),
                planes: Vec::new(),
                scalars: Vec::new(),
                p0: Vec::new(),
                steps: Vec::new(),
            });
            continue;
        }
        let case = fixture
            .cases
            .last_mut()
            .unwrap_or_else(|| bad("record outside a case"));
        let floats = |hex: &[&str]| -> Vec<f32> {
            hex.iter()
                .map(|h| match u32::from_str_radix(h, 16) {
                    Ok(bits) if h.len() == 8 => f32::from_bits(bits),
                    _ => bad("not an %08x float"),
                })
                .collect()
        };
        match tag {
            "hp" => {
                for pair in rest {
                    let (key, value) = pair.split_once('=').unwrap_or_else(|| bad("not k=v"));
                    case.hp.insert(key.to_string(), value.to_string());
                }
            }
            "planes" => case.planes = rest.iter().map(|s| s.to_string()).collect(),
            "scalars" => case.scalars = rest.iter().map(|s| s.to_string()).collect(),
            "p0" => case.p0 = floats(rest),
            "step" => {
                let t: usize = rest[0].parse().unwrap_or_else(|_| bad("step number"));
                if t != case.steps.len() + 1 {
                    bad("steps out of order");
                }
                case.steps.push(Step {
                    grad: Vec::new(),
                    params: Vec::new(),
                    state: Vec::new(),
                    scalars: Vec::new(),
                });
            }
            "x" => {
                let step = case
                    .steps
                    .last_mut()
                    .unwrap_or_else(|| bad("before `step`"));
                if case.scalars.get(step.scalars.len()).map(String::as_str) != Some(rest[0]) {
                    bad("scalar out of order");
                }
                match floats(&rest[1..])[..] {
                    [x] => step.scalars.push(x),
                    _ => bad("a scalar is one float"),
                }
            }
            "g" | "p" | "s" => {
                let n = case.p0.len();
                let step = case
                    .steps
                    .last_mut()
                    .unwrap_or_else(|| bad("before `step`"));
                let values = if tag == "s" {
                    if case.planes.get(step.state.len()).map(String::as_str) != Some(rest[0]) {
                        bad("state tensor out of order");
                    }
                    floats(&rest[1..])
                } else {
                    floats(rest)
                };
                if values.len() != n {
                    bad("wrong length");
                }
                match tag {
                    "g" => step.grad = values,
                    "p" => step.params = values,
                    _ => step.state.push(values),
                }
            }
            "end" => {
                let complete = |s: &Step| {
                    s.grad.len() == case.p0.len()
                        && s.params.len() == case.p0.len()
                        && s.state.len() == case.planes.len()
                        && s.scalars.len() == case.scalars.len()
                };
                if case.p0.is_empty() || case.steps.is_empty() || !case.steps.iter().all(complete) {
                    bad("incomplete case");
                }
            }
            _ => bad("unknown record"),
        }
    }
    assert!(
        !fixture.library.is_empty() && !fixture.optimizer.is_empty() && !fixture.cases.is_empty(),
        "{file}: no header or no cases"
    );
    fixture
}

/// A case's hyper-parameters; remembers which were read, so none goes unused.
pub struct Hp<'a> {
    pub case: &'a Case,
    used: BTreeSet<&'static str>,
}

impl<'a> Hp<'a> {
    pub fn new(case: &'a Case) -> Self {
        Hp {
            case,
            used: BTreeSet::new(),
        }
    }

    pub fn raw(&mut self, key: &'static str) -> &'a str {
        self.used.insert(key);
        self.case
            .hp
            .get(key)
            .unwrap_or_else(|| panic!("{}: no hyper-parameter {key}", self.case.name))
    }

    pub fn float(&mut self, key: &'static str) -> f64 {
        let name = &self.case.name;
        let raw = self.raw(key);
        raw.parse()
            .unwrap_or_else(|_| panic!("{name}: {key}={raw} is not a number"))
    }

    pub fn flag(&mut self, key: &'static str) -> bool {
        match self.raw(key) {
            "0" => false,
            "1" => true,
            other => panic!("{}: {key}={other} is not 0 or 1", self.case.name),
        }
    }

    pub fn pair(&mut self, key: &'static str) -> (f64, f64) {
        let name = &self.case.name;
        let raw = self.raw(key);
        let parse = |s: &str| -> f64 {
            s.parse()
                .unwrap_or_else(|_| panic!("{name}: {key}={raw} is not a pair"))
        };
        let (a, b) = raw
            .split_once(',')
            .unwrap_or_else(|| panic!("{name}: {key}={raw} is not a pair"));
        (parse(a), parse(b))
    }

    /// Panics if the case has a hyper-parameter that was not read.
    pub fn finish(self) {
        for key in self.case.hp.keys() {
            assert!(
                self.used.contains(key.as_str()),
                "{}: hyper-parameter {key} not understood",
                self.case.name
            );
        }
    }
}

/// An optimizer built from a case's hyper-parameters.
pub trait Golden: Optimizer + Default + PartialEq + std::fmt::Debug + Sized {
    /// PyTorch's class name, as the fixture's `optimizer` line gives it.
    const TORCH: &'static str;

    fn from_hp(hp: &mut Hp) -> Self;

    /// The L2 weight decay (added to the gradient), 0 if none or decoupled.
    fn l2(&self) -> f64;

    /// The part of `S` that comes from the step's input for state plane `plane`, given
    /// `gradient = |g| + l2 · |p|` and `param`, the largest `|p|` so far: `gradient` for the
    /// planes that sum gradients linearly, `c · gradient²` for those that sum squares with
    /// weight `c`, `param` for ASGD's average of the parameters, 0 for the others.
    fn input_scale(&self, plane: &str, gradient: f64, param: f64) -> f64;

    /// The crate's value of PyTorch's 0-d state tensor `name` after step `t` (NAdam's
    /// `mu_product`, ASGD's `eta` and `mu`), compared bit for bit.
    fn scalar(&self, name: &str, t: u64) -> f32 {
        panic!("{self:?} keeps no scalar {name} (step {t})")
    }
}

// ---------------------------------------------------------------------------------------
// Replay and comparison
// ---------------------------------------------------------------------------------------

/// Where a value sits in the fixtures.
fn place(case: &Case, t: usize, what: &str, j: usize, ours: f32, torch: f32) -> String {
    format!(
        "{} step {t} {what}[{j}]: ours {ours:e} ({:08x}), torch {torch:e} ({:08x})",
        case.name,
        ours.to_bits(),
        torch.to_bits()
    )
}

/// The spacing of `f32` just above `|x|`.
fn ulp(x: f32) -> f64 {
    let bits = x.abs().to_bits();
    f64::from(f32::from_bits(bits + 1)) - f64::from(f32::from_bits(bits))
}

/// What one optimizer's fixture gave.
#[derive(Default)]
struct Report {
    cases: usize,
    values: usize,
    identical: usize,
    worst_ulps: (f64, String),
    worst_relative: (f64, String),
    /// `|ours − torch| / (t · ε · S · K)`, to compare with [`K_TOLERANCE`].
    worst_ratio: (f64, String),
    largest_kappa: f64,
    /// 0-d state values compared (bit for bit).
    scalars: usize,
    /// Values outside the tolerance, and the first of them.
    failed: usize,
    failures: Vec<String>,
}

impl Report {
    fn record(&mut self, ours: f32, torch: f32, bound_unit: f64, at: impl Fn() -> String) {
        self.values += 1;
        if ours.to_bits() == torch.to_bits() {
            self.identical += 1;
            return;
        }
        let diff = (f64::from(ours) - f64::from(torch)).abs();
        let ratio = diff / bound_unit;
        // NaN anywhere fails: no fixture value is NaN.
        if ratio.is_nan() || ratio > K_TOLERANCE {
            self.failed += 1;
            if self.failures.len() < 20 {
                self.failures.push(format!(
                    "{}: |diff| = {diff:e} > {K_TOLERANCE} · {bound_unit:e}",
                    at()
                ));
            }
            return;
        }
        if diff == 0.0 {
            return; // +0 and −0
        }
        let larger = ours.abs().max(torch.abs());
        let ulps = diff / ulp(larger);
        let relative = diff / f64::from(larger);
        if ulps > self.worst_ulps.0 {
            self.worst_ulps = (ulps, at());
        }
        if relative > self.worst_relative.0 {
            self.worst_relative = (relative, at());
        }
        if ratio > self.worst_ratio.0 {
            self.worst_ratio = (ratio, at());
        }
    }
}

/// Replays `case` on `backend`; returns the final parameters and state (for the back-end
/// comparison).
fn replay<O: Golden>(
    opt: &O,
    case: &Case,
    backend: Backend,
    report: &mut Report,
) -> (Vec<f32>, Vec<f32>) {
    let n = case.p0.len();
    assert_eq!(
        opt.state_names(),
        case.planes.as_slice(),
        "{}: state planes (ours left, PyTorch's right)",
        case.name
    );
    let k = case.planes.len();
    let plane_index = |name: &str| case.planes.iter().position(|p| p == name);
    let centered = (plane_index("square_avg"), plane_index("grad_avg"));
    let l2 = opt.l2();

    let mut params = case.p0.clone();
    let mut state = vec![0.0_f32; opt.state_len(n)];
    opt.init_state(&mut state).expect("init_state");

    // S for the parameters and each plane, and K, per element.
    let mut scale = vec![vec![0.0_f64; n]; k + 1];
    let mut kappa = vec![1.0_f64; n];
    // |p| when the step begins (the larger of ours and PyTorch's).
    let mut p_before: Vec<f64> = case.p0.iter().map(|p| f64::from(p.abs())).collect();
    scale[0].clone_from(&p_before);

    for (i, step) in case.steps.iter().enumerate() {
        let t = i + 1;
        opt.step_with(backend, t as u64, &mut params, &step.grad, &mut state)
            .unwrap_or_else(|e| panic!("{} step {t}: {e}", case.name));

        for j in 0..n {
            let gradient = f64::from(step.grad[j].abs()) + l2 * p_before[j];
            p_before[j] = f64::from(params[j].abs().max(step.params[j].abs()));
            scale[0][j] = scale[0][j].max(p_before[j]);
            for plane in 0..k {
                let ours = state[plane * n + j].abs();
                let s = f64::from(ours.max(step.state[plane][j].abs())).max(opt.input_scale(
                    &case.planes[plane],
                    gradient,
                    scale[0][j],
                ));
                scale[plane + 1][j] = scale[plane + 1][j].max(s);
            }
            if let (Some(v), Some(a)) = centered {
                let (v, a) = (f64::from(step.state[v][j]), f64::from(step.state[a][j]));
                if v > 0.0 {
                    kappa[j] = kappa[j].max(v / (v - a * a));
                }
            }
        }

        let unit = |plane: usize, j: usize| t as f64 * EPS * scale[plane][j] * kappa[j];
        let ours_planes = std::iter::once(&params[..]).chain(state.chunks_exact(n));
        let torch_planes = std::iter::once(&step.params).chain(&step.state);
        for (plane, (ours, torch)) in ours_planes.zip(torch_planes).enumerate() {
            let what = if plane == 0 {
                "params"
            } else {
                &case.planes[plane - 1]
            };
            for (j, (&ours, &torch)) in ours.iter().zip(torch).enumerate() {
                report.record(ours, torch, unit(plane, j), || {
                    place(case, t, what, j, ours, torch)
                });
            }
        }
        for (name, &torch) in case.scalars.iter().zip(&step.scalars) {
            let ours = opt.scalar(name, t as u64);
            report.scalars += 1;
            if ours.to_bits() != torch.to_bits() {
                report.failed += 1;
                report.failures.push(format!(
                    "{} step {t} scalar {name}: ours {ours:e} ({:08x}), torch {torch:e} ({:08x})",
                    case.name,
                    ours.to_bits(),
                    torch.to_bits()
                ));
            }
        }
    }
    report.largest_kappa = report
        .largest_kappa
        .max(kappa.iter().copied().fold(1.0, f64::max));
    (params, state)
}

/// Replays every case of `file` on both back-ends, prints the report and fails on any value
/// outside the tolerance.
pub fn check<O: Golden>(file: &str) -> Fixture {
    let fixture = load(file);
    assert_eq!(fixture.optimizer, O::TORCH, "{file}: wrong optimizer");
    let mut report = Report::default();
    for case in &fixture.cases {
        let mut hp = Hp::new(case);
        let opt = O::from_hp(&mut hp);
        hp.finish();
        if case.name.contains("-defaults-") {
            assert_eq!(
                opt,
                O::default(),
                "{}: PyTorch's defaults (left) against ours",
                case.name
            );
        }
        let auto = replay(&opt, case, Backend::Auto, &mut report);
        let scalar = replay(&opt, case, Backend::Scalar, &mut report);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert!(
            bits(&auto.0) == bits(&scalar.0) && bits(&auto.1) == bits(&scalar.1),
            "{}: Backend::Auto and Backend::Scalar differ",
            case.name
        );
        report.cases += 1;
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "golden {} ({file}; {}, {}): {} cases, {} values compared on 2 back-ends, \
         {:.1} % bit-identical",
        O::TORCH,
        fixture.library,
        if fixture.capability.is_empty() {
            "CPU"
        } else {
            &fixture.capability
        },
        report.cases,
        report.values,
        100.0 * report.identical as f64 / report.values as f64
    );
    let _ = writeln!(
        out,
        "  worst ulps      {:>9.1}  {}",
        report.worst_ulps.0, report.worst_ulps.1
    );
    let _ = writeln!(
        out,
        "  worst relative  {:>9.2e}  {}",
        report.worst_relative.0, report.worst_relative.1
    );
    let _ = writeln!(
        out,
        "  worst |diff|/(t·ε·S·K) {:.3} (tolerance k = {K_TOLERANCE}, {:.0} % used)  {}",
        report.worst_ratio.0,
        100.0 * report.worst_ratio.0 / K_TOLERANCE,
        report.worst_ratio.1
    );
    if report.scalars > 0 {
        let _ = writeln!(
            out,
            "  {} per-step scalars ({}) bit-identical",
            report.scalars,
            fixture.cases[0].scalars.join(", ")
        );
    }
    if O::TORCH == "RMSprop" {
        let _ = writeln!(
            out,
            "  largest K = v/(v − a²) (centered) {:.1}",
            report.largest_kappa
        );
    }
    print!("{out}");
    assert!(
        report.failed == 0,
        "{} value(s) outside the tolerance, the first ones:\n{}",
        report.failed,
        report.failures.join("\n")
    );
    fixture
}

/// Asserts that a fixture exercises every option: every hyper-parameter but `fixed` takes at
/// least two values, and lengths, step counts and gradients span the grid.
pub fn assert_coverage(fixture: &Fixture, fixed: &[&str]) {
    let file = &fixture.file;
    let mut values: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut lengths = BTreeSet::new();
    let mut steps = BTreeSet::new();
    let (mut zeros, mut smallest, mut largest) = (0_usize, f32::INFINITY, 0.0_f32);
    for case in &fixture.cases {
        for (key, value) in &case.hp {
            values.entry(key).or_default().insert(value);
        }
        lengths.insert(case.p0.len());
        steps.insert(case.steps.len());
        for g in case.steps.iter().flat_map(|s| &s.grad) {
            if *g == 0.0 {
                zeros += 1;
            } else {
                smallest = smallest.min(g.abs());
                largest = largest.max(g.abs());
            }
        }
    }
    for (key, seen) in values.iter().filter(|(key, _)| !fixed.contains(key)) {
        assert!(
            seen.len() >= 2,
            "{file}: {key} only takes the value {seen:?}"
        );
    }
    for n in [1, 7, 17, 33, 65, 100] {
        assert!(lengths.contains(&n), "{file}: no case of length {n}");
    }
    assert!(
        steps.contains(&1) && steps.contains(&100),
        "{file}: steps {steps:?}"
    );
    assert!(zeros > 0, "{file}: no zero gradient");
    assert!(
        smallest < 1e-5 && largest > 1e2,
        "{file}: gradients span only {smallest:e} to {largest:e}"
    );
    assert!(
        fixture.cases.iter().any(|c| c.name.contains("-defaults-")),
        "{file}: no case with PyTorch's defaults"
    );
}

/// Both of PyTorch's lerp formulas for the first moment (weight `1 − β1` below 0.5 and from
/// 0.5) occur in `fixture`.
pub fn assert_both_lerp_forms(fixture: &Fixture) {
    let weights: BTreeSet<bool> = fixture
        .cases
        .iter()
        .map(|c| {
            1.0 - c.hp["betas"]
                .split(',')
                .next()
                .unwrap()
                .parse::<f64>()
                .unwrap()
                >= 0.5
        })
        .collect();
    assert_eq!(
        weights.len(),
        2,
        "{}: cases cover one lerp formula only",
        fixture.file
    );
}

//! The golden trajectories' shared half: the fixture parser and the exact replay. Each
//! optimizer's tests implement [`Golden`] and replay their fixture,
//! `tests/golden/<name>.txt`, recorded by `tests/golden/generate.py` (see its docstring) from
//! `torch.optim` 2.15.0 (CPU, `float32`, the `_single_tensor_*` functions), or from optax
//! 0.2.8 for Lion. No Python is needed here: the fixtures are parsed with `std`.
//!
//! The replay is exact. Every case runs free from `p0` on every available back-end, with the
//! hyper-parameters each step of the recording used (`set` records: schedules), and:
//!
//! * the back-ends agree bit for bit;
//! * for the optimizers without a square root (SGD, Adamax, Rprop, ASGD, Lion) every
//!   parameter, state value and scalar equals PyTorch's (optax's) bit for bit, at every step;
//! * for the others, PyTorch's CPU square root is MKL's and not IEEE's (one ulp off for about
//!   a sixth of the inputs), so the crate cannot equal PyTorch everywhere. The fixture lists
//!   every `(input, torch.sqrt(input))` pair of the recording that differs from the IEEE
//!   root, and the test proves that the root is the only difference: the independent
//!   reference of `exact.rs` with PyTorch's roots equals every recorded value bit for bit, and
//!   with IEEE's roots equals the crate bit for bit. How many values the roots change in the
//!   crate's trajectories is printed (run with `--nocapture`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use fused_optim::{AnyOptimizer, Backend, HyperParameter, Optimizer};

use super::exact;

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
    /// Hyper-parameters this step used that differ from the previous step's (a schedule):
    /// `set` records, as `hp` writes them.
    pub set: Vec<(String, String)>,
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
    /// Every square-root input of the recording whose `torch.sqrt` differs from the IEEE
    /// root, with PyTorch's root (bit patterns).
    pub sqrt_table: BTreeMap<u32, u32>,
    /// The `sqrt-table` line's counts: evaluations, distinct inputs, differing inputs.
    pub sqrt_counts: Option<(u64, u64, u64)>,
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
        sqrt_table: BTreeMap::new(),
        sqrt_counts: None,
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
        if tag == "sqrt-table" {
            let count = |key: &str| -> u64 {
                rest.iter()
                    .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| bad("sqrt-table counts"))
            };
            fixture.sqrt_counts =
                Some((count("evaluations"), count("distinct"), count("differing")));
            continue;
        }
        if tag == "sqrt" {
            for pair in rest {
                let parsed = pair.split_once(':').and_then(|(i, o)| {
                    Some((
                        u32::from_str_radix(i, 16).ok()?,
                        u32::from_str_radix(o, 16).ok()?,
                    ))
                });
                let (input, output) = parsed.unwrap_or_else(|| bad("not in:out"));
                fixture.sqrt_table.insert(input, output);
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
                    set: Vec::new(),
                });
            }
            "set" => {
                let step = case
                    .steps
                    .last_mut()
                    .unwrap_or_else(|| bad("before `step`"));
                for pair in rest {
                    let (key, value) = pair.split_once('=').unwrap_or_else(|| bad("not k=v"));
                    step.set.push((key.to_string(), value.to_string()));
                }
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
    if let Some((_, _, differing)) = fixture.sqrt_counts {
        assert_eq!(
            fixture.sqrt_table.len() as u64,
            differing,
            "{file}: sqrt table length"
        );
    }
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
pub trait Golden:
    Optimizer + Default + PartialEq + std::fmt::Debug + Sized + Copy + Into<AnyOptimizer>
{
    /// PyTorch's class name, as the fixture's `optimizer` line gives it.
    const TORCH: &'static str;

    fn from_hp(hp: &mut Hp) -> Self;
}

// ---------------------------------------------------------------------------------------
// Replay and comparison
// ---------------------------------------------------------------------------------------

/// The parameters and the whole state buffer (planes, then scalars) after each step.
type Trajectory = Vec<(Vec<f32>, Vec<f32>)>;

/// Sets hyper-parameter `key` (a field name) from its fixture text.
fn set(optimizer: &mut AnyOptimizer, key: &str, value: &str) {
    let mut found = false;
    optimizer.hyper_parameters(&mut |name, field| {
        if name != key {
            return;
        }
        found = true;
        let real = |s: &str| -> f64 { s.parse().unwrap_or_else(|_| panic!("{key}={value}")) };
        match field {
            HyperParameter::Real(x) => *x = real(value),
            HyperParameter::Pair(x) => {
                let (a, b) = value.split_once(',').expect("a pair");
                *x = (real(a), real(b));
            }
            HyperParameter::Flag(x) => *x = value == "1",
            _ => panic!("{key}: unknown kind"),
        }
    });
    assert!(found, "set {key}: no such hyper-parameter");
}

/// Runs `case` from `p0` with `step`, applying the case's `set` records before their steps.
fn trajectory(
    optimizer: AnyOptimizer,
    case: &Case,
    mut step: impl FnMut(&AnyOptimizer, u64, &mut [f32], &[f32], &mut [f32]),
) -> Trajectory {
    let mut optimizer = optimizer;
    let mut params = case.p0.clone();
    let mut state = vec![0.0_f32; optimizer.state_len(params.len())];
    optimizer.init_state(&mut state).expect("init_state");
    let mut out = Vec::with_capacity(case.steps.len());
    for (i, recorded) in case.steps.iter().enumerate() {
        for (key, value) in &recorded.set {
            set(&mut optimizer, key, value);
        }
        step(
            &optimizer,
            i as u64 + 1,
            &mut params,
            &recorded.grad,
            &mut state,
        );
        out.push((params.clone(), state.clone()));
    }
    out
}

/// Values of `ours` whose bits differ from the recording (params, planes, scalars), with
/// descriptions of the first few.
fn differences(case: &Case, ours: &Trajectory, first: &mut Vec<String>) -> (usize, usize) {
    let n = case.p0.len();
    let k = case.planes.len();
    let (mut values, mut differing) = (0, 0);
    for (t, ((params, state), recorded)) in (1..).zip(ours.iter().zip(&case.steps)) {
        let named = std::iter::once(("params", &params[..], &recorded.params[..]))
            .chain((0..k).map(|i| {
                (
                    case.planes[i].as_str(),
                    &state[i * n..(i + 1) * n],
                    &recorded.state[i][..],
                )
            }))
            .chain(std::iter::once((
                "scalars",
                &state[k * n..],
                &recorded.scalars[..],
            )));
        for (what, ours, torch) in named {
            assert_eq!(ours.len(), torch.len(), "{} {what}: length", case.name);
            for (j, (o, r)) in ours.iter().zip(torch).enumerate() {
                values += 1;
                if o.to_bits() != r.to_bits() {
                    differing += 1;
                    if first.len() < 10 {
                        first.push(format!(
                            "{} step {t} {what}[{j}]: ours {o:e} ({:08x}), torch {r:e} ({:08x})",
                            case.name,
                            o.to_bits(),
                            r.to_bits()
                        ));
                    }
                }
            }
        }
    }
    (values, differing)
}

fn bits(trajectory: &Trajectory) -> Vec<Vec<u32>> {
    trajectory
        .iter()
        .map(|(p, s)| p.iter().chain(s).map(|x| x.to_bits()).collect())
        .collect()
}

/// Replays every case of `file` exactly (see the module docs) and prints what it compared.
pub fn check<O: Golden>(file: &str) -> Fixture {
    let fixture = load(file);
    assert_eq!(fixture.optimizer, O::TORCH, "{file}: wrong optimizer");
    for (&input, &output) in &fixture.sqrt_table {
        let ieee = f32::from_bits(input).sqrt().to_bits();
        assert!(
            output.abs_diff(ieee) == 1,
            "{file}: table root of {input:08x} is not one ulp from IEEE's"
        );
    }
    let torch_sqrt = |x: f32| {
        fixture
            .sqrt_table
            .get(&x.to_bits())
            .map_or_else(|| x.sqrt(), |&root| f32::from_bits(root))
    };
    let (mut cases, mut values, mut differing) = (0, 0, 0);
    let mut first = Vec::new();
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
        let any: AnyOptimizer = opt.into();
        assert_eq!(
            any.state_names(),
            case.planes.as_slice(),
            "{}: state planes",
            case.name
        );
        assert_eq!(
            any.scalar_names(),
            case.scalars.as_slice(),
            "{}: scalar state",
            case.name
        );
        let on = |backend: Backend| {
            trajectory(any, case, |o, t, p, g, s| {
                o.step_with(backend, t, p, g, s)
                    .unwrap_or_else(|e| panic!("{} step {t}: {e}", case.name));
            })
        };
        let ours = on(Backend::Scalar);
        for backend in super::backends() {
            assert!(
                bits(&on(backend)) == bits(&ours),
                "{}: {backend:?} differs from Scalar",
                case.name
            );
        }
        let (v, d) = differences(case, &ours, &mut first);
        (values, differing) = (values + v, differing + d);
        {
            let reference = |sqrt: &dyn Fn(f32) -> f32| {
                trajectory(any, case, |o, t, p, g, s| exact::step(o, t, p, g, s, sqrt))
            };
            let with_torch_roots = reference(&torch_sqrt);
            let mut why = Vec::new();
            let (_, d) = differences(case, &with_torch_roots, &mut why);
            assert!(
                d == 0,
                "{file}: the reference with PyTorch's roots differs from the recording:\n{}",
                why.join("\n")
            );
            assert!(
                bits(&reference(&|x: f32| x.sqrt())) == bits(&ours),
                "{}: the reference with IEEE roots differs from the crate",
                case.name
            );
        }
        cases += 1;
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "golden {} ({file}; {}, {}): {cases} cases, {values} values, {differing} differ from \
         the recording ({:.3} %); PyTorch's square roots differing from IEEE's: {}",
        O::TORCH,
        fixture.library,
        if fixture.capability.is_empty() {
            "CPU"
        } else {
            &fixture.capability
        },
        100.0 * differing as f64 / values as f64,
        fixture.sqrt_counts.map_or_else(
            || "none taken".to_string(),
            |(e, d, k)| format!("{k} of {d} distinct inputs ({e} evaluations)")
        )
    );
    print!("{out}");
    if !fixture.sqrt_table.is_empty() {
        assert!(
            exact::has_sqrt(&O::default().into()),
            "{file}: a sqrt table, but no square root"
        );
    } else {
        assert!(
            differing == 0,
            "{file}: {differing} value(s) differ from the recording, the first ones:\n{}",
            first.join("\n")
        );
    }
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

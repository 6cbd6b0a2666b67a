//! Learning-rate schedules against PyTorch, and their properties.
//!
//! # The fixture
//!
//! `tests/golden/schedules.txt` was recorded by `tests/golden/schedules.py` with PyTorch
//! 2.15.0 (`torch.optim.lr_scheduler`): for every schedule of the crate and 50 parameter sets
//! (PyTorch's defaults, typical settings and edge ones: exact powers of two, underflow into
//! subnormals and to zero, milestones at 0, repeated or unsorted, zero-length phases, factors
//! at the ends of their ranges, schedules shorter than the 1000 epochs so that periodic and
//! extrapolated parts are recorded), the learning rate for epochs 0 to 999, as
//! `scheduler.step()` produces it (what users see) and as PyTorch's closed form
//! (`_get_closed_form_lr`) gives it. It is parsed here with `std` alone.
//!
//! # Tolerances
//!
//! With `u = 2⁻⁵³` (the unit roundoff of `f64`) and `tiny = 2⁻¹⁰⁷⁴` (the smallest subnormal),
//! each comparison checks `|ours − torch| ≤ k · (u · m + tiny)`, where `m` is the magnitude
//! the rounding errors are relative to (the error model below) and `k` a constant per check,
//! the smallest power of two that holds with the fixtures. `S` is the schedule's scale, the
//! largest rate it moves between: `max(base_lr, eta_min)` for the cosines,
//! `max(max_lr, max_lr / div_factor)` for OneCycleLR, `base_lr · max(start_factor,
//! end_factor)` for LinearLR. The worst ratios are printed (run with `--nocapture`).
//!
//! * **Closed form** (and OneCycleLR's `step()`, which is a function of the step, not a
//!   recursion). The crate evaluates the same `f64` operations in the same order, so the
//!   bits are the same except where `libm`'s `pow` or `cos` rounds differently from glibc's
//!   (each within an ulp of the exact result, so up to two apart), and where LinearLR
//!   corrects PyTorch's rounding at the end of its ramp (by about an ulp of `S`; see
//!   [`LinearLr`]).
//!   - StepLR, MultiStepLR, ExponentialLR, `base_lr · gamma^n`: `m = |torch|`, `k = 4`. An ulp
//!     of `pow` (up to `2u` relative) and the product's rounding (`u`) make `3u` at most;
//!     observed: 3.0 (2 ulps), libm's `pow` being the one off.
//!   - The rest: `m = S`, `k = 2`. A one-ulp difference in a cosine (at most `u` absolute,
//!     `|cos| ≤ 1`) moves the result by `u · |base − η| / 2`, however small the result;
//!     observed: 1.63 for the cosines (20 ulps of a value near `eta_min`), 1.5 for LinearLR's
//!     corrected ends, and OneCycleLR's linear annealing bit for bit.
//! * **`step()`**. PyTorch updates the previous learning rate in place, rounding at each
//!   update, so the errors add up with the number `n` of updates so far, each within a few `u`
//!   relative (StepLR: `n = ⌊e / step_size⌋`; MultiStepLR: the number of distinct milestones
//!   `≤ e`; ExponentialLR: `n = e`; LinearLR: `n = min(e, total_iters)`; cosines: `n = e`):
//!   `m = (n + 1) · |torch|` for the powers, `m = (n + 1) · S` for LinearLR and the cosines,
//!   `k = 2` (observed: 0.31, 0.83 and 1.56; up to 26 ulps for ExponentialLR after 942
//!   updates). `CosineAnnealingLR`'s recursion loses more past its first minimum (`e > T_max`):
//!   its special case `lr + (base − η)(1 − cos(π/T))/2` and the next ratio
//!   `(1 + cos(π·e/T)) / (1 + cos(π·(e−1)/T))` start from `1 ± cos` terms that cancel down to
//!   about `(π/T)²/2`, and the first value past the minimum is rounded as `η + small`. That is
//!   a relative error of about `(T/π)² · (2 + |η| / |base − η|) · u` in `lr − η`, plus the
//!   argument's rounding in `cos(π·e/T)`, about `4e · u`, which the recursion carries up to
//!   the next minimum; so there `m += (T/π)² · (2·|base − η| + |η|) + 4e · |base − η|`.
//!   Observed: up to 38 020 ulps (`T_max = 333`, `eta_min = 2 · base_lr`, epoch 665), within
//!   the model.
//!
//! Documented differences, checked as such instead: `LinearLR` with `total_iters = 0`
//! (PyTorch's `step()` stays at `start_factor · base_lr`, its closed form divides by zero; the
//! crate gives `end_factor · base_lr`), and `SequentialLR`'s cosine after `total` (PyTorch's
//! rises again, [`WarmupCosine`] stays at `eta_min`). OneCycleLR raises past `total_steps` (and
//! `ZeroDivisionError` in a zero-length phase); those epochs are not in the fixture, and the
//! crate's values there are checked by unit tests below.

use std::collections::HashMap;
use std::f64::consts::PI;
use std::path::PathBuf;

use fused_optim::Error;
use fused_optim::schedule::{
    Anneal, CosineAnnealingLr, ExponentialLr, LinearLr, MultiStepLr, OneCycleLr, Schedule, StepLr,
    WarmupCosine,
};
use proptest::prelude::*;

/// Unit roundoff of `f64`.
const U: f64 = f64::EPSILON / 2.0;
/// The smallest subnormal `f64`.
const TINY: f64 = f64::from_bits(1);
/// `k` for the closed forms of the powers (StepLR, MultiStepLR, ExponentialLR).
const K_POW: f64 = 4.0;
/// `k` for the other closed forms (and OneCycleLR).
const K_CLOSED: f64 = 2.0;
/// `k` for PyTorch's `step()`.
const K_STEP: f64 = 2.0;
/// The schedules of the crate, by the name the fixture uses.
const KINDS: [&str; 7] = [
    "StepLr",
    "MultiStepLr",
    "ExponentialLr",
    "CosineAnnealingLr",
    "LinearLr",
    "OneCycleLr",
    "WarmupCosine",
];

// ---------------------------------------------------------------------------------------------
// The fixture.

/// One recorded schedule.
#[derive(Debug)]
struct Case {
    kind: String,
    name: String,
    params: HashMap<String, String>,
    /// MultiStepLR's milestones (empty otherwise).
    milestones: Vec<u64>,
    /// Why PyTorch stopped before 1000 epochs, if it did.
    stops: Option<String>,
    /// `(step(), closed form)` per epoch; `None`: PyTorch has no closed form there.
    values: Vec<(f64, Option<f64>)>,
}

impl Case {
    fn f(&self, key: &str) -> f64 {
        let v = &self.params[key];
        v.parse()
            .unwrap_or_else(|_| panic!("{}: {key}={v} is not a float", self.name))
    }

    fn u(&self, key: &str) -> u64 {
        let v = &self.params[key];
        v.parse()
            .unwrap_or_else(|_| panic!("{}: {key}={v} is not an integer", self.name))
    }

    fn id(&self) -> String {
        format!("{} {}", self.kind, self.name)
    }

    /// The crate's schedule for this case.
    fn schedule(&self) -> Box<dyn Schedule + '_> {
        match self.kind.as_str() {
            "StepLr" => Box::new(StepLr {
                base_lr: self.f("base_lr"),
                step_size: self.u("step_size"),
                gamma: self.f("gamma"),
            }),
            "MultiStepLr" => Box::new(MultiStepLr {
                base_lr: self.f("base_lr"),
                milestones: &self.milestones,
                gamma: self.f("gamma"),
            }),
            "ExponentialLr" => Box::new(ExponentialLr {
                base_lr: self.f("base_lr"),
                gamma: self.f("gamma"),
            }),
            "CosineAnnealingLr" => Box::new(CosineAnnealingLr {
                base_lr: self.f("base_lr"),
                t_max: self.u("t_max"),
                eta_min: self.f("eta_min"),
            }),
            "LinearLr" => Box::new(LinearLr {
                base_lr: self.f("base_lr"),
                start_factor: self.f("start_factor"),
                end_factor: self.f("end_factor"),
                total_iters: self.u("total_iters"),
            }),
            "OneCycleLr" => Box::new(OneCycleLr {
                max_lr: self.f("max_lr"),
                total_steps: self.u("total_steps"),
                pct_start: self.f("pct_start"),
                anneal_strategy: match self.params["anneal_strategy"].as_str() {
                    "cos" => Anneal::Cos,
                    "linear" => Anneal::Linear,
                    s => panic!("{}: anneal_strategy {s}", self.name),
                },
                div_factor: self.f("div_factor"),
                final_div_factor: self.f("final_div_factor"),
                three_phase: self.params["three_phase"] == "1",
            }),
            "WarmupCosine" => Box::new(WarmupCosine {
                base_lr: self.f("base_lr"),
                warmup: self.u("warmup"),
                start_factor: self.f("start_factor"),
                total: self.u("total"),
                eta_min: self.f("eta_min"),
            }),
            k => panic!("unknown schedule {k}"),
        }
    }

    /// The schedule's scale `S` (see the module docs).
    fn scale(&self) -> f64 {
        match self.kind.as_str() {
            "CosineAnnealingLr" | "WarmupCosine" => self.f("base_lr").abs().max(self.f("eta_min")),
            "LinearLr" => self.f("base_lr") * self.f("start_factor").max(self.f("end_factor")),
            "OneCycleLr" => self
                .f("max_lr")
                .max(self.f("max_lr") / self.f("div_factor")),
            _ => panic!("{}: no scale", self.id()),
        }
    }

    /// Whether the rounding errors are relative to the value itself (products of a power).
    fn multiplicative(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "StepLr" | "MultiStepLr" | "ExponentialLr"
        )
    }

    /// `(m, k)` for the closed form at `torch` (see the module docs).
    fn closed_model(&self, torch: f64) -> (f64, f64) {
        if self.multiplicative() {
            (torch.abs(), K_POW)
        } else {
            (self.scale(), K_CLOSED)
        }
    }

    /// `m` for `step()` at epoch `e` (see the module docs).
    fn step_model(&self, e: u64, torch: f64) -> f64 {
        match self.kind.as_str() {
            "StepLr" => (e / self.u("step_size") + 1) as f64 * torch.abs(),
            "MultiStepLr" => {
                let mut reached: Vec<u64> = self
                    .milestones
                    .iter()
                    .copied()
                    .filter(|&m| m <= e)
                    .collect();
                reached.sort_unstable();
                reached.dedup();
                (reached.len() + 1) as f64 * torch.abs()
            }
            "ExponentialLr" => (e + 1) as f64 * torch.abs(),
            "LinearLr" => (e.min(self.u("total_iters")) + 1) as f64 * self.scale(),
            "CosineAnnealingLr" => {
                let t = self.u("t_max");
                let mut m = (e + 1) as f64 * self.scale();
                if e > t {
                    let (base, eta) = (self.f("base_lr"), self.f("eta_min"));
                    let q = t as f64 / PI;
                    m += q * q * (2.0 * (base - eta).abs() + eta.abs())
                        + 4.0 * e as f64 * (base - eta).abs();
                }
                m
            }
            "WarmupCosine" => (e + 1) as f64 * self.scale(),
            "OneCycleLr" => self.scale(),
            k => panic!("unknown schedule {k}"),
        }
    }
}

/// The fixture's header and cases.
struct Fixture {
    torch: String,
    cases: Vec<Case>,
}

fn parse_hex(s: &str) -> f64 {
    assert_eq!(s.len(), 16, "bad bit pattern {s}");
    f64::from_bits(u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("bad hex {s}")))
}

fn load() -> Fixture {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "golden",
        "schedules.txt",
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut fixture = Fixture {
        torch: String::new(),
        cases: Vec::new(),
    };
    let mut case: Option<Case> = None;
    let mut epochs = 0usize;
    let mut closed_from: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let at = || format!("schedules.txt:{}", i + 1);
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match (key, case.as_mut()) {
            ("#", _) | ("", _) => {}
            ("torch", None) => fixture.torch = rest.to_string(),
            ("python", None) | ("libc", None) => {}
            ("schedule", None) => {
                let (kind, name) = rest.split_once(' ').expect("schedule <kind> <name>");
                case = Some(Case {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    params: HashMap::new(),
                    milestones: Vec::new(),
                    stops: None,
                    values: Vec::new(),
                });
            }
            ("torch", Some(_)) => {}
            ("param", Some(c)) => {
                for kv in rest.split(' ') {
                    let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("{}", at()));
                    c.params.insert(k.to_string(), v.to_string());
                }
                if let Some(m) = c.params.get("milestones") {
                    c.milestones = m
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(|s| s.parse().unwrap())
                        .collect();
                }
            }
            ("epochs", Some(_)) => epochs = rest.parse().unwrap(),
            ("stops", Some(c)) => c.stops = Some(rest.to_string()),
            ("closed", Some(_)) => {
                closed_from = match rest {
                    "yes" => Some(0),
                    "no" => None,
                    r => Some(
                        r.strip_prefix("from ")
                            .and_then(|e| e.parse().ok())
                            .unwrap_or_else(|| panic!("{}", at())),
                    ),
                }
            }
            ("v", Some(c)) => {
                let mut fields = rest.split(' ');
                let step = parse_hex(fields.next().unwrap());
                let mut diff = None;
                let mut repeat = 1;
                for f in fields {
                    if let Some(k) = f.strip_prefix('*') {
                        repeat = k.parse().unwrap();
                    } else {
                        diff = Some(f.parse::<i64>().unwrap_or_else(|_| panic!("{}", at())));
                    }
                }
                for _ in 0..repeat {
                    let e = c.values.len();
                    let closed = match closed_from {
                        Some(first) if e >= first => Some(match diff {
                            Some(d) => f64::from_bits(step.to_bits().wrapping_add(d as u64)),
                            None => step,
                        }),
                        _ => {
                            assert!(diff.is_none(), "{}: a closed form where none is", at());
                            None
                        }
                    };
                    c.values.push((step, closed));
                }
            }
            ("end", Some(_)) => {
                let c = case.take().unwrap();
                assert_eq!(c.values.len(), epochs, "{}: epochs of {}", at(), c.id());
                fixture.cases.push(c);
            }
            _ => panic!("{}: unexpected line {line:?}", at()),
        }
    }
    assert!(case.is_none(), "the fixture ends inside a case");
    fixture
}

// ---------------------------------------------------------------------------------------------
// Replaying the fixture.

/// The worst `|ours − torch| / (u·m + tiny)` of a check, and the largest difference in ulps
/// of the larger of the two values, for the report.
#[derive(Default)]
struct Worst {
    ratio: f64,
    at: String,
    ulps: f64,
    ulps_at: String,
}

/// The spacing of `f64`s at `x` (`2⁻¹⁰⁷⁴` for subnormals and 0).
fn ulp(x: f64) -> f64 {
    let x = x.abs();
    f64::from_bits(x.to_bits() + 1) - x
}

impl Worst {
    /// Records one comparison; an error if it is out of tolerance.
    fn check(
        &mut self,
        what: &str,
        case: &Case,
        e: u64,
        ours: f64,
        torch: f64,
        (m, k): (f64, f64),
    ) -> Option<String> {
        let same = ours.to_bits() == torch.to_bits() || ours == torch;
        let ratio = if same {
            0.0
        } else {
            (ours - torch).abs() / (U * m + TINY)
        };
        if ratio > self.ratio || (ratio.is_nan() && !self.ratio.is_nan()) {
            self.ratio = ratio;
            self.at = format!("{} epoch {e}", case.id());
        }
        let ulps = (ours - torch).abs() / ulp(ours.abs().max(torch.abs()));
        if ulps > self.ulps && !same {
            self.ulps = ulps;
            self.ulps_at = format!("{} epoch {e}", case.id());
        }
        if same || ratio <= k {
            None
        } else {
            Some(format!(
                "{} epoch {e}: {what}: ours {ours:e} ({:016x}), PyTorch {torch:e} ({:016x}): \
                 |diff| = {:.2} (u·m + tiny) > {k}",
                case.id(),
                ours.to_bits(),
                torch.to_bits(),
                ratio
            ))
        }
    }
}

/// Epochs where the crate deliberately differs from PyTorch (checked by unit tests).
fn documented_difference(case: &Case, e: u64) -> bool {
    match case.kind.as_str() {
        "LinearLr" => case.u("total_iters") == 0,
        "WarmupCosine" => e > case.u("total"),
        _ => false,
    }
}

/// Replays every case of `kind` against both PyTorch forms.
fn replay(kind: &str) {
    let fixture = load();
    assert!(
        fixture.torch.starts_with("2.15.0"),
        "the fixture was made with torch {}, not the pinned 2.15.0",
        fixture.torch
    );
    let cases: Vec<&Case> = fixture.cases.iter().filter(|c| c.kind == kind).collect();
    assert!(cases.len() >= 3, "{kind}: only {} cases", cases.len());
    let (mut closed, mut step) = (Worst::default(), Worst::default());
    let mut failures = Vec::new();
    let mut compared = 0;
    for case in &cases {
        let schedule = case.schedule();
        for (e, &(torch_step, torch_closed)) in case.values.iter().enumerate() {
            let e = e as u64;
            if documented_difference(case, e) {
                continue;
            }
            let ours = schedule.lr(e);
            if let Some(c) = torch_closed {
                let tolerance = case.closed_model(c);
                failures.extend(closed.check("closed form", case, e, ours, c, tolerance));
            }
            let tolerance = if kind == "OneCycleLr" {
                case.closed_model(torch_step)
            } else {
                (case.step_model(e, torch_step), K_STEP)
            };
            failures.extend(step.check("step()", case, e, ours, torch_step, tolerance));
            compared += 1;
        }
    }
    println!("{kind}: {} cases, {compared} epochs", cases.len());
    for (what, w) in [("closed form", &closed), ("step()", &step)] {
        if w.at.is_empty() {
            println!("  {what}: bit-identical");
        } else {
            println!(
                "  {what}: worst |diff| / (u·m + tiny) = {:.3} at {}; at most {:.0} ulps (at {})",
                w.ratio, w.at, w.ulps, w.ulps_at
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} epochs out of tolerance:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

#[test]
fn step_lr_matches_pytorch() {
    replay("StepLr");
}

#[test]
fn multi_step_lr_matches_pytorch() {
    replay("MultiStepLr");
}

#[test]
fn exponential_lr_matches_pytorch() {
    replay("ExponentialLr");
}

#[test]
fn cosine_annealing_lr_matches_pytorch() {
    replay("CosineAnnealingLr");
}

#[test]
fn linear_lr_matches_pytorch() {
    replay("LinearLr");
}

#[test]
fn one_cycle_lr_matches_pytorch() {
    replay("OneCycleLr");
}

#[test]
fn warmup_cosine_matches_pytorch() {
    replay("WarmupCosine");
}

/// The fixture covers every schedule, records 1000 epochs unless PyTorch stopped, and the
/// cases the unit tests rely on are there.
#[test]
fn fixture_coverage() {
    let fixture = load();
    for kind in KINDS {
        assert!(fixture.cases.iter().any(|c| c.kind == kind), "no {kind}");
    }
    for c in &fixture.cases {
        if c.stops.is_none() {
            assert_eq!(c.values.len(), 1000, "{}", c.id());
        } else {
            assert_eq!(c.kind, "OneCycleLr", "{} stops", c.id());
        }
    }
    let names: Vec<String> = fixture.cases.iter().map(Case::id).collect();
    for needed in [
        "LinearLr zero-iters",
        "OneCycleLr pct-1",
        "WarmupCosine w10-t200",
        "ExponentialLr underflow",
        "MultiStepLr zero-repeated-last",
        "CosineAnnealingLr t100-periodic",
    ] {
        assert!(names.iter().any(|n| n == needed), "no case {needed}");
    }
}

/// What PyTorch does where the crate documents a difference.
#[test]
fn documented_differences_from_pytorch() {
    let fixture = load();
    let case = |id: &str| fixture.cases.iter().find(|c| c.id() == id).unwrap();

    // LinearLR with total_iters = 0: PyTorch's step() stays at start_factor · base_lr and
    // has no closed form (a division by zero); the crate gives end_factor · base_lr.
    let c = case("LinearLr zero-iters");
    let (base, start, end) = (c.f("base_lr"), c.f("start_factor"), c.f("end_factor"));
    assert!(
        c.values
            .iter()
            .all(|&(s, cl)| s == base * start && cl.is_none())
    );
    let ours = c.schedule();
    assert!((0..1000).all(|e| ours.lr(e) == base * end));

    // SequentialLR's cosine rises again after `total`; WarmupCosine stays at eta_min.
    for c in fixture.cases.iter().filter(|c| c.kind == "WarmupCosine") {
        let (total, eta) = (c.u("total") as usize, c.f("eta_min"));
        let ours = c.schedule();
        let after = c.values.get(total + 1..).unwrap_or_default();
        for e in total + 1..c.values.len() {
            assert_eq!(ours.lr(e as u64), eta, "{}", c.id());
        }
        if !after.is_empty() {
            assert!(
                after.iter().any(|&(s, _)| s > eta),
                "{}: PyTorch's cosine rises again after total",
                c.id()
            );
        }
    }

    // OneCycleLR: PyTorch raises past total_steps (and in the zero-length last phase of
    // pct_start = 1); the crate holds the end of the cycle.
    for c in fixture.cases.iter().filter(|c| c.kind == "OneCycleLr") {
        let t = c.u("total_steps");
        let ours = c.schedule();
        match c.stops.as_deref() {
            Some(s) if s.starts_with("ValueError") => assert_eq!(c.values.len() as u64, t + 1),
            Some(s) => assert!(s.starts_with("ZeroDivisionError"), "{s}"),
            None => assert!(t >= 999, "{}", c.id()),
        }
        for e in [t + 1, t + 2, 10 * t + 7, u64::MAX] {
            assert_eq!(ours.lr(e).to_bits(), ours.lr(t - 1).to_bits(), "{}", c.id());
        }
    }
    let c = case("OneCycleLr pct-1");
    assert_eq!(c.values.len(), 100);
    let ours = c.schedule();
    let (max, min) = (
        c.f("max_lr"),
        c.f("max_lr") / c.f("div_factor") / c.f("final_div_factor"),
    );
    // Linear annealing at pct = 1: (min − max) · 1 + max.
    assert_eq!(
        ours.lr(100),
        (min - max) + max,
        "zero-length phase: its end rate"
    );
}

// ---------------------------------------------------------------------------------------------
// Unit tests of the edges the fixture cannot show.

#[test]
fn zero_lengths_never_divide() {
    let cos = CosineAnnealingLr {
        base_lr: 0.1,
        t_max: 0,
        eta_min: 0.01,
    };
    assert!((0..10).chain([u64::MAX]).all(|e| cos.lr(e) == 0.1));
    let step = StepLr {
        base_lr: 0.1,
        step_size: 0,
        gamma: 0.5,
    };
    assert_eq!(step.lr(u64::MAX), 0.1);
    let one = OneCycleLr::new(0.1, 0);
    assert!(
        [0, 1, u64::MAX]
            .iter()
            .all(|&e| one.lr(e) == 0.1 / 25.0 / 1e4)
    );
    // pct_start · total_steps = 1: the first phase is the step 0 alone (PyTorch: 0 / 0).
    let one = OneCycleLr {
        pct_start: 0.1,
        ..OneCycleLr::new(0.1, 10)
    };
    assert_eq!(one.lr(0), 0.1);
    // warmup = total: the warm-up, then eta_min.
    let wc = WarmupCosine {
        base_lr: 1.0,
        warmup: 4,
        start_factor: 0.5,
        total: 4,
        eta_min: 0.25,
    };
    let values: Vec<f64> = (0..6).map(|e| wc.lr(e)).collect();
    assert_eq!(values, [0.5, 0.625, 0.75, 0.875, 0.25, 0.25]);
    // total < warmup.
    let wc = WarmupCosine { total: 2, ..wc };
    assert_eq!(wc.lr(3), 0.875);
    assert_eq!(wc.lr(4), 0.25);
}

/// Cases proptest once found (their properties now state the rounding they allow).
#[test]
fn rounding_regressions() {
    // The closed form's epoch 0 is eta_min + (base_lr − eta_min): an ulp of eta_min away.
    let cos = CosineAnnealingLr {
        base_lr: 8.013299795797881e-5,
        t_max: 1,
        eta_min: 0.6465944565739045,
    };
    assert_ne!(cos.lr(0), cos.base_lr);
    assert!((cos.lr(0) - cos.base_lr).abs() <= f64::EPSILON * cos.eta_min);
    // PyTorch's closed form would end this ramp on a tiny negative rate; the crate ends on 0.
    let lin = LinearLr {
        base_lr: 1e-8,
        start_factor: 0.96875,
        end_factor: 0.0,
        total_iters: 6368840355127948,
    };
    let torch_end = 0.96875 + (0.0 - 0.96875) * 6368840355127948.0 / 6368840355127948.0;
    assert!(torch_end < 0.0);
    assert_eq!(lin.lr(lin.total_iters), 0.0);
    assert!(lin.lr(lin.total_iters - 1) >= 0.0);
    // The join of the warm-up and the cosine, with eta_min far above base_lr.
    let wc = WarmupCosine {
        base_lr: 0.38485472882615784,
        warmup: 1000,
        start_factor: 0.999999999996362,
        total: 1001,
        eta_min: 40.324193910114,
    };
    assert!(wc.lr(999) > wc.lr(1000));
    assert!(wc.lr(999) - wc.lr(1000) <= 2.0 * f64::EPSILON * wc.eta_min);
}

#[test]
fn one_cycle_phases() {
    let s = OneCycleLr::new(1.0, 100);
    // Cosine annealing at pct = 0: max_lr + (initial − max_lr) / 2 · 2, as PyTorch rounds it.
    assert_eq!(s.lr(0), 1.0 + (1.0 / 25.0 - 1.0) / 2.0 * 2.0);
    assert!((s.lr(0) - 1.0 / 25.0).abs() < 1e-16);
    assert_eq!(s.lr(29), 1.0); // pct_start · total_steps − 1
    assert_eq!(s.lr(99), 1.0 / 25.0 / 1e4);
    assert!(s.lr(100) > s.lr(99)); // the cosine, extrapolated
    let s3 = OneCycleLr {
        three_phase: true,
        ..s
    };
    assert_eq!(s3.lr(29), 1.0);
    // 2 · 0.3 · 100 − 2 = 58.00000000000001: step 58 is just before the end of phase 2.
    assert!((s3.lr(58) - 1.0 / 25.0).abs() < 1e-15);
    assert_eq!(s3.lr(99), 1.0 / 25.0 / 1e4);
}

#[test]
fn validation() {
    fn refuses(r: Result<(), Error>, name: &str) {
        match r {
            Err(Error::InvalidHyperParameter { name: n, .. }) => assert_eq!(n, name),
            other => panic!("expected {name} to be refused, got {other:?}"),
        }
    }
    let step = StepLr {
        base_lr: 0.1,
        step_size: 3,
        gamma: 0.5,
    };
    assert_eq!(step.validate(), Ok(()));
    refuses(
        StepLr {
            base_lr: -1.0,
            ..step
        }
        .validate(),
        "base_lr",
    );
    refuses(
        StepLr {
            base_lr: f64::NAN,
            ..step
        }
        .validate(),
        "base_lr",
    );
    refuses(
        StepLr {
            base_lr: f64::INFINITY,
            ..step
        }
        .validate(),
        "base_lr",
    );
    refuses(
        StepLr {
            step_size: 0,
            ..step
        }
        .validate(),
        "step_size",
    );
    refuses(StepLr { gamma: 1.5, ..step }.validate(), "gamma");
    refuses(
        StepLr {
            gamma: -0.5,
            ..step
        }
        .validate(),
        "gamma",
    );
    refuses(
        StepLr {
            gamma: f64::NAN,
            ..step
        }
        .validate(),
        "gamma",
    );

    let multi = MultiStepLr {
        base_lr: 0.1,
        milestones: &[5, 1],
        gamma: 0.1,
    };
    assert_eq!(multi.validate(), Ok(()));
    refuses(
        MultiStepLr {
            gamma: 2.0,
            ..multi
        }
        .validate(),
        "gamma",
    );
    refuses(
        MultiStepLr {
            base_lr: f64::NAN,
            ..multi
        }
        .validate(),
        "base_lr",
    );

    let exp = ExponentialLr {
        base_lr: 0.1,
        gamma: 0.9,
    };
    assert_eq!(exp.validate(), Ok(()));
    refuses(ExponentialLr { gamma: 1.01, ..exp }.validate(), "gamma");
    refuses(
        ExponentialLr {
            base_lr: -0.0 - 1e-9,
            ..exp
        }
        .validate(),
        "base_lr",
    );

    let cos = CosineAnnealingLr {
        base_lr: 0.1,
        t_max: 10,
        eta_min: 0.0,
    };
    assert_eq!(cos.validate(), Ok(()));
    refuses(CosineAnnealingLr { t_max: 0, ..cos }.validate(), "T_max");
    refuses(
        CosineAnnealingLr {
            eta_min: -1e-3,
            ..cos
        }
        .validate(),
        "eta_min",
    );
    refuses(
        CosineAnnealingLr {
            eta_min: f64::NAN,
            ..cos
        }
        .validate(),
        "eta_min",
    );

    let lin = LinearLr {
        base_lr: 0.1,
        start_factor: 1.0 / 3.0,
        end_factor: 1.0,
        total_iters: 5,
    };
    assert_eq!(lin.validate(), Ok(()));
    assert_eq!(
        LinearLr {
            total_iters: 0,
            ..lin
        }
        .validate(),
        Ok(())
    );
    refuses(
        LinearLr {
            start_factor: 0.0,
            ..lin
        }
        .validate(),
        "start_factor",
    );
    refuses(
        LinearLr {
            start_factor: 1.5,
            ..lin
        }
        .validate(),
        "start_factor",
    );
    refuses(
        LinearLr {
            end_factor: -0.1,
            ..lin
        }
        .validate(),
        "end_factor",
    );
    refuses(
        LinearLr {
            end_factor: f64::NAN,
            ..lin
        }
        .validate(),
        "end_factor",
    );

    let one = OneCycleLr::new(0.1, 100);
    assert_eq!(one.validate(), Ok(()));
    refuses(
        OneCycleLr {
            max_lr: -0.1,
            ..one
        }
        .validate(),
        "max_lr",
    );
    refuses(
        OneCycleLr {
            total_steps: 0,
            ..one
        }
        .validate(),
        "total_steps",
    );
    refuses(
        OneCycleLr {
            pct_start: 1.1,
            ..one
        }
        .validate(),
        "pct_start",
    );
    refuses(
        OneCycleLr {
            pct_start: f64::NAN,
            ..one
        }
        .validate(),
        "pct_start",
    );
    let three = OneCycleLr {
        three_phase: true,
        ..one
    };
    assert_eq!(
        OneCycleLr {
            pct_start: 0.5,
            ..three
        }
        .validate(),
        Ok(())
    );
    refuses(
        OneCycleLr {
            pct_start: 0.6,
            ..three
        }
        .validate(),
        "pct_start",
    );
    refuses(
        OneCycleLr {
            div_factor: 0.0,
            ..one
        }
        .validate(),
        "div_factor",
    );
    refuses(
        OneCycleLr {
            div_factor: 1e-320,
            ..one
        }
        .validate(),
        "div_factor",
    );
    refuses(
        OneCycleLr {
            final_div_factor: -1.0,
            ..one
        }
        .validate(),
        "final_div_factor",
    );
    refuses(
        OneCycleLr {
            final_div_factor: f64::INFINITY,
            ..one
        }
        .validate(),
        "final_div_factor",
    );

    let wc = WarmupCosine {
        base_lr: 0.1,
        warmup: 10,
        start_factor: 0.0,
        total: 100,
        eta_min: 0.0,
    };
    assert_eq!(wc.validate(), Ok(()));
    refuses(WarmupCosine { total: 10, ..wc }.validate(), "total");
    refuses(
        WarmupCosine {
            start_factor: 1.5,
            ..wc
        }
        .validate(),
        "start_factor",
    );
    refuses(
        WarmupCosine {
            eta_min: f64::INFINITY,
            ..wc
        }
        .validate(),
        "eta_min",
    );
    refuses(
        WarmupCosine {
            base_lr: f64::NAN,
            ..wc
        }
        .validate(),
        "base_lr",
    );
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// Epochs: small ones, ones near `near` (a schedule's length), and any `u64`.
fn epoch(near: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        0..2_000u64,
        (0..4u64).prop_map(move |d| near.saturating_sub(2).saturating_add(d)),
        any::<u64>(),
        Just(u64::MAX),
    ]
}

/// A valid learning rate: 0, small, typical or large.
fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 1e-8..1e-4, 1e-4..1.0, 1.0..1e3]
}

/// A valid decay factor in `[0, 1]`, with its ends and values near 1.
fn factor() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(1.0),
        0.0..=1.0,
        (1u32..60).prop_map(|k| 1.0 - libm::ldexp(1.0, -(k as i32)))
    ]
}

/// A valid length in epochs.
fn length() -> impl Strategy<Value = u64> {
    prop_oneof![1..20u64, 1..10_000u64, 1..u64::MAX, Just(u64::MAX)]
}

fn step_lr() -> impl Strategy<Value = StepLr> {
    (rate(), length(), factor()).prop_map(|(base_lr, step_size, gamma)| StepLr {
        base_lr,
        step_size,
        gamma,
    })
}

fn exponential_lr() -> impl Strategy<Value = ExponentialLr> {
    (rate(), factor()).prop_map(|(base_lr, gamma)| ExponentialLr { base_lr, gamma })
}

fn cosine_lr() -> impl Strategy<Value = CosineAnnealingLr> {
    (rate(), length(), rate()).prop_map(|(base_lr, t_max, eta_min)| CosineAnnealingLr {
        base_lr,
        t_max,
        eta_min,
    })
}

fn linear_lr() -> impl Strategy<Value = LinearLr> {
    (
        rate(),
        // PyTorch's (0, 1]: 0 becomes the smallest positive normal.
        factor().prop_map(|f| f.max(f64::MIN_POSITIVE)),
        factor(),
        prop_oneof![Just(0u64), length()],
    )
        .prop_map(
            |(base_lr, start_factor, end_factor, total_iters)| LinearLr {
                base_lr,
                start_factor,
                end_factor,
                total_iters,
            },
        )
}

fn one_cycle_lr() -> impl Strategy<Value = OneCycleLr> {
    (
        rate(),
        length(),
        factor(),
        prop_oneof![Just(Anneal::Cos), Just(Anneal::Linear)],
        prop_oneof![Just(25.0), Just(1.0), 1.0..1e4],
        prop_oneof![Just(1e4), Just(1.0), 1.0..1e6],
        any::<bool>(),
    )
        .prop_map(
            |(max_lr, total_steps, pct, anneal, div, final_div, three)| OneCycleLr {
                max_lr,
                total_steps,
                pct_start: if three { pct / 2.0 } else { pct },
                anneal_strategy: anneal,
                div_factor: div,
                final_div_factor: final_div,
                three_phase: three,
            },
        )
}

fn warmup_cosine() -> impl Strategy<Value = WarmupCosine> {
    (
        rate(),
        prop_oneof![Just(0u64), length()],
        factor(),
        length(),
        rate(),
    )
        .prop_map(
            |(base_lr, warmup, start_factor, more, eta_min)| WarmupCosine {
                base_lr,
                warmup: warmup.min(u64::MAX - 1),
                start_factor,
                total: warmup.min(u64::MAX - 1).saturating_add(more),
                eta_min,
            },
        )
}

/// Any `f64` (NaN, infinities, subnormals, negatives included).
fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        -2.0..2.0,
        // The edges of an f32 learning rate, and the f64 ones.
        Just(f32::MAX as f64),
        Just(3.4028235677973366e38),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(1e-300),
        Just(1.0 - f64::EPSILON / 2.0),
    ]
}

fn any_u64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(1), Just(u64::MAX), 0..100u64, any::<u64>()]
}

/// `a <= b` (or both equal), within `ulps` units in the last place of the larger.
fn le(a: f64, b: f64, ulps: f64) -> bool {
    a <= b + ulps * f64::EPSILON * a.abs().max(b.abs())
}

/// `lo <= x <= hi` within `ulps` units in the last place of the larger bound (the rates are
/// sums of terms as large as it).
fn within(x: f64, lo: f64, hi: f64, ulps: f64) -> bool {
    let slack = ulps * f64::EPSILON * lo.abs().max(hi.abs());
    lo - slack <= x && x <= hi + slack
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// `lr` never panics, whatever the parameters and the epoch (NaN, infinities, zero
    /// lengths, `u64::MAX`); overflow checks are on in tests. Where `validate` accepts the
    /// parameters, the rate is finite and `>= 0` at every epoch, as an `f32` too.
    #[test]
    fn never_panics(
        a in any_f64(), b in any_f64(), c in any_f64(), d in any_f64(),
        n in any_u64(), m in any_u64(), e in any_u64(), flags in any::<(bool, bool)>(),
        milestones in proptest::collection::vec(any_u64(), 0..5),
    ) {
        let schedules: [&dyn Schedule; 7] = [
            &StepLr { base_lr: a, step_size: n, gamma: b },
            &MultiStepLr { base_lr: a, milestones: &milestones, gamma: b },
            &ExponentialLr { base_lr: a, gamma: b },
            &CosineAnnealingLr { base_lr: a, t_max: n, eta_min: b },
            &LinearLr { base_lr: a, start_factor: b, end_factor: c, total_iters: n },
            &OneCycleLr {
                max_lr: a,
                total_steps: n,
                pct_start: b,
                anneal_strategy: if flags.0 { Anneal::Cos } else { Anneal::Linear },
                div_factor: c,
                final_div_factor: d,
                three_phase: flags.1,
            },
            &WarmupCosine { base_lr: a, warmup: n, start_factor: b, total: m, eta_min: c },
        ];
        for (i, s) in schedules.into_iter().enumerate() {
            let valid = s.validate().is_ok();
            for e in [e, 0, 1, n, u64::MAX - 1, u64::MAX] {
                let lr = s.lr(e);
                // OneCycleLr's documented exception: linear annealing extrapolated to
                // `e = total_steps` (no step uses it), as PyTorch's, may leave the cycle's
                // range (below 0, and past f32 when the last phase is shorter than a step);
                // it stays a finite f64.
                let extrapolated = i == 5 && !flags.0 && e == n;
                prop_assert!(
                    !valid
                        || (lr >= 0.0 && (lr as f32).is_finite())
                        || (extrapolated && lr.is_finite()),
                    "validated, yet the rate at epoch {} is {:e}", e, lr
                );
            }
        }
    }

    /// Valid parameters: finite, non-negative learning rates at any epoch, within the
    /// schedule's range.
    #[test]
    fn valid_parameters_give_finite_rates(
        step in step_lr(), exp in exponential_lr(), cos in cosine_lr(), lin in linear_lr(),
        one in one_cycle_lr(), wc in warmup_cosine(), e in epoch(1000), e2 in any::<u64>(),
        milestones in proptest::collection::vec(any_u64(), 0..8),
    ) {
        let multi = MultiStepLr { base_lr: step.base_lr, milestones: &milestones, gamma: step.gamma };
        let bounded: [(&dyn Schedule, f64, f64); 6] = [
            (&step, 0.0, step.base_lr),
            (&multi, 0.0, multi.base_lr),
            (&exp, 0.0, exp.base_lr),
            (&cos, cos.base_lr.min(cos.eta_min), cos.base_lr.max(cos.eta_min)),
            (&lin, lin.base_lr * lin.start_factor.min(lin.end_factor),
                lin.base_lr * lin.start_factor.max(lin.end_factor)),
            (&wc, (wc.base_lr * wc.start_factor).min(wc.eta_min), wc.base_lr.max(wc.eta_min)),
        ];
        for (s, lo, hi) in bounded {
            prop_assert_eq!(s.validate(), Ok(()));
            for e in [e, e2, 0, u64::MAX] {
                let lr = s.lr(e);
                prop_assert!(lr.is_finite() && lr >= 0.0, "{:?} at {}: {}", s.validate(), e, lr);
                prop_assert!(within(lr, lo, hi, 2.0), "{} not in [{}, {}]", lr, lo, hi);
            }
        }
        prop_assert_eq!(one.validate(), Ok(()));
        let initial = one.max_lr / one.div_factor;
        let (lo, hi) = (initial / one.final_div_factor, one.max_lr.max(initial));
        for e in [e, e2, 0, u64::MAX, one.total_steps - 1] {
            let lr = one.lr(e);
            prop_assert!(lr.is_finite());
            if e != one.total_steps {
                // (At total_steps PyTorch's formula extrapolates past the cycle.)
                prop_assert!(within(lr, lo, hi, 4.0), "{} not in [{}, {}] at {}", lr, lo, hi, e);
            }
        }
    }

    /// Decays never increase the learning rate.
    #[test]
    fn decays_are_monotone(step in step_lr(), exp in exponential_lr(), a in epoch(1000), d in 0..3u64) {
        let b = a.saturating_add(d);
        prop_assert!(step.lr(b) <= step.lr(a));
        prop_assert!(exp.lr(b) <= exp.lr(a), "{:?}: lr({}) = {:e} > lr({}) = {:e}", exp, b, exp.lr(b), a, exp.lr(a));
    }

    /// The cosine moves monotonically from base_lr to eta_min over [0, t_max], and is
    /// symmetric about t_max (periodic).
    #[test]
    fn cosine_is_monotone_on_each_half_period(cos in cosine_lr(), a in epoch(1000), d in 0..3u64) {
        let t = cos.t_max;
        let (a, b) = (a.min(t), a.saturating_add(d).min(t));
        let (x, y) = (cos.lr(a), cos.lr(b));
        if cos.base_lr >= cos.eta_min {
            prop_assert!(le(y, x, 0.0), "lr({}) = {:e} > lr({}) = {:e}", b, y, a, x);
        } else {
            prop_assert!(le(x, y, 0.0));
        }
    }

    /// LinearLR moves monotonically from start_factor to end_factor, then stays.
    #[test]
    fn linear_is_monotone(lin in linear_lr(), a in epoch(1000), d in 0..3u64) {
        let b = a.saturating_add(d);
        let (x, y) = (lin.lr(a), lin.lr(b));
        if lin.end_factor >= lin.start_factor {
            prop_assert!(x <= y);
        } else {
            prop_assert!(y <= x);
        }
        if a >= lin.total_iters {
            prop_assert_eq!(x, lin.lr(u64::MAX));
        }
    }

    /// WarmupCosine rises over the warm-up and falls afterwards (eta_min <= base_lr), and is
    /// made of LinearLr and CosineAnnealingLr bit for bit.
    #[test]
    fn warmup_cosine_is_linear_then_cosine(wc in warmup_cosine(), a in epoch(1000), d in 0..3u64) {
        let b = a.saturating_add(d);
        let (x, y) = (wc.lr(a), wc.lr(b));
        // At the join, the cosine's first value is eta_min + (base_lr − eta_min), which can
        // round an ulp of the larger below base_lr (and below the warm-up's last value).
        let slack = 2.0 * f64::EPSILON * wc.base_lr.max(wc.eta_min);
        if b < wc.warmup {
            prop_assert!(x <= y);
        } else if b == wc.warmup {
            prop_assert!(x <= y + slack);
        } else if a >= wc.warmup && wc.eta_min <= wc.base_lr {
            prop_assert!(y <= x);
        }
        let linear = LinearLr {
            base_lr: wc.base_lr,
            start_factor: wc.start_factor,
            end_factor: 1.0,
            total_iters: wc.warmup,
        };
        let cosine = CosineAnnealingLr {
            base_lr: wc.base_lr,
            t_max: wc.total - wc.warmup,
            eta_min: wc.eta_min,
        };
        if a < wc.warmup {
            prop_assert_eq!(x.to_bits(), linear.lr(a).to_bits());
        } else if a <= wc.total {
            prop_assert_eq!(x.to_bits(), cosine.lr(a - wc.warmup).to_bits());
        } else {
            prop_assert_eq!(x, wc.eta_min);
        }
    }

    /// OneCycleLR rises over its first phase and falls over the rest of a two-phase cycle,
    /// and holds the end of the cycle past total_steps.
    #[test]
    fn one_cycle_rises_then_falls(one in one_cycle_lr(), a in epoch(1000), d in 0..3u64) {
        let one = OneCycleLr { three_phase: false, ..one };
        let t = one.total_steps;
        let (a, b) = (a.min(t - 1), a.saturating_add(d).min(t - 1));
        let peak = one.pct_start * t as f64 - 1.0;
        let (x, y) = (one.lr(a), one.lr(b));
        if (b as f64) <= peak {
            prop_assert!(le(x, y, 0.0), "rising: lr({}) = {:e} > lr({}) = {:e}", a, x, b, y);
        } else if (a as f64) > peak {
            prop_assert!(le(y, x, 0.0), "falling: lr({}) = {:e} < lr({}) = {:e}", a, x, b, y);
        }
        if let Some(past) = t.checked_add(1 + d) {
            prop_assert_eq!(one.lr(past).to_bits(), one.lr(t - 1).to_bits());
        }
    }

    /// MultiStepLR: the order of the milestones does not matter, a milestone every
    /// `step_size` epochs is StepLR, and StepLR with `step_size = 1` is ExponentialLR, bit
    /// for bit.
    #[test]
    fn multi_step_equals_step_and_exponential(
        step in step_lr(), milestones in proptest::collection::vec(0..200u64, 0..8),
        e in 0..400u64, size in 1..50u64,
    ) {
        let multi = MultiStepLr { base_lr: step.base_lr, milestones: &milestones, gamma: step.gamma };
        let mut reversed = milestones.clone();
        reversed.reverse();
        let rev = MultiStepLr { milestones: &reversed, ..multi };
        prop_assert_eq!(multi.lr(e).to_bits(), rev.lr(e).to_bits());
        let every: Vec<u64> = (1..=400 / size).map(|k| k * size).collect();
        let as_multi = MultiStepLr { milestones: &every, ..multi };
        let as_step = StepLr { step_size: size, ..step };
        prop_assert_eq!(as_multi.lr(e).to_bits(), as_step.lr(e).to_bits());
        let exp = ExponentialLr { base_lr: step.base_lr, gamma: step.gamma };
        prop_assert_eq!(StepLr { step_size: 1, ..step }.lr(e).to_bits(), exp.lr(e).to_bits());
    }
}

/// The cases: parameters whose rate is infinite at some epoch are refused.
#[test]
fn rates_past_f32_are_refused() {
    let cosine = CosineAnnealingLr {
        base_lr: f64::MAX,
        t_max: 10,
        eta_min: 0.0,
    };
    assert_eq!(cosine.lr(0), f64::INFINITY); // what validate keeps a caller from
    assert!(matches!(
        cosine.validate(),
        Err(Error::InvalidHyperParameter {
            name: "base_lr",
            ..
        })
    ));
    let cosine = CosineAnnealingLr {
        base_lr: 0.0,
        t_max: 10,
        eta_min: f64::MAX,
    };
    assert!(matches!(
        cosine.validate(),
        Err(Error::InvalidHyperParameter {
            name: "eta_min",
            ..
        })
    ));
    let warm = WarmupCosine {
        base_lr: f64::MAX,
        warmup: 2,
        start_factor: 0.5,
        total: 10,
        eta_min: 0.0,
    };
    assert!(matches!(
        warm.validate(),
        Err(Error::InvalidHyperParameter {
            name: "base_lr",
            ..
        })
    ));
    let one = OneCycleLr {
        anneal_strategy: Anneal::Linear,
        ..OneCycleLr::new(f64::MAX, 1)
    };
    assert!(matches!(
        one.validate(),
        Err(Error::InvalidHyperParameter { name: "max_lr", .. })
    ));
    // div_factor < 1 lifts the initial rate past f32::MAX.
    let one = OneCycleLr {
        div_factor: 0.5,
        ..OneCycleLr::new(f32::MAX as f64, 10)
    };
    assert!(matches!(
        one.validate(),
        Err(Error::InvalidHyperParameter {
            name: "div_factor",
            ..
        })
    ));
    // The largest accepted rates stay finite everywhere.
    let cosine = CosineAnnealingLr {
        base_lr: f32::MAX as f64,
        t_max: 10,
        eta_min: f32::MAX as f64,
    };
    assert_eq!(cosine.validate(), Ok(()));
    assert!((0..=20).all(|e| (cosine.lr(e) as f32).is_finite()));
}

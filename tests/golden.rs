//! Golden trajectories: the crate against PyTorch itself.
//!
//! `tests/golden/{sgd,adagrad,rmsprop,adam,adamw,adamax,nadam,radam,adadelta,rprop,asgd}.txt`
//! were recorded by `tests/golden/generate.py` with `torch.optim` 2.15.0 (CPU, `float32`,
//! `foreach=False`, `fused=False`: the `_single_tensor_*` functions). Each case gives the
//! hyper-parameters (as PyTorch's `param_groups` held them), the initial parameters, and for
//! every step the gradient given and PyTorch's parameters and state tensors after the step. The
//! grid covers every option of every optimizer (the `*_coverage` checks below assert it),
//! lengths 1 to 100 (1, 3, 7, 17, 33, 65, 100), gradient scales from 1e-6 to 1e3 (also mixed
//! within one tensor), exact zeros, and 1 to 100 steps. No Python is needed here: the fixtures
//! are parsed with `std`.
//!
//! PyTorch has no Lion: `tests/golden/lion.txt` was recorded by the same script, on the same
//! inputs, from **optax 0.2.8** (`optax.lion`, jax 0.10.2 on CPU, `float32`, eager), whose
//! semantics the crate follows; optax's momentum `mu` is compared with the plane `exp_avg`.
//!
//! NAdam's `mu_product` and ASGD's `eta` and `mu`, which PyTorch keeps as 0-d `f32` state
//! tensors and the crate recomputes from `t` ([`NAdam::mu_product`], [`Asgd::eta`],
//! [`Asgd::mu`]), are compared **bit for bit** after every step.
//!
//! Each case is replayed through the public API ([`Optimizer::init_state`], then
//! [`Optimizer::step_with`]) on [`Backend::Auto`] and on [`Backend::Scalar`], which must agree
//! bit for bit. After every step the parameters and every state plane (matched to PyTorch's
//! by [`Optimizer::state_names`], which must list PyTorch's state tensors in PyTorch's order)
//! are compared with PyTorch's, element by element.
//!
//! # Tolerance
//!
//! For a value `x` (a parameter or a state element) after step `t`:
//!
//! ```text
//! |ours − torch| ≤ k · t · ε · S · K,      k = 4,  ε = f32::EPSILON = 2⁻²³
//! ```
//!
//! * `S` is the magnitude the value's rounding errors are relative to, per element: the
//!   largest `|x|` so far (steps `0..=t`, ours and PyTorch's), and for state planes also the
//!   largest input term so far: with `G = |g| + wd · |p|` (`wd` the L2 weight decay, 0 if
//!   none or decoupled, `p` before the step), `G` for the planes that sum gradients linearly
//!   (SGD's `momentum_buffer`, RMSprop's `grad_avg`, Adam's `exp_avg`) and `c · G²` for those
//!   that sum squares with weight `c` (Adagrad's `sum`, `c = 1`; RMSprop's `square_avg`,
//!   `1 − alpha`; Adam's `exp_avg_sq` and `max_exp_avg_sq`, `1 − β2`). RMSprop's
//!   `momentum_buffer` adds `g / d`, which its own magnitude bounds. Of the later optimizers:
//!   `exp_avg` and Rprop's `prev` take `G`, Adamax's `exp_inf` `G + eps`, NAdam's and RAdam's
//!   `exp_avg_sq` `(1 − β2) · G²`, Adadelta's `square_avg` `(1 − rho) · G²`; Adadelta's
//!   `acc_delta` (which adds `(1 − rho) · δ²`) and Rprop's `step_size` are bounded by their
//!   own magnitude, and ASGD's `ax`, an average of parameters, takes the largest `|p|` so
//!   far.
//! * `K` is 1, except for centered RMSprop, where it is the largest `v / (v − a²)` so far
//!   (PyTorch's `square_avg` and `grad_avg`): the condition number of `√(v − a²)`. A relative
//!   change `δ` of `v` or `a²` changes `v − a²` by `δ · v / (v − a²)`, so a one-ulp difference
//!   in the square average becomes a large one in the step when the variance estimate is
//!   small compared with the mean square. This is the algorithm's sensitivity, not the
//!   crate's: any two `f32` evaluations that round differently disagree in the same way.
//!
//! Why the two differ at all. Both evaluate the same expressions in the same order, on the
//! same `f32` scalars (rounded once from the same `f64` values), so any difference comes from
//! rounding: the crate rounds every product separately (no fused multiply-add, so that every
//! SIMD width and the scalar path give the same bits), while PyTorch's CPU build fuses the
//! product and the sum in `add(alpha=)`, `addcmul`, `lerp` and the weight-decay `add`. (On the
//! recording machine, an AVX-512 build compiled with GCC's default `-ffp-contract=fast`, this
//! happens for every element, in the vector body and in the scalar tail alike.) A second
//! source, found with Adadelta: PyTorch's `f32` square root on that machine is not correctly
//! rounded (measured over 10⁶ values spread over 10⁻¹² to 10⁶: 17 % differ from the correctly
//! rounded root by one ulp, the largest error is 0.75 ulp), while the crate's is. One fused
//! operation differs from its unfused form by at most half an ulp of the product; a value
//! goes through a few of them per step (the weight-decay term, the moment update, the
//! parameter update; a square doubles a relative difference), each at most `ε/2 · S`. The
//! differences then persist through the state (momentum buffers and moments carry them from
//! step to step, parameters keep them), so they grow at most linearly with `t` unless the
//! step amplifies them, which only centered RMSprop's `√(v − a²)` does (`K`). `S` rather
//! than `|x|` because a difference made when `x` was large stays when `x` later cancels to
//! nearly 0 (a parameter crossing zero, a first moment of gradients that cancel, a gradient
//! that cancels against its L2 term): the difference in ulps of the final value is then
//! unbounded, and so is its relative size, while its size relative to `S` stays small.
//!
//! `k = 4` is the smallest power of two that holds: the worst `|ours − torch| / (t · ε · S ·
//! K)` over all fixtures is 3.85, Adadelta's `acc_delta` at step 1 (`δ = √(u + eps) /
//! √(v + eps) · g` goes through PyTorch's two square roots, each up to an ulp away from ours,
//! a division and a product, and `acc_delta` adds `(1 − rho) · δ²`, which doubles the relative
//! difference); before Adadelta it was 3.24 (Adam's `exp_avg_sq` at step 1 with L2 weight
//! decay: the L2 term `g + wd · p`, fused in PyTorch, differs by up to an ulp, which the square
//! doubles, and `((1 − β2) · g) · g` adds its own roundings). Every test prints, with `--nocapture`, the number of values compared, how
//! many are bit-identical, and the worst deviation in ulps (of `max(|ours|, |torch|)`), in
//! relative terms and as a fraction of the bound, each with where it occurred.
//!
//! Worst deviations measured on the committed fixtures (x86_64, AVX-512 machine):
//!
//! | optimizer | bit-identical | worst ulps | worst relative | worst `|diff| / (t·ε·S·K)` |
//! |---|---|---|---|---|
//! | SGD | 86.0 % | 1215 | 9.8e-5 | 1.36 |
//! | Adagrad | 87.1 % | 512 | 4.3e-5 | 1.79 |
//! | RMSprop | 71.5 % | 320497 | 2.0e-2 | 2.23 |
//! | Adam | 75.1 % | 14859 | 1.1e-3 | 3.24 |
//! | AdamW | 76.5 % | 256 | 2.2e-5 | 2.51 |
//! | Adamax | 88.4 % | 3328 | 2.6e-4 | 1.14 |
//! | NAdam | 78.9 % | 465 | 4.9e-5 | 1.79 |
//! | RAdam | 81.8 % | 9783 | 8.1e-4 | 1.70 |
//! | Adadelta | 74.8 % | 768 | 5.0e-5 | 3.85 |
//! | Rprop | 100 % | 0 | 0 | 0 |
//! | ASGD | 86.4 % | 173 | 1.3e-5 | 0.98 |
//! | Lion (optax) | 100 % | 0 | 0 | 0 |
//!
//! Rprop is PyTorch's bit for bit: it multiplies step sizes by constants, compares signs and
//! moves each parameter by `± step_size`, with no product to fuse. Lion is optax's bit for
//! bit: optax (eager, on CPU) rounds every operation on its own, as the crate does, in the
//! same order.
//! The NAdam (1902) and ASGD (3500) per-step scalars are all bit-identical.
//!
//! The large ulp and relative figures are all values that had cancelled to nearly zero (see
//! `S` above; the RMSprop one is a parameter crossing zero in a centered run with
//! `alpha = 0.2`, where `v / (v − a²)` reached about 4000; the RAdam and Adam ones are first
//! moments of gradients that cancel, the Adamax one a parameter crossing zero). `docs/conventions.md` discusses
//! them, and the order of operations.
//!
//! To regenerate the fixtures, see the docstring of `tests/golden/generate.py`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use fused_optim::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Asgd, Backend, Lion, NAdam, Optimizer, RAdam, RmsProp,
    Rprop, Sgd,
};

/// The `k` of the tolerance (see the module documentation).
const K_TOLERANCE: f64 = 4.0;

/// The relative spacing of `f32`: `2⁻²³`.
const EPS: f64 = f32::EPSILON as f64;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

/// One step of a case: the gradient given and PyTorch's values after the step.
struct Step {
    grad: Vec<f32>,
    params: Vec<f32>,
    /// PyTorch's state tensors, in the order of [`Case::planes`].
    state: Vec<Vec<f32>>,
    /// PyTorch's 0-d state tensors, in the order of [`Case::scalars`].
    scalars: Vec<f32>,
}

/// One trajectory.
struct Case {
    name: String,
    hp: BTreeMap<String, String>,
    /// PyTorch's state tensor names, in PyTorch's order.
    planes: Vec<String>,
    /// PyTorch's 0-d state tensors other than `step` (NAdam's `mu_product`, ASGD's `eta`
    /// and `mu`).
    scalars: Vec<String>,
    p0: Vec<f32>,
    steps: Vec<Step>,
}

struct Fixture {
    file: String,
    /// The library that recorded it: `torch 2.15.0+...` or `optax 0.2.8 (jax ...)`.
    library: String,
    capability: String,
    optimizer: String,
    cases: Vec<Case>,
}

/// Reads `tests/golden/<file>`; panics with the line on any malformed record.
fn load(file: &str) -> Fixture {
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
struct Hp<'a> {
    case: &'a Case,
    used: BTreeSet<&'static str>,
}

impl<'a> Hp<'a> {
    fn new(case: &'a Case) -> Self {
        Hp {
            case,
            used: BTreeSet::new(),
        }
    }

    fn raw(&mut self, key: &'static str) -> &'a str {
        self.used.insert(key);
        self.case
            .hp
            .get(key)
            .unwrap_or_else(|| panic!("{}: no hyper-parameter {key}", self.case.name))
    }

    fn float(&mut self, key: &'static str) -> f64 {
        let name = &self.case.name;
        let raw = self.raw(key);
        raw.parse()
            .unwrap_or_else(|_| panic!("{name}: {key}={raw} is not a number"))
    }

    fn flag(&mut self, key: &'static str) -> bool {
        match self.raw(key) {
            "0" => false,
            "1" => true,
            other => panic!("{}: {key}={other} is not 0 or 1", self.case.name),
        }
    }

    fn pair(&mut self, key: &'static str) -> (f64, f64) {
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
    fn finish(self) {
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
trait Golden: Optimizer + Default + PartialEq + std::fmt::Debug + Sized {
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

impl Golden for Sgd {
    const TORCH: &'static str = "SGD";

    fn from_hp(hp: &mut Hp) -> Self {
        Sgd {
            lr: hp.float("lr"),
            momentum: hp.float("momentum"),
            dampening: hp.float("dampening"),
            weight_decay: hp.float("weight_decay"),
            nesterov: hp.flag("nesterov"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        self.weight_decay
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            "momentum_buffer" => gradient,
            _ => unreachable!("{plane}"),
        }
    }
}

impl Golden for Adagrad {
    const TORCH: &'static str = "Adagrad";

    fn from_hp(hp: &mut Hp) -> Self {
        Adagrad {
            lr: hp.float("lr"),
            lr_decay: hp.float("lr_decay"),
            weight_decay: hp.float("weight_decay"),
            initial_accumulator_value: hp.float("initial_accumulator_value"),
            eps: hp.float("eps"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        self.weight_decay
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            "sum" => gradient * gradient,
            _ => unreachable!("{plane}"),
        }
    }
}

impl Golden for RmsProp {
    const TORCH: &'static str = "RMSprop";

    fn from_hp(hp: &mut Hp) -> Self {
        RmsProp {
            lr: hp.float("lr"),
            alpha: hp.float("alpha"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            momentum: hp.float("momentum"),
            centered: hp.flag("centered"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        self.weight_decay
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            "square_avg" => (1.0 - self.alpha) * gradient * gradient,
            "grad_avg" => gradient,
            // b ← momentum · b + g / d: its input is bounded by |b| and the previous |b|.
            "momentum_buffer" => 0.0,
            _ => unreachable!("{plane}"),
        }
    }
}

impl Golden for Adam {
    const TORCH: &'static str = "Adam";

    fn from_hp(hp: &mut Hp) -> Self {
        Adam {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            amsgrad: hp.flag("amsgrad"),
            maximize: hp.flag("maximize"),
            decoupled_weight_decay: hp.flag("decoupled_weight_decay"),
        }
    }

    fn l2(&self) -> f64 {
        if self.decoupled_weight_decay {
            0.0
        } else {
            self.weight_decay
        }
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            "exp_avg" => gradient,
            "exp_avg_sq" | "max_exp_avg_sq" => (1.0 - self.betas.1) * gradient * gradient,
            _ => unreachable!("{plane}"),
        }
    }
}

impl Golden for AdamW {
    const TORCH: &'static str = "AdamW";

    fn from_hp(hp: &mut Hp) -> Self {
        assert!(
            hp.flag("decoupled_weight_decay"),
            "{}: PyTorch's AdamW always decouples",
            hp.case.name
        );
        AdamW {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            amsgrad: hp.flag("amsgrad"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        0.0
    }

    fn input_scale(&self, plane: &str, gradient: f64, param: f64) -> f64 {
        Adam::from(*self).input_scale(plane, gradient, param)
    }
}

impl Golden for Adamax {
    const TORCH: &'static str = "Adamax";

    fn from_hp(hp: &mut Hp) -> Self {
        Adamax {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        self.weight_decay
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            // exp_inf ← max(β2 · u, |g| + eps): its input is |g| + eps.
            "exp_avg" => gradient,
            "exp_inf" => gradient + self.eps,
            _ => unreachable!("{plane}"),
        }
    }
}

impl Golden for NAdam {
    const TORCH: &'static str = "NAdam";

    fn from_hp(hp: &mut Hp) -> Self {
        NAdam {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            momentum_decay: hp.float("momentum_decay"),
            decoupled_weight_decay: hp.flag("decoupled_weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        if self.decoupled_weight_decay {
            0.0
        } else {
            self.weight_decay
        }
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            "exp_avg" => gradient,
            "exp_avg_sq" => (1.0 - self.betas.1) * gradient * gradient,
            _ => unreachable!("{plane}"),
        }
    }

    fn scalar(&self, name: &str, t: u64) -> f32 {
        match name {
            "mu_product" => self.mu_product(t),
            _ => unreachable!("{name}"),
        }
    }
}

impl Golden for RAdam {
    const TORCH: &'static str = "RAdam";

    fn from_hp(hp: &mut Hp) -> Self {
        RAdam {
            lr: hp.float("lr"),
            betas: hp.pair("betas"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            decoupled_weight_decay: hp.flag("decoupled_weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        if self.decoupled_weight_decay {
            0.0
        } else {
            self.weight_decay
        }
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            "exp_avg" => gradient,
            "exp_avg_sq" => (1.0 - self.betas.1) * gradient * gradient,
            _ => unreachable!("{plane}"),
        }
    }
}

impl Golden for Adadelta {
    const TORCH: &'static str = "Adadelta";

    fn from_hp(hp: &mut Hp) -> Self {
        Adadelta {
            lr: hp.float("lr"),
            rho: hp.float("rho"),
            eps: hp.float("eps"),
            weight_decay: hp.float("weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        self.weight_decay
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            "square_avg" => (1.0 - self.rho) * gradient * gradient,
            // u ← rho · u + (1 − rho) · δ²: its input is bounded by |u| itself.
            "acc_delta" => 0.0,
            _ => unreachable!("{plane}"),
        }
    }
}

impl Golden for Rprop {
    const TORCH: &'static str = "Rprop";

    fn from_hp(hp: &mut Hp) -> Self {
        Rprop {
            lr: hp.float("lr"),
            etas: hp.pair("etas"),
            step_sizes: hp.pair("step_sizes"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        0.0
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            "prev" => gradient,
            "step_size" => 0.0,
            _ => unreachable!("{plane}"),
        }
    }
}

impl Golden for Asgd {
    const TORCH: &'static str = "ASGD";

    fn from_hp(hp: &mut Hp) -> Self {
        Asgd {
            lr: hp.float("lr"),
            lambd: hp.float("lambd"),
            alpha: hp.float("alpha"),
            t0: hp.float("t0"),
            weight_decay: hp.float("weight_decay"),
            maximize: hp.flag("maximize"),
        }
    }

    fn l2(&self) -> f64 {
        self.weight_decay
    }

    fn input_scale(&self, plane: &str, _gradient: f64, param: f64) -> f64 {
        match plane {
            // ax averages the parameters.
            "ax" => param,
            _ => unreachable!("{plane}"),
        }
    }

    fn scalar(&self, name: &str, t: u64) -> f32 {
        // PyTorch stores, after step t, the values step t + 1 uses.
        match name {
            "eta" => self.eta(t + 1),
            "mu" => self.mu(t + 1),
            _ => unreachable!("{name}"),
        }
    }
}

/// Recorded from optax (`optax.lion(learning_rate, b1, b2, weight_decay)`); PyTorch has no
/// Lion.
impl Golden for Lion {
    const TORCH: &'static str = "Lion";

    fn from_hp(hp: &mut Hp) -> Self {
        Lion {
            lr: hp.float("learning_rate"),
            betas: (hp.float("b1"), hp.float("b2")),
            weight_decay: hp.float("weight_decay"),
            maximize: false,
        }
    }

    fn l2(&self) -> f64 {
        0.0
    }

    fn input_scale(&self, plane: &str, gradient: f64, _param: f64) -> f64 {
        match plane {
            "exp_avg" => gradient,
            _ => unreachable!("{plane}"),
        }
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
fn check<O: Golden>(file: &str) -> Fixture {
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
fn assert_coverage(fixture: &Fixture, fixed: &[&str]) {
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

#[test]
fn golden_sgd() {
    assert_coverage(&check::<Sgd>("sgd.txt"), &[]);
}

#[test]
fn golden_adagrad() {
    assert_coverage(&check::<Adagrad>("adagrad.txt"), &[]);
}

#[test]
fn golden_rmsprop() {
    let fixture = check::<RmsProp>("rmsprop.txt");
    assert_coverage(&fixture, &[]);
    // Both of PyTorch's lerp formulas for grad_avg: weight 1 − alpha below 0.5 and from 0.5.
    let weights: BTreeSet<bool> = fixture
        .cases
        .iter()
        .filter(|c| c.hp["centered"] == "1")
        .map(|c| 1.0 - c.hp["alpha"].parse::<f64>().unwrap() >= 0.5)
        .collect();
    assert_eq!(
        weights.len(),
        2,
        "centered cases cover one lerp formula only"
    );
}

#[test]
fn golden_adam() {
    let fixture = check::<Adam>("adam.txt");
    assert_coverage(&fixture, &[]);
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
    assert_eq!(weights.len(), 2, "cases cover one lerp formula only");
}

#[test]
fn golden_adamw() {
    // PyTorch's AdamW forces decoupled_weight_decay = True.
    assert_coverage(&check::<AdamW>("adamw.txt"), &["decoupled_weight_decay"]);
}

/// Both of PyTorch's lerp formulas for the first moment (weight `1 − β1` below 0.5 and from
/// 0.5) occur in `fixture`.
fn assert_both_lerp_forms(fixture: &Fixture) {
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

#[test]
fn golden_adamax() {
    let fixture = check::<Adamax>("adamax.txt");
    assert_coverage(&fixture, &[]);
    assert_both_lerp_forms(&fixture);
}

#[test]
fn golden_nadam() {
    let fixture = check::<NAdam>("nadam.txt");
    assert_coverage(&fixture, &[]);
    assert_both_lerp_forms(&fixture);
    assert!(fixture.cases.iter().all(|c| c.scalars == ["mu_product"]));
}

#[test]
fn golden_radam() {
    let fixture = check::<RAdam>("radam.txt");
    assert_coverage(&fixture, &[]);
    assert_both_lerp_forms(&fixture);
    // Steps on both sides of the rectification switch, and cases that never rectify.
    let (mut rectified, mut plain, mut never) = (0, 0, 0);
    for case in &fixture.cases {
        let mut hp = Hp::new(case);
        let opt = RAdam::from_hp(&mut hp);
        let steps = case.steps.len() as u64;
        let n = (1..=steps).filter(|&t| opt.rho(t).0 > 5.0).count();
        rectified += n;
        plain += steps as usize - n;
        never += usize::from(opt.rho(u64::MAX).1 <= 5.0);
    }
    assert!(rectified > 0 && plain > 0 && never > 0);
}

#[test]
fn golden_adadelta() {
    assert_coverage(&check::<Adadelta>("adadelta.txt"), &[]);
}

#[test]
fn golden_rprop() {
    assert_coverage(&check::<Rprop>("rprop.txt"), &[]);
}

#[test]
fn golden_asgd() {
    let fixture = check::<Asgd>("asgd.txt");
    assert_coverage(&fixture, &[]);
    // Both kernels: a copy of p (μ = 1) and averaging (μ < 1).
    let averaging = fixture.cases.iter().any(|case| {
        let opt = Asgd::from_hp(&mut Hp::new(case));
        opt.mu(case.steps.len() as u64) < 1.0
    });
    assert!(averaging, "no case averages");
    assert!(fixture.cases.iter().all(|c| c.scalars == ["eta", "mu"]));
}

#[test]
fn golden_lion() {
    let fixture = check::<Lion>("lion.txt");
    assert_coverage(&fixture, &[]);
    assert!(fixture.library.starts_with("optax"));
}

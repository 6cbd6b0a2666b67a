#!/usr/bin/env python3
"""Records golden optimizer trajectories from PyTorch for the golden tests
(`tests/common/golden.rs`, used by `tests/optim/`).

Pinned version: **torch 2.15.0** (CPU, float32), the version the committed fixtures were
made with (each fixture's header records the exact build and the ATen CPU capability).

How to reproduce (from the repository root):

    python3 -m venv /tmp/torch-venv
    /tmp/torch-venv/bin/pip install torch==2.15.0
    /tmp/torch-venv/bin/python tests/golden/generate.py

The script takes no arguments and writes `tests/golden/<optimizer>.txt` for sgd, adagrad,
rmsprop, adam, adamw, adamax, nadam, radam, adadelta, rprop, asgd (PyTorch) and lion (optax;
see below). It is deterministic: the inputs come from Python's `random` with fixed seeds, and
the optimizers run single-threaded. (`schedules.txt` is another script's: `schedules.py`.)

What it records. For every PyTorch optimizer of the crate (SGD, Adagrad, RMSprop, Adam, AdamW,
Adamax, NAdam, RAdam, Adadelta, Rprop, ASGD) and every case of the grid below, it builds the `torch.optim` optimizer with `foreach=False` and
`fused=False` (the `_single_tensor_*` path, PyTorch's default on CPU; the script checks that
this path ran), then takes `steps` steps with recorded gradients. It writes the initial
parameters, and for each step the gradient, the parameters after the step and every state
tensor after the step (all but the `step` counter): the per-element tensors as planes, and
the per-step scalar tensors (NAdam's `mu_product`, ASGD's `eta` and `mu`) as scalars. PyTorch's
state starts as the crate's `init_state` does: zeros, Adagrad's `initial_accumulator_value`,
Rprop's `step_size` = lr; SGD creates its `momentum_buffer` from the first gradient, and the
crate ignores the buffer's content at t = 1, so the two agree.

Schedules. Some appended cases change hyper-parameters between steps: a `torch.optim
.lr_scheduler` scheduler (its `step()` after every `optimizer.step()`, as in a training
loop) and/or direct assignments to `param_groups[0]` (NAdam's `momentum_decay`). The values
PyTorch's step t read from the param group are recorded (`set`, below), not the scheduler;
what PyTorch does with them is in the recorded state. Note ASGD: step t uses the `eta` and
`mu` recorded after step t - 1, which PyTorch computed at the end of step t - 1 from the lr of
step t - 1 (`eta_1` is the lr of step 1, `mu_1` = 1).

Square roots. PyTorch's f32 `sqrt` on the recording machine (MKL's `vmsSqrt`, AMD EPYC,
capability AVX512) is faithfully but not correctly rounded: about 1 input in 6 gets a result
1 ulp off. While recording, the script logs every square root PyTorch takes (a
`TorchFunctionMode` on `torch.sqrt`, `Tensor.sqrt` and `Tensor.sqrt_`, which calls them
unchanged) and writes, per fixture, the input/output pairs where PyTorch's result is not the
correctly rounded one (`sqrt`, below). With it a test can show that every difference between
a correctly rounded implementation and PyTorch comes from PyTorch's sqrt alone: a reference
whose square root is "the table's output if the input is listed, else the correctly rounded
root" must reproduce every recorded value bit for bit, free-running from `p0`; the code under
test, with its correctly rounded root, must equal that reference with its table emptied. An
implementation that is right everywhere else meets exactly PyTorch's sqrt inputs, all of
which are covered; one that is wrong elsewhere fails the first check.

Lion (`lion.txt`). PyTorch has no Lion; the crate follows optax's, so its fixture is recorded
from **optax 0.2.8** (jax 0.10.2, CPU, float32, eager: each operation dispatched on its own,
no `jit`), with the same grid of inputs: `optax.lion(learning_rate, b1, b2, weight_decay)`,
then `optax.apply_updates`. The header says `optax <version>` instead of `torch <version>`,
the hyper-parameters are optax's argument names, and optax's momentum (`mu` in
`ScaleByLionState`) is recorded as the plane `exp_avg`, the crate's name for it. optax is
needed only for this file (`pip install optax`); without it the script stops before
writing it. Lion takes no square root; `lion.txt` has no `sqrt-table`.

The grid. Each optimizer has a list of hyper-parameter sets (the first is PyTorch's defaults)
that together cover every option, and each set runs on two inputs: a "long" one (few elements,
up to 100 steps) and a "wide" one (33 to 100 elements, 1 to 20 steps), taken in turn from the
lists `LONG` and `WIDE`. Lengths are 1, 3, 7, 17, 33, 65 and 100: all but 100 leave a tail for
every SIMD width (4, 8 and 16 floats in the crate, PyTorch's AVX-512 body of 32), and 100
leaves one for 8, 16 and 32, so vector bodies and scalar tails both run. Gradients are
`scale * (d + 0.7 * noise)` per element, with a fixed direction `d` per element and fresh
normal noise per step; `scale` is 1e-6, 1e-3, 1 or 1e3 for the whole tensor, or ("mixed") a
per-element log-uniform scale in [1e-6, 1e3]. Exact zeros: one element (index n // 2 when
n >= 7) has a zero gradient at every step, about 8 % of the other entries are zero, and step
3 (when there are at least 4 steps) is all zeros.

Appended cases (`EXTRA`, `LION_EXTRA`; after the grid's cases in each file, so that those keep
their bytes): long runs (200 to 320 steps, 3 or 17 elements) and cancellation-heavy inputs,
named `<optimizer>-<label>-<n>`. Their gradients (`grad_scale` in the case line) are "mixed"
as above, "cancel": `g = -wd * p * (1 + delta)` computed in f64 from PyTorch's current f32
parameters and rounded once, with `|delta|` log-uniform in [1e-7, 1e-1] and a random sign
(its sign flipped under maximize), so that the L2 term `g + wd * p` cancels all but `delta`
(large weight decay, 3 to 10, against gradients of 1e2 to 1e3, and up to ~1e9 where SGD's
Nesterov momentum makes the parameters grow; 5 % of the entries are zero), or
"alternate": mixed magnitudes whose sign flips every step (Rprop's step size halves every
other step, to subnormals and 0). They cover, per optimizer, at least two runs of >= 200
steps, cancellation with and without maximize, Adam/AdamW amsgrad with decoupled decay,
RAdam rectified from step 6, 10, 16 and 29 on, centered RMSprop with momentum, Adagrad's
lr_decay, ASGD averaging (t0 of -3 to 5), and schedules: SGD (StepLR, cosine), Adam
(OneCycleLR, warm-up + cosine), ASGD (an lr that changes every step: cosine, exponential),
NAdam (`momentum_decay` changed twice mid-run; and with ExponentialLR).

Format (text, one line per record, fields separated by single spaces):

    # comment
    torch <version>                 (once, at the top)
    capability <ATen CPU capability>
    optimizer <PyTorch class name>
    case <name> n=<n> steps=<steps> grad_scale=<scale> param_scale=<scale> [schedule=<what>]
                                     (schedule=: informational, no spaces; only where one runs)
    hp <key>=<value> ...            Python repr of PyTorch's param_group values in force at
                                     step 1; bools as 0/1; betas as b1,b2
    planes <name> ...               state tensors, in PyTorch's state order
    scalars <name> ...              (only if any) 0-d state tensors other than `step`
    p0 <n floats>                   initial parameters
    step <t>                        then, for that step:
    set <key>=<value> ...           (only if any; t >= 2) the param_group values step t read
                                     that differ from step t - 1's, formatted as in `hp`;
                                     they stay in force until the next `set`
    g <n floats>                    the gradient given
    p <n floats>                    parameters after the step
    s <plane> <n floats>            each state tensor after the step
    x <scalar> <1 float>            each 0-d state tensor after the step
    end
    sqrt-table evaluations=<E> distinct=<D> differing=<K>
                                    (once, after the last `end`; PyTorch fixtures only) E
                                     square roots taken over all the file's steps, of D
                                     distinct inputs, K of them not correctly rounded
    sqrt <in>:<out> ...             (ceil(K / 16) lines, up to 16 pairs each, ascending <in>)
                                     the K pairs: input bits, torch.sqrt's output bits. Every
                                     other input PyTorch took the root of got the correctly
                                     rounded root

Floats are the `%08x` bit patterns of the f32 values, so they round-trip exactly.
"""

import importlib
import math
import os
import random
import struct

import torch

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
PINNED = "2.15.0"

# (n, steps, grad_scale, param_scale): few elements, many steps.
LONG = [
    (1, 100, 1.0, 1.0),
    (7, 100, "mixed", 1.0),
    (3, 60, "mixed", 10.0),
    (17, 50, 1e-3, 1.0),
    (7, 40, 1e3, 1.0),
    (17, 30, 1e-6, 1e-2),
    (1, 70, "mixed", 1.0),
]
# Many elements (PyTorch's AVX-512 vector body is 32 floats), fewer steps.
WIDE = [
    (100, 10, "mixed", 1.0),
    (33, 20, 1e3, 1.0),
    (65, 12, 1.0, 1.0),
    (100, 1, 1.0, 1.0),
    (33, 5, "mixed", 100.0),
    (100, 8, 1e-6, 1.0),
    (33, 15, 1e-3, 1e-2),
    (65, 2, "mixed", 1.0),
]

# Per optimizer: the PyTorch class, the hyper-parameters recorded, the grid.
OPTIMIZERS = {
    "sgd": (
        torch.optim.SGD,
        ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"],
        [
            {},
            {"lr": 0.1},
            {"lr": 0.05, "momentum": 0.9},
            {"lr": 0.05, "momentum": 0.9, "dampening": 0.1},
            {"lr": 0.01, "momentum": 0.9, "dampening": 0.9},
            {"lr": 0.01, "momentum": 0.9, "nesterov": True},
            {"lr": 0.1, "momentum": 0.5, "nesterov": True, "weight_decay": 1e-2},
            {"lr": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "maximize": True},
            {
                "lr": 0.02,
                "momentum": 0.99,
                "nesterov": True,
                "weight_decay": 5e-4,
                "maximize": True,
            },
            {
                "lr": 0.3,
                "momentum": 0.3,
                "dampening": 0.5,
                "weight_decay": 0.5,
                "maximize": True,
            },
            {"lr": 1.0, "momentum": 0.1},
            {"lr": 0.05, "momentum": 0.9, "dampening": 1.0},
        ],
    ),
    "adagrad": (
        torch.optim.Adagrad,
        ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize"],
        [
            {},
            {"lr": 0.1},
            {"lr": 0.1, "lr_decay": 0.01},
            {"lr": 0.5, "lr_decay": 0.3},
            {"lr": 0.1, "weight_decay": 0.1},
            {"lr": 0.1, "initial_accumulator_value": 0.1},
            {"lr": 0.05, "initial_accumulator_value": 2.5, "eps": 1e-6},
            {"lr": 0.1, "eps": 1e-3},
            {"lr": 0.1, "eps": 0.0, "initial_accumulator_value": 1e-3},
            {"lr": 0.1, "maximize": True},
            {
                "lr": 0.2,
                "lr_decay": 0.05,
                "weight_decay": 1e-2,
                "initial_accumulator_value": 0.5,
                "eps": 1e-8,
                "maximize": True,
            },
            {"lr": 1.0, "weight_decay": 0.5},
        ],
    ),
    "rmsprop": (
        torch.optim.RMSprop,
        ["lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"],
        [
            {},
            {"lr": 1e-3},
            {"alpha": 0.9},
            {"alpha": 0.3},
            # 1 - alpha >= 0.5 switches PyTorch's lerp (grad_avg) to its second formula.
            {"alpha": 0.3, "centered": True},
            {"alpha": 0.5, "centered": True},
            {"alpha": 0.6, "centered": True},
            {"centered": True},
            {"momentum": 0.9},
            {"momentum": 0.5, "centered": True},
            {"lr": 1e-3, "momentum": 0.9, "centered": True, "alpha": 0.2, "weight_decay": 1e-2},
            {"weight_decay": 0.1},
            {"maximize": True},
            {
                "maximize": True,
                "momentum": 0.8,
                "centered": True,
                "weight_decay": 1e-3,
                "eps": 1e-4,
            },
            {"lr": 0.1, "eps": 1e-3},
            {"alpha": 0.0},
        ],
    ),
    "adam": (
        torch.optim.Adam,
        [
            "lr",
            "betas",
            "eps",
            "weight_decay",
            "amsgrad",
            "maximize",
            "decoupled_weight_decay",
        ],
        [
            {},
            {"lr": 1e-2},
            {"lr": 1e-2, "betas": (0.8, 0.99)},
            # 1 - beta1 >= 0.5 switches PyTorch's lerp (exp_avg) to its second formula.
            {"lr": 1e-2, "betas": (0.3, 0.999)},
            {"lr": 1e-2, "betas": (0.5, 0.9)},
            {"lr": 1e-2, "betas": (0.0, 0.5)},
            {"lr": 1e-2, "amsgrad": True},
            {"lr": 1e-2, "amsgrad": True, "betas": (0.4, 0.95)},
            {"lr": 1e-2, "weight_decay": 1e-2},
            {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True},
            {"lr": 1e-2, "maximize": True},
            {"lr": 1e-2, "eps": 1e-3},
            {"lr": 1e-2, "eps": 1e-12},
            {
                "lr": 0.1,
                "amsgrad": True,
                "weight_decay": 1e-2,
                "maximize": True,
                "betas": (0.9, 0.99),
            },
            {
                "lr": 0.05,
                "amsgrad": True,
                "weight_decay": 0.05,
                "decoupled_weight_decay": True,
                "maximize": True,
                "betas": (0.2, 0.999),
                "eps": 1e-6,
            },
        ],
    ),
    "adamw": (
        torch.optim.AdamW,
        [
            "lr",
            "betas",
            "eps",
            "weight_decay",
            "amsgrad",
            "maximize",
            "decoupled_weight_decay",
        ],
        [
            {},
            {"lr": 1e-2},
            {"lr": 1e-2, "weight_decay": 0.0},
            {"lr": 1e-2, "weight_decay": 0.1},
            {"lr": 1e-2, "betas": (0.3, 0.99)},
            {"lr": 1e-2, "betas": (0.5, 0.999)},
            {"lr": 1e-2, "amsgrad": True},
            {"lr": 1e-2, "maximize": True},
            {"lr": 1e-2, "eps": 1e-4},
            {
                "lr": 0.1,
                "amsgrad": True,
                "maximize": True,
                "weight_decay": 0.5,
                "betas": (0.1, 0.9),
            },
            {"lr": 1.0, "weight_decay": 0.5},
        ],
    ),
}

OPTIMIZERS.update(
    {
        "adamax": (
            torch.optim.Adamax,
            ["lr", "betas", "eps", "weight_decay", "maximize"],
            [
                {},
                {"lr": 1e-2},
                {"lr": 1e-2, "betas": (0.8, 0.99)},
                # 1 - beta1 >= 0.5 switches PyTorch's lerp (exp_avg) to its second formula.
                {"lr": 1e-2, "betas": (0.3, 0.999)},
                {"lr": 1e-2, "betas": (0.5, 0.9)},
                {"lr": 1e-2, "betas": (0.0, 0.5)},
                {"lr": 1e-2, "weight_decay": 1e-2},
                {"lr": 1e-2, "maximize": True},
                {"lr": 1e-2, "eps": 1e-3},
                {"lr": 0.1, "eps": 1e-12},
                {
                    "lr": 0.05,
                    "weight_decay": 0.1,
                    "maximize": True,
                    "betas": (0.2, 0.95),
                    "eps": 1e-6,
                },
            ],
        ),
        "nadam": (
            torch.optim.NAdam,
            [
                "lr",
                "betas",
                "eps",
                "weight_decay",
                "momentum_decay",
                "decoupled_weight_decay",
                "maximize",
            ],
            [
                {},
                {"lr": 1e-2},
                {"lr": 1e-2, "betas": (0.8, 0.99)},
                {"lr": 1e-2, "betas": (0.3, 0.999)},
                {"lr": 1e-2, "betas": (0.5, 0.9)},
                {"lr": 1e-2, "momentum_decay": 0.0},
                {"lr": 1e-2, "momentum_decay": 0.1},
                # mu -> beta1 quickly: mu_product decays like 0.99^t (long products).
                {"lr": 1e-2, "momentum_decay": 1.0, "betas": (0.99, 0.999)},
                {"lr": 1e-2, "weight_decay": 1e-2},
                {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True},
                {"lr": 1e-2, "maximize": True},
                {"lr": 1e-2, "eps": 1e-3},
                {
                    "lr": 0.05,
                    "weight_decay": 0.05,
                    "decoupled_weight_decay": True,
                    "maximize": True,
                    "betas": (0.2, 0.95),
                    "eps": 1e-6,
                    "momentum_decay": 0.02,
                },
            ],
        ),
        "radam": (
            torch.optim.RAdam,
            ["lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize"],
            [
                {},
                {"lr": 1e-2},
                {"lr": 1e-2, "betas": (0.8, 0.99)},
                {"lr": 1e-2, "betas": (0.3, 0.999)},
                {"lr": 1e-2, "betas": (0.5, 0.9)},
                # rho_inf = 4: never rectified.
                {"lr": 1e-2, "betas": (0.9, 0.6)},
                # Rectified from step 7 on.
                {"lr": 1e-2, "betas": (0.9, 0.8)},
                {"lr": 1e-2, "weight_decay": 1e-2},
                {"lr": 1e-2, "weight_decay": 0.1, "decoupled_weight_decay": True},
                {"lr": 1e-2, "maximize": True},
                {"lr": 1e-2, "eps": 1e-3},
                {
                    "lr": 0.05,
                    "weight_decay": 0.05,
                    "decoupled_weight_decay": True,
                    "maximize": True,
                    "betas": (0.2, 0.95),
                    "eps": 1e-6,
                },
            ],
        ),
        "adadelta": (
            torch.optim.Adadelta,
            ["lr", "rho", "eps", "weight_decay", "maximize"],
            [
                {},
                {"lr": 0.1},
                {"rho": 0.5},
                {"rho": 0.99},
                {"rho": 0.0},
                # rho = 1: the averages stay 0 and the step is lr * g (PyTorch allows it).
                {"rho": 1.0, "lr": 0.01},
                {"eps": 1e-3},
                {"eps": 1e-10},
                {"weight_decay": 0.1},
                {"maximize": True},
                {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 1e-2, "maximize": True},
            ],
        ),
        "rprop": (
            torch.optim.Rprop,
            ["lr", "etas", "step_sizes", "maximize"],
            [
                {},
                {"lr": 0.1},
                {"etas": (0.3, 1.5)},
                {"etas": (0.9, 1.01)},
                {"step_sizes": (1e-3, 0.05)},
                {"lr": 1.0, "step_sizes": (0.0, 1.0)},
                {"maximize": True},
                {"lr": 0.001, "etas": (0.25, 2.0), "step_sizes": (1e-8, 10.0), "maximize": True},
            ],
        ),
        "asgd": (
            torch.optim.ASGD,
            ["lr", "lambd", "alpha", "t0", "weight_decay", "maximize"],
            [
                {},
                {"lr": 0.1},
                {"lambd": 0.1},
                {"lambd": 1.0, "alpha": 0.5},
                {"lambd": 0.01, "alpha": 1.0},
                # Averaging from step 3 (t0 = 0), 12 (t0 = 10), 2 (t0 = -5).
                {"t0": 0.0},
                {"t0": 10.0, "lr": 0.05},
                {"t0": -5.0},
                {"weight_decay": 0.1},
                {"maximize": True},
                {
                    "lr": 0.05,
                    "lambd": 0.5,
                    "alpha": 0.6,
                    "t0": 3.0,
                    "weight_decay": 1e-2,
                    "maximize": True,
                },
            ],
        ),
    }
)

# The appended cases (see the docstring): per optimizer, (label, hyper-parameters, shapes,
# schedule). A shape is (n, steps, gradients, param_scale); gradients are a scale or "mixed"
# (as in LONG/WIDE), "cancel" (g = -wd * p * (1 + delta), from the current parameters, so that
# the L2 term cancels; its sign flipped under maximize) or "alternate" (mixed magnitudes, the
# sign flipping every step). A schedule is (name, factory): factory(optimizer) returns the
# object whose step() runs after every optimizer step.
L3 = (3, 300, "mixed", 1.0)
L17 = (17, 200, "mixed", 1.0)
C3 = (3, 300, "cancel", 30.0)
C17 = (17, 200, "cancel", 100.0)


class SetAt:
    """Sets param_group values before given steps: changes = {t: {key: value}}."""

    def __init__(self, opt, changes):
        self.opt, self.changes, self.t = opt, changes, 1

    def step(self):
        self.t += 1
        for key, value in self.changes.get(self.t, {}).items():
            for group in self.opt.param_groups:
                group[key] = value


class Chain:
    def __init__(self, *schedulers):
        self.schedulers = schedulers

    def step(self):
        for s in self.schedulers:
            s.step()


LR = torch.optim.lr_scheduler
STEP_LR = ("StepLR(step_size=20,gamma=0.5)", lambda o: LR.StepLR(o, 20, 0.5))
COSINE_50 = ("CosineAnnealingLR(T_max=50)", lambda o: LR.CosineAnnealingLR(o, 50))
COSINE_37 = (
    "CosineAnnealingLR(T_max=37,eta_min=1e-3)",
    lambda o: LR.CosineAnnealingLR(o, 37, 1e-3),
)
EXP_98 = ("ExponentialLR(gamma=0.98)", lambda o: LR.ExponentialLR(o, 0.98))
ONE_CYCLE = (
    "OneCycleLR(max_lr=0.01,total_steps=200,cycle_momentum=False)",
    lambda o: LR.OneCycleLR(o, max_lr=0.01, total_steps=200, cycle_momentum=False),
)
WARMUP_COSINE = (
    "SequentialLR(LinearLR(0.1,total_iters=20),CosineAnnealingLR(T_max=180),milestones=[20])",
    lambda o: LR.SequentialLR(
        o,
        [LR.LinearLR(o, 0.1, 1.0, 20), LR.CosineAnnealingLR(o, 180)],
        milestones=[20],
    ),
)
NADAM_PSI = (
    "momentum_decay:0.004,t81:0.5,t161:0.0",
    lambda o: SetAt(o, {81: {"momentum_decay": 0.5}, 161: {"momentum_decay": 0.0}}),
)
NADAM_PSI_EXP = (
    "ExponentialLR(gamma=0.99)+momentum_decay:0.1,t101:0.01",
    lambda o: Chain(LR.ExponentialLR(o, 0.99), SetAt(o, {101: {"momentum_decay": 0.01}})),
)

EXTRA = {
    "sgd": [
        ("long-momentum", {"lr": 0.05, "momentum": 0.9}, [L3, L17], None),
        (
            "cancel-nesterov",
            {"lr": 0.05, "weight_decay": 10.0, "momentum": 0.9, "nesterov": True},
            [C3, C17],
            None,
        ),
        (
            "cancel-maximize-dampening",
            {"lr": 0.01, "weight_decay": 3.0, "momentum": 0.9, "dampening": 0.3, "maximize": True},
            [C3, C17],
            None,
        ),
        ("cancel-maximize", {"lr": 0.1, "weight_decay": 5.0, "maximize": True}, [C3], None),
        (
            "schedule-step",
            {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3},
            [(3, 200, "mixed", 1.0)],
            STEP_LR,
        ),
        (
            "schedule-cosine",
            {"lr": 0.05, "momentum": 0.5, "nesterov": True},
            [(17, 200, "mixed", 1.0)],
            COSINE_50,
        ),
    ],
    "adagrad": [
        (
            "cancel-lr-decay",
            {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.3, "weight_decay": 5.0},
            [C3, C17],
            None,
        ),
        (
            "long-lr-decay-maximize",
            {"lr": 0.5, "lr_decay": 1e-3, "eps": 1e-6, "maximize": True},
            [L3, L17],
            None,
        ),
        ("cancel-maximize", {"lr": 0.1, "weight_decay": 10.0, "maximize": True}, [C3], None),
    ],
    "rmsprop": [
        (
            "cancel-centered-momentum",
            {"lr": 1e-3, "centered": True, "momentum": 0.9, "alpha": 0.3, "weight_decay": 5.0},
            [C3, C17],
            None,
        ),
        (
            "long-centered-maximize",
            {"lr": 1e-2, "centered": True, "alpha": 0.99, "maximize": True},
            [L3, L17],
            None,
        ),
        ("long-momentum-wd", {"lr": 1e-2, "momentum": 0.5, "weight_decay": 0.1}, [L3], None),
        (
            "cancel-centered-momentum-maximize",
            {
                "lr": 1e-3,
                "centered": True,
                "momentum": 0.9,
                "weight_decay": 10.0,
                "maximize": True,
            },
            [C3],
            None,
        ),
    ],
    "adam": [
        ("cancel", {"lr": 1e-2, "weight_decay": 5.0}, [C3, C17], None),
        (
            "cancel-amsgrad-maximize",
            {
                "lr": 1e-2,
                "weight_decay": 5.0,
                "amsgrad": True,
                "maximize": True,
                "betas": (0.3, 0.99),
            },
            [C3],
            None,
        ),
        ("long-eps", {"lr": 1e-3, "eps": 1e-12, "betas": (0.5, 0.9)}, [L3], None),
        (
            "long-amsgrad-decoupled",
            {"lr": 1e-2, "amsgrad": True, "weight_decay": 0.1, "decoupled_weight_decay": True},
            [L3, L17],
            None,
        ),
        (
            "long-amsgrad-decoupled-maximize",
            {
                "lr": 0.05,
                "amsgrad": True,
                "weight_decay": 0.5,
                "decoupled_weight_decay": True,
                "maximize": True,
            },
            [(3, 250, "mixed", 1.0)],
            None,
        ),
        ("schedule-one-cycle", {"lr": 1e-2}, [(3, 200, "mixed", 1.0)], ONE_CYCLE),
        (
            "schedule-warmup-cosine",
            {"lr": 1e-2, "amsgrad": True},
            [(17, 200, "mixed", 1.0)],
            WARMUP_COSINE,
        ),
    ],
    "adamw": [
        ("long-amsgrad", {"lr": 0.1, "weight_decay": 0.9, "amsgrad": True}, [L3, L17], None),
        (
            "long-maximize",
            {"lr": 1e-2, "weight_decay": 0.5, "maximize": True, "betas": (0.2, 0.999)},
            [L3],
            None,
        ),
        (
            "long-amsgrad-maximize",
            {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True, "maximize": True},
            [(3, 250, "mixed", 10.0)],
            None,
        ),
        ("long-large-decay", {"lr": 0.5, "weight_decay": 1.9}, [(3, 250, "mixed", 1.0)], None),
    ],
    "adamax": [
        ("cancel", {"lr": 1e-2, "weight_decay": 5.0, "betas": (0.3, 0.9)}, [C3, C17], None),
        ("long-maximize", {"lr": 2e-3, "maximize": True}, [L3, L17], None),
        ("cancel-maximize", {"lr": 1e-2, "weight_decay": 10.0, "maximize": True}, [C3], None),
    ],
    "nadam": [
        ("long-psi", {"lr": 1e-2, "momentum_decay": 0.5}, [L3], None),
        ("cancel", {"lr": 1e-2, "weight_decay": 5.0, "betas": (0.3, 0.99)}, [C3, C17], None),
        (
            "long-decoupled-maximize",
            {"lr": 2e-2, "weight_decay": 0.2, "decoupled_weight_decay": True, "maximize": True},
            [L3],
            None,
        ),
        ("cancel-maximize", {"lr": 1e-2, "weight_decay": 5.0, "maximize": True}, [C3], None),
        ("schedule-psi", {"lr": 1e-2}, [(3, 240, "mixed", 1.0)], NADAM_PSI),
        (
            "schedule-lr-psi",
            {"lr": 2e-2, "momentum_decay": 0.1},
            [(17, 200, "mixed", 1.0)],
            NADAM_PSI_EXP,
        ),
    ],
    "radam": [
        ("long", {"lr": 1e-2}, [L3, L17], None),
        ("cancel", {"lr": 1e-2, "weight_decay": 4.0, "betas": (0.9, 0.8)}, [C3, C17], None),
        (
            "long-decoupled-maximize",
            {
                "lr": 5e-2,
                "weight_decay": 0.3,
                "decoupled_weight_decay": True,
                "maximize": True,
                "betas": (0.4, 0.95),
            },
            [L3],
            None,
        ),
        # Rectified from step 10 (beta2 0.7), 16 (0.67) and 29 (0.6667) on.
        ("switch-0.7", {"lr": 1e-2, "betas": (0.9, 0.7)}, [(3, 200, "mixed", 1.0)], None),
        ("switch-0.67", {"lr": 1e-2, "betas": (0.9, 0.67)}, [(3, 200, "mixed", 1.0)], None),
        ("switch-0.6667", {"lr": 1e-2, "betas": (0.9, 0.6667)}, [(3, 200, "mixed", 1.0)], None),
        ("cancel-maximize", {"lr": 1e-2, "weight_decay": 5.0, "maximize": True}, [C3], None),
    ],
    "adadelta": [
        ("cancel", {"lr": 1.0, "rho": 0.9, "weight_decay": 5.0}, [C3, C17], None),
        ("long-maximize", {"lr": 0.3, "rho": 0.5, "eps": 1e-8, "maximize": True}, [L3, L17], None),
        ("cancel-maximize", {"lr": 1.0, "weight_decay": 10.0, "maximize": True}, [C3], None),
    ],
    "rprop": [
        ("long", {}, [L3, L17], None),
        (
            "long-maximize",
            {"lr": 0.01, "etas": (0.4, 1.3), "step_sizes": (1e-7, 1.0), "maximize": True},
            [L3, L17],
            None,
        ),
        # The step size halves every other step down to subnormals and 0.
        (
            "alternate-underflow",
            {"lr": 1e-3, "etas": (0.5, 1.2), "step_sizes": (0.0, 50.0)},
            [(3, 320, "alternate", 1.0)],
            None,
        ),
    ],
    "asgd": [
        (
            "cancel",
            {"lr": 0.05, "lambd": 0.3, "alpha": 0.7, "t0": 5.0, "weight_decay": 5.0},
            [C3, C17],
            None,
        ),
        ("long-maximize", {"lr": 0.02, "lambd": 1e-2, "t0": -3.0, "maximize": True}, [L3, L17], None),
        (
            "cancel-maximize",
            {"lr": 0.01, "t0": 0.0, "weight_decay": 10.0, "maximize": True},
            [C3],
            None,
        ),
        # The learning rate changes every step, with averaging on.
        (
            "schedule-cosine",
            {"lr": 0.05, "lambd": 0.3, "t0": 3.0},
            [(3, 250, "mixed", 1.0)],
            COSINE_37,
        ),
        (
            "schedule-exp",
            {"lr": 0.02, "lambd": 0.1, "alpha": 0.5, "t0": 0.0},
            [(17, 200, "mixed", 1.0)],
            EXP_98,
        ),
        (
            "schedule-cosine-cancel",
            {"lr": 0.05, "lambd": 1e-2, "t0": 1.0, "weight_decay": 5.0},
            [(3, 200, "cancel", 30.0)],
            COSINE_37,
        ),
    ],
}

# optax's lion (see the docstring): argument sets, the first being the crate's defaults
# (optax's, with the crate's default learning rate 1e-4; optax has none).
LION_KEYS = ["learning_rate", "b1", "b2", "weight_decay"]
LION_GRID = [
    {"learning_rate": 1e-4},
    {"learning_rate": 1e-2, "weight_decay": 0.0},
    {"learning_rate": 1e-2},
    {"learning_rate": 1e-3, "b1": 0.5, "b2": 0.9},
    {"learning_rate": 1e-2, "b1": 0.0, "b2": 0.5, "weight_decay": 0.0},
    {"learning_rate": 0.1, "weight_decay": 0.5},
    {"learning_rate": 3e-3, "b1": 0.95, "b2": 0.98, "weight_decay": 0.1},
]
LION_DEFAULTS = {"b1": 0.9, "b2": 0.99, "weight_decay": 1e-3}
# Appended Lion cases: (label, arguments, shapes). With weight decay, lion's parameters settle
# where wd * p nearly cancels sign(c).
LION_EXTRA = [
    ("long", {"learning_rate": 1e-3}, [L3, L17]),
    ("long-large-decay", {"learning_rate": 0.1, "weight_decay": 0.5}, [L3, L17]),
    ("long-betas", {"learning_rate": 3e-3, "b1": 0.95, "b2": 0.98, "weight_decay": 2.0}, [L3]),
]

# The module-level single-tensor functions; the script checks each one ran.
SINGLE_TENSOR = {
    "sgd": (importlib.import_module("torch.optim.sgd"), "_single_tensor_sgd"),
    "adagrad": (importlib.import_module("torch.optim.adagrad"), "_single_tensor_adagrad"),
    "rmsprop": (importlib.import_module("torch.optim.rmsprop"), "_single_tensor_rmsprop"),
    "adam": (importlib.import_module("torch.optim.adam"), "_single_tensor_adam"),
    "adamw": (importlib.import_module("torch.optim.adam"), "_single_tensor_adam"),
    "adamax": (importlib.import_module("torch.optim.adamax"), "_single_tensor_adamax"),
    "nadam": (importlib.import_module("torch.optim.nadam"), "_single_tensor_nadam"),
    "radam": (importlib.import_module("torch.optim.radam"), "_single_tensor_radam"),
    "adadelta": (importlib.import_module("torch.optim.adadelta"), "_single_tensor_adadelta"),
    "rprop": (importlib.import_module("torch.optim.rprop"), "_single_tensor_rprop"),
    "asgd": (importlib.import_module("torch.optim.asgd"), "_single_tensor_asgd"),
}


def hexes(t):
    """The `%08x` bit patterns of a float32 tensor's values."""
    values = t.detach().reshape(-1).tolist()
    data = struct.pack(f"<{len(values)}f", *values)
    return " ".join(f"{w:08x}" for w in struct.unpack(f"<{len(values)}I", data))


def f32(values):
    return torch.tensor(values, dtype=torch.float32)


def fmt_hp(key, value):
    if isinstance(value, bool):
        return f"{key}={int(value)}"
    if isinstance(value, tuple):
        return f"{key}=" + ",".join(repr(float(v)) for v in value)
    return f"{key}={float(value)!r}"


def inputs(seed, n, steps, grad_scale, param_scale):
    """Initial parameters and the gradient of every step, as f32 tensors."""
    rng = random.Random(seed)
    if grad_scale == "mixed":
        scales = [10.0 ** rng.uniform(-6.0, 3.0) for _ in range(n)]
    else:
        scales = [grad_scale] * n
    direction = [rng.gauss(0.0, 1.0) for _ in range(n)]
    p0 = [param_scale * rng.gauss(0.0, 1.0) for _ in range(n)]
    if n >= 7:
        p0[1] = 0.0  # an exact zero parameter
    always_zero = n // 2 if n >= 7 else None
    grads = []
    for t in range(1, steps + 1):
        g = []
        for i in range(n):
            value = scales[i] * (direction[i] + 0.7 * rng.gauss(0.0, 1.0))
            if i == always_zero or rng.random() < 0.08 or (t == 3 and steps >= 4):
                value = 0.0
            g.append(value)
        grads.append(f32(g))
    return f32(p0), grads


def extra_inputs(seed, n, steps, kind, param_scale, hp):
    """Initial parameters and a function (t, param) -> gradient, for the appended cases."""
    rng = random.Random(seed)
    if kind == "cancel":
        p0 = [param_scale * rng.gauss(0.0, 1.0) for _ in range(n)]
        if n >= 7:
            p0[1] = 0.0
        wd = hp["weight_decay"]
        sign = -1.0 if hp.get("maximize") else 1.0

        def grad(t, param):
            # -wd * p * (1 + delta), |delta| log-uniform in [1e-7, 1e-1], computed in f64 from
            # the current f32 parameters and rounded once: grad + wd * p keeps only delta.
            p = param.detach().reshape(-1).tolist()
            g = []
            for i in range(n):
                delta = rng.choice((-1.0, 1.0)) * 10.0 ** rng.uniform(-7.0, -1.0)
                value = -sign * wd * p[i] * (1.0 + delta)
                if rng.random() < 0.05:
                    value = 0.0
                g.append(value)
            return f32(g)

        return f32(p0), grad
    if kind == "alternate":
        p0, grads = inputs(seed, n, steps, "mixed", param_scale)
        grads = [g.abs() * (1.0 if t % 2 else -1.0) for t, g in enumerate(grads, start=1)]
        return p0, lambda t, param: grads[t - 1]
    p0, grads = inputs(seed, n, steps, kind, param_scale)
    return p0, lambda t, param: grads[t - 1]


class SqrtLog(torch.overrides.TorchFunctionMode):
    """Records every float32 square root PyTorch takes (torch.sqrt, Tensor.sqrt, sqrt_):
    input bits -> output bits, without changing the computation."""

    FUNCS = (torch.sqrt, torch.Tensor.sqrt, torch.Tensor.sqrt_)

    def __init__(self):
        super().__init__()
        self.pairs = {}
        self.evaluations = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func not in self.FUNCS:
            return func(*args, **kwargs)
        x = args[0]
        assert x.dtype == torch.float32, x.dtype
        before = bits(x)
        out = func(*args, **kwargs)
        after = bits(out)
        self.evaluations += len(before)
        for i, o in zip(before, after):
            assert self.pairs.setdefault(i, o) == o, "torch.sqrt is not a function of its input"
        return out

    def differing(self):
        """The pairs whose output is not the correctly rounded square root."""
        return sorted((i, o) for i, o in self.pairs.items() if correct_sqrt_bits(i) != o)


def bits(t):
    """The bit patterns of a float32 tensor's values."""
    values = t.detach().reshape(-1).tolist()
    return struct.unpack(f"<{len(values)}I", struct.pack(f"<{len(values)}f", *values))


def correct_sqrt_bits(i):
    """The bits of the correctly rounded square root of the f32 with bits i (through f64: a
    square root rounded to binary64, then to binary32, is correctly rounded)."""
    (x,) = struct.unpack("<f", struct.pack("<I", i))
    if x != x or x < 0:
        return None  # NaN: never equal, so recorded
    if x == 0:
        return i  # sqrt(+-0) = +-0
    (r,) = struct.unpack("<I", struct.pack("<f", math.sqrt(x)))
    return r


def hp_values(group, keys):
    return {k: fmt_hp(k, group[k]) for k in keys}


def run_case(out, cls, keys, hp, case_name, shape, p0, grad, schedule, calls):
    """Runs one case on PyTorch and writes its records."""
    n, steps, grad_scale, param_scale = shape
    param = torch.nn.Parameter(p0.clone())
    kwargs = dict(hp, foreach=False)
    if "fused" in cls.__init__.__code__.co_varnames:
        kwargs["fused"] = False
    opt = cls([param], **kwargs)
    scheduler = schedule[1](opt) if schedule else None
    group = opt.param_groups[0]
    out.write(
        f"case {case_name} n={n} steps={steps} "
        f"grad_scale={grad_scale} param_scale={param_scale!r}"
        + (f" schedule={schedule[0]}" if schedule else "")
        + "\n"
    )
    current = hp_values(group, keys)
    out.write("hp " + " ".join(current.values()) + "\n")
    out.write(f"p0 {hexes(param)}\n")
    planes = None
    before = calls[0]
    for t in range(1, steps + 1):
        now = hp_values(group, keys)
        changed = [v for k, v in now.items() if v != current[k]]
        current = now
        g = grad(t, param)
        param.grad = g.clone()
        opt.step()
        state = opt.state[param]
        tensors = [k for k, v in state.items() if k != "step" and isinstance(v, torch.Tensor)]
        names = [k for k in tensors if state[k].dim() > 0]
        scalars = [k for k in tensors if state[k].dim() == 0]
        if planes is None:
            planes = names
            # `planes` (and `scalars`) go before the first step's records.
            out.write("planes" + "".join(f" {k}" for k in planes) + "\n")
            if scalars:
                out.write("scalars" + "".join(f" {k}" for k in scalars) + "\n")
            planes_scalars = scalars
        assert names == planes, (case_name, names, planes)
        assert scalars == planes_scalars, (case_name, scalars, planes_scalars)
        out.write(f"step {t}\n")
        if changed:
            out.write("set " + " ".join(changed) + "\n")
        out.write(f"g {hexes(g)}\n")
        out.write(f"p {hexes(param)}\n")
        for k in planes:
            out.write(f"s {k} {hexes(state[k])}\n")
        for k in scalars:
            assert state[k].dtype == torch.float32, (case_name, k)
            out.write(f"x {k} {hexes(state[k])}\n")
        assert torch.isfinite(param).all(), (case_name, t)
        if scheduler is not None:
            scheduler.step()
    assert calls[0] - before == steps, f"{case_name}: the single-tensor path did not run"
    out.write("end\n")


def record(name, out):
    cls, keys, grid = OPTIMIZERS[name]
    module, fn_name = SINGLE_TENSOR[name]
    original = getattr(module, fn_name)
    calls = [0]

    def counted(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    setattr(module, fn_name, counted)
    log = SqrtLog()
    try:
        out.write(f"optimizer {cls.__name__}\n")
        cases = 0
        with log:
            for i, hp in enumerate(grid):
                shapes = [("long", LONG[i % len(LONG)]), ("wide", WIDE[i % len(WIDE)])]
                for kind, shape in shapes:
                    p0, grads = inputs(hash_seed(name, i, kind), *shape)
                    label = "defaults" if not hp else f"{i:02d}"
                    run_case(out, cls, keys, hp, f"{name}-{label}-{kind}", shape, p0,
                             lambda t, param: grads[t - 1], None, calls)
                    cases += 1
            for label, hp, shapes, schedule in EXTRA[name]:
                for shape in shapes:
                    p0, grad = extra_inputs(hash_seed(name, label, shape[0]), *shape, hp)
                    run_case(out, cls, keys, hp, f"{name}-{label}-{shape[0]}", shape, p0, grad,
                             schedule, calls)
                    cases += 1
        pairs = log.differing()
        out.write(
            f"sqrt-table evaluations={log.evaluations} distinct={len(log.pairs)} "
            f"differing={len(pairs)}\n"
        )
        for k in range(0, len(pairs), 16):
            out.write("sqrt" + "".join(f" {i:08x}:{o:08x}" for i, o in pairs[k:k + 16]) + "\n")
        return cases
    finally:
        setattr(module, fn_name, original)


def record_lion(out):
    """`lion.txt`: optax's lion on the same inputs (see the docstring)."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    jax.config.update("jax_platforms", "cpu")
    out.write("optimizer Lion\n")
    runs = []
    for i, args in enumerate(LION_GRID):
        label = "defaults" if i == 0 else f"{i:02d}"
        for kind, shape in [("long", LONG[i % len(LONG)]), ("wide", WIDE[i % len(WIDE)])]:
            runs.append((f"lion-{label}-{kind}", hash_seed("lion", i, kind), args, shape))
    for label, args, shapes in LION_EXTRA:
        for shape in shapes:
            runs.append((f"lion-{label}-{shape[0]}", hash_seed("lion", label, shape[0]), args,
                         shape))
    for case_name, seed, args, (n, steps, grad_scale, param_scale) in runs:
        p0, grads = inputs(seed, n, steps, grad_scale, param_scale)
        full = dict(LION_DEFAULTS, **args)
        opt = optax.lion(**full)
        params = jnp.asarray(p0.numpy())
        state = opt.init(params)
        out.write(
            f"case {case_name} n={n} steps={steps} "
            f"grad_scale={grad_scale} param_scale={param_scale!r}\n"
        )
        out.write("hp " + " ".join(fmt_hp(k, full[k]) for k in LION_KEYS) + "\n")
        out.write("planes exp_avg\n")
        out.write(f"p0 {hexes(p0)}\n")
        for t, g in enumerate(grads, start=1):
            updates, state = opt.update(jnp.asarray(g.numpy()), state, params)
            params = optax.apply_updates(params, updates)
            (lion_state,) = [s for s in state if hasattr(s, "mu")]
            assert params.dtype == jnp.float32 and lion_state.mu.dtype == jnp.float32
            out.write(f"step {t}\n")
            out.write(f"g {hexes(g)}\n")
            out.write(f"p {hexes(torch.from_numpy(np.array(params)))}\n")
            out.write(f"s exp_avg {hexes(torch.from_numpy(np.array(lion_state.mu)))}\n")
            assert np.isfinite(np.asarray(params)).all(), (case_name, t)
        out.write("end\n")
    return len(runs)


def hash_seed(name, i, kind):
    """A seed that does not depend on Python's per-process string hashing (for the appended
    cases, i is the case's label and kind its length)."""
    text = f"{name}/{i}/{kind}"
    seed = 0
    for ch in text.encode():
        seed = (seed * 131 + ch) % (1 << 61)
    return seed


def main():
    if torch.__version__.split("+")[0] != PINNED:
        raise SystemExit(f"this script pins torch {PINNED}; found {torch.__version__}")
    torch.set_num_threads(1)
    capability = torch.backends.cpu.get_cpu_capability()
    for name in OPTIMIZERS:
        path = os.path.join(OUT_DIR, f"{name}.txt")
        with open(path, "w") as out:
            out.write("# Golden trajectories for fused-optim, written by tests/golden/generate.py;\n")
            out.write("# do not edit (see the script's docstring for the format).\n")
            out.write(f"torch {torch.__version__}\n")
            out.write(f"capability {capability}\n")
            cases = record(name, out)
        print(f"{path}: {cases} cases, {os.path.getsize(path)} bytes")
    import jax
    import optax

    path = os.path.join(OUT_DIR, "lion.txt")
    with open(path, "w") as out:
        out.write("# Golden trajectories for fused-optim, written by tests/golden/generate.py;\n")
        out.write("# do not edit (see the script's docstring for the format).\n")
        out.write("# Recorded from optax (PyTorch has no Lion); optax's `mu` is the plane exp_avg.\n")
        out.write(f"optax {optax.__version__} jax {jax.__version__}\n")
        cases = record_lion(out)
    print(f"{path}: {cases} cases, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Records golden optimizer trajectories from PyTorch for `tests/golden.rs`.

Pinned version: **torch 2.15.0** (CPU, float32), the version the committed fixtures were
made with (each fixture's header records the exact build and the ATen CPU capability).

How to reproduce (from the repository root):

    python3 -m venv /tmp/torch-venv
    /tmp/torch-venv/bin/pip install torch==2.15.0
    /tmp/torch-venv/bin/python tests/golden/generate.py

The script takes no arguments and writes `tests/golden/<optimizer>.txt` for sgd, adagrad,
rmsprop, adam, adamw, adamax, nadam, radam, adadelta, rprop, asgd (PyTorch) and lion (optax;
see below). It is deterministic: the inputs come from Python's `random` with fixed seeds, and
the optimizers run single-threaded.

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

Lion (`lion.txt`). PyTorch has no Lion; the crate follows optax's, so its fixture is recorded
from **optax 0.2.8** (jax 0.10.2, CPU, float32, eager: each operation dispatched on its own,
no `jit`), with the same grid of inputs: `optax.lion(learning_rate, b1, b2, weight_decay)`,
then `optax.apply_updates`. The header says `optax <version>` instead of `torch <version>`,
the hyper-parameters are optax's argument names, and optax's momentum (`mu` in
`ScaleByLionState`) is recorded as the plane `exp_avg`, the crate's name for it. optax is
needed only for this file (`pip install optax`); without it the script stops before
writing it.

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

Format (text, one line per record, fields separated by single spaces):

    # comment
    torch <version>                 (once, at the top)
    capability <ATen CPU capability>
    optimizer <PyTorch class name>
    case <name> n=<n> steps=<steps> grad_scale=<scale> param_scale=<scale>
    hp <key>=<value> ...            Python repr of PyTorch's param_group values; bools as 0/1;
                                     betas as b1,b2
    planes <name> ...               state tensors, in PyTorch's state order
    scalars <name> ...              (only if any) 0-d state tensors other than `step`
    p0 <n floats>                   initial parameters
    step <t>                        then, for that step:
    g <n floats>                    the gradient given
    p <n floats>                    parameters after the step
    s <plane> <n floats>            each state tensor after the step
    x <scalar> <1 float>            each 0-d state tensor after the step
    end

Floats are the `%08x` bit patterns of the f32 values, so they round-trip exactly.
"""

import importlib
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


def record(name, out):
    cls, keys, grid = OPTIMIZERS[name]
    module, fn_name = SINGLE_TENSOR[name]
    original = getattr(module, fn_name)
    calls = [0]

    def counted(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    setattr(module, fn_name, counted)
    try:
        out.write(f"optimizer {cls.__name__}\n")
        cases = 0
        for i, hp in enumerate(grid):
            shapes = [("long", LONG[i % len(LONG)]), ("wide", WIDE[i % len(WIDE)])]
            for kind, (n, steps, grad_scale, param_scale) in shapes:
                seed = hash_seed(name, i, kind)
                p0, grads = inputs(seed, n, steps, grad_scale, param_scale)
                param = torch.nn.Parameter(p0.clone())
                kwargs = dict(hp, foreach=False)
                if "fused" in cls.__init__.__code__.co_varnames:
                    kwargs["fused"] = False
                opt = cls([param], **kwargs)
                group = opt.param_groups[0]
                label = "defaults" if not hp else f"{i:02d}"
                out.write(
                    f"case {name}-{label}-{kind} n={n} steps={steps} "
                    f"grad_scale={grad_scale} param_scale={param_scale!r}\n"
                )
                out.write("hp " + " ".join(fmt_hp(k, group[k]) for k in keys) + "\n")
                out.write(f"p0 {hexes(param)}\n")
                planes = None
                before = calls[0]
                for t, g in enumerate(grads, start=1):
                    param.grad = g.clone()
                    opt.step()
                    state = opt.state[param]
                    tensors = [
                        k for k, v in state.items() if k != "step" and isinstance(v, torch.Tensor)
                    ]
                    names = [k for k in tensors if state[k].dim() > 0]
                    scalars = [k for k in tensors if state[k].dim() == 0]
                    if planes is None:
                        planes = names
                        # `planes` (and `scalars`) go before the first step's records.
                        out.write("planes" + "".join(f" {k}" for k in planes) + "\n")
                        if scalars:
                            out.write("scalars" + "".join(f" {k}" for k in scalars) + "\n")
                        planes_scalars = scalars
                    assert names == planes, (name, i, names, planes)
                    assert scalars == planes_scalars, (name, i, scalars, planes_scalars)
                    out.write(f"step {t}\n")
                    out.write(f"g {hexes(g)}\n")
                    out.write(f"p {hexes(param)}\n")
                    for k in planes:
                        out.write(f"s {k} {hexes(state[k])}\n")
                    for k in scalars:
                        assert state[k].dtype == torch.float32, (name, k)
                        out.write(f"x {k} {hexes(state[k])}\n")
                    assert torch.isfinite(param).all(), (name, i, t)
                assert calls[0] - before == steps, f"{name}: the single-tensor path did not run"
                out.write("end\n")
                cases += 1
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
    cases = 0
    for i, args in enumerate(LION_GRID):
        shapes = [("long", LONG[i % len(LONG)]), ("wide", WIDE[i % len(WIDE)])]
        for kind, (n, steps, grad_scale, param_scale) in shapes:
            seed = hash_seed("lion", i, kind)
            p0, grads = inputs(seed, n, steps, grad_scale, param_scale)
            full = dict(LION_DEFAULTS, **args)
            opt = optax.lion(**full)
            params = jnp.asarray(p0.numpy())
            state = opt.init(params)
            label = "defaults" if i == 0 else f"{i:02d}"
            out.write(
                f"case lion-{label}-{kind} n={n} steps={steps} "
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
                assert np.isfinite(np.asarray(params)).all(), ("lion", i, t)
            out.write("end\n")
            cases += 1
    return cases


def hash_seed(name, i, kind):
    """A seed that does not depend on Python's per-process string hashing."""
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

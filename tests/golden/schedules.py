#!/usr/bin/env python3
"""Records PyTorch's learning-rate schedules for `tests/schedules.rs`.

Pinned version: **torch 2.15.0** (the script refuses any other), the version the committed
fixture `tests/golden/schedules.txt` was made with. Its header records the exact build and
the Python version (Python's `float` arithmetic is IEEE binary64 everywhere; `math.cos` and
`**` come from the C library, glibc on the recording machine).

How to reproduce (from the repository root):

    python3 -m venv /tmp/torch-venv
    /tmp/torch-venv/bin/pip install torch==2.15.0
    /tmp/torch-venv/bin/python tests/golden/schedules.py

The script takes no arguments, is deterministic and writes `tests/golden/schedules.txt`.

What it records. For every schedule of the crate and every parameter set in `CASES` below
(PyTorch's defaults, typical settings and edge ones), it builds the `torch.optim.lr_scheduler`
scheduler on a one-parameter `torch.optim.SGD` whose `lr` is the base learning rate, and
records for epochs 0..=999 (PyTorch's `last_epoch`; 0 is the value after construction):

* `get_last_lr()[0]` after `epoch` calls of `scheduler.step()`: the learning rate users see.
  Most of PyTorch's schedulers compute it *recursively* (`get_lr` multiplies the previous
  learning rate), so it can differ from the closed form in the last bits, and more for
  CosineAnnealingLR (see `tests/schedules.rs`).
* the closed form, PyTorch's own `_get_closed_form_lr()` evaluated with `last_epoch = epoch`
  (the code `scheduler.step(epoch)` runs), where the scheduler has one. OneCycleLR has none
  (its `get_lr` is already a function of the step); for the warm-up + cosine schedule
  (`SequentialLR` of `LinearLR` and `CosineAnnealingLR`) it is the closed form of the
  sub-scheduler in charge of that epoch, at the sub-scheduler's own epoch.

Where PyTorch raises (OneCycleLR past `total_steps`, a division by zero), recording stops
(`step()`) or the closed form is left out, and the fixture says so.

Format (text, one record per line, fields separated by single spaces):

    # comment
    torch <version>                     (once, at the top)
    python <version>
    libc <name> <version>               (`math.cos` and `**` are the C library's)
    schedule <crate type> <case name>   starts a case
    torch <PyTorch expression>          how the case was built (informational)
    param <name>=<value> ...            the crate's field names; floats are Python reprs
                                        (they round-trip exactly), lists comma-separated
                                        (empty: nothing after `=`), bools 0/1
    epochs <n>                          step() values recorded: epochs 0..n-1
    stops <reason>                      (optional) why fewer than 1000 epochs
    closed <yes|no|from <e>>            whether closed forms are recorded (`from <e>`: only
                                        for epochs >= e; an error before)
    v <step> [<±d>] [*<k>]              values, in epoch order: `step` is the f64 bit pattern
                                        (16 hex digits) of step()'s value; `±d` (a signed
                                        decimal) is there when the closed form's bits differ:
                                        closed = step's bits + d, modulo 2^64 (for values of
                                        one sign, d is the distance in ulps); `*k` repeats
                                        the record for k consecutive epochs
    end
"""

import math
import os
import platform
import struct
import sys
import warnings

import torch
from torch.optim import lr_scheduler as S

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedules.txt")
PINNED = "2.15.0"
EPOCHS = 1000

# (crate type, case name, parameters in the crate's names). Parameter sets per schedule: the
# first is PyTorch's defaults (or its documentation's example); then typical settings; then
# edge cases (exact powers of two, underflow to subnormals and zero, zero-length phases,
# milestones at 0, repeated or unsorted, factors at the ends of their ranges, schedules
# shorter than 1000 epochs so that the periodic and extrapolated parts are recorded).
CASES = [
    ("StepLr", "doc", dict(base_lr=0.05, step_size=30, gamma=0.1)),
    ("StepLr", "every-7", dict(base_lr=3e-4, step_size=7, gamma=0.9)),
    ("StepLr", "halving", dict(base_lr=1.0, step_size=1, gamma=0.5)),
    ("StepLr", "underflow", dict(base_lr=0.1, step_size=1, gamma=0.1)),
    ("StepLr", "gamma-1", dict(base_lr=0.01, step_size=3, gamma=1.0)),
    ("StepLr", "never", dict(base_lr=0.2, step_size=1000, gamma=0.5)),
    ("MultiStepLr", "doc", dict(base_lr=0.05, milestones=[30, 80], gamma=0.1)),
    ("MultiStepLr", "zero-repeated-last", dict(base_lr=0.1, milestones=[0, 3, 3, 500, 999], gamma=0.5)),
    ("MultiStepLr", "unsorted", dict(base_lr=0.05, milestones=[700, 100, 400, 100], gamma=0.3)),
    ("MultiStepLr", "empty", dict(base_lr=0.01, milestones=[], gamma=0.1)),
    ("MultiStepLr", "dense", dict(base_lr=1e-3, milestones=list(range(1, 1000, 3)), gamma=0.99)),
    ("ExponentialLr", "gamma-0.95", dict(base_lr=0.1, gamma=0.95)),
    ("ExponentialLr", "gamma-0.999", dict(base_lr=1e-3, gamma=0.999)),
    ("ExponentialLr", "halving", dict(base_lr=1.0, gamma=0.5)),
    ("ExponentialLr", "underflow", dict(base_lr=0.1, gamma=0.1)),
    ("ExponentialLr", "gamma-1", dict(base_lr=0.01, gamma=1.0)),
    ("ExponentialLr", "gamma-0", dict(base_lr=0.1, gamma=0.0)),
    ("CosineAnnealingLr", "t1000", dict(base_lr=0.1, t_max=1000, eta_min=0.0)),
    ("CosineAnnealingLr", "t999-eta", dict(base_lr=3e-4, t_max=999, eta_min=1e-6)),
    ("CosineAnnealingLr", "t100-periodic", dict(base_lr=0.1, t_max=100, eta_min=1e-4)),
    ("CosineAnnealingLr", "t7", dict(base_lr=1.0, t_max=7, eta_min=0.0)),
    ("CosineAnnealingLr", "t1", dict(base_lr=0.01, t_max=1, eta_min=0.001)),
    ("CosineAnnealingLr", "eta-above", dict(base_lr=0.1, t_max=333, eta_min=0.2)),
    ("CosineAnnealingLr", "eta-equal", dict(base_lr=0.05, t_max=10, eta_min=0.05)),
    ("LinearLr", "defaults", dict(base_lr=0.1, start_factor=1.0 / 3, end_factor=1.0, total_iters=5)),
    ("LinearLr", "doc", dict(base_lr=0.05, start_factor=0.05, end_factor=1.0, total_iters=40)),
    ("LinearLr", "warmup-100", dict(base_lr=1e-3, start_factor=0.01, end_factor=1.0, total_iters=100)),
    ("LinearLr", "decay-to-0", dict(base_lr=0.1, start_factor=1.0, end_factor=0.0, total_iters=999)),
    ("LinearLr", "decay-to-0-short", dict(base_lr=0.3, start_factor=1.0, end_factor=0.0, total_iters=10)),
    ("LinearLr", "to-0-negative", dict(base_lr=0.1, start_factor=0.1, end_factor=0.0, total_iters=3)),
    ("LinearLr", "to-0-third", dict(base_lr=1.0, start_factor=1.0 / 3, end_factor=0.0, total_iters=25)),
    ("LinearLr", "quarter", dict(base_lr=0.2, start_factor=0.25, end_factor=0.75, total_iters=3)),
    ("LinearLr", "flat", dict(base_lr=0.1, start_factor=0.5, end_factor=0.5, total_iters=50)),
    ("LinearLr", "zero-iters", dict(base_lr=0.1, start_factor=0.1, end_factor=1.0, total_iters=0)),
    ("LinearLr", "one-iter", dict(base_lr=0.1, start_factor=0.1, end_factor=0.9, total_iters=1)),
    ("OneCycleLr", "cos", dict(max_lr=0.1, total_steps=999, pct_start=0.3, anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4, three_phase=False)),
    ("OneCycleLr", "linear", dict(max_lr=0.1, total_steps=999, pct_start=0.3, anneal_strategy="linear", div_factor=25.0, final_div_factor=1e4, three_phase=False)),
    ("OneCycleLr", "three-cos", dict(max_lr=0.01, total_steps=500, pct_start=0.25, anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4, three_phase=True)),
    ("OneCycleLr", "three-linear", dict(max_lr=1.0, total_steps=999, pct_start=0.4, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0, three_phase=True)),
    ("OneCycleLr", "fractional", dict(max_lr=0.3, total_steps=7, pct_start=0.45, anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4, three_phase=False)),
    ("OneCycleLr", "pct-0", dict(max_lr=0.1, total_steps=100, pct_start=0.0, anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4, three_phase=False)),
    ("OneCycleLr", "pct-1", dict(max_lr=0.1, total_steps=100, pct_start=1.0, anneal_strategy="linear", div_factor=25.0, final_div_factor=1e4, three_phase=False)),
    ("OneCycleLr", "three-pct-0.7", dict(max_lr=0.1, total_steps=100, pct_start=0.7, anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4, three_phase=True)),
    ("OneCycleLr", "one-step", dict(max_lr=0.1, total_steps=1, pct_start=0.3, anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4, three_phase=False)),
    ("OneCycleLr", "flat", dict(max_lr=0.05, total_steps=200, pct_start=0.3, anneal_strategy="linear", div_factor=1.0, final_div_factor=1.0, three_phase=False)),
    ("WarmupCosine", "w100-t999", dict(base_lr=0.1, warmup=100, start_factor=0.01, total=999, eta_min=0.0)),
    ("WarmupCosine", "w10-t200", dict(base_lr=3e-4, warmup=10, start_factor=0.1, total=200, eta_min=1e-6)),
    ("WarmupCosine", "w0", dict(base_lr=0.1, warmup=0, start_factor=0.1, total=500, eta_min=1e-3)),
    ("WarmupCosine", "w1", dict(base_lr=0.5, warmup=1, start_factor=1.0 / 3, total=64, eta_min=0.0)),
    ("WarmupCosine", "w5-t6", dict(base_lr=1.0, warmup=5, start_factor=0.2, total=6, eta_min=0.1)),
]


def hex64(x):
    """The bit pattern of a Python float as 16 hex digits."""
    assert isinstance(x, float), x
    return "%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def ulp_diff(a, b):
    """bits(a) - bits(b) as a signed 64-bit integer (wrapping): adding it to b's bit pattern
    modulo 2^64 gives a's. For two finite values of the same sign it is their distance in
    ulps."""
    d = (bits(a) - bits(b)) % 2**64
    return d - 2**64 if d >= 2**63 else d


def build(kind, p, opt):
    """The PyTorch scheduler for a case, and the expression, for the fixture."""
    if kind == "StepLr":
        return S.StepLR(opt, step_size=p["step_size"], gamma=p["gamma"]), (
            f"StepLR(step_size={p['step_size']}, gamma={p['gamma']!r})"
        )
    if kind == "MultiStepLr":
        return S.MultiStepLR(opt, milestones=p["milestones"], gamma=p["gamma"]), (
            f"MultiStepLR(milestones={p['milestones']!r}, gamma={p['gamma']!r})"
        )
    if kind == "ExponentialLr":
        return S.ExponentialLR(opt, gamma=p["gamma"]), f"ExponentialLR(gamma={p['gamma']!r})"
    if kind == "CosineAnnealingLr":
        return S.CosineAnnealingLR(opt, T_max=p["t_max"], eta_min=p["eta_min"]), (
            f"CosineAnnealingLR(T_max={p['t_max']}, eta_min={p['eta_min']!r})"
        )
    if kind == "LinearLr":
        keys = ("start_factor", "end_factor", "total_iters")
        return S.LinearLR(opt, **{k: p[k] for k in keys}), (
            "LinearLR(" + ", ".join(f"{k}={p[k]!r}" for k in keys) + ")"
        )
    if kind == "OneCycleLr":
        keys = ("max_lr", "total_steps", "pct_start", "anneal_strategy", "div_factor",
                "final_div_factor", "three_phase")
        args = {k: p[k] for k in keys}
        return S.OneCycleLR(opt, cycle_momentum=False, **args), (
            "OneCycleLR(" + ", ".join(f"{k}={p[k]!r}" for k in keys) + ", cycle_momentum=False)"
        )
    if kind == "WarmupCosine":
        w, t = p["warmup"], p["total"]
        lin = S.LinearLR(opt, start_factor=p["start_factor"], end_factor=1.0, total_iters=w)
        cos = S.CosineAnnealingLR(opt, T_max=t - w, eta_min=p["eta_min"])
        seq = S.SequentialLR(opt, schedulers=[lin, cos], milestones=[w])
        return seq, (
            f"SequentialLR([LinearLR(start_factor={p['start_factor']!r}, end_factor=1.0, "
            f"total_iters={w}), CosineAnnealingLR(T_max={t - w}, eta_min={p['eta_min']!r})], "
            f"milestones=[{w}])"
        )
    raise ValueError(kind)


def closed_form(kind, p, epoch):
    """PyTorch's `_get_closed_form_lr()` at `last_epoch = epoch`, or None (no closed form)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=p.get("base_lr", 0.0))
    if kind == "OneCycleLr":
        return None
    if kind == "WarmupCosine":
        w, t = p["warmup"], p["total"]
        if epoch < w:
            sched = S.LinearLR(opt, start_factor=p["start_factor"], end_factor=1.0, total_iters=w)
            sub_epoch = epoch
        else:
            sched = S.CosineAnnealingLR(opt, T_max=t - w, eta_min=p["eta_min"])
            sub_epoch = epoch - w
    else:
        sched, _ = build(kind, p, opt)
        sub_epoch = epoch
    sched.last_epoch = sub_epoch
    return sched._get_closed_form_lr()[0]


def record(kind, p):
    """(torch expression, step() values, closed forms (None: raises), why it stopped)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=p.get("base_lr", 0.0))
    sched, expr = build(kind, p, opt)
    steps, stop = [sched.get_last_lr()[0]], None
    for _ in range(1, EPOCHS):
        opt.step()
        try:
            sched.step()
        except (ValueError, ZeroDivisionError) as e:
            stop = f"{type(e).__name__}: {e}".replace("\n", " ")
            break
        steps.append(sched.get_last_lr()[0])
    closed = []
    for epoch in range(len(steps)):
        try:
            closed.append(closed_form(kind, p, epoch))
        except ZeroDivisionError:
            closed.append(None)
    return expr, steps, closed, stop


def fmt_param(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def main():
    if torch.__version__.split("+")[0] != PINNED:
        raise SystemExit(f"this script pins torch {PINNED}; found {torch.__version__}")
    warnings.simplefilter("ignore")
    lines = [
        "# PyTorch's learning-rate schedules, written by tests/golden/schedules.py;",
        "# do not edit (see the script's docstring for the format).",
        f"torch {torch.__version__}",
        f"python {sys.version.split()[0]}",
        "libc " + " ".join(platform.libc_ver()),
    ]
    for kind, name, p in CASES:
        expr, steps, closed, stop = record(kind, p)
        lines.append(f"schedule {kind} {name}")
        lines.append(f"torch {expr}")
        lines.append("param " + " ".join(f"{k}={fmt_param(v)}" for k, v in p.items()))
        lines.append(f"epochs {len(steps)}")
        if stop is not None:
            lines.append(f"stops {stop}")
        if all(c is None for c in closed):
            lines.append("closed no")
            has_closed = lambda e: False  # noqa: E731
        else:
            first = next(e for e, c in enumerate(closed) if c is not None)
            assert all(c is not None for c in closed[first:]), (kind, name)
            lines.append("closed yes" if first == 0 else f"closed from {first}")
            has_closed = lambda e: e >= first  # noqa: E731
        records = []
        for e, s in enumerate(steps):
            rec = hex64(s)
            if has_closed(e) and hex64(closed[e]) != rec:
                rec += " %+d" % ulp_diff(closed[e], s)
            if records and records[-1][0] == rec:
                records[-1][1] += 1
            else:
                records.append([rec, 1])
        for rec, k in records:
            lines.append(f"v {rec}" + (f" *{k}" if k > 1 else ""))
        lines.append("end")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {OUT}: {len(CASES)} cases, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()

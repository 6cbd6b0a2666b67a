#!/usr/bin/env python3
"""Compare fused-optim's step throughput with PyTorch and DeepSpeed, in one run.

For every group of `benches/step.rs` whose optimizer follows a `torch.optim` reference (the
groups and their hyper-parameters are listed by the bench itself, `FUSED_OPTIM_BENCH_GROUPS=1`,
so they follow the crate's registry; Lion, whose reference is optax's, is left out) this
script times one `optimizer.step()` of

* `torch.optim.<Optimizer>(fused=True)` ("torch fused", where torch has a fused CPU path: tried
  on a small tensor first),
* `torch.optim.<Optimizer>(foreach=False)` ("torch default": the single-tensor path, which is
  what PyTorch picks by default for CPU tensors),
* DeepSpeed's `DeepSpeedCPUAdam` (Adam and AdamW only: `adamw_mode=False/True`),

on a single parameter tensor of n float32 with a fixed `.grad`, runs our criterion bench
(`benches/step.rs`) for the same optimizer and n right after, and prints one markdown table per
optimizer with the ratios. Throughput is in Melem/s (n / seconds per step / 1e6). Each torch and
DeepSpeed figure is, like criterion's, a median over 20 samples of the mean step time in a batch
of steps (each batch ~1/20 of `--time`), after a warm-up. Hyper-parameters are those of
`benches/step.rs` (the learning rate and the options each group sets, by their field names,
which are PyTorch's; everything else at the defaults, which are PyTorch's), and so are the
parameter and gradient values (no zero gradients, hence no subnormal moments).

Threads: `OMP_NUM_THREADS` and `torch.set_num_threads` are set to `--threads` (default 1)
before torch is imported; DeepSpeed's CPU Adam is OpenMP-parallel and follows
`OMP_NUM_THREADS`. Our bench is single-threaded whatever `--threads` says.

Set up (once; any Python >= 3.9):

    python3 -m venv ~/torch-venv
    ~/torch-venv/bin/pip install torch deepspeed ninja
    # CPU-only torch is enough (and much smaller):
    #   ~/torch-venv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    #   ~/torch-venv/bin/pip install deepspeed ninja

Run (from anywhere; at all sizes on a 2-core machine the 10 SGD-to-AdamW groups took 10-15
minutes, so all 16 groups with a torch counterpart take about 1.6 times that):

    ~/torch-venv/bin/python benches/compare.py --markdown bench-results.md
    ~/torch-venv/bin/python benches/compare.py --sizes 4096,65536 --optimizers adam,adamw
    ~/torch-venv/bin/python benches/compare.py --threads 2 --optimizers adam,adamw

DeepSpeed on a CPU-only machine: `pip install deepspeed` installs Python only; on first use
`DeepSpeedCPUAdam` JIT-compiles its C++ op (`csrc/adam/cpu_adam.cpp`) with torch's
cpp_extension, which needs `ninja` on PATH and a C++ compiler (g++). This script

* puts the venv's `bin/` (where pip installs `ninja`) at the front of PATH, so the venv need not
  be activated;
* sets `DS_ACCELERATOR=cpu` (unless already set), so DeepSpeed does not look for CUDA even with a
  CUDA build of torch, and builds the op for the CPU accelerator: `-O3 -march=native -fopenmp
  -D__AVX512__` (or `-D__AVX256__`) on x86_64, i.e. for the build machine's own CPU;
* sets `PYTORCH_NVML_BASED_CUDA_CHECK=0` (unless already set): `import deepspeed` sets it to 1,
  which with a CUDA build of torch on a machine without a GPU makes every torch
  `optimizer.step()` call `torch.cuda.is_available()` through a failing NVML `dlopen`, adding
  ~35 us per step to the torch columns (3x at n = 4 096) for no reason of torch's own;
* sends the build's output to stderr. The first build takes 1-3 minutes; it is cached in
  `~/.cache/torch_extensions/` (or `$TORCH_EXTENSIONS_DIR`) and reused after that.

If DeepSpeed is missing or its op cannot be built, the DeepSpeed columns are left out and the
reason is printed; everything else still runs.

Our numbers come from criterion. The bench is built once, at the start, in a default build
(`cargo bench --bench step --no-run`, also with `--no-rust`: it lists the groups; RUSTFLAGS
from the environment, if any, are reported), so
the whole run measures one build even if the tree changes meanwhile. Then, one optimizer and n at
a time, the torch and DeepSpeed cases are timed and the bench binary is run right after them
with FUSED_OPTIM_BENCH_SIZES=n, a filter selecting the Scalar back-end, the back-end
`Backend::Auto` picks on this CPU (Avx512, else Avx2, else Simd) and the same-traffic
`reference` kernel, and `--save-baseline compare-py`: the numbers in one ratio are taken seconds
apart, not minutes, which matters on a shared machine. The estimates read back are
`<criterion dir>/<group>/<Backend>/<n>/compare-py/estimates.json` written by this run (another
`cargo bench` running at the same time cannot overwrite them). "ours/ref" is our throughput as a
percentage of the reference kernel: of what memory allows once n is out of cache (in cache the
reference, a plain loop in a default build, is no bound and ours/ref may exceed 100 %).

Standard library, torch and (optionally) deepspeed only.
"""

import argparse
import contextlib
import datetime
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SIZES = [1 << 10, 1 << 12, 1 << 16, 1 << 20, 1 << 24]
BASELINE = "compare-py"
SAMPLES = 20  # timed batches per torch/DeepSpeed case, as criterion's sample_size in step.rs

TORCH = "torch.optim."
# The DeepSpeedCPUAdam mode that matches a bench group (adamw_mode=False/True): DeepSpeed's CPU
# Adam implements these two, at their defaults only.
DEEPSPEED = {"adam": "adam", "adamw": "adamw"}


def parse_args():
    ap = argparse.ArgumentParser(
        description="fused-optim vs torch.optim and DeepSpeedCPUAdam, side by side."
    )
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                    help="comma-separated n (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for torch and DeepSpeed (default 1; ours stays 1)")
    ap.add_argument("--optimizers", default=None,
                    help="comma-separated bench groups (default: every group with a torch.optim "
                         "reference)")
    ap.add_argument("--time", type=float, default=1.0,
                    help="seconds of measurement per torch/DeepSpeed case (default 1.0)")
    ap.add_argument("--warmup", type=float, default=0.3,
                    help="seconds of warm-up per case (default 0.3; at least 3 steps)")
    ap.add_argument("--estimate", choices=["median", "mean", "slope"], default="median",
                    help="criterion point estimate to read (default median)")
    ap.add_argument("--no-rust", action="store_true", help="do not run our criterion bench")
    ap.add_argument("--no-deepspeed", action="store_true", help="skip DeepSpeedCPUAdam")
    ap.add_argument("--markdown", metavar="PATH", help="also write the tables to PATH")
    args = ap.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.optimizers is not None:
        args.optimizers = [s.strip() for s in args.optimizers.split(",") if s.strip()]
    args.error = ap.error  # the groups are checked once the bench has listed them
    return args


ARGS = parse_args()
# Before torch (and its OpenMP runtime) is loaded.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)
os.environ.setdefault("DS_ACCELERATOR", "cpu")
# `import deepspeed` sets this to 1 if unset; with a CUDA build of torch on a machine without a
# GPU, every torch optimizer.step() then re-probes NVML (a failing dlopen), ~35 us per step.
os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "0")
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")

import torch  # noqa: E402

torch.set_num_threads(ARGS.threads)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


@contextlib.contextmanager
def stdout_to_stderr():
    """Send everything written to fd 1 (Python prints and the ninja/g++ children) to fd 2."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# ----------------------------------------------------------------------------------- timing


def make_param(n):
    """Parameters and gradients as in benches/step.rs."""
    i = torch.arange(n, dtype=torch.int64)
    p = torch.nn.Parameter((i % 97).to(torch.float32) * 0.01)
    p.grad = ((i % 89).to(torch.float32) - 44.5) * 1e-3
    return p


def time_step(opt):
    """Seconds per opt.step(): the median over SAMPLES batches of the mean step time in each
    batch, after a warm-up; the same statistic as criterion's median (of samples that are
    batches of iterations), so both sides absorb interruptions by other processes alike. (The
    median of single-step timings would skip the interrupted steps on a loaded machine and
    flatter whichever side is timed that way.)"""
    step, clock = opt.step, time.perf_counter
    t0, k = clock(), 0
    while k < 3 or clock() - t0 < ARGS.warmup:
        step()
        k += 1
    per_step = (clock() - t0) / k
    batch = max(1, round(ARGS.time / SAMPLES / per_step))
    samples, end = [], clock() + ARGS.time
    while len(samples) < 5 or (clock() < end and len(samples) < 2 * SAMPLES):
        t0 = clock()
        for _ in range(batch):
            step()
        samples.append((clock() - t0) / batch)
    return statistics.median(samples)


def melem(n, seconds):
    return n / seconds / 1e6


def torch_optimizer(cls, kwargs, fused, p):
    """fused=True, or the single-tensor path."""
    extra = dict(fused=True) if fused else dict(foreach=False)
    return getattr(torch.optim, cls)([p], **extra, **kwargs)


def has_fused(cls, kwargs):
    """Whether torch has a fused CPU path for this optimizer (RMSprop, for one, has no `fused`
    argument at all): one step on a small tensor."""
    try:
        torch_optimizer(cls, kwargs, True, make_param(16)).step()
        return True
    except Exception as e:  # TypeError (no such argument), RuntimeError (no CPU kernel), ...
        log(f"  torch.optim.{cls}: no fused path ({type(e).__name__}: {str(e).strip()[:80]})")
        return False


def load_deepspeed():
    """DeepSpeedCPUAdam, JIT-built if need be, or (None, reason, version)."""
    if ARGS.no_deepspeed:
        return None, "--no-deepspeed", None
    try:
        with stdout_to_stderr():
            import deepspeed
            from deepspeed.ops.adam import DeepSpeedCPUAdam

            log("DeepSpeed: loading (first use JIT-builds cpu_adam, 1-3 minutes) ...")
            p = make_param(16)
            DeepSpeedCPUAdam([p], adamw_mode=False).step()  # builds and loads the op
        return DeepSpeedCPUAdam, None, deepspeed.__version__
    except Exception as e:  # ImportError, build failure (RuntimeError, CalledProcessError), ...
        chain = []  # DeepSpeed wraps the real cause (no ninja, compiler error) in RuntimeErrors
        while e is not None:
            lines = str(e).strip().splitlines()
            chain.append(f"{type(e).__name__}: {lines[-1] if lines else ''}")
            e = e.__cause__ or e.__context__
        return None, " <- ".join(chain), None


def run_python(group, cls, kwargs, has_fused, ds_mode, n, ds_cls, out):
    """Adds {(group, column, n): Melem/s} for columns 'fused', 'default', 'deepspeed' to out."""
    cases = [("default", lambda p: torch_optimizer(cls, kwargs, False, p))]
    if has_fused:
        cases.insert(0, ("fused", lambda p: torch_optimizer(cls, kwargs, True, p)))
    if ds_mode and ds_cls is not None:
        wd = 1e-2 if ds_mode == "adamw" else 0.0  # torch's AdamW default, as ours
        cases.append(("deepspeed", lambda p: ds_cls(
            [p], weight_decay=wd, adamw_mode=(ds_mode == "adamw"))))
    for column, make in cases:
        p = make_param(n)
        try:
            opt = make(p)
            out[group, column, n] = melem(n, time_step(opt))
            log(f"  {group:<26} {column:<9} n={n:<9} {out[group, column, n]:9.1f} Melem/s")
        except Exception as e:
            log(f"  {group:<26} {column:<9} n={n:<9} failed: {type(e).__name__}: {e}")
        finally:
            opt = p = None
            gc.collect()


# ------------------------------------------------------------------------------------- ours


def auto_backend_candidates():
    """The back-ends `Backend::Auto` may pick here, best first, as far as Python can tell."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return ["Simd"]
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), None)
    except OSError:
        flags = None
    if flags is None:  # not Linux: bench all three and take the best one available
        return ["Avx512", "Avx2", "Simd"]
    if "avx512f" in flags:
        return ["Avx512"]
    if "avx2" in flags:
        return ["Avx2"]
    return ["Simd"]


def bench_groups(exe):
    """The bench's groups, as it lists them (FUSED_OPTIM_BENCH_GROUPS=1, in bench order), as
    (group, torch class, kwargs, fused, DeepSpeed mode or None) for those whose optimizer follows
    torch.optim; the others are reported and left out."""
    env = dict(os.environ, FUSED_OPTIM_BENCH_GROUPS="1")
    out = subprocess.run([exe], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    groups, skipped = [], []
    for line in out.splitlines():
        g = json.loads(line)
        if not g["reference"].startswith(TORCH):
            skipped.append(f"{g['group']} ({g['reference']})")
            continue
        cls = g["reference"][len(TORCH):]
        # JSON arrays are pairs (betas, etas, step_sizes): tuples, as torch documents them.
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in g["kwargs"].items()}
        groups.append((g["group"], cls, kwargs, None, DEEPSPEED.get(g["group"])))
    if skipped:
        log("no torch.optim counterpart, left out: " + ", ".join(skipped))
    return groups


def build_rust():
    """Build the step bench once (so the whole run measures one build); its path and the
    criterion directory it will write to."""
    cmd = ["cargo", "bench", "--bench", "step", "--no-run", "--message-format=json"]
    log("\nBuilding our bench: " + " ".join(cmd))
    res = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True, check=True)
    exe = None
    for line in res.stdout.splitlines():
        msg = json.loads(line) if line.startswith("{") else {}
        if (msg.get("reason") == "compiler-artifact" and msg.get("executable")
                and msg["target"]["name"] == "step" and "bench" in msg["target"]["kind"]):
            exe = msg["executable"]
    if exe is None:
        raise RuntimeError("cargo did not report the step bench executable")
    crit = os.environ.get("CRITERION_HOME")
    if not crit:
        meta = json.loads(subprocess.run(
            ["cargo", "metadata", "--no-deps", "--format-version", "1"],
            cwd=REPO, stdout=subprocess.PIPE, text=True, check=True).stdout)
        crit = os.path.join(meta["target_directory"], "criterion")
    return exe, crit


def run_rust(exe, crit, group, n, backends, out):
    """Our bench for one group and n; adds {(group, backend, n): Melem/s} to out, from the
    estimates this run wrote."""
    ids = backends + ["Scalar", "reference"]
    bench_filter = f"^{group}/(?:{'|'.join(ids)})/{n}$"
    env = dict(os.environ, FUSED_OPTIM_BENCH_SIZES=str(n), CRITERION_HOME=crit)
    started = time.time() - 1
    subprocess.run([exe, "--bench", bench_filter, "--save-baseline", BASELINE],
                   cwd=REPO, env=env, stdout=sys.stderr, check=True)
    for backend in ids:
        path = os.path.join(crit, group, backend, str(n), BASELINE, "estimates.json")
        if not os.path.exists(path) or os.path.getmtime(path) < started:
            continue  # not available on this CPU (not benched)
        with open(path) as f:
            est = json.load(f)
        ns = (est.get(ARGS.estimate) or est["median"])["point_estimate"]  # slope: may be null
        out[group, backend, n] = n / ns * 1e3
        log(f"  {group:<26} {backend:<9} n={n:<9} {out[group, backend, n]:9.1f} Melem/s")


def pick_auto(out, backends):
    """Auto: the first candidate that ran (unavailable back-ends are not benched)."""
    auto = next((b for b in backends if any(k[1] == b for k in out)), None)
    for (group, backend, n), v in list(out.items()):
        if backend == auto:
            out[group, "auto", n] = v
    return auto


# ------------------------------------------------------------------------------------ report


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO).stdout.strip()
    except OSError:
        return ""


def machine_name():
    for line in sh(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            name = line.split(":", 1)[1].strip()
            fam = re.search(r"^CPU family:\s*(\d+)", sh(["lscpu"]), re.M)
            mod = re.search(r"^Model:\s*(\d+)", sh(["lscpu"]), re.M)
            if fam and mod:
                name += f" (family {fam.group(1)}, model {mod.group(1)})"
            return f"{name}, {os.cpu_count()} CPUs"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def fmt_rate(v):
    if v is None:
        return "—"
    return f"{v:,.0f}".replace(",", " ") if v >= 100 else f"{v:.1f}"


def fmt_ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}×"


def fmt_pct(a, b):
    return "—" if a is None or b is None else f"{100 * a / b:.0f} %"


def tables(optimizers, sizes, py, rs, auto, header):
    lines = list(header)
    auto_name = f"ours ({auto})" if auto else "ours"
    for group, cls, kwargs, _, _ in optimizers:
        def get(src, col, n):
            return src.get((group, col, n))

        # (title, value per n); columns with no value at any n are left out.
        cols = [
            ("n", lambda n: str(n)),
            (auto_name, lambda n: fmt_rate(get(rs, "auto", n))),
            ("ours Scalar", lambda n: fmt_rate(get(rs, "Scalar", n))),
            ("reference", lambda n: fmt_rate(get(rs, "reference", n))),
            ("torch fused", lambda n: fmt_rate(get(py, "fused", n))),
            ("torch default", lambda n: fmt_rate(get(py, "default", n))),
            ("DeepSpeed", lambda n: fmt_rate(get(py, "deepspeed", n))),
            ("ours/fused", lambda n: fmt_ratio(get(rs, "auto", n), get(py, "fused", n))),
            ("ours/default", lambda n: fmt_ratio(get(rs, "auto", n), get(py, "default", n))),
            ("ours/DS", lambda n: fmt_ratio(get(rs, "auto", n), get(py, "deepspeed", n))),
            ("ours/ref", lambda n: fmt_pct(get(rs, "auto", n), get(rs, "reference", n))),
            ("ours/Scalar", lambda n: fmt_ratio(get(rs, "auto", n), get(rs, "Scalar", n))),
        ]
        rows = [[f(n) for _, f in cols] for n in sizes]
        keep = [i for i in range(len(cols)) if i == 0 or any(r[i] != "—" for r in rows)]
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        lines += ["", f"### `{group}` — torch.optim.{cls}({args})", ""]
        lines.append("| " + " | ".join(cols[i][0] for i in keep) + " |")
        lines.append("|" + "|".join("---:" for _ in keep) + "|")
        lines += ["| " + " | ".join(r[i] for i in keep) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main():
    sizes = ARGS.sizes
    t0 = time.time()
    # Built even with --no-rust: the bench lists the groups.
    exe, crit = build_rust()
    groups = bench_groups(exe)
    known = [g[0] for g in groups]
    for name in ARGS.optimizers or []:
        if name not in known:
            ARGS.error(f"unknown optimizer {name!r}; known: {', '.join(known)}")
    chosen = ARGS.optimizers or known
    optimizers = [(group, cls, kwargs, has_fused(cls, kwargs), ds)
                  for group, cls, kwargs, _, ds in groups if group in chosen]
    if ARGS.no_rust:
        exe = None
    else:
        backends = auto_backend_candidates()
        log(f"bench executable {exe}; criterion output in {crit}")
    commit = sh(["git", "rev-parse", "--short", "HEAD"])
    dirty = " (with uncommitted changes)" if sh(["git", "status", "--porcelain", "-uno"]) else ""
    ds_cls, ds_reason, ds_version = (None, "no Adam/AdamW selected", None)
    if any(o[4] for o in optimizers):
        ds_cls, ds_reason, ds_version = load_deepspeed()
        if ds_cls is None:
            log(f"DeepSpeed skipped: {ds_reason}")
    log(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); sizes {sizes}")
    # Interleaved, one optimizer and n at a time, so that the numbers each ratio divides are
    # taken within seconds of each other (the load on a shared machine drifts over minutes).
    py, rs = {}, {}
    for group, cls, kwargs, has_fused, ds_mode in optimizers:
        for n in sizes:
            run_python(group, cls, kwargs, has_fused, ds_mode, n, ds_cls, py)
            if exe:
                run_rust(exe, crit, group, n, backends, rs)
    auto = pick_auto(rs, backends) if exe else None

    rustflags = os.environ.get("RUSTFLAGS") or os.environ.get("CARGO_ENCODED_RUSTFLAGS")
    cap = getattr(torch.backends.cpu, "get_cpu_capability", lambda: "?")()
    header = [
        f"Machine: {machine_name()}; {platform.system()} {platform.release()}",
        f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"took {(time.time() - t0) / 60:.1f} min; load average at the end "
        + (" / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"),
        f"torch {torch.__version__} (CPU capability {cap}), {ARGS.threads} thread(s); "
        + (f"DeepSpeed {ds_version} (DeepSpeedCPUAdam, OMP_NUM_THREADS={ARGS.threads})"
           if ds_version else f"DeepSpeed: not measured ({ds_reason})"),
        (f"fused-optim {commit}{dirty}, {sh(['rustc', '--version'])}, "
         f"RUSTFLAGS={rustflags or 'none (default build)'}, 1 thread, criterion {ARGS.estimate}"
         if not ARGS.no_rust else "fused-optim: not run (--no-rust)"),
        "",
        "Melem/s (higher is better). ours = the back-end Backend::Auto picks"
        + (f" ({auto})" if auto else "") + "; reference = same-traffic kernel "
        "(ours/ref = % of what memory allows, meaningful once n is out of cache); "
        "torch default = foreach=False, single tensor.",
    ]
    if ARGS.threads > 1 and not ARGS.no_rust:
        header.append(f"Ratios are ours on 1 thread against torch and DeepSpeed on {ARGS.threads}.")
    text = tables(optimizers, sizes, py, rs, auto, header)
    print(text)
    if ARGS.markdown:
        with open(ARGS.markdown, "w") as f:
            f.write(text)
        log(f"wrote {ARGS.markdown}")


if __name__ == "__main__":
    main()

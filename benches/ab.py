#!/usr/bin/env python3
"""A/B throughput of two commits' `benches/step.rs`, measured in one run.

    python3 benches/ab.py OLD NEW [--sizes 65536] [--time 1.0] [--rustflags "..."] [--only RE]

Builds the criterion bench of each commit (a `git worktree` under /tmp, removed afterwards,
default release build unless --rustflags), then for every bench group runs OLD and NEW one
after the other (interleaved, so drift in the machine's load hits both) and prints a markdown
table of Melem/s per group and back-end with the ratio NEW / OLD. Groups and back-ends that
only one commit has are skipped; `--only` keeps the groups whose name matches a regular
expression. Only the standard library is used.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

LINE = re.compile(r"^(\S+)/(\w+)/(\d+)\s*$")
THRPT = re.compile(r"thrpt:\s+\[\S+ \S+ (\S+) (\S+)")
UNIT = {"elem/s": 1e-6, "Kelem/s": 1e-3, "Melem/s": 1.0, "Gelem/s": 1e3}


def build(repo, commit, rustflags, root):
    tree = os.path.join(root, commit)
    subprocess.run(["git", "-C", repo, "worktree", "add", "--detach", tree, commit],
                   check=True, capture_output=True)
    # One target directory: the dependencies build once; each work tree's crate has its own
    # hash (its path differs), so the two bench executables do not collide.
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(root, "target"))
    if rustflags:
        env["RUSTFLAGS"] = rustflags
    out = subprocess.run(["cargo", "bench", "--bench", "step", "--no-run", "--message-format",
                          "json"], cwd=tree, env=env, check=True, capture_output=True, text=True)
    exe = None
    for line in out.stdout.splitlines():
        m = re.search(r'"executable":"([^"]+)"', line)
        if m and "/deps/step-" in m.group(1):
            exe = m.group(1)
    if exe is None:
        sys.exit(f"no bench executable for {commit}")
    return tree, exe


def groups(exe, sizes):
    out = subprocess.run([exe, "--bench", "--list"], check=True, capture_output=True, text=True,
                         env=dict(os.environ, FUSED_OPTIM_BENCH_SIZES=sizes)).stdout
    seen = []
    for line in out.splitlines():
        name = line.split("/")[0]
        if line.endswith(": benchmark") and name not in seen and "2_threads" not in name:
            seen.append(name)
    return seen


def run(exe, group, sizes, seconds):
    out = subprocess.run(
        [exe, "--bench", f"^{re.escape(group)}/", "--measurement-time", str(seconds),
         "--warm-up-time", "0.5", "--noplot"],
        capture_output=True, text=True, env=dict(os.environ, FUSED_OPTIM_BENCH_SIZES=sizes)).stdout
    result, current = {}, None
    for line in out.splitlines():
        m = LINE.match(line.strip())
        if m:
            current = (m.group(2), int(m.group(3)))
            continue
        parts = line.strip().split()
        if parts and parts[0].count("/") == 2 and "time:" in line:
            g, backend, n = parts[0].split("/")
            current = (backend, int(n))
        t = THRPT.search(line)
        if t and current:
            result[current] = float(t.group(1)) * UNIT[t.group(2)]
            current = None
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--sizes", default="65536")
    ap.add_argument("--time", type=float, default=1.0)
    ap.add_argument("--rustflags", default="")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    repo = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                          text=True, check=True).stdout.strip()
    root = tempfile.mkdtemp(prefix="fused-optim-ab-")
    trees = []
    try:
        old_tree, old = build(repo, a.old, a.rustflags, root)
        trees.append(old_tree)
        new_tree, new = build(repo, a.new, a.rustflags, root)
        trees.append(new_tree)
        common = [g for g in groups(new, a.sizes) if g in groups(old, a.sizes)
                  and re.search(a.only, g)]
        print(f"| group | back-end | n | {a.old} Melem/s | {a.new} Melem/s | new / old |")
        print("|---|---|---:|---:|---:|---:|")
        for g in common:
            before, after = run(old, g, a.sizes, a.time), run(new, g, a.sizes, a.time)
            for key in after:
                if key in before:
                    print(f"| {g} | {key[0]} | {key[1]} | {before[key]:.0f} | {after[key]:.0f} "
                          f"| {after[key] / before[key]:.2f} |", flush=True)
    finally:
        for tree in trees:
            subprocess.run(["git", "-C", repo, "worktree", "remove", "--force", tree],
                           capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

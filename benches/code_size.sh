#!/usr/bin/env bash
# code-size.sh: code-size and structure figures for a fused-optim checkout (issue 11).
#
#   bash code-size.sh REPO_DIR [OUT_DIR]
#
# Builds the checkout as it is in the work tree (nothing in REPO_DIR is written: every build
# goes to a scratch directory) and prints:
#   1. code size, in bytes, for x86_64-unknown-linux-gnu (default features) and
#      thumbv7em-none-eabihf (--no-default-features), each at opt-level 3 and "s", built as
#      `cargo rustc --release --lib -- --emit=obj -C codegen-units=1` (v0 symbol mangling, so
#      generic arguments show in the names):
#        adam_named  sum of the sizes of the code symbols of the crate's object whose demangled
#                    name mentions `Adam` (not preceded by a letter, not followed by `W` or `ax`)
#                    and mentions none of AdamW, NAdam, RAdam, Adamax. Today: Adam's
#                    Apply::apply, Optimizer::validate, and the walk_* kernels monomorphised on
#                    AdamStep<F>.
#        adam_reach  sum of the sizes of the code symbols reachable from that set through the
#                    object's relocations (code and data, transitively): adds the shared
#                    helpers Adam's code calls that are not inlined. Code outside the crate
#                    (core, libm, std_detect) is not in the object and is not counted.
#                    Symbols at one address (functions LLVM folded together) count once.
#        crate_text  the sum of all .text* sections of the crate's object.
#      and a "firmware" size for thumbv7em-none-eabihf: the text column of `llvm-size` (code +
#      read-only data) of a no_std binary (release, fat LTO, codegen-units=1, panic=abort) that
#      calls only `Adam::step`, and of one that calls every optimizer's `step`, all
#      hyper-parameters behind black_box so every specialisation is kept.
#   2. for each of the 12 optimizers, how many tracked files (excluding tests/golden/*.txt and
#      fuzz/corpus/) mention it as a whole word, by type name (case-sensitive) or lower-case
#      name (`git grep -w`; `_` is a word character, so `adam_x` and `AdamW` do not count for
#      Adam); the list for Lion.
#   3. if the `duplicates` command is on PATH: its first line for REPO/src and for REPO
#      (--most 100); the full outputs are written to OUT_DIR.
#
# Installs what it needs: the rustup target thumbv7em-none-eabihf and the llvm-tools
# component (falls back to llvm-nm/llvm-objdump/llvm-size on PATH, installing Debian's
# `llvm` package if need be). Needs cargo, rustup, git and python3.
# Environment: ADAM_NAME_RE / ADAM_EXCLUDE_RE override the two patterns (Python regexes);
# KEEP_WORK=1 keeps the scratch directory (builds, objects, symbol lists).
set -euo pipefail

usage() { echo "usage: $0 REPO_DIR [OUT_DIR]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
REPO=$(cd "$1" && pwd) || usage
[ -f "$REPO/Cargo.toml" ] || { echo "no Cargo.toml in $REPO" >&2; exit 2; }
OUT=${2:-}
WORK=$(mktemp -d /tmp/code-size.XXXXXX)
if [ "${KEEP_WORK:-0}" = 1 ]; then
    echo "scratch directory kept: $WORK" >&2
else
    trap 'rm -rf "$WORK"' EXIT
fi
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/code-size-out.XXXXXX)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

export ADAM_NAME_RE=${ADAM_NAME_RE:-'(?<![A-Za-z])Adam(?!W|ax)'}
export ADAM_EXCLUDE_RE=${ADAM_EXCLUDE_RE:-'AdamW|NAdam|RAdam|Adamax'}
export CARGO_TERM_COLOR=never
# Flags from the caller's environment would change the figures.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_BUILD_TARGET CARGO_TARGET_DIR \
    CARGO_PROFILE_RELEASE_LTO CARGO_PROFILE_RELEASE_CODEGEN_UNITS CARGO_PROFILE_RELEASE_OPT_LEVEL

log() { echo "[code-size] $*" >&2; }

# ---- toolchain: the one the checkout selects, used for the firmware crate too ----------------
cd "$REPO"
TOOLCHAIN=$(rustup show active-toolchain | awk '{print $1; exit}')
export RUSTUP_TOOLCHAIN=$TOOLCHAIN
HOST=$(rustc -vV | awk '/^host:/ {print $2}')
THUMB=thumbv7em-none-eabihf
rustup target add "$THUMB" >&2
TOOLS=$(rustc --print sysroot)/lib/rustlib/$HOST/bin
if [ ! -x "$TOOLS/llvm-nm" ]; then
    rustup component add llvm-tools >&2 || rustup component add llvm-tools-preview >&2 || true
fi
if [ -x "$TOOLS/llvm-nm" ] && [ -x "$TOOLS/llvm-objdump" ] && [ -x "$TOOLS/llvm-size" ]; then
    NM=$TOOLS/llvm-nm OBJDUMP=$TOOLS/llvm-objdump SIZE=$TOOLS/llvm-size
else
    if ! command -v llvm-objdump >/dev/null; then
        log "llvm-tools unavailable: installing Debian's llvm"
        apt-get update -qq >&2 && apt-get install -y -qq llvm >&2
    fi
    NM=$(command -v llvm-nm) OBJDUMP=$(command -v llvm-objdump) SIZE=$(command -v llvm-size)
fi
export NM OBJDUMP SIZE
COMMIT=$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null | head -1)
log "repo $REPO at $COMMIT${DIRTY:+ (+ uncommitted changes)}, toolchain $TOOLCHAIN"

# ---- 1a. the crate's object, four configurations --------------------------------------------
# analyse OBJ: prints "adam_named adam_reach crate_text n_named n_reach" and writes OBJ.syms
analyse() {
    python3 - "$1" <<'PY'
import os, re, subprocess, sys
obj = sys.argv[1]
objdump = os.environ["OBJDUMP"]
def run(*a):
    return subprocess.run(a, check=True, capture_output=True, text=True).stdout.splitlines()
# Symbol table, mangled and demangled (same order). Line: VALUE FLAGS... SECTION SIZE NAME
line_re = re.compile(r"^([0-9a-fA-F]+) (.{7}) (\S+)\s+([0-9a-fA-F]+) (.*)$")
raw, dem = run(objdump, "-t", obj), run(objdump, "-t", "-C", obj)
syms = []          # (mangled, demangled, section, size, is_code)
for a, b in zip(raw, dem):
    ma, mb = line_re.match(a), line_re.match(b)
    if not ma or not mb:
        continue
    flags, sec, size, name = ma.group(2), ma.group(3), int(ma.group(4), 16), ma.group(5)
    if sec == "*UND*" or name.startswith("$"):
        continue
    syms.append((name, mb.group(5), sec, size, "F" in flags and sec.startswith(".text"), ma.group(1)))
by_name = {s[0]: s for s in syms}
in_section = {}
for s in syms:
    in_section.setdefault(s[2], []).append(s)
# Relocations: section -> referenced symbols or sections.
refs, cur = {}, None
for l in run(objdump, "-r", obj):
    m = re.match(r"^RELOCATION RECORDS FOR \[(.*)\]:", l)
    if m:
        cur = m.group(1)
        # .rel(a).text.x sections are named after the section they patch
        cur = re.sub(r"^\.rela?(?=\.)", "", cur)
        continue
    parts = l.split()
    if cur and len(parts) >= 3 and re.match(r"^[0-9a-fA-F]+$", parts[0]):
        target = re.sub(r"[+-]0x[0-9a-fA-F]+$", "", parts[2])
        refs.setdefault(cur, set()).add(target)
name_re = re.compile(os.environ["ADAM_NAME_RE"])
excl_re = re.compile(os.environ["ADAM_EXCLUDE_RE"])
named = [s for s in syms if s[4] and name_re.search(s[1]) and not excl_re.search(s[1])]
# Reachability over sections (rustc emits one section per function and per datum).
seen, todo = set(), [s[2] for s in named]
while todo:
    sec = todo.pop()
    if sec in seen:
        continue
    seen.add(sec)
    for t in refs.get(sec, ()):
        if t in by_name:
            todo.append(by_name[t][2])
        elif t in in_section:
            todo.append(t)
reach = [s for s in syms if s[4] and s[2] in seen]
def unique(lst):
    """Code symbols at one address (identical functions folded into one) count once."""
    out = {}
    for s in lst:
        key = (s[2], s[5])
        out[key] = (s[0], out[key][1] + " = " + s[1] if key in out else s[1], s[2], s[3])
    return list(out.values())
named, reach = unique(named), unique(reach)
sections = run(os.environ["SIZE"], "-A", obj)
text = sum(int(p[1]) for p in (l.split() for l in sections) if len(p) >= 2 and p[0].startswith(".text") and p[1].isdigit())
with open(obj + ".syms", "w") as f:
    for tag, lst in (("named", named), ("reach", reach)):
        for s in sorted(lst, key=lambda s: -s[3]):
            f.write(f"{tag}\t{s[3]}\t{s[1]}\n")
print(sum(s[3] for s in named), sum(s[3] for s in reach), text, len(named), len(reach))
PY
}

declare -A ROW
for cfg in "x86_64 3" "x86_64 s" "thumbv7em 3" "thumbv7em s"; do
    set -- $cfg
    arch=$1 opt=$2
    if [ "$arch" = x86_64 ]; then target=$HOST; extra=(); else target=$THUMB; extra=(--no-default-features); fi
    tdir=$WORK/target-$arch-O$opt
    log "building lib for $target, opt-level $opt"
    CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt cargo rustc -q --manifest-path "$REPO/Cargo.toml" \
        --release --lib --target "$target" "${extra[@]}" --target-dir "$tdir" -- \
        --emit=obj -C codegen-units=1 -C symbol-mangling-version=v0 >&2
    obj=$(ls -t "$tdir/$target/release/deps/"fused_optim-*.o | head -1)
    res=$(analyse "$obj")
    read -r named reach text nn nr <<<"$res"
    cp "$obj.syms" "$OUT/symbols-$arch-O$opt.txt"
    ROW[$arch-$opt]="$named $reach $text $nn $nr"
done

# ---- 1b. firmware: a no_std binary for thumbv7em that calls Adam's step vs every step ------
FW=$WORK/fw
mkdir -p "$FW/src/bin"
cat >"$FW/Cargo.toml" <<EOF
[package]
name = "code-size-firmware"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
fused-optim = { path = "$REPO", default-features = false }

[profile.release]
lto = "fat"
codegen-units = 1
panic = "abort"
debug = false

[workspace]
EOF
cp "$REPO/Cargo.lock" "$FW/Cargo.lock" 2>/dev/null || true   # the checkout's dependency versions
cat >"$FW/src/lib.rs" <<'EOF'
#![no_std]
use core::hint::black_box;
use fused_optim::Optimizer;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

const N: usize = 64;

/// One `step` with opaque hyper-parameters, slices and step count.
#[inline(never)]
pub fn step<O: Optimizer>(o: O) {
    let o = black_box(o);
    let (mut p, g, mut s) = ([0.0_f32; N], [0.0_f32; N], [0.0_f32; 4 * N]);
    let n = black_box(N);
    let k = o.state_planes().min(4);
    let r = o.step(black_box(1), &mut p[..n], &g[..n], &mut s[..k * n]);
    let _ = black_box((r, &p, &s));
}
EOF
cat >"$FW/src/bin/adam.rs" <<'EOF'
#![no_std]
#![no_main]
use code_size_firmware as _;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    code_size_firmware::step(fused_optim::Adam::default());
    loop {}
}
EOF
cat >"$FW/src/bin/all.rs" <<'EOF'
#![no_std]
#![no_main]
use code_size_firmware::step;
use fused_optim::*;

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    step(Sgd::default());
    step(Adagrad::default());
    step(RmsProp::default());
    step(Adam::default());
    step(AdamW::default());
    step(Adamax::default());
    step(NAdam::default());
    step(RAdam::default());
    step(Adadelta::default());
    step(Rprop::default());
    step(Asgd::default());
    step(Lion::default());
    loop {}
}
EOF
declare -A FWS
for opt in 3 s; do
    log "building firmware for $THUMB, opt-level $opt (fat LTO)"
    if (cd "$FW" && CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt cargo build -q --release \
            --target "$THUMB" --target-dir "$WORK/target-fw-O$opt" --bins >&2); then
        for bin in adam all; do
            FWS[$bin-$opt]=$("$SIZE" "$WORK/target-fw-O$opt/$THUMB/release/$bin" | awk 'NR==2 {print $1}')
        done
    else
        log "firmware build failed at opt-level $opt (API changed?); reported as n/a"
        FWS[adam-$opt]=n/a FWS[all-$opt]=n/a
    fi
done

# ---- 2. files that mention each optimizer --------------------------------------------------
OPTIMIZERS="Sgd Adagrad RmsProp Adam AdamW Adamax NAdam RAdam Adadelta Rprop Asgd Lion"
files_for() {   # TYPE_NAME -> tracked files that mention it
    local lower
    lower=$(echo "$1" | tr '[:upper:]' '[:lower:]')
    git -C "$REPO" grep -I -l -w -e "$1" -e "$lower" -- . \
        ':(exclude)tests/golden/*.txt' ':(exclude)fuzz/corpus' || true
}

# ---- 3. duplicates -------------------------------------------------------------------------
DUP_SRC=n/a DUP_ALL=n/a
if command -v duplicates >/dev/null; then
    log "running duplicates"
    duplicates --repo "$REPO/src" --most 100 --seconds 120 >"$OUT/duplicates-src.txt" 2>&1 || true
    duplicates --repo "$REPO" --most 100 --seconds 300 >"$OUT/duplicates-all.txt" 2>&1 || true
    DUP_SRC=$(head -1 "$OUT/duplicates-src.txt") DUP_ALL=$(head -1 "$OUT/duplicates-all.txt")
fi

# ---- report --------------------------------------------------------------------------------
{
echo "fused-optim code size at $COMMIT${DIRTY:+ (+ uncommitted changes)} ($TOOLCHAIN)"
echo
printf '%-34s %10s %10s %10s %7s\n' "configuration (bytes)" adam_named adam_reach crate_text "syms"
for cfg in "x86_64 3" "x86_64 s" "thumbv7em 3" "thumbv7em s"; do
    set -- $cfg
    read -r named reach text nn nr <<<"${ROW[$1-$2]}"
    if [ "$1" = x86_64 ]; then label="$HOST"; else label="$THUMB no-std"; fi
    printf '%-34s %10s %10s %10s %7s\n' "$label O$2" "$named" "$reach" "$text" "$nn/$nr"
done
echo
printf '%-34s %10s %10s\n' "firmware $THUMB, LTO (text)" "Adam only" "all 12"
for opt in 3 s; do
    printf '%-34s %10s %10s\n' "opt-level $opt" "${FWS[adam-$opt]}" "${FWS[all-$opt]}"
done
echo
echo "tracked files mentioning each optimizer (word match, type name or lower-case name):"
for o in $OPTIMIZERS; do
    printf '  %-9s %3s\n' "$o" "$(files_for "$o" | grep -c . || true)"
done
echo "  Lion's: $(files_for Lion | tr '\n' ' ')"
echo
echo "duplicates --repo src --most 100: $DUP_SRC"
echo "duplicates --repo .   --most 100: $DUP_ALL"
echo
echo "symbol lists and duplicates output: $OUT"
} | tee "$OUT/report.txt"

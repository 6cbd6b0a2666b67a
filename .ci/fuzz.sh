#!/usr/bin/env bash
# Fuzzes every cargo-fuzz target in fuzz/ for a bounded time and fails on any finding.
#
#   .ci/fuzz.sh                       every target, FUZZ_SECONDS (default 30) each
#   FUZZ_SECONDS=300 .ci/fuzz.sh step one target, longer
#   FUZZ_NATIVE=1 .ci/fuzz.sh         also a pass built with -C target-cpu=native, so that
#                                     Backend::Simd (`wide`) uses this CPU's widest vectors
#
# Installs what it needs if missing: a nightly toolchain (rustup) and cargo-fuzz
# (`cargo install --locked`, kept in ~/.cargo/bin, so later runs skip it).
#
# Corpora: the committed seeds in fuzz/corpus/<target>/ are read; what the fuzzer adds goes to
# fuzz/target/corpus/<target>/ (git-ignored, kept between runs of a work tree, so fuzzing is
# cumulative). A crash leaves its input in fuzz/artifacts/<target>/ and makes this script exit
# non-zero; reproduce it with
#   cargo +nightly fuzz run --fuzz-dir fuzz <target> fuzz/artifacts/<target>/<file>
# and keep it as a regression test by copying it to fuzz/corpus/<target>/regression-<name>
# (fuzz/tests/seeds.rs replays every seed-* and regression-* input: `cd fuzz && cargo test`).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

seconds=${FUZZ_SECONDS:-30}

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "installing the nightly toolchain"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo +stable install cargo-fuzz --locked
fi
rustc +nightly --version
cargo +nightly fuzz --version

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

passes=(default)
if [ "${FUZZ_NATIVE:-0}" = 1 ]; then
    passes+=(native)
fi

summary=()
status=0
for pass in "${passes[@]}"; do
    flags=()
    rustflags=${RUSTFLAGS:-}
    if [ "$pass" = native ]; then
        flags=(--target-dir fuzz/target/native)
        rustflags="$rustflags -C target-cpu=native"
    fi
    for target in "${targets[@]}"; do
        echo "=== fuzz $target ($pass build, ${seconds}s)"
        mkdir -p "fuzz/target/corpus/$target"
        log=$(mktemp)
        set +e
        # Debug assertions and overflow checks on: an overflow in the crate is a finding.
        RUSTFLAGS="$rustflags" cargo +nightly fuzz run --fuzz-dir fuzz --debug-assertions \
            "${flags[@]}" "$target" "fuzz/target/corpus/$target" "fuzz/corpus/$target" -- \
            -max_total_time="$seconds" -timeout=10 -print_final_stats=1 2>&1 | tee "$log" |
            grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|==[0-9]+==|SUMMARY|thread|Failing input|Error|error)' 
        code=${PIPESTATUS[0]}
        set -e
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        if [ "$code" -ne 0 ]; then
            echo "--- last lines of the fuzzer's output:"
            tail -40 "$log"
            summary+=("$target ($pass): FAILED (exit $code) after ${execs:-?} executions")
            status=1
        else
            summary+=("$target ($pass): ${execs:-?} executions in ${seconds}s, no finding")
        fi
        rm -f "$log"
    done
done

echo "=== fuzz summary"
printf '%s\n' "${summary[@]}"
exit "$status"

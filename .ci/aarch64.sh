#!/usr/bin/env bash
# Runs the test suite for aarch64-unknown-linux-gnu under qemu user-mode emulation, so the
# NEON lanes of `wide` (Backend::Simd on aarch64) run for real and are checked against the
# scalar lane, bit for bit.
#
#   .ci/aarch64.sh                     the default subset (below)
#   AARCH64_TESTS=all .ci/aarch64.sh   every test target (golden, reference, schedules, driver
#                                      too) with all features, and no test skipped
#
# The default subset: the lib unit tests (every lane operation on special values), the doc
# tests, and tests/bit_identity.rs, errors.rs, non_finite.rs, hand_computed.rs,
# hand_computed_more.rs, no_alloc.rs and pipeline.rs, with their full proptest case counts
# (`ProptestConfig::with_cases` in the test files ignores PROPTEST_CASES, so they cannot be
# lowered from here; bit_identity's 24 properties of 512 cases are most of the run: about
# three minutes under qemu on 2 cores). AARCH64_SKIP="name ..." skips tests by name filter
# (for example AARCH64_SKIP=chunked_equals_whole halves bit_identity's time).
#
# Installs if missing: Debian's qemu-user and gcc-aarch64-linux-gnu (the linker and the
# target's C library; apt-get needs root or sudo), and the Rust target. Builds go to
# target/aarch64 so they do not invalidate the host's build. The wasm32 builds (with and
# without simd128) stay in .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=1

target=aarch64-unknown-linux-gnu
section() { printf '\n=== %s (%ss)\n' "$*" "$SECONDS"; }

section "install"
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi
rustup target add "$target" >/dev/null
qemu-aarch64 --version | head -1
aarch64-linux-gnu-gcc --version | head -1

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
aarch64=(--target "$target" --target-dir target/aarch64)
skip=()
for name in ${AARCH64_SKIP:-}; do
    skip+=(--skip "$name")
done

section "aarch64: NEON is on, and the kernels use it"
rustc --print cfg --target "$target" | grep -x 'target_feature="neon"'
# Build the bit-identity tests and count vector (4 x f32) square roots and divisions in the
# binary: nonzero means Backend::Simd runs NEON code, not a scalar fallback.
cargo test "${aarch64[@]}" --test optim --no-run
exe=$(cargo test "${aarch64[@]}" --test optim --no-run 2>&1 |
    sed -n 's/.*Executable tests\/optim\/main.rs (\(.*\))/\1/p' | tail -1)
neon=$(aarch64-linux-gnu-objdump -d "$exe" | grep -cE '\s(fsqrt|fdiv)\s+v[0-9]+\.4s' || true)
echo "NEON fsqrt/fdiv .4s instructions in $(basename "$exe"): $neon"
[ "$neon" -gt 0 ]

if [ "${AARCH64_TESTS:-subset}" = all ]; then
    section "aarch64: every test (qemu)"
    cargo test "${aarch64[@]}" --all-features
else
    section "aarch64: lib unit tests and the bit-identity, error, non-finite and hand-computed tests (qemu)"
    cargo test "${aarch64[@]}" --lib --test optim -- --skip golden --skip matches_reference \
        "${skip[@]}"
    section "aarch64: doc tests (qemu)"
    cargo test "${aarch64[@]}" --doc
fi

section "aarch64: all passed"

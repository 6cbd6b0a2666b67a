#!/usr/bin/env bash
# Runs a fast subset of the test suite under Miri (`cargo +nightly miri test`), which reports
# undefined behaviour: out-of-bounds or misaligned accesses, use of uninitialised or freed
# memory, aliasing violations, and calls to `#[target_feature]` functions or intrinsics whose
# target feature is not enabled. About 3.5 minutes with warm caches on a 2-core machine,
# 5 to 6 cold.
#
# The only `unsafe` in the crate is src/simd/x86/ (AVX2 / AVX-512 lanes and their run-time
# dispatch). Under Miri `is_x86_feature_detected!` answers false for every feature (Miri does
# not emulate CPUID), so a plain `cargo miri test` never reaches that module's lanes. Two of
# the passes therefore enable target features at compile time, which makes the detection
# macro answer true through `cfg!(target_feature)`:
#
#   baseline  no target features: Scalar and Simd (`wide` on SSE2); the dispatch's "not
#             detected" branch, Avx2/Avx512 refused as unavailable. The lib unit test (every
#             lane operation on special values), tests/hand_computed.rs, the fast tests of
#             tests/errors.rs, and the doc tests.
#   avx2      -C target-feature=+avx2: Backend::Avx2 available, so every Avx2 lane operation
#             and the AVX2 walk (the whole of src/simd/x86/avx2.rs) run, and `wide` uses 256-bit
#             AVX. The lib unit test, tests/hand_computed_more.rs (every back-end), and the
#             fuzz targets' committed inputs (fuzz/tests/seeds.rs: all 12 optimizers on every
#             available back-end, shards at odd cut points, malformed and refused calls, the
#             gradient pipeline).
#   avx512    -C target-cpu=x86-64-v4: Backend::Avx512 available too, but Miri does not
#             implement `llvm.x86.avx512.mask.cmp.ps.512` (`_mm512_cmp_ps_mask`), which the
#             AVX-512 `lt`/`gt`/`min`/`max` and `wide`'s AVX-512 `is_nan` use. So only kernels
#             without comparisons run here (not AMSGrad, Adamax, Rprop, Lion, nor the lane
#             unit test): their loads, stores (the pointer-based intrinsics), arithmetic,
#             sqrt, negation and splat, through tests/hand_computed_more.rs and the matching
#             fuzz seeds. The AVX-512 comparisons, select and abs are value-only intrinsics
#             (no memory access); they are checked natively on AVX-512 hardware by the
#             bit-identity tests and by the fuzz targets under AddressSanitizer.
#
# Not run under Miri, and why: the proptest properties (their case counts are fixed with
# `ProptestConfig::with_cases`, which ignores PROPTEST_CASES, and 256 to 10 000 cases take
# hours under Miri; PROPTEST_CASES=4 is exported for when they honour it);
# bit_identity's `every_variant_every_short_length`, tests/non_finite.rs, tests/no_alloc.rs,
# tests/pipeline.rs and two loops of tests/errors.rs (minutes each under Miri: every
# optimizer x variant x length or position x back-end); the golden, reference, schedule and
# driver tests and the benches (large inputs and files; safe code). All of those are safe code
# on top of the same lane operations, and run natively in .ci/run.
#
# Flags: -Zmiri-no-extra-rounding-error stops Miri from perturbing `powf` (which the tests'
# input generator uses) differently on every call, which made clean and poisoned runs differ.
# NaN payloads stay randomised, which checks that results are compared NaN-aware.
# `--features libm/force-soft-floats` (and the fuzz crate's `miri` feature): libm's default
# `arch` feature computes `sqrt` with inline assembly on x86_64, which Miri cannot run; its
# software `sqrt` is also correctly rounded, so the bits are the same. Isolation stays on,
# except for the seed replay, which reads fuzz/corpus/.
#
#   .ci/miri.sh                          all three passes
#   MIRI_PASSES="avx2 avx512" .ci/miri.sh   a chosen subset
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=1

section() { printf '\n=== %s (%ss)\n' "$*" "$SECONDS"; }

section "toolchain"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    rustup toolchain install nightly --profile minimal
fi
installed=$(rustup +nightly component list --installed)
for component in miri rust-src; do
    if ! grep -q "^$component" <<<"$installed"; then
        rustup +nightly component add "$component"
    fi
done
rustc +nightly --version
cargo +nightly miri --version
cargo +nightly miri setup >/dev/null

export PROPTEST_CASES=${PROPTEST_CASES:-4}
export MIRIFLAGS="-Zmiri-no-extra-rounding-error ${MIRIFLAGS:-}"
features=(--features libm/force-soft-floats)

# miri_test <pass> <cargo test target args...> [-- <test binary args>]
miri_test() {
    local pass=$1
    shift
    cargo +nightly miri test -q "${features[@]}" --target-dir "target/miri-$pass" "$@"
}

# miri_seeds <pass> [<FUZZ_SEEDS filter>]: the fuzz targets' committed inputs (fuzz/tests/seeds.rs)
# through the fuzz checks: every optimizer, every available back-end, shards at odd cut points,
# malformed calls. Reading the corpus directory needs isolation off.
miri_seeds() {
    local pass=$1
    (cd fuzz && FUZZ_SEEDS=${2:-} MIRIFLAGS="$MIRIFLAGS -Zmiri-disable-isolation" \
        cargo +nightly miri test -q --no-default-features --features miri \
        --target-dir "../target/miri-$pass" --test seeds)
}

pass_baseline() {
    section "miri baseline: lib (every lane operation), hand-computed steps, refusals"
    # Skipped: the proptest property, and the two refusal loops that take minutes here.
    miri_test baseline --lib
    miri_test baseline --test optim -- sgd::hand_computed adagrad::hand_computed \
        rmsprop::hand_computed adam::hand_computed adamw::hand_computed harness::errors \
        --skip any_bad_call_writes_nothing --skip length_mismatches_are_refused \
        --skip invalid_hyper_parameters_are_refused
    section "miri baseline: doc tests"
    miri_test baseline --doc
}

pass_avx2() {
    section "miri avx2 (-C target-feature=+avx2,+fma): lib, hand-computed steps of the later optimizers"
    export RUSTFLAGS="-C target-feature=+avx2,+fma"
    miri_test avx2 --lib
    miri_test avx2 --test optim -- adamax::hand_computed nadam::hand_computed \
        radam::hand_computed adadelta::hand_computed rprop::hand_computed \
        asgd::hand_computed lion::hand_computed
    section "miri avx2: the fuzz seeds"
    miri_seeds avx2
    unset RUSTFLAGS
}

pass_avx512() {
    section "miri avx512 (-C target-cpu=x86-64-v4): comparison-free kernels only"
    export RUSTFLAGS="-C target-cpu=x86-64-v4"
    miri_test avx512 --test optim -- nadam::hand_computed radam::hand_computed \
        adadelta::hand_computed asgd::hand_computed
    section "miri avx512: the fuzz seeds of comparison-free kernels"
    # (Adam and AdamW compare since their division by √bc2 became a reciprocal and a
    # correction with a NaN check, which Miri cannot run on AVX-512.)
    miri_seeds avx512 "sgd,adagrad,rmsprop,nadam,radam,adadelta,asgd,err-,malformed,no-groups,u64"
    unset RUSTFLAGS
}

for pass in ${MIRI_PASSES:-baseline avx2 avx512}; do
    "pass_$pass"
done
section "miri: no undefined behaviour found"

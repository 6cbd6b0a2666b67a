//! Replays the committed corpus of every fuzz target through its checks, without libFuzzer:
//! each `fuzz/corpus/<target>/seed-*` file (hand-made seeds) and `regression-*` file (inputs
//! that once crashed: copy an artifact from `fuzz/artifacts/<target>/` here under that name).
//!
//! `cargo test` in `fuzz/` runs them natively; `.ci/miri.sh` runs some under Miri.
//! `FUZZ_SEEDS=a,b` replays only the files whose name contains `a` or `b`.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let only = std::env::var("FUZZ_SEEDS").unwrap_or_default();
    let only: Vec<&str> = only.split(',').filter(|s| !s.is_empty()).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            (name.starts_with("seed-") || name.starts_with("regression-"))
                && (only.is_empty() || only.iter().any(|o| name.contains(o)))
        })
        .collect();
    files.sort();
    if only.is_empty() {
        assert!(!files.is_empty(), "no seeds in {}", dir.display());
    }
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let start = std::time::Instant::now();
        run(&data);
        let name = path.file_name().unwrap().to_string_lossy();
        eprintln!("{target}: {name} ({:.1?})", start.elapsed());
    }
}

#[test]
fn step() {
    replay("step", fused_optim_fuzz::step::run);
}

#[test]
fn pipeline() {
    replay("pipeline", fused_optim_fuzz::pipeline::run);
}

/// A seed named after an optimizer (`seed-adam-...`, `seed-err-lion-...`: any dash-separated
/// word that is a registry name) picks that optimizer with its first byte, so the registry's
/// order, which the first byte indexes, cannot change under the corpus unnoticed.
#[test]
fn seeds_named_after_an_optimizer_pick_it() {
    let mut checked = 0;
    for target in ["step", "pipeline"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus")
            .join(target);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let named: Vec<&str> = name
                .split('-')
                .filter(|word| fused_optim::AnyOptimizer::NAMES.contains(word))
                .collect();
            let [expected] = named[..] else { continue };
            let data = std::fs::read(&path).unwrap();
            let picked = fused_optim_fuzz::optimizer(&mut fused_optim_fuzz::Src::new(&data));
            assert_eq!(picked.name(), expected, "{target}/{name}");
            checked += 1;
        }
    }
    assert!(checked > 0, "no seed is named after an optimizer");
}

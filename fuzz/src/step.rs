//! Differential fuzz target for every optimizer of the crate.
//!
//! The input chooses an optimizer (first byte), its hyper-parameters (defaults, special values
//! such as NaN, ±Inf, negatives and out-of-range ones, or raw bits), the step number (including
//! 0 and `u64::MAX`), the number of consecutive steps, the buffer lengths (including mismatched
//! ones), the values in every buffer (NaN, ±Inf, subnormals, ±0, huge, raw bits), the cut
//! points of a sharded step and the back-end of every shard. It then checks that:
//!
//! * nothing panics (also with debug assertions and overflow checks, which `cargo fuzz`
//!   enables);
//! * a refused call (`Err`) leaves every buffer byte-identical, on every back-end, available
//!   or not, and every available back-end refuses with the same error;
//! * an accepted call gives, on every available back-end (and `Auto`), the scalar back-end's
//!   bits in parameters and state (NaN-aware: any NaN equals any NaN); unavailable back-ends
//!   are refused with `BackendUnavailable` and write nothing;
//! * stepping in shards with `step_planes_with` (fuzz-chosen cut points, a fuzz-chosen
//!   back-end per shard; an optimizer's scalar state read whole by every shard and advanced
//!   once by `advance_scalars`) gives the whole-slice bits, and a malformed shard call (a plane
//!   too few or too many, a plane, the scalars or the gradients too short) is refused without
//!   writing.
//!
//! The optimizer and its hyper-parameters come from the crate's registry (see `src/lib.rs`): a
//! new optimizer is fuzzed with no change here.

use crate::*;
use fused_optim::{Backend, Error, Optimizer};

/// Runs one input through the checks (panics on a finding).
pub fn run(data: &[u8]) {
    let mut s = Src::new(data);
    let opt = optimizer(&mut s);
    let opt: &dyn Optimizer = &opt;

    // Cheap queries must never panic, whatever the hyper-parameters.
    let valid = opt.validate();
    let k = opt.state_planes();
    assert_eq!(k, opt.state_names().len());
    // The per-tensor scalar state (NAdam's mu_product, ASGD's eta and mu), after the planes.
    let scalars = opt.scalar_names().len();
    let _ = opt.lr();

    let t0 = s.step();
    let steps = 1 + u64::from(s.byte() % 3);
    let n = s.length();
    let (grads_len, state_len) = match s.byte() {
        0..=223 => (n, k * n + scalars),
        224..=239 => (s.length(), k * n + scalars),
        _ => (n, s.length()),
    };
    assert_eq!(opt.state_len(n), k * n + scalars);
    let init = s.byte() & 1 == 1;
    let mut cuts: Vec<usize> = (0..s.byte() % 5)
        .map(|_| usize::from(s.u16()) % (n + 1))
        .collect();
    cuts.sort_unstable();
    let shard_backends: [u8; 5] = s.array();
    let inject: [u8; 5] = s.array();

    let mut params = s.values(n);
    let grads = s.values(grads_len);
    let mut state = s.values(state_len);

    let available: Vec<Backend> = every_backend()
        .into_iter()
        .filter(|b| b.is_available())
        .collect();
    assert!(available.contains(&Backend::Scalar) && available.contains(&Backend::Simd));

    if init {
        let before = state.clone();
        match opt.init_state(&mut state) {
            Ok(()) => assert!(valid.is_ok(), "init_state accepted {opt:?}: {valid:?}"),
            Err(e) => assert_untouched("state (init_state)", &(opt, e), &before, &state),
        }
    }

    for i in 0..steps {
        let Some(t) = t0.checked_add(i) else { break };
        let context = (opt, t, n, grads_len, state_len);

        // The reference: the scalar back-end over the whole slices.
        let (mut p_ref, mut s_ref) = (params.clone(), state.clone());
        let result = opt.step_with(Backend::Scalar, t, &mut p_ref, &grads, &mut s_ref);
        if let Err(error) = result {
            assert_untouched("params", &(context, error), &params, &p_ref);
            assert_untouched("state", &(context, error), &state, &s_ref);
            check_refused_everywhere(opt, t, &params, &grads, &state, error, &available);
            return;
        }
        assert!(
            valid.is_ok(),
            "step accepted an optimizer validate() refuses: {opt:?}"
        );
        assert!(
            t > 0 && grads_len == n && state_len == k * n + scalars,
            "{context:?}"
        );

        // Every other back-end: the same bits, or (unavailable) refused without writing.
        for backend in every_backend() {
            let (mut p, mut st) = (params.clone(), state.clone());
            let result = opt.step_with(backend, t, &mut p, &grads, &mut st);
            if available.contains(&backend) {
                assert_eq!(result, Ok(()), "{backend:?}; {context:?}");
                assert_same("params", &(backend, context), &p_ref, &p);
                assert_same("state", &(backend, context), &s_ref, &st);
            } else {
                assert!(
                    matches!(result, Err(Error::BackendUnavailable { backend: b }) if b == backend),
                    "{backend:?} is unavailable but gave {result:?}"
                );
                assert_untouched("params", &(backend, context), &params, &p);
                assert_untouched("state", &(backend, context), &state, &st);
            }
        }

        // Sharded: cut at the fuzz-chosen points, each shard on a fuzz-chosen back-end; every
        // shard reads the whole scalar state (an extra slice after the planes), which is then
        // advanced once.
        let (mut p_sh, mut s_sh) = (params.clone(), state.clone());
        {
            let (elements, shared) = s_sh.split_at_mut(k * n);
            let mut planes = planes_of(elements, k, n);
            let bounds: Vec<usize> = core::iter::once(0)
                .chain(cuts.iter().copied())
                .chain(core::iter::once(n))
                .collect();
            for (j, range) in bounds.windows(2).enumerate() {
                let (lo, hi) = (range[0], range[1]);
                let backend = available[usize::from(shard_backends[j]) % available.len()];
                let mut shard: Vec<&mut [f32]> =
                    planes.iter_mut().map(|plane| &mut plane[lo..hi]).collect();
                if scalars > 0 {
                    shard.push(&mut *shared);
                }
                malformed_shard_call(
                    opt,
                    backend,
                    t,
                    &mut p_sh[lo..hi],
                    &grads[lo..hi],
                    &mut shard,
                    inject[j],
                );
                let result =
                    opt.step_planes_with(backend, t, &mut p_sh[lo..hi], &grads[lo..hi], &mut shard);
                assert_eq!(
                    result,
                    Ok(()),
                    "shard {lo}..{hi} on {backend:?}; {context:?}"
                );
            }
            let result = opt.advance_scalars(t, shared);
            assert_eq!(result, Ok(()), "advance_scalars; {context:?}");
        }
        assert_same("params (sharded)", &(&cuts, context), &p_ref, &p_sh);
        assert_same("state (sharded)", &(&cuts, context), &s_ref, &s_sh);

        params = p_ref;
        state = s_ref;
    }
}

/// After `step_with` refused a call: every back-end refuses it too and writes nothing, the
/// available ones with the same error; and `step_planes_with`, given well-formed planes,
/// refuses it with the same error unless only the planar state's length was wrong.
fn check_refused_everywhere(
    opt: &dyn Optimizer,
    t: u64,
    params: &[f32],
    grads: &[f32],
    state: &[f32],
    error: Error,
    available: &[Backend],
) {
    // Debug, not ==: an error may carry a NaN hyper-parameter.
    let expected = format!("{error:?}");
    for backend in every_backend() {
        let (mut p, mut st) = (params.to_vec(), state.to_vec());
        let result = opt.step_with(backend, t, &mut p, grads, &mut st);
        let Err(e) = result else {
            panic!("{backend:?} accepted what Scalar refused ({expected}): {opt:?} t={t}");
        };
        if available.contains(&backend) {
            assert_eq!(format!("{e:?}"), expected, "{backend:?}: {opt:?} t={t}");
        }
        assert_untouched("params", &(backend, opt, e), params, &p);
        assert_untouched("state", &(backend, opt, e), state, &st);
    }

    let (k, n, scalars) = (opt.state_planes(), params.len(), opt.scalar_names().len());
    let mut p = params.to_vec();
    let len = k * n + scalars;
    let mut st: Vec<f32> = state.iter().copied().cycle().take(len).collect();
    st.resize(len, 0.0);
    let before = st.clone();
    let result = {
        let (elements, shared) = st.split_at_mut(k * n);
        let mut planes = planes_of(elements, k, n);
        if scalars > 0 {
            planes.push(shared);
        }
        opt.step_planes_with(Backend::Scalar, t, &mut p, grads, &mut planes)
    };
    if matches!(error, Error::LengthMismatch { what: "state", .. }) {
        if result.is_ok() {
            return;
        }
    } else {
        let Err(e) = result else {
            panic!("step_planes accepted what step refused ({expected}): {opt:?} t={t}");
        };
        assert_eq!(format!("{e:?}"), expected, "step_planes: {opt:?} t={t}");
    }
    assert_untouched("params (step_planes)", &(opt, t), params, &p);
    assert_untouched("state (step_planes)", &(opt, t), &before, &st);
}

/// Makes a malformed `step_planes_with` call on a shard (if `how` asks for one) and checks
/// that it is refused and writes nothing.
fn malformed_shard_call(
    opt: &dyn Optimizer,
    backend: Backend,
    t: u64,
    params: &mut [f32],
    grads: &[f32],
    planes: &mut [&mut [f32]],
    how: u8,
) {
    let len = params.len();
    let p_before = params.to_vec();
    let s_before: Vec<Vec<f32>> = planes.iter().map(|plane| plane.to_vec()).collect();
    let mut extra = vec![f32::NAN; len];
    let result = match how {
        // One plane too few.
        0xf0 if !planes.is_empty() => {
            let k = planes.len();
            opt.step_planes_with(backend, t, params, grads, &mut planes[..k - 1])
        }
        // One plane too many.
        0xf1 => {
            let mut more: Vec<&mut [f32]> = planes.iter_mut().map(|plane| &mut **plane).collect();
            more.push(&mut extra);
            opt.step_planes_with(backend, t, params, grads, &mut more)
        }
        // The last slice (a plane, or the scalar state) one element short.
        0xf2 if len > 0 && !planes.is_empty() => {
            let mut short: Vec<&mut [f32]> = planes.iter_mut().map(|plane| &mut **plane).collect();
            let last = short.len() - 1;
            let plane = core::mem::take(&mut short[last]);
            let end = plane.len() - 1;
            short[last] = &mut plane[..end];
            opt.step_planes_with(backend, t, params, grads, &mut short)
        }
        // The gradients one element short.
        0xf3 if len > 0 => opt.step_planes_with(backend, t, params, &grads[..len - 1], planes),
        // Step 0.
        0xf4 => opt.step_planes_with(backend, 0, params, grads, planes),
        _ => return,
    };
    assert!(
        result.is_err(),
        "malformed shard call ({how:#x}) accepted: {opt:?}"
    );
    assert_untouched("params (malformed shard)", &(how, opt), &p_before, params);
    for (before, after) in s_before.iter().zip(planes.iter()) {
        assert_untouched("state (malformed shard)", &(how, opt), before, after);
    }
    assert!(extra.iter().all(|x| x.is_nan()));
}

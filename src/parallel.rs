//! One step split across rayon's threads (feature `rayon`).

use crate::Backend;
use crate::Optimizer;
use crate::optimizer::{Call, MAX_PLANES, Prescale};

/// Pieces are not split below this many elements (a few hundred KiB per stream).
const GRAIN: usize = 1 << 15;

/// Split points are multiples of this, so every piece but the last runs whole vectors only.
const ALIGN: usize = 64;

/// The parts of a call every piece shares: back-end, step, prescale and scalar state.
pub(crate) type Shared<'a> = (Backend, u64, Prescale, &'a [f32]);

/// Steps `params` (with the optimizer's planes, the first of `planes`) by halving it until
/// pieces are at most [`GRAIN`] long and running the halves with `rayon::join`. Everything is
/// validated, the step's scalars too (`check_step`: every piece has the same ones, so no
/// piece can refuse); the scalar state is read by every piece and advanced by the caller.
pub(crate) fn step<O: Optimizer + ?Sized>(
    optimizer: &O,
    shared: Shared<'_>,
    params: &mut [f32],
    grads: &[f32],
    mut planes: [&mut [f32]; MAX_PLANES],
) {
    let (backend, t, prescale, scalars) = shared;
    let n = params.len();
    let k = optimizer.state_planes();
    if n <= GRAIN {
        let planes = &mut planes[..k];
        let call = Call::new(backend, t, params, grads, planes, scalars).prescaled(prescale);
        // Cannot fail: the caller's check_step made the same call on no elements.
        let _ = optimizer.apply(call);
        return;
    }
    let mid = (n / 2).next_multiple_of(ALIGN).min(n);
    let (p0, p1) = params.split_at_mut(mid);
    let (g0, g1) = grads.split_at(mid);
    let mut left: [&mut [f32]; MAX_PLANES] = Default::default();
    let mut right: [&mut [f32]; MAX_PLANES] = Default::default();
    for ((plane, l), r) in planes.into_iter().zip(&mut left).zip(&mut right).take(k) {
        (*l, *r) = plane.split_at_mut(mid);
    }
    rayon::join(
        || step(optimizer, shared, p0, g0, left),
        || step(optimizer, shared, p1, g1, right),
    );
}

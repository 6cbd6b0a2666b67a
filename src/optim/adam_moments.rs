//! What Adam, NAdam and RAdam share: the gradient transform, weight decay (L2 or decoupled)
//! and the two moment updates, and the checks of their common hyper-parameters.

use super::common::{
    DECOUPLED, GradIn, L2, Lerp, f32_of, non_negative, step_scalars, unit_interval,
};
use crate::Error;
use crate::optimizer::Prescale;
use crate::simd::Lane;

/// The hyper-parameters the Adam family shares (generated with its structs).
pub(crate) trait AdamFamily {
    fn fields(&self) -> AdamFields;
}

/// See [`AdamFamily`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamFields {
    pub(crate) lr: f64,
    pub(crate) betas: (f64, f64),
    pub(crate) eps: f64,
    pub(crate) weight_decay: f64,
    pub(crate) maximize: bool,
}

step_scalars! {
    /// The moment updates of one call, with their scalars rounded once.
    pub(crate) struct AdamMoments {
        grad: GradIn,
        decay: f32,
        exp_avg: Lerp,
        beta2: f32,
        one_minus_beta2: f32,
    }
}

impl AdamMoments {
    /// The scalars of one call, from the optimizer's hyper-parameters.
    pub(crate) fn new<O: AdamFamily>(prescale: Prescale, optimizer: &O) -> Self {
        let AdamFields {
            lr,
            betas: (beta1, beta2),
            weight_decay,
            maximize,
            ..
        } = optimizer.fields();
        AdamMoments {
            grad: GradIn::new(prescale, maximize, weight_decay),
            decay: f32_of(1.0 - lr * weight_decay),
            exp_avg: Lerp::new(1.0 - beta1),
            beta2: f32_of(beta2),
            one_minus_beta2: f32_of(1.0 - beta2),
        }
    }

    /// For one element: `g ← ±g` (prescaled), weight decay as `DECAY` says
    /// ([`DECOUPLED`]: `p ← p · (1 − lr · wd)`; [`L2`]: `g ← g + wd · p`),
    /// `m ← lerp(m, g, 1 − β1)`, `v ← fma((1 − β2) · g, g, β2 · v)`. Writes `m` and `v` to
    /// `state[0]` and `state[1]` and returns `(p, g, m, v)`.
    #[inline(always)]
    pub(crate) fn update<L: Lane, const DECAY: u8>(
        &self,
        p: L,
        g: L,
        state: &mut [L],
    ) -> (L, L, L, L) {
        let p = if DECAY == DECOUPLED {
            p * L::splat(self.decay)
        } else {
            p
        };
        let g = if DECAY == L2 {
            self.grad.with_l2::<L, true>(g, p)
        } else {
            self.grad.apply(g)
        };
        let m = self.exp_avg.apply(state[0], g);
        let v = (L::splat(self.one_minus_beta2) * g).mul_add(g, state[1] * L::splat(self.beta2));
        state[0] = m;
        state[1] = v;
        (p, g, m, v)
    }
}

/// The checks of the hyper-parameters the Adam family shares: `lr`, `eps` and
/// `weight_decay` non-negative, both betas in `[0, 1)`, in that order.
pub(crate) fn validate_adam_family<O: AdamFamily>(optimizer: &O) -> Result<(), Error> {
    let AdamFields {
        lr,
        betas: (beta1, beta2),
        eps,
        weight_decay,
        ..
    } = optimizer.fields();
    non_negative("lr", lr)?;
    unit_interval("betas.0", beta1)?;
    unit_interval("betas.1", beta2)?;
    non_negative("eps", eps)?;
    non_negative("weight_decay", weight_decay)
}

//! AdamW: Adam with decoupled weight decay.

use super::Adam;
use crate::Error;
use crate::optimizer::{Call, Optimizer, hyper_parameters, sealed};

hyper_parameters! {
    /// AdamW, as `torch.optim.AdamW`: [`Adam`] with `decoupled_weight_decay = true` and a
    /// default weight decay of `1e-2`.
    ///
    /// The update, its roundings and its non-finite outcomes are [`Adam`]'s with decoupled
    /// weight decay (`p ← p · (1 − lr · weight_decay)` before the moments): a step of `AdamW`
    /// is a step of `Adam::from(adamw)`, bit for bit.
    ///
    /// State: as [`Adam`]'s (`"exp_avg"`, `"exp_avg_sq"`, and `"max_exp_avg_sq"` with AMSGrad).
    /// optax's `adamw` defaults `weight_decay` to `1e-4`; PyTorch's (and this crate's) is `1e-2`.
    ///
    /// # PyTorch and optax
    ///
    /// | | PyTorch (the crate) | optax `adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0, mu_dtype=None, weight_decay=1e-4, mask=None, nesterov=False)` |
    /// |---|---|---|
    /// | default `weight_decay` | `1e-2` | `1e-4` |
    /// | the decay | `p ← p · f32(1 − lr·wd)`, then the Adam step | `u = −lr · (adam_update + wd · p)`, `p ← p + u` |
    /// | masking | per parameter group | `mask` |
    ///
    /// The two decays are the same in exact arithmetic (both multiply `wd` by the learning rate, as
    /// opposed to the paper's schedule multiplier only); they round differently. Everything else
    /// is as for Adam. The crate follows PyTorch, including the default `1e-2`.
    ///
    /// ```
    /// use fused_optim::{AdamW, Optimizer};
    ///
    /// let adamw = AdamW { lr: 0.1, weight_decay: 0.5, ..AdamW::default() };
    /// let mut p = [1.0_f32];
    /// let mut state = [0.0_f32; 2];
    /// adamw.step(1, &mut p, &[0.0], &mut state)?; // zero gradient: only the decay acts
    /// assert_eq!(p[0], 0.95);
    /// # Ok::<(), fused_optim::Error>(())
    /// ```
    pub struct AdamW {
        adam_family(lr = 1e-3, weight_decay = 1e-2),
        /// Use the AMSGrad variant (default `false`).
        pub amsgrad: bool = false,
        /// Maximize the objective instead of minimizing it (default `false`).
        pub maximize: bool = false,
    }
}

impl From<AdamW> for Adam {
    fn from(w: AdamW) -> Adam {
        Adam {
            lr: w.lr,
            betas: w.betas,
            eps: w.eps,
            weight_decay: w.weight_decay,
            amsgrad: w.amsgrad,
            maximize: w.maximize,
            decoupled_weight_decay: true,
        }
    }
}

impl sealed::Apply for AdamW {
    fn apply(&self, call: Call<'_, '_>) -> Result<(), Error> {
        Adam::from(*self).apply(call)
    }
}

impl Optimizer for AdamW {
    fn validate(&self) -> Result<(), Error> {
        Adam::from(*self).validate()
    }

    fn state_names(&self) -> &'static [&'static str] {
        Adam::from(*self).state_names()
    }
}

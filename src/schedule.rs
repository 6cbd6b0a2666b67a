//! Learning-rate schedules: pure functions of the epoch (or step) count, `no_std`.
//!
//! Each schedule is a small struct of hyper-parameters with PyTorch's names; [`Schedule::lr`]
//! returns the learning rate after `epoch` calls of PyTorch's `scheduler.step()` (PyTorch's
//! `last_epoch`; 0 is the initial learning rate), computed in `f64` from PyTorch's closed form
//! (`_get_closed_form_lr`) where PyTorch has one. Set it on the optimizer before each step:
//!
//! ```
//! use fused_optim::schedule::{Schedule, StepLr};
//! use fused_optim::{Optimizer, Sgd};
//!
//! let schedule = StepLr { base_lr: 0.1, step_size: 30, gamma: 0.1 };
//! let mut sgd = Sgd { lr: schedule.lr(0), ..Sgd::default() };
//! let (mut p, g) = ([1.0_f32], [0.5_f32]);
//! for epoch in 0..90 {
//!     sgd.set_lr(schedule.lr(epoch));
//!     sgd.step(epoch + 1, &mut p, &g, &mut [])?;
//! }
//! assert_eq!(schedule.lr(89), 0.1 * 0.1 * 0.1);
//! # Ok::<(), fused_optim::Error>(())
//! ```
//!
//! Unlike PyTorch's chainable `get_lr` (which multiplies the previous learning rate in place
//! and so accumulates rounding), the value for an epoch never depends on the epochs before it.

/// A learning rate as a function of the epoch count.
pub trait Schedule {
    /// The learning rate after `epoch` scheduler steps (`epoch = 0`: the initial one).
    fn lr(&self, epoch: u64) -> f64;
}

/// `torch.optim.lr_scheduler.StepLR`: the learning rate decays by `gamma` every `step_size`
/// epochs.
///
/// ```text
/// lr(e) = base_lr · gamma^⌊e / step_size⌋
/// ```
///
/// A `step_size` of 0 (which PyTorch rejects with a division by zero) never decays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    /// The initial learning rate.
    pub base_lr: f64,
    /// Epochs between two decays.
    pub step_size: u64,
    /// Multiplicative factor of each decay (PyTorch's default `0.1`).
    pub gamma: f64,
}

impl Schedule for StepLr {
    fn lr(&self, epoch: u64) -> f64 {
        match epoch.checked_div(self.step_size) {
            Some(decays) => self.base_lr * libm::pow(self.gamma, decays as f64),
            None => self.base_lr,
        }
    }
}

//! Fused, allocation-free optimizer-update kernels with `torch.optim` semantics.
//!
//! One call performs a whole optimizer step over caller-owned `f32` slices, in a single pass
//! over memory: parameters (`&mut [f32]`), gradients (`&[f32]`) and the optimizer's state
//! (`&mut [f32]`). The crate is `#![no_std]`, never allocates, and runs on x86_64, aarch64,
//! wasm32 and Cortex-M.
//!
//! ```
//! use fused_optim::{AdamW, Optimizer};
//!
//! let opt = AdamW { lr: 1e-3, ..AdamW::default() };
//! let mut params = vec![0.5_f32; 1000];
//! let grads = vec![0.1_f32; 1000];
//! // The state is caller-owned: `state_planes()` floats per parameter.
//! let mut state = vec![0.0_f32; opt.state_len(params.len())];
//! opt.init_state(&mut state)?;
//! for t in 1..=3 {
//!     opt.step(t, &mut params, &grads, &mut state)?;
//! }
//! assert!(params[0] < 0.5);
//! # Ok::<(), fused_optim::Error>(())
//! ```
//!
//! # Optimizers
//!
//! Twelve, listed in the [`optim`] module (PyTorch's `SGD`, `Adagrad`, `RMSprop`, `Adam`,
//! `AdamW`, `Adamax`, `NAdam`, `RAdam`, `Adadelta`, `Rprop`, `ASGD`, and optax's Lion). Each
//! type's documentation writes out its update; [`AnyOptimizer`] holds any of them, chosen by
//! name at run time, and [`for_each_optimizer!`] is the registry they come from.
//!
//! Hyper-parameters have PyTorch's names and defaults; each type's documentation writes out
//! its update. They are `f64`, like Python floats: the scalars of a step (bias corrections,
//! `lr / bc1`, decayed learning rates) are computed once per call in `f64` and rounded once
//! to `f32`, as PyTorch's single-tensor path does.
//!
//! # The same bits on every path
//!
//! The update of each optimizer is written once, generic over a lane type, and run either one
//! element at a time ([`Backend::Scalar`]) or on SIMD vectors ([`Backend::Simd`]). Both give
//! bit-identical parameters and state (NaN payloads aside), and so does any split of the slices
//! into chunks: elements are independent, so an engine may shard a step across threads and
//! get the same result on any machine and thread count. This is tested for every optimizer
//! and option.
//!
//! Every operation is IEEE 754's, correctly rounded: `+ − × ÷ √`, comparisons, and a fused
//! multiply-add (one rounding) exactly where PyTorch 2.15's CPU kernels fuse (`add(alpha=)`,
//! `addcmul`, `lerp`; not `addcdiv`). The FMA is the hardware instruction where the back-end
//! has one (FMA3, AVX-512, NEON) and a correctly rounded software emulation where it has
//! none (SSE2-only and wasm builds), so every back-end gives the same bits, and they are
//! PyTorch's: the golden tests replay trajectories recorded from PyTorch 2.15 at 0 ulp for
//! every optimizer without a square root, and for the others every difference is PyTorch's
//! square root, which on x86 CPUs is MKL's (`vmsSqrt`, off by one ulp for about 17 % of
//! inputs), not IEEE's (`docs/conventions.md` has the measured sizes).
//!
//! # Errors and non-finite values
//!
//! Mismatched lengths, `t = 0`, NaN, infinite or out-of-range hyper-parameters and
//! incompatible options return an [`Error`] before anything is written. NaN and infinite
//! *gradients* are not errors: as in PyTorch they flow into their own element's parameter
//! and state and leave every other element untouched. A NaN gradient makes the element's
//! parameter and the state values it updates NaN; an infinite one sends SGD's parameter to
//! ∓infinity and makes Adagrad's, RMSprop's and Adam's parameter NaN (their update is ∞/∞).
//! Each type's documentation states its outcome: the optimizers that use only the gradient's
//! sign ([`Rprop`], [`Lion`]) take a finite step for an infinite gradient, and [`Rprop`]
//! leaves the parameter unchanged for a NaN one (`torch.sign(NaN) = 0`).
//! Callers that want PyTorch's `found_inf` skip must check the gradients first. Unlike
//! PyTorch, infinite hyper-parameters (`lr = inf`) are refused.
//!
//! # Features
//!
//! * `std` (default): implements `std::error::Error` for [`Error`] and enables run-time
//!   selection of AVX2 / AVX-512 on x86_64. Without it the crate is `no_std` (build with
//!   `default-features = false`) and uses the SIMD the build's target features enable.
//! * `rayon`: `Optimizer::step_parallel`, one step split across rayon's threads.
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_code)] // allowed in src/simd/x86/ (run-time dispatch) and src/simd/arm.rs only

#[cfg(feature = "std")]
extern crate std;

mod error;
pub mod optim;
mod optimizer;
#[cfg(feature = "rayon")]
mod parallel;
pub mod pipeline;
pub mod schedule;
mod simd;

/// The README's example runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use error::Error;
// Every optimizer of the registry, and `AnyOptimizer`, at the crate root (a new optimizer
// needs no line here).
pub use optim::*;
pub use optimizer::{HyperParameter, Optimizer};
pub use simd::Backend;

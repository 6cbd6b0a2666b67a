//! The checks every registered optimizer goes through, on every back-end this machine has.

mod bit_identity;
mod equations;
pub mod errors;
mod limits;
mod no_alloc;
pub mod non_finite;
mod pipeline;

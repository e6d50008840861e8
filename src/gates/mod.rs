//! Stochastic gate layers: one learnable parameter per gated unit (an input feature or a channel).
//!
//! In training a gate layer multiplies its units by a random gate in [0, 1] and offers a
//! differentiable penalty, the expected number of open gates. At inference it is deterministic and
//! a unit whose inference gate is exactly 0 is not used ("dropped"). Each kind's file gives its
//! paper, its training gate, its penalty and its inference gate.
//!
//! Layout: a gate of `D` units multiplies axis -1 of `[N, D]` and axis 1 of `[N, C, ...]`. A gate
//! built with `members = Some(E)` holds `E` independent gates (an ensemble) as parameters of shape
//! `[E, D]` and expects inputs with a leading member axis, `[E, N, D]` or `[E, N, C, ...]`.

mod build;
mod config;
mod correlated;
mod correlation;
mod gate;
mod gumbel;
mod hard_concrete;
mod l1;
mod ste;
mod stg;

pub use build::*;
pub use config::*;
pub use correlated::*;
pub use correlation::*;
pub use gate::*;
pub use gumbel::*;
pub use hard_concrete::*;
pub use l1::*;
pub use ste::*;
pub use stg::*;

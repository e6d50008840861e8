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

pub use build::build_gate;
pub use config::GateConfig;
pub use correlated::{Correlated, CorrelatedConfig, correlated};
pub(crate) use correlation::*;
pub use correlation::{CorrelationConfig, CorrelationFactor};
pub(crate) use gate::*;
pub use gate::{Gate, GateKind, Noise, Reduction, assign, check_input, selected_units};
pub use gumbel::Gumbel;
pub(crate) use gumbel::*;
pub use hard_concrete::HardConcrete;
pub(crate) use hard_concrete::*;
pub use l1::L1;
pub(crate) use l1::*;
pub use ste::{Ste, SteConfig, ste};
pub use stg::{Stg, StgConfig, stg};

//! Training gated ensembles: data on the device, the batched training loop with per-member early
//! stopping and best-state restore, metrics of the inference network, and the device choice.

mod config;
mod device;
mod fit;
mod gated_model;
mod metrics;
mod path;
mod prepared;
mod pretrain;

pub use crate::host::{read_back, to_f64};
pub use config::*;
pub use device::*;
pub use fit::*;
pub use gated_model::*;
pub use metrics::*;
pub use path::*;
pub use prepared::*;
pub use pretrain::*;

//! Training gated ensembles: data on the device, the one epoch loop (per-member early stopping
//! with best-state restore, or until the selection is stable) and the trainer it drives, saved
//! model state, the lambda path with its refit and the choice of its point, metrics of the
//! inference network, and the device choice.

mod choose;
mod config;
mod device;
mod epochs;
mod fit;
mod gated_model;
mod metrics;
mod optimiser;
mod path;
mod path_config;
mod path_point;
mod prepared;
mod pretrain;
mod refit;
mod ridge;
mod snapshot;
mod trainer;

use optimiser::gated_adam;

pub use crate::host::{read_back, to_f64};
pub use crate::stats::{accuracy_se, mean_and_se};
pub use choose::*;
pub use config::*;
pub use device::*;
pub use epochs::*;
pub use fit::*;
pub use gated_model::*;
pub use metrics::*;
pub use path::*;
pub use path_config::*;
pub use path_point::*;
pub use prepared::*;
pub use pretrain::*;
pub use refit::*;
pub use ridge::*;
pub use snapshot::*;
pub use trainer::*;

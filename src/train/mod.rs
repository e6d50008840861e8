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
pub(crate) use choose::*;
pub use choose::{Candidate, Choice, choose, faithful_point};
pub(crate) use config::*;
pub use config::{TrainConfig, check_lambdas, default_gate_lr, default_min_delta};
pub use device::{
    ONE_THREAD_UP_TO, device_name, parse_device, parse_threads, set_threads, threads_for,
};
pub(crate) use epochs::*;
pub use epochs::{EpochReport, EpochStep, Selection, Stopping, run_epochs};
pub(crate) use fit::*;
pub use fit::{FitOutcome, MemberTags, fit};
pub use gated_model::GatedModel;
pub use metrics::{Metrics, evaluate, metrics, score_se, task_loss};
pub(crate) use path::*;
pub use path::{Schedule, lambda_path_with, warm_path};
pub use path_config::{PathConfig, RefitStart};
pub(crate) use path_point::*;
pub use path_point::{PathMember, PathPoint};
pub use prepared::{Part, Prepared};
pub(crate) use pretrain::*;
pub use pretrain::{PretrainConfig, correlated_masks, pretrain_encoder};
pub use refit::refit_in_place;
pub(crate) use ridge::*;
pub use ridge::{RIDGE_ALPHAS, choose_ridge_alpha, ridge};
pub use snapshot::Snapshot;
pub(crate) use trainer::*;
pub use trainer::{OBJECTIVE_ROWS, Trainer};

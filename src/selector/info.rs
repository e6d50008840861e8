//! What a fitted selector records beside its weights (`selector.json`): the parameters, the
//! network, the data's names and scaling, the path, the scores and what the fit decided.

use super::{Decision, PathSummary, Screened, SelectorParams};
use crate::data::{Standardizer, Task};
use crate::model::{GatedMlpConfig, KeptUnits};
use crate::train::Metrics;
use serde::{Deserialize, Serialize};

/// Metrics of the inference network on the three parts of the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    /// Training rows.
    pub train: Metrics,
    /// Validation rows; `None` when the final model was trained on them too (refit on training
    /// and validation rows after cross-validation).
    pub val: Option<Metrics>,
    /// Test rows; `None` when the fit had none ([`super::SelectorParams::fit_table`]).
    pub test: Option<Metrics>,
}

/// The version of the saved layout that [`FittedSelector::save`](super::FittedSelector::save) writes; [`FittedSelector::load`](super::FittedSelector::load)
/// reads it and every earlier one. Version 2: `model.safetensors` holds the network pruned to the
/// selected features ([`SelectorInfo::kept`]) and `scaler` their statistics only. Version 1 (a
/// file without a version too): the whole gated network, `scaler` over every network input.
pub const SELECTOR_FORMAT_VERSION: u32 = 2;

/// The version of a `selector.json` that records none.
fn format_version() -> u32 {
    1
}

/// What is saved beside the weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelectorInfo {
    /// The layout version of this record ([`SELECTOR_FORMAT_VERSION`]).
    #[serde(default = "format_version")]
    pub format_version: u32,
    /// The parameters of the fit.
    pub params: SelectorParams,
    /// The network (with the correlation factor's form, when there is one).
    pub network: GatedMlpConfig,
    /// Names of the input features.
    pub feature_names: Vec<String>,
    /// Name of the target column.
    pub target_name: String,
    /// The task.
    pub task: Task,
    /// Class labels (classification).
    pub classes: Vec<i64>,
    /// Standardisation of the network's inputs (training rows): of the selected features, in the
    /// order of [`FittedSelector::selected`](super::FittedSelector::selected) (of every network input in a version-1 file).
    pub scaler: Standardizer,
    /// Regression target mean and scale.
    pub target_scale: (f64, f64),
    /// The lambda of the final model.
    pub lambda: f64,
    /// The lambda path (automatic lambda only).
    pub path: Vec<PathSummary>,
    /// Importance per feature (0 when dropped).
    pub importance: Vec<f64>,
    /// Scores at fit time, when known.
    pub metrics: Option<SplitMetrics>,
    /// Whether the final model was fitted on the training and validation rows together (after a
    /// cross-validated choice): its selection can then differ from the chosen path point's.
    #[serde(default)]
    pub fitted_on_train_and_val: bool,
    /// The screen the data passed before the gates, when it was screened: the network's inputs
    /// are these columns (`feature_names`, `importance` and the selection are over all of them).
    #[serde(default)]
    pub screened: Option<Screened>,
    /// Epochs and wall seconds of the training loop of a fixed-lambda fit (the path's epochs
    /// are in `path`).
    #[serde(default)]
    pub training: Option<TrainingTime>,
    /// The penalty of the final ridge fit of a linear regression model, when it had one
    /// ([`SelectorParams::ridge`]).
    #[serde(default)]
    pub ridge_alpha: Option<f64>,
    /// What the automatic fit decided (automatic lambda only): the race of architectures, the
    /// chosen point, the stability of each feature over the folds.
    #[serde(default)]
    pub decision: Option<Decision>,
    /// The units the saved network keeps of `network` (version 2): `kept.inputs` index the
    /// network's inputs (the features, or the screened columns).
    #[serde(default)]
    pub kept: Option<KeptUnits>,
}

/// How long the training loop of one fit ran: its epochs (every member trains in each) and wall
/// seconds, validation scoring after each epoch included.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainingTime {
    /// Epochs trained (early stopping may end the fit before the maximum).
    pub epochs: usize,
    /// Wall seconds of those epochs.
    pub seconds: f64,
    /// `seconds / epochs`.
    pub seconds_per_epoch: f64,
}

impl TrainingTime {
    /// `epochs` that took `seconds`.
    pub fn new(epochs: usize, seconds: f64) -> TrainingTime {
        TrainingTime {
            epochs,
            seconds,
            seconds_per_epoch: seconds / epochs.max(1) as f64,
        }
    }
}

/// What a fit decided beside the weights, given to [`super::FittedSelector::new`].
#[derive(Debug, Clone)]
pub(crate) struct FitOutcome {
    /// The lambda of the final model.
    pub lambda: f64,
    /// The lambda path (automatic lambda only).
    pub path: Vec<PathSummary>,
    /// Whether the final model was fitted on the training and validation rows together.
    pub fitted_on_train_and_val: bool,
    /// The training loop of a fixed-lambda fit.
    pub training: Option<TrainingTime>,
    /// The penalty of the final ridge fit, when it had one.
    pub ridge_alpha: Option<f64>,
    /// What the automatic fit decided.
    pub decision: Option<Decision>,
}

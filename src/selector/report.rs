//! `result.json` of `stog select` as a type: what a fitted selector selected, how its inference
//! network scores, and the path it was chosen from.

use super::{Decision, FittedSelector, PathSummary, Screened, SplitMetrics, TrainingTime};
use crate::data::Task;
use crate::gates::{GateConfig, GateKind, Reduction};
use crate::model::MemberUsage;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// `result.json` of `stog select`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectReport {
    /// The task.
    pub task: Task,
    /// Gate kind at the input.
    pub gate: GateKind,
    /// The gate's settings.
    pub gate_config: GateConfig,
    /// The lambda of the final model.
    pub lambda: f64,
    /// Hidden layer sizes of the network kept (empty: the linear model).
    pub hidden: Vec<i64>,
    /// Penalty reduction over units.
    pub reduction: Reduction,
    /// Input features of the data.
    pub n_features: usize,
    /// Their names.
    pub feature_names: Vec<String>,
    /// Names of the features the inference network uses.
    pub selected: Vec<String>,
    /// Their indices.
    pub selected_indices: Vec<usize>,
    /// Importance per feature (exactly 0 when dropped).
    pub importance: Vec<f64>,
    /// Scores of the inference network (`val` is `null` after a refit on train + val).
    pub metrics: SplitMetrics,
    /// Whether the final model was fitted on the training and validation rows together (after
    /// cross-validation): the path's point at `lambda` then says what was chosen, this report
    /// what the final model uses.
    pub fitted_on_train_and_val: bool,
    /// The screen before the gates, when the data was screened (the network's inputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screened: Option<Screened>,
    /// Units and multiply-adds the inference network uses.
    pub usage: MemberUsage,
    /// Wall seconds of the fit.
    pub fit_seconds: f64,
    /// Epochs and seconds of the training loop (a fixed lambda only; the path's epochs are in
    /// `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingTime>,
    /// The penalty of the final ridge fit of a linear regression model, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ridge_alpha: Option<f64>,
    /// Intra-op threads the fit ran with.
    pub threads: usize,
    /// Unlabeled rows used for pretraining.
    pub unlabeled_rows: usize,
    /// What the automatic fit decided: the race of architectures, the chosen point (the final
    /// model's `lambda` and selection stand for it), the stability of each feature over the
    /// cross-validation folds, whether the screen decided (automatic lambda only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The lambda path (automatic lambda only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<PathSummary>>,
}

impl FittedSelector {
    /// The report of this fit; `fit_seconds`, `threads` and `unlabeled_rows` are the caller's.
    pub fn report(
        &self,
        fit_seconds: f64,
        threads: usize,
        unlabeled_rows: usize,
    ) -> Result<SelectReport> {
        let info = &self.info;
        let metrics = info
            .metrics
            .ok_or_else(|| Error::config("report", "the selector has no fit-time metrics"))?;
        Ok(SelectReport {
            task: info.task,
            gate: info.params.gate.kind(),
            gate_config: info.params.gate,
            lambda: info.lambda,
            hidden: info.network.hidden.clone(),
            reduction: info.params.train.reduction,
            n_features: info.feature_names.len(),
            feature_names: info.feature_names.clone(),
            selected: self.selected_names(),
            selected_indices: self.selected(),
            importance: self.importance().to_vec(),
            metrics,
            fitted_on_train_and_val: info.fitted_on_train_and_val,
            screened: info.screened.clone(),
            usage: self.usage(),
            fit_seconds,
            training: info.training,
            ridge_alpha: info.ridge_alpha,
            threads,
            unlabeled_rows,
            decision: info.decision.clone(),
            path: (info.params.lambda == super::LambdaChoice::Auto).then(|| info.path.clone()),
        })
    }
}

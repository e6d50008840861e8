//! `result.json` and `path.json` of `stog script`: what gating a TorchScript model reached, per
//! lambda and along the warm-started path.

use crate::train::Metrics;
use serde::{Deserialize, Serialize};

/// One gate layer of the gated model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptGateReport {
    /// Where the gate sits (`input`, or the stage or layer it follows).
    pub name: String,
    /// Units it gates.
    pub units_total: i64,
    /// The units it keeps.
    pub selected: Vec<i64>,
}

/// Scores on the validation and test rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValTest {
    /// Validation rows.
    pub val: Metrics,
    /// Test rows.
    pub test: Metrics,
}

/// `result.json` of `stog script` at one lambda.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptReport {
    /// The penalty weight.
    pub lambda: f64,
    /// Each gate layer, in model order.
    pub gates: Vec<ScriptGateReport>,
    /// Scores of the gated model.
    pub metrics: ValTest,
    /// Epoch of the restored best state.
    pub best_epoch: usize,
    /// Multiply-adds per example before pruning, when the model reports them.
    pub macs_before: Option<i64>,
    /// Multiply-adds per example after pruning, when the model reports them.
    pub macs_after: Option<i64>,
    /// What the pruned export removed (the layers cut, parameters and file bytes before and
    /// after, the input columns it reads), when it was exported.
    pub pruned: Option<PrunedExport>,
    /// Why no pruned model was exported, when it was not.
    pub not_exported: Option<String>,
}

/// What the physical pruning of an export removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrunedExport {
    /// Per gate layer, the parameters that read its units: they now read only the kept ones,
    /// scaled by their gate (for stage files as `file:parameter`).
    pub carriers: Vec<Vec<String>>,
    /// Per gate layer, the parameter whose output rows produce its units (it now writes only the
    /// kept ones); `None` for an input gate and for a gate on a residual stream.
    pub producers: Vec<Option<String>>,
    /// Per gate layer, when a gate is on a residual stream (else empty): every parameter that
    /// writes a stream gate's units (the coupled group's writers, each cut to the kept rows);
    /// empty for the other gates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stream_writers: Vec<Vec<String>>,
    /// Per gate layer, the BatchNorm layers between its writers and the gate, cut with them.
    pub norms: Vec<Vec<String>>,
    /// The input columns (features, or channels on axis 1) the exported model reads, for an
    /// input gate: it takes the full input rows and drops the other columns first.
    pub inputs_kept: Option<Vec<i64>>,
    /// Numbers in the parameters of the model as loaded.
    pub parameters_before: i64,
    /// Numbers in the parameters of the exported model.
    pub parameters_after: i64,
    /// Bytes of the model's file(s) as loaded.
    pub bytes_before: u64,
    /// Bytes of the exported file(s).
    pub bytes_after: u64,
}

/// One lambda of the path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScriptPathPoint {
    /// The penalty weight.
    pub lambda: f64,
    /// Units kept over all gate layers.
    pub kept: usize,
    /// Multiply-adds per example after pruning, when the model reports them.
    pub macs: Option<i64>,
    /// Validation scores.
    pub val: Metrics,
    /// Standard error of the validation score (NaN, written `null`, when unknown).
    #[serde(deserialize_with = "super::nan_as_null")]
    pub val_score_se: f64,
    /// Test scores.
    pub test: Metrics,
}

/// `path.json` of `stog script --lambda auto` (or with several `--lambdas`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptPathReport {
    /// The path in increasing lambda.
    pub path: Vec<ScriptPathPoint>,
    /// The lambda chosen (`--lambda auto`): the sparsest within one standard error of the best.
    pub chosen_lambda: Option<f64>,
}

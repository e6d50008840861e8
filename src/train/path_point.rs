//! A point of the lambda path ([`PathPoint`]: its lambda, each member's selection and validation
//! score, the model state reached there) and how the current state becomes one: scored on the
//! validation rows, after a refit under its frozen input gates when configured.

use super::refit::{only_input_gate, refit_network, widen};
use super::{
    MemberTags, Metrics, PathConfig, Prepared, Snapshot, TrainConfig, accuracy_score, loss_score,
    metrics, to_f64,
};
use crate::Result;
use crate::data::Task;
use crate::model::GatedMlp;
use serde::{Deserialize, Serialize};
use tch::{Kind, nn};

/// One member at one point of the path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathMember {
    /// Input features used by the inference network.
    pub selected: Vec<i64>,
    /// Units kept per gate layer.
    pub units_kept: Vec<i64>,
    /// Validation metrics of the inference network.
    pub val: Metrics,
    /// Validation score for choosing (accuracy, or minus the standardised MSE).
    pub score: f64,
    /// Standard error of the score (smoothed binomial for accuracy).
    pub score_se: f64,
    /// Validation loss per row (cross-entropy, or squared error of the standardised target).
    pub val_losses: Vec<f64>,
    /// Brier score per validation row: the squared distance between the predicted class
    /// probabilities and the one-hot label, in [0, 2] (regression: the squared error).
    #[serde(default)]
    pub val_brier: Vec<f64>,
    /// Epochs trained at this point.
    pub epochs: usize,
    /// The epoch whose state the point keeps: the early-stopping best of the unpenalised start,
    /// the last epoch of a penalised point. A fit without validation rows trains this many.
    #[serde(default)]
    pub best_epoch: usize,
    /// The epoch whose state the point's refit kept ([`PathConfig::refit`]), when it was refitted.
    #[serde(default)]
    pub refit_best_epoch: Option<usize>,
}

impl PathMember {
    /// Units kept over every gate layer.
    pub fn kept(&self) -> i64 {
        self.units_kept.iter().sum()
    }
}

/// One lambda of the path, with the model state reached there.
#[derive(Debug)]
pub struct PathPoint {
    /// The lambda (0 for the unpenalised start).
    pub lambda: f64,
    /// Per member results.
    pub members: Vec<PathMember>,
    /// Every variable at this point.
    pub state: Snapshot,
}

/// Loads the state of a point back into the variables of `vs`.
pub fn restore_point(vs: &nn::VarStore, point: &PathPoint) -> Result<()> {
    point.state.load(vs)
}

/// Scores the current state on validation (after a refit when configured) and snapshots it;
/// `epochs` holds each member's (trained, kept) epochs.
#[allow(clippy::too_many_arguments)]
pub(super) fn point(
    model: &GatedMlp,
    vs: &nn::VarStore,
    data: &Prepared,
    lambda: f64,
    epochs: &[(usize, usize)],
    path: &PathConfig,
    train: &TrainConfig,
    tags: &MemberTags,
) -> Result<PathPoint> {
    let mut state = Snapshot::whole(vs);
    let refit_gate = only_input_gate(model).filter(|_| path.refit);
    let (val, per_example, brier, refit_best) = match refit_gate {
        Some(gate) => {
            let (masked, kept) = data.masked_columns(&gate.gate.inference_gate());
            let (vs2, refit, best) = refit_network(model, vs, &masked, &kept, path, train, tags)?;
            // The refit has the network's variables only (the gates stay as they are); every one
            // of them matches one of the gated model's (`refit_network` checks that).
            let refit_vars = vs2.variables();
            for (name, value) in state.copies_mut() {
                if let Some(v) = refit_vars.get(name) {
                    *value = widen(value, v, &kept, name)?;
                }
            }
            let (val, per_example, brier) = score(&refit, &masked)?;
            (val, per_example, brier, Some(best))
        }
        None => {
            let (val, per_example, brier) = score(model, data)?;
            (val, per_example, brier, None)
        }
    };
    let n = data.val.len() as usize;
    let members = model
        .usage()?
        .into_iter()
        .enumerate()
        .map(|(m, u)| {
            let losses = per_example[m * n..(m + 1) * n].to_vec();
            let val_brier = brier[m * n..(m + 1) * n].to_vec();
            let (score, score_se) = match data.task {
                Task::Classification => accuracy_score(val[m].score(), n),
                Task::Regression => loss_score(&losses),
            };
            PathMember {
                selected: u.selected_inputs,
                units_kept: u.units_kept,
                val: val[m],
                score,
                score_se,
                val_losses: losses,
                val_brier,
                epochs: epochs[m].0,
                best_epoch: epochs[m].1,
                refit_best_epoch: refit_best.as_ref().map(|b| b[m]),
            }
        })
        .collect();
    Ok(PathPoint {
        lambda,
        members,
        state,
    })
}

/// Validation metrics per member, and the per-row validation losses and Brier scores, member
/// after member (cross-entropy, or squared error of the standardised target for both).
fn score(model: &GatedMlp, data: &Prepared) -> Result<(Vec<Metrics>, Vec<f64>, Vec<f64>)> {
    tch::no_grad(|| {
        let out = model.infer(&data.val.x);
        let val = metrics(data.task, &out, &data.val.y, data.target_scale.1)?;
        let (per_example, brier) = match data.task {
            Task::Classification => {
                let (e, k) = (out.size()[0], out.size()[2]);
                let y = &data.val.y;
                let idx = if y.dim() == 2 {
                    y.unsqueeze(-1)
                } else {
                    y.view([1, -1, 1]).expand([e, -1, 1], false)
                };
                let logp = out.log_softmax(-1, Kind::Float);
                let ce = -logp.gather(2, &idx, false).squeeze_dim(2);
                let onehot = idx.squeeze_dim(2).one_hot(k).to_kind(Kind::Float);
                let brier = (logp.exp() - onehot)
                    .square()
                    .sum_dim_intlist(-1, false, Kind::Float);
                (ce, brier)
            }
            Task::Regression => {
                let se = (out - data.val.y.unsqueeze(0))
                    .square()
                    .mean_dim(2, false, Kind::Float);
                (se.shallow_clone(), se)
            }
        };
        Ok((val, to_f64(&per_example)?, to_f64(&brier)?))
    })
}

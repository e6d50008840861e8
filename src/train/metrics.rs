//! Task losses per member and the metrics of the inference network.

use crate::Result;
use crate::data::Task;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Task loss per member: `outputs` `[E, N, K]` against `y`; cross-entropy (mean over rows) or
/// mean squared error (mean over rows and outputs). Shape `[E]`.
pub fn task_loss(task: Task, outputs: &Tensor, y: &Tensor) -> Tensor {
    match task {
        Task::Classification => {
            let e = outputs.size()[0];
            let logp = outputs.log_softmax(-1, Kind::Float);
            // Targets `[N]` shared by the members, or `[E, N]` of their own.
            let idx = if y.dim() == 2 {
                y.unsqueeze(-1)
            } else {
                y.view([1, -1, 1]).expand([e, -1, 1], false)
            };
            -logp
                .gather(2, &idx, false)
                .squeeze_dim(2)
                .mean_dim(1, false, Kind::Float)
        }
        Task::Regression => {
            let y = if y.dim() == 3 {
                y.shallow_clone()
            } else {
                y.unsqueeze(0)
            };
            (outputs - y)
                .square()
                .mean_dim([1, 2].as_slice(), false, Kind::Float)
        }
    }
}

/// Scores of one member on one part of the data (inference network, dropped units exactly 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Metrics {
    /// Classification scores.
    Classification {
        /// Fraction of rows classified correctly.
        accuracy: f64,
        /// Mean cross-entropy.
        loss: f64,
    },
    /// Regression scores (in the target's original units).
    Regression {
        /// Coefficient of determination.
        r2: f64,
        /// Mean squared error.
        mse: f64,
    },
}

impl Metrics {
    /// The score where higher is better: accuracy, or R2.
    pub fn score(&self) -> f64 {
        match self {
            Metrics::Classification { accuracy, .. } => *accuracy,
            Metrics::Regression { r2, .. } => *r2,
        }
    }

    /// The loss: cross-entropy, or MSE.
    pub fn loss(&self) -> f64 {
        match self {
            Metrics::Classification { loss, .. } => *loss,
            Metrics::Regression { mse, .. } => *mse,
        }
    }
}

/// Metrics per member of outputs `[E, N, K]` against `y`; `target_scale` undoes the regression
/// target's standardisation for the MSE.
pub fn metrics(
    task: Task,
    outputs: &Tensor,
    y: &Tensor,
    target_scale: f64,
) -> Result<Vec<Metrics>> {
    let loss = super::to_f64(&task_loss(task, outputs, y))?;
    match task {
        Task::Classification => {
            let correct = outputs
                .argmax(-1, false)
                .eq_tensor(&if y.dim() == 2 {
                    y.shallow_clone()
                } else {
                    y.unsqueeze(0)
                })
                .to_kind(Kind::Double)
                .mean_dim(1, false, Kind::Double);
            let acc = super::to_f64(&correct)?;
            Ok(acc
                .iter()
                .zip(&loss)
                .map(|(a, l)| Metrics::Classification {
                    accuracy: *a,
                    loss: *l,
                })
                .collect())
        }
        Task::Regression => {
            let var = (y - y.mean(Kind::Float))
                .square()
                .mean(Kind::Float)
                .double_value(&[]);
            Ok(loss
                .iter()
                .map(|l| Metrics::Regression {
                    r2: 1.0 - l / var.max(1e-12),
                    mse: l * target_scale * target_scale,
                })
                .collect())
        }
    }
}

/// The standard error of each member's score ([`Metrics::score`]) for outputs `[E, N, K]`
/// against `y`: the smoothed binomial one of the accuracy ([`super::accuracy_se`]), or for
/// regression the standard deviation of the per-example squared error over `sqrt(N)`, divided by
/// the targets' variance as R2 divides the MSE (the lambda path's rule, in R2 units). Shape `[E]`.
pub fn score_se(task: Task, outputs: &Tensor, y: &Tensor) -> Result<Vec<f64>> {
    let n = outputs.size()[1];
    match task {
        Task::Classification => Ok(metrics(task, outputs, y, 1.0)?
            .iter()
            .map(|m| super::accuracy_se(m.score(), n as usize))
            .collect()),
        Task::Regression => {
            let var = (y - y.mean(Kind::Float))
                .square()
                .mean(Kind::Float)
                .double_value(&[]);
            let y = if y.dim() == 3 {
                y.shallow_clone()
            } else {
                y.unsqueeze(0)
            };
            let per_example = (outputs - y).square().mean_dim(2, false, Kind::Double);
            let sd = super::to_f64(&per_example.std_dim([1].as_slice(), true, false))?;
            Ok(sd
                .iter()
                .map(|s| s / (n as f64).sqrt() / var.max(1e-12))
                .collect())
        }
    }
}

/// Metrics of every member's inference network (dropped units exactly 0) on `part` of `data`.
pub fn evaluate(
    model: &crate::model::GatedMlp,
    data: &super::Prepared,
    part: &super::Part,
) -> Result<Vec<Metrics>> {
    tch::no_grad(|| {
        metrics(
            data.task,
            &model.infer(&part.x),
            &part.y,
            data.target_scale.1,
        )
    })
}

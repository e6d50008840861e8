//! Task losses per member and the metrics of the inference network.

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
pub fn metrics(task: Task, outputs: &Tensor, y: &Tensor, target_scale: f64) -> Vec<Metrics> {
    let loss = Vec::<f64>::try_from(
        task_loss(task, outputs, y)
            .to_kind(Kind::Double)
            .to_device(tch::Device::Cpu),
    )
    .unwrap_or_default();
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
            let acc = Vec::<f64>::try_from(correct.to_device(tch::Device::Cpu)).unwrap_or_default();
            acc.iter()
                .zip(&loss)
                .map(|(a, l)| Metrics::Classification {
                    accuracy: *a,
                    loss: *l,
                })
                .collect()
        }
        Task::Regression => {
            let var = (y - y.mean(Kind::Float))
                .square()
                .mean(Kind::Float)
                .double_value(&[]);
            loss.iter()
                .map(|l| Metrics::Regression {
                    r2: 1.0 - l / var.max(1e-12),
                    mse: l * target_scale * target_scale,
                })
                .collect()
        }
    }
}

/// Metrics of every member's inference network (dropped units exactly 0) on `part` of `data`.
pub fn evaluate(
    model: &crate::model::GatedMlp,
    data: &super::Prepared,
    part: &super::Part,
) -> Vec<Metrics> {
    tch::no_grad(|| {
        metrics(
            data.task,
            &model.forward_t(&part.x, false),
            &part.y,
            data.target_scale.1,
        )
    })
}

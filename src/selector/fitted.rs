//! A fitted selector: what it selected, how well the inference network scores, predictions, and
//! save / load (`model.safetensors` + `selector.json`).

use super::{PathSummary, Screened, SelectorParams};
use crate::data::{Standardizer, Table, Task};
use crate::gates::CorrelationFactor;
use crate::model::{GatedMlp, GatedMlpConfig, MemberUsage, gated_mlp};
use crate::train::{Metrics, Prepared, evaluate};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::Path;
use tch::{Device, Kind, Tensor, nn};

/// Metrics of the inference network on the three parts of the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    /// Training rows.
    pub train: Metrics,
    /// Validation rows; `None` when the final model was trained on them too (refit on training
    /// and validation rows after cross-validation).
    pub val: Option<Metrics>,
    /// Test rows.
    pub test: Metrics,
}

/// What is saved beside the weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelectorInfo {
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
    /// Feature standardisation (training rows).
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

/// A trained selector.
#[derive(Debug)]
pub struct FittedSelector {
    /// Everything but the weights.
    pub info: SelectorInfo,
    vs: nn::VarStore,
    model: GatedMlp,
    /// What the inference network uses (read once: the gates do not change after the fit).
    usage: MemberUsage,
}

impl FittedSelector {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        params: SelectorParams,
        table: &Table,
        data: Prepared,
        vs: nn::VarStore,
        model: GatedMlp,
        lambda: f64,
        path: Vec<PathSummary>,
        importance: Vec<f64>,
        val_held_out: bool,
    ) -> Result<Self> {
        let score = |part: &crate::train::Part| -> Result<Metrics> {
            Ok(evaluate(&model, &data, part)?[0])
        };
        let split_metrics = SplitMetrics {
            train: score(&data.train)?,
            val: if val_held_out {
                Some(score(&data.val)?)
            } else {
                None
            },
            test: score(&data.test)?,
        };
        let info = SelectorInfo {
            params,
            network: model.config.clone(),
            feature_names: table.feature_names.clone(),
            target_name: table.target_name.clone(),
            task: table.task,
            classes: table.classes.clone(),
            scaler: data.scaler.clone(),
            target_scale: data.target_scale,
            lambda,
            path,
            importance,
            metrics: Some(split_metrics),
            fitted_on_train_and_val: !val_held_out,
            screened: None,
            training: None,
            ridge_alpha: None,
        };
        let usage = model.usage()?.remove(0);
        Ok(FittedSelector {
            info,
            vs,
            model,
            usage,
        })
    }

    /// Indices of the selected features.
    pub fn selected(&self) -> Vec<usize> {
        self.usage
            .selected_inputs
            .iter()
            .map(|i| match &self.info.screened {
                Some(s) => s.columns[*i as usize],
                None => *i as usize,
            })
            .collect()
    }

    /// This selector, fitted on the screened columns of `table`, as one over all of its
    /// features: names, importance (0 for screened-out features) and selection over every column,
    /// `params` as the user set them.
    pub(crate) fn widen(
        mut self,
        params: SelectorParams,
        table: &Table,
        screened: Screened,
    ) -> Self {
        let mut importance = vec![0.0; table.n_features()];
        for (j, v) in screened.columns.iter().zip(&self.info.importance) {
            importance[*j] = *v;
        }
        self.info.params = params;
        self.info.feature_names = table.feature_names.clone();
        self.info.importance = importance;
        self.info.screened = Some(screened);
        self
    }

    /// The network's input columns of row-major raw rows `x` (all features): the screened
    /// columns, or `x` itself; and the number of rows.
    fn network_inputs<'a>(&self, x: &'a [f64]) -> Result<(Cow<'a, [f64]>, usize)> {
        let d = self.check_rows(x)?;
        Ok(match &self.info.screened {
            Some(s) => (
                x.chunks(d)
                    .flat_map(|row| s.columns.iter().map(|j| row[*j]))
                    .collect(),
                x.len() / d,
            ),
            None => (Cow::Borrowed(x), x.len() / d),
        })
    }

    /// Names of the selected features.
    pub fn selected_names(&self) -> Vec<String> {
        self.selected()
            .iter()
            .map(|i| self.info.feature_names[*i].clone())
            .collect()
    }

    /// The fitted network (one member), e.g. to read its gates back.
    pub fn model(&self) -> &GatedMlp {
        &self.model
    }

    /// Importance per feature: the gate's open probability, exactly 0 for dropped features.
    pub fn importance(&self) -> &[f64] {
        &self.info.importance
    }

    /// Kept units and multiply-adds of the inference network.
    pub fn usage(&self) -> MemberUsage {
        self.usage.clone()
    }

    /// Scores at fit time.
    pub fn metrics(&self) -> Option<SplitMetrics> {
        self.info.metrics
    }

    /// The selected columns of row-major raw rows `x` (`n x n_features`).
    pub fn transform(&self, x: &[f64]) -> Result<Vec<f64>> {
        let d = self.check_rows(x)?;
        let sel = self.selected();
        Ok(x.chunks(d)
            .flat_map(|row| sel.iter().map(|j| row[*j]).collect::<Vec<_>>())
            .collect())
    }

    /// Predictions for row-major raw rows `x`: class labels (as in the file) or target values.
    pub fn predict(&self, x: &[f64]) -> Result<Vec<f64>> {
        let (x, n) = self.network_inputs(x)?;
        let d = x.len() / n;
        let rows: Vec<usize> = (0..n).collect();
        let xs = Tensor::from_slice(&self.info.scaler.transform(&x, &rows))
            .view([n as i64, d as i64])
            .to_device(self.vs.device());
        let out = self.model.infer(&xs).get(0);
        Ok(match self.info.task {
            Task::Classification => {
                let idx = Vec::<i64>::try_from(out.argmax(-1, false).to_device(Device::Cpu))?;
                idx.iter()
                    .map(|i| self.info.classes[*i as usize] as f64)
                    .collect()
            }
            Task::Regression => {
                let v = Vec::<f64>::try_from(
                    out.select(1, 0)
                        .to_kind(Kind::Double)
                        .to_device(Device::Cpu),
                )?;
                let (mean, scale) = self.info.target_scale;
                v.iter().map(|y| y * scale + mean).collect()
            }
        })
    }

    fn check_rows(&self, x: &[f64]) -> Result<usize> {
        let d = self.info.feature_names.len();
        if !x.len().is_multiple_of(d) || x.is_empty() {
            return Err(Error::shape(
                "predict",
                format!("{} values are not rows of {d} features", x.len()),
            ));
        }
        Ok(d)
    }

    /// Writes `dir/model.safetensors` and `dir/selector.json`.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        self.vs.save(dir.join("model.safetensors"))?;
        crate::report::write_json(&dir.join("selector.json"), &self.info)
    }

    /// Reads a selector written by [`FittedSelector::save`].
    pub fn load(dir: impl AsRef<Path>, device: Device) -> Result<FittedSelector> {
        let dir = dir.as_ref();
        let path = dir.join("selector.json");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let info: SelectorInfo = serde_json::from_str(&text).map_err(|error| Error::Json {
            path: path.clone(),
            error,
        })?;
        let mut vs = nn::VarStore::new(device);
        let factor = info
            .network
            .factor
            .as_ref()
            .map(|f| CorrelationFactor::placeholder(f, info.network.inputs));
        let model = gated_mlp(&vs.root(), &info.network, &[info.params.seed], factor)?;
        vs.load(dir.join("model.safetensors"))?;
        let usage = model.usage()?.remove(0);
        Ok(FittedSelector {
            info,
            vs,
            model,
            usage,
        })
    }
}

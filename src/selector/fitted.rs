//! A fitted selector: what it selected, how well the inference network scores, how it applies to
//! new rows (`predict`, `predict_proba`, `transform`, `support`, from arrays or a table matched by
//! column name), and save / load (`model.safetensors` + a versioned `selector.json`).

use super::{Decision, PathSummary, Screened, SelectorParams};
use crate::data::{Standardizer, Table, Task};
use crate::gates::CorrelationFactor;
use crate::model::{GatedMlp, GatedMlpConfig, MemberUsage, gated_mlp};
use crate::train::{Metrics, Prepared, evaluate};
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
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
    /// Test rows; `None` when the fit had none ([`super::SelectorParams::fit_table`]).
    pub test: Option<Metrics>,
}

/// The version of the `selector.json` layout that [`FittedSelector::save`] writes and
/// [`FittedSelector::load`] reads (a file without one has the layout of version 1).
pub const SELECTOR_FORMAT_VERSION: u32 = 1;

fn format_version() -> u32 {
    SELECTOR_FORMAT_VERSION
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
    /// What the automatic fit decided (automatic lambda only): the race of architectures, the
    /// chosen point, the stability of each feature over the folds.
    #[serde(default)]
    pub decision: Option<Decision>,
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
            test: match data.test.is_empty() {
                true => None,
                false => Some(score(&data.test)?),
            },
        };
        let info = SelectorInfo {
            format_version: SELECTOR_FORMAT_VERSION,
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
            decision: None,
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
        if let Some(d) = self.info.decision.as_mut() {
            if let Some(s) = d.stability.as_mut() {
                let mut wide = vec![0.0; table.n_features()];
                for (j, v) in screened.columns.iter().zip(s.iter()) {
                    wide[*j] = *v;
                }
                *s = wide;
            }
            d.screen_saturated = Some(self.usage.selected_inputs.len() == screened.columns.len());
        }
        self.info.params = params;
        self.info.feature_names = table.feature_names.clone();
        self.info.importance = importance;
        self.info.screened = Some(screened);
        self
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

    /// Stability per feature: the fraction of the cross-validation folds whose model at the
    /// chosen point keeps it (`None` when lambda was not chosen by cross-validation; see
    /// [`Decision::stability`]).
    pub fn stability(&self) -> Option<&[f64]> {
        self.info.decision.as_ref()?.stability.as_deref()
    }

    /// Kept units and multiply-adds of the inference network.
    pub fn usage(&self) -> MemberUsage {
        self.usage.clone()
    }

    /// Scores at fit time.
    pub fn metrics(&self) -> Option<SplitMetrics> {
        self.info.metrics
    }

    /// Whether each feature is selected (one entry per feature the model was fitted on).
    pub fn support(&self) -> Vec<bool> {
        let mut support = vec![false; self.info.feature_names.len()];
        for j in self.selected() {
            support[j] = true;
        }
        support
    }

    /// Names of the features the model was fitted on, in the order `x`'s columns must have.
    pub fn feature_names(&self) -> &[String] {
        &self.info.feature_names
    }

    /// The class labels, in the order of [`FittedSelector::predict_proba`]'s columns (empty for
    /// regression).
    pub fn classes(&self) -> &[i64] {
        &self.info.classes
    }

    /// The selected columns of `x` (`n x n_features`, the features the model was fitted on),
    /// in feature order.
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.check(x, "transform")?;
        let selected = self.selected();
        Ok(x.select(Axis(1), &selected))
    }

    /// Predictions for `x` (`n x n_features`): class labels as given in the target
    /// (classification) or target values (regression).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        let out = self.outputs(x, "predict")?;
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

    /// Class probabilities for `x` (`n x n_features`): one row per row of `x`, one column per
    /// class in the order of [`FittedSelector::classes`]; rows sum to 1, and the largest is the
    /// class [`FittedSelector::predict`] gives. An error for a regression model.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        if self.info.task == Task::Regression {
            return Err(Error::NotApplicable {
                call: "predict_proba".into(),
                reason: "a regression model has no class probabilities".into(),
            });
        }
        let out = self.outputs(x, "predict_proba")?;
        let k = self.info.classes.len();
        let p = Vec::<f64>::try_from(
            out.to_kind(Kind::Double)
                .softmax(-1, Kind::Double)
                .to_device(Device::Cpu)
                .reshape([-1]),
        )?;
        Array2::from_shape_vec((x.nrows(), k), p)
            .map_err(|e| Error::shape("predict_proba", e.to_string()))
    }

    /// [`FittedSelector::transform`] of a table's rows, its columns matched by name.
    pub fn transform_table(&self, table: &Table) -> Result<Array2<f64>> {
        self.transform(self.columns_of(table)?.view())
    }

    /// [`FittedSelector::predict`] of a table's rows, its columns matched by name (another
    /// order is fine; extra columns are ignored; a missing one is an error naming it).
    pub fn predict_table(&self, table: &Table) -> Result<Array1<f64>> {
        self.predict(self.columns_of(table)?.view())
    }

    /// [`FittedSelector::predict_proba`] of a table's rows, its columns matched by name.
    pub fn predict_proba_table(&self, table: &Table) -> Result<Array2<f64>> {
        self.predict_proba(self.columns_of(table)?.view())
    }

    /// The model's feature columns of `table`, in the model's order.
    fn columns_of(&self, table: &Table) -> Result<Array2<f64>> {
        let at: std::collections::HashMap<&str, usize> = table
            .feature_names
            .iter()
            .enumerate()
            .map(|(j, n)| (n.as_str(), j))
            .collect();
        let columns = self
            .info
            .feature_names
            .iter()
            .map(|name| {
                at.get(name.as_str()).copied().ok_or_else(|| {
                    let reason = "a feature column of the model is missing";
                    match &table.source {
                        Some(path) => Error::data(path, None, Some(name), reason),
                        None => Error::array("table", None, Some(name), reason),
                    }
                })
            })
            .collect::<Result<Vec<usize>>>()?;
        let d = table.n_features();
        Ok(Array2::from_shape_fn(
            (table.n_rows(), columns.len()),
            |(i, k)| table.x.get(i * d + columns[k]),
        ))
    }

    /// Checks that `x` has a row or more, the model's feature count and finite values.
    fn check(&self, x: ArrayView2<f64>, call: &str) -> Result<()> {
        let d = self.info.feature_names.len();
        if x.ncols() != d {
            return Err(Error::shape(
                call,
                format!(
                    "x has {} columns; the model was fitted on {d} features",
                    x.ncols()
                ),
            ));
        }
        if x.nrows() == 0 {
            return Err(Error::shape(call, "x has no rows"));
        }
        if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::array(
                "x",
                Some(i),
                Some(&self.info.feature_names[j]),
                format!("`{v}` is not a finite number"),
            ));
        }
        Ok(())
    }

    /// The inference network's outputs for `x` (`[n, outputs]`), after [`Self::check`].
    fn outputs(&self, x: ArrayView2<f64>, call: &str) -> Result<Tensor> {
        self.check(x, call)?;
        // The network reads the screened columns of very wide data, else every column.
        let x = match &self.info.screened {
            Some(s) => x.select(Axis(1), &s.columns),
            None => x.to_owned(),
        };
        let (n, d) = x.dim();
        let flat: Vec<f64> = x.iter().copied().collect();
        let rows: Vec<usize> = (0..n).collect();
        let xs = Tensor::from_slice(&self.info.scaler.transform(&flat, &rows))
            .view([n as i64, d as i64])
            .to_device(self.vs.device());
        Ok(tch::no_grad(|| self.model.infer(&xs).get(0)))
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
        let json = |error| Error::Json {
            path: path.clone(),
            error,
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(json)?;
        match value.get("format_version") {
            None => {} // written before the version was recorded: the layout of version 1
            Some(v) if v.as_u64() == Some(u64::from(SELECTOR_FORMAT_VERSION)) => {}
            Some(v) => {
                return Err(Error::ModelFormat {
                    path,
                    found: v.to_string(),
                    supported: SELECTOR_FORMAT_VERSION,
                });
            }
        }
        let info: SelectorInfo = serde_json::from_value(value).map_err(json)?;
        let mut vs = nn::VarStore::new(device);
        let factor = info
            .network
            .factor
            .as_ref()
            .map(|f| CorrelationFactor::placeholder(f, info.network.inputs));
        // Building the network draws initial weights (then replaced by the saved ones) from
        // libtorch's generator: not while a fit on another thread draws from it.
        let model = crate::exclusive_rng(|| {
            gated_mlp(&vs.root(), &info.network, &[info.params.seed], factor)
        })?;
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

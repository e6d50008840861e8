//! A fitted selector: what it selected, how well the inference network scores, how it applies to
//! new rows (`predict`, `predict_proba`, `transform`, `support`, from arrays or a table matched by
//! column name), and save / load (`model.safetensors` + a versioned `selector.json`).
//!
//! Predictions run the network pruned to the selected features ([`PrunedMlp`]): its first layer
//! has one row per selected feature, so rows need only the selected columns, and that network is
//! what is saved.

use super::SELECTOR_FORMAT_VERSION;
use super::{FitOutcome, Screened, SelectorInfo, SelectorParams, SplitMetrics, Trained};
use crate::data::{Standardizer, Table, Task};
use crate::gates::CorrelationFactor;
use crate::model::{GatedMlp, MemberUsage, PrunedMlp, gated_mlp};
use crate::train::{Metrics, evaluate};
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use std::path::Path;
use tch::{Device, Kind, Tensor, nn};

/// A trained selector.
#[derive(Debug)]
pub struct FittedSelector {
    /// Everything but the weights.
    pub info: SelectorInfo,
    /// The fitted network with its gates, and its variables: after a fit or after loading a
    /// version-1 file (a version-2 file holds only the pruned network).
    gated: Option<(nn::VarStore, GatedMlp)>,
    /// The inference network pruned to the selected features: what predictions run and what is
    /// saved.
    pruned: PrunedMlp,
    /// What the inference network uses (read once: the gates do not change after the fit).
    usage: MemberUsage,
}

impl FittedSelector {
    /// The selector of a fitted network (one member) with what its fit decided, scored on the
    /// network's data's parts. The network is pruned here, and predictions run the pruned copy:
    /// its weights must be final.
    pub(crate) fn new(
        params: SelectorParams,
        table: &Table,
        trained: Trained,
        fit: FitOutcome,
    ) -> Result<Self> {
        let Trained { data, vs, model } = trained;
        let importance = importance(&model)?;
        let score = |part: &crate::train::Part| -> Result<Metrics> {
            Ok(evaluate(&model, &data, part)?[0])
        };
        let split_metrics = SplitMetrics {
            train: score(&data.train)?,
            val: match fit.fitted_on_train_and_val {
                true => None,
                false => Some(score(&data.val)?),
            },
            test: match data.test.is_empty() {
                true => None,
                false => Some(score(&data.test)?),
            },
        };
        let mut info = SelectorInfo {
            format_version: SELECTOR_FORMAT_VERSION,
            params,
            network: model.config.clone(),
            feature_names: table.feature_names.clone(),
            target_name: table.target_name.clone(),
            task: table.task,
            classes: table.classes.clone(),
            scaler: data.scaler.clone(),
            target_scale: data.target_scale,
            lambda: fit.lambda,
            path: fit.path,
            importance,
            metrics: Some(split_metrics),
            fitted_on_train_and_val: fit.fitted_on_train_and_val,
            screened: None,
            training: fit.training,
            ridge_alpha: fit.ridge_alpha,
            decision: fit.decision,
            kept: None,
        };
        let pruned = narrow(&mut info, &model)?;
        Ok(FittedSelector {
            usage: pruned.usage(&model.config),
            info,
            gated: Some((vs, model)),
            pruned,
        })
    }

    /// Indices of the selected features, in the order of the pruned network's inputs (increasing
    /// but for a screen's order).
    pub fn selected(&self) -> Vec<usize> {
        self.pruned
            .kept
            .inputs
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

    /// The fitted network (one member) with its gates, e.g. to read them back: after a fit or
    /// after loading a version-1 file; `None` after loading a version-2 file, which holds only
    /// the pruned network ([`FittedSelector::pruned`]).
    pub fn gated_model(&self) -> Option<&GatedMlp> {
        self.gated.as_ref().map(|(_, model)| model)
    }

    /// The network that predictions run and [`FittedSelector::save`] writes: the fitted one
    /// pruned to the selected features (its first layer has one row per selected feature, the
    /// input gate's values folded in), without gates.
    pub fn pruned(&self) -> &PrunedMlp {
        &self.pruned
    }

    /// Importance per feature: the gate's open probability, exactly 0 for dropped features.
    pub fn importance(&self) -> &[f64] {
        &self.info.importance
    }

    /// Stability per feature: the fraction of the cross-validation folds whose model at the
    /// chosen point keeps it (`None` when lambda was not chosen by cross-validation; see
    /// [`Decision::stability`](super::Decision::stability)).
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
    /// in the order of [`FittedSelector::selected`].
    pub fn transform(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.selected_columns(x, "transform")
    }

    /// The selected columns of `x`, after checking it has every feature the model was fitted on.
    fn selected_columns(&self, x: ArrayView2<f64>, call: &str) -> Result<Array2<f64>> {
        self.check(x, &self.info.feature_names, call)?;
        Ok(x.select(Axis(1), &self.selected()))
    }

    /// Predictions for `x` (`n x n_features`, every feature the model was fitted on; only the
    /// selected columns are read): class labels as given in the target (classification) or
    /// target values (regression).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        self.predict_selected(self.selected_columns(x, "predict")?.view())
    }

    /// [`FittedSelector::predict`] of `x` holding only the selected columns (`n x
    /// selected().len()`, in the order of [`FittedSelector::selected_names`]), as
    /// [`FittedSelector::transform`] returns them.
    pub fn predict_selected(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        let out = self.outputs(x, "predict_selected")?;
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

    /// Class probabilities for `x` (`n x n_features`; only the selected columns are read): one
    /// row per row of `x`, one column per class in the order of [`FittedSelector::classes`];
    /// rows sum to 1, and the largest is the class [`FittedSelector::predict`] gives. An error
    /// for a regression model.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        self.predict_proba_selected(self.selected_columns(x, "predict_proba")?.view())
    }

    /// [`FittedSelector::predict_proba`] of `x` holding only the selected columns, as for
    /// [`FittedSelector::predict_selected`].
    pub fn predict_proba_selected(&self, x: ArrayView2<f64>) -> Result<Array2<f64>> {
        if self.info.task == Task::Regression {
            return Err(Error::NotApplicable {
                call: "predict_proba".into(),
                reason: "a regression model has no class probabilities".into(),
            });
        }
        let out = self.outputs(x, "predict_proba_selected")?;
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

    /// [`FittedSelector::transform`] of a table's rows: its selected columns, matched by name.
    pub fn transform_table(&self, table: &Table) -> Result<Array2<f64>> {
        let x = self.columns_of(table)?;
        self.check(x.view(), &self.selected_names(), "transform")?;
        Ok(x)
    }

    /// [`FittedSelector::predict`] of a table's rows, the selected columns matched by name
    /// (another order is fine; other columns, the dropped features included, may be absent or
    /// are ignored; a missing selected one is an error naming it).
    pub fn predict_table(&self, table: &Table) -> Result<Array1<f64>> {
        self.predict_selected(self.columns_of(table)?.view())
    }

    /// [`FittedSelector::predict_proba`] of a table's rows, the selected columns matched by name.
    pub fn predict_proba_table(&self, table: &Table) -> Result<Array2<f64>> {
        self.predict_proba_selected(self.columns_of(table)?.view())
    }

    /// The selected columns of `table`, in the order of [`FittedSelector::selected`].
    fn columns_of(&self, table: &Table) -> Result<Array2<f64>> {
        let at: std::collections::HashMap<&str, usize> = table
            .feature_names
            .iter()
            .enumerate()
            .map(|(j, n)| (n.as_str(), j))
            .collect();
        let columns = self
            .selected_names()
            .iter()
            .map(|name| {
                at.get(name.as_str()).copied().ok_or_else(|| {
                    let reason = "a selected feature column of the model is missing";
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

    /// Checks that `x` has a row or more, one column per name of `names` and finite values.
    fn check(&self, x: ArrayView2<f64>, names: &[String], call: &str) -> Result<()> {
        if x.ncols() != names.len() {
            let expected = if names.len() == self.info.feature_names.len() {
                "the model was fitted on"
            } else {
                "the model selected"
            };
            return Err(Error::shape(
                call,
                format!(
                    "x has {} columns; {expected} {} features",
                    x.ncols(),
                    names.len()
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
                Some(&names[j]),
                format!("`{v}` is not a finite number"),
            ));
        }
        Ok(())
    }

    /// The pruned network's outputs (`[n, outputs]`) for the selected columns `x`, after
    /// [`Self::check`].
    fn outputs(&self, x: ArrayView2<f64>, call: &str) -> Result<Tensor> {
        self.check(x, &self.selected_names(), call)?;
        let (n, d) = x.dim();
        let flat: Vec<f64> = x.iter().copied().collect();
        let rows: Vec<usize> = (0..n).collect();
        let xs = Tensor::from_slice(&self.info.scaler.transform(&flat, &rows))
            .view([n as i64, d as i64])
            .to_device(self.pruned.net.device());
        Ok(tch::no_grad(|| self.pruned.net.infer(&xs).get(0)))
    }

    /// Writes `dir/model.safetensors` (the pruned network) and `dir/selector.json`.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        self.pruned.save(&dir.join("model.safetensors"))?;
        crate::report::write_json(&dir.join("selector.json"), &self.info)
    }

    /// Reads a selector written by [`FittedSelector::save`], of this format version or an
    /// earlier one (a version-1 file is pruned as it loads).
    pub fn load(dir: impl AsRef<Path>, device: Device) -> Result<FittedSelector> {
        let dir = dir.as_ref();
        let path = dir.join("selector.json");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let json = |error| Error::Json {
            path: path.clone(),
            error,
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(json)?;
        // A file written before the version was recorded has the layout of version 1.
        let version = match value.get("format_version") {
            None => 1,
            Some(v) => match v.as_u64() {
                Some(n @ 1..=2) => n,
                _ => {
                    return Err(Error::ModelFormat {
                        path,
                        found: v.to_string(),
                        supported: SELECTOR_FORMAT_VERSION,
                    });
                }
            },
        };
        let mut info: SelectorInfo = serde_json::from_value(value).map_err(json)?;
        let weights = dir.join("model.safetensors");
        if version == 1 {
            return Self::load_gated(info, &weights, device);
        }
        let kept = info.kept.clone().ok_or_else(|| {
            Error::data(&path, None, None, "format version 2 lists no `kept` units")
        })?;
        if info.scaler.mean.len() != kept.inputs.len()
            || info.scaler.scale.len() != kept.inputs.len()
        {
            return Err(Error::data(
                &path,
                None,
                None,
                format!(
                    "`scaler` has {} means and {} scales for {} kept inputs",
                    info.scaler.mean.len(),
                    info.scaler.scale.len(),
                    kept.inputs.len()
                ),
            ));
        }
        let pruned = PrunedMlp::load(&weights, &info.network, kept, device)?;
        info.format_version = SELECTOR_FORMAT_VERSION;
        Ok(FittedSelector {
            usage: pruned.usage(&info.network),
            info,
            gated: None,
            pruned,
        })
    }

    /// A selector from a version-1 file: the gated network, pruned as a fit prunes it.
    fn load_gated(mut info: SelectorInfo, weights: &Path, device: Device) -> Result<Self> {
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
        vs.load(weights)?;
        let pruned = narrow(&mut info, &model)?;
        Ok(FittedSelector {
            usage: pruned.usage(&model.config),
            info,
            gated: Some((vs, model)),
            pruned,
        })
    }
}

/// `model` pruned to the units its inference gates keep, and `info` in the current format:
/// the kept units recorded, the scaler narrowed to the kept inputs.
fn narrow(info: &mut SelectorInfo, model: &GatedMlp) -> Result<PrunedMlp> {
    let pruned = model.prune(0)?;
    let inputs: Vec<usize> = pruned.kept.inputs.iter().map(|i| *i as usize).collect();
    let scaler = &info.scaler;
    if scaler.mean.len() as i64 != model.config.inputs {
        return Err(Error::shape(
            "selector",
            format!(
                "the scaler has {} columns for {} network inputs",
                scaler.mean.len(),
                model.config.inputs
            ),
        ));
    }
    info.scaler = Standardizer {
        mean: inputs.iter().map(|i| scaler.mean[*i]).collect(),
        scale: inputs.iter().map(|i| scaler.scale[*i]).collect(),
    };
    info.kept = Some(pruned.kept.clone());
    info.format_version = SELECTOR_FORMAT_VERSION;
    Ok(pruned)
}

/// Importance of each input feature: its gate's open probability, and exactly 0 when dropped.
fn importance(model: &GatedMlp) -> Result<Vec<f64>> {
    let g = &model.gates[0].gate;
    let p = g.open_probability().get(0) * g.inference_gate().get(0).ne(0.0);
    crate::train::to_f64(&p)
}

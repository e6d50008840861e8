//! Parameters of a feature selector, with chainable setters and validation.

use super::{
    Criterion, Decision, FitEvent, FittedSelector, FoldMatch, Race, Rule, Screen, Stage,
    TrainingTime, Validation, cross_validated_candidates, faithful_point, fold_stability,
    holdout_candidates, network_wins, screen,
};
use crate::data::{Split, Table, Task};
use crate::gates::{CorrelationConfig, CorrelationFactor, GateConfig, GateKind, Noise};
use crate::model::{Activation, GatedMlp, GatedMlpConfig, gated_mlp};
use crate::train::{
    Candidate, Choice, Encoder, MemberTags, PathConfig, PathPoint, Prepared, PretrainConfig,
    Schedule, Snapshot, TrainConfig, choose, evaluate, fit, lambda_path_observed, pretrain_encoder,
    refit_in_place, restore_point, ridge_alpha_for, ridge_refit,
};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor, nn};

/// How lambda is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LambdaChoice {
    /// A warm-started path, chosen by validation (1-SE rule) or by the feature budget.
    Auto,
    /// One fit at this lambda.
    Fixed(f64),
}

/// Everything that defines a selector fit (written to `config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectorParams {
    /// Gate at the input (a plain kind name in JSON reads as that kind's defaults).
    pub gate: GateConfig,
    /// Lambda, or automatic.
    pub lambda: LambdaChoice,
    /// Feature budget: the best validation point with at most this many features.
    pub max_features: Option<usize>,
    /// Hidden layer sizes.
    pub hidden: Vec<i64>,
    /// Hidden activation.
    pub activation: Activation,
    /// Batch normalisation after hidden layers.
    pub batch_norm: bool,
    /// Dropout after each hidden layer (one value for all).
    pub dropout: f64,
    /// Noise override for the gate.
    pub noise: Option<Noise>,
    /// Training loop settings.
    pub train: TrainConfig,
    /// Path settings (automatic lambda).
    pub path: PathConfig,
    /// Seed of initialisation and noise.
    pub seed: u64,
    /// SEFS self-supervised pretraining of the first layer (see [`crate::train::pretrain_encoder`]).
    #[serde(default)]
    pub pretrain: Option<PretrainConfig>,
    /// Choose the mini-batch size from the data ([`auto_batch_size`]) instead of `train.batch_size`.
    pub auto_batch: bool,
    /// Which rows score the points of the path (automatic lambda).
    #[serde(default = "default_validation")]
    pub validation: Validation,
    /// The score that chooses a point of the path.
    #[serde(default = "default_criterion")]
    pub criterion: Criterion,
    /// The rule that chooses a point of the path from the scores (without a feature budget).
    #[serde(default = "default_rule")]
    pub rule: Rule,
    /// Automatic lambda: also fit a linear model (no hidden layer) and keep whichever of it and
    /// the `hidden` network scores better on the rows that choose (see [`Criterion`]). On wide
    /// data with few rows the linear model wins; on interactions the network does.
    #[serde(default)]
    pub auto_architecture: bool,
    /// After a cross-validated choice, fit the final model on the training and validation rows
    /// together (the path rerun on them up to the chosen lambda) instead of keeping the path's
    /// point, which saw the training rows only.
    #[serde(default = "default_refit_on_all")]
    pub refit_on_all: bool,
    /// Screening of very wide data before the gates ([`screen`]).
    #[serde(default = "default_screen")]
    pub screen: Screen,
    /// The final fit of a linear regression model (no hidden layer): closed-form ridge on the
    /// kept columns, its penalty chosen on the validation rows ([`crate::train::ridge`]), instead
    /// of the early-stopped refit.
    #[serde(default = "default_ridge")]
    pub ridge: bool,
}

fn default_ridge() -> bool {
    true
}

fn default_screen() -> Screen {
    Screen::Auto
}

fn default_refit_on_all() -> bool {
    true
}

fn default_validation() -> Validation {
    Validation::Auto
}
fn default_criterion() -> Criterion {
    Criterion::Loss
}
fn default_rule() -> Rule {
    Rule::Best
}

/// The default mini-batch size for `n` training rows: `n / 16` within `[32, 1024]` (small
/// batches give small data sets enough optimiser steps per epoch; large data stays fast).
pub fn auto_batch_size(n: usize) -> usize {
    (n / 16).clamp(32, 1024)
}

/// Rows of one epoch of a selector's fits ([`TrainConfig::epoch_rows`]): data with more
/// training rows trains on this many per epoch, drawn afresh, so that the path, the warm-up and
/// early stopping cost the same from 65,536 rows up (smaller data is unchanged).
pub const DEFAULT_EPOCH_ROWS: usize = 65_536;

impl Default for SelectorParams {
    fn default() -> Self {
        SelectorParams {
            gate: GateKind::HardConcrete.into(),
            lambda: LambdaChoice::Auto,
            max_features: None,
            hidden: vec![64, 32],
            activation: Activation::Relu,
            batch_norm: true,
            dropout: 0.0,
            noise: None,
            train: TrainConfig {
                epoch_rows: Some(DEFAULT_EPOCH_ROWS),
                ..TrainConfig::default()
            },
            path: PathConfig::default(),
            seed: 0,
            pretrain: None,
            auto_batch: true,
            validation: default_validation(),
            criterion: default_criterion(),
            rule: default_rule(),
            auto_architecture: true,
            refit_on_all: default_refit_on_all(),
            screen: default_screen(),
            ridge: default_ridge(),
        }
    }
}

/// Entry point of the high-level API.
pub struct Selector;

impl Selector {
    /// Default parameters: hard-concrete gates, automatic lambda (adaptive path, cross-validated on
    /// small data, lowest loss), a `64, 32` network or a linear model, whichever scores better.
    pub fn params() -> SelectorParams {
        SelectorParams::default()
    }
}

impl SelectorParams {
    /// Sets the gate: a [`GateConfig`], or a [`GateKind`] for its defaults.
    pub fn gate(mut self, gate: impl Into<GateConfig>) -> Self {
        self.gate = gate.into();
        self
    }
    /// Sets a fixed lambda.
    pub fn lambda(mut self, lambda: f64) -> Self {
        self.lambda = LambdaChoice::Fixed(lambda);
        self
    }
    /// Chooses lambda automatically.
    pub fn auto_lambda(mut self) -> Self {
        self.lambda = LambdaChoice::Auto;
        self
    }
    /// Sets a feature budget (implies the automatic path).
    pub fn max_features(mut self, k: usize) -> Self {
        self.max_features = Some(k);
        self.lambda = LambdaChoice::Auto;
        self
    }
    /// Sets the hidden layer sizes (and fits only this network).
    pub fn hidden(mut self, hidden: Vec<i64>) -> Self {
        self.hidden = hidden;
        self.auto_architecture = false;
        self
    }
    /// Sets the number of epochs.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.train.epochs = epochs;
        self
    }
    /// Sets the mini-batch size (`None`: full batch).
    pub fn batch_size(mut self, batch_size: Option<usize>) -> Self {
        self.train.batch_size = batch_size;
        self.auto_batch = false;
        self
    }
    /// Sets the rows of one epoch (`None`: all training rows).
    pub fn epoch_rows(mut self, rows: Option<usize>) -> Self {
        self.train.epoch_rows = rows;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        self.train.validate()?;
        if let LambdaChoice::Fixed(l) = self.lambda {
            crate::train::check_lambdas(&[l])?;
            if self.max_features.is_some() {
                return Err(Error::config(
                    "max_features",
                    "needs the automatic lambda, not a fixed one",
                ));
            }
        }
        if self.screen == Screen::Keep(0) {
            return Err(Error::config("screen", "must keep at least 1 feature"));
        }
        if matches!(self.validation, Validation::Folds(k) if k < 2) {
            return Err(Error::config(
                "validation",
                "cross-validation needs at least 2 folds",
            ));
        }
        self.path.validate()?;
        if self.max_features == Some(0) {
            return Err(Error::config("max_features", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::config(
                "dropout",
                format!("must lie in [0, 1), got {}", self.dropout),
            ));
        }
        if self.pretrain.is_some() && self.hidden.is_empty() {
            return Err(Error::config(
                "pretrain",
                "needs a hidden layer to pretrain",
            ));
        }
        if self.hidden.iter().any(|h| *h < 1) {
            return Err(Error::config(
                "hidden",
                format!("sizes must be positive, got {:?}", self.hidden),
            ));
        }
        Ok(())
    }

    /// The network these parameters describe for `inputs` features and `outputs` outputs.
    pub fn network(&self, inputs: i64, outputs: i64) -> GatedMlpConfig {
        GatedMlpConfig {
            inputs,
            hidden: self.hidden.clone(),
            outputs,
            activation: self.activation,
            batch_norm: self.batch_norm,
            dropout: if self.dropout > 0.0 {
                vec![self.dropout; self.hidden.len()]
            } else {
                vec![]
            },
            input_gate: Some(self.gate),
            hidden_gates: vec![],
            noise: self.noise,
            factor: None,
            conditional: None,
        }
    }

    /// Fits on every row of `table` on `device`, with no test rows: the fit holds out its own
    /// validation rows ([`FIT_TABLE_FRACTIONS`], stratified, seeded by `seed`) or, below the
    /// small-data threshold of [`Validation::Auto`], chooses lambda by cross-validation over all
    /// rows and fits the final model on all of them. The fitted model's metrics are those of the
    /// rows it has (no test score).
    pub fn fit_table(&self, table: &Table, device: Device) -> Result<FittedSelector> {
        let split = Split::of(table, FIT_TABLE_FRACTIONS, self.seed)?;
        self.fit(table, &split, device)
    }

    /// Fits on `table` with `split` on `device` (the split's test rows may be empty; when
    /// present they are scored, never used to choose).
    pub fn fit(&self, table: &Table, split: &Split, device: Device) -> Result<FittedSelector> {
        self.fit_semi_supervised(table, split, &[], device)
    }

    /// Fits like [`SelectorParams::fit`]; with `pretrain` set, the first layer is first
    /// pretrained on the SEFS pretext task over the training rows plus `unlabeled` (row-major raw
    /// rows of the same features), which also enter the feature correlation of a correlated gate
    /// (see [`SelectorParams::initialise`]).
    pub fn fit_semi_supervised(
        &self,
        table: &Table,
        split: &Split,
        unlabeled: &[f64],
        device: Device,
    ) -> Result<FittedSelector> {
        self.fit_observed(table, split, unlabeled, device, &mut |_| {})
    }

    /// Fits like [`SelectorParams::fit_semi_supervised`], calling `on_event` as each stage
    /// starts and ends and as each point of a path is done (the command line's progress line).
    ///
    /// A fit holds the process-wide lock of [`crate::exclusive_rng`] while it runs: fits started on
    /// several threads run one after another and give exactly the results each gives alone.
    pub fn fit_observed(
        &self,
        table: &Table,
        split: &Split,
        unlabeled: &[f64],
        device: Device,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        crate::exclusive_rng(|| self.fit_inner(table, split, unlabeled, device, on_event))
    }

    fn fit_inner(
        &self,
        table: &Table,
        split: &Split,
        unlabeled: &[f64],
        device: Device,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        self.validate()?;
        let d = table.n_features();
        if let Some(keep) = self.screen.keep(d, split.train.len()) {
            if !unlabeled.len().is_multiple_of(d) {
                return Err(Error::shape(
                    "unlabeled rows",
                    format!("{} values are not rows of {d} features", unlabeled.len()),
                ));
            }
            let screened = screen(table, &split.train, keep)?;
            let columns = &screened.columns;
            let narrow = table.select_columns(columns);
            let unlabeled: Vec<f64> = unlabeled
                .chunks(d)
                .flat_map(|row| columns.iter().map(|j| row[*j]))
                .collect();
            let inner = SelectorParams {
                screen: Screen::Off,
                ..self.clone()
            };
            let fitted = inner.fit_inner(&narrow, split, &unlabeled, device, on_event)?;
            return Ok(fitted.widen(self.clone(), table, screened));
        }
        let both = self.auto_architecture
            && self.lambda == LambdaChoice::Auto
            && self.pretrain.is_none()
            && !self.hidden.is_empty();
        if !both {
            return self.fit_network(table, split, unlabeled, device, on_event);
        }
        let linear_params = SelectorParams {
            hidden: vec![],
            ..self.clone()
        };
        let race = Race::of(table, split);
        let mut kept = match race {
            Race::TooFewRows { .. } => {
                linear_params.fit_network(table, split, unlabeled, device, on_event)?
            }
            Race::Raced => {
                let network = self.fit_network(table, split, unlabeled, device, on_event)?;
                let linear =
                    linear_params.fit_network(table, split, unlabeled, device, on_event)?;
                let best = |f: &FittedSelector| {
                    f.info
                        .path
                        .iter()
                        .filter(|p| self.max_features.is_none_or(|k| p.n_selected <= k))
                        .map(|p| (p.choice_score, p.choice_se))
                        .max_by(|a, b| a.0.total_cmp(&b.0))
                };
                match network_wins(best(&network), best(&linear)) {
                    true => network,
                    false => linear,
                }
            }
        };
        if let Some(d) = kept.info.decision.as_mut() {
            d.race = Some(race.clone());
        }
        on_event(&FitEvent::Kept {
            hidden: kept.info.network.hidden.clone(),
            race,
        });
        Ok(kept)
    }

    /// The network of `hidden` (one architecture) as training starts: the data prepared, the
    /// model built and, with `pretrain` set, its first layer loaded from the encoder pretrained on
    /// the SEFS pretext task over the training rows plus `unlabeled` (row-major raw rows of the
    /// same features), which also enter the feature correlation of a correlated gate. The fit of
    /// that architecture trains from exactly this state.
    pub fn initialise(
        &self,
        table: &Table,
        split: &Split,
        unlabeled: &[f64],
        device: Device,
    ) -> Result<Initialised> {
        self.validate()?;
        let d = table.n_features();
        if !unlabeled.len().is_multiple_of(d) {
            return Err(Error::shape(
                "unlabeled rows",
                format!("{} values are not rows of {d} features", unlabeled.len()),
            ));
        }
        let mut params = self.clone();
        if params.auto_batch {
            params.train.batch_size = Some(auto_batch_size(split.train.len()));
        }
        let data = Prepared::new(table, split, device)?;
        // Rows of the pretext task and of the feature correlation: training rows, plus the
        // unlabeled ones when pretraining (standardised with the training rows).
        let pool = if self.pretrain.is_some() && !unlabeled.is_empty() {
            let rows: Vec<usize> = (0..unlabeled.len() / d).collect();
            let extra = Tensor::from_slice(&data.scaler.transform(unlabeled, &rows))
                .view([rows.len() as i64, d as i64])
                .to_device(device);
            Tensor::cat(&[&data.train.x, &extra], 0)
        } else {
            data.train.x.shallow_clone()
        };
        tch::manual_seed(self.seed as i64);
        let factor = match (self.gate.kind(), &self.pretrain) {
            (GateKind::Correlated, _) | (_, Some(_)) => Some(CorrelationFactor::from_data(
                &pool,
                CorrelationConfig::default(),
            )?),
            _ => None,
        };
        let encoder = match (&self.pretrain, &factor) {
            (Some(pc), Some(f)) => Some(pretrain_encoder(&pool, f, self.hidden[0], pc)?),
            _ => None,
        };
        let factor = if self.gate.kind() == GateKind::Correlated {
            factor
        } else {
            None
        };
        tch::manual_seed(self.seed as i64);
        let vs = nn::VarStore::new(device);
        let config = self.network(table.n_features() as i64, data.outputs);
        let model = gated_mlp(&vs.root(), &config, &[self.seed], factor)?;
        if let Some(enc) = &encoder {
            model.load_first_layer(&enc.weight, &enc.bias)?;
        }
        Ok(Initialised {
            params,
            data,
            vs,
            model,
            encoder,
        })
    }

    /// Fits the network of `hidden` (one architecture), from [`SelectorParams::initialise`].
    fn fit_network(
        &self,
        table: &Table,
        split: &Split,
        unlabeled: &[f64],
        device: Device,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<FittedSelector> {
        let Initialised {
            params,
            data,
            vs,
            mut model,
            ..
        } = self.initialise(table, split, unlabeled, device)?;
        tch::manual_seed(self.seed as i64);
        let tags = MemberTags {
            gate: self.gate.to_string(),
            seeds: vec![self.seed],
        };
        let mut training = None;
        let mut decision = None;
        let ridge_alpha;
        let (lambda, path) = match self.lambda {
            LambdaChoice::Fixed(l) => {
                let started = std::time::Instant::now();
                on_event(&FitEvent::Started {
                    hidden: self.hidden.clone(),
                    stage: Stage::Fixed,
                });
                let outcome = fit(&mut model, &vs, &data, &[l], &params.train, &tags, None)?;
                if let Some(f) = &outcome[0].failure {
                    return Err(f.clone().into());
                }
                on_event(&FitEvent::Finished {
                    hidden: self.hidden.clone(),
                    stage: Stage::Fixed,
                    points: 1,
                    n_selected: model.usage()?[0].selected_inputs.len(),
                });
                let seconds = started.elapsed().as_secs_f64();
                training = Some(TrainingTime::new(outcome[0].epochs, seconds));
                ridge_alpha = self.final_ridge(&model, &data)?;
                (l, vec![])
            }
            LambdaChoice::Auto => {
                let points = self.observed_path(Stage::Path, on_event, &mut |on_point| {
                    lambda_path_observed(
                        &mut model,
                        &vs,
                        &data,
                        &params.train,
                        &params.path,
                        &tags,
                        &Schedule::Adaptive,
                        on_point,
                    )
                })?;
                let rows = split.train.len() + split.val.len();
                let criteria = [Criterion::Loss, Criterion::Brier, Criterion::Accuracy];
                let by = match self.max_features {
                    Some(_) => FoldMatch::Count,
                    None => FoldMatch::Lambda,
                };
                let fold_paths = match self.validation.folds(rows) {
                    None => None,
                    Some(k) => {
                        let lambdas: Vec<f64> = points.iter().skip(1).map(|p| p.lambda).collect();
                        Some(params.fold_paths(table, split, k, &lambdas, device, on_event)?)
                    }
                };
                let scored: Vec<Vec<Candidate>> = match &fold_paths {
                    None => criteria
                        .iter()
                        .map(|c| holdout_candidates(&points, *c))
                        .collect(),
                    Some(folds) => criteria
                        .iter()
                        .map(|c| cross_validated_candidates(&points, folds, by, *c, table.task))
                        .collect::<Result<_>>()?,
                };
                let at = |c: Criterion| match c {
                    Criterion::Loss => 0,
                    Criterion::Brier => 1,
                    Criterion::Accuracy => 2,
                };
                let candidates = &scored[at(self.criterion)];
                let choice = match (self.max_features, self.rule) {
                    (Some(k), _) => Choice::MaxFeatures(k),
                    (None, Rule::Best) => Choice::Best,
                    (None, Rule::OneStandardError) => Choice::OneStandardError,
                };
                let i = choose(candidates, choice).ok_or_else(|| match self.max_features {
                    Some(k) => Error::fit(
                        "choosing a point of the lambda path",
                        format!("no point of the path has at most {k} features"),
                    ),
                    None => Error::fit(
                        "choosing a point of the lambda path",
                        "no point of the path has a finite validation score",
                    ),
                })?;
                // The curve as reported: every criterion, and the test score of each point
                // (reported only; the choice never sees it).
                let mut summary = Vec::with_capacity(points.len());
                for (j, p) in points.iter().enumerate() {
                    restore_point(&vs, p)?;
                    let pair = |c: Criterion| [scored[at(c)][j].score, scored[at(c)][j].score_se];
                    summary.push(PathSummary {
                        lambda: p.lambda,
                        n_selected: p.members[0].selected.len(),
                        val: p.members[0].val.score(),
                        test: match data.test.is_empty() {
                            true => None,
                            false => Some(evaluate(&model, &data, &data.test)?[0].score()),
                        },
                        choice_score: candidates[j].score,
                        choice_se: candidates[j].score_se,
                        loss: pair(Criterion::Loss),
                        brier: pair(Criterion::Brier),
                        accuracy: pair(Criterion::Accuracy),
                        epochs: p.members[0].epochs,
                    });
                }
                restore_point(&vs, &points[i])?;
                let chosen_n_selected = points[i].members[0].selected.len();
                decision = Some(Decision {
                    race: None,
                    chosen_lambda: points[i].lambda,
                    chosen_n_selected,
                    stability: fold_paths.as_ref().map(|folds| {
                        fold_stability(folds, by, i, chosen_n_selected, table.n_features())
                    }),
                    screen_saturated: None,
                });
                if fold_paths.is_some() && self.refit_on_all {
                    // The ridge penalty is chosen at the chosen point, on the validation rows
                    // (the main model's weights it rewrites are replaced by the final model's).
                    let alpha = self.final_ridge(&model, &data)?;
                    let (data, vs, model, lambda) =
                        self.observed_path(Stage::Final, on_event, &mut |on_point| {
                            params.fit_on_all_rows(
                                table, split, unlabeled, device, &points, i, on_point,
                            )
                        })?;
                    if let Some(a) = alpha {
                        ridge_refit(&model, &data, a)?;
                    }
                    let importance = importance(&model)?;
                    let mut fitted = FittedSelector::new(
                        self.clone(),
                        table,
                        data,
                        vs,
                        model,
                        lambda,
                        summary,
                        importance,
                        false,
                    )?;
                    fitted.info.ridge_alpha = alpha;
                    fitted.info.decision = decision;
                    return Ok(fitted);
                }
                ridge_alpha = self.final_ridge(&model, &data)?;
                (points[i].lambda, summary)
            }
        };
        let importance = importance(&model)?;
        let mut fitted = FittedSelector::new(
            self.clone(),
            table,
            data,
            vs,
            model,
            lambda,
            path,
            importance,
            true,
        )?;
        fitted.info.training = training;
        fitted.info.ridge_alpha = ridge_alpha;
        fitted.info.decision = decision;
        Ok(fitted)
    }

    /// The final ridge fit of a linear regression model ([`SelectorParams::ridge`]): fitted on
    /// `data`'s training rows with the penalty chosen on its validation rows, written into `model`;
    /// returns that penalty (`None`, and `model` unchanged, for a network, a classifier or with
    /// `ridge` off).
    fn final_ridge(&self, model: &GatedMlp, data: &Prepared) -> Result<Option<f64>> {
        if !(self.ridge && self.hidden.is_empty() && data.task == Task::Regression) {
            return Ok(None);
        }
        let alpha = ridge_alpha_for(model, data)?;
        ridge_refit(model, data, alpha)?;
        Ok(Some(alpha))
    }

    /// The final model of a cross-validated choice: the path rerun on the training and
    /// validation rows together, at the main path's lambdas (and past its last, in steps of
    /// `max_growth`), until it keeps at most the chosen point's count of features; the rerun's
    /// point nearest that count is kept ([`faithful_point`]; within the feature budget when there
    /// is one). Each stage runs for the epochs the main path found on its validation rows: the
    /// unpenalised start for its best epoch, every penalised point until its selection is stable,
    /// the refit of the final point for the chosen point's best refit epoch. Returns the rerun's
    /// lambda there with the model.
    #[allow(clippy::too_many_arguments)]
    fn fit_on_all_rows(
        &self,
        table: &Table,
        split: &Split,
        unlabeled: &[f64],
        device: Device,
        points: &[PathPoint],
        chosen: usize,
        on_point: &mut dyn FnMut(&PathPoint),
    ) -> Result<(Prepared, nn::VarStore, GatedMlp, f64)> {
        let mut rows: Vec<usize> = split.train.iter().chain(&split.val).copied().collect();
        rows.sort_unstable();
        // The validation rows stay as the split's `val` (Prepared needs some) but choose nothing:
        // early stopping is off.
        let all = Split {
            train: rows,
            val: split.val.clone(),
            test: split.test.clone(),
        };
        let Initialised {
            params,
            data,
            vs,
            mut model,
            ..
        } = self.initialise(table, &all, unlabeled, device)?;
        let start = &points[0].members[0];
        let train = TrainConfig {
            epochs: start.best_epoch.max(1),
            early_stopping: false,
            ..params.train.clone()
        };
        let mut lambdas: Vec<f64> = points[1..].iter().map(|p| p.lambda).collect();
        if let Some(&top) = lambdas.last() {
            // With more rows the main path's last lambda can leave more open than it did: the
            // rerun goes on in steps of `max_growth` (it ends once every gate is closed).
            let growth = params.path.max_growth;
            lambdas.extend((1..=EXTRA_STEPS).map(|k| top * growth.powi(k)));
        }
        // Every lambda of the list may be visited (the main path's cap counts its refined steps).
        let path = PathConfig {
            refit: false,
            max_points: params.path.max_points.max(lambdas.len()),
            ..params.path.clone()
        };
        let tags = MemberTags {
            gate: self.gate.to_string(),
            seeds: vec![self.seed],
        };
        let target = points[chosen].members[0].selected.len();
        tch::manual_seed(self.seed as i64);
        let rerun = lambda_path_observed(
            &mut model,
            &vs,
            &data,
            &train,
            &path,
            &tags,
            &Schedule::FixedUntil(lambdas, target as i64),
            on_point,
        )?;
        let counts: Vec<usize> = rerun.iter().map(|p| p.members[0].selected.len()).collect();
        let at = faithful_point(&counts, self.max_features, target).ok_or_else(|| {
            Error::fit(
                "the final fit on training and validation rows",
                "its path never kept at most the feature budget",
            )
        })?;
        restore_point(&vs, &rerun[at])?;
        if let Some(epochs) = points[chosen].members[0].refit_best_epoch {
            let path = PathConfig {
                refit_epochs: epochs.max(1),
                ..params.path.clone()
            };
            refit_in_place(&model, &vs, &data, &path, &train, &tags)?;
        }
        Ok((data, vs, model, rerun[at].lambda))
    }
}

impl SelectorParams {
    /// The paths of `k` cross-validation folds over the training and validation rows of `split`,
    /// at the main path's `lambdas` (no pretraining: the folds score lambda, they are not the
    /// final model).
    ///
    /// A classification's folds train together, as the members of one ensemble that each see
    /// their own fold's rows ([`Prepared::stack`]): one pass of the optimiser trains every fold,
    /// so the folds cost about one path instead of `k` (each point trains until every fold's
    /// selection is stable). The ensemble needs folds of equal size: every fold's validation
    /// part is cut to the smallest's and the rows cut train in their fold (`n mod k` rows are
    /// validated by no fold). A regression's folds, and those of a correlated gate, run one
    /// after another: each fold standardises its target, or draws its correlation factor, from
    /// its own rows, which one ensemble does not hold.
    fn fold_paths(
        &self,
        table: &Table,
        split: &Split,
        k: usize,
        lambdas: &[f64],
        device: Device,
        on_event: &mut dyn FnMut(&FitEvent),
    ) -> Result<Vec<Vec<PathPoint>>> {
        let folds = split.folds(table.labels().as_deref(), k, self.seed)?;
        if table.task == Task::Classification && self.gate.kind() != GateKind::Correlated {
            let shortest = folds.iter().map(|f| f.val.len()).min().unwrap_or(0);
            let equal: Vec<Split> = folds
                .into_iter()
                .map(|mut f| {
                    let cut = f.val.split_off(shortest);
                    f.train.extend(cut);
                    f.train.sort_unstable();
                    f
                })
                .collect();
            return self.observed_path(Stage::Folds { folds: k }, on_event, &mut |on_point| {
                self.batched_fold_paths(table, &equal, lambdas, device, on_point)
            });
        }
        folds
            .iter()
            .enumerate()
            .map(|(f, fold)| {
                let stage = Stage::Fold {
                    fold: f + 1,
                    folds: k,
                };
                self.observed_path(stage, on_event, &mut |on_point| {
                    self.fold_path(table, fold, lambdas, device, on_point)
                })
            })
            .collect()
    }

    /// The paths of the equal-sized `folds` as one ensemble of a member per fold, initialised
    /// as each fold's network alone would be (the same seed), split back into one path per fold.
    fn batched_fold_paths(
        &self,
        table: &Table,
        folds: &[Split],
        lambdas: &[f64],
        device: Device,
        on_point: &mut dyn FnMut(&PathPoint),
    ) -> Result<Vec<Vec<PathPoint>>> {
        let mut train = self.train.clone();
        if self.auto_batch {
            train.batch_size = Some(auto_batch_size(folds[0].train.len()));
        }
        let sets = folds
            .iter()
            .map(|fold| Prepared::new(table, fold, device))
            .collect::<Result<Vec<_>>>()?;
        let data = Prepared::stack(&sets, 1).ok_or_else(|| {
            Error::config(
                "folds",
                "the folds' parts differ in size and cannot train together",
            )
        })?;
        let seeds = vec![self.seed; folds.len()];
        tch::manual_seed(self.seed as i64);
        let vs = nn::VarStore::new(device);
        let config = self.network(table.n_features() as i64, data.outputs);
        let mut model = gated_mlp(&vs.root(), &config, &seeds, None)?;
        let tags = MemberTags {
            gate: self.gate.to_string(),
            seeds,
        };
        tch::manual_seed(self.seed as i64);
        let points = lambda_path_observed(
            &mut model,
            &vs,
            &data,
            &train,
            &self.path,
            &tags,
            &Schedule::Fixed(lambdas.to_vec()),
            on_point,
        )?;
        Ok((0..folds.len())
            .map(|f| {
                points
                    .iter()
                    .map(|p| PathPoint {
                        lambda: p.lambda,
                        members: vec![p.members[f].clone()],
                        state: Snapshot::default(),
                    })
                    .collect()
            })
            .collect())
    }

    /// The path of one cross-validation fold at the main path's `lambdas`, alone.
    fn fold_path(
        &self,
        table: &Table,
        split: &Split,
        lambdas: &[f64],
        device: Device,
        on_point: &mut dyn FnMut(&PathPoint),
    ) -> Result<Vec<PathPoint>> {
        let plain = SelectorParams {
            pretrain: None,
            ..self.clone()
        };
        let Initialised {
            params,
            data,
            vs,
            mut model,
            ..
        } = plain.initialise(table, split, &[], device)?;
        let tags = MemberTags {
            gate: self.gate.to_string(),
            seeds: vec![self.seed],
        };
        lambda_path_observed(
            &mut model,
            &vs,
            &data,
            &params.train,
            &params.path,
            &tags,
            &Schedule::Fixed(lambdas.to_vec()),
            on_point,
        )
    }

    /// Runs one stage whose `run` takes a per-point callback, telling `on_event` that it starts,
    /// each point, and how it ended (the features kept at its last point).
    fn observed_path<T>(
        &self,
        stage: Stage,
        on_event: &mut dyn FnMut(&FitEvent),
        run: &mut dyn FnMut(OnPoint) -> Result<T>,
    ) -> Result<T> {
        on_event(&FitEvent::Started {
            hidden: self.hidden.clone(),
            stage: stage.clone(),
        });
        let (mut points, mut n_selected) = (0, 0);
        let out = run(&mut |p: &PathPoint| {
            points += 1;
            n_selected = p.members[0].selected.len();
            on_event(&FitEvent::Point {
                lambda: p.lambda,
                n_selected,
            });
        })?;
        on_event(&FitEvent::Finished {
            hidden: self.hidden.clone(),
            stage,
            points,
            n_selected,
        });
        Ok(out)
    }
}

/// The per-point callback a stage's path runs with.
type OnPoint<'a> = &'a mut dyn FnMut(&PathPoint);

/// Train, validation and test fractions of [`SelectorParams::fit_table`]: a stratified fifth
/// holds out as validation rows (when cross-validation chooses, they rejoin the folds).
pub const FIT_TABLE_FRACTIONS: [f64; 3] = [0.8, 0.2, 0.0];

/// Lambdas past the main path's last that the final rerun of a cross-validated choice may visit
/// to come down to the chosen point's count (each `max_growth` times the one before: 2^30 by
/// default).
const EXTRA_STEPS: i32 = 30;

/// A selector network before training (see [`SelectorParams::initialise`]).
#[derive(Debug)]
pub struct Initialised {
    /// The parameters, with the mini-batch size resolved.
    pub params: SelectorParams,
    /// The data on the device.
    pub data: Prepared,
    /// The network's variables.
    pub vs: nn::VarStore,
    /// The network (one member).
    pub model: GatedMlp,
    /// The pretrained encoder whose weights the first layer holds, when pretraining is on.
    pub encoder: Option<Encoder>,
}

/// One point of the path as reported: lambda, number selected, validation score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathSummary {
    /// The lambda.
    pub lambda: f64,
    /// Features selected there.
    pub n_selected: usize,
    /// Validation accuracy (classification) or R2 (regression) on the split's validation rows.
    pub val: f64,
    /// The score the point was chosen by (see [`Criterion`]; cross-validated when folds are used).
    #[serde(default)]
    pub choice_score: f64,
    /// The standard error of `choice_score`.
    #[serde(default)]
    pub choice_se: f64,
    /// Score and standard error by [`Criterion::Loss`] (on the rows that choose).
    #[serde(default)]
    pub loss: [f64; 2],
    /// Score and standard error by [`Criterion::Brier`].
    #[serde(default)]
    pub brier: [f64; 2],
    /// Score and standard error by [`Criterion::Accuracy`].
    #[serde(default)]
    pub accuracy: [f64; 2],
    /// Test accuracy or R2 of the point (reported, never used to choose); `None` without test
    /// rows.
    #[serde(default)]
    pub test: Option<f64>,
    /// Epochs trained at the point.
    pub epochs: usize,
}

/// Importance of each input feature: its gate's open probability, and exactly 0 when dropped.
fn importance(model: &GatedMlp) -> Result<Vec<f64>> {
    let g = &model.gates[0].gate;
    let p = g.open_probability().get(0) * g.inference_gate().get(0).ne(0.0);
    crate::train::to_f64(&p)
}

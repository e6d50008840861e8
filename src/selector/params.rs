//! Parameters of a feature selector, with chainable setters and validation.

use super::{Criterion, Rule, Screen, Validation};
use crate::gates::{GateConfig, GateKind, Noise};
use crate::model::{Activation, GatedMlpConfig};
use crate::train::{PathConfig, PretrainConfig, TrainConfig};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

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
    /// Screening of very wide data before the gates ([`screen`](super::screen)).
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
}

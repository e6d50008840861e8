//! Settings of the training loop.

use crate::gates::{GateKind, Reduction};
use crate::model::PenaltySpec;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// How a model is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Epochs without improvement of the validation objective before a member stops.
    pub patience: usize,
    /// Stop on the validation objective and keep each member's best state; `false` trains every
    /// epoch and keeps the last state (a refit whose validation rows are among its training rows
    /// runs for an epoch count found before).
    #[serde(default = "default_early_stopping")]
    pub early_stopping: bool,
    /// What counts as an improvement: the objective must fall below the best so far by more than
    /// this (0: any fall). A margin stops runs whose validation loss only creeps down.
    #[serde(default = "default_min_delta")]
    pub min_delta: f64,
    /// Mini-batch size; `None` trains on the full batch.
    pub batch_size: Option<usize>,
    /// Rows of one epoch: each epoch trains on this many training rows drawn afresh without
    /// replacement (all rows when `None` or fewer). On tall data an epoch of all rows is far
    /// more optimiser steps than early stopping, the warm-up and the path need between two
    /// validation checks; a fixed epoch keeps their cost from growing with the rows.
    #[serde(default)]
    pub epoch_rows: Option<usize>,
    /// Adam learning rate of the network.
    pub lr: f64,
    /// Adam learning rate of the gate parameters (their own group, no weight decay); `None`
    /// uses [`default_gate_lr`] for the kind, divided by the mini-batches per epoch.
    pub gate_lr: Option<f64>,
    /// Weight decay of the network parameters.
    pub weight_decay: f64,
    /// Epochs over which lambda ramps linearly from 0 to its value; no member stops before.
    pub warmup_epochs: usize,
    /// Penalty reduction over units.
    pub reduction: Reduction,
    /// Weight each unit's penalty by the multiply-adds it saves.
    pub cost_aware: bool,
    /// Train each gate layer towards this fraction of open units (target-rate loss) instead of
    /// penalising the expected count.
    #[serde(default)]
    pub target_rate: Option<f64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 300,
            patience: 50,
            early_stopping: true,
            min_delta: default_min_delta(),
            batch_size: None,
            epoch_rows: None,
            lr: 1e-3,
            gate_lr: None,
            weight_decay: 0.0,
            warmup_epochs: 30,
            reduction: Reduction::Sum,
            cost_aware: false,
            target_rate: None,
        }
    }
}

/// Adam learning rate of conditional gate networks (their own group): ten times the network's,
/// so that logits started at +3 can close within a few hundred epochs.
pub const DEFAULT_CONDITIONAL_LR: f64 = 0.01;

fn default_early_stopping() -> bool {
    true
}

/// The default improvement margin of early stopping (see [`TrainConfig::min_delta`]): none. A
/// margin of 1e-3 saved about 3 % of the epochs of the Fig. 2 sweep.
pub fn default_min_delta() -> f64 {
    0.0
}

/// The gate learning rate that works for a kind with Adam: logits started at +3 need about 0.1
/// to move in a few hundred epochs; STG's `mu` lives on a scale of 1.
pub fn default_gate_lr(kind: GateKind) -> f64 {
    match kind {
        GateKind::Stg => 0.05,
        GateKind::L1 => 0.02,
        GateKind::Ste | GateKind::Gumbel | GateKind::Correlated | GateKind::HardConcrete => 0.1,
    }
}

impl TrainConfig {
    /// The penalty these settings describe.
    pub fn penalty_spec(&self) -> PenaltySpec {
        PenaltySpec {
            reduction: self.reduction,
            cost_aware: self.cost_aware,
            target_rate: self.target_rate,
        }
    }

    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        if self.target_rate.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
            return Err(Error::config("target_rate", "must lie in [0, 1]"));
        }
        if self.epochs == 0 {
            return Err(Error::config("epochs", "must be at least 1"));
        }
        if self.batch_size == Some(0) {
            return Err(Error::config("batch_size", "must be at least 1"));
        }
        if self.epoch_rows == Some(0) {
            return Err(Error::config("epoch_rows", "must be at least 1"));
        }
        for (name, v) in [("lr", self.lr), ("gate_lr", self.gate_lr.unwrap_or(1.0))] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::config(
                    name,
                    format!("must be a positive number, got {v}"),
                ));
            }
        }
        if !(self.min_delta.is_finite() && self.min_delta >= 0.0) {
            return Err(Error::config("min_delta", "must be a finite number >= 0"));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::config("weight_decay", "must be >= 0"));
        }
        Ok(())
    }
}

/// Checks that every lambda is a finite number >= 0.
pub fn check_lambdas(lambdas: &[f64]) -> Result<()> {
    match lambdas.iter().find(|l| !(l.is_finite() && **l >= 0.0)) {
        Some(l) => Err(Error::config(
            "lambda",
            format!("must be a finite number >= 0, got {l}"),
        )),
        None => Ok(()),
    }
}

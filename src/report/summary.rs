//! `summary.json` of a sweep: mean and spread per gate and lambda, and the accuracy at each
//! feature budget (computed by `stog::sweep::summarize`), with the sweep's wall time and device.

use serde::{Deserialize, Serialize};

/// Everything `summary.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// Wall time of the sweep (for merged shards, first start to last end); `None` when unknown.
    pub wall_seconds: Option<f64>,
    /// Where it ran: a device, worker processes, or merged shards.
    pub device: String,
    /// The summary of its runs.
    pub summary: Summary,
}

/// Mean and standard deviation (population) of some values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Mean.
    #[serde(deserialize_with = "super::nan_as_null")]
    pub mean: f64,
    /// Standard deviation.
    #[serde(deserialize_with = "super::nan_as_null")]
    pub std: f64,
}

/// The runs of one gate kind at one lambda, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Gate kind.
    pub gate: String,
    /// Lambda.
    pub lambda: f64,
    /// Number of runs (seeds).
    pub runs: usize,
    /// Validation score (accuracy or R2).
    pub val_score: Stat,
    /// Test score.
    pub test_score: Stat,
    /// Test loss.
    pub test_loss: Stat,
    /// Selected input features.
    pub n_selected: Stat,
    /// Mean kept units per gate layer.
    pub units_kept: Vec<f64>,
    /// Mean multiply-adds of the pruned network.
    pub macs: f64,
    /// Mean epochs trained.
    pub epochs: f64,
    /// Runs that failed (non-finite loss).
    pub failures: usize,
}

/// Accuracy at one feature budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrontierPoint {
    /// Gate kind, or `any` for the best run of any kind per seed.
    pub gate: String,
    /// The budget (`None`: no budget).
    pub budget: Option<usize>,
    /// Test score of the chosen runs over seeds.
    pub test_score: Stat,
    /// Mean number of features of the chosen runs.
    pub features: f64,
    /// Seeds that had a run within the budget.
    pub seeds: usize,
}

/// The summary of a sweep's runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// One cell per gate and lambda.
    pub cells: Vec<Cell>,
    /// Accuracy at each budget, per gate and for `any`.
    pub frontier: Vec<FrontierPoint>,
    /// Total of the runs' fit seconds.
    pub fit_seconds: f64,
}

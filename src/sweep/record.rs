//! One row of `runs.csv`: what one fit (gate, lambda, seed) reached.

use serde::{Deserialize, Serialize};

/// The result of one run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Gate kind.
    pub gate: String,
    /// Lambda.
    pub lambda: f64,
    /// Seed (of the split and of the initialisation).
    pub seed: u64,
    /// `input`, `hidden` or `all`.
    pub placement: String,
    /// Input features used by the inference network.
    pub n_selected: usize,
    /// Kept units per gate layer, input first, `;`-separated.
    pub units_kept: String,
    /// Units per gate layer, `;`-separated.
    pub units_total: String,
    /// Multiply-adds per example of the pruned network.
    pub macs: i64,
    /// Multiply-adds per example of the unpruned network.
    pub macs_full: i64,
    /// Validation score: accuracy, or R2 for regression.
    pub val_score: f64,
    /// Test score: accuracy, or R2.
    pub test_score: f64,
    /// Validation loss: cross-entropy, or MSE.
    pub val_loss: f64,
    /// Test loss: cross-entropy, or MSE.
    pub test_loss: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Epoch of the restored best state.
    pub best_epoch: usize,
    /// Wall time of the run's chunk divided by its members.
    pub fit_seconds: f64,
    /// Selected input indices, `;`-separated.
    pub selected: String,
    /// Why the run failed, empty when it did not.
    pub failure: String,
}

/// Column names of `runs.csv`; score columns are named for the task.
pub fn csv_header(classification: bool) -> Vec<&'static str> {
    let (score, loss) = if classification {
        ("accuracy", "loss")
    } else {
        ("r2", "mse")
    };
    let mut h = vec![
        "gate",
        "lambda",
        "seed",
        "placement",
        "n_selected",
        "units_kept",
        "units_total",
        "macs",
        "macs_full",
    ];
    h.extend(match (score, loss) {
        ("accuracy", _) => ["val_accuracy", "test_accuracy", "val_loss", "test_loss"],
        _ => ["val_r2", "test_r2", "val_mse", "test_mse"],
    });
    h.extend(["epochs", "best_epoch", "fit_seconds", "selected", "failure"]);
    h
}

impl RunRecord {
    /// The fields in the order of [`csv_header`].
    pub fn csv_fields(&self) -> Vec<String> {
        vec![
            self.gate.clone(),
            self.lambda.to_string(),
            self.seed.to_string(),
            self.placement.clone(),
            self.n_selected.to_string(),
            self.units_kept.clone(),
            self.units_total.clone(),
            self.macs.to_string(),
            self.macs_full.to_string(),
            self.val_score.to_string(),
            self.test_score.to_string(),
            self.val_loss.to_string(),
            self.test_loss.to_string(),
            self.epochs.to_string(),
            self.best_epoch.to_string(),
            format!("{:.4}", self.fit_seconds),
            self.selected.clone(),
            self.failure.clone(),
        ]
    }

    /// Kept units per gate layer as numbers.
    pub fn units_kept_list(&self) -> Vec<i64> {
        self.units_kept
            .split(';')
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

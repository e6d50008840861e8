//! `config.json` of `stog select` and `stog script`: the settings of a run as given (data, split,
//! model, training), written before training so that a folder says how it was made. The command
//! line fills the records in; the selector's parameters come in as they are (`P`).

use crate::data::Task;
use crate::gates::GateConfig;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The data and split arguments of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// Data file (.csv, .parquet, .npy or .npz).
    pub data: PathBuf,
    /// The target column (or .npz array) read, written even when it was the format's default.
    pub target: String,
    /// Column names of .npy / .npz data, one per line, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_names: Option<PathBuf>,
    /// Classification or regression.
    pub task: Task,
    /// Train, validation and test fractions as given (`0.6,0.2,0.2`); unused with `splits`.
    pub split: String,
    /// A split file `seed,row,split`, when given.
    pub splits: Option<PathBuf>,
    /// The seed of the split file (or of the fraction split).
    pub split_seed: u64,
    /// The device asked for (`auto`, `cpu` or `cuda`).
    pub device: String,
}

/// `config.json` of `stog select`, with the parameters `P` of the fit (the selector's
/// `SelectorParams`, written and read back whole).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectConfigRecord<P> {
    /// `select`.
    pub command: String,
    /// The data and its split.
    pub data: DataRecord,
    /// Everything that defines the selector fit.
    pub params: P,
}

impl<P> SelectConfigRecord<P> {
    /// The record of `stog select` on `data` with `params`.
    pub fn new(data: DataRecord, params: P) -> SelectConfigRecord<P> {
        SelectConfigRecord {
            command: "select".into(),
            data,
            params,
        }
    }
}

/// `config.json` of `stog script`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptConfigRecord {
    /// `script`.
    pub command: String,
    /// The TorchScript model, or its stage files in order.
    pub model: Vec<PathBuf>,
    /// The data and its split.
    pub data: DataRecord,
    /// Gate of every gate layer.
    pub gate: GateConfig,
    /// Where the gates go: `input` or `inside` (the name of the script layer's placement).
    pub placement: String,
    /// `auto` or a penalty weight, as given.
    pub lambda: String,
    /// The lambdas fitted, in order (one for a single fit).
    pub lambdas: Vec<f64>,
    /// Epochs over which lambda ramps up from 0.
    pub warmup_epochs: usize,
    /// Epochs of gate training.
    pub epochs: usize,
    /// Gate learning rate.
    pub gate_lr: f64,
    /// Whether the backbone was fine-tuned with the gates.
    pub train_backbone: bool,
    /// Learning rate of the backbone.
    pub backbone_lr: f64,
    /// Epochs of backbone training under fixed gates after each lambda.
    pub refit_epochs: usize,
    /// Mini-batch size (0: full batch).
    pub batch_size: usize,
    /// Seed of the gate noise.
    pub seed: u64,
    /// Each row reshaped to C, H, W, when given.
    pub input_shape: Option<Vec<i64>>,
}

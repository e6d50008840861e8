//! Networks with gate layers, built as ensembles: `E` independent members stored as one set of
//! tensors with a leading member axis, trained together by batched matmuls. `E = 1` is a single fit.

mod conditional_gate;
mod config;
mod dropout;
mod ensemble_batch_norm;
mod ensemble_linear;
mod forward;
mod gated_mlp;
mod penalty;
mod prune;
mod usage;

pub use conditional_gate::{ConditionalConfig, ConditionalGate, conditional_gate};
pub use config::GatedMlpConfig;
pub(crate) use config::*;
pub(crate) use dropout::*;
pub(crate) use ensemble_batch_norm::*;
pub(crate) use ensemble_linear::*;
pub use forward::{INFER_BLOCK_ROWS, Pass};
pub(crate) use gated_mlp::*;
pub use gated_mlp::{GatedMlp, gated_mlp};
pub use penalty::PenaltySpec;
pub(crate) use penalty::*;
pub use prune::{KeptUnits, PrunedMlp, fold, keep, kept_units};
pub(crate) use usage::*;

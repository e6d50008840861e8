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

pub use conditional_gate::*;
pub use config::*;
pub use dropout::*;
pub use ensemble_batch_norm::*;
pub use ensemble_linear::*;
pub use forward::*;
pub use gated_mlp::*;
pub use penalty::*;
pub use prune::*;
pub use usage::*;

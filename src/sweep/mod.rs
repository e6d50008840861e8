//! Lambda sweeps: a grid of gate kinds x lambdas x seeds trained as batched ensembles (one chunk
//! per gate kind and seed, its lambdas as members), one record per run, and the summaries of the
//! SToG report (mean and spread per gate and lambda, accuracy at a feature budget).

mod grid;
mod record;
mod summary;

pub use grid::*;
pub use record::*;
pub use summary::*;

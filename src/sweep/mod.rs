//! Lambda sweeps: a grid of gate kinds x lambdas x seeds trained as batched ensembles (one chunk
//! per gate kind and seed, its lambdas as members), one record per run, and the summaries of the
//! SToG report (mean and spread per gate and lambda, accuracy at a feature budget).
//!
//! [`Sweep`] runs one into a folder (`config.json` = [`SweepManifest`], `runs.csv`,
//! `summary.json`, figures) with resume and shards; [`Merged`] puts shards back together.

mod finished;
mod grid;
mod manifest;
mod merge;
mod outputs;
mod plan;
mod progress;
mod run;
mod shard;
mod summary;
mod workers;

pub use finished::*;
pub use grid::*;
pub use manifest::*;
pub use merge::*;
pub use outputs::*;
pub use plan::*;
pub use progress::*;
pub use shard::*;
pub use summary::*;
pub use workers::*;

pub use crate::report::{Cell, FrontierPoint, RunRecord, Stat, Summary};

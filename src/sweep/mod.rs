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

pub use finished::{finished_chunk, finished_group};
pub(crate) use grid::*;
pub use grid::{Chunk, Placement, SweepConfig, default_bottleneck};
pub use manifest::{MANIFEST, SplitSource, SweepData, SweepManifest};
pub use merge::{Merged, ShardsWallTime};
pub use plan::Sweep;
pub use progress::{Progress, Resumed};
pub(crate) use shard::*;
pub use shard::{AutoShard, SCHEDULER_INDEX_VARS, SHARDS_VAR, Shard};
pub use summary::{frontier_table, summarize};
pub use workers::{FolderLayout, worker_dir};

pub use crate::report::{Cell, FrontierPoint, RunRecord, Stat, Summary};

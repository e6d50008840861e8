//! `timing.json` of a shard: when it ran, so that merging shards can report the sweep's wall time.

use serde::{Deserialize, Serialize};

/// The file in which a shard records when it ran.
pub const SHARD_TIMING: &str = "timing.json";

/// When a shard ran (seconds since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShardTiming {
    /// When the shard started.
    pub started_unix: f64,
    /// When it finished.
    pub finished_unix: f64,
}

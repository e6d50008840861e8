//! What a running sweep reports to its caller (a progress bar, a log), through a callback.

use crate::gates::GateKind;
use crate::report::RunRecord;

/// One step of a running sweep.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// The work is known: `runs` runs in `groups` groups are left to train.
    Planned {
        /// Runs to train.
        runs: usize,
        /// Groups (batched ensembles) to train.
        groups: usize,
        /// Members of the largest ensemble.
        members: usize,
        /// On a resume: what the folder already held.
        resumed: Option<Resumed>,
    },
    /// A group starts training: one gate kind, these seeds.
    Training {
        /// The gate kind.
        gate: GateKind,
        /// Its seeds.
        seeds: &'a [u64],
    },
    /// A group's runs are on disk.
    Finished {
        /// Its runs.
        records: &'a [RunRecord],
    },
}

/// What a resume found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resumed {
    /// Finished runs kept.
    pub kept: usize,
    /// Whether a torn last line (a write cut by a crash) was dropped.
    pub torn: bool,
}

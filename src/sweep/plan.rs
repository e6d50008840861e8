//! A sweep ready to run: its manifest, its table and each seed's split.

use super::{Chunk, SweepManifest};
use crate::data::{Split, Table, Task};
use crate::{Error, Result};

/// A planned sweep. [`Sweep::run`] trains it (or its shard) into a folder, resuming when asked;
/// [`super::Merged`] puts shard folders back together.
pub struct Sweep {
    manifest: SweepManifest,
    table: Table,
    splits: Vec<Split>,
}

impl Sweep {
    /// Checks the manifest's grid, reads its table and makes each seed's split.
    pub fn plan(manifest: SweepManifest) -> Result<Sweep> {
        manifest.sweep.validate()?;
        let table = manifest.data.load()?;
        let splits = manifest
            .sweep
            .seeds
            .iter()
            .map(|s| manifest.data.split(&table, *s))
            .collect::<Result<_>>()?;
        Ok(Sweep {
            manifest,
            table,
            splits,
        })
    }

    /// What the sweep is (written to its folder's `config.json`).
    pub fn manifest(&self) -> &SweepManifest {
        &self.manifest
    }

    /// Its data.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Whether scores are accuracies (else R2).
    pub fn classification(&self) -> bool {
        self.table.task == Task::Classification
    }

    /// The groups of chunks this sweep (or its shard) trains, in grid order.
    pub fn groups(&self) -> Vec<Vec<Chunk>> {
        self.manifest
            .sweep
            .groups()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.manifest.shard.is_none_or(|s| s.holds(*i)))
            .map(|(_, g)| g)
            .collect()
    }

    /// The split of `seed`.
    pub(super) fn split_of(&self, seed: u64) -> Result<&Split> {
        self.manifest
            .sweep
            .seeds
            .iter()
            .position(|s| *s == seed)
            .map(|i| &self.splits[i])
            .ok_or_else(|| Error::config("seeds", format!("seed {seed} is not in the sweep")))
    }
}

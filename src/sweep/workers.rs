//! A sweep run by worker processes in one folder: worker `i` runs shard `i/N` in
//! `DIR/shards/i`, then the shards are merged into `DIR`.

use crate::report::RUNS;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The shard folder of worker `i` in the sweep folder `dir`.
pub fn worker_dir(dir: &Path, i: usize) -> PathBuf {
    dir.join("shards").join(i.to_string())
}

/// How a sweep folder was run, so that a resume keeps its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderLayout {
    /// Nothing has run there.
    Empty,
    /// One process wrote `runs.csv` itself.
    OneProcess,
    /// This many worker processes, each in its shard folder.
    Workers(usize),
}

impl FolderLayout {
    /// The layout of the sweep folder `dir`.
    pub fn of(dir: &Path) -> Result<FolderLayout> {
        let shards = dir.join("shards");
        match std::fs::read_dir(&shards) {
            Ok(entries) => Ok(FolderLayout::Workers(entries.count().max(1))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(if dir.join(RUNS).exists() {
                FolderLayout::OneProcess
            } else {
                FolderLayout::Empty
            }),
            Err(e) => Err(Error::io(shards, e)),
        }
    }
}

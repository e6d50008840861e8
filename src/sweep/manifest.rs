//! `config.json` of a sweep folder: everything that decides a sweep's runs (data, split, grid,
//! training), written before training. A resume or a merge compares manifests and names the
//! fields that differ rather than mixing two sweeps.

use super::{Shard, SweepConfig};
use crate::data::{Source, Split, Table, Task};
use crate::report::{read_json, write_json};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The file of a sweep folder's manifest.
pub const MANIFEST: &str = "config.json";

/// How each seed splits the rows into train, validation and test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitSource {
    /// Train, validation and test fractions (stratified for classification), drawn per seed.
    Fractions([f64; 3]),
    /// A split file `seed,row,split`; a sweep's seeds are the file's.
    File(PathBuf),
}

/// Where a sweep's rows come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepData {
    /// Data file (.csv, .parquet, .npy or .npz; see [`crate::data::Format`]).
    pub data: PathBuf,
    /// The target column (or .npz array) read.
    pub target: String,
    /// Column names of .npy / .npz data, one per line, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_names: Option<PathBuf>,
    /// Classification or regression.
    pub task: Task,
    /// The split of each seed.
    pub split: SplitSource,
}

impl SweepData {
    /// Reads the table (its format by extension).
    pub fn load(&self) -> Result<Table> {
        Source {
            path: self.data.clone(),
            target: Some(self.target.clone()),
            task: self.task,
            feature_names: self.feature_names.clone(),
        }
        .read()
    }

    /// The first `n` seeds: `0..n`, or the split file's first `n` (an error when it has fewer).
    pub fn seeds(&self, n: usize) -> Result<Vec<u64>> {
        match &self.split {
            SplitSource::Fractions(_) => Ok((0..n as u64).collect()),
            SplitSource::File(path) => {
                let seeds: Vec<u64> = Split::seeds_in_file(path)?.into_iter().take(n).collect();
                if seeds.len() < n {
                    return Err(Error::config(
                        "seeds",
                        format!("{n}: the split file has only {} seeds", seeds.len()),
                    ));
                }
                Ok(seeds)
            }
        }
    }

    /// The split of `seed` for `table`.
    pub fn split(&self, table: &Table, seed: u64) -> Result<Split> {
        match &self.split {
            SplitSource::Fractions(f) if f[2] <= 0.0 => Err(Error::config(
                "split",
                format!("{f:?}: a sweep scores every run on test rows; give them a fraction > 0"),
            )),
            SplitSource::Fractions(f) => Split::of(table, *f, seed),
            SplitSource::File(path) => Split::from_file(path, seed, table.n_rows()),
        }
    }
}

/// What `config.json` of a sweep folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepManifest {
    /// The data and its splits.
    pub data: SweepData,
    /// The grid and the training settings.
    pub sweep: SweepConfig,
    /// The share of the grid this folder runs (`None`: all of it).
    pub shard: Option<Shard>,
}

impl SweepManifest {
    /// Reads `dir/config.json`.
    pub fn read(dir: &Path) -> Result<SweepManifest> {
        read_json(&dir.join(MANIFEST))
    }

    /// Writes `dir/config.json`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_json(&dir.join(MANIFEST), self)
    }

    /// The fields in which `other` describes another sweep than `self`, as `path: self ->
    /// other` lines (the shard is not compared: shards of one sweep are one sweep).
    pub fn differences(&self, other: &SweepManifest) -> Vec<String> {
        let value = |m: &SweepManifest| {
            let m = SweepManifest {
                shard: None,
                ..m.clone()
            };
            serde_json::to_value(m)
        };
        let mut out = Vec::new();
        match (value(self), value(other)) {
            (Ok(a), Ok(b)) => differences(&a, &b, "", &mut out),
            (Err(e), _) | (_, Err(e)) => out.push(format!("not comparable: {e}")),
        }
        out
    }

    /// Refuses when the manifest stored in `dir` describes another sweep than `self`.
    pub fn check_same_as_in(&self, dir: &Path) -> Result<()> {
        let stored = SweepManifest::read(dir)?;
        let differences = stored.differences(self);
        if differences.is_empty() {
            Ok(())
        } else {
            Err(Error::OtherSweep {
                manifest: dir.join(MANIFEST),
                differences,
            })
        }
    }

    /// Refuses when the manifest stored in `dir` was made for another share of the grid than
    /// `self` (another shard count or index, or the whole grid): a resume would drop the runs
    /// that are not in this share and run again those that another folder holds.
    pub fn check_same_shard_as_in(&self, dir: &Path) -> Result<()> {
        let stored = SweepManifest::read(dir)?;
        if stored.shard == self.shard {
            Ok(())
        } else {
            Err(Error::OtherShard {
                manifest: dir.join(MANIFEST),
                stored: super::shard_name(stored.shard),
                given: super::shard_name(self.shard),
            })
        }
    }
}

/// Paths where two JSON values differ, as `path: stored -> new` lines.
fn differences(stored: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    match (stored, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                differences(
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                    out,
                );
            }
        }
        _ if stored != new => out.push(format!(
            "{}: {stored} -> {new}",
            path.trim_start_matches('.')
        )),
        _ => {}
    }
}

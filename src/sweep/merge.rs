//! Shard folders of one sweep read back as the whole sweep: refusing other sweeps, unfinished
//! shards, and runs that are repeated, missing or outside the grid.

use super::{Shard, SweepManifest, finished_chunk, shard_name};
use crate::report::read_runs;
use crate::report::{RUNS, RunRecord, RunsWriter, SHARD_TIMING, ShardTiming, Summary, read_json};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The runs of a sweep gathered from its shard folders.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The sweep (without a shard).
    pub manifest: SweepManifest,
    /// Every run of its grid, in grid order.
    pub records: Vec<RunRecord>,
    /// What each folder held, in the order given.
    pub shards: Vec<MergedShard>,
}

/// One folder read by [`Merged::read`].
#[derive(Debug, Clone, PartialEq)]
pub struct MergedShard {
    /// The folder.
    pub dir: PathBuf,
    /// The share of the grid it was made for (`None`: the whole grid).
    pub shard: Option<Shard>,
    /// The runs it held.
    pub runs: usize,
}

impl std::fmt::Display for MergedShard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {} runs",
            shard_name(self.shard),
            self.dir.display(),
            self.runs
        )
    }
}

impl Merged {
    /// Reads the shard folders `dirs` of one sweep.
    pub fn read(dirs: &[PathBuf]) -> Result<Merged> {
        let first = dirs
            .first()
            .ok_or_else(|| Error::Merge("no shard folders given".into()))?;
        let manifest = SweepManifest {
            shard: None,
            ..SweepManifest::read(first)?
        };
        let config = &manifest.sweep;
        let mut all: Vec<RunRecord> = Vec::new();
        let mut shards = Vec::new();
        for dir in dirs {
            manifest.check_same_as_in(dir)?;
            shards.push(MergedShard {
                dir: dir.clone(),
                shard: SweepManifest::read(dir)?.shard,
                runs: 0,
            });
            let path = dir.join(RUNS);
            let (records, torn) = read_runs(&path)?;
            if torn {
                return Err(Error::Merge(format!(
                    "{}: the last line is torn; finish that shard with --resume",
                    path.display()
                )));
            }
            if let Some(last) = shards.last_mut() {
                last.runs = records.len();
            }
            for r in records {
                if all
                    .iter()
                    .any(|o| o.gate == r.gate && o.seed == r.seed && o.lambda == r.lambda)
                {
                    return Err(Error::Merge(format!(
                        "{}: run gate {} lambda {} seed {} appears twice",
                        dir.display(),
                        r.gate,
                        r.lambda,
                        r.seed
                    )));
                }
                all.push(r);
            }
        }
        missing_shards(&shards)?;
        let mut records = Vec::new();
        for chunk in config.chunks() {
            match finished_chunk(config, &chunk, &all) {
                Some(rows) => records.extend(rows),
                None => {
                    return Err(Error::Merge(format!(
                        "runs of gate {} seed {} are missing",
                        chunk.gate, chunk.seed
                    )));
                }
            }
        }
        if records.len() != all.len() {
            return Err(Error::Merge(format!(
                "{} runs are not part of this sweep's grid",
                all.len() - records.len()
            )));
        }
        Ok(Merged {
            manifest,
            records,
            shards,
        })
    }

    /// Writes the whole sweep to `out`: `config.json`, `runs.csv`, `summary.json` (with its wall
    /// time, `None` when unknown, and where it ran) and the figures.
    pub fn write(&self, out: &Path, wall_seconds: Option<f64>, device: &str) -> Result<Summary> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        self.manifest.write(out)?;
        let classification = self.manifest.data.task == crate::data::Task::Classification;
        RunsWriter::create(&out.join(RUNS), classification)?.append(&self.records)?;
        self.manifest
            .write_outputs(out, &self.records, wall_seconds, device)
    }
}

/// Refuses folders that are all shards of one count but not every shard of it, naming the
/// missing ones (other mixes are left to the run-by-run check).
fn missing_shards(shards: &[MergedShard]) -> Result<()> {
    let Some(Some(first)) = shards.first().map(|s| s.shard) else {
        return Ok(());
    };
    if !shards
        .iter()
        .all(|s| s.shard.is_some_and(|x| x.count == first.count))
    {
        return Ok(());
    }
    let missing: Vec<String> = (0..first.count)
        .filter(|i| {
            !shards
                .iter()
                .any(|s| s.shard.is_some_and(|x| x.index == *i))
        })
        .map(|i| format!("{i}/{}", first.count))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Merge(format!(
        "shard {} missing: the folders given hold {} of {} shards",
        missing.join(", "),
        first.count - missing.len(),
        first.count
    )))
}

/// The wall time of a sweep run as shards, from their `timing.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardsWallTime {
    /// From the first shard's start to the last one's end; `None` when a shard did not record it.
    pub seconds: Option<f64>,
    /// The shard folders without `timing.json` (made by an older stog).
    pub untimed: Vec<PathBuf>,
}

impl ShardsWallTime {
    /// Reads the timing of the shard folders `dirs`.
    pub fn read(dirs: &[PathBuf]) -> Result<ShardsWallTime> {
        let mut spans = Vec::new();
        let mut untimed = Vec::new();
        for dir in dirs {
            let path = dir.join(SHARD_TIMING);
            if path.exists() {
                let t: ShardTiming = read_json(&path)?;
                spans.push((t.started_unix, t.finished_unix));
            } else {
                untimed.push(dir.clone());
            }
        }
        let first = spans.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
        let last = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
        Ok(ShardsWallTime {
            seconds: (untimed.is_empty() && !spans.is_empty()).then_some(last - first),
            untimed,
        })
    }
}

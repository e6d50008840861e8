//! Shard folders of one sweep read back as the whole sweep: refusing other sweeps, unfinished
//! shards, and runs that are repeated, missing or outside the grid.

use super::{SweepManifest, finished_chunk};
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
        for dir in dirs {
            manifest.check_same_as_in(dir)?;
            let path = dir.join(RUNS);
            let (records, torn) = read_runs(&path)?;
            if torn {
                return Err(Error::Merge(format!(
                    "{}: the last line is torn; finish that shard with --resume",
                    path.display()
                )));
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
        Ok(Merged { manifest, records })
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

//! Running a sweep into its folder: `config.json` first, then `runs.csv` appended and synced one
//! group at a time, so that a killed sweep loses at most the group in flight and a resume
//! finishes it.

use super::{MANIFEST, Progress, Resumed, Sweep, finished_group, run_group};
use crate::report::{
    RUNS, RunRecord, RunsWriter, SHARD_TIMING, ShardTiming, read_runs, write_json,
};
use crate::{Error, Result};
use std::ops::ControlFlow;
use std::path::Path;
use tch::Device;

impl Sweep {
    /// Trains this sweep's groups (its shard's, when it has one) into `dir` on `device` and
    /// returns their runs. With `resume`, a folder of the same sweep keeps its finished groups
    /// (a torn last line is dropped), only the rest trains, and a folder of another sweep is
    /// refused with the differences; without, the folder starts afresh. A shard also writes
    /// `timing.json` for the merge. Summaries are [`super::SweepManifest::write_outputs`]'s job.
    ///
    /// `progress` hears of every step; when it answers `Break` the sweep stops after that step
    /// (what is on disk stays, for a resume) and returns the runs so far.
    pub fn run(
        &self,
        dir: &Path,
        resume: bool,
        device: Device,
        progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
    ) -> Result<Vec<RunRecord>> {
        let started = unix_seconds(dir)?;
        let manifest = self.manifest();
        let config = &manifest.sweep;
        let runs = dir.join(RUNS);
        let resuming = resume && runs.exists();
        if resuming || (resume && dir.join(MANIFEST).exists()) {
            manifest.check_same_as_in(dir)?;
            manifest.check_same_shard_as_in(dir)?;
        }
        let mine = self.groups();
        let (mut writer, mut done, resumed) = if resuming {
            let (old, torn) = read_runs(&runs)?;
            // Keep whole groups only, in order, and rewrite the file with them.
            let done: Vec<RunRecord> = mine
                .iter()
                .filter_map(|g| finished_group(config, g, &old))
                .flatten()
                .collect();
            let mut writer = RunsWriter::create(&runs, self.classification())?;
            writer.append(&done)?;
            let resumed = Resumed {
                kept: done.len(),
                torn,
            };
            (writer, done, Some(resumed))
        } else {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            manifest.write(dir)?;
            let writer = RunsWriter::create(&runs, self.classification())?;
            (writer, Vec::new(), None)
        };
        let todo: Vec<_> = mine
            .into_iter()
            .filter(|g| finished_group(config, g, &done).is_none())
            .collect();
        let planned = Progress::Planned {
            runs: todo.iter().map(|g| g.len() * config.lambdas.len()).sum(),
            groups: todo.len(),
            members: config.seeds_per_chunk * config.lambdas.len(),
            resumed,
        };
        if progress(planned).is_break() {
            return Ok(done);
        }
        for group in &todo {
            let seeds: Vec<u64> = group.iter().map(|c| c.seed).collect();
            if let Some(first) = group.first() {
                let training = Progress::Training {
                    gate: first.gate,
                    seeds: &seeds,
                };
                if progress(training).is_break() {
                    return Ok(done);
                }
            }
            let splits = seeds
                .iter()
                .map(|s| self.split_of(*s))
                .collect::<Result<Vec<_>>>()?;
            let rows = run_group(config, group, self.table(), &splits, device)?;
            writer.append(&rows)?;
            let stop = progress(Progress::Finished { records: &rows }).is_break();
            done.extend(rows);
            if stop {
                return Ok(done);
            }
        }
        if manifest.shard.is_some() {
            let timing = ShardTiming {
                started_unix: started,
                finished_unix: unix_seconds(dir)?,
            };
            write_json(&dir.join(SHARD_TIMING), &timing)?;
        }
        Ok(done)
    }
}

/// Seconds since the Unix epoch (for `timing.json` in `dir`).
fn unix_seconds(dir: &Path) -> Result<f64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .map_err(|e| Error::io(dir.join(SHARD_TIMING), std::io::Error::other(e)))
}

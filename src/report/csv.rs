//! `runs.csv`, appended one chunk at a time and flushed to disk before the chunk counts as done.

use crate::sweep::{RunRecord, csv_header};
use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An open `runs.csv`.
pub struct RunsWriter {
    file: std::fs::File,
    path: PathBuf,
}

impl RunsWriter {
    /// Creates (truncates) `path` and writes the header.
    pub fn create(path: &Path, classification: bool) -> Result<RunsWriter> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = RunsWriter {
            file,
            path: path.to_path_buf(),
        };
        w.write_line(
            &csv_header(classification)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        )?;
        w.sync()?;
        Ok(w)
    }

    /// Appends `records` and syncs them to disk.
    pub fn append(&mut self, records: &[RunRecord]) -> Result<()> {
        for r in records {
            self.write_line(&r.csv_fields())?;
        }
        self.sync()
    }

    fn write_line(&mut self, fields: &[String]) -> Result<()> {
        let mut w = csv::WriterBuilder::new().from_writer(vec![]);
        w.write_record(fields)
            .map_err(|e| Error::io(&self.path, std::io::Error::other(e)))?;
        let bytes = w
            .into_inner()
            .map_err(|e| Error::io(&self.path, std::io::Error::other(e.to_string())))?;
        self.file
            .write_all(&bytes)
            .map_err(|e| Error::io(&self.path, e))
    }

    fn sync(&mut self) -> Result<()> {
        self.file
            .flush()
            .and_then(|_| self.file.sync_data())
            .map_err(|e| Error::io(&self.path, e))
    }
}

impl RunsWriter {
    /// Opens an existing `runs.csv` for appending (after [`read_runs`] checked it).
    pub fn append_to(path: &Path) -> Result<RunsWriter> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(RunsWriter {
            file,
            path: path.to_path_buf(),
        })
    }
}

/// Reads a `runs.csv`. A last line without its newline (a write torn by a crash) is dropped and
/// reported in the second value; the file is then cut back to its last complete line.
pub fn read_runs(path: &Path) -> Result<(Vec<RunRecord>, bool)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let torn = complete < bytes.len();
    if torn {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        f.set_len(complete as u64).map_err(|e| Error::io(path, e))?;
    }
    let bad = |line: usize, reason: String| Error::data(path, Some(line), None, reason);
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[..complete]);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(1, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let classification = header.iter().any(|h| h == "val_accuracy");
    if header != csv_header(classification) {
        return Err(bad(1, "not a stog runs.csv header".into()));
    }
    let mut records = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| bad(line, e.to_string()))?;
        let f = |k: usize| row.get(k).unwrap_or("").to_string();
        let num = |k: usize| {
            f(k).parse::<f64>()
                .map_err(|_| bad(line, format!("column {} is not a number", header[k])))
        };
        let int = |k: usize| {
            f(k).parse::<i64>()
                .map_err(|_| bad(line, format!("column {} is not an integer", header[k])))
        };
        records.push(RunRecord {
            gate: f(0),
            lambda: num(1)?,
            seed: int(2)? as u64,
            placement: f(3),
            n_selected: int(4)? as usize,
            units_kept: f(5),
            units_total: f(6),
            macs: int(7)?,
            macs_full: int(8)?,
            val_score: num(9)?,
            test_score: num(10)?,
            val_loss: num(11)?,
            test_loss: num(12)?,
            epochs: int(13)? as usize,
            best_epoch: int(14)? as usize,
            fit_seconds: num(15)?,
            selected: f(16),
            failure: f(17),
        });
    }
    Ok((records, torn))
}

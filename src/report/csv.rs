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
        let mut w = RunsWriter { file, path: path.to_path_buf() };
        w.write_line(&csv_header(classification).iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
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
        w.write_record(fields).map_err(|e| Error::io(&self.path, std::io::Error::other(e)))?;
        let bytes = w.into_inner().map_err(|e| Error::io(&self.path, std::io::Error::other(e.to_string())))?;
        self.file.write_all(&bytes).map_err(|e| Error::io(&self.path, e))
    }

    fn sync(&mut self) -> Result<()> {
        self.file.flush().and_then(|_| self.file.sync_data()).map_err(|e| Error::io(&self.path, e))
    }
}

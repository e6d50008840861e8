//! The input formats and the one place that picks a reader by file extension.

use super::npy::read_names;
use super::table::{Table, Task};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// A data file format, known by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.csv`: a header row of names, comma-separated numbers.
    Csv,
    /// `.parquet` or `.pq`: numeric columns.
    Parquet,
    /// `.npy`: a 2-D array; the target is one of its columns.
    Npy,
    /// `.npz`: arrays `x` (2-D features) and a 1-D target array.
    Npz,
}

impl Format {
    /// The format of `path` by its extension (case-insensitive).
    pub fn of(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("parquet" | "pq") => Ok(Format::Parquet),
            Some("npy") => Ok(Format::Npy),
            Some("npz") => Ok(Format::Npz),
            _ => Err(Error::data(
                path,
                None,
                None,
                "unknown data format; expected a .csv, .parquet (.pq), .npy or .npz file",
            )),
        }
    }

    /// The target when none is given: the column `target`, or the array `y` of a `.npz`.
    pub fn default_target(self) -> &'static str {
        match self {
            Format::Npz => "y",
            Format::Csv | Format::Parquet | Format::Npy => "target",
        }
    }
}

/// How to read a data file besides its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file; its extension picks the format.
    pub path: PathBuf,
    /// Target column (CSV, Parquet: a name; `.npy`: a name or an index; `.npz`: the array);
    /// `None` for [`Format::default_target`].
    pub target: Option<String>,
    /// The task the target is read for.
    pub task: Task,
    /// Names file for NumPy columns, one per line; `None` reads `<file>.names` when it exists.
    pub feature_names: Option<PathBuf>,
}

impl Source {
    /// A source with the default target and names.
    pub fn new(path: impl Into<PathBuf>, task: Task) -> Source {
        Source {
            path: path.into(),
            target: None,
            task,
            feature_names: None,
        }
    }

    /// The format of the file.
    pub fn format(&self) -> Result<Format> {
        Format::of(&self.path)
    }

    /// The target column or array.
    pub fn target(&self) -> Result<String> {
        match &self.target {
            Some(t) => Ok(t.clone()),
            None => Ok(self.format()?.default_target().to_string()),
        }
    }

    /// Reads the table with the reader of its format.
    pub fn read(&self) -> Result<Table> {
        let (format, target, path) = (self.format()?, self.target()?, &self.path);
        match format {
            Format::Csv => {
                self.no_names(format)?;
                Table::from_csv(path, &target, self.task)
            }
            Format::Parquet => {
                self.no_names(format)?;
                Table::from_parquet(path, &target, self.task)
            }
            Format::Npy => Table::from_npy(path, &target, self.task, self.names()?),
            Format::Npz => Table::from_npz(path, &target, self.task, self.names()?),
        }
    }

    /// Reads the table; rows whose target is missing (an empty CSV cell, a Parquet null) are
    /// returned apart as unlabeled rows (row-major). NumPy arrays cannot mark a missing target
    /// (NaN is an error), so they have no unlabeled rows.
    pub fn read_semi_supervised(&self) -> Result<(Table, Vec<f64>)> {
        let (format, target, path) = (self.format()?, self.target()?, &self.path);
        match format {
            Format::Csv => {
                self.no_names(format)?;
                Table::from_csv_semi_supervised(path, &target, self.task)
            }
            Format::Parquet => {
                self.no_names(format)?;
                Table::from_parquet_semi_supervised(path, &target, self.task)
            }
            Format::Npy | Format::Npz => Ok((self.read()?, Vec::new())),
        }
    }

    /// The NumPy column names: the names file given, else `<file>.names` if it exists.
    fn names(&self) -> Result<Option<Vec<String>>> {
        let mut sidecar = self.path.clone().into_os_string();
        sidecar.push(".names");
        let sidecar = PathBuf::from(sidecar);
        match &self.feature_names {
            Some(file) => read_names(file).map(Some),
            None if sidecar.exists() => read_names(&sidecar).map(Some),
            None => Ok(None),
        }
    }

    fn no_names(&self, format: Format) -> Result<()> {
        match &self.feature_names {
            Some(_) => Err(Error::config(
                "feature-names",
                format!("applies to .npy and .npz data only; a {format:?} file names its columns"),
            )),
            None => Ok(()),
        }
    }
}

impl Table {
    /// Reads `path` by its extension (`.csv`, `.parquet`/`.pq`, `.npy`, `.npz`) with the
    /// default names, the target column (or `.npz` array) `target`.
    pub fn from_path(path: impl AsRef<Path>, target: &str, task: Task) -> Result<Table> {
        Source {
            target: Some(target.to_string()),
            ..Source::new(path.as_ref(), task)
        }
        .read()
    }
}

//! The input formats and the one place that picks a reader by file extension.

use super::csv::{csv_columns, csv_header};
use super::npy::{npy_frame, npz_frame, read_names};
use super::parquet::{parquet_columns, parquet_header};
use super::table::{Table, Task};
use crate::{Error, Result};
use ndarray::Array2;
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

    /// The names of the file's columns (for `.npz`: those of the array `x`, then the target
    /// array when the archive has one).
    pub fn column_names(&self) -> Result<Vec<String>> {
        match self.format()? {
            Format::Csv => csv_header(&self.path),
            Format::Parquet => parquet_header(&self.path),
            Format::Npy | Format::Npz => Ok(self.frame()?.0),
        }
    }

    /// The columns `names` of every row, `rows x names.len()`, in the order of `names`: how a
    /// fitted model reads new rows. Other columns are ignored (in CSV they may hold text); a
    /// missing one is an error naming it; every value read must be finite. No target is needed,
    /// and any number of rows is fine.
    pub fn read_columns(&self, names: &[String]) -> Result<Array2<f64>> {
        let (x, n) = match self.format()? {
            Format::Csv => {
                self.no_names(Format::Csv)?;
                csv_columns(&self.path, names)?
            }
            Format::Parquet => {
                self.no_names(Format::Parquet)?;
                parquet_columns(&self.path, names)?
            }
            Format::Npy | Format::Npz => {
                let (all, values, n) = self.frame()?;
                let at = names
                    .iter()
                    .map(|name| {
                        all.iter().position(|a| a == name).ok_or_else(|| {
                            Error::data(&self.path, None, Some(name), "column missing")
                        })
                    })
                    .collect::<Result<Vec<usize>>>()?;
                let cols = all.len();
                let x = (0..n)
                    .flat_map(|i| at.iter().map(move |j| (i, *j)))
                    .map(|(i, j)| values[i * cols + j])
                    .collect();
                (x, n)
            }
        };
        Array2::from_shape_vec((n, names.len()), x)
            .map_err(|e| Error::shape(format!("reading {}", self.path.display()), e.to_string()))
    }

    /// Every column of a NumPy file with its name, row-major, and the row count.
    fn frame(&self) -> Result<(Vec<String>, Vec<f64>, usize)> {
        match self.format()? {
            Format::Npz => npz_frame(&self.path, self.names()?, &self.target()?),
            _ => npy_frame(&self.path, self.names()?),
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

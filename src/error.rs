//! The one error type of the library.

use std::path::PathBuf;

/// Everything that can go wrong in stog, with the place it went wrong. New kinds of failure may
/// be added: a `match` on it needs a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: `{field}` {reason}")]
    InvalidConfig { field: String, reason: String },

    /// A gate configuration (the `kind:key=value,...` form of the command line, or a value set
    /// through the API) that cannot be read or is out of range. `key` names the setting at
    /// fault; `None` when the kind or the form is wrong.
    #[error("gate `{spec}`: {reason}")]
    GateSpec {
        spec: String,
        key: Option<String>,
        reason: String,
    },

    /// A tensor or table does not have the shape an operation needs.
    #[error("shape mismatch in {context}: {reason}")]
    Shape { context: String, reason: String },

    /// A bad cell, row or column in a data file. Text files give the line (1-based, the header
    /// is line 1); Parquet and NumPy files, which have no lines, give the row index (0-based, as
    /// pandas and NumPy count).
    #[error("{}{}: {reason}", file.display(), place(*line, *row, column.as_deref()))]
    Data {
        file: PathBuf,
        line: Option<usize>,
        row: Option<usize>,
        column: Option<String>,
        reason: String,
    },

    /// A bad value or shape in arrays handed to stog from memory: the 0-based row and the
    /// column when known.
    #[error("{what}{}: {reason}", place(None, *row, column.as_deref()))]
    Array {
        what: String,
        row: Option<usize>,
        column: Option<String>,
        reason: String,
    },

    /// A fit that ran as configured but whose outcome cannot give what was asked, e.g. no point
    /// of the lambda path keeps at most the features a budget allows. Not a configuration error:
    /// the same settings can succeed on other data. `stage` names the step, `reason` the outcome.
    #[error("{stage}: {reason}")]
    Fit { stage: String, reason: String },

    /// A call that this fitted model cannot answer, e.g. class probabilities of a regression
    /// model.
    #[error("{call}: {reason}")]
    NotApplicable { call: String, reason: String },

    /// A saved model written in a format this version of stog does not read.
    #[error("{}: format version {found}, this stog reads versions 1 to {supported}; refit the model with this version", path.display())]
    ModelFormat {
        path: PathBuf,
        found: String,
        /// The newest version this stog reads (every earlier one too).
        supported: u32,
    },

    /// A feature correlation matrix that cannot be factored even after jitter.
    #[error("feature correlation matrix is not usable: {0}")]
    NotPositiveDefinite(String),

    /// Training produced a non-finite loss.
    #[error(
        "non-finite loss ({value}) for gate {gate}, lambda {lambda}, seed {seed} at epoch {epoch}"
    )]
    NonFinite {
        gate: String,
        lambda: f64,
        seed: u64,
        epoch: usize,
        value: f64,
    },

    /// A tensor could not be copied to the host as the values asked for (not 1-D, or the copy
    /// failed): a bug, reported instead of an empty result.
    #[error("reading {what} back from the device: {error}")]
    ReadBack { what: String, error: tch::TchError },

    /// A TorchScript model that cannot be loaded or run as asked.
    #[error("TorchScript model {}: {reason}", model.display())]
    Script { model: PathBuf, reason: String },

    /// A sweep folder whose manifest (`config.json`) describes another sweep: resuming into it or
    /// merging it would mix two sweeps. Each difference reads `field: stored -> new`.
    #[error("{} describes another sweep:\n  {}", manifest.display(), differences.join("\n  "))]
    OtherSweep {
        manifest: PathBuf,
        differences: Vec<String>,
    },

    /// A shard folder resumed as another share of the grid than the one it was made for (another
    /// shard count, another index, or the whole grid): resuming would drop or repeat runs.
    /// `stored` and `given` read `shard I/N` or `the whole grid`.
    #[error(
        "{} was made for {stored}, this run is {given}; resume it with the shard it was made with \
         (the same count: --shards N or STOG_SHARDS), or give a new --out-dir",
        manifest.display()
    )]
    OtherShard {
        manifest: PathBuf,
        stored: String,
        given: String,
    },

    /// `--shard auto` cannot tell which share of the grid to run: no task index from the
    /// scheduler, no shard count, a value that is not a number, or an index out of range. The
    /// message names the variable.
    #[error("shard from the scheduler: {0}")]
    SchedulerShard(String),

    /// Shard folders that do not make up one whole sweep: runs missing, repeated, outside the
    /// grid, or a shard not finished.
    #[error("cannot merge: {0}")]
    Merge(String),

    /// An error from libtorch.
    #[error(transparent)]
    Torch(#[from] tch::TchError),

    /// A file could not be read or written. The message carries the cause; it is not also
    /// chained as a source, which made `{:#}` print it twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    /// A JSON document could not be read or written.
    #[error("{}: {error}", path.display())]
    Json {
        path: PathBuf,
        error: serde_json::Error,
    },
}

fn place(line: Option<usize>, row: Option<usize>, column: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(l) = line {
        s += &format!(", line {l}");
    }
    if let Some(r) = row {
        s += &format!(", row index {r}");
    }
    if let Some(c) = column {
        s += &format!(", column `{c}`");
    }
    s
}

impl Error {
    /// Shorthand for [`Error::InvalidConfig`].
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Fit`]: the fit's `stage` could not give what was asked, for
    /// `reason`.
    pub fn fit(stage: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Fit {
            stage: stage.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Shape`].
    pub fn shape(context: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Shape {
            context: context.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Data`]: a problem in `file` at `line` and `column` when known.
    pub fn data(
        file: &std::path::Path,
        line: Option<usize>,
        column: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Data {
            file: file.to_path_buf(),
            line,
            row: None,
            column: column.map(str::to_string),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Data`] in a file without lines: the 0-based `row` and `column`
    /// when known.
    pub fn data_row(
        file: &std::path::Path,
        row: Option<usize>,
        column: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Data {
            file: file.to_path_buf(),
            line: None,
            row,
            column: column.map(str::to_string),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Array`]: a problem in the array `what` at `row` and `column`.
    pub fn array(
        what: impl Into<String>,
        row: Option<usize>,
        column: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Array {
            what: what.into(),
            row,
            column: column.map(str::to_string),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

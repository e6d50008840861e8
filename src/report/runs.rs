//! `runs.csv`: one [`RunRecord`] per run of a sweep, written and read through serde by column
//! name, appended one chunk at a time and flushed to disk before the chunk counts as done.

use crate::{Error, Result};
use serde::{Deserialize, Serialize, Serializer};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file of a sweep folder's runs.
pub const RUNS: &str = "runs.csv";

/// The result of one run of a sweep: a row of `runs.csv`. Score columns are named for the task
/// (`val_accuracy`, `test_loss`, ... or `val_r2`, `test_mse`, ...); both read into these fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Gate kind.
    pub gate: String,
    /// Lambda.
    #[serde(serialize_with = "shortest")]
    pub lambda: f64,
    /// Seed (of the split and of the initialisation).
    pub seed: u64,
    /// `input`, `hidden`, `all` or `dynamic`.
    pub placement: String,
    /// Input features used by the inference network.
    pub n_selected: usize,
    /// Kept units per gate layer, input first, `;`-separated.
    pub units_kept: String,
    /// Units per gate layer, `;`-separated.
    pub units_total: String,
    /// Multiply-adds per example of the pruned network.
    pub macs: i64,
    /// Multiply-adds per example of the unpruned network.
    pub macs_full: i64,
    /// Validation score: accuracy, or R2 for regression.
    #[serde(rename = "val_accuracy", alias = "val_r2", serialize_with = "shortest")]
    pub val_score: f64,
    /// Test score: accuracy, or R2.
    #[serde(
        rename = "test_accuracy",
        alias = "test_r2",
        serialize_with = "shortest"
    )]
    pub test_score: f64,
    /// Validation loss: cross-entropy, or MSE.
    #[serde(alias = "val_mse", serialize_with = "shortest")]
    pub val_loss: f64,
    /// Test loss: cross-entropy, or MSE.
    #[serde(alias = "test_mse", serialize_with = "shortest")]
    pub test_loss: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// Epoch of the restored best state.
    pub best_epoch: usize,
    /// Wall time of the run's chunk divided by its members.
    #[serde(serialize_with = "four_decimals")]
    pub fit_seconds: f64,
    /// Selected input indices, `;`-separated.
    pub selected: String,
    /// Why the run failed, empty when it did not.
    pub failure: String,
}

/// Numbers as Rust prints them (`0`, not `0.0`), as runs.csv always had them.
fn shortest<S: Serializer>(x: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(x)
}

fn four_decimals<S: Serializer>(x: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("{x:.4}"))
}

/// Column names of `runs.csv`; score columns are named for the task. They are the serde names
/// of [`RunRecord`] for classification (checked by a test).
pub fn csv_header(classification: bool) -> Vec<&'static str> {
    let scores = if classification {
        ["val_accuracy", "test_accuracy", "val_loss", "test_loss"]
    } else {
        ["val_r2", "test_r2", "val_mse", "test_mse"]
    };
    let mut h = vec![
        "gate",
        "lambda",
        "seed",
        "placement",
        "n_selected",
        "units_kept",
        "units_total",
        "macs",
        "macs_full",
    ];
    h.extend(scores);
    h.extend(["epochs", "best_epoch", "fit_seconds", "selected", "failure"]);
    h
}

impl RunRecord {
    /// Kept units per gate layer as numbers.
    pub fn units_kept_list(&self) -> Vec<i64> {
        self.units_kept
            .split(';')
            .filter_map(|s| s.parse().ok())
            .collect()
    }
}

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
        let mut csv = csv::Writer::from_writer(vec![]);
        csv.write_record(csv_header(classification))
            .map_err(|e| w.csv_error(e))?;
        w.write_bytes(csv)?;
        Ok(w)
    }

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

    /// Appends `records` and syncs them to disk.
    pub fn append(&mut self, records: &[RunRecord]) -> Result<()> {
        // The header is already there (named for the task); rows follow the record's field order.
        let mut csv = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(vec![]);
        for r in records {
            csv.serialize(r).map_err(|e| self.csv_error(e))?;
        }
        self.write_bytes(csv)
    }

    fn csv_error(&self, e: impl std::fmt::Display) -> Error {
        Error::io(&self.path, std::io::Error::other(e.to_string()))
    }

    /// Writes what `csv` holds and syncs it.
    fn write_bytes(&mut self, csv: csv::Writer<Vec<u8>>) -> Result<()> {
        let bytes = csv.into_inner().map_err(|e| self.csv_error(e))?;
        self.file
            .write_all(&bytes)
            .and_then(|_| self.file.flush())
            .and_then(|_| self.file.sync_data())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// Whether the `runs.csv` at `path` names its scores for classification (`val_accuracy`) rather
/// than regression (`val_r2`); an error when its header is neither.
pub fn runs_are_classification(path: &Path) -> Result<bool> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    header_task(path, &mut csv::Reader::from_reader(&bytes[..]))
}

fn header_task<R: std::io::Read>(path: &Path, reader: &mut csv::Reader<R>) -> Result<bool> {
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| Error::data(path, Some(1), None, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    [true, false]
        .into_iter()
        .find(|c| header == csv_header(*c))
        .ok_or_else(|| Error::data(path, Some(1), None, "not a stog runs.csv header"))
}

/// The runs in a `runs.csv` being written (0 while it does not exist yet), for progress.
pub fn runs_written(path: &Path) -> Result<usize> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.lines().count().saturating_sub(1)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Reads a `runs.csv` by column name. A last line without its newline (a write torn by a crash)
/// is dropped and reported in the second value; the file is then cut back to its last complete
/// line.
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
    let mut reader = csv::Reader::from_reader(&bytes[..complete]);
    header_task(path, &mut reader)?;
    let records = reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| Error::data(path, Some(i + 2), None, e.to_string())))
        .collect::<Result<Vec<RunRecord>>>()?;
    Ok((records, torn))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RunRecord {
        RunRecord {
            gate: "stg".into(),
            lambda: 0.0,
            seed: 3,
            placement: "input".into(),
            n_selected: 2,
            units_kept: "2".into(),
            units_total: "4".into(),
            macs: 10,
            macs_full: 20,
            val_score: 0.5,
            test_score: 0.25,
            val_loss: f64::NAN,
            test_loss: 1.5,
            epochs: 7,
            best_epoch: 5,
            fit_seconds: 0.125,
            selected: "0;3".into(),
            failure: String::new(),
        }
    }

    #[test]
    fn the_header_is_the_records_serde_names_in_order() {
        let mut csv = csv::Writer::from_writer(vec![]);
        csv.serialize(record()).unwrap();
        let text = String::from_utf8(csv.into_inner().unwrap()).unwrap();
        let header = text.lines().next().unwrap();
        assert_eq!(header, csv_header(true).join(","));
        // Numbers keep the form runs.csv always had.
        assert!(
            text.lines().nth(1).unwrap().starts_with("stg,0,3,"),
            "{text}"
        );
        assert!(text.contains(",0.1250,"), "{text}");
    }

    #[test]
    fn both_tasks_read_back_into_records_and_a_torn_line_is_cut() {
        for classification in [true, false] {
            let path = std::env::temp_dir().join(format!(
                "stog-runs-{}-{classification}.csv",
                std::process::id()
            ));
            let mut w = RunsWriter::create(&path, classification).unwrap();
            w.append(&[record()]).unwrap();
            let (back, torn) = read_runs(&path).unwrap();
            assert!(!torn);
            assert_eq!(back.len(), 1);
            assert!(back[0].val_loss.is_nan());
            let (mut a, mut b) = (back[0].clone(), record());
            (a.val_loss, b.val_loss) = (0.0, 0.0);
            assert_eq!(a, b);
            assert_eq!(runs_are_classification(&path).unwrap(), classification);
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(b"stg,0.1,2,inp"))
                .unwrap();
            let (back, torn) = read_runs(&path).unwrap();
            assert!(torn && back.len() == 1);
            assert!(!read_runs(&path).unwrap().1, "the file was cut back");
            std::fs::remove_file(&path).unwrap();
        }
    }
}

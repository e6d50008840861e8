//! A numeric table of features and a target, and the checks every input format shares.

use super::Values;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the target column means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Integer class labels; cross-entropy.
    #[default]
    Classification,
    /// Real-valued target; mean squared error.
    Regression,
}

impl std::str::FromStr for Task {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "classification" => Ok(Task::Classification),
            "regression" => Ok(Task::Regression),
            _ => Err(Error::config(
                "task",
                format!("unknown task `{s}`; expected classification or regression"),
            )),
        }
    }
}

/// A table of `n_rows x n_features` finite numbers and a target per row.
#[derive(Debug, Clone)]
pub struct Table {
    /// Where it was read from.
    pub path: PathBuf,
    /// Names of the feature columns, in file order (target removed).
    pub feature_names: Vec<String>,
    /// Name of the target column.
    pub target_name: String,
    /// Row-major features, `n_rows * n_features` values (`f32` when the file's were).
    pub x: Values,
    /// Target per row: a class index `0..n_classes` for classification, the value for regression.
    pub y: Vec<f64>,
    /// The task the target was read for.
    pub task: Task,
    /// Original class labels, in the order of the class indices (classification only).
    pub classes: Vec<i64>,
}

/// Fewest data rows a table may have.
pub const MIN_ROWS: usize = 4;

impl Table {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.y.len()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// Number of classes (1 for regression).
    pub fn n_classes(&self) -> usize {
        self.classes.len().max(1)
    }

    /// The class index of every row (classification), or `None` (regression).
    pub fn labels(&self) -> Option<Vec<usize>> {
        (self.task == Task::Classification).then(|| self.y.iter().map(|v| *v as usize).collect())
    }

    /// Builds a table from the rows a reader parsed (`names` are all columns, `t` the target's
    /// index among them): checks the row count and, for classification, that labels are
    /// integers of at least two classes, which it maps to `0..K`. Shared by every format so that
    /// they accept and reject the same data. `place(i)` locates row `i` in the file for errors.
    pub(crate) fn assemble(
        path: &Path,
        names: &[String],
        t: usize,
        x: Values,
        mut y: Vec<f64>,
        task: Task,
        place: impl Fn(usize) -> Place,
    ) -> Result<Table> {
        if y.len() < MIN_ROWS {
            return Err(Error::data(
                path,
                None,
                None,
                format!("{} data rows; at least {MIN_ROWS} are needed", y.len()),
            ));
        }
        let mut feature_names = names.to_vec();
        let target_name = feature_names.remove(t);
        if x.len() != y.len() * feature_names.len() {
            return Err(Error::shape(
                format!("reading {}", path.display()),
                format!(
                    "{} feature values for {} rows of {} features",
                    x.len(),
                    y.len(),
                    feature_names.len()
                ),
            ));
        }
        let mut classes = Vec::new();
        if task == Task::Classification {
            for (i, v) in y.iter().enumerate() {
                if v.fract() != 0.0 {
                    return Err(place(i).error(
                        path,
                        Some(&target_name),
                        format!("class label {v} is not an integer"),
                    ));
                }
            }
            let mut labels: Vec<i64> = y.iter().map(|v| *v as i64).collect();
            labels.sort_unstable();
            labels.dedup();
            if labels.len() < 2 {
                return Err(Error::data(
                    path,
                    None,
                    Some(&target_name),
                    format!("only one class ({}) in the target", labels[0]),
                ));
            }
            for v in &mut y {
                *v = labels.binary_search(&(*v as i64)).unwrap_or(0) as f64;
            }
            classes = labels;
        }
        Ok(Table {
            path: path.to_path_buf(),
            feature_names,
            target_name,
            x,
            y,
            task,
            classes,
        })
    }

    /// The table of feature columns `columns` only (in that order), every row and the target.
    pub fn select_columns(&self, columns: &[usize]) -> Table {
        let d = self.n_features();
        Table {
            path: self.path.clone(),
            feature_names: columns
                .iter()
                .map(|j| self.feature_names[*j].clone())
                .collect(),
            target_name: self.target_name.clone(),
            x: self.x.select_columns(d, columns),
            y: self.y.clone(),
            task: self.task,
            classes: self.classes.clone(),
        }
    }

    /// Values of feature column `j` over all rows.
    pub fn column(&self, j: usize) -> Vec<f64> {
        let d = self.n_features();
        (0..self.n_rows()).map(|i| self.x.get(i * d + j)).collect()
    }

    /// Feature columns that are constant over `rows`.
    pub fn constant_columns(&self, rows: &[usize]) -> Vec<usize> {
        let d = self.n_features();
        (0..d)
            .filter(|&j| {
                rows.iter()
                    .all(|&i| self.x.get(i * d + j) == self.x.get(rows[0] * d + j))
            })
            .collect()
    }
}

/// Where a row sits in a data file, for errors: a line of a text file (1-based, header = 1) or
/// the row index of a Parquet or NumPy file (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Line(usize),
    Row(usize),
}

impl Place {
    /// The data error at this place.
    pub(crate) fn error(
        self,
        path: &Path,
        column: Option<&str>,
        reason: impl Into<String>,
    ) -> Error {
        match self {
            Place::Line(l) => Error::data(path, Some(l), column, reason),
            Place::Row(r) => Error::data_row(path, Some(r), column, reason),
        }
    }
}

/// Checks the names of all columns (no empty name, none twice, the target present, at least one
/// feature) and returns the target's index. `header_line` is the line of the names, if any.
pub(crate) fn target_index(
    path: &Path,
    names: &[String],
    target: &str,
    header_line: Option<usize>,
) -> Result<usize> {
    let err = |column: Option<&str>, reason: String| Error::data(path, header_line, column, reason);
    if let Some(i) = names.iter().position(|n| n.is_empty()) {
        return Err(err(None, format!("header column {} has no name", i + 1)));
    }
    // A set, not a scan of the earlier names: wide data has 100,000 columns.
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    if let Some(n) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(err(
            Some(n),
            "column name appears twice in the header".into(),
        ));
    }
    let t = names.iter().position(|n| n == target).ok_or_else(|| {
        err(
            Some(target),
            format!("no target column `{target}` in the header"),
        )
    })?;
    if names.len() < 2 {
        return Err(err(
            None,
            "the header has no feature column besides the target".into(),
        ));
    }
    Ok(t)
}

/// `v` if it is finite, else the reason it is not a usable value.
pub(crate) fn finite(v: f64) -> std::result::Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("`{v}` is not a finite number"))
    }
}

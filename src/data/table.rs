//! A numeric table of features and a target, and the checks every input format shares.

use super::Values;
use crate::{Error, Result};
use ndarray::{ArrayView1, ArrayView2};
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
///
/// Built only through the checked constructors: a file reader ([`Table::from_path`] and the
/// format's own), or [`Table::from_arrays`] for data in memory. Both make the same checks (finite
/// values, at least [`MIN_ROWS`] rows, integer labels of at least two classes).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Table {
    /// The file it was read from; `None` for a table built from arrays.
    pub source: Option<PathBuf>,
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

/// Where the values of a table being built come from, for its errors.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Origin<'a> {
    /// A data file.
    File(&'a Path),
    /// Arrays from memory ([`Table::from_arrays`]).
    Arrays,
}

impl Origin<'_> {
    /// The error of `reason` at `place` (when known) and `column`.
    fn error(self, place: Option<Place>, column: Option<&str>, reason: impl Into<String>) -> Error {
        match (self, place) {
            (Origin::File(path), Some(place)) => place.error(path, column, reason),
            (Origin::File(path), None) => Error::data(path, None, column, reason),
            (Origin::Arrays, place) => {
                let row = place.map(|p| match p {
                    Place::Line(r) | Place::Row(r) => r,
                });
                Error::array("input arrays", row, column, reason)
            }
        }
    }

    fn describe(self) -> String {
        match self {
            Origin::File(path) => format!("reading {}", path.display()),
            Origin::Arrays => "Table::from_arrays".to_string(),
        }
    }
}

/// Element types a table is built from: `f64`, or `f32` (kept as `f32`: half the memory).
pub trait FeatureValue: Copy + std::fmt::Display + sealed::Sealed {
    /// The values as a table stores them.
    fn values(v: Vec<Self>) -> Values;
    /// The value as `f64`.
    fn as_f64(self) -> f64;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

impl FeatureValue for f64 {
    fn values(v: Vec<f64>) -> Values {
        Values::F64(v)
    }
    fn as_f64(self) -> f64 {
        self
    }
}

impl FeatureValue for f32 {
    fn values(v: Vec<f32>) -> Values {
        Values::F32(v)
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

/// Name of the target of a table built from arrays.
pub const ARRAY_TARGET: &str = "target";

impl Table {
    /// A table from arrays in memory: `x` is `n_rows x n_features` (`f64`, or `f32`, which the
    /// table keeps as `f32`), `y` the target of each row (class labels as integers, e.g. `0.0`
    /// and `1.0`, for classification). Features are named `x0, x1, ...` (see
    /// [`Table::with_feature_names`]), the target `target`.
    ///
    /// The checks are those of the file readers, each a typed error: the shapes agree, at least
    /// one feature and [`MIN_ROWS`] rows, every value finite ([`Error::Array`] names the row and
    /// column), class labels integers of at least two classes.
    pub fn from_arrays<T: FeatureValue>(
        x: ArrayView2<T>,
        y: ArrayView1<f64>,
        task: Task,
    ) -> Result<Table> {
        let (n, d) = x.dim();
        if y.len() != n {
            return Err(Error::shape(
                "Table::from_arrays",
                format!("x has {n} rows but y has {} values", y.len()),
            ));
        }
        if d == 0 {
            return Err(Error::shape(
                "Table::from_arrays",
                "x has no feature column",
            ));
        }
        let mut names: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
        if let Some(((i, j), v)) = x.indexed_iter().find(|(_, v)| !v.as_f64().is_finite()) {
            return Err(Error::array(
                "x",
                Some(i),
                Some(&names[j]),
                format!("`{v}` is not a finite number"),
            ));
        }
        if let Some((i, v)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::array(
                "y",
                Some(i),
                None,
                format!("`{v}` is not a finite number"),
            ));
        }
        // `iter` walks the logical (row-major) order whatever the memory layout.
        let values = T::values(x.iter().copied().collect());
        names.push(ARRAY_TARGET.to_string());
        Table::assemble(
            Origin::Arrays,
            &names,
            d,
            values,
            y.to_vec(),
            task,
            Place::Row,
        )
    }

    /// This table with its features named `names` (one per column, none empty, none twice, none
    /// the target's name).
    pub fn with_feature_names<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<Table> {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if names.len() != self.n_features() {
            return Err(Error::shape(
                "Table::with_feature_names",
                format!(
                    "{} names for {} feature columns",
                    names.len(),
                    self.n_features()
                ),
            ));
        }
        let mut all = names.clone();
        all.push(self.target_name.clone());
        let origin = match &self.source {
            Some(path) => Origin::File(path),
            None => Origin::Arrays,
        };
        check_names(origin, &all, None)?;
        self.feature_names = names;
        Ok(self)
    }

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
    /// integers of at least two classes, which it maps to `0..K`. Shared by every format and by
    /// [`Table::from_arrays`], so that they accept and reject the same data. `place(i)` locates
    /// row `i` for errors.
    pub(crate) fn assemble(
        origin: Origin,
        names: &[String],
        t: usize,
        x: Values,
        mut y: Vec<f64>,
        task: Task,
        place: impl Fn(usize) -> Place,
    ) -> Result<Table> {
        if y.len() < MIN_ROWS {
            return Err(origin.error(
                None,
                None,
                format!("{} data rows; at least {MIN_ROWS} are needed", y.len()),
            ));
        }
        let mut feature_names = names.to_vec();
        let target_name = feature_names.remove(t);
        if x.len() != y.len() * feature_names.len() {
            return Err(Error::shape(
                origin.describe(),
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
                    return Err(origin.error(
                        Some(place(i)),
                        Some(&target_name),
                        format!("class label {v} is not an integer"),
                    ));
                }
            }
            let mut labels: Vec<i64> = y.iter().map(|v| *v as i64).collect();
            labels.sort_unstable();
            labels.dedup();
            if labels.len() < 2 {
                return Err(origin.error(
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
            source: match origin {
                Origin::File(path) => Some(path.to_path_buf()),
                Origin::Arrays => None,
            },
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
            source: self.source.clone(),
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
    check_names(Origin::File(path), names, header_line)?;
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

/// Checks that no column name is empty and none appears twice.
fn check_names(origin: Origin, names: &[String], header_line: Option<usize>) -> Result<()> {
    let place = header_line.map(Place::Line);
    if let Some(i) = names.iter().position(|n| n.is_empty()) {
        return Err(origin.error(place, None, format!("column {} has no name", i + 1)));
    }
    // A set, not a scan of the earlier names: wide data has 100,000 columns.
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    if let Some(n) = names.iter().find(|n| !seen.insert(n.as_str())) {
        return Err(origin.error(place, Some(n), "column name appears twice"));
    }
    Ok(())
}

/// `v` if it is finite, else the reason it is not a usable value.
pub(crate) fn finite(v: f64) -> std::result::Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("`{v}` is not a finite number"))
    }
}

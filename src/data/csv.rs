//! CSV input: a header of names, one target column chosen by name.

use super::table::{Origin, Place, Table, Task, target_index};
use crate::{Error, Result};
use std::path::Path;

impl Table {
    /// Reads `path`: comma-separated, one header row, the column named `target` as target.
    ///
    /// Every cell must be a finite number. Errors name the file, the 1-based line (header = 1)
    /// and the column.
    pub fn from_csv(path: impl AsRef<Path>, target: &str, task: Task) -> Result<Table> {
        let path = path.as_ref();
        // Streamed: the file is never held in memory besides the parsed numbers.
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Table::from_reader(path, file, target, task)
    }

    /// Parses CSV bytes as [`Table::from_csv`] does; `path` is used in errors only.
    pub fn from_bytes(path: &Path, bytes: &[u8], target: &str, task: Task) -> Result<Table> {
        Table::from_reader(path, bytes, target, task)
    }

    /// Parses CSV from any reader as [`Table::from_csv`] does; `path` is used in errors only.
    pub fn from_reader<R: std::io::Read>(
        path: &Path,
        source: R,
        target: &str,
        task: Task,
    ) -> Result<Table> {
        Table::parse(path, source, target, task, None)
    }

    /// Reads `path` like [`Table::from_csv`], but rows whose target cell is empty are unlabeled:
    /// their features are returned (row-major) instead of being an error.
    pub fn from_csv_semi_supervised(
        path: impl AsRef<Path>,
        target: &str,
        task: Task,
    ) -> Result<(Table, Vec<f64>)> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut unlabeled = Vec::new();
        let table = Table::parse(path, file, target, task, Some(&mut unlabeled))?;
        Ok((table, unlabeled))
    }

    /// Reads the columns `names` of a CSV file of unlabeled rows (other columns are ignored),
    /// row-major.
    pub fn features_from_csv(path: impl AsRef<Path>, names: &[String]) -> Result<Vec<f64>> {
        let path = path.as_ref();
        let (x, n) = csv_columns(path, names)?;
        if n == 0 {
            return Err(Error::data(path, None, None, "no unlabeled rows"));
        }
        Ok(x)
    }
}

/// The names in the header of the CSV file `path`.
pub(crate) fn csv_header(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ::csv::ReaderBuilder::new().from_reader(file);
    Ok(reader
        .headers()
        .map_err(|e| Error::data(path, Some(1), None, e.to_string()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect())
}

/// The columns `names` of the CSV file `path`, row-major, and the number of rows; other columns
/// are ignored (they may hold text), a missing one is an error naming it.
pub(crate) fn csv_columns(path: &Path, names: &[String]) -> Result<(Vec<f64>, usize)> {
    let err = |line: Option<usize>, column: Option<&str>, reason: String| {
        Error::data(path, line, column, reason)
    };
    let header = csv_header(path)?;
    let idx: Vec<usize> = names
        .iter()
        .map(|n| {
            header
                .iter()
                .position(|h| h == n)
                .ok_or_else(|| err(Some(1), Some(n), "column missing".into()))
        })
        .collect::<Result<_>>()?;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ::csv::ReaderBuilder::new().from_reader(file);
    let (mut x, mut n) = (Vec::new(), 0);
    for record in reader.records() {
        let record = record
            .map_err(|e| err(e.position().map(|p| p.line() as usize), None, e.to_string()))?;
        let line = record.position().map(|p| p.line() as usize);
        for (name, i) in names.iter().zip(&idx) {
            x.push(
                parse_cell(record.get(*i).unwrap_or(""))
                    .map_err(|reason| err(line, Some(name), reason))?,
            );
        }
        n += 1;
    }
    Ok((x, n))
}

impl Table {
    fn parse<R: std::io::Read>(
        path: &Path,
        source: R,
        target: &str,
        task: Task,
        mut unlabeled: Option<&mut Vec<f64>>,
    ) -> Result<Table> {
        let err = |line: Option<usize>, column: Option<&str>, reason: String| {
            Error::data(path, line, column, reason)
        };
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(source);
        let mut records = reader.records();
        let header = match records.next() {
            None => return Err(err(None, None, "the file is empty".into())),
            Some(r) => r.map_err(|e| err(Some(1), None, format!("cannot read header: {e}")))?,
        };
        let names: Vec<String> = header.iter().map(|s| s.trim().to_string()).collect();
        let t = target_index(path, &names, target, Some(1))?;
        let mut x = Vec::new();
        let mut y = Vec::new();
        let mut lines = Vec::new();
        for (row, record) in records.enumerate() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(row + 2, |p| p.line() as usize);
                err(Some(line), None, format!("cannot read row: {e}"))
            })?;
            let line = record.position().map_or(row + 2, |p| p.line() as usize);
            if record.len() == 1 && record.get(0).is_some_and(|c| c.trim().is_empty()) {
                continue; // a blank line
            }
            if record.len() != names.len() {
                return Err(err(
                    Some(line),
                    None,
                    format!(
                        "row has {} cells, the header has {}",
                        record.len(),
                        names.len()
                    ),
                ));
            }
            let unlabeled_row = record.get(t).is_some_and(|c| c.trim().is_empty());
            if unlabeled_row && let Some(rows) = unlabeled.as_deref_mut() {
                for (c, cell) in record.iter().enumerate().filter(|(c, _)| *c != t) {
                    rows.push(
                        parse_cell(cell)
                            .map_err(|reason| err(Some(line), Some(&names[c]), reason))?,
                    );
                }
                continue;
            }
            for (c, cell) in record.iter().enumerate() {
                let v =
                    parse_cell(cell).map_err(|reason| err(Some(line), Some(&names[c]), reason))?;
                if c == t {
                    y.push(v);
                    lines.push(line);
                } else {
                    x.push(v);
                }
            }
        }
        Table::assemble(Origin::File(path), &names, t, x.into(), y, task, |i| {
            Place::Line(lines[i])
        })
    }
}

fn parse_cell(cell: &str) -> std::result::Result<f64, String> {
    let s = cell.trim();
    if s.is_empty() {
        return Err("empty cell".into());
    }
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if !v.is_finite() {
        return Err(format!("`{s}` is not a finite number"));
    }
    Ok(v)
}

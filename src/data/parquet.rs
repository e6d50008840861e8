//! Apache Parquet input: numeric top-level columns, the target column chosen by name, read one
//! row group and one column at a time straight into the row-major table.

use super::Values;
use super::table::{Origin, Place, Table, Task, finite, target_index};
use crate::{Error, Result};
use parquet::basic::{ConvertedType, LogicalType, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::DataType;
use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;
use std::path::Path;

/// Values decoded per call of the column reader.
const BATCH: usize = 64 * 1024;

impl Table {
    /// Reads the Parquet file `path`, the column named `target` as target.
    ///
    /// Columns must be top-level booleans, integers (signed or unsigned, not decimals, dates or
    /// times) or floats; every value must be present and finite. Errors name the file, the
    /// 0-based row and the column.
    pub fn from_parquet(path: impl AsRef<Path>, target: &str, task: Task) -> Result<Table> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        guarded(path, || read(path, file, target, task, None))
    }

    /// Parses Parquet bytes as [`Table::from_parquet`] does; `path` is used in errors only.
    pub fn from_parquet_bytes(
        path: &Path,
        bytes: bytes::Bytes,
        target: &str,
        task: Task,
    ) -> Result<Table> {
        guarded(path, || read(path, bytes, target, task, None))
    }

    /// Reads `path` like [`Table::from_parquet`], but rows whose target is null are unlabeled:
    /// their features are returned (row-major) instead of being an error.
    pub fn from_parquet_semi_supervised(
        path: impl AsRef<Path>,
        target: &str,
        task: Task,
    ) -> Result<(Table, Vec<f64>)> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut unlabeled = Vec::new();
        let table = guarded(path, || {
            read(path, file, target, task, Some(&mut unlabeled))
        })?;
        Ok((table, unlabeled))
    }
}

/// Runs `read`, turning a panic of the parquet crate into a data error: it still panics on some
/// corrupted files (apache/arrow-rs#7102 and kin; the fuzz test in tests/formats.rs finds them),
/// and a bad input file must not end the program.
fn guarded<T>(path: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(result) => result,
        Err(panic) => {
            let why = match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
                (Some(s), _) => s.to_string(),
                (None, Some(s)) => s.clone(),
                (None, None) => "no message".to_string(),
            };
            Err(Error::data_row(
                path,
                None,
                None,
                format!("corrupted Parquet file (the reader failed: {why})"),
            ))
        }
    }
}

fn read<R: ChunkReader + 'static>(
    path: &Path,
    source: R,
    target: &str,
    task: Task,
    mut unlabeled: Option<&mut Vec<f64>>,
) -> Result<Table> {
    let fail = |row: Option<usize>, column: Option<&str>, reason: String| {
        Error::data_row(path, row, column, reason)
    };
    let reader = SerializedFileReader::new(source)
        .map_err(|e| fail(None, None, format!("not a readable Parquet file: {e}")))?;
    let meta = reader.metadata().file_metadata();
    let index = pandas_index(meta.key_value_metadata())
        .map_err(|reason| fail(None, None, format!("pandas metadata: {reason}")))?;
    let schema = meta.schema_descr_ptr();
    // The file's columns that are data: not those pandas wrote for the DataFrame's index.
    let (file_columns, columns): (Vec<usize>, Vec<_>) = schema
        .columns()
        .iter()
        .cloned()
        .enumerate()
        .filter(|(_, c)| !index.contains(&c.path().string()))
        .unzip();
    let names: Vec<String> = columns.iter().map(|c| c.path().string()).collect();
    let t = target_index(path, &names, target, None)?;
    for (c, name) in columns.iter().zip(&names) {
        numeric(c).map_err(|reason| fail(None, Some(name), reason))?;
    }
    let d = names.len() - 1;
    // FLOAT features only: the table keeps them as `f32` (every value read is one).
    let single = columns
        .iter()
        .enumerate()
        .all(|(j, c)| j == t || c.physical_type() == PhysicalType::FLOAT);
    let mut x = if single {
        Values::F32(Vec::new())
    } else {
        Values::F64(Vec::new())
    };
    // Room for every row the metadata claims, so that the table is not copied as it grows. The
    // claim is not trusted: if the room cannot be had, the table grows as rows are read.
    let claimed_rows = usize::try_from(reader.metadata().file_metadata().num_rows());
    if let Some(n) = claimed_rows.ok().and_then(|n| n.checked_mul(d)) {
        x.try_reserve_exact(n);
    }
    let mut y = Vec::new();
    let mut rows = Vec::new(); // the file row of every labeled row, for errors
    let mut first = 0; // file row of the row group's first row
    for g in 0..reader.num_row_groups() {
        let group = reader
            .get_row_group(g)
            .map_err(|e| fail(None, None, format!("row group {g}: {e}")))?;
        let claimed = usize::try_from(group.metadata().num_rows())
            .map_err(|_| fail(None, None, format!("row group {g}: negative row count")))?;
        let column = |j: usize| -> Result<Vec<Option<f64>>> {
            let reader = group
                .get_column_reader(file_columns[j])
                .map_err(|e| fail(Some(first), Some(&names[j]), e.to_string()))?;
            let values = values(reader, &columns[j], claimed)
                .map_err(|e| fail(Some(first), Some(&names[j]), e.to_string()))?;
            if values.len() != claimed {
                return Err(fail(
                    Some(first),
                    Some(&names[j]),
                    format!(
                        "row group {g} has {claimed} rows but the column {} values",
                        values.len()
                    ),
                ));
            }
            Ok(values)
        };
        // The target first: it decides which rows are labeled and where each row goes.
        let labels = column(t)?;
        let mut slot = Vec::with_capacity(labels.len()); // Ok(row of x) or Err(row of unlabeled)
        let (x0, u0) = (y.len(), unlabeled.as_deref().map_or(0, Vec::len) / d);
        let mut n_unlabeled = 0;
        for (r, v) in labels.iter().enumerate() {
            let row = first + r;
            match (v, unlabeled.is_some()) {
                (Some(v), _) => {
                    let v = finite(*v).map_err(|reason| fail(Some(row), Some(target), reason))?;
                    slot.push(Ok(y.len() - x0));
                    y.push(v);
                    rows.push(row);
                }
                (None, true) => {
                    slot.push(Err(n_unlabeled));
                    n_unlabeled += 1;
                }
                (None, false) => {
                    return Err(fail(Some(row), Some(target), "missing value (null)".into()));
                }
            }
        }
        drop(labels);
        x.resize(y.len() * d);
        if let Some(u) = unlabeled.as_deref_mut() {
            u.resize(u.len() + n_unlabeled * d, 0.0);
        }
        for (j, k) in (0..names.len()).filter(|&j| j != t).zip(0..) {
            for (r, v) in column(j)?.into_iter().enumerate() {
                let v = v
                    .ok_or_else(|| "missing value (null)".to_string())
                    .and_then(finite)
                    .map_err(|reason| fail(Some(first + r), Some(&names[j]), reason))?;
                match slot[r] {
                    Ok(i) => x.set((x0 + i) * d + k, v),
                    Err(i) => {
                        if let Some(u) = unlabeled.as_deref_mut() {
                            u[(u0 + i) * d + k] = v;
                        }
                    }
                }
            }
        }
        first += claimed;
    }
    Table::assemble(Origin::File(path), &names, t, x, y, task, |i| {
        Place::Row(rows[i])
    })
}

/// The columns pandas lists as the DataFrame's index in its `pandas` metadata (a `RangeIndex`
/// is stored as metadata only and lists none).
fn pandas_index(
    kv: Option<&Vec<parquet::file::metadata::KeyValue>>,
) -> std::result::Result<Vec<String>, String> {
    let Some(text) = kv
        .into_iter()
        .flatten()
        .find(|kv| kv.key == "pandas")
        .and_then(|kv| kv.value.as_deref())
    else {
        return Ok(Vec::new());
    };
    let meta: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match meta.get("index_columns") {
        None => Ok(Vec::new()),
        Some(serde_json::Value::Array(entries)) => Ok(entries
            .iter()
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect()),
        Some(_) => Err("`index_columns` is not a list".into()),
    }
}

/// Why column `c` cannot be read as numbers, if it cannot.
fn numeric(c: &ColumnDescriptor) -> std::result::Result<(), String> {
    if c.path().parts().len() != 1 || c.max_rep_level() > 0 {
        return Err("nested or repeated columns are not supported".into());
    }
    let physical = c.physical_type();
    let plain_logical = matches!(c.logical_type_ref(), None | Some(LogicalType::Integer(_)));
    let plain_converted = matches!(
        c.converted_type(),
        ConvertedType::NONE
            | ConvertedType::INT_8
            | ConvertedType::INT_16
            | ConvertedType::INT_32
            | ConvertedType::INT_64
            | ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64
    );
    let physical_ok = matches!(
        physical,
        PhysicalType::BOOLEAN
            | PhysicalType::INT32
            | PhysicalType::INT64
            | PhysicalType::FLOAT
            | PhysicalType::DOUBLE
    );
    if physical_ok && plain_logical && plain_converted {
        Ok(())
    } else {
        let logical = c
            .logical_type_ref()
            .map_or(String::new(), |l| format!(" ({l:?})"));
        Err(format!(
            "column type {physical}{logical} is not numeric; expected booleans, integers or floats"
        ))
    }
}

/// Whether an integer column holds unsigned values in its signed physical type.
fn unsigned(c: &ColumnDescriptor) -> bool {
    matches!(
        c.converted_type(),
        ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64
    )
}

/// Every value of one column chunk (`None` where null), at most `n`.
fn values(
    reader: ColumnReader,
    c: &ColumnDescriptor,
    n: usize,
) -> parquet::errors::Result<Vec<Option<f64>>> {
    match reader {
        ColumnReader::BoolColumnReader(r) => decode(r, c, n, |v| f64::from(u8::from(*v))),
        ColumnReader::Int32ColumnReader(r) => {
            if unsigned(c) {
                decode(r, c, n, |v| f64::from(*v as u32))
            } else {
                decode(r, c, n, |v| f64::from(*v))
            }
        }
        ColumnReader::Int64ColumnReader(r) => {
            if unsigned(c) {
                decode(r, c, n, |v| *v as u64 as f64)
            } else {
                decode(r, c, n, |v| *v as f64)
            }
        }
        ColumnReader::FloatColumnReader(r) => decode(r, c, n, |v| f64::from(*v)),
        ColumnReader::DoubleColumnReader(r) => decode(r, c, n, |v| *v),
        _ => Err(parquet::errors::ParquetError::General(
            "column type is not numeric".into(),
        )),
    }
}

fn decode<T: DataType>(
    mut reader: ColumnReaderImpl<T>,
    c: &ColumnDescriptor,
    n: usize,
    to_f64: impl Fn(&T::T) -> f64,
) -> parquet::errors::Result<Vec<Option<f64>>> {
    let max_def = c.max_def_level();
    let mut out = Vec::new();
    let mut defs = Vec::new();
    let mut vals = Vec::new();
    while out.len() < n {
        defs.clear();
        vals.clear();
        let (records, _, levels) =
            reader.read_records((n - out.len()).min(BATCH), Some(&mut defs), None, &mut vals)?;
        if records == 0 {
            break;
        }
        if max_def == 0 {
            out.extend(vals.iter().map(|v| Some(to_f64(v))));
        } else {
            let mut next = vals.iter();
            for def in &defs[..levels.min(defs.len())] {
                if *def == max_def {
                    let v = next.next().ok_or_else(|| {
                        parquet::errors::ParquetError::General("fewer values than levels".into())
                    })?;
                    out.push(Some(to_f64(v)));
                } else {
                    out.push(None);
                }
            }
        }
    }
    Ok(out)
}

/// The names of the data columns of the Parquet file `path` (pandas' index columns left out).
pub(crate) fn parquet_header(path: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    guarded(path, || {
        let (_, names) = data_columns(
            path,
            &SerializedFileReader::new(file).map_err(|e| {
                Error::data_row(
                    path,
                    None,
                    None,
                    format!("not a readable Parquet file: {e}"),
                )
            })?,
        )?;
        Ok(names)
    })
}

/// The data columns of an open Parquet file: their indices in the file's schema and names.
fn data_columns<R: ChunkReader + 'static>(
    path: &Path,
    reader: &SerializedFileReader<R>,
) -> Result<(Vec<usize>, Vec<String>)> {
    let meta = reader.metadata().file_metadata();
    let index = pandas_index(meta.key_value_metadata()).map_err(|reason| {
        Error::data_row(path, None, None, format!("pandas metadata: {reason}"))
    })?;
    Ok(meta
        .schema_descr()
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, c)| !index.contains(&c.path().string()))
        .map(|(i, c)| (i, c.path().string()))
        .unzip())
}

/// The columns `names` of the Parquet file `path`, row-major, and the number of rows; other
/// columns are ignored, a missing one is an error naming it, and every value read must be
/// present and finite.
pub(crate) fn parquet_columns(path: &Path, names: &[String]) -> Result<(Vec<f64>, usize)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    guarded(path, || {
        let fail = |row: Option<usize>, column: Option<&str>, reason: String| {
            Error::data_row(path, row, column, reason)
        };
        let reader = SerializedFileReader::new(file)
            .map_err(|e| fail(None, None, format!("not a readable Parquet file: {e}")))?;
        let (file_columns, all) = data_columns(path, &reader)?;
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let wanted: Vec<usize> = names
            .iter()
            .map(|n| {
                let j = all
                    .iter()
                    .position(|a| a == n)
                    .ok_or_else(|| fail(None, Some(n), "column missing".into()))?;
                let c = schema.column(file_columns[j]);
                numeric(&c).map_err(|reason| fail(None, Some(n), reason))?;
                Ok(file_columns[j])
            })
            .collect::<Result<_>>()?;
        let d = names.len();
        let (mut x, mut first) = (Vec::new(), 0);
        for g in 0..reader.num_row_groups() {
            let group = reader
                .get_row_group(g)
                .map_err(|e| fail(None, None, format!("row group {g}: {e}")))?;
            let rows = usize::try_from(group.metadata().num_rows())
                .map_err(|_| fail(None, None, format!("row group {g}: negative row count")))?;
            x.resize((first + rows) * d, 0.0);
            for (k, (&c, name)) in wanted.iter().zip(names).enumerate() {
                let column = group
                    .get_column_reader(c)
                    .map_err(|e| fail(Some(first), Some(name), e.to_string()))?;
                let values = values(column, &schema.column(c), rows)
                    .map_err(|e| fail(Some(first), Some(name), e.to_string()))?;
                if values.len() != rows {
                    return Err(fail(
                        Some(first),
                        Some(name),
                        format!(
                            "row group {g} has {rows} rows but the column {}",
                            values.len()
                        ),
                    ));
                }
                for (r, v) in values.into_iter().enumerate() {
                    x[(first + r) * d + k] = v
                        .ok_or_else(|| "missing value (null)".to_string())
                        .and_then(finite)
                        .map_err(|reason| fail(Some(first + r), Some(name), reason))?;
                }
            }
            first += rows;
        }
        Ok((x, first))
    })
}

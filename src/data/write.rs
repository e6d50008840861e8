//! Writing a table of named numeric columns (predictions, kept columns) as CSV or Parquet, by
//! the output file's extension.

use super::Format;
use crate::{Error, Result};
use ndarray::ArrayView2;
use parquet::basic::Compression;
use parquet::data_type::DoubleType;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Writes `values` (`rows x names.len()`) to `path` with the header `names`: CSV for `.csv`,
/// Parquet (double columns, snappy) for `.parquet` / `.pq`; any other extension is an error.
pub fn write_columns(path: &Path, names: &[String], values: ArrayView2<f64>) -> Result<()> {
    if values.ncols() != names.len() {
        return Err(Error::shape(
            format!("writing {}", path.display()),
            format!("{} names for {} columns", names.len(), values.ncols()),
        ));
    }
    match Format::of(path)? {
        Format::Csv => write_csv(path, names, values),
        Format::Parquet => write_parquet(path, names, values),
        Format::Npy | Format::Npz => Err(Error::data(
            path,
            None,
            None,
            "output is written as .csv or .parquet (.pq)",
        )),
    }
}

fn write_csv(path: &Path, names: &[String], values: ArrayView2<f64>) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let io = |e: csv::Error| Error::io(path, std::io::Error::other(e));
    out.write_record(names).map_err(io)?;
    for row in values.rows() {
        // `{}` writes the shortest text that reads back as the same f64 (labels as `1`).
        out.write_record(row.iter().map(|v| v.to_string()))
            .map_err(io)?;
    }
    out.into_inner()
        .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?
        .flush()
        .map_err(|e| Error::io(path, e))
}

fn write_parquet(path: &Path, names: &[String], values: ArrayView2<f64>) -> Result<()> {
    let fail = |e: parquet::errors::ParquetError| {
        Error::data_row(path, None, None, format!("writing Parquet: {e}"))
    };
    let fields = names
        .iter()
        .map(|n| {
            Type::primitive_type_builder(n, parquet::basic::Type::DOUBLE)
                .with_repetition(parquet::basic::Repetition::REQUIRED)
                .build()
                .map(Arc::new)
        })
        .collect::<parquet::errors::Result<Vec<_>>>()
        .map_err(fail)?;
    let schema = Type::group_type_builder("schema")
        .with_fields(fields)
        .build()
        .map_err(fail)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut writer =
        SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).map_err(fail)?;
    let mut group = writer.next_row_group().map_err(fail)?;
    for column in values.columns() {
        let Some(mut writer) = group.next_column().map_err(fail)? else {
            break;
        };
        let column: Vec<f64> = column.to_vec();
        writer
            .typed::<DoubleType>()
            .write_batch(&column, None, None)
            .map_err(fail)?;
        writer.close().map_err(fail)?;
    }
    group.close().map_err(fail)?;
    writer.close().map_err(fail)?;
    Ok(())
}

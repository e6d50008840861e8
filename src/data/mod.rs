//! Tabular data: CSV, Parquet and NumPy loading with errors that name file, row and column;
//! stratified splits and split files; standardisation fitted on training rows only; tables from
//! arrays in memory; named columns read for a fitted model and written back as CSV or Parquet.

mod csv;
mod format;
mod npy;
mod parquet;
mod split;
mod standardize;
mod synthetic;
mod table;
mod values;
mod write;

pub use format::*;
pub use split::*;
pub use standardize::*;
pub use synthetic::*;
pub use table::*;
pub use values::*;
pub use write::*;

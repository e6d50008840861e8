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

pub use format::{Format, Source};
pub use split::Split;
pub use standardize::Standardizer;
pub use synthetic::{Synthetic, duplicate_groups, interaction, nonlinear_regression};
pub use table::{MIN_ROWS, Table, Task};
pub use values::Values;
pub use write::write_columns;

//! Tabular data: CSV, Parquet and NumPy loading with errors that name file, row and column;
//! stratified splits and split files; standardisation fitted on training rows only.

mod csv;
mod format;
mod npy;
mod parquet;
mod split;
mod standardize;
mod synthetic;
mod table;
mod values;

pub use format::*;
pub use split::*;
pub use standardize::*;
pub use synthetic::*;
pub use table::*;
pub use values::*;

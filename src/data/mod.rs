//! Tabular data: CSV loading with errors that name file, line and column; stratified splits and
//! split files; standardisation fitted on training rows only.

mod split;
mod standardize;
mod synthetic;
mod table;

pub use split::*;
pub use standardize::*;
pub use synthetic::*;
pub use table::*;

//! Writing results: JSON documents, CSV tables and SVG figures. Computing is separate from writing.

mod csv;
mod json;
mod plots;
mod sweep_outputs;

pub use csv::*;
pub use json::*;
pub use plots::*;
pub use sweep_outputs::*;

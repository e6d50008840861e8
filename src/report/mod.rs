//! Writing results: JSON documents, CSV tables and SVG figures. Computing is separate from writing.

mod json;

pub use json::*;

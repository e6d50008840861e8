//! Output files as types, and writing them: JSON documents, `runs.csv`, SVG figures. Computing is
//! separate from writing; this layer knows nothing of how results are computed. The records are
//! plain data that the layers above (selector, script, sweep, the command line) fill in; it uses
//! only the layers below it (data, gates, train) and the error type.

mod config;
mod json;
#[cfg(feature = "plots")]
mod plots;
mod runs;
mod script;
mod summary;
mod timing;

pub use config::*;
pub use json::*;
#[cfg(feature = "plots")]
pub use plots::*;
pub use runs::*;
pub use script::*;
pub use summary::*;
pub use timing::*;

//! The high-level API: `Selector::params()...fit(&table, &split)? -> FittedSelector`, which picks
//! lambda for the user (a warm-started path scored on validation, or a feature budget) and gives
//! the selected features, their importance, predictions, and save / load.

mod choose;
mod fitted;
mod params;
mod report;
mod screen;

pub use choose::*;
pub use fitted::*;
pub use params::*;
pub use report::*;
pub use screen::*;

//! The high-level API: `Selector::params()...fit_table(&table, device)? -> FittedSelector` (or
//! `fit(&table, &split, device)` with a split of one's own), which picks lambda for the user (a
//! warm-started path scored on validation rows or by cross-validation, or a feature budget) and
//! gives the selected features, their importance, predictions, probabilities, the kept columns,
//! and save / load.

mod choose;
mod decision;
mod fitted;
mod params;
mod progress;
mod race;
mod report;
mod screen;

pub use choose::*;
pub use decision::*;
pub use fitted::*;
pub use params::*;
pub use progress::*;
pub use race::*;
pub use report::*;
pub use screen::*;

//! The high-level API: `Selector::params()...fit_table(&table, device)? -> FittedSelector` (or
//! `fit(&table, &split, device)` with a split of one's own), which picks lambda for the user (a
//! warm-started path scored on validation rows or by cross-validation, or a feature budget) and
//! gives the selected features, their importance, predictions, probabilities, the kept columns,
//! and save / load.
//!
//! A fit runs as steps: `fit` (screen, race of architectures), `architecture` (one
//! architecture's path), `folds` (cross-validation), `chosen` (the point chosen),
//! `final_fit` (the final model), ending in a [`FittedSelector`] built once.

mod architecture;
mod choose;
mod chosen;
mod decision;
mod final_fit;
mod fit;
mod fitted;
mod folds;
mod info;
mod initialise;
mod params;
mod progress;
mod race;
mod report;
mod screen;

pub use choose::*;
pub use chosen::*;
pub use decision::*;
pub use fit::*;
pub use fitted::*;
pub use info::*;
pub use initialise::*;
pub use params::*;
pub use progress::*;
pub use race::*;
pub use report::*;
pub use screen::*;

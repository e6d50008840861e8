//! What an automatic fit decided, beside the model it returns: how the architecture was chosen,
//! the point of the path chosen against the point the final model stands at, how stable each
//! feature was over the cross-validation folds, and whether the screen left the gates anything
//! to choose.

use super::{FoldMatch, Race};
use crate::train::PathPoint;
use serde::{Deserialize, Serialize};

/// The decisions of an automatic fit (automatic lambda), in `selector.json` and `result.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// How the architecture was decided; `None` when only one was fitted by request (a
    /// given `hidden`, a fixed lambda, pretraining).
    pub race: Option<Race>,
    /// The lambda of the chosen point of the path (on the training rows, or the main path of a
    /// cross-validated choice).
    pub chosen_lambda: f64,
    /// Features the chosen point kept. The final model keeps about as many: a model refitted on
    /// training + validation rows is driven to this count (see
    /// [`crate::selector::faithful_point`]).
    pub chosen_n_selected: usize,
    /// Per feature, the fraction of the cross-validation folds whose model at the chosen point
    /// keeps it (`None` without folds). A feature at 1.0 was kept whichever fifth of the rows
    /// was held out; one at 0.2 by one fold only: a choice the rows do not pin down.
    #[serde(default)]
    pub stability: Option<Vec<f64>>,
    /// With a screen before the gates: whether the final model keeps every screened feature
    /// (then the screen, not the gates, decided the selection; screening to more features or
    /// none shows whether more would be kept).
    #[serde(default)]
    pub screen_saturated: Option<bool>,
}

/// Per feature of `features`, the fraction of `selections` (one per fold: the features its
/// model keeps) that contain it.
pub fn stability(selections: &[&[i64]], features: usize) -> Vec<f64> {
    let mut counts = vec![0usize; features];
    for selected in selections {
        for j in selected.iter() {
            counts[*j as usize] += 1;
        }
    }
    let folds = selections.len().max(1) as f64;
    counts.into_iter().map(|c| c as f64 / folds).collect()
}

/// [`stability`] at the main path's point `i` (which keeps `kept` features) over the fold paths
/// `folds`, each fold's point matched `by` lambda or count as its score was.
pub fn fold_stability(
    folds: &[Vec<PathPoint>],
    by: FoldMatch,
    i: usize,
    kept: usize,
    features: usize,
) -> Vec<f64> {
    let selections: Vec<&[i64]> = folds
        .iter()
        .filter_map(|fold| by.point(fold, i, kept))
        .map(|q| q.members[0].selected.as_slice())
        .collect();
    stability(&selections, features)
}

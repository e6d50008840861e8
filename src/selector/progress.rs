//! What a selector fit is doing, as events for a progress display ([`SelectorParams::fit_observed`]).
//!
//! [`SelectorParams::fit_observed`]: super::SelectorParams::fit_observed

use super::{Race, SelectorParams};
use crate::Result;
use crate::train::PathPoint;

/// A stage of a selector fit: one training run of one architecture.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// One fit at the fixed lambda.
    Fixed,
    /// The lambda path on the training rows, scored on the validation rows or by the folds.
    Path,
    /// Fold `fold` (1-based) of `folds` of the cross-validation, at the path's lambdas.
    Fold { fold: usize, folds: usize },
    /// Every fold of the cross-validation at once (one ensemble of a member per fold).
    Folds { folds: usize },
    /// The final model on training and validation rows together, up to the chosen lambda.
    Final,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stage::Fixed => write!(f, "training at the fixed lambda"),
            Stage::Path => write!(f, "lambda path"),
            Stage::Fold { fold, folds } => write!(f, "fold {fold} of {folds}"),
            Stage::Folds { folds } => write!(f, "{folds} folds together"),
            Stage::Final => write!(f, "final fit on train + val rows"),
        }
    }
}

/// One event of a selector fit.
#[derive(Debug, Clone, PartialEq)]
pub enum FitEvent {
    /// A stage starts for the network of `hidden` layers (empty: the linear model).
    Started { hidden: Vec<i64>, stage: Stage },
    /// A point of the current stage's path is done: its lambda and the features it keeps.
    Point { lambda: f64, n_selected: usize },
    /// The current stage ended after `points` path points (1 for a fixed lambda), keeping
    /// `n_selected` features at its last.
    Finished {
        hidden: Vec<i64>,
        stage: Stage,
        points: usize,
        n_selected: usize,
    },
    /// The architecture race ended: the network of `hidden` was kept (`race` says whether both
    /// ran or the rows were too few for the network).
    Kept { hidden: Vec<i64>, race: Race },
}

/// The name of an architecture in progress lines: `64-32 network` or `linear model`.
pub fn architecture_name(hidden: &[i64]) -> String {
    if hidden.is_empty() {
        "linear model".to_string()
    } else {
        let sizes: Vec<String> = hidden.iter().map(|h| h.to_string()).collect();
        format!("{} network", sizes.join("-"))
    }
}

/// The per-point callback a stage's path runs with.
pub(super) type OnPoint<'a> = &'a mut dyn FnMut(&PathPoint);

impl SelectorParams {
    /// Runs one stage whose `run` takes a per-point callback, telling `on_event` that it starts,
    /// each point, and how it ended (the features kept at its last point).
    pub(super) fn observed_path<T>(
        &self,
        stage: Stage,
        on_event: &mut dyn FnMut(&FitEvent),
        run: &mut dyn FnMut(OnPoint) -> Result<T>,
    ) -> Result<T> {
        on_event(&FitEvent::Started {
            hidden: self.hidden.clone(),
            stage: stage.clone(),
        });
        let (mut points, mut n_selected) = (0, 0);
        let out = run(&mut |p: &PathPoint| {
            points += 1;
            n_selected = p.members[0].selected.len();
            on_event(&FitEvent::Point {
                lambda: p.lambda,
                n_selected,
            });
        })?;
        on_event(&FitEvent::Finished {
            hidden: self.hidden.clone(),
            stage,
            points,
            n_selected,
        });
        Ok(out)
    }
}

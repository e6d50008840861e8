//! What `stog select` adds to the shared choice of a path's point ([`crate::train::choose`]):
//! which rows score the points (the validation rows, or k-fold cross-validation over training and
//! validation rows together), what score (validation loss, Brier score or smoothed accuracy), and
//! which rule the user asks for (the best score, or the sparsest within one standard error).
//!
//! With a few dozen validation rows an accuracy moves in steps of several points and its standard
//! error is large, so the one-standard-error rule on accuracy nearly always takes the sparsest
//! point. Cross-validation scores every training and validation row once, and the loss separates
//! points that classify the same rows but with different confidence.

use crate::data::Task;
/// The final rerun's point that stands for the chosen one (with the shared rule in `crate::train`).
pub use crate::train::faithful_point;
use crate::train::{Candidate, PathMember, PathPoint, accuracy_score, loss_score};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which rows score the points of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validation {
    /// [`Validation::Folds`] of [`AUTO_FOLDS`] below [`AUTO_FOLDS_ROWS`] training and validation
    /// rows, [`Validation::Holdout`] above.
    Auto,
    /// The validation rows of the split.
    Holdout,
    /// k-fold cross-validation over the training and validation rows together; the final model is
    /// the point of the path fitted on the split's training rows.
    Folds(usize),
}

/// Folds of [`Validation::Auto`] on small data.
pub const AUTO_FOLDS: usize = 5;
/// Below this many training and validation rows, [`Validation::Auto`] cross-validates.
pub const AUTO_FOLDS_ROWS: usize = 300;

impl Validation {
    /// The number of folds for `rows` training and validation rows (`None`: the holdout).
    pub fn folds(self, rows: usize) -> Option<usize> {
        match self {
            Validation::Auto => (rows < AUTO_FOLDS_ROWS).then_some(AUTO_FOLDS),
            Validation::Holdout => None,
            Validation::Folds(k) => Some(k),
        }
    }
}

/// The score that chooses a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Criterion {
    /// Minus the mean validation loss (cross-entropy, or squared error of the standardised
    /// target); its standard error from the rows' losses.
    Loss,
    /// Minus the mean Brier score (the squared distance between the predicted class
    /// probabilities and the one-hot label): a proper score like the loss, but bounded, so one
    /// confidently wrong row of a small validation set does not decide (regression: minus the
    /// squared error).
    Brier,
    /// Accuracy with the smoothed binomial standard error (regression: minus the squared error).
    Accuracy,
}

impl Criterion {
    /// The per-row values whose mean is minus this score (`None`: accuracy).
    fn row_losses(self, m: &PathMember) -> Option<&[f64]> {
        match self {
            Criterion::Loss => Some(&m.val_losses),
            Criterion::Brier => Some(&m.val_brier),
            Criterion::Accuracy => None,
        }
    }
}

/// The rule applied to the scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// The best score (ties: fewer features).
    Best,
    /// The sparsest point within one standard error of the best.
    OneStandardError,
}

/// The candidates of the path scored on its own validation rows (member 0).
pub fn holdout_candidates(points: &[PathPoint], criterion: Criterion) -> Vec<Candidate> {
    points
        .iter()
        .map(|p| {
            let m = &p.members[0];
            let (score, score_se) = match criterion.row_losses(m) {
                None => (m.score, m.score_se),
                Some(rows) => loss_score(rows),
            };
            Candidate {
                kept: m.selected.len(),
                score,
                score_se,
            }
        })
        .collect()
}

/// Which point of a fold's path stands for a point of the main path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldMatch {
    /// The fold's point at the same lambda (past the fold's end, where every gate closed, its
    /// last point).
    Lambda,
    /// The fold's point whose number of selected features is nearest the main point's (ties:
    /// the nearest lambda). For a feature budget: a fold, on fewer rows, closes its gates at
    /// lower lambdas than the main path, so at the main path's sparse lambdas the folds are
    /// often empty and every sparse point would tie on an empty model's score.
    Count,
}

impl FoldMatch {
    /// The point of `fold` that stands for the main path's point `i`, which keeps `kept`
    /// features (`None`: the fold has no point).
    pub(crate) fn point(self, fold: &[PathPoint], i: usize, kept: usize) -> Option<&PathPoint> {
        match self {
            FoldMatch::Lambda => fold.get(i).or(fold.last()),
            FoldMatch::Count => fold
                .iter()
                .enumerate()
                .min_by_key(|(j, q)| (q.members[0].selected.len().abs_diff(kept), j.abs_diff(i)))
                .map(|(_, q)| q),
        }
    }
}

/// The candidates of the path `points` scored by cross-validation: `folds[f]` is the path of fold
/// `f` at the same lambdas (it may end early where every gate closed); `by` says which fold
/// point stands for each main point. Every row of every fold's validation part counts once.
pub fn cross_validated_candidates(
    points: &[PathPoint],
    folds: &[Vec<PathPoint>],
    by: FoldMatch,
    criterion: Criterion,
    task: Task,
) -> Result<Vec<Candidate>> {
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut losses = Vec::new();
            let mut correct = 0.0;
            let kept = p.members[0].selected.len();
            for (f, fold) in folds.iter().enumerate() {
                let q = by.point(fold, i, kept).ok_or_else(|| {
                    Error::config("folds", format!("fold {f} has no point of the path"))
                })?;
                let m = &q.members[0];
                correct += m.val.score() * m.val_losses.len() as f64;
                // Accuracy of a regression falls back to the squared error.
                losses.extend_from_slice(criterion.row_losses(m).unwrap_or(&m.val_losses));
            }
            let n = losses.len();
            let (score, score_se) = match (criterion, task) {
                (Criterion::Accuracy, Task::Classification) => {
                    accuracy_score(correct / n as f64, n)
                }
                _ => loss_score(&losses),
            };
            Ok(Candidate {
                kept,
                score,
                score_se,
            })
        })
        .collect()
}

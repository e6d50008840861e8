//! Choosing a point of a lambda path, the one rule of the crate that `stog select` and `stog
//! script` both call: the points become [`Candidate`]s (features kept, a validation score and its
//! standard error) and [`choose`] applies a [`Choice`] (the best score, the sparsest within one
//! standard error of it, or the best within a feature budget). What differs between users is
//! only how the candidates are scored: the path's own validation rows, select's
//! cross-validation (`crate::selector`), a TorchScript path's points (`crate::script`).

use crate::stats::{accuracy_se, mean_and_se};
use serde::{Deserialize, Serialize};

/// How a point of the path is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Choice {
    /// The sparsest point whose score is within one standard error of the best (the standard
    /// error of a difference of two validation scores).
    OneStandardError,
    /// The best score (ties: fewer units).
    Best,
    /// The best score among points with at most this many selected features (ties: fewer).
    MaxFeatures(usize),
}

/// A point to choose from: the units it keeps, its validation score and that score's standard
/// error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Units (features) the point keeps.
    pub kept: usize,
    /// Validation score (higher is better).
    pub score: f64,
    /// Standard error of the score.
    pub score_se: f64,
}

/// The score of per-row losses and its standard error: minus their mean, and the sample standard
/// error of the mean (NaN for no rows).
pub fn loss_score(losses: &[f64]) -> (f64, f64) {
    let (mean, se) = mean_and_se(losses);
    (-mean, se)
}

/// The score of an accuracy on `n` rows and its standard error: the accuracy, and its smoothed
/// binomial standard error ([`accuracy_se`]).
pub fn accuracy_score(accuracy: f64, n: usize) -> (f64, f64) {
    (accuracy, accuracy_se(accuracy, n))
}

/// Index of the candidate `choice` picks; ties go to fewer units, then to the better score.
pub fn choose(candidates: &[Candidate], choice: Choice) -> Option<usize> {
    let at = |i: usize| &candidates[i];
    let ids: Vec<usize> = match choice {
        Choice::OneStandardError => {
            let best =
                (0..candidates.len()).max_by(|a, b| at(*a).score.total_cmp(&at(*b).score))?;
            // The standard error of a difference of two scores: sqrt(2) times that of one.
            let floor = at(best).score - std::f64::consts::SQRT_2 * at(best).score_se;
            (0..candidates.len())
                .filter(|i| at(*i).score >= floor - 1e-12)
                .collect()
        }
        Choice::Best => {
            let best = candidates
                .iter()
                .map(|c| c.score)
                .fold(f64::NEG_INFINITY, f64::max);
            (0..candidates.len())
                .filter(|i| at(*i).score >= best)
                .collect()
        }
        Choice::MaxFeatures(k) => {
            let ok: Vec<usize> = (0..candidates.len()).filter(|i| at(*i).kept <= k).collect();
            let best = ok
                .iter()
                .map(|i| at(*i).score)
                .fold(f64::NEG_INFINITY, f64::max);
            ok.into_iter().filter(|i| at(*i).score >= best).collect()
        }
    };
    ids.into_iter().min_by(|a, b| {
        let (pa, pb) = (at(*a), at(*b));
        pa.kept.cmp(&pb.kept).then(pb.score.total_cmp(&pa.score))
    })
}

/// The point of a rerun of the path (refitted on more rows) that stands for the chosen point of
/// the main path, which kept `target` features: the one whose count is nearest `target` by ratio
/// (`(count + 1) / (target + 1)`, so that 0 counts), among the points within the `budget`; ties:
/// the sparser. With more rows the same lambda keeps a different count (on a microarray set a
/// lambda where the main path kept 1000 genes kept 46 on all rows), so the final model is matched
/// to the chosen point by its count, not by its lambda. `counts` are the rerun's selected features
/// per point; `None` when no point is within the budget.
pub fn faithful_point(counts: &[usize], budget: Option<usize>, target: usize) -> Option<usize> {
    let distance = |c: usize| ((c as f64 + 1.0) / (target as f64 + 1.0)).ln().abs();
    (0..counts.len())
        .filter(|j| budget.is_none_or(|k| counts[*j] <= k))
        .min_by(|a, b| {
            distance(counts[*a])
                .total_cmp(&distance(counts[*b]))
                .then(counts[*a].cmp(&counts[*b]))
        })
}

//! The point an automatic fit chooses on its path: every point scored by every criterion (on
//! the validation rows or by the folds), the point chosen by the criterion and rule set, and the
//! path as reported.

use super::{
    Criterion, Decision, FoldMatch, Race, Rule, SelectorParams, Trained,
    cross_validated_candidates, fold_stability, holdout_candidates,
};
use crate::data::Table;
use crate::train::{Candidate, Choice, PathPoint, choose, evaluate, restore_point};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// One point of the path as reported: lambda, number selected, validation score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathSummary {
    /// The lambda.
    pub lambda: f64,
    /// Features selected there.
    pub n_selected: usize,
    /// Validation accuracy (classification) or R2 (regression) on the split's validation rows.
    pub val: f64,
    /// The score the point was chosen by (see [`Criterion`]; cross-validated when folds are used).
    #[serde(default)]
    pub choice_score: f64,
    /// The standard error of `choice_score`.
    #[serde(default)]
    pub choice_se: f64,
    /// Score and standard error by [`Criterion::Loss`] (on the rows that choose).
    #[serde(default)]
    pub loss: [f64; 2],
    /// Score and standard error by [`Criterion::Brier`].
    #[serde(default)]
    pub brier: [f64; 2],
    /// Score and standard error by [`Criterion::Accuracy`].
    #[serde(default)]
    pub accuracy: [f64; 2],
    /// Test accuracy or R2 of the point (reported, never used to choose); `None` without test
    /// rows.
    #[serde(default)]
    pub test: Option<f64>,
    /// Epochs trained at the point.
    pub epochs: usize,
}

/// The outcome of the choice on a path (the candidates' scores are in the summary).
pub(super) struct Chosen {
    /// The chosen point's index in the path.
    pub index: usize,
    /// The path as reported.
    pub summary: Vec<PathSummary>,
}

/// The criteria every point is scored by, in the order of [`criterion_index`].
const CRITERIA: [Criterion; 3] = [Criterion::Loss, Criterion::Brier, Criterion::Accuracy];

/// The position of `c` in [`CRITERIA`].
fn criterion_index(c: Criterion) -> usize {
    match c {
        Criterion::Loss => 0,
        Criterion::Brier => 1,
        Criterion::Accuracy => 2,
    }
}

impl SelectorParams {
    /// Which fold point stands for a main point: by count within a feature budget, else by
    /// lambda.
    pub(super) fn fold_match(&self) -> FoldMatch {
        match self.max_features {
            Some(_) => FoldMatch::Count,
            None => FoldMatch::Lambda,
        }
    }

    /// Scores the path's `points` (on the validation rows, or by the fold paths `folds`),
    /// chooses one by the criterion and the rule (or the feature budget), and summarises the
    /// path (each point restored into `trained` to score its test rows; restore the chosen one
    /// after).
    pub(super) fn choose_point(
        &self,
        table: &Table,
        points: &[PathPoint],
        folds: Option<&[Vec<PathPoint>]>,
        trained: &Trained,
    ) -> Result<Chosen> {
        let scored: Vec<Vec<Candidate>> = match folds {
            None => CRITERIA
                .iter()
                .map(|c| holdout_candidates(points, *c))
                .collect(),
            Some(folds) => CRITERIA
                .iter()
                .map(|c| {
                    cross_validated_candidates(points, folds, self.fold_match(), *c, table.task)
                })
                .collect::<Result<_>>()?,
        };
        let candidates = scored[criterion_index(self.criterion)].clone();
        let choice = match (self.max_features, self.rule) {
            (Some(k), _) => Choice::MaxFeatures(k),
            (None, Rule::Best) => Choice::Best,
            (None, Rule::OneStandardError) => Choice::OneStandardError,
        };
        let index = choose(&candidates, choice).ok_or_else(|| match self.max_features {
            Some(k) => Error::fit(
                "choosing a point of the lambda path",
                format!("no point of the path has at most {k} features"),
            ),
            None => Error::fit(
                "choosing a point of the lambda path",
                "no point of the path has a finite validation score",
            ),
        })?;
        let summary = path_summary(points, &scored, &candidates, trained)?;
        Ok(Chosen { index, summary })
    }

    /// What the fit decided at the `chosen` point of `points`: the race (when there was one)
    /// and, with `folds`, the stability of each of the table's features over them.
    pub(super) fn decision(
        &self,
        table: &Table,
        points: &[PathPoint],
        folds: Option<&[Vec<PathPoint>]>,
        chosen: usize,
        race: Option<Race>,
    ) -> Decision {
        let chosen_n_selected = points[chosen].members[0].selected.len();
        Decision {
            race,
            chosen_lambda: points[chosen].lambda,
            chosen_n_selected,
            stability: folds.map(|folds| {
                let by = self.fold_match();
                fold_stability(folds, by, chosen, chosen_n_selected, table.n_features())
            }),
            screen_saturated: None,
        }
    }
}

/// The curve as reported: every criterion's score, and the test score of each point (reported
/// only; the choice never sees it).
fn path_summary(
    points: &[PathPoint],
    scored: &[Vec<Candidate>],
    candidates: &[Candidate],
    trained: &Trained,
) -> Result<Vec<PathSummary>> {
    let Trained { data, vs, model } = trained;
    let mut summary = Vec::with_capacity(points.len());
    for (j, p) in points.iter().enumerate() {
        restore_point(vs, p)?;
        let pair = |c: Criterion| {
            let s = &scored[criterion_index(c)][j];
            [s.score, s.score_se]
        };
        summary.push(PathSummary {
            lambda: p.lambda,
            n_selected: p.members[0].selected.len(),
            val: p.members[0].val.score(),
            test: match data.test.is_empty() {
                true => None,
                false => Some(evaluate(model, data, &data.test)?[0].score()),
            },
            choice_score: candidates[j].score,
            choice_se: candidates[j].score_se,
            loss: pair(Criterion::Loss),
            brier: pair(Criterion::Brier),
            accuracy: pair(Criterion::Accuracy),
            epochs: p.members[0].epochs,
        });
    }
    Ok(summary)
}

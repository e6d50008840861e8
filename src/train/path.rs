//! Warm-started lambda paths. [`warm_path`] fits a given grid of lambdas in increasing order, each
//! point from the state the previous one left (any [`GatedModel`]; `stog script` runs it).
//!
//! [`lambda_path_with`] is the MLP's adaptive path (like LassoNet's): an unpenalised fit first, then
//! lambda grows, each point starting from the previous solution and running until its selected
//! set has been stable for a while; the path ends when every gate is closed. Each point is scored
//! on validation and kept ([`PathPoint`], refitted as [`PathConfig::refit`] says), so that a point
//! can be chosen afterwards ([`super::choose`]).
//!
//! The path adapts to the problem ([`PathConfig`]). The sum penalty adds lambda per open gate, so
//! one lambda means very different things at D = 30 and D = 2300: the first penalised lambda is
//! `start_scale / D` (D: gated units). Where the count of kept units falls by more than `max_drop` (a third) between
//! neighbours, the step is undone and retried at the geometric middle, down to a factor of
//! `min_growth`; where the count barely moves, the step grows up to `max_growth`. So every count
//! from all units down to a handful is visited, and flat stretches cost few points.

use super::fit::GatedEpoch;
use super::path_point::point;
use super::{
    GatedModel, MemberTags, PathConfig, PathMember, PathPoint, Prepared, Selection, Snapshot,
    Stopping, TrainConfig, Trainer, anneal, check_failures, check_lambdas, fit, run_epochs,
};
use crate::model::GatedMlp;
use crate::{Error, Result};
use tch::nn;

/// The lambdas a path visits.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Chosen as the path goes ([`PathConfig`]).
    Adaptive,
    /// Exactly these penalised lambdas, in order (another path's, for cross-validation).
    Fixed(Vec<f64>),
    /// These penalised lambdas, in order, ending at the first point where every member keeps at
    /// most this many units (the final fit of a choice made in feature counts).
    FixedUntil(Vec<f64>, i64),
}

/// Fits `lambdas` in increasing order, each point starting from the state the previous point
/// left (a cold start with a large lambda closes every gate at once; from the previous solution
/// it closes only what it must). `fit_point(model, lambda, first)` trains one point (`first`: the
/// grid's first, where a model may warm up); `visit(model, lambda, fitted)` then scores and
/// records it. The records come back in lambda order.
pub fn warm_path<M, F, T, E>(
    model: &mut M,
    lambdas: &[f64],
    mut fit_point: impl FnMut(&mut M, f64, bool) -> std::result::Result<F, E>,
    mut visit: impl FnMut(&mut M, f64, F) -> std::result::Result<T, E>,
) -> std::result::Result<Vec<T>, E>
where
    M: GatedModel + ?Sized,
    E: From<Error>,
{
    check_lambdas(lambdas)?;
    let mut lambdas = lambdas.to_vec();
    lambdas.sort_by(f64::total_cmp);
    let mut points = Vec::with_capacity(lambdas.len());
    for (i, lambda) in lambdas.into_iter().enumerate() {
        let fitted = fit_point(model, lambda, i == 0)?;
        points.push(visit(model, lambda, fitted)?);
    }
    Ok(points)
}

/// Runs the path (adaptive, or the lambdas `schedule` gives) for every member of `model` (all members share the lambdas). Not a
/// [`warm_path`]: its lambdas are chosen as it goes (a step that drops too many units is undone
/// and retried smaller), one optimiser carries its state from point to point, and a point ends
/// when the selection is stable rather than after a fixed number of epochs.
pub fn lambda_path_with(
    model: &mut GatedMlp,
    vs: &nn::VarStore,
    data: &Prepared,
    train: &TrainConfig,
    path: &PathConfig,
    tags: &MemberTags,
    schedule: &Schedule,
) -> Result<Vec<PathPoint>> {
    lambda_path_observed(model, vs, data, train, path, tags, schedule, &mut |_| {})
}

/// [`lambda_path_with`], calling `on_point` with each point as it is accepted (the
/// unpenalised start first): for a progress display.
#[allow(clippy::too_many_arguments)]
pub fn lambda_path_observed(
    model: &mut GatedMlp,
    vs: &nn::VarStore,
    data: &Prepared,
    train: &TrainConfig,
    path: &PathConfig,
    tags: &MemberTags,
    schedule: &Schedule,
    on_point: &mut dyn FnMut(&PathPoint),
) -> Result<Vec<PathPoint>> {
    path.validate()?;
    let e = model.members() as usize;
    let start = unpenalised_point(model, vs, data, train, path, tags)?;
    on_point(&start);
    let mut points = vec![start];
    let mut trainer = Trainer::new(model, vs, train, data.train.len())?;
    // Gates with a temperature run the path at their final (coldest) value.
    anneal(model, 0, 1);
    let units: i64 = model
        .usage()?
        .first()
        .map_or(1, |u| u.units_total.iter().sum());
    let mut steps = Stepper::new(schedule, path, units);
    let Some(mut lambda) = steps.first() else {
        return Ok(points);
    };
    // The state of the last accepted point, as trained (before its refit): a refined step
    // restarts from it.
    let mut resume = Snapshot::whole(vs);
    let mut attempts = 0;
    while attempts < path.max_points {
        attempts += 1;
        // The last accepted point (the unpenalised one at first).
        let Some(previous) = points.last() else {
            break;
        };
        if steps.ends_after(previous) {
            break;
        }
        let last = previous.lambda;
        let before: Vec<i64> = previous.members.iter().map(PathMember::kept).collect();
        let epochs = run_point(model, data, &mut trainer, lambda, path, tags)?;
        let after = kept_units(model)?;
        if let Some(smaller) = steps.refined(lambda, last, &before, &after) {
            resume.load(vs)?;
            lambda = smaller;
            continue;
        }
        resume = Snapshot::whole(vs);
        let epochs = vec![(epochs, epochs); e];
        points.push(point(model, vs, data, lambda, &epochs, path, train, tags)?);
        if let Some(p) = points.last() {
            on_point(p);
        }
        match steps.next(lambda, points.len(), &before, &after) {
            Some(next) => lambda = next,
            None => break,
        }
    }
    Ok(points)
}

/// The path's start: every member fitted unpenalised (early stopping as `train` says, no
/// warm-up) and scored at lambda 0.
fn unpenalised_point(
    model: &mut GatedMlp,
    vs: &nn::VarStore,
    data: &Prepared,
    train: &TrainConfig,
    path: &PathConfig,
    tags: &MemberTags,
) -> Result<PathPoint> {
    let e = model.members() as usize;
    let unpenalised = TrainConfig {
        warmup_epochs: 0,
        ..train.clone()
    };
    let outcomes = fit(model, vs, data, &vec![0.0; e], &unpenalised, tags, None)?;
    check_failures(&outcomes)?;
    let epochs: Vec<(usize, usize)> = outcomes.iter().map(|o| (o.epochs, o.best_epoch)).collect();
    point(model, vs, data, 0.0, &epochs, path, train, tags)
}

/// Units each member of `model` keeps over every gate layer.
fn kept_units(model: &GatedMlp) -> Result<Vec<i64>> {
    Ok(model
        .usage()?
        .iter()
        .map(|u| u.units_kept.iter().sum())
        .collect())
}

/// The lambdas of a path as it goes: a [`Schedule`]'s given ones, or the adaptive steps of a
/// [`PathConfig`] (a step that drops too many units is undone and retried smaller; where the
/// counts barely move the steps grow).
struct Stepper<'a> {
    path: &'a PathConfig,
    /// The given penalised lambdas, in order; `None`: adaptive.
    fixed: Option<&'a [f64]>,
    /// The path ends once every member keeps at most this many units.
    until: Option<i64>,
    /// The first penalised lambda of an adaptive path.
    first: f64,
    /// The factor from the last accepted lambda to the next (adaptive).
    step: f64,
}

impl<'a> Stepper<'a> {
    /// The steps of `schedule` for a model with `units` gated units.
    fn new(schedule: &'a Schedule, path: &'a PathConfig, units: i64) -> Self {
        let (fixed, until) = match schedule {
            Schedule::Adaptive => (None, None),
            Schedule::Fixed(l) => (Some(l.as_slice()), None),
            Schedule::FixedUntil(l, units) => (Some(l.as_slice()), Some(*units)),
        };
        Stepper {
            path,
            fixed,
            until,
            first: path.first_lambda(units),
            step: path.growth,
        }
    }

    /// The first penalised lambda; `None` for an empty grid.
    fn first(&self) -> Option<f64> {
        match self.fixed {
            Some(l) => l.first().copied(),
            None => Some(self.first),
        }
    }

    /// Whether the path ends at the accepted point `previous`: every member closed every gate,
    /// or keeps at most the count of [`Schedule::FixedUntil`].
    fn ends_after(&self, previous: &PathPoint) -> bool {
        previous.members.iter().all(|m| m.kept() == 0)
            || self
                .until
                .is_some_and(|u| previous.members.iter().all(|m| m.kept() <= u))
    }

    /// The smaller lambda to retry, when the step from the accepted `last` to `lambda` took a
    /// member's kept units from `before` to `after`, more than [`PathConfig::max_drop`] of them,
    /// and the step may still shrink (adaptive paths only); `None`: `lambda` is accepted.
    fn refined(&mut self, lambda: f64, last: f64, before: &[i64], after: &[i64]) -> Option<f64> {
        let path = self.path;
        let too_far = before
            .iter()
            .zip(after)
            .any(|(b, a)| b - a > 1 && (*a as f64) < (1.0 - path.max_drop) * *b as f64);
        let refinable = if last > 0.0 {
            lambda / last > path.min_growth
        } else {
            // The first penalised point: lower the start (a few times at most).
            lambda > self.first / 1e3
        };
        if !(self.fixed.is_none() && too_far && refinable) {
            return None;
        }
        let lambda = if last > 0.0 {
            (lambda * last).sqrt()
        } else {
            lambda / path.max_growth
        };
        self.step = (lambda / last.max(f64::MIN_POSITIVE)).min(path.growth);
        Some(lambda)
    }

    /// The lambda after the accepted `lambda`, the path's `accepted`-th point (the unpenalised
    /// start counts), which took the members' kept units from `before` to `after`; `None` past
    /// the end of the grid.
    fn next(&mut self, lambda: f64, accepted: usize, before: &[i64], after: &[i64]) -> Option<f64> {
        if let Some(l) = self.fixed {
            return l.get(accepted - 1).copied();
        }
        let path = self.path;
        // Count barely moved: larger steps; after a refined step: back towards `growth`.
        let small = before
            .iter()
            .zip(after)
            .all(|(b, a)| (b - a) as f64 <= 0.25 * path.max_drop * *b as f64);
        self.step = if small {
            (self.step * self.step).min(path.max_growth)
        } else if self.step < path.growth {
            (self.step * path.growth).sqrt()
        } else {
            path.growth
        };
        Some(lambda * self.step)
    }
}
/// Trains at `lambda` until every member's selection has been stable for `stable_epochs` (at
/// least `min_epochs`, at most `max_epochs`; [`Stopping::Stable`]); returns the epochs trained.
fn run_point(
    model: &mut GatedMlp,
    data: &Prepared,
    trainer: &mut Trainer,
    lambda: f64,
    path: &PathConfig,
    tags: &MemberTags,
) -> Result<usize> {
    let e = model.members() as usize;
    trainer.set_lambdas(&vec![lambda; e])?;
    let mut step = GatedEpoch {
        model,
        trainer,
        data,
        warmup: 0,
        // The path runs at the final temperature (`lambda_path_with` set it).
        anneal: None,
        objective: false,
        best: None,
        selection: Some(selection),
    };
    let stopping = Stopping::Stable {
        min: path.min_epochs,
        stable: path.stable_epochs,
    };
    let runs = run_epochs(&mut step, e, path.max_epochs, &stopping, None)?;
    if let Some((m, (epoch, value))) = runs
        .iter()
        .enumerate()
        .find_map(|(m, r)| r.non_finite.map(|f| (m, f)))
    {
        return Err(Error::NonFinite {
            gate: tags.gate.clone(),
            lambda,
            seed: tags.seeds[m],
            epoch,
            value,
        });
    }
    Ok(runs.iter().map(|r| r.epochs).max().unwrap_or(0))
}

/// What each member of `model` selects.
fn selection(model: &GatedMlp) -> Result<Vec<Selection>> {
    Ok(model
        .usage()?
        .into_iter()
        .map(|u| Selection {
            units_kept: u.units_kept,
            inputs: u.selected_inputs,
        })
        .collect())
}

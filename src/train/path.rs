//! Warm-started lambda paths. [`warm_path`] fits a given grid of lambdas in increasing order, each
//! point from the state the previous one left (any [`GatedModel`]; `stog script` runs it).
//!
//! [`lambda_path`] is the MLP's adaptive path (like LassoNet's): an unpenalised fit first, then lambda grows,
//! each point starting from the previous solution and running until its selected set has been
//! stable for a while; the path ends when every gate is closed. Each point is scored on
//! validation and kept, so that a point can be chosen afterwards ([`super::choose_point`]).
//!
//! The path adapts to the problem. The sum penalty adds lambda per open gate, so one lambda means
//! very different things at D = 30 and D = 2300: the first penalised lambda is `start_scale / D`
//! (D: gated units). Where the count of kept units falls by more than `max_drop` (a third) between
//! neighbours, the step is undone and retried at the geometric middle, down to a factor of
//! `min_growth`; where the count barely moves, the step grows up to `max_growth`. So every count
//! from all units down to a handful is visited, and flat stretches cost few points.

use super::fit::GatedEpoch;
use super::{
    FitOutcome, GatedModel, MemberTags, Metrics, Prepared, Selection, Snapshot, Stopping,
    TrainConfig, Trainer, accuracy_score, anneal, check_lambdas, fit, loss_score, metrics,
    run_epochs, to_f64,
};
use crate::data::Task;
use crate::gates::assign;
use crate::model::{GatedMlp, GatedMlpConfig, gated_mlp};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor, nn};

/// How the path advances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathConfig {
    /// First penalised lambda; `None`: `start_scale` divided by the number of gated units.
    pub start: Option<f64>,
    /// The first lambda times the number of gated units, when `start` is `None`.
    pub start_scale: f64,
    /// Factor between consecutive lambdas where the count changes at a normal pace.
    pub growth: f64,
    /// Largest factor between consecutive lambdas (reached where the count barely changes).
    pub max_growth: f64,
    /// A step is refined when the kept units fall by more than this fraction (and by more than
    /// one unit) between neighbours.
    pub max_drop: f64,
    /// Steps are not refined below this factor.
    pub min_growth: f64,
    /// Fewest epochs per point.
    pub min_epochs: usize,
    /// Most epochs per point.
    pub max_epochs: usize,
    /// A point ends when the selected set has not changed for this many epochs.
    pub stable_epochs: usize,
    /// Most penalised points (refined steps that were undone count too).
    pub max_points: usize,
    /// Score each point after refitting the network with its input gates frozen (models whose
    /// only gate layer is at the input; started as `refit_start` says); the refit weights become
    /// that point's state.
    pub refit: bool,
    /// Most epochs of a refit.
    pub refit_epochs: usize,
    /// Early-stopping patience of a refit.
    pub refit_patience: usize,
    /// Where a point's refit starts from.
    #[serde(default)]
    pub refit_start: RefitStart,
}

/// The weights a point's refit starts from.
///
/// Warm is the default, chosen on `make bench-real`: a fresh start scores the points of a wide,
/// noisy path by better-calibrated networks (MADELON-style, split 0: validation losses 0.48-0.55
/// at 3-100 features, against 0.51-2.7 warm), but it chose worse points (MADELON splits 0-1:
/// 77.0 and 75.5 % against 78.3 and 76.0 %; genes <= 20, splits 0-2: 85, 90, 85 % against a
/// 93.0 % mean warm).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefitStart {
    /// The path's current weights (trained while earlier gates were open).
    #[default]
    Warm,
    /// A fresh initialisation from the members' seeds: only the selection carries over.
    Fresh,
}

impl Default for PathConfig {
    fn default() -> Self {
        PathConfig {
            start: None,
            start_scale: 0.03,
            growth: 1.5,
            max_growth: 2.0,
            max_drop: 1.0 / 3.0,
            min_growth: 1.05,
            min_epochs: 20,
            max_epochs: 200,
            stable_epochs: 15,
            max_points: 80,
            refit: true,
            refit_epochs: 150,
            refit_patience: 25,
            refit_start: RefitStart::Warm,
        }
    }
}

impl PathConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<()> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !self.start.is_none_or(positive) || !positive(self.start_scale) {
            return Err(Error::config("path", "the start lambda must be > 0"));
        }
        if !(self.growth > 1.0 && self.max_growth >= self.growth && self.min_growth > 1.0) {
            return Err(Error::config(
                "path",
                "growth factors must satisfy 1 < min_growth, 1 < growth <= max_growth",
            ));
        }
        if !(self.max_drop > 0.0 && self.max_drop < 1.0) {
            return Err(Error::config("path", "max_drop must lie in (0, 1)"));
        }
        if self.max_epochs == 0 || self.max_points == 0 {
            return Err(Error::config(
                "path",
                "max_epochs and max_points must be >= 1",
            ));
        }
        Ok(())
    }

    /// The first penalised lambda for a model with `units` gated units.
    pub fn first_lambda(&self, units: i64) -> f64 {
        self.start.unwrap_or(self.start_scale / units.max(1) as f64)
    }
}

/// One member at one point of the path.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathMember {
    /// Input features used by the inference network.
    pub selected: Vec<i64>,
    /// Units kept per gate layer.
    pub units_kept: Vec<i64>,
    /// Validation metrics of the inference network.
    pub val: Metrics,
    /// Validation score for choosing (accuracy, or minus the standardised MSE).
    pub score: f64,
    /// Standard error of the score (smoothed binomial for accuracy).
    pub score_se: f64,
    /// Validation loss per row (cross-entropy, or squared error of the standardised target).
    pub val_losses: Vec<f64>,
    /// Brier score per validation row: the squared distance between the predicted class
    /// probabilities and the one-hot label, in [0, 2] (regression: the squared error).
    #[serde(default)]
    pub val_brier: Vec<f64>,
    /// Epochs trained at this point.
    pub epochs: usize,
    /// The epoch whose state the point keeps: the early-stopping best of the unpenalised start,
    /// the last epoch of a penalised point. A fit without validation rows trains this many.
    #[serde(default)]
    pub best_epoch: usize,
    /// The epoch whose state the point's refit kept ([`PathConfig::refit`]), when it was refitted.
    #[serde(default)]
    pub refit_best_epoch: Option<usize>,
}

impl PathMember {
    /// Units kept over every gate layer.
    pub fn kept(&self) -> i64 {
        self.units_kept.iter().sum()
    }
}

/// One lambda of the path, with the model state reached there.
#[derive(Debug)]
pub struct PathPoint {
    /// The lambda (0 for the unpenalised start).
    pub lambda: f64,
    /// Per member results.
    pub members: Vec<PathMember>,
    /// Every variable at this point.
    pub state: Snapshot,
}

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

/// Runs the adaptive path for every member of `model` (all members share the lambdas). Not a
/// [`warm_path`]: its lambdas are chosen as it goes (a step that drops too many units is undone
/// and retried smaller), one optimiser carries its state from point to point, and a point ends
/// when the selection is stable rather than after a fixed number of epochs.
pub fn lambda_path(
    model: &mut GatedMlp,
    vs: &nn::VarStore,
    data: &Prepared,
    train: &TrainConfig,
    path: &PathConfig,
    tags: &MemberTags,
) -> Result<Vec<PathPoint>> {
    lambda_path_with(model, vs, data, train, path, tags, &Schedule::Adaptive)
}

/// [`lambda_path`] with the lambdas given by `schedule`.
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
    let unpenalised = TrainConfig {
        warmup_epochs: 0,
        ..train.clone()
    };
    let outcomes = fit(model, vs, data, &vec![0.0; e], &unpenalised, tags, None)?;
    check_failures(&outcomes)?;
    let epochs: Vec<(usize, usize)> = outcomes.iter().map(|o| (o.epochs, o.best_epoch)).collect();
    let mut points = vec![point(model, vs, data, 0.0, &epochs, path, train, tags)?];
    on_point(&points[0]);
    let mut trainer = Trainer::new(model, vs, train, data.train.len())?;
    // Gates with a temperature run the path at their final (coldest) value.
    anneal(model, 0, 1);
    let units: i64 = model
        .usage()?
        .first()
        .map_or(1, |u| u.units_total.iter().sum());
    let fixed = match schedule {
        Schedule::Fixed(l) | Schedule::FixedUntil(l, _) => Some(l.as_slice()),
        Schedule::Adaptive => None,
    };
    let until = match schedule {
        Schedule::FixedUntil(_, units) => Some(*units),
        _ => None,
    };
    let mut lambda = match fixed {
        Some(l) => match l.first() {
            Some(first) => *first,
            None => return Ok(points),
        },
        None => path.first_lambda(units),
    };
    // The state of the last accepted point, as trained (before its refit): a refined step
    // restarts from it.
    let mut resume = Snapshot::whole(vs);
    let mut step = path.growth;
    let mut attempts = 0;
    while attempts < path.max_points {
        attempts += 1;
        // The last accepted point (the unpenalised one at first).
        let Some(previous) = points.last() else {
            break;
        };
        if previous.members.iter().all(|m| m.kept() == 0)
            || until.is_some_and(|u| previous.members.iter().all(|m| m.kept() <= u))
        {
            break;
        }
        let last = previous.lambda;
        let before: Vec<i64> = previous.members.iter().map(PathMember::kept).collect();
        let epochs = run_point(model, data, &mut trainer, lambda, path, tags)?;
        let after: Vec<i64> = model
            .usage()?
            .iter()
            .map(|u| u.units_kept.iter().sum())
            .collect();
        let too_far = before
            .iter()
            .zip(&after)
            .any(|(b, a)| b - a > 1 && (*a as f64) < (1.0 - path.max_drop) * *b as f64);
        let refinable = if last > 0.0 {
            lambda / last > path.min_growth
        } else {
            // The first penalised point: lower the start (a few times at most).
            lambda > path.first_lambda(units) / 1e3
        };
        if fixed.is_none() && too_far && refinable {
            resume.load(vs)?;
            lambda = if last > 0.0 {
                (lambda * last).sqrt()
            } else {
                lambda / path.max_growth
            };
            step = (lambda / last.max(f64::MIN_POSITIVE)).min(path.growth);
            continue;
        }
        resume = Snapshot::whole(vs);
        points.push(point(
            model,
            vs,
            data,
            lambda,
            &vec![(epochs, epochs); e],
            path,
            train,
            tags,
        )?);
        if let Some(p) = points.last() {
            on_point(p);
        }
        lambda = match fixed {
            Some(l) => match l.get(points.len() - 1) {
                Some(next) => *next,
                None => break,
            },
            None => {
                // Count barely moved: larger steps; after a refined step: back towards `growth`.
                let small = before
                    .iter()
                    .zip(&after)
                    .all(|(b, a)| (b - a) as f64 <= 0.25 * path.max_drop * *b as f64);
                step = if small {
                    (step * step).min(path.max_growth)
                } else if step < path.growth {
                    (step * path.growth).sqrt()
                } else {
                    path.growth
                };
                lambda * step
            }
        };
    }
    Ok(points)
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

fn check_failures(outcomes: &[FitOutcome]) -> Result<()> {
    match outcomes.iter().find_map(|o| o.failure.clone()) {
        Some(f) => Err(f.into()),
        None => Ok(()),
    }
}

/// The input gate layer of a model whose only gate layer is at the input (what a refit needs).
fn only_input_gate(model: &GatedMlp) -> Option<&crate::model::GateLayer> {
    (model.gates.len() == 1)
        .then(|| model.gates.iter().find(|g| g.position == 0))
        .flatten()
}

/// Refits the network of `model` with its input gates frozen (as [`PathConfig::refit`] does at
/// each point) and loads the refit weights into `vs`; returns each member's kept epoch. For the
/// final model of a cross-validated path, refitted on every row with `train.early_stopping` off.
pub fn refit_in_place(
    model: &GatedMlp,
    vs: &nn::VarStore,
    data: &Prepared,
    path: &PathConfig,
    train: &TrainConfig,
    tags: &MemberTags,
) -> Result<Vec<usize>> {
    let gate = only_input_gate(model).ok_or_else(|| {
        Error::config(
            "refit",
            "needs a model whose only gate layer is at the input",
        )
    })?;
    let (masked, kept) = data.masked_columns(&gate.gate.inference_gate());
    let (vs2, _, best) = refit_network(model, vs, &masked, &kept, path, train, tags)?;
    let current = vs.variables();
    tch::no_grad(|| {
        for (name, value) in vs2.variables() {
            // `refit_network` matched every refit variable to one of the gated model's.
            let var = current.get(&name).ok_or_else(|| {
                Error::config(
                    "refit",
                    format!("the gated network has no variable `{name}`"),
                )
            })?;
            assign(var, &widen(var, &value, &kept, &name)?);
        }
        Ok(best)
    })
}

/// A refit variable `refit` in the shape of the gated model's `full`: equal shapes as they are;
/// the first layer's weight (`[E, K, width]` of the kept columns `kept`) written into those
/// columns of `full`'s `[E, D, width]` (the others keep their values, which closed gates zero).
fn widen(full: &Tensor, refit: &Tensor, kept: &Tensor, name: &str) -> Result<Tensor> {
    let (f, r) = (full.size(), refit.size());
    if f == r {
        return Ok(refit.detach().copy());
    }
    if f.len() == 3 && r.len() == 3 && f[0] == r[0] && f[2] == r[2] && r[1] == kept.numel() as i64 {
        return Ok(full.detach().index_copy(1, kept, &refit.detach()));
    }
    Err(Error::shape(
        "refit",
        format!("variable `{name}`: the refit's {r:?} does not fit the gated model's {f:?}"),
    ))
}

/// Scores the current state on validation (after a refit when configured) and snapshots it;
/// `epochs` holds each member's (trained, kept) epochs.
#[allow(clippy::too_many_arguments)]
fn point(
    model: &GatedMlp,
    vs: &nn::VarStore,
    data: &Prepared,
    lambda: f64,
    epochs: &[(usize, usize)],
    path: &PathConfig,
    train: &TrainConfig,
    tags: &MemberTags,
) -> Result<PathPoint> {
    let mut state = Snapshot::whole(vs);
    let refit_gate = only_input_gate(model).filter(|_| path.refit);
    let (val, per_example, brier, refit_best) = match refit_gate {
        Some(gate) => {
            let (masked, kept) = data.masked_columns(&gate.gate.inference_gate());
            let (vs2, refit, best) = refit_network(model, vs, &masked, &kept, path, train, tags)?;
            // The refit has the network's variables only (the gates stay as they are); every one
            // of them matches one of the gated model's (`refit_network` checks that).
            let refit_vars = vs2.variables();
            for (name, value) in state.copies_mut() {
                if let Some(v) = refit_vars.get(name) {
                    *value = widen(value, v, &kept, name)?;
                }
            }
            let (val, per_example, brier) = score(&refit, &masked)?;
            (val, per_example, brier, Some(best))
        }
        None => {
            let (val, per_example, brier) = score(model, data)?;
            (val, per_example, brier, None)
        }
    };
    let n = data.val.len() as usize;
    let members = model
        .usage()?
        .into_iter()
        .enumerate()
        .map(|(m, u)| {
            let losses = per_example[m * n..(m + 1) * n].to_vec();
            let val_brier = brier[m * n..(m + 1) * n].to_vec();
            let (score, score_se) = match data.task {
                Task::Classification => accuracy_score(val[m].score(), n),
                Task::Regression => loss_score(&losses),
            };
            PathMember {
                selected: u.selected_inputs,
                units_kept: u.units_kept,
                val: val[m],
                score,
                score_se,
                val_losses: losses,
                val_brier,
                epochs: epochs[m].0,
                best_epoch: epochs[m].1,
                refit_best_epoch: refit_best.as_ref().map(|b| b[m]),
            }
        })
        .collect();
    Ok(PathPoint {
        lambda,
        members,
        state,
    })
}

/// Validation metrics per member, and the per-row validation losses and Brier scores, member
/// after member (cross-entropy, or squared error of the standardised target for both).
fn score(model: &GatedMlp, data: &Prepared) -> Result<(Vec<Metrics>, Vec<f64>, Vec<f64>)> {
    tch::no_grad(|| {
        let out = model.infer(&data.val.x);
        let val = metrics(data.task, &out, &data.val.y, data.target_scale.1)?;
        let (per_example, brier) = match data.task {
            Task::Classification => {
                let (e, k) = (out.size()[0], out.size()[2]);
                let y = &data.val.y;
                let idx = if y.dim() == 2 {
                    y.unsqueeze(-1)
                } else {
                    y.view([1, -1, 1]).expand([e, -1, 1], false)
                };
                let logp = out.log_softmax(-1, Kind::Float);
                let ce = -logp.gather(2, &idx, false).squeeze_dim(2);
                let onehot = idx.squeeze_dim(2).one_hot(k).to_kind(Kind::Float);
                let brier = (logp.exp() - onehot)
                    .square()
                    .sum_dim_intlist(-1, false, Kind::Float);
                (ce, brier)
            }
            Task::Regression => {
                let se = (out - data.val.y.unsqueeze(0))
                    .square()
                    .mean_dim(2, false, Kind::Float);
                (se.shallow_clone(), se)
            }
        };
        Ok((val, to_f64(&per_example)?, to_f64(&brier)?))
    })
}

/// Retrains the network of `model` (no gates; from its current weights or afresh, as
/// `path.refit_start` says) on `masked` data: the columns `kept` ([`Prepared::masked_columns`]) as
/// its frozen input gates let them through. Every refit variable must match one of the gated
/// model's (it is written back into it).
/// Returns the refit's variables and model, and each member's kept epoch.
fn refit_network(
    model: &GatedMlp,
    vs: &nn::VarStore,
    masked: &Prepared,
    kept: &Tensor,
    path: &PathConfig,
    train: &TrainConfig,
    tags: &MemberTags,
) -> Result<(nn::VarStore, GatedMlp, Vec<usize>)> {
    let config = GatedMlpConfig {
        input_gate: None,
        hidden_gates: vec![],
        factor: None,
        inputs: kept.numel() as i64,
        ..model.config.clone()
    };
    let vs2 = nn::VarStore::new(vs.device());
    let mut refit = gated_mlp(&vs2.root(), &config, &tags.seeds, None)?;
    let current = vs.variables();
    for (name, var) in vs2.variables() {
        let value = current.get(&name).ok_or_else(|| {
            Error::config(
                "refit",
                format!("the gated network has no variable `{name}` to start the refit from"),
            )
        })?;
        let start = if value.size() == var.size() {
            value.shallow_clone()
        } else {
            value.f_index_select(1, kept)?
        };
        if start.size() != var.size() {
            return Err(Error::shape(
                "refit",
                format!(
                    "variable `{name}`: the gated model's {:?} does not fit the refit's {:?}",
                    value.size(),
                    var.size()
                ),
            ));
        }
        if path.refit_start == RefitStart::Warm {
            assign(&var, &start);
        }
    }
    let cfg = TrainConfig {
        epochs: path.refit_epochs,
        patience: path.refit_patience,
        warmup_epochs: 0,
        ..train.clone()
    };
    let outcomes = fit(
        &mut refit,
        &vs2,
        masked,
        &vec![0.0; tags.seeds.len()],
        &cfg,
        tags,
        None,
    )?;
    check_failures(&outcomes)?;
    Ok((vs2, refit, outcomes.iter().map(|o| o.best_epoch).collect()))
}

/// Loads the state of a point back into the variables of `vs`.
pub fn restore_point(vs: &nn::VarStore, point: &PathPoint) -> Result<()> {
    point.state.load(vs)
}

//! A warm-started lambda path (like LassoNet's): an unpenalised fit first, then lambda grows
//! geometrically, each point starting from the previous solution and running until its selected
//! set has been stable for a while; the path ends when every gate is closed. Each point is scored
//! on validation and kept, so that a point can be chosen afterwards ([`choose_point`]).

use super::{
    FitOutcome, MemberTags, Metrics, Prepared, TrainConfig, Trainer, anneal, fit, metrics, to_f64,
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
    /// First penalised lambda.
    pub start: f64,
    /// Factor between consecutive lambdas.
    pub growth: f64,
    /// Fewest epochs per point.
    pub min_epochs: usize,
    /// Most epochs per point.
    pub max_epochs: usize,
    /// A point ends when the selected set has not changed for this many epochs.
    pub stable_epochs: usize,
    /// Most penalised points.
    pub max_points: usize,
    /// Score each point after refitting the network with its input gates frozen (models whose
    /// only gate layer is at the input); the refit weights become that point's state.
    pub refit: bool,
    /// Most epochs of a refit.
    pub refit_epochs: usize,
    /// Early-stopping patience of a refit.
    pub refit_patience: usize,
}

impl Default for PathConfig {
    fn default() -> Self {
        PathConfig {
            start: 1e-3,
            growth: 1.5,
            min_epochs: 20,
            max_epochs: 200,
            stable_epochs: 15,
            max_points: 60,
            refit: true,
            refit_epochs: 150,
            refit_patience: 25,
        }
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
    /// Epochs trained at this point.
    pub epochs: usize,
}

/// One lambda of the path, with the model state reached there.
#[derive(Debug)]
pub struct PathPoint {
    /// The lambda (0 for the unpenalised start).
    pub lambda: f64,
    /// Per member results.
    pub members: Vec<PathMember>,
    /// Copies of every variable at this point.
    pub state: Vec<(String, Tensor)>,
}

/// How a point of the path is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Choice {
    /// The sparsest point whose score is within one standard error of the best (the standard
    /// error of a difference of two validation scores).
    OneStandardError,
    /// The best score among points with at most this many selected features (ties: fewer).
    MaxFeatures(usize),
}

/// Runs the path for every member of `model` (all members share the lambdas).
pub fn lambda_path(
    model: &mut GatedMlp,
    vs: &nn::VarStore,
    data: &Prepared,
    train: &TrainConfig,
    path: &PathConfig,
    tags: &MemberTags,
) -> Result<Vec<PathPoint>> {
    if !(path.start > 0.0 && path.growth > 1.0) {
        return Err(Error::config("path", "start must be > 0 and growth > 1"));
    }
    let e = model.members() as usize;
    let unpenalised = TrainConfig {
        warmup_epochs: 0,
        ..train.clone()
    };
    let outcomes = fit(model, vs, data, &vec![0.0; e], &unpenalised, tags, None)?;
    check_failures(&outcomes)?;
    let mut points = vec![point(
        model,
        vs,
        data,
        0.0,
        &outcomes.iter().map(|o| o.epochs).collect::<Vec<_>>(),
        path,
        train,
        tags,
    )?];
    let mut trainer = Trainer::new(model, vs, train, data.train.len())?;
    // Gates with a temperature run the path at their final (coldest) value.
    anneal(model, 0, 1);
    let mut lambda = path.start;
    for _ in 0..path.max_points {
        if points.last().is_some_and(|p| {
            p.members
                .iter()
                .all(|m| m.units_kept.iter().all(|k| *k == 0))
        }) {
            break;
        }
        trainer.set_lambdas(&vec![lambda; e])?;
        let mut last: Vec<Vec<i64>> = model.usage()?.into_iter().map(|u| u.units_kept).collect();
        let mut last_sel: Vec<Vec<i64>> = model
            .usage()?
            .into_iter()
            .map(|u| u.selected_inputs)
            .collect();
        let mut stable = vec![0usize; e];
        let mut epochs = 0;
        while epochs < path.max_epochs {
            let loss = to_f64(&trainer.epoch(model, data, 1.0))?;
            epochs += 1;
            if let Some((m, v)) = loss.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(Error::NonFinite {
                    gate: tags.gate.clone(),
                    lambda,
                    seed: tags.seeds[m],
                    epoch: epochs,
                    value: *v,
                });
            }
            for (m, u) in model.usage()?.into_iter().enumerate() {
                if u.units_kept == last[m] && u.selected_inputs == last_sel[m] {
                    stable[m] += 1;
                } else {
                    stable[m] = 0;
                    last[m] = u.units_kept;
                    last_sel[m] = u.selected_inputs;
                }
            }
            if epochs >= path.min_epochs && stable.iter().all(|s| *s >= path.stable_epochs) {
                break;
            }
        }
        points.push(point(
            model,
            vs,
            data,
            lambda,
            &vec![epochs; e],
            path,
            train,
            tags,
        )?);
        lambda *= path.growth;
    }
    Ok(points)
}

fn check_failures(outcomes: &[FitOutcome]) -> Result<()> {
    match outcomes.iter().find_map(|o| o.failure.clone()) {
        Some(f) => Err(f.into()),
        None => Ok(()),
    }
}

/// Scores the current state on validation (after a refit when configured) and snapshots it.
#[allow(clippy::too_many_arguments)]
fn point(
    model: &GatedMlp,
    vs: &nn::VarStore,
    data: &Prepared,
    lambda: f64,
    epochs: &[usize],
    path: &PathConfig,
    train: &TrainConfig,
    tags: &MemberTags,
) -> Result<PathPoint> {
    let mut state: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(k, v)| (k, v.detach().copy()))
        .collect();
    state.sort_by(|a, b| a.0.cmp(&b.0));
    let refit_gate = (path.refit && model.gates.len() == 1)
        .then(|| model.gates.iter().find(|g| g.position == 0))
        .flatten();
    let (val, per_example) = match refit_gate {
        Some(gate) => {
            let masked = data.masked(&gate.gate.inference_gate());
            let (vs2, refit) = refit_network(model, vs, &masked, path, train, tags)?;
            let fresh = vs2.variables();
            for (name, value) in state.iter_mut() {
                if let Some(v) = fresh.get(name) {
                    *value = v.detach().copy();
                }
            }
            score(&refit, &masked)?
        }
        None => score(model, data)?,
    };
    let n = data.val.len() as f64;
    let members = model
        .usage()?
        .into_iter()
        .enumerate()
        .map(|(m, u)| {
            let (score, score_se) = match data.task {
                Task::Classification => (
                    val[m].score(),
                    accuracy_se(val[m].score(), data.val.len() as usize),
                ),
                Task::Regression => {
                    let e = per_example.get(m as i64);
                    let mse = e.mean(Kind::Float).double_value(&[]);
                    let sd = e.std(true).double_value(&[]);
                    (-mse, sd / n.sqrt())
                }
            };
            PathMember {
                selected: u.selected_inputs,
                units_kept: u.units_kept,
                val: val[m],
                score,
                score_se,
                epochs: epochs[m],
            }
        })
        .collect();
    Ok(PathPoint {
        lambda,
        members,
        state,
    })
}

/// Validation metrics per member, and per-example squared errors `[E, N]` for regression.
fn score(model: &GatedMlp, data: &Prepared) -> Result<(Vec<Metrics>, Tensor)> {
    tch::no_grad(|| {
        let out = model.forward_t(&data.val.x, false);
        let val = metrics(data.task, &out, &data.val.y, data.target_scale.1)?;
        let per_example = match data.task {
            Task::Classification => Tensor::zeros([1], (Kind::Float, out.device())),
            Task::Regression => {
                (out - data.val.y.unsqueeze(0))
                    .square()
                    .mean_dim(2, false, Kind::Float)
            }
        };
        Ok((val, per_example))
    })
}

/// Retrains the network of `model` (from its current weights, no gates) on `masked` data: the
/// inputs as its frozen input gates let them through. Returns the refit's variables and model.
fn refit_network(
    model: &GatedMlp,
    vs: &nn::VarStore,
    masked: &Prepared,
    path: &PathConfig,
    train: &TrainConfig,
    tags: &MemberTags,
) -> Result<(nn::VarStore, GatedMlp)> {
    let config = GatedMlpConfig {
        input_gate: None,
        hidden_gates: vec![],
        factor: None,
        ..model.config.clone()
    };
    let vs2 = nn::VarStore::new(vs.device());
    let mut refit = gated_mlp(&vs2.root(), &config, &tags.seeds, None)?;
    let current = vs.variables();
    for (name, var) in vs2.variables() {
        if let Some(value) = current.get(&name) {
            assign(&var, value);
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
    Ok((vs2, refit))
}

/// Index of the point chosen for member `m` by `choice`; `None` when no point qualifies.
pub fn choose_point(points: &[PathPoint], m: usize, choice: Choice) -> Option<usize> {
    let candidates: Vec<Candidate> = points
        .iter()
        .map(|p| Candidate {
            kept: p.members[m].selected.len(),
            score: p.members[m].score,
            score_se: p.members[m].score_se,
        })
        .collect();
    choose(&candidates, choice)
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

/// The smoothed binomial standard error of an accuracy on `n` rows: with `p = (k + 1) / (n + 2)`,
/// `sqrt(p (1 - p) / n)` (the raw one is 0 at 100 %).
pub fn accuracy_se(accuracy: f64, n: usize) -> f64 {
    let n = n as f64;
    let p = (accuracy * n + 1.0) / (n + 2.0);
    (p * (1.0 - p) / n).sqrt()
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

/// Loads the state of a point back into the variables of `vs`.
pub fn restore_point(vs: &nn::VarStore, point: &PathPoint) {
    let vars = vs.variables();
    tch::no_grad(|| {
        for (name, value) in &point.state {
            if let Some(var) = vars.get(name) {
                crate::gates::assign(var, value);
            }
        }
    });
}

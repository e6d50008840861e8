//! The refit of a path's point: the network retrained with its input gates frozen, so that a
//! point is scored (and kept) by the network its selection alone trains ([`PathConfig::refit`]).

use super::{MemberTags, PathConfig, Prepared, RefitStart, TrainConfig, check_failures, fit};
use crate::gates::assign;
use crate::model::{GateLayer, GatedMlp, GatedMlpConfig, gated_mlp};
use crate::{Error, Result};
use tch::{Tensor, nn};

/// The input gate layer of a model whose only gate layer is at the input (what a refit needs).
pub(super) fn only_input_gate(model: &GatedMlp) -> Option<&GateLayer> {
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
pub(super) fn widen(full: &Tensor, refit: &Tensor, kept: &Tensor, name: &str) -> Result<Tensor> {
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

/// Retrains the network of `model` (no gates; from its current weights or afresh, as
/// `path.refit_start` says) on `masked` data: the columns `kept` ([`Prepared::masked_columns`]) as
/// its frozen input gates let them through. Every refit variable must match one of the gated
/// model's (it is written back into it).
/// Returns the refit's variables and model, and each member's kept epoch.
pub(super) fn refit_network(
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

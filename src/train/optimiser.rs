//! The optimiser of a gated model's training: Adam with one parameter group per kind of
//! variable, each with its own learning rate and weight decay.

use super::{DEFAULT_CONDITIONAL_LR, GatedModel, TrainConfig, default_gate_lr};
use crate::{Error, Result};
use tch::nn;
use tch::nn::OptimizerConfig;

/// Adam over `vs` for `model`: group 0 (the network) at `config.lr` with its weight decay, group
/// 1 (the gates) and group 2 (the conditional gates' networks) at their own learning rates, no
/// weight decay. Errors name a group that `model` needs and `vs` lacks.
///
/// The default gate learning rate is calibrated per epoch: it is divided by `steps`, the number
/// of mini-batches of an epoch, so that gates drift as much per epoch with mini-batches as with
/// the full batch (a noisy gradient otherwise random-walks unpenalised gates shut).
pub(super) fn gated_adam<M: GatedModel + ?Sized>(
    model: &M,
    vs: &nn::VarStore,
    config: &TrainConfig,
    steps: usize,
) -> Result<nn::Optimizer> {
    let gates = model.gates();
    let gate_lr = config.gate_lr.unwrap_or_else(|| {
        gates
            .first()
            .map_or(0.1, |g| default_gate_lr(g.kind()) / steps as f64)
    });
    // The optimiser makes groups 0 up to the highest group of a variable; setting a group
    // it lacks would panic in tch.
    let groups = optimizer_groups(vs);
    let missing = |group: usize, what: &str| {
        Error::config(
            "variables",
            format!(
                "{what} belong in optimiser group {group} (`vs.root().set_group({group})`), which the VarStore lacks"
            ),
        )
    };
    if groups == 0 {
        return Err(Error::config(
            "variables",
            "the VarStore has no trainable variables",
        ));
    }
    if !gates.is_empty() && groups < 2 {
        return Err(missing(1, "gate variables"));
    }
    if model.has_conditional_gates() && groups < 3 {
        return Err(missing(2, "conditional gate networks"));
    }
    let mut opt = nn::Adam::default().build(vs, config.lr)?;
    opt.set_weight_decay_group(0, config.weight_decay);
    if !gates.is_empty() {
        // Group 1 exists only when the model has gate parameters.
        opt.set_lr_group(1, gate_lr);
        opt.set_weight_decay_group(1, 0.0);
    }
    if model.has_conditional_gates() {
        // Group 2: the conditional gates' networks.
        let lr = config
            .gate_lr
            .unwrap_or(DEFAULT_CONDITIONAL_LR / steps as f64);
        opt.set_lr_group(2, lr);
        opt.set_weight_decay_group(2, 0.0);
    }
    Ok(opt)
}

/// Optimiser groups an optimiser over `vs` has: one past the highest group of its trainable
/// variables.
fn optimizer_groups(vs: &nn::VarStore) -> usize {
    let vars = vs.variables_.lock().unwrap_or_else(|e| e.into_inner());
    vars.trainable_variables
        .iter()
        .map(|v| v.group + 1)
        .max()
        .unwrap_or(0)
}

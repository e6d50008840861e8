//! Training a [`GatedScript`]: its gates (and optionally the backbone) with a lambda warm-up and
//! best-state restore, and the refit of the backbone under the chosen gates.

use super::{GatedScript, script_error};
use crate::train::{Prepared, check_lambdas, task_loss};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::nn::OptimizerConfig;
use tch::{Kind, Tensor, nn};

/// How [`GatedScript::fit`] trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptFitConfig {
    /// Penalty weight (sum convention).
    pub lambda: f64,
    /// Epochs.
    pub epochs: usize,
    /// Epochs over which lambda ramps up from 0; the best state is only taken after them.
    pub warmup: usize,
    /// Adam learning rate of the gates.
    pub gate_lr: f64,
    /// Adam learning rate of the backbone (after [`GatedScript::train_backbone`]).
    pub backbone_lr: f64,
    /// Mini-batch size; `None` trains on the full batch.
    pub batch_size: Option<usize>,
    /// Refit: train the backbone alone, with the gates fixed at their inference values (dropped
    /// units exactly 0) and no penalty, so that the weights adapt to the units that remain.
    /// Needs [`GatedScript::train_backbone`].
    pub refit: bool,
    /// The seed libtorch's generator was set to for this fit (named in errors; the caller seeds).
    pub seed: u64,
}

impl Default for ScriptFitConfig {
    fn default() -> Self {
        ScriptFitConfig {
            lambda: 0.05,
            epochs: 300,
            warmup: 30,
            gate_lr: 0.05,
            backbone_lr: 1e-3,
            batch_size: None,
            refit: false,
            seed: 0,
        }
    }
}

impl GatedScript {
    /// Lets the backbone's parameters train too (with their own learning rate in [`fit`]).
    ///
    /// [`fit`]: GatedScript::fit
    pub fn train_backbone(&mut self) -> Result<()> {
        for (k, (module, path)) in self.modules.iter().zip(&self.paths).enumerate() {
            let params = module
                .named_parameters()
                .map_err(|e| script_error(path, "parameters", e))?;
            let root = self.vs.root() / format!("backbone{k}");
            for (name, tensor) in params {
                let _ = root.add(&name.replace('.', "_"), tensor, true);
            }
        }
        self.backbone_trains = true;
        Ok(())
    }

    /// Trains the gates (and the backbone after [`GatedScript::train_backbone`]) with Adam on
    /// `task + lambda * ramp * sum of gate penalties`, lambda ramping up over `warmup` epochs,
    /// on mini-batches or the full batch. After the warm-up, the state with the best validation
    /// objective (task loss of the inference network plus lambda times its open gates) is kept
    /// and restored at the end. Returns the epoch of that state (0 when none was better).
    /// With `config.refit` only the backbone trains, under the inference gates, and the starting
    /// state counts as epoch 0.
    pub fn fit(&mut self, data: &Prepared, config: &ScriptFitConfig) -> Result<usize> {
        let lambda = config.lambda;
        check_lambdas(&[lambda])?;
        if config.refit && !self.backbone_trains {
            return Err(Error::config(
                "refit",
                "a refit trains the backbone: call train_backbone first (--train-backbone)",
            ));
        }
        let gate_lr = if config.refit { 0.0 } else { config.gate_lr };
        let mut opt = nn::Adam::default().build(&self.vs, gate_lr)?;
        opt.set_lr_group(1, gate_lr);
        if self.backbone_trains {
            opt.set_lr_group(0, config.backbone_lr);
        }
        let n = data.train.len();
        let batch = config.batch_size.map_or(n, |b| (b.max(1) as i64).min(n));
        let best = crate::train::BestState::whole(&self.vs);
        let mut best_objective = f64::INFINITY;
        let mut best_epoch = 0;
        if config.refit {
            // A refit never ends worse than it started: the starting state is a candidate.
            self.set_train(false)?;
            best_objective = self.objective(data, lambda)?;
            best.keep(&[true]);
        }
        for epoch in 0..config.epochs {
            let ramp = if config.warmup == 0 {
                1.0
            } else {
                ((epoch + 1) as f64 / config.warmup as f64).min(1.0)
            };
            self.set_train(true)?;
            let order = Tensor::randperm(n, (Kind::Int64, data.train.x.device()));
            // Summed on the device and read once per epoch: no host sync per mini-batch.
            let mut epoch_loss = Tensor::zeros([], (Kind::Float, data.train.x.device()));
            for idx in order.split(batch, 0) {
                let out = self.forward(&data.train.x.index_select(0, &idx), !config.refit)?;
                let mut penalty = Tensor::zeros([], (Kind::Float, out.device()));
                if !config.refit {
                    for g in &self.gates {
                        penalty += g.penalty(crate::gates::Reduction::Sum, None);
                    }
                }
                let y = data.train.y.index_select(0, &idx);
                let loss = task_loss(data.task, &out.unsqueeze(0), &y).sum(Kind::Float)
                    + penalty * (lambda * ramp);
                epoch_loss += loss.detach();
                opt.backward_step(&loss);
                for g in &self.gates {
                    g.clamp_parameters();
                }
            }
            let value = epoch_loss.double_value(&[]);
            if !value.is_finite() {
                return Err(Error::NonFinite {
                    gate: self.gates[0].kind().to_string(),
                    lambda,
                    seed: config.seed,
                    epoch: epoch + 1,
                    value,
                });
            }
            self.set_train(false)?;
            if epoch + 1 >= config.warmup {
                let objective = self.objective(data, lambda)?;
                if objective < best_objective {
                    best_objective = objective;
                    best_epoch = epoch + 1;
                    best.keep(&[true]);
                }
            }
        }
        if best_epoch > 0 || config.refit {
            best.restore();
        }
        Ok(best_epoch)
    }

    /// Validation task loss of the inference network plus lambda times its open gates.
    fn objective(&self, data: &Prepared, lambda: f64) -> Result<f64> {
        let out = tch::no_grad(|| self.forward(&data.val.x, false))?;
        let task = task_loss(data.task, &out.unsqueeze(0), &data.val.y).double_value(&[0]);
        let open: usize = self.selected()?.iter().map(Vec::len).sum();
        Ok(task + lambda * open as f64)
    }

    /// Puts the backbone in training or evaluation mode (dropout, batch norm) when it trains.
    fn set_train(&mut self, train: bool) -> Result<()> {
        if !self.backbone_trains {
            return Ok(());
        }
        for (module, path) in self.modules.iter_mut().zip(&self.paths) {
            let result = if train {
                module.f_set_train()
            } else {
                module.f_set_eval()
            };
            result.map_err(|e| script_error(path, "train mode", e))?;
        }
        Ok(())
    }
}
